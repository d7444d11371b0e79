#include "app/study/pair_generation.h"

#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/skeleton.h"

// LibTorch's jit headers have a member named slots(), which Qt's keyword macro would eat.
#pragma push_macro("slots")
#undef slots
#include "ml/models/bundle.h"
#include "ml/models/sampler.h"
#pragma pop_macro("slots")

#include <QDir>
#include <QFileInfo>

namespace mp {

GeneratedPair::GeneratedPair() = default;
GeneratedPair::GeneratedPair(const GeneratedPair &) = default;
GeneratedPair &GeneratedPair::operator=(const GeneratedPair &) = default;
GeneratedPair::GeneratedPair(GeneratedPair &&) noexcept = default;
GeneratedPair &GeneratedPair::operator=(GeneratedPair &&) noexcept = default;
GeneratedPair::~GeneratedPair() = default;

ModelIdentity ModelIdentity::ofDirectory(const QString &bundleDir)
{
    const QFileInfo info(bundleDir);
    return {.name = info.fileName(),
            .path = info.absoluteFilePath(),
            .contentHash = StudyStore::contentHash(bundleDir)};
}

namespace {

QByteArray featuresAsNpy(const at::Tensor &features)
{
    const std::string bytes = npy::toBytes(features.to(at::kFloat).contiguous());
    return QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()));
}

SampleInfo sampleInfo(const GeneratedPair &pair, std::size_t index, qint64 promptId, qint64 modelId,
                      std::optional<qint64> adapterId, const QString &origin)
{
    const MotionSample &motion = pair.samples[index];
    const PairSampling &sampling = pair.request.sampling;
    SampleInfo info;
    info.promptId = promptId;
    info.modelId = modelId;
    info.adapterId = adapterId;
    info.seed = static_cast<qint64>(motion.seed);
    info.temperature = sampling.temperature;
    info.topK = sampling.topK;
    info.topP = sampling.topP;
    info.tokens.assign(motion.codes.begin(), motion.codes.end());
    info.features = pair.featuresNpy[index];
    info.origin = origin;
    return info;
}

} // namespace

std::vector<MotionSample> generateCandidates(ModelBundle &bundle, const PairRequest &request,
                                             int count, const ProgressFn &progress)
{
    if (request.prompt.trimmed().isEmpty())
        throw InputError("a prompt cannot be empty");
    if (request.sampling.maxMotionTokens < 0)
        throw InputError("the maximum number of motion tokens cannot be negative");
    if (count < 2)
        throw InputError("a pair needs at least 2 candidates (got " + std::to_string(count) + ")");
    std::vector<std::uint64_t> seeds = {request.seeds[0], request.seeds[1]};
    for (int i = 2; i < count; ++i)
        seeds.push_back(request.seeds[0] + 7919u * static_cast<std::uint64_t>(i));
    GenerateOptions options = bundle.defaultOptions(seeds);
    options.sampling.temperature = request.sampling.temperature;
    options.sampling.greedy = request.sampling.temperature <= 0.0;
    options.sampling.topK = request.sampling.topK;
    options.sampling.topP = request.sampling.topP;
    options.int8Weights = request.sampling.int8Weights;
    // Before any work: a bad value fails here, in the sampler's own words.
    validateSampleOptions(options.sampling);
    if (request.sampling.maxMotionTokens > 0)
        options.maxMotionTokens = request.sampling.maxMotionTokens;
    // One batch: the encoder runs once for all samples.
    std::vector<MotionSample> samples =
        bundle.generate(request.prompt.toStdString(), options, progress);
    if (samples.size() != seeds.size())
        throw std::runtime_error("generate returned " + std::to_string(samples.size()) +
                                 " samples for " + std::to_string(seeds.size()) + " seeds");
    return samples;
}

GeneratedPair pairOfCandidates(const PairRequest &request, const MotionSample &first,
                               const MotionSample &second, double fps)
{
    GeneratedPair pair;
    pair.request = request;
    pair.request.seeds = {first.seed, second.seed};
    pair.fps = fps;
    pair.samples = {first, second};
    const Skeleton &skeleton = smpl22();
    for (std::size_t i = 0; i < 2; ++i) {
        const MotionSample &motion = pair.samples[i];
        pair.featuresNpy[i] = featuresAsNpy(motion.features);
        if (motion.joints.defined() && motion.joints.dim() == 3 &&
            motion.joints.size(1) == skeleton.numJoints())
            pair.clips[i] = toMotionClip(motion.joints, skeleton, pair.fps);
    }
    return pair;
}

GeneratedPair generatePair(ModelBundle &bundle, const PairRequest &request,
                           const ProgressFn &progress)
{
    const std::vector<MotionSample> samples = generateCandidates(bundle, request, 2, progress);
    GeneratedPair pair = pairOfCandidates(request, samples[0], samples[1], bundle.config().fps);
    pair.selection = PairSelectionRecord{.rule = PairRule::Random, .candidates = 2};
    return pair;
}

StoredPair storePair(StudyStore &store, const GeneratedPair &pair, const ModelIdentity &model,
                     std::optional<int> leftSample)
{
    if (pair.samples.size() != 2)
        throw std::runtime_error("storePair needs a generated pair of two samples");
    if (leftSample && *leftSample != 1 && *leftSample != 2)
        throw std::runtime_error("leftSample must be 1 or 2");
    StoredPair stored;
    stored.leftSample = leftSample.value_or(StudyStore::randomLeftSample());
    store.runInTransaction([&] {
        stored.promptId = pair.request.promptId
                              ? store.prompt(*pair.request.promptId).id // checks it exists
                              : store.addPrompt(pair.request.prompt, pair.request.source);
        stored.modelId = store.addModel(model.name, model.path, model.contentHash);
        std::optional<qint64> adapterId;
        if (!model.adapterHash.isEmpty())
            adapterId = store.addAdapter(stored.modelId, model.adapterName, model.adapterPath,
                                         model.adapterHash);
        for (std::size_t i = 0; i < 2; ++i)
            stored.sampleIds[i] = store.addSample(
                sampleInfo(pair, i, stored.promptId, stored.modelId, adapterId, model.name));
        stored.pairId = store.addPair(stored.promptId, stored.sampleIds[0], stored.sampleIds[1],
                                      stored.leftSample);
        if (pair.selection) {
            PairSelectionRecord selection = *pair.selection;
            selection.pairId = stored.pairId;
            store.addPairSelection(selection);
        }
    });
    return stored;
}

PairResult generateAndStorePair(StudyStore &store, ModelBundle &bundle, const ModelIdentity &model,
                                const PairRequest &request, const ProgressFn &progress)
{
    PairResult result;
    result.generated = generatePair(bundle, request, progress);
    result.stored = storePair(store, result.generated, model);
    return result;
}

} // namespace mp
