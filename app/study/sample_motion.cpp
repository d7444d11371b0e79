#include "app/study/sample_motion.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "ml/motion/skeleton.h"

#include <QFileInfo>

// LibTorch's jit headers have a member named slots(), which Qt's keyword macro would eat.
#pragma push_macro("slots")
#undef slots
#include "ml/models/bundle.h"
#pragma pop_macro("slots")

#include <string>

namespace mp {

namespace {

std::string sampleName(const SampleInfo &sample)
{
    return "sample " + std::to_string(sample.id);
}

at::Tensor jointsFrom(const at::Tensor &array, const std::string &source)
{
    const at::Tensor values = array.to(at::kFloat);
    if (values.dim() == 2 && values.size(1) == 263 && values.size(0) > 0)
        return recoverFromRic(values);
    if (values.dim() == 3 && values.size(1) == 22 && values.size(2) == 3 && values.size(0) > 0)
        return values;
    std::string shape;
    for (const auto size : values.sizes())
        shape += (shape.empty() ? "" : ", ") + std::to_string(size);
    throw InputError(source + ": expected features (T, 263) or joints (T, 22, 3), got (" + shape +
                     ")");
}

} // namespace

bool sampleNeedsModel(const SampleInfo &sample)
{
    return sample.features.isEmpty() &&
           (sample.featuresPath.isEmpty() || !QFileInfo(sample.featuresPath).isFile());
}

at::Tensor sampleArray(const SampleInfo &sample, ModelBundle *bundle, std::string *source)
{
    std::string name;
    std::string &where = source ? *source : name;
    if (!sample.features.isEmpty()) {
        where = sampleName(sample) + " (stored features)";
        return npy::fromBytes(std::string_view(sample.features.constData(),
                                               static_cast<std::size_t>(sample.features.size())),
                              where);
    }
    if (!sampleNeedsModel(sample)) {
        const std::string path = sample.featuresPath.toStdString();
        where = sampleName(sample) + ": " + path;
        return npy::read(path);
    }
    if (sample.tokens.empty()) {
        throw InputError(sampleName(sample) + " has neither features nor motion codes" +
                         (sample.featuresPath.isEmpty()
                              ? std::string()
                              : " (" + sample.featuresPath.toStdString() + " does not exist)"));
    }
    if (!bundle)
        throw InputError(sampleName(sample) +
                         " has only motion codes: a model is needed to show it");
    const std::vector<std::int64_t> codes(sample.tokens.begin(), sample.tokens.end());
    const std::int64_t numCodes = bundle->config().vqvae.numCodes;
    for (const std::int64_t code : codes)
        if (code < 0 || code >= numCodes)
            throw InputError(sampleName(sample) + ": motion code " + std::to_string(code) +
                             " is outside this model's codebook (0.." +
                             std::to_string(numCodes - 1) + ")");
    where = sampleName(sample) + " (decoded codes)";
    return bundle->decodeCodes(codes);
}

MotionClip sampleMotion(const SampleInfo &sample, ModelBundle *bundle, double fps)
{
    std::string source;
    const at::Tensor array = sampleArray(sample, bundle, &source);
    return toMotionClip(jointsFrom(array, source).contiguous(), smpl22(), fps);
}

} // namespace mp
