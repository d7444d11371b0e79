#pragma once
// MotionGPT's motion VQ-VAE (the T2M-GPT design): a 1-D convolutional encoder with strided
// down-sampling and dilated residual blocks, an EMA codebook with dead-code reset, and a mirrored
// decoder with nearest up-sampling. Module names equal the checkpoint keys: encoder.model.*,
// decoder.model.*, quantizer.codebook (MotionGPT's checkpoint prefixes them with "vae.").

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "ml/models/vqvae_quantizer.h"

namespace mp {

struct VqVaeConfig {
    std::int64_t inputDim = 263;
    std::int64_t numCodes = 512;
    std::int64_t codeDim = 512; // also the encoder's output width
    std::int64_t width = 512;
    std::int64_t downT = 2;
    std::int64_t strideT = 2;
    std::int64_t depth = 3;
    std::int64_t dilationGrowthRate = 3;
    double mu = 0.99; // EMA decay of the codebook

    // Frames per code: strideT^downT (4 for MotionGPT).
    std::int64_t downsampling() const;
    // Parameters and buffers of VqVae (a double, as T5Config::numParameters).
    double numParameters() const;
    nlohmann::json toJson() const;
    static VqVaeConfig fromJson(const nlohmann::json &json, const std::string &source);
};

// A Sequential that can nest in another one (a plain forward(Tensor), as AnyModule requires).
class ConvStackImpl : public torch::nn::SequentialImpl {
public:
    using torch::nn::SequentialImpl::SequentialImpl;
    at::Tensor forward(const at::Tensor &x) { return torch::nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(ConvStack);

// x + conv1x1(relu(conv3_dilated(relu(x)))), names conv1 / conv2.
class ResConv1DBlockImpl : public torch::nn::Module {
public:
    ResConv1DBlockImpl(std::int64_t channels, std::int64_t dilation);
    at::Tensor forward(const at::Tensor &x);
    torch::nn::Conv1d conv1{nullptr};
    torch::nn::Conv1d conv2{nullptr};
};
TORCH_MODULE(ResConv1DBlock);

// depth blocks with dilations growth^d, reversed (MotionGPT's reverse_dilation=True): [9, 3, 1].
class Resnet1DImpl : public torch::nn::Module {
public:
    Resnet1DImpl(std::int64_t channels, std::int64_t depth, std::int64_t growth);
    at::Tensor forward(const at::Tensor &x);
    torch::nn::Sequential model;
};
TORCH_MODULE(Resnet1D);

class VqEncoderImpl : public torch::nn::Module {
public:
    explicit VqEncoderImpl(const VqVaeConfig &config);
    at::Tensor forward(const at::Tensor &x); // (N, inputDim, T) -> (N, codeDim, T/down)
    torch::nn::Sequential model;
};
TORCH_MODULE(VqEncoder);

class VqDecoderImpl : public torch::nn::Module {
public:
    explicit VqDecoderImpl(const VqVaeConfig &config);
    at::Tensor forward(const at::Tensor &x); // (N, codeDim, T') -> (N, inputDim, T'*down)
    torch::nn::Sequential model;
};
TORCH_MODULE(VqDecoder);

struct VqVaeOutput {
    at::Tensor reconstruction; // (N, T, inputDim)
    at::Tensor commitLoss;
    at::Tensor perplexity;
    at::Tensor codes; // (N, T/down)
};

struct VqVaeLossWeights {
    // MotionGPT's LAMBDA_FEATURE / LAMBDA_VELOCITY / LAMBDA_COMMIT.
    double feature = 1.0;
    double velocity = 0.5;
    double commit = 0.02;
    std::int64_t numJoints = 22;
};

struct VqVaeLosses {
    at::Tensor total;
    at::Tensor feature;  // smooth L1 on all features
    at::Tensor velocity; // smooth L1 on the root-relative joint positions (features 4..4+3(J-1))
    at::Tensor commit;
};

// MotionGPT's "recons_velocity" term, despite its name, compares the ric joint positions
// (T2M-GPT's forward_vel); kept as is so losses are comparable with theirs.
VqVaeLosses vqvaeLosses(const at::Tensor &reconstruction, const at::Tensor &target,
                        const at::Tensor &commitLoss, const VqVaeLossWeights &weights = {});

class VqVaeImpl : public torch::nn::Module {
public:
    explicit VqVaeImpl(const VqVaeConfig &config);

    const VqVaeConfig &config() const { return m_config; }
    // features (N, T, inputDim), T a multiple of downsampling(); trains the codebook in
    // training mode.
    VqVaeOutput forward(const at::Tensor &features);
    // features (N, T, inputDim) -> codes (N, T/down) int64.
    at::Tensor encode(const at::Tensor &features);
    // codes (T') or (N, T') -> features (N, T'*down, inputDim).
    at::Tensor decode(const at::Tensor &codes);

    // vqvae.safetensors with the names above; `prefix` reads MotionGPT-style keys ("vae.").
    void loadWeights(const std::filesystem::path &file, const std::string &prefix = "");
    void saveWeights(const std::filesystem::path &file) const;

    VqEncoder encoder{nullptr};
    VqDecoder decoder{nullptr};
    QuantizeEmaReset quantizer{nullptr};

private:
    VqVaeConfig m_config;
};
TORCH_MODULE(VqVae);

} // namespace mp
