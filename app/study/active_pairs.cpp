#include "app/study/active_pairs.h"

#include "app/study/study_store.h"
#include "ml/core/error.h"

// LibTorch's jit headers have a member named slots(), which Qt's keyword macro would eat.
#pragma push_macro("slots")
#undef slots
#include "ml/models/bundle.h"
#include "ml/train/reward_ensemble.h"
#pragma pop_macro("slots")

#include "app/study/study_rounds.h"

#include <QDir>
#include <QFileInfo>

#include <cmath>

namespace mp {

namespace {

const QString kRuleKey = QStringLiteral("pair_rule");
const QString kCandidatesKey = QStringLiteral("pair_candidates");
const QString kDiversityKey = QStringLiteral("pair_diversity");
const QString kBetaKey = QStringLiteral("pair_beta");

[[noreturn]] void badMeta(const StudyStore &store, const QString &key, const std::string &problem)
{
    throw InputError(store.location().toStdString() + ": study setting '" + key.toStdString() +
                     "': " + problem);
}

double numberFromMeta(const StudyStore &store, const QString &key, double fallback)
{
    const QString text = store.meta(key);
    if (text.isEmpty())
        return fallback;
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok)
        badMeta(store, key, "'" + text.toStdString() + "' is not a number");
    return value;
}

} // namespace

void validate(const PairSelectionSettings &settings)
{
    if (settings.candidates < kMinCandidates || settings.candidates > kMaxCandidates)
        throw InputError("the number of candidates per prompt must be " +
                         std::to_string(kMinCandidates) + " to " + std::to_string(kMaxCandidates) +
                         " (got " + std::to_string(settings.candidates) + ")");
    if (!(settings.diversity >= 0.0) || !std::isfinite(settings.diversity))
        throw InputError("the diversity weight must be a number >= 0 (got " +
                         std::to_string(settings.diversity) + ")");
    if (!(settings.beta > 0.0) || !std::isfinite(settings.beta))
        throw InputError("the selection's beta must be a number > 0 (got " +
                         std::to_string(settings.beta) + ")");
}

PairSelectionSettings pairSelectionSettings(const StudyStore &store)
{
    PairSelectionSettings settings;
    const QString rule = store.meta(kRuleKey);
    if (!rule.isEmpty()) {
        try {
            settings.rule = parsePairRule(rule.toStdString());
        } catch (const InputError &error) {
            badMeta(store, kRuleKey, error.what());
        }
    }
    settings.candidates = static_cast<int>(numberFromMeta(store, kCandidatesKey, 2));
    settings.diversity = numberFromMeta(store, kDiversityKey, 0.0);
    settings.beta = numberFromMeta(store, kBetaKey, 0.1);
    try {
        validate(settings);
    } catch (const InputError &error) {
        badMeta(store, kRuleKey, error.what());
    }
    return settings;
}

void setPairSelectionSettings(StudyStore &store, const PairSelectionSettings &settings)
{
    validate(settings);
    store.runInTransaction([&] {
        store.setMeta(kRuleKey, QString::fromUtf8(pairRuleName(settings.rule)));
        store.setMeta(kCandidatesKey, QString::number(settings.candidates));
        store.setMeta(kDiversityKey, QString::number(settings.diversity));
        store.setMeta(kBetaKey, QString::number(settings.beta));
    });
}

QString describe(const PairSelectionSettings &settings)
{
    QString text;
    switch (settings.rule) {
    case PairRule::Margin:
        text = QStringLiteral("smallest reward margin of %1 candidates (beta %2)")
                   .arg(settings.candidates)
                   .arg(settings.beta);
        break;
    case PairRule::Ensemble:
        text = QStringLiteral("largest reward-ensemble disagreement of %1 candidates")
                   .arg(settings.candidates);
        break;
    case PairRule::Random:
        text = QStringLiteral("random pair of %1 candidates").arg(settings.candidates);
        break;
    }
    if (settings.diversity > 0)
        text += QStringLiteral(", diversity %1").arg(settings.diversity);
    return text;
}

