#include "ml/run/semi_online.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/models/bundle.h"
#include "ml/models/eval_mode.h"
#include "ml/simulate/simulated_labeler.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

// Policy samples generated in one batch (K per caption).
constexpr std::size_t kSampleRows = 64;

at::Tensor corpusArray(const fs::path &corpus, const char *folder, const std::string &clipId)
{
    const fs::path path = corpus / folder / (clipId + ".npy");
    if (!fs::exists(path))
        throw InputError(path.string() + ": missing (the manifest lists clip " + clipId + ")");
    return npy::read(path);
}

} // namespace

SemiOnlineSource::SemiOnlineSource(ModelBundle &bundle, const SemiOnlineOptions &options)
    : m_bundle(bundle), m_options(options)
{
    if (options.candidates < 2 || options.candidates > 8)
        throw InputError("semi-online pairs: candidates must be in [2, 8], got " +
                         std::to_string(options.candidates));
    if (bundle.config().vqvae.inputDim != 263)
        throw InputError(bundle.directory().string() +
                         ": semi-online pairs measure motions as joints, which need HumanML3D's "
                         "263-d features; this model has " +
                         std::to_string(bundle.config().vqvae.inputDim));
    // One caption per clip of the split unless a count is asked for.
    std::int64_t count = options.prompts;
    if (count == 0) {
        // drawCorpusPrompts draws clips without replacement while they last: asking for as many
        // as the split holds gives each clip once. The split's size is the manifest's, which
        // drawCorpusPrompts reads; a first draw of one prompt tells nothing about it, so count
        // the split's id file (the corpus's HumanML3D layout).
        const fs::path splitFile = options.corpus / (options.split + ".txt");
        if (!fs::exists(splitFile))
            throw InputError(splitFile.string() + ": missing; " + options.corpus.string() +
                             " has no split '" + options.split + "'");
        count = 0;
        std::ifstream in(splitFile);
        for (std::string line; std::getline(in, line);)
            if (!line.empty())
                ++count;
        if (count == 0)
            throw InputError(splitFile.string() + ": no clip in the split");
    }
    m_prompts = drawCorpusPrompts(options.corpus, options.split, count, options.seed,
                                  {.poseWeight = options.poseWeight});

    torch::NoGradGuard noGrad;
    EvalModeScope evalMode(*bundle.vqvae());
    const auto down = bundle.config().vqvae.downsampling();
    const double fps = bundle.config().fps;
    for (const auto &prompt : m_prompts) {
        const at::Tensor features = corpusArray(options.corpus, "new_joint_vecs", prompt.clipId);
        const auto frames = features.size(0) / down * down;
        if (frames < down)
            throw InputError(
                (options.corpus / "new_joint_vecs" / (prompt.clipId + ".npy")).string() +
                ": fewer frames than one motion code");
        const at::Tensor normalised =
            bundle.normalize(features.narrow(0, 0, frames).to(torch::kFloat)).to(bundle.device());
        const at::Tensor codes =
            bundle.vqvae()->encode(normalised.unsqueeze(0))[0].to(torch::kCPU).contiguous();
        m_clipCodes.emplace_back(codes.data_ptr<std::int64_t>(),
                                 codes.data_ptr<std::int64_t>() + codes.numel());
        const at::Tensor joints = corpusArray(options.corpus, "new_joints", prompt.clipId);
        m_clipScores.push_back(matchScore(prompt.intent, describeForPrompt(prompt, joints, fps)));
    }
}

SemiOnlineRefresh SemiOnlineSource::build(const std::vector<std::size_t> &indices,
                                          std::uint64_t refresh) const
{
    const auto k = static_cast<std::size_t>(m_options.candidates);
    const SimulatedLabeler labeler; // its degree thresholds only: the scores are noise-free
    const double fps = m_bundle.config().fps;
    SemiOnlineRefresh out;
    torch::NoGradGuard noGrad;
    EvalModeScope evalMode(*m_bundle.t5());

    // Rows (caption, candidate) in order, generated kSampleRows at a time.
    std::vector<std::string> captions;
    std::vector<std::uint64_t> seeds;
    for (const std::size_t index : indices) {
        if (index >= m_prompts.size())
            throw InputError("semi-online pairs: caption " + std::to_string(index) + " of " +
                             std::to_string(m_prompts.size()));
        for (std::size_t c = 0; c < k; ++c) {
            captions.push_back(m_prompts[index].caption);
            seeds.push_back(m_options.seed * 0x9E3779B97F4A7C15ULL + refresh * 1000003ULL +
                            index * 8 + c);
        }
    }
    std::vector<MotionSample> samples;
    for (std::size_t begin = 0; begin < captions.size(); begin += kSampleRows) {
        const std::size_t end = std::min(captions.size(), begin + kSampleRows);
        GenerateOptions generate = m_bundle.defaultOptions(
            std::vector<std::uint64_t>(seeds.begin() + static_cast<std::ptrdiff_t>(begin),
                                       seeds.begin() + static_cast<std::ptrdiff_t>(end)));
        if (m_options.maxMotionTokens > 0)
            generate.maxMotionTokens = m_options.maxMotionTokens;
        auto batch = m_bundle.generateBatch(
            std::vector<std::string>(captions.begin() + static_cast<std::ptrdiff_t>(begin),
                                     captions.begin() + static_cast<std::ptrdiff_t>(end)),
            generate);
        for (auto &sample : batch)
            samples.push_back(std::move(sample));
    }

    double candidateSum = 0.0, rejectedSum = 0.0;
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const std::size_t index = indices[i];
        const CorpusPrompt &prompt = m_prompts[index];
        SemiOnlinePair built;
        built.clipScore = m_clipScores[index];
        for (std::size_t c = 0; c < k; ++c) {
            const MotionSample &sample = samples[i * k + c];
            if (!sample.joints.defined())
                throw InputError(m_bundle.directory().string() +
                                 ": the model's samples give no joints to measure");
            out.degenerate += sample.degenerate ? 1 : 0;
            built.candidateCodes.push_back(sample.codes);
            built.candidateScores.push_back(
                matchScore(prompt.intent, describeForPrompt(prompt, sample.joints, fps)));
            candidateSum += built.candidateScores.back();
        }
        // The lowest score; a degenerate sample has no codes to train on and is passed over
        // unless every candidate is one (then the pair is left out).
        std::optional<std::size_t> lowest;
        for (std::size_t c = 0; c < k; ++c) {
            if (built.candidateCodes[c].empty())
                continue;
            if (!lowest || built.candidateScores[c] < built.candidateScores[*lowest])
                lowest = c;
        }
        if (!lowest)
            continue;
        built.rejectedIndex = *lowest;
        rejectedSum += built.candidateScores[*lowest];
        built.pair.pairId = static_cast<std::int64_t>(index) + 1;
        built.pair.id = prompt.clipId;
        built.pair.prompt = prompt.caption;
        built.pair.chosen = m_clipCodes[index];
        built.pair.rejected = built.candidateCodes[*lowest];
        built.pair.degree =
            labeler.degreeFor(std::abs(built.clipScore - built.candidateScores[*lowest]));
        built.pair.labeler = "semi_online";
        out.pairs.push_back(std::move(built));
    }
    if (!indices.empty())
        out.meanCandidateScore = candidateSum / static_cast<double>(indices.size() * k);
    if (!out.pairs.empty())
        out.meanRejectedScore = rejectedSum / static_cast<double>(out.pairs.size());
    return out;
}

} // namespace mp
