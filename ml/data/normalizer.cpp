#include "ml/data/normalizer.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "ml/motion/motion_checks.h"

#include <torch/torch.h>

namespace mp {
namespace {

void checkVector(const at::Tensor &t, const std::string &name)
{
    if (t.dim() != 1 || t.size(0) == 0)
        throw InputError(name + ": expected a vector (D,), got " + c10::str(t.sizes()));
    if (!t.is_floating_point())
        throw InputError(name + ": expected floating point values, got " +
                         std::string(c10::toString(t.scalar_type())));
    checkFinite(t, name);
}

} // namespace

Normalizer::Normalizer(const at::Tensor &mean, const at::Tensor &std)
{
    checkVector(mean, "mean");
    checkVector(std, "std");
    if (mean.size(0) != std.size(0))
        throw InputError("mean has " + std::to_string(mean.size(0)) + " entries but std has " +
                         std::to_string(std.size(0)));
    const int64_t nonPositive = (std <= 0).sum().item<int64_t>();
    if (nonPositive > 0)
        throw InputError("std has " + std::to_string(nonPositive) + " zero or negative entries");
    m_mean = mean.to(torch::kFloat32).contiguous();
    m_std = std.to(torch::kFloat32).contiguous();
}

Normalizer Normalizer::load(const std::filesystem::path &meanFile,
                            const std::filesystem::path &stdFile)
{
    const auto mean = npy::read(meanFile);
    const auto std = npy::read(stdFile);
    checkVector(mean, meanFile.string());
    checkVector(std, stdFile.string());
    try {
        return Normalizer(mean, std);
    } catch (...) {
        rethrowWithContext(stdFile.string());
    }
}

Normalizer Normalizer::loadDirectory(const std::filesystem::path &directory)
{
    return load(directory / "Mean.npy", directory / "Std.npy");
}

Normalizer Normalizer::fit(const at::Tensor &features, bool humanMl3dGroups)
{
    if (features.dim() != 2 || features.size(0) < 2)
        throw InputError("normalizer: need features (N, D) with N >= 2, got " +
                         c10::str(features.sizes()));
    checkFinite(features, "normalizer input");
    const auto x = features.to(torch::kFloat64);
    const auto mean = x.mean(0);
    auto std = x.std(0, /*unbiased=*/false);
    if (humanMl3dGroups && x.size(1) == kFeatureDim) {
        const int64_t bounds[] = {0,          kFeatRootVelXz, kFeatRootHeight,  kFeatRic,
                                  kFeatRot6d, kFeatLocalVel,  kFeatFootContact, kFeatureDim};
        for (std::size_t i = 0; i + 1 < std::size(bounds); ++i) {
            auto group = std.slice(0, bounds[i], bounds[i + 1]);
            group.fill_(group.mean().item<double>());
        }
    }
    std = torch::where(std > 1e-12, std, torch::ones_like(std));
    return Normalizer(mean, std);
}

void Normalizer::saveDirectory(const std::filesystem::path &directory) const
{
    if (empty())
        throw std::runtime_error("Normalizer::saveDirectory on an empty normalizer");
    npy::write(directory / "Mean.npy", m_mean);
    npy::write(directory / "Std.npy", m_std);
}

void Normalizer::checkInput(const at::Tensor &x) const
{
    if (empty())
        throw std::runtime_error("Normalizer used before mean/std were set");
    if (x.dim() < 1 || x.size(-1) != dim())
        throw InputError("normalizer expects last dimension " + std::to_string(dim()) + ", got " +
                         c10::str(x.sizes()));
}

at::Tensor Normalizer::normalize(const at::Tensor &x) const
{
    checkInput(x);
    return (x - m_mean.to(x.device(), x.scalar_type())) / m_std.to(x.device(), x.scalar_type());
}

at::Tensor Normalizer::denormalize(const at::Tensor &x) const
{
    checkInput(x);
    return x * m_std.to(x.device(), x.scalar_type()) + m_mean.to(x.device(), x.scalar_type());
}

} // namespace mp
