#include "ml/models/vqvae.h"

#include "ml/core/error.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace mp {

namespace {

namespace nn = torch::nn;

nn::Conv1d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1,
                std::int64_t padding = 0, std::int64_t dilation = 1)
{
    return nn::Conv1d(
        nn::Conv1dOptions(in, out, kernel).stride(stride).padding(padding).dilation(dilation));
}

std::int64_t readInt(const nlohmann::json &json, const char *key, std::int64_t fallback,
                     const std::string &source)
{
    if (!json.contains(key))
        return fallback;
    if (!json[key].is_number_integer() || json[key].get<std::int64_t>() <= 0)
        throw InputError(source + ": vqvae." + key + " must be a positive integer, got " +
                         json[key].dump());
    return json[key].get<std::int64_t>();
}

} // namespace

std::int64_t VqVaeConfig::downsampling() const
{
    std::int64_t factor = 1;
    for (std::int64_t i = 0; i < downT; ++i)
        factor *= strideT;
    return factor;
}

double VqVaeConfig::numParameters() const
{
    const auto conv = [](double in, double out, double kernel) { return in * out * kernel + out; };
    const double w = static_cast<double>(width);
    const double in = static_cast<double>(inputDim);
    const double code = static_cast<double>(codeDim);
    const double resnet = static_cast<double>(depth) * (conv(w, w, 3) + conv(w, w, 1));
    const double down = static_cast<double>(downT);
    const double encoder = conv(in, w, 3) +
                           down * (conv(w, w, 2.0 * static_cast<double>(strideT)) + resnet) +
                           conv(w, code, 3);
    const double decoder =
        conv(code, w, 3) + down * (resnet + conv(w, w, 3)) + conv(w, w, 3) + conv(w, in, 3);
    return encoder + decoder + static_cast<double>(numCodes) * code;
}

nlohmann::json VqVaeConfig::toJson() const
{
    return {{"input_dim", inputDim},
            {"num_codes", numCodes},
            {"code_dim", codeDim},
            {"width", width},
            {"down_t", downT},
            {"stride_t", strideT},
            {"depth", depth},
            {"dilation_growth_rate", dilationGrowthRate},
            {"mu", mu}};
}

VqVaeConfig VqVaeConfig::fromJson(const nlohmann::json &json, const std::string &source)
{
    if (!json.is_object())
        throw InputError(source + ": vqvae config is not an object");
    VqVaeConfig c;
    c.inputDim = readInt(json, "input_dim", c.inputDim, source);
    c.numCodes = readInt(json, "num_codes", c.numCodes, source);
    c.codeDim = readInt(json, "code_dim", c.codeDim, source);
    c.width = readInt(json, "width", c.width, source);
    c.downT = readInt(json, "down_t", c.downT, source);
    c.strideT = readInt(json, "stride_t", c.strideT, source);
    c.depth = readInt(json, "depth", c.depth, source);
    c.dilationGrowthRate = readInt(json, "dilation_growth_rate", c.dilationGrowthRate, source);
    if (json.contains("mu")) {
        if (!json["mu"].is_number() || json["mu"].get<double>() <= 0 ||
            json["mu"].get<double>() >= 1)
            throw InputError(source + ": vqvae.mu must be in (0, 1)");
        c.mu = json["mu"].get<double>();
    }
    if (c.strideT != 2)
        throw InputError(source + ": vqvae.stride_t must be 2 (kernel 4, padding 1 as MotionGPT)");
    // Bounds far above any real model, so a corrupt value is refused before the dilations or the
    // frames per code overflow (MotionGPT: down_t 2, depth 3, growth 3).
    if (c.downT > 8)
        throw InputError(source + ": vqvae.down_t " + std::to_string(c.downT) +
                         " is implausible (at most 8: 256 frames per code)");
    double dilation = 1.0;
    for (std::int64_t d = 1; d < c.depth && dilation <= 1e4; ++d)
        dilation *= static_cast<double>(c.dilationGrowthRate);
    if (c.depth > 32 || dilation > 1e4)
        throw InputError(source + ": vqvae.depth " + std::to_string(c.depth) +
                         " with dilation_growth_rate " + std::to_string(c.dilationGrowthRate) +
                         " is implausible (dilations above 10000 frames)");
    return c;
}

ResConv1DBlockImpl::ResConv1DBlockImpl(std::int64_t channels, std::int64_t dilation)
{
    conv1 = register_module("conv1", conv(channels, channels, 3, 1, dilation, dilation));
    conv2 = register_module("conv2", conv(channels, channels, 1));
}

at::Tensor ResConv1DBlockImpl::forward(const at::Tensor &x)
{
    return x + conv2->forward(torch::relu(conv1->forward(torch::relu(x))));
}

Resnet1DImpl::Resnet1DImpl(std::int64_t channels, std::int64_t depth, std::int64_t growth)
{
    model = register_module("model", nn::Sequential());
    std::vector<std::int64_t> dilations;
    std::int64_t dilation = 1;
    for (std::int64_t d = 0; d < depth; ++d, dilation *= growth)
        dilations.push_back(dilation);
    for (auto it = dilations.rbegin(); it != dilations.rend(); ++it)
        model->push_back(ResConv1DBlock(channels, *it));
}

at::Tensor Resnet1DImpl::forward(const at::Tensor &x)
{
    return model->forward(x);
}

