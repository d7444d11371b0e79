#include "app/study/check_pairs.h"

#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

namespace mp {

namespace {

// HumanML3D's 263-d layout (spec §2): root angular velocity, root x/z velocity, root height,
// 21 joint positions relative to the root (ric), 21 6-d rotations, 22 local velocities, 4 foot
// contacts.
constexpr int64_t kRootVelocityEnd = 3;
constexpr int64_t kRicBegin = 4;
constexpr int64_t kRicEnd = 4 + 21 * 3;
constexpr int64_t kLocalVelocityBegin = 4 + 21 * 3 + 21 * 6;
constexpr int64_t kLocalVelocityEnd = kLocalVelocityBegin + 22 * 3;
constexpr int64_t kFeatureDims = 263;
// Jitter: Gaussian noise on the joint positions, in metres: plainly visible shaking.
constexpr double kJitterStdM = 0.04;

at::Tensor corruptFeatures(const at::Tensor &features, GoldCorruption corruption,
                           std::mt19937_64 &rng)
{
    at::Tensor out = features.to(at::kFloat).clone();
    const int64_t frames = out.size(0);
    switch (corruption) {
    case GoldCorruption::Reversed:
        // Played backwards: frames in reverse order, velocities pointing the other way.
        out = out.flip({0}).contiguous();
        out.narrow(1, 0, kRootVelocityEnd).neg_();
        out.narrow(1, kLocalVelocityBegin, kLocalVelocityEnd - kLocalVelocityBegin).neg_();
        break;
    case GoldCorruption::Frozen: {
        // The middle frame's pose held throughout, standing still.
        out = out[frames / 2].unsqueeze(0).expand({frames, kFeatureDims}).contiguous();
        out.narrow(1, 0, kRootVelocityEnd).zero_();
        out.narrow(1, kLocalVelocityBegin, kLocalVelocityEnd - kLocalVelocityBegin).zero_();
        break;
    }
    case GoldCorruption::Jittered: {
        std::normal_distribution<float> noise(0.0f, static_cast<float>(kJitterStdM));
        at::Tensor ric = out.narrow(1, kRicBegin, kRicEnd - kRicBegin);
        auto values = ric.accessor<float, 2>();
        for (int64_t t = 0; t < ric.size(0); ++t)
            for (int64_t d = 0; d < ric.size(1); ++d)
                values[t][d] += noise(rng);
        break;
    }
    case GoldCorruption::Mismatched:
        break;
    }
    return out;
}

std::vector<int> corruptTokens(const std::vector<int> &tokens, GoldCorruption corruption,
                               std::mt19937_64 &rng)
{
    std::vector<int> out = tokens;
    if (out.empty())
        return out;
    switch (corruption) {
    case GoldCorruption::Reversed:
        std::reverse(out.begin(), out.end());
        break;
    case GoldCorruption::Frozen:
        std::fill(out.begin(), out.end(), tokens[tokens.size() / 2]);
        break;
    case GoldCorruption::Jittered: {
        // Every other code replaced by a random one of the 512-code book (spec §1.3).
        std::uniform_int_distribution<int> code(0, 511);
        for (std::size_t i = 1; i < out.size(); i += 2)
            out[i] = code(rng);
        break;
    }
    case GoldCorruption::Mismatched:
        break;
    }
    return out;
}

std::size_t pick(std::size_t count, std::mt19937_64 &rng)
{
    return std::uniform_int_distribution<std::size_t>(0, count - 1)(rng);
}

bool hasMotion(const SampleInfo &sample)
{
    return !sample.features.isEmpty() || !sample.tokens.empty();
}

} // namespace

QString goldCorruptionName(GoldCorruption corruption)
{
    switch (corruption) {
    case GoldCorruption::Reversed:
        return QStringLiteral("reversed");
    case GoldCorruption::Frozen:
        return QStringLiteral("frozen");
    case GoldCorruption::Jittered:
        return QStringLiteral("jittered");
    case GoldCorruption::Mismatched:
        return QStringLiteral("mismatched");
    }
    return {};
}

SampleInfo corruptedSample(const SampleInfo &sample, GoldCorruption corruption,
                           std::mt19937_64 &rng, const SampleInfo *other)
{
    if (corruption == GoldCorruption::Mismatched && !other)
        throw InputError("a mismatched gold sample needs a sample of another prompt");
    const SampleInfo &source = corruption == GoldCorruption::Mismatched ? *other : sample;
    // The copy looks like its source wherever the app shows a sample (the vote's reveal names
    // model and seed): a gold pair is never told apart on screen. The pair's external id
    // records the corruption.
    SampleInfo out;
    out.promptId = sample.promptId;
    out.modelId = source.modelId;
    out.adapterId = source.adapterId;
    out.origin = source.origin;
    out.seed = source.seed;
    out.temperature = source.temperature;
    out.topK = source.topK;
    out.topP = source.topP;
    out.featuresPath = corruption == GoldCorruption::Mismatched ? source.featuresPath : QString();
    out.tokens = corruptTokens(source.tokens, corruption, rng);
    if (!source.features.isEmpty()) {
        const std::string name = "sample " + std::to_string(source.id) + " (stored features)";
        const at::Tensor features =
            npy::fromBytes(std::string_view(source.features.constData(),
                                            static_cast<std::size_t>(source.features.size())),
                           name);
        if (features.dim() != 2 || features.size(1) != kFeatureDims || features.size(0) < 1)
            throw InputError(name + ": expected features (T, 263) to corrupt");
        const std::string bytes = npy::toBytes(corruptFeatures(features, corruption, rng));
        out.features = QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()));
    }
    return out;
}

