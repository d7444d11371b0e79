#include "ml/eval/clip_embeddings.h"

#include "ml/core/error.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/normalizer.h"
#include "ml/data/safetensors.h"
#include "ml/eval/embedder.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace mp {

ClipEmbeddings embedClips(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                          const EvalDataset &dataset, int maxMotionFrames, int batchSize)
{
    if (!dataset.mean.defined() || !dataset.std.defined())
        throw InputError("eval embed: no normalisation statistics");
    const std::int64_t unit = evaluator.config().unitLength;
    const auto mean = dataset.mean.to(torch::kCPU, torch::kFloat32).flatten();
    const auto std = dataset.std.to(torch::kCPU, torch::kFloat32).flatten();
    ClipEmbeddings out;
    std::vector<const EvalCaption *> captions;
    std::vector<at::Tensor> motions;
    std::vector<std::int64_t> frames;
    for (const auto &sample : dataset.samples) {
        const auto total = std::min<std::int64_t>(sample.features.size(0), maxMotionFrames);
        if (sample.captions.empty() || total < unit)
            throw InputError("eval embed: clip '" + sample.name +
                             "' needs a caption and at least " + std::to_string(unit) + " frames");
        out.ids.push_back(sample.name);
        captions.push_back(&sample.captions.front());
        frames.push_back(total / unit * unit);
        motions.push_back((sample.features.slice(0, 0, frames.back()).to(torch::kFloat32) - mean) /
                          std);
    }
    torch::NoGradGuard noGrad;
    evaluator.eval();
    EvaluatorEmbedder embed(evaluator, vocabulary, batchSize, maxMotionFrames);
    out.text = embed.texts(captions).to(torch::kFloat32);
    out.motion = embed.motions(motions, frames);
    out.frames = torch::tensor(frames, torch::kLong);
    return out;
}

void writeClipEmbeddings(const std::filesystem::path &path, const ClipEmbeddings &embeddings)
{
    writeSafetensors(path,
                     {{"text_embedding", embeddings.text},
                      {"motion_embedding", embeddings.motion},
                      {"frames", embeddings.frames}},
                     {{"clip_ids", nlohmann::json(embeddings.ids).dump()}});
}

ClipEmbeddings embedClipsJob(const EmbedClipsJob &job, const ProgressFn &progress)
{
    auto evaluator = loadEvaluator(job.evaluatorDir);
    evaluator.model->to(job.device);
    HumanMl3dOptions options;
    options.split = job.split;
    options.progress = progress;
    const auto dataset = HumanMl3dDataset::open(job.datasetRoot, options);
    // The evaluator's own statistics when it has them, as T2M normalises its evaluator's input.
    const Normalizer stats = evaluator.mean.defined() && evaluator.std.defined()
                                 ? Normalizer(evaluator.mean, evaluator.std)
                                 : Normalizer();
    const auto clips = evalDatasetFromHumanMl3d(dataset, stats);
    if (clips.samples.empty())
        throw InputError(job.datasetRoot.string() + ": no clip in split '" + job.split + "'");
    auto out = embedClips(*evaluator.model, evaluator.vocabulary, clips);
    if (!job.out.empty())
        writeClipEmbeddings(job.out, out);
    return out;
}

} // namespace mp
