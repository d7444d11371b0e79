#pragma once
// Token sampling as a chain of small stages on logits (B, V): temperature, top-k, top-p, then a
// greedy pick or a seeded draw. Each row has its own generator, so a sample depends on its seed
// only, not on the batch it was drawn in (the two samples of a pair are reproducible alone).
// Stage semantics follow Hugging Face's logits warpers (ties at the k-th logit are kept; top-p
// keeps the smallest set whose probability exceeds p and at least one token).

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace mp {

struct SampleOptions {
    double temperature = 1.0; // <= 0 means greedy
    std::int64_t topK = 50;   // 0 = off (HF's default 50 applies to MotionGPT's generate)
    double topP = 1.0;        // 1 = off
    bool greedy = false;
};

// InputError for values no stage accepts (NaN or negative temperature, negative top-k, top-p
// outside (0, 1]); the stages themselves assume valid options.
void validateSampleOptions(const SampleOptions &options);

at::Tensor applyTemperature(const at::Tensor &logits, double temperature);
at::Tensor applyTopK(const at::Tensor &logits, std::int64_t k);
at::Tensor applyTopP(const at::Tensor &logits, double p);
// Argmax per row, (B) int64.
at::Tensor greedyPick(const at::Tensor &logits);
// Inverse CDF of one probability row (need not be normalised) at u in [0, 1); never returns an
// index of zero probability.
std::int64_t drawIndex(const at::Tensor &probabilities, double u);

class Sampler {
public:
    // One generator per row, seeded with seeds[row].
    Sampler(const SampleOptions &options, const std::vector<std::uint64_t> &seeds);

    // logits (B, V) with B == number of seeds -> tokens (B) int64 on the logits' device.
    at::Tensor sample(const at::Tensor &logits);
    // logits (R, V) whose row i belongs to sample rows[i]: draws with that sample's generator,
    // so samples can leave a batch (finished) without changing the others' draws.
    at::Tensor sampleRows(const at::Tensor &logits, const std::vector<std::int64_t> &rows);
    std::size_t size() const { return m_generators.size(); }
    // The warped logits the draw uses (temperature, top-k, top-p applied).
    at::Tensor warp(const at::Tensor &logits) const;
    const SampleOptions &options() const { return m_options; }

private:
    SampleOptions m_options;
    std::vector<at::Generator> m_generators;
};

} // namespace mp
