#include "ml/eval/evaluation.h"

#include "ml/core/error.h"
#include "ml/eval/embedder.h"
#include "ml/eval/evaluator.h"
#include "ml/motion/features.h"
#include "ml/motion/quality.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <sstream>

namespace mp {
namespace {

// Guo crops one unit shorter with probability 1/3 (coin 'single', 'single', 'double').
constexpr std::int64_t kShorterCropOdds = 3;

std::uint64_t splitMix(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

std::uint64_t streamSeed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                         std::uint64_t c = 0)
{
    return splitMix(splitMix(splitMix(seed ^ splitMix(a)) ^ b) ^ c);
}

using Clock = std::chrono::steady_clock;

class StageTimer {
public:
    explicit StageTimer(std::map<std::string, double> &totals) : m_totals(totals) {}
    void start(const std::string &stage)
    {
        stop();
        m_stage = stage;
        m_begin = Clock::now();
    }
    void stop()
    {
        if (!m_stage.empty())
            m_totals[m_stage] += std::chrono::duration<double>(Clock::now() - m_begin).count();
        m_stage.clear();
    }
    ~StageTimer() { stop(); }

private:
    std::map<std::string, double> &m_totals;
    std::string m_stage;
    Clock::time_point m_begin;
};

struct Normaliser {
    at::Tensor mean;
    at::Tensor std;
    at::Tensor operator()(const at::Tensor &x) const
    {
        return (x.to(torch::kCPU, torch::kFloat32) - mean) / std;
    }
};

at::Tensor rows(const at::Tensor &x, const std::vector<std::int64_t> &index)
{
    return x.index_select(0, torch::tensor(index, torch::kLong));
}

std::vector<std::int64_t> flatten(const std::vector<std::vector<std::int64_t>> &groups)
{
    std::vector<std::int64_t> out;
    for (const auto &g : groups)
        out.insert(out.end(), g.begin(), g.end());
    return out;
}

// Generated motion lengths as the evaluator sees them: floored to the unit, within 1..max units;
// MotionGPT mode also cuts to the ground-truth length (its zero buffer has the GT's shape).
std::int64_t evaluatedLength(std::int64_t generated, std::int64_t groundTruth,
                             const EvaluationOptions &options, int unit)
{
    std::int64_t frames = std::min<std::int64_t>(generated, options.maxMotionFrames);
    if (options.grouping == GroupingMode::MotionGptChunks)
        frames = std::min(frames, groundTruth);
    return std::max<std::int64_t>(frames / unit, 1) * unit;
}

} // namespace

GroundTruthCrop drawGroundTruthCrop(const EvalSample &sample, MetricRng &rng, int unitLength,
                                    int maxFrames)
{
    GroundTruthCrop crop;
    crop.caption = static_cast<std::size_t>(uniformBelow(rng, sample.captions.size()));
    const std::int64_t total = std::min<std::int64_t>(sample.features.size(0), maxFrames);
    std::int64_t units = total / unitLength;
    if (uniformBelow(rng, kShorterCropOdds) == 0 && units > 1)
        --units;
    crop.frames = std::min(std::max<std::int64_t>(units, 1) * unitLength, sample.features.size(0));
    crop.start = uniformBelow(rng, sample.features.size(0) - crop.frames + 1);
    return crop;
}

double footSkatingOfFeatures(const at::Tensor &features)
{
    if (features.dim() != 2 || features.size(0) < 2)
        return 0.0;
    return footSkatingRatio(recoverFromRic(features.to(torch::kCPU, torch::kFloat32)));
}

double preferenceAccuracy(std::int64_t numPairs,
                          const std::function<std::pair<double, double>(std::int64_t)> &score)
{
    if (numPairs <= 0 || !score)
        return 0.0;
    std::int64_t wins = 0;
    for (std::int64_t i = 0; i < numPairs; ++i) {
        const auto [chosen, rejected] = score(i);
        if (chosen > rejected)
            ++wins;
    }
    return static_cast<double>(wins) / static_cast<double>(numPairs);
}

EvaluationResult evaluateModel(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                               const EvalDataset &dataset, const MotionGeneratorFn &generator,
                               const EvaluationOptions &options, const ProgressFn &progress)
{
    const auto n = static_cast<std::int64_t>(dataset.samples.size());
    if (n < options.groupSize)
        throw InputError("evaluation: the test split has " + std::to_string(n) +
                         " motions, fewer than one group of " + std::to_string(options.groupSize));
    if (!dataset.mean.defined() || !dataset.std.defined() || dataset.mean.numel() != kFeatureDim ||
        dataset.std.numel() != kFeatureDim)
        throw InputError("evaluation: the evaluator's mean/std (263 values each) are missing");
    if (!generator)
        throw std::invalid_argument("evaluateModel: no generator");
    for (const auto &s : dataset.samples)
        if (s.captions.empty() || !s.features.defined() || s.features.dim() != 2 ||
            s.features.size(1) != kFeatureDim || s.features.size(0) < evaluator.config().unitLength)
            throw InputError("evaluation: test motion '" + s.name +
                             "' needs (T>=4, 263) features and at least one caption");

    torch::NoGradGuard noGrad;
    evaluator.eval();
    const int unit = evaluator.config().unitLength;
    const Normaliser normalise{dataset.mean.to(torch::kCPU, torch::kFloat32).view({kFeatureDim}),
                               dataset.std.to(torch::kCPU, torch::kFloat32).view({kFeatureDim})};
    EvaluatorEmbedder embed(evaluator, vocabulary, options.batchSize, options.maxMotionFrames);

    EvaluationResult result;
    result.replications = options.replications;
    result.numSamples = n;
    StageTimer timer(result.secondsByStage);
    std::map<std::string, std::vector<double>> values;
    const std::int64_t stagesPerReplication = 4;
    const auto generationBatch = static_cast<std::size_t>(std::max(
        1, options.generationBatchSize > 0 ? options.generationBatchSize : options.batchSize));
    const std::int64_t totalSteps = std::int64_t(options.replications) * stagesPerReplication;

    for (int rep = 0; rep < options.replications; ++rep) {
        MetricRng rng(streamSeed(options.seed, static_cast<std::uint64_t>(rep)));
        const std::string label =
            "replication " + std::to_string(rep + 1) + "/" + std::to_string(options.replications);
        reportProgress(progress, std::int64_t(rep) * stagesPerReplication, totalSteps,
                       label + ": ground truth");

        // Ground truth: a caption, crop and offset per motion (pass A), embedded.
        timer.start("ground truth sampling and embedding");
        auto drawPass = [&](std::vector<GroundTruthCrop> &picks, std::vector<at::Tensor> &crops) {
            picks.clear();
            crops.clear();
            for (const auto &s : dataset.samples) {
                picks.push_back(drawGroundTruthCrop(s, rng, unit, options.maxMotionFrames));
                crops.push_back(s.features.slice(0, picks.back().start,
                                                 picks.back().start + picks.back().frames));
            }
        };
        auto lengthsOf = [](const std::vector<GroundTruthCrop> &picks) {
            std::vector<std::int64_t> out;
            for (const auto &p : picks)
                out.push_back(p.frames);
            return out;
        };
        auto normaliseAll = [&](const std::vector<at::Tensor> &xs) {
            std::vector<at::Tensor> out;
            for (const auto &x : xs)
                out.push_back(normalise(x));
            return out;
        };
        std::vector<GroundTruthCrop> picks;
        std::vector<at::Tensor> crops;
        drawPass(picks, crops);
        std::vector<const EvalCaption *> captions;
        for (std::int64_t i = 0; i < n; ++i)
            captions.push_back(&dataset.samples[i].captions[picks[i].caption]);
        const auto textEmb = embed.texts(captions);
        const auto gtEmb = embed.motions(normaliseAll(crops), lengthsOf(picks));

        // Which samples are generated and how they are grouped.
        std::vector<std::vector<std::int64_t>> genGroups;
        std::vector<std::vector<std::int64_t>> gtGroups;
        std::vector<std::int64_t> genSet;
        if (options.grouping == GroupingMode::GuoBatches) {
            // Generation walks the shuffled, drop_last batches; the GT pass is a fresh shuffle.
            genGroups = makeGroups(n, options.groupSize, rng);
            gtGroups = makeGroups(n, options.groupSize, rng);
            genSet = flatten(genGroups);
        } else {
            genSet.resize(static_cast<std::size_t>(n));
            std::iota(genSet.begin(), genSet.end(), 0);
            genGroups = makeGroups(n, options.groupSize, rng);
            gtGroups = genGroups;
        }

        // Generation.
        reportProgress(progress, std::int64_t(rep) * stagesPerReplication + 1, totalSteps,
                       label + ": generating");
        timer.start("generation");
        std::vector<GenerationRequest> requests;
        for (auto i : genSet)
            requests.push_back({.sampleIndex = i,
                                .caption = captions[i]->text,
                                .targetFrames = picks[i].frames,
                                .temperature = options.temperature,
                                .seed = streamSeed(options.seed, rep, i, 0)});
        auto generateAll = [&](const std::vector<GenerationRequest> &all, std::int64_t stage,
                               const std::string &what) {
            std::vector<at::Tensor> motions;
            for (std::size_t begin = 0; begin < all.size(); begin += generationBatch) {
                const auto end = std::min(all.size(), begin + generationBatch);
                const std::vector<GenerationRequest> part(all.begin() + begin, all.begin() + end);
                auto out = generator(part);
                if (out.size() != part.size())
                    throw std::runtime_error("evaluation: the generator returned " +
                                             std::to_string(out.size()) + " motions for " +
                                             std::to_string(part.size()) + " requests");
                for (auto &m : out)
                    motions.push_back(m.defined() ? m.detach().to(torch::kCPU, torch::kFloat32)
                                                  : torch::zeros({0, kFeatureDim}));
                reportProgress(progress, std::int64_t(rep) * stagesPerReplication + stage,
                               totalSteps, label + ": " + what);
            }
            return motions;
        };
        const auto generated = generateAll(requests, 1, "generating");

        timer.start("embedding generated motions");
        auto prepareGenerated = [&](const std::vector<at::Tensor> &motions,
                                    const std::vector<std::int64_t> &gtFrames,
                                    std::vector<at::Tensor> &normalised,
                                    std::vector<std::int64_t> &lengths) {
            for (std::size_t k = 0; k < motions.size(); ++k) {
                const auto &m = motions[k];
                if (m.dim() != 2 || m.size(1) != kFeatureDim)
                    throw std::runtime_error("evaluation: a generated motion is not (T, 263)");
                lengths.push_back(evaluatedLength(m.size(0), gtFrames[k], options, unit));
                normalised.push_back(m.size(0) > 0 ? normalise(m)
                                                   : torch::zeros({lengths.back(), kFeatureDim}));
            }
        };
        std::vector<std::int64_t> gtFramesOfGen;
        for (auto i : genSet)
            gtFramesOfGen.push_back(picks[i].frames);
        std::vector<at::Tensor> genNormalised;
        std::vector<std::int64_t> genLengths;
        prepareGenerated(generated, gtFramesOfGen, genNormalised, genLengths);
        // Generated embeddings sit at their sample's row; rows outside genSet stay zero (unused).
        auto genEmb = torch::zeros_like(gtEmb);
        genEmb.index_copy_(0, torch::tensor(genSet, torch::kLong),
                           embed.motions(genNormalised, genLengths));

        // MultiModality: mmNumTexts of the generated samples, mmRepeats generations each.
        std::optional<double> mmValue;
        if (options.mmNumTexts > 0 && options.mmRepeats >= options.mmPairs &&
            (options.mmReplications < 0 || rep < options.mmReplications)) {
            reportProgress(progress, std::int64_t(rep) * stagesPerReplication + 2, totalSteps,
                           label + ": multimodality");
            timer.start("multimodality generation");
            const auto chosen = sampleWithoutReplacement(
                static_cast<std::int64_t>(genSet.size()),
                std::min<std::int64_t>(options.mmNumTexts, genSet.size()), rng);
            // All texts' repeats in one request list, so generation batches mix captions.
            std::vector<GenerationRequest> mmRequests;
            for (auto c : chosen) {
                const auto i = genSet[c];
                for (std::int64_t r = 0; r < options.mmRepeats; ++r)
                    mmRequests.push_back({.sampleIndex = i,
                                          .caption = captions[i]->text,
                                          .targetFrames = picks[i].frames,
                                          .temperature = options.temperature,
                                          .seed = streamSeed(options.seed, rep, i, r + 1),
                                          .multimodality = true});
            }
            const auto mmMotions = generateAll(mmRequests, 2, "multimodality");
            timer.start("multimodality embedding");
            std::vector<at::Tensor> mmEmb;
            for (std::size_t t = 0; t < chosen.size(); ++t) {
                const auto i = genSet[chosen[t]];
                const auto first = mmMotions.begin() + std::ptrdiff_t(t * options.mmRepeats);
                const std::vector<at::Tensor> motions(first, first + options.mmRepeats);
                std::vector<at::Tensor> normalised;
                std::vector<std::int64_t> lengths;
                prepareGenerated(motions,
                                 std::vector<std::int64_t>(motions.size(), picks[i].frames),
                                 normalised, lengths);
                mmEmb.push_back(embed.motions(normalised, lengths));
            }
            mmValue = multimodality(torch::stack(mmEmb), rng, options.mmPairs);
        }

        reportProgress(progress, std::int64_t(rep) * stagesPerReplication + 3, totalSteps,
                       label + ": metrics");
        timer.start("metrics");
        const auto gen = matchingMetricsForGroups(textEmb, genEmb, genGroups);
        const auto gtSet = flatten(gtGroups);
        const bool guo = options.grouping == GroupingMode::GuoBatches;
        const auto genRows = rows(genEmb, genSet);
        const auto gtRows = guo ? rows(gtEmb, gtSet) : gtEmb;
        const char *topNames[3] = {"R_precision_top_1", "R_precision_top_2", "R_precision_top_3"};
        for (int k = 0; k < 3; ++k)
            values[topNames[k]].push_back(gen.rPrecision[k]);
        values["Matching_score"].push_back(gen.matchingScore);
        values["FID"].push_back(fid(gtRows, genRows));
        values["Diversity"].push_back(diversity(genRows, rng, options.diversityPairs));
        if (mmValue)
            values["MultiModality"].push_back(*mmValue);
        if (options.computeGroundTruth) {
            const auto gt = matchingMetricsForGroups(textEmb, gtEmb, gtGroups);
            for (int k = 0; k < 3; ++k)
                values[std::string("gt_") + topNames[k]].push_back(gt.rPrecision[k]);
            values["gt_Matching_score"].push_back(gt.matchingScore);
            values["gt_Diversity"].push_back(diversity(gtRows, rng, options.diversityPairs));
            // gt_FID: a second, independent draw of real crops against the first.
            timer.start("ground truth sampling and embedding");
            std::vector<GroundTruthCrop> picksB;
            std::vector<at::Tensor> cropsB;
            drawPass(picksB, cropsB);
            const auto gtEmbB = embed.motions(normaliseAll(cropsB), lengthsOf(picksB));
            values["gt_FID"].push_back(fid(gtRows, rows(gtEmbB, genSet)));
        }
        if (options.footSkating) {
            timer.start("foot skating");
            double genSum = 0.0;
            for (const auto &m : generated)
                genSum += m.size(0) > 1 ? options.footSkating(m) : 0.0;
            values["Foot_skating_ratio"].push_back(genSum / double(generated.size()));
            if (options.computeGroundTruth) {
                double gtSum = 0.0;
                for (auto i : genSet)
                    gtSum += options.footSkating(crops[i]);
                values["gt_Foot_skating_ratio"].push_back(gtSum / double(genSet.size()));
            }
        }
        timer.stop();
    }
    if (options.preferencePairs > 0 && options.preferenceScore) {
        timer.start("preference accuracy");
        values["Preference_accuracy"].push_back(
            preferenceAccuracy(options.preferencePairs, options.preferenceScore));
        timer.stop();
    }
    for (auto &[name, v] : values)
        result.metrics[name] = metricStatistics(std::move(v));
    reportProgress(progress, totalSteps, totalSteps, "done");
    return result;
}

std::string evaluationToJson(const EvaluationResult &result)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[name, stats] : result.metrics)
        j[name] = {
            {"mean", stats.mean}, {"conf_interval", stats.confInterval}, {"values", stats.values}};
    j["meta"] = {{"replications", result.replications},
                 {"num_samples", result.numSamples},
                 {"seconds_by_stage", result.secondsByStage}};
    return j.dump(2);
}

void writeMetricsJson(const std::filesystem::path &path, const EvaluationResult &result)
{
    const auto temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << evaluationToJson(result) << "\n";
        if (!out)
            throw InputError(path.string() + ": cannot write the metrics");
    }
    std::filesystem::rename(temporary, path);
}

std::string paperTableRow(const EvaluationResult &result, bool groundTruth)
{
    const std::string prefix = groundTruth ? "gt_" : "";
    const std::vector<std::pair<std::string, std::string>> columns = {
        {"R@1", "R_precision_top_1"},  {"R@2", "R_precision_top_2"},
        {"R@3", "R_precision_top_3"},  {"FID", "FID"},
        {"MM-Dist", "Matching_score"}, {"Diversity", "Diversity"},
        {"MModality", "MultiModality"}};
    std::ostringstream row;
    bool first = true;
    for (const auto &[title, key] : columns) {
        const auto it = result.metrics.find(prefix + key);
        if (it == result.metrics.end())
            continue;
        char cell[96];
        std::snprintf(cell, sizeof cell, "%s %.3f±%.3f", title.c_str(), it->second.mean,
                      it->second.confInterval);
        row << (first ? "" : " | ") << cell;
        first = false;
    }
    return row.str();
}

} // namespace mp
