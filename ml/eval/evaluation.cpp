#include "ml/eval/evaluation.h"

#include "ml/core/error.h"
#include "ml/eval/embedder.h"
#include "ml/eval/evaluator.h"
#include "ml/motion/features.h"
#include "ml/motion/quality.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

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

namespace {

// One run of the protocol: every replication draws ground-truth crops, groups the test set,
// generates, embeds and computes the metrics, with its own RNG stream. The steps below consume
// that stream in a fixed order (crops, groups, MultiModality's texts and pairs, Diversity's
// pairs, the second ground-truth draw), which the metrics' reproducibility depends on.
class ModelEvaluation {
public:
    ModelEvaluation(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                    const EvalDataset &dataset, const MotionGeneratorFn &generator,
                    const EvaluationOptions &options, const ProgressFn &progress)
        : m_dataset(dataset), m_generator(generator), m_options(options), m_progress(progress),
          m_n(static_cast<std::int64_t>(dataset.samples.size())),
          m_unit(evaluator.config().unitLength),
          m_normalise{dataset.mean.to(torch::kCPU, torch::kFloat32).view({kFeatureDim}),
                      dataset.std.to(torch::kCPU, torch::kFloat32).view({kFeatureDim})},
          m_embed(evaluator, vocabulary, options.batchSize, options.maxMotionFrames),
          m_timer(m_result.secondsByStage),
          m_generationBatch(static_cast<std::size_t>(std::max(1, options.generationBatchSize > 0
                                                                     ? options.generationBatchSize
                                                                     : options.batchSize))),
          m_totalSteps(std::int64_t(options.replications) * kStagesPerReplication)
    {
        m_result.replications = options.replications;
        m_result.numSamples = m_n;
    }

    EvaluationResult run()
    {
        for (int rep = 0; rep < m_options.replications; ++rep)
            runReplication(rep);
        if (m_options.preferencePairs > 0 && m_options.preferenceScore) {
            m_timer.start("preference accuracy");
            m_values["Preference_accuracy"].push_back(
                preferenceAccuracy(m_options.preferencePairs, m_options.preferenceScore));
            m_timer.stop();
        }
        for (auto &[name, v] : m_values)
            m_result.metrics[name] = metricStatistics(std::move(v));
        reportProgress(m_progress, m_totalSteps, m_totalSteps, "done");
        return m_result;
    }

private:
    static constexpr std::int64_t kStagesPerReplication = 4;

    // What one replication drew and computed, handed from step to step.
    struct Replication {
        int index = 0;
        std::string label;
        std::vector<GroundTruthCrop> picks;
        std::vector<at::Tensor> crops;
        std::vector<const EvalCaption *> captions;
        at::Tensor textEmb;
        at::Tensor gtEmb;
        std::vector<std::vector<std::int64_t>> genGroups;
        std::vector<std::vector<std::int64_t>> gtGroups;
        std::vector<std::int64_t> genSet;
        std::vector<at::Tensor> generated;
        at::Tensor genEmb;
        std::vector<std::int64_t> genLengths; // the frames the evaluators see of each
        std::optional<double> multimodality;
    };

    void report(const Replication &r, std::int64_t stage, const std::string &what)
    {
        reportProgress(m_progress, std::int64_t(r.index) * kStagesPerReplication + stage,
                       m_totalSteps, r.label + ": " + what);
    }

    void runReplication(int rep)
    {
        MetricRng rng(streamSeed(m_options.seed, static_cast<std::uint64_t>(rep)));
        Replication r;
        r.index = rep;
        r.label =
            "replication " + std::to_string(rep + 1) + "/" + std::to_string(m_options.replications);
        report(r, 0, "ground truth");
        embedGroundTruth(r, rng);
        groupSamples(r, rng);
        generateAndEmbed(r);
        if (m_options.mmNumTexts > 0 && m_options.mmRepeats >= m_options.mmPairs &&
            (m_options.mmReplications < 0 || rep < m_options.mmReplications))
            r.multimodality = multimodalityOf(r, rng);
        report(r, 3, "metrics");
        recordMetrics(r, rng);
        recordFootSkating(r);
        m_timer.stop();
    }