std::filesystem::path roundEnsembleDir(const StudyStore &store)
{
    const RoundStatus status = roundStatus(store);
    if (!status.info)
        return {};
    const QString roundDir = QFileInfo(status.info->runDir).absolutePath();
    return QDir(roundDir).filePath(QStringLiteral("ensemble")).toStdString();
}

SelectedPair generateSelectedPair(ModelBundle &bundle, const std::vector<PairRequest> &pool,
                                  const PairSelectionSettings &settings, SelectionState &state,
                                  const ProgressFn &progress)
{
    validate(settings);
    if (settings.rule == PairRule::Ensemble && !state.ensembleDir.empty() &&
        (!state.ensemble || state.ensemble->directory() != state.ensembleDir))
        state.ensemble = std::make_shared<RewardEnsemble>(state.ensembleDir, bundle.directory(),
                                                          bundle.device());
    T5CandidateScorer scorer(bundle, settings.beta, state.ensemble.get());
    return generateSelectedPair(bundle, scorer, pool, settings, state, progress);
}

SelectedPair generateSelectedPair(ModelBundle &bundle, CandidateScorer &scorer,
                                  const std::vector<PairRequest> &pool,
                                  const PairSelectionSettings &settings, SelectionState &state,
                                  const ProgressFn &progress)
{
    validate(settings);
    if (pool.empty())
        throw InputError("no prompt to make a pair of");
    const bool scored = settings.rule == PairRule::Margin;
    // Round 0 of the ensemble rule: no labels, no ensemble; a random pair of the candidates.
    const bool ensemble = settings.rule == PairRule::Ensemble && !state.ensembleDir.empty();
    const PairRule effectiveRule =
        settings.rule == PairRule::Ensemble && !ensemble ? PairRule::Random : settings.rule;
    const bool diverse = settings.diversity > 0.0;
    std::vector<std::vector<MotionSample>> candidates;
    std::vector<CandidatePool> pools;
    for (const PairRequest &request : pool) {
        candidates.push_back(generateCandidates(bundle, request, settings.candidates, progress));
        CandidatePool candidatePool;
        candidatePool.size = candidates.back().size();
        const std::string prompt = request.prompt.toStdString();
        if (scored) {
            std::vector<std::vector<std::int64_t>> codes;
            for (const MotionSample &sample : candidates.back())
                codes.push_back(sample.codes);
            candidatePool.rewards = scorer.implicitRewards(prompt, codes);
        }
        if (ensemble) {
            std::vector<std::vector<std::int64_t>> codes;
            for (const MotionSample &sample : candidates.back())
                codes.push_back(sample.codes);
            candidatePool.memberRewards = scorer.memberRewards(prompt, codes);
        }
        if (diverse)
            candidatePool.embedding = scorer.promptEmbedding(prompt);
        pools.push_back(std::move(candidatePool));
    }
    const PairPick pick =
        pickPair(pools, state.chosenEmbeddings,
                 {.rule = effectiveRule, .diversity = settings.diversity}, state.rng);
    const auto &chosen = candidates[pick.pool];
    SelectedPair result;
    result.poolIndex = pick.pool;
    result.pair = pairOfCandidates(pool[pick.pool], chosen[pick.first], chosen[pick.second],
                                   bundle.config().fps);
    result.pair.selection = PairSelectionRecord{
        .rule = settings.rule,
        .candidates = settings.candidates,
        .diversity = settings.diversity,
        .beta = scored ? std::optional<double>(settings.beta) : std::nullopt,
        .margin = pick.margin,
        .score = pick.score,
        .similarity = diverse ? std::optional<double>(pick.similarity) : std::nullopt,
    };
    if (diverse)
        state.chosenEmbeddings.push_back(pools[pick.pool].embedding);
    return result;
}

} // namespace mp
