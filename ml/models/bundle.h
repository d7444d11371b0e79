#pragma once
// A model bundle: a directory like a Hugging Face one that holds everything generation needs.
//   config.json        {"t5": HF T5 config, "vqvae": {...}, "tokens": {...}, "fps", "num_joints",
//                       "max_prompt_tokens", "generation": {defaults}}
//   model.safetensors  T5 weights (HF names)
//   vqvae.safetensors  VQ-VAE weights (MotionGPT names without "vae.")
//   spiece.model       SentencePiece text model
//   meta.safetensors   "mean" and "std" (inputDim,) of the feature normalisation
// generate(): prompt -> tokens -> motion codes (MotionGPT's rules) -> features, denormalised
// -> joints (recover_from_ric).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json_fwd.hpp>

#include "ml/core/progress.h"
#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "ml/models/tokenizer.h"
#include "ml/models/vqvae.h"

namespace mp {

struct BundleConfig {
    T5Config t5;
    VqVaeConfig vqvae;
    MotionTokenLayout tokens;
    double fps = 20.0;
    std::int64_t numJoints = 22;
    std::int64_t maxPromptTokens = 256; // MotionGPT pads/truncates the encoder input to 256
    std::string description;
    // Defaults of generate() (HF's generate defaults, as MotionGPT uses them).
    SampleOptions sampling;
    std::int64_t maxMotionTokens = 49;
    // How a caption becomes the T5 encoder input: promptTemplate with promptPlaceholder replaced
    // by the caption (an imported MotionGPT: "Generate motion: <Caption_Placeholder>", with
    // promptSource saying where the wording comes from). Empty: the caption as it is.
    std::string promptTemplate;
    std::string promptPlaceholder;
    std::string promptSource;

    std::string prompt(const std::string &caption) const;

    nlohmann::json toJson() const;
    // Checks that the parts agree (vocabulary covers the motion tokens, codebook size, ...).
    static BundleConfig fromJson(const nlohmann::json &json, const std::string &source);
    void validate(const std::string &source) const;
};

struct MotionSample {
    std::uint64_t seed = 0;
    std::vector<std::int64_t> tokens; // generated ids, without the decoder start token
    std::vector<std::int64_t> codes;  // after MotionGPT's rules
    bool degenerate = false;          // <= 1 code: a zero (mean-pose) motion
    at::Tensor features;              // (T, inputDim), denormalised, on the CPU
    at::Tensor joints;                // (T, numJoints, 3) via recoverFromRic, metres; HumanML3D
                                      // features (inputDim 263) only, else undefined
};

class ModelBundle {
public:
    // Loads and checks a bundle directory; errors (InputError) read "BUNDLE: FILE: problem",
    // naming the tensor where it applies; a Hugging Face or MotionGPT directory is named as such.
    // The models are moved to `device` and set to eval mode.
    explicit ModelBundle(const std::filesystem::path &directory,
                         const c10::Device &device = c10::Device(c10::kCPU));
    // Assembles a bundle from parts (training); spmModel is copied on save().
    ModelBundle(const BundleConfig &config, T5Model t5, VqVae vqvae,
                const std::filesystem::path &spmModel, const at::Tensor &mean,
                const at::Tensor &std);
    ~ModelBundle();

    const BundleConfig &config() const { return m_config; }
    const std::filesystem::path &directory() const { return m_directory; }
    T5Model &t5() { return m_t5; }
    VqVae &vqvae() { return m_vqvae; }
    const Tokenizer &tokenizer() const { return *m_tokenizer; }
    const at::Tensor &mean() const { return m_mean; }
    const at::Tensor &std() const { return m_std; }
    c10::Device device() const;

    // GenerateOptions with the bundle's defaults and the given seeds.
    GenerateOptions defaultOptions(const std::vector<std::uint64_t> &seeds) const;
    // Prompt ids with </s>; an empty or blank prompt is an InputError; a long one is truncated.
    std::vector<std::int64_t> encodePrompt(const std::string &prompt) const;
    // One sample per seed, batched.
    std::vector<MotionSample> generate(const std::string &prompt, const GenerateOptions &options,
                                       const ProgressFn &progress = {});
    // One sample per (prompts[i], options.seeds[i]), in one batch; sample i is the one
    // generate(prompts[i]) gives for that seed (up to float rounding).
    // withJoints false leaves MotionSample::joints undefined (the evaluation needs features only).
    // The model may be used by several threads at once if it is in eval mode.
    std::vector<MotionSample> generateBatch(const std::vector<std::string> &prompts,
                                            const GenerateOptions &options,
                                            const ProgressFn &progress = {},
                                            bool withJoints = true);
    // Codes -> features (T, inputDim), denormalised; an empty list or a degenerate one gives a
    // zero motion in normalised space (the mean pose) of one code's length, as MotionGPT does.
    at::Tensor decodeCodes(const std::vector<std::int64_t> &codes);
    // decodeCodes of each list; lists of equal length go through the VQ-VAE in one batch (the
    // same features as one at a time, up to float rounding).
    std::vector<at::Tensor> decodeCodesBatch(const std::vector<std::vector<std::int64_t>> &codes);

    at::Tensor normalize(const at::Tensor &features) const;
    at::Tensor denormalize(const at::Tensor &features) const;

    // Writes the five files into directory (created if needed).
    void save(const std::filesystem::path &directory) const;

private:
    void load(const c10::Device &device);

    BundleConfig m_config;
    std::filesystem::path m_directory;
    std::filesystem::path m_spmModel;
    T5Model m_t5{nullptr};
    VqVae m_vqvae{nullptr};
    std::unique_ptr<Tokenizer> m_tokenizer;
    at::Tensor m_mean;
    at::Tensor m_std;
};

// The meta.safetensors check shared by loading and assembling: shape (inputDim,), finite, std > 0.
void checkNormalization(const at::Tensor &mean, const at::Tensor &std, std::int64_t inputDim,
                        const std::string &source);

} // namespace mp