    // A caption, crop and offset per motion (pass A), embedded.
    void drawGroundTruth(MetricRng &rng, std::vector<GroundTruthCrop> &picks,
                         std::vector<at::Tensor> &crops) const
    {
        picks.clear();
        crops.clear();
        for (const auto &s : m_dataset.samples) {
            picks.push_back(drawGroundTruthCrop(s, rng, m_unit, m_options.maxMotionFrames));
            crops.push_back(
                s.features.slice(0, picks.back().start, picks.back().start + picks.back().frames));
        }
    }

    // Real crops are embedded once: a clip has few distinct crops (offsets within a unit or two
    // of its length), drawn again by later replications and by gt_FID's second draw. An
    // embedding does not depend on its batch-mates (up to float rounding).
    at::Tensor embedCrops(const std::vector<GroundTruthCrop> &picks,
                          const std::vector<at::Tensor> &crops)
    {
        return cachedCropEmbeddings(picks, crops, m_cropEmbeddings,
                                    [this](const std::vector<at::Tensor> &motions,
                                           const std::vector<std::int64_t> &lengths) {
                                        std::vector<at::Tensor> normalised;
                                        for (const auto &m : motions)
                                            normalised.push_back(m_normalise(m));
                                        return m_embed.motions(normalised, lengths);
                                    });
    }

    using CropKey = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
    using MotionEmbedFn = std::function<at::Tensor(const std::vector<at::Tensor> &,
                                                   const std::vector<std::int64_t> &)>;
    // Rows for the crops, each (sample, start, frames) embedded once by `embed` (un-normalised
    // crops and their frames) and kept in `cache`.
    static at::Tensor cachedCropEmbeddings(const std::vector<GroundTruthCrop> &picks,
                                           const std::vector<at::Tensor> &crops,
                                           std::map<CropKey, at::Tensor> &cache,
                                           const MotionEmbedFn &embed)
    {
        std::vector<CropKey> keys;
        std::vector<at::Tensor> missing;
        std::vector<std::int64_t> lengths;
        std::vector<CropKey> newKeys;
        for (std::size_t i = 0; i < crops.size(); ++i) {
            keys.push_back({static_cast<std::int64_t>(i), picks[i].start, picks[i].frames});
            if (cache.count(keys.back()) ||
                std::find(newKeys.begin(), newKeys.end(), keys.back()) != newKeys.end())
                continue;
            newKeys.push_back(keys.back());
            missing.push_back(crops[i]);
            lengths.push_back(picks[i].frames);
        }
        if (!newKeys.empty()) {
            const auto embedded = embed(missing, lengths);
            for (std::size_t k = 0; k < newKeys.size(); ++k)
                cache[newKeys[k]] = embedded[static_cast<std::int64_t>(k)];
        }
        std::vector<at::Tensor> rowsOut;
        for (const auto &key : keys)
            rowsOut.push_back(cache.at(key));
        return torch::stack(rowsOut);
    }

    // Captions embedded once each, as the crops.
    at::Tensor embedCaptions(const std::vector<const EvalCaption *> &captions)
    {
        std::vector<const EvalCaption *> missing;
        for (const auto *c : captions)
            if (!m_captionEmbeddings.count(c) &&
                std::find(missing.begin(), missing.end(), c) == missing.end())
                missing.push_back(c);
        if (!missing.empty()) {
            const auto embedded = m_embed.texts(missing);
            for (std::size_t k = 0; k < missing.size(); ++k)
                m_captionEmbeddings[missing[k]] = embedded[static_cast<std::int64_t>(k)];
        }
        std::vector<at::Tensor> rowsOut;
        for (const auto *c : captions)
            rowsOut.push_back(m_captionEmbeddings.at(c));
        return torch::stack(rowsOut);
    }

    void embedGroundTruth(Replication &r, MetricRng &rng)
    {
        m_timer.start("ground truth sampling and embedding");
        drawGroundTruth(rng, r.picks, r.crops);
        for (std::int64_t i = 0; i < m_n; ++i)
            r.captions.push_back(&m_dataset.samples[i].captions[r.picks[i].caption]);
        r.textEmb = embedCaptions(r.captions);
        r.gtEmb = embedCrops(r.picks, r.crops);
    }