std::optional<qint64> makeGoldPair(StudyStore &store, const QString &labeler, std::mt19937_64 &rng)
{
    const std::vector<PairInfo> pairs = store.pairs();
    std::vector<std::pair<qint64, qint64>> candidates; // (sample id, prompt id)
    for (const PairInfo &pair : pairs) {
        candidates.emplace_back(pair.sample1Id, pair.promptId);
        candidates.emplace_back(pair.sample2Id, pair.promptId);
    }
    // A few draws find a sample with motion in any real study; a study without any has none.
    for (int attempt = 0; attempt < 8 && !candidates.empty(); ++attempt) {
        const auto [sampleId, promptId] = candidates[pick(candidates.size(), rng)];
        const SampleInfo original = store.sample(sampleId);
        if (!hasMotion(original))
            continue;
        std::vector<GoldCorruption> corruptions = {GoldCorruption::Reversed, GoldCorruption::Frozen,
                                                   GoldCorruption::Jittered};
        std::vector<qint64> others;
        for (const auto &[otherSample, otherPrompt] : candidates) {
            if (otherPrompt != promptId)
                others.push_back(otherSample);
        }
        std::optional<SampleInfo> other;
        if (!others.empty()) {
            other = store.sample(others[pick(others.size(), rng)]);
            if (hasMotion(*other))
                corruptions.push_back(GoldCorruption::Mismatched);
        }
        const GoldCorruption corruption = corruptions[pick(corruptions.size(), rng)];
        const SampleInfo corrupted =
            corruptedSample(original, corruption, rng, other ? &*other : nullptr);
        std::optional<qint64> id;
        store.runInTransaction([&] {
            const qint64 corruptedId = store.addSample(corrupted);
            const bool originalFirst = std::bernoulli_distribution(0.5)(rng);
            id = store.addCheckPair({.kind = PairKind::Gold,
                                     .promptId = promptId,
                                     .sample1Id = originalFirst ? original.id : corruptedId,
                                     .sample2Id = originalFirst ? corruptedId : original.id,
                                     .leftSample = std::uniform_int_distribution<int>(1, 2)(rng),
                                     .goldExpected = original.id,
                                     .assignedTo = labeler,
                                     .externalId = QStringLiteral("gold:%1:%2")
                                                       .arg(goldCorruptionName(corruption))
                                                       .arg(corruptedId)});
        });
        return id;
    }
    return std::nullopt;
}

std::optional<qint64> makeRepeatPair(StudyStore &store, const QString &labeler,
                                     std::mt19937_64 &rng)
{
    // The labeler's labels on normal pairs, in the order given (label ids grow with time).
    std::vector<LabelRecord> own;
    for (LabelRecord &label : store.currentLabels()) {
        if (label.labeler == labeler)
            own.push_back(std::move(label));
    }
    std::sort(own.begin(), own.end(),
              [](const LabelRecord &a, const LabelRecord &b) { return a.id < b.id; });
    std::set<qint64> repeated;
    for (const PairInfo &check : store.checkPairs()) {
        if (check.kind == PairKind::Repeat && check.repeatsPair &&
            (check.assignedTo == labeler || check.assignedTo.isEmpty()))
            repeated.insert(*check.repeatsPair);
    }
    for (const LabelRecord &label : store.currentLabels(PairKind::Repeat)) {
        if (label.labeler == labeler)
            repeated.insert(*store.pair(label.pairId).repeatsPair);
    }
    std::vector<qint64> candidates;
    const std::size_t limit = own.size() >= static_cast<std::size_t>(kMinRepeatGap)
                                  ? own.size() - static_cast<std::size_t>(kMinRepeatGap)
                                  : 0;
    for (std::size_t i = 0; i < limit; ++i) {
        if (own[i].choice != Choice::Skipped && !repeated.contains(own[i].pairId))
            candidates.push_back(own[i].pairId);
    }
    if (candidates.empty())
        return std::nullopt;
    const PairInfo original = store.pair(candidates[pick(candidates.size(), rng)]);
    return store.addCheckPair({.kind = PairKind::Repeat,
                               .promptId = original.promptId,
                               .sample1Id = original.sample1Id,
                               .sample2Id = original.sample2Id,
                               .leftSample = 3 - original.leftSample,
                               .repeatsPair = original.id,
                               .assignedTo = labeler});
}

std::optional<PairInfo> assignNextWithChecks(StudyStore &store, const QString &labeler,
                                             std::mt19937_64 &rng)
{
    bool alreadyHeld = false;
    const std::optional<PairInfo> next =
        store.assignNextPair(labeler, StudyStore::kDefaultReclaimMs, &alreadyHeld);
    // Nothing left, a check pair held, or a pair held before this call (a resume): no draw, so
    // that asking again does not stack checks. (Assignment times cannot tell a resume from a
    // new assignment made within the same millisecond.)
    if (!next || next->kind != PairKind::Normal || alreadyHeld)
        return next;
    const CheckRates rates = checkRates(store);
    const double normalShare = 1.0 - rates.gold - rates.repeat;
    if (rates.gold + rates.repeat <= 0 || normalShare <= 0)
        return next;
    // One check at most before each normal pair: probabilities q per normal pair give shares
    // q * normalShare of all pairs shown, so q = rate / normalShare.
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    std::optional<qint64> check;
    if (u < rates.gold / normalShare)
        check = makeGoldPair(store, labeler, rng);
    else if (u < (rates.gold + rates.repeat) / normalShare)
        check = makeRepeatPair(store, labeler, rng);
    return check ? store.pair(*check) : next;
}

} // namespace mp
