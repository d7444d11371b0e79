#include "ml/eval/eval_dataset.h"

#include "ml/core/error.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/normalizer.h"

#include <torch/torch.h>

namespace mp {
namespace {

std::vector<TaggedWord> tokensOf(const std::vector<std::string> &tokens, const std::string &where)
{
    std::vector<TaggedWord> out;
    for (const auto &token : tokens) {
        const auto slash = token.rfind('/');
        if (slash == std::string::npos || slash == 0)
            throw InputError(where + ": expected word/POS, got '" + token + "'");
        out.push_back({token.substr(0, slash), token.substr(slash + 1)});
    }
    return out;
}

} // namespace

EvalDataset evalDatasetFromHumanMl3d(const HumanMl3dDataset &dataset, const Normalizer &stats)
{
    const Normalizer &normalizer = stats.empty() ? dataset.normalizer() : stats;
    if (normalizer.empty())
        throw InputError(dataset.root().string() +
                         ": no Mean.npy/Std.npy and no evaluator statistics given");
    EvalDataset out;
    out.mean = normalizer.mean().to(torch::kFloat32);
    out.std = normalizer.std().to(torch::kFloat32);
    for (std::int64_t i = 0; i < dataset.size(); ++i) {
        const auto &record = dataset.record(i);
        EvalSample sample;
        sample.name = record.name;
        sample.features = dataset.features(i).to(torch::kFloat32);
        for (const auto &caption : record.captions)
            sample.captions.push_back(
                {caption.text,
                 tokensOf(caption.tokens,
                          (dataset.root() / "texts" / (record.file + ".txt")).string())});
        out.samples.push_back(std::move(sample));
    }
    return out;
}

EvalDataset loadEvalSplit(const std::filesystem::path &root, const std::string &split,
                          const ProgressFn &progress)
{
    HumanMl3dOptions options;
    options.split = split;
    options.progress = progress;
    return evalDatasetFromHumanMl3d(HumanMl3dDataset::open(root, options), Normalizer());
}

std::vector<std::vector<TaggedWord>> taggedCaptions(const EvalDataset &dataset)
{
    std::vector<std::vector<TaggedWord>> out;
    for (const auto &sample : dataset.samples)
        for (const auto &caption : sample.captions)
            out.push_back(caption.tokens.empty() ? tagCaption(caption.text) : caption.tokens);
    return out;
}

} // namespace mp