VqEncoderImpl::VqEncoderImpl(const VqVaeConfig &c)
{
    model = register_module("model", nn::Sequential());
    model->push_back(conv(c.inputDim, c.width, 3, 1, 1));
    model->push_back(nn::ReLU());
    for (std::int64_t i = 0; i < c.downT; ++i) {
        ConvStack down;
        down->push_back(conv(c.width, c.width, c.strideT * 2, c.strideT, c.strideT / 2));
        down->push_back(Resnet1D(c.width, c.depth, c.dilationGrowthRate));
        model->push_back(down);
    }
    model->push_back(conv(c.width, c.codeDim, 3, 1, 1));
}

at::Tensor VqEncoderImpl::forward(const at::Tensor &x)
{
    return model->forward(x);
}

VqDecoderImpl::VqDecoderImpl(const VqVaeConfig &c)
{
    model = register_module("model", nn::Sequential());
    model->push_back(conv(c.codeDim, c.width, 3, 1, 1));
    model->push_back(nn::ReLU());
    for (std::int64_t i = 0; i < c.downT; ++i) {
        ConvStack up;
        up->push_back(Resnet1D(c.width, c.depth, c.dilationGrowthRate));
        up->push_back(nn::Upsample(
            nn::UpsampleOptions().scale_factor(std::vector<double>{2.0}).mode(torch::kNearest)));
        up->push_back(conv(c.width, c.width, 3, 1, 1));
        model->push_back(up);
    }
    model->push_back(conv(c.width, c.width, 3, 1, 1));
    model->push_back(nn::ReLU());
    model->push_back(conv(c.width, c.inputDim, 3, 1, 1));
}

at::Tensor VqDecoderImpl::forward(const at::Tensor &x)
{
    return model->forward(x);
}

VqVaeLosses vqvaeLosses(const at::Tensor &reconstruction, const at::Tensor &target,
                        const at::Tensor &commitLoss, const VqVaeLossWeights &weights)
{
    VqVaeLosses losses;
    losses.feature = torch::smooth_l1_loss(reconstruction, target);
    const auto positions = (weights.numJoints - 1) * 3;
    if (reconstruction.size(-1) >= 4 + positions && weights.numJoints > 1)
        losses.velocity = torch::smooth_l1_loss(reconstruction.narrow(-1, 4, positions),
                                                target.narrow(-1, 4, positions));
    else
        losses.velocity = torch::zeros({}, reconstruction.options());
    losses.commit = commitLoss;
    losses.total = weights.feature * losses.feature + weights.velocity * losses.velocity +
                   weights.commit * losses.commit;
    return losses;
}

VqVaeImpl::VqVaeImpl(const VqVaeConfig &config) : m_config(config)
{
    encoder = register_module("encoder", VqEncoder(config));
    decoder = register_module("decoder", VqDecoder(config));
    quantizer =
        register_module("quantizer", QuantizeEmaReset(config.numCodes, config.codeDim, config.mu));
}

VqVaeOutput VqVaeImpl::forward(const at::Tensor &features)
{
    const auto encoded = encoder->forward(features.permute({0, 2, 1}));
    auto q = quantizer->forward(encoded);
    VqVaeOutput out;
    out.reconstruction = decoder->forward(q.quantized).permute({0, 2, 1});
    out.commitLoss = q.commitLoss;
    out.perplexity = q.perplexity;
    out.codes = q.codes;
    return out;
}

at::Tensor VqVaeImpl::encode(const at::Tensor &features)
{
    if (features.dim() != 3 || features.size(2) != m_config.inputDim)
        throw InputError("VQ-VAE encode: expected features (N, T, " +
                         std::to_string(m_config.inputDim) + "), got " + shapeString(features));
    if (features.size(1) < m_config.downsampling())
        throw InputError("VQ-VAE encode: " + std::to_string(features.size(1)) +
                         " frames are fewer than one code (" +
                         std::to_string(m_config.downsampling()) + ")");
    const auto encoded = encoder->forward(features.permute({0, 2, 1})); // (N, C, T')
    const auto batch = encoded.size(0);
    const auto rows = encoded.permute({0, 2, 1}).contiguous().view({-1, encoded.size(1)});
    return quantizer->quantize(rows).view({batch, -1});
}

at::Tensor VqVaeImpl::decode(const at::Tensor &codes)
{
    const auto batched = codes.dim() == 1 ? codes.unsqueeze(0) : codes;
    if (batched.dim() != 2 || batched.size(1) == 0)
        throw InputError("VQ-VAE decode: expected codes (N, T'), got " + shapeString(codes));
    if (batched.min().item<std::int64_t>() < 0 ||
        batched.max().item<std::int64_t>() >= m_config.numCodes)
        throw InputError("VQ-VAE decode: codes outside 0.." +
                         std::to_string(m_config.numCodes - 1));
    const auto vectors = quantizer->dequantize(batched); // (N, T', C)
    return decoder->forward(vectors.permute({0, 2, 1}).contiguous()).permute({0, 2, 1});
}

void VqVaeImpl::loadWeights(const std::filesystem::path &file, const std::string &prefix)
{
    const auto tensors = readSafetensors(file);
    LoadStateOptions options;
    options.prefix = prefix;
    options.allowUnexpected = !prefix.empty(); // a whole MotionGPT checkpoint holds the LM too
    loadStateDict(*this, tensors, file.filename().string(), options);
    quantizer->setCodebook(quantizer->codebook.clone());
}

void VqVaeImpl::saveWeights(const std::filesystem::path &file) const
{
    writeSafetensors(file, moduleStateDict(*this), {{"format", "pt"}});
}

} // namespace mp