    // Which samples are generated and how they are grouped.
    void groupSamples(Replication &r, MetricRng &rng) const
    {
        if (m_options.grouping == GroupingMode::GuoBatches) {
            // Generation walks the shuffled, drop_last batches; the GT pass is a fresh shuffle.
            r.genGroups = makeGroups(m_n, m_options.groupSize, rng);
            r.gtGroups = makeGroups(m_n, m_options.groupSize, rng);
            r.genSet = flatten(r.genGroups);
        } else {
            r.genSet.resize(static_cast<std::size_t>(m_n));
            std::iota(r.genSet.begin(), r.genSet.end(), 0);
            r.genGroups = makeGroups(m_n, m_options.groupSize, rng);
            r.gtGroups = r.genGroups;
        }
    }

    // The requests in batches of generationBatchSize (a motion depends only on its seed), on
    // generationThreads threads; the batches are the same whatever the thread count. Batches are
    // cut from the requests in order of caption length, so a batch's prompts pad to about the
    // same length: in random order the T5 encoder and cross-attention of a 64-caption batch
    // spent half their work on padding. Equal lengths keep their order (MultiModality's repeats
    // of one caption stay together and share its encoding).
    std::vector<at::Tensor> generateAll(const Replication &r,
                                        const std::vector<GenerationRequest> &all,
                                        std::int64_t stage, const std::string &what)
    {
        std::vector<std::size_t> order(all.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return all[a].caption.size() < all[b].caption.size();
        });
        std::vector<std::pair<std::size_t, std::size_t>> batches;
        for (std::size_t begin = 0; begin < all.size(); begin += m_generationBatch)
            batches.emplace_back(begin, std::min(all.size(), begin + m_generationBatch));
        std::vector<at::Tensor> motions(all.size());
        const auto generate = [&](std::size_t b) {
            const auto [begin, end] = batches[b];
            std::vector<GenerationRequest> part;
            for (auto k = begin; k < end; ++k)
                part.push_back(all[order[k]]);
            auto out = m_generator(part);
            if (out.size() != part.size())
                throw std::runtime_error("evaluation: the generator returned " +
                                         std::to_string(out.size()) + " motions for " +
                                         std::to_string(part.size()) + " requests");
            for (std::size_t k = 0; k < out.size(); ++k)
                motions[order[begin + k]] = out[k].defined()
                                                ? out[k].detach().to(torch::kCPU, torch::kFloat32)
                                                : torch::zeros({0, kFeatureDim});
        };
        const auto threads = std::min<std::size_t>(
            batches.size(), static_cast<std::size_t>(std::max(1, m_options.generationThreads)));
        if (threads <= 1) {
            for (std::size_t b = 0; b < batches.size(); ++b) {
                generate(b);
                report(r, stage, what);
            }
            return motions;
        }
        runOnThreads(threads, batches.size(), generate, [&] { report(r, stage, what); });
        return motions;
    }

