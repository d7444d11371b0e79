#pragma once
// Feature normalization with a mean and a standard deviation per dimension, stored as HumanML3D
// stores them (Mean.npy and Std.npy, float32 (D,)): normalize = (x - mean) / std.

#include <ATen/core/Tensor.h>

#include <filesystem>

namespace mp {

class Normalizer {
public:
    Normalizer() = default;
    // mean and std (D,); std must be positive and finite. InputError otherwise.
    Normalizer(const at::Tensor &mean, const at::Tensor &std);

    // Mean.npy and Std.npy from a directory (a HumanML3D root or a model bundle).
    static Normalizer loadDirectory(const std::filesystem::path &directory);
    static Normalizer load(const std::filesystem::path &meanFile,
                           const std::filesystem::path &stdFile);

    // Statistics of features (N, D) (frames of all clips stacked). With humanMl3dGroups, for
    // D = 263 every feature group shares one std, the mean of its members' stds (as HumanML3D's
    // cal_mean_variance does), so no single noisy channel dominates. Zero stds become 1.
    static Normalizer fit(const at::Tensor &features, bool humanMl3dGroups = true);

    void saveDirectory(const std::filesystem::path &directory) const;

    at::Tensor normalize(const at::Tensor &x) const;
    at::Tensor denormalize(const at::Tensor &x) const;

    bool empty() const { return !m_mean.defined(); }
    int64_t dim() const { return empty() ? 0 : m_mean.size(0); }
    const at::Tensor &mean() const { return m_mean; }
    const at::Tensor &std() const { return m_std; }

private:
    void checkInput(const at::Tensor &x) const;

    at::Tensor m_mean;
    at::Tensor m_std;
};

} // namespace mp