    // work(0 .. count-1) on `threads` threads, each with one intra-op thread and no gradient;
    // done() after each item, on this thread (progress callbacks need not be thread-safe). The
    // first exception (a worker's, or done()'s, e.g. a cancellation) stops the rest and is
    // rethrown here.
    static void runOnThreads(std::size_t threads, std::size_t count,
                             const std::function<void(std::size_t)> &work,
                             const std::function<void()> &done)
    {
        std::mutex mutex;
        std::condition_variable changed;
        std::size_t next = 0;
        std::size_t finished = 0;
        bool stop = false;
        std::exception_ptr failure;
        const auto worker = [&] {
            at::set_num_threads(1);
            torch::NoGradGuard noGrad;
            while (true) {
                std::size_t item = 0;
                {
                    std::lock_guard lock(mutex);
                    if (stop || next >= count)
                        return;
                    item = next++;
                }
                try {
                    work(item);
                } catch (...) {
                    std::lock_guard lock(mutex);
                    if (!failure)
                        failure = std::current_exception();
                    stop = true;
                }
                {
                    std::lock_guard lock(mutex);
                    ++finished;
                }
                changed.notify_one();
            }
        };
        const int intraOpThreads = at::get_num_threads();
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t)
            pool.emplace_back(worker);
        std::size_t reported = 0;
        try {
            std::unique_lock lock(mutex);
            while (!stop && reported < count) {
                changed.wait(lock, [&] { return stop || finished > reported; });
                while (!stop && reported < finished) {
                    ++reported;
                    lock.unlock();
                    done();
                    lock.lock();
                }
            }
        } catch (...) {
            std::lock_guard lock(mutex);
            if (!failure)
                failure = std::current_exception();
            stop = true;
        }
        for (auto &t : pool)
            t.join();
        // The workers' set_num_threads(1) also set the count new threads start with.
        at::set_num_threads(intraOpThreads);
        if (failure)
            std::rethrow_exception(failure);
    }

    // Generated motions normalised and cut to the lengths the evaluator sees, embedded.
    at::Tensor embedGenerated(const std::vector<at::Tensor> &motions,
                              const std::vector<std::int64_t> &gtFrames)
    {
        std::vector<at::Tensor> normalised;
        std::vector<std::int64_t> lengths;
        for (std::size_t k = 0; k < motions.size(); ++k) {
            const auto &m = motions[k];
            if (m.dim() != 2 || m.size(1) != kFeatureDim)
                throw std::runtime_error("evaluation: a generated motion is not (T, 263)");
            lengths.push_back(evaluatedLength(m.size(0), gtFrames[k], m_options, m_unit));
            normalised.push_back(m.size(0) > 0 ? m_normalise(m)
                                               : torch::zeros({lengths.back(), kFeatureDim}));
        }
        return m_embed.motions(normalised, lengths);
    }

    void generateAndEmbed(Replication &r)
    {
        report(r, 1, "generating");
        m_timer.start("generation");
        std::vector<GenerationRequest> requests;
        for (auto i : r.genSet)
            requests.push_back({.sampleIndex = i,
                                .caption = r.captions[i]->text,
                                .targetFrames = r.picks[i].frames,
                                .temperature = m_options.temperature,
                                .seed = streamSeed(m_options.seed, r.index, i, 0)});
        r.generated = generateAll(r, requests, 1, "generating");

        m_timer.start("embedding generated motions");
        std::vector<std::int64_t> gtFramesOfGen;
        for (std::size_t k = 0; k < r.genSet.size(); ++k) {
            gtFramesOfGen.push_back(r.picks[r.genSet[k]].frames);
            r.genLengths.push_back(
                evaluatedLength(r.generated[k].size(0), gtFramesOfGen.back(), m_options, m_unit));
        }
        // Generated embeddings sit at their sample's row; rows outside genSet stay zero (unused).
        r.genEmb = torch::zeros_like(r.gtEmb);
        r.genEmb.index_copy_(0, torch::tensor(r.genSet, torch::kLong),
                             embedGenerated(r.generated, gtFramesOfGen));
    }

    // MultiModality: mmNumTexts of the generated samples, mmRepeats generations each.
    double multimodalityOf(const Replication &r, MetricRng &rng)
    {
        report(r, 2, "multimodality");
        m_timer.start("multimodality generation");
        const auto chosen = sampleWithoutReplacement(
            static_cast<std::int64_t>(r.genSet.size()),
            std::min<std::int64_t>(m_options.mmNumTexts, r.genSet.size()), rng);
        // All texts' repeats in one request list, so generation batches mix captions.
        std::vector<GenerationRequest> mmRequests;
        for (auto c : chosen) {
            const auto i = r.genSet[c];
            for (std::int64_t k = 0; k < m_options.mmRepeats; ++k)
                mmRequests.push_back({.sampleIndex = i,
                                      .caption = r.captions[i]->text,
                                      .targetFrames = r.picks[i].frames,
                                      .temperature = m_options.temperature,
                                      .seed = streamSeed(m_options.seed, r.index, i, k + 1),
                                      .multimodality = true});
        }
        const auto mmMotions = generateAll(r, mmRequests, 2, "multimodality");
        m_timer.start("multimodality embedding");
        // All texts' motions in one call (batches by length across texts), then (texts, repeats).
        std::vector<std::int64_t> gtFrames;
        for (const auto &request : mmRequests)
            gtFrames.push_back(request.targetFrames);
        const auto mmEmb =
            embedGenerated(mmMotions, gtFrames)
                .view({static_cast<std::int64_t>(chosen.size()), m_options.mmRepeats, -1});
        return multimodality(mmEmb, rng, m_options.mmPairs);
    }

    void recordMetrics(const Replication &r, MetricRng &rng)
    {
        m_timer.start("metrics");
        const auto gen = matchingMetricsForGroups(r.textEmb, r.genEmb, r.genGroups);
        const auto gtSet = flatten(r.gtGroups);
        const bool guo = m_options.grouping == GroupingMode::GuoBatches;
        const auto genRows = rows(r.genEmb, r.genSet);
        const auto gtRows = guo ? rows(r.gtEmb, gtSet) : r.gtEmb;
        const char *topNames[3] = {"R_precision_top_1", "R_precision_top_2", "R_precision_top_3"};
        for (int k = 0; k < 3; ++k)
            m_values[topNames[k]].push_back(gen.rPrecision[k]);
        m_values["Matching_score"].push_back(gen.matchingScore);
        m_values["FID"].push_back(fid(gtRows, genRows));
        m_values["Diversity"].push_back(diversity(genRows, rng, m_options.diversityPairs));
        if (r.multimodality)
            m_values["MultiModality"].push_back(*r.multimodality);
        if (!m_options.computeGroundTruth) {
            recordCrossCheck(r, {}, {});
            return;
        }
        const auto gt = matchingMetricsForGroups(r.textEmb, r.gtEmb, r.gtGroups);
        for (int k = 0; k < 3; ++k)
            m_values[std::string("gt_") + topNames[k]].push_back(gt.rPrecision[k]);
        m_values["gt_Matching_score"].push_back(gt.matchingScore);
        m_values["gt_Diversity"].push_back(diversity(gtRows, rng, m_options.diversityPairs));
        // gt_FID: a second, independent draw of real crops against the first.
        m_timer.start("ground truth sampling and embedding");
        std::vector<GroundTruthCrop> picksB;
        std::vector<at::Tensor> cropsB;
        drawGroundTruth(rng, picksB, cropsB);
        const auto gtEmbB = embedCrops(picksB, cropsB);
        m_values["gt_FID"].push_back(fid(gtRows, rows(gtEmbB, r.genSet)));
        recordCrossCheck(r, picksB, cropsB);
    }

    // The cross-check's embeddings of real crops, cached as embedCrops caches the evaluator's.
    at::Tensor crossEmbedCrops(const std::vector<GroundTruthCrop> &picks,
                               const std::vector<at::Tensor> &crops)
    {
        return cachedCropEmbeddings(picks, crops, m_crossCropEmbeddings,
                                    [this](const std::vector<at::Tensor> &motions,
                                           const std::vector<std::int64_t> &lengths) {
                                        return m_options.crossCheck->motions(motions, lengths);
                                    });
    }

    // The cross-check metrics on this replication's captions, crops, generated motions and
    // groups (picksB/cropsB: gt_FID's second draw; empty without ground truth). Draws nothing.
    void recordCrossCheck(const Replication &r, const std::vector<GroundTruthCrop> &picksB,
                          const std::vector<at::Tensor> &cropsB)
    {
        if (!m_options.crossCheck)
            return;
        m_timer.start("cross-check embedding");
        std::vector<std::string> missing;
        for (const auto *c : r.captions)
            if (!m_crossCaptionEmbeddings.count(c) &&
                std::find(missing.begin(), missing.end(), c->text) == missing.end())
                missing.push_back(c->text);
        if (!missing.empty()) {
            const auto embedded = m_options.crossCheck->texts(missing);
            for (const auto *c : r.captions) {
                const auto at = std::find(missing.begin(), missing.end(), c->text);
                if (at != missing.end())
                    m_crossCaptionEmbeddings[c] = embedded[at - missing.begin()];
            }
        }
        std::vector<at::Tensor> textRows;
        for (const auto *c : r.captions)
            textRows.push_back(m_crossCaptionEmbeddings.at(c));
        const auto text = torch::stack(textRows);
        const auto gtEmb = crossEmbedCrops(r.picks, r.crops);
        auto genEmb = torch::zeros_like(gtEmb);
        genEmb.index_copy_(0, torch::tensor(r.genSet, torch::kLong),
                           m_options.crossCheck->motions(r.generated, r.genLengths));

        m_timer.start("cross-check metrics");
        const bool guo = m_options.grouping == GroupingMode::GuoBatches;
        const auto gtSet = flatten(r.gtGroups);
        const auto genRows = rows(genEmb, r.genSet);
        const auto gtRows = guo ? rows(gtEmb, gtSet) : gtEmb;
        const auto gen = matchingMetricsForGroups(text, genEmb, r.genGroups);
        for (int k = 0; k < 3; ++k)
            m_values["x_R_precision_top_" + std::to_string(k + 1)].push_back(gen.rPrecision[k]);
        m_values["x_Matching_score"].push_back(gen.matchingScore);
        m_values["x_FID"].push_back(fid(gtRows, genRows));
        if (!m_options.computeGroundTruth)
            return;
        const auto gt = matchingMetricsForGroups(text, gtEmb, r.gtGroups);
        for (int k = 0; k < 3; ++k)
            m_values["gt_x_R_precision_top_" + std::to_string(k + 1)].push_back(gt.rPrecision[k]);
        m_values["gt_x_Matching_score"].push_back(gt.matchingScore);
        m_values["gt_x_FID"].push_back(
            fid(gtRows, rows(crossEmbedCrops(picksB, cropsB), r.genSet)));
    }

    void recordFootSkating(const Replication &r)
    {
        if (!m_options.footSkating)
            return;
        m_timer.start("foot skating");
        double genSum = 0.0;
        for (const auto &m : r.generated)
            genSum += m.size(0) > 1 ? m_options.footSkating(m) : 0.0;
        m_values["Foot_skating_ratio"].push_back(genSum / double(r.generated.size()));
        if (m_options.computeGroundTruth) {
            double gtSum = 0.0;
            for (auto i : r.genSet)
                gtSum += m_options.footSkating(r.crops[i]);
            m_values["gt_Foot_skating_ratio"].push_back(gtSum / double(r.genSet.size()));
        }
    }

    const EvalDataset &m_dataset;
    const MotionGeneratorFn &m_generator;
    const EvaluationOptions &m_options;
    const ProgressFn &m_progress;
    const std::int64_t m_n;
    const int m_unit;
    const Normaliser m_normalise;
    EvaluatorEmbedder m_embed;
    EvaluationResult m_result;
    StageTimer m_timer;
    std::map<std::string, std::vector<double>> m_values;
    // (sample, start, frames) of a real crop -> its embedding; a caption -> its embedding.
    std::map<CropKey, at::Tensor> m_cropEmbeddings;
    std::map<const EvalCaption *, at::Tensor> m_captionEmbeddings;
    std::map<CropKey, at::Tensor> m_crossCropEmbeddings;
    std::map<const EvalCaption *, at::Tensor> m_crossCaptionEmbeddings;
    const std::size_t m_generationBatch;
    const std::int64_t m_totalSteps;
};

// The inputs the protocol needs, checked before any work.
void checkEvaluationInputs(const TextMotionEvaluatorImpl &evaluator, const EvalDataset &dataset,
                           const MotionGeneratorFn &generator, const EvaluationOptions &options)
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
}

} // namespace

EvaluationResult evaluateModel(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                               const EvalDataset &dataset, const MotionGeneratorFn &generator,
                               const EvaluationOptions &options, const ProgressFn &progress)
{
    checkEvaluationInputs(evaluator, dataset, generator, options);
    torch::NoGradGuard noGrad;
    evaluator.eval();
    return ModelEvaluation(evaluator, vocabulary, dataset, generator, options, progress).run();
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

namespace {

std::string tableRow(const EvaluationResult &result, const std::string &prefix,
                     const std::vector<std::pair<std::string, std::string>> &columns)
{
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

} // namespace

std::string paperTableRow(const EvaluationResult &result, bool groundTruth)
{
    return tableRow(result, groundTruth ? "gt_" : "",
                    {{"R@1", "R_precision_top_1"},
                     {"R@2", "R_precision_top_2"},
                     {"R@3", "R_precision_top_3"},
                     {"FID", "FID"},
                     {"MM-Dist", "Matching_score"},
                     {"Diversity", "Diversity"},
                     {"MModality", "MultiModality"}});
}

std::string crossCheckTableRow(const EvaluationResult &result, bool groundTruth)
{
    return tableRow(result, groundTruth ? "gt_" : "",
                    {{"xR@1", "x_R_precision_top_1"},
                     {"xR@2", "x_R_precision_top_2"},
                     {"xR@3", "x_R_precision_top_3"},
                     {"xFID", "x_FID"},
                     {"xMM-Dist", "x_Matching_score"}});
}

} // namespace mp
