// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#pragma push_macro("slots")
#undef slots
#include "ml/core/error.h"
#include "ml/simulate/corpus_intents.h"
#include <torch/torch.h>
#pragma pop_macro("slots")

#include "app/compare/compare_model.h"
#include "app/compare/simulated_ab.h"

#include <QDir>
#include <QHash>

#include <algorithm>
#include <cmath>

namespace mp {

namespace {
// Captions drawn per caption wanted, so that repeats can be replaced.
constexpr int kDrawsPerPrompt = 2;

at::Tensor jointsOf(const MotionClip &clip)
{
    return torch::from_blob(const_cast<float *>(clip.positions.data()),
                            {clip.numFrames, clip.numJoints, 3}, torch::kFloat32)
        .clone();
}
} // namespace

struct SimulatedAbRater::Data {
    std::vector<CorpusPrompt> prompts;
    QHash<QString, std::size_t> byCaption;
    SimulatedLabeler labeler;
};

SimulatedAbRater::SimulatedAbRater(const QString &corpusDir, const QString &split, int count,
                                   std::uint64_t seed, const LabelerOptions &labeler,
                                   double poseWeight)
{
    if (count < 1)
        throw InputError("the number of prompts must be positive");
    auto drawn = drawCorpusPrompts(corpusDir.toStdString(), split.toStdString(),
                                   static_cast<std::int64_t>(count) * kDrawsPerPrompt, seed,
                                   {.poseWeight = poseWeight});
    m_data = std::make_unique<Data>(Data{{}, {}, SimulatedLabeler(labeler)});
    for (auto &prompt : drawn) {
        if (static_cast<int>(m_data->prompts.size()) == count)
            break;
        const QString caption = QString::fromStdString(prompt.caption);
        if (m_data->byCaption.contains(caption))
            continue;
        m_data->byCaption.insert(caption, m_data->prompts.size());
        m_data->prompts.push_back(std::move(prompt));
    }
    if (static_cast<int>(m_data->prompts.size()) < count)
        throw InputError(QDir(corpusDir).filePath(QStringLiteral("manifest.json")).toStdString() +
                         ": split '" + split.toStdString() + "' gave " +
                         std::to_string(m_data->prompts.size()) + " distinct captions in " +
                         std::to_string(drawn.size()) + " draws, fewer than the " +
                         std::to_string(count) + " prompts asked for");
}

SimulatedAbRater::~SimulatedAbRater() = default;

QStringList SimulatedAbRater::prompts() const
{
    QStringList out;
    for (const auto &prompt : m_data->prompts)
        out << QString::fromStdString(prompt.caption);
    return out;
}

AbAnswer SimulatedAbRater::rate(const AbScreen &screen) const
{
    const auto found = m_data->byCaption.constFind(screen.prompt);
    if (found == m_data->byCaption.constEnd())
        throw InputError("simulated A/B rater: no intent for the prompt '" +
                         screen.prompt.toStdString() + "' (not among the corpus captions drawn)");
    const CorpusPrompt &prompt = m_data->prompts[*found];
    const SimulatedLabel label = m_data->labeler.label(
        prompt.intent, describeForPrompt(prompt, jointsOf(screen.left.clip), screen.left.clip.fps),
        describeForPrompt(prompt, jointsOf(screen.right.clip), screen.right.clip.fps),
        static_cast<std::uint64_t>(screen.trialIndex));
    if (label.skipped || label.degree == PreferenceDegree::Unsure)
        return AbAnswer::Tie;
    return label.choice == 0 ? AbAnswer::Left : AbAnswer::Right;
}

void rateAbSession(AbSession &session, ModelCache &models, const AbRater &rater,
                   const ProgressFn &progress)
{
    const auto modelA = models.get(session.modelA());
    const auto modelB = models.get(session.modelB());
    const int total = session.size();
    for (int index = 0; index < total; ++index) {
        const AbTrial &trial = session.trial(index);
        if (!trial.answered()) {
            const GeneratedMotion a = modelA->generate(trial.prompt, trial.seed, trial.temperature);
            const GeneratedMotion b = modelB->generate(trial.prompt, trial.seed, trial.temperature);
            const AbScreen screen{.trialIndex = index,
                                  .prompt = trial.prompt,
                                  .temperature = trial.temperature,
                                  .left = trial.aOnLeft ? a : b,
                                  .right = trial.aOnLeft ? b : a};
            session.answer(index, rater(screen));
        }
        reportProgress(progress, index + 1, total, "rate");
    }
}

AbSession runSimulatedAb(const AbModelRef &modelA, const AbModelRef &modelB,
                         const SimulatedAbOptions &options, const ProgressFn &progress)
{
    if (options.corpusDir.isEmpty())
        throw InputError("a corpus directory is required (the prompts and what they ask for)");
    const SimulatedAbRater rater(options.corpusDir, options.split, options.prompts, options.seed,
                                 options.labeler, options.poseWeight);
    AbSessionOptions sessionOptions;
    sessionOptions.prompts = rater.prompts();
    sessionOptions.temperatures = options.temperatures;
    sessionOptions.seed = options.seed;
    AbSession session = AbSession::create(modelA, modelB, sessionOptions);
    session.setPromptSource(QStringLiteral("%1, split %2: %3 distinct captions (seed %4)")
                                .arg(QDir::cleanPath(options.corpusDir), options.split)
                                .arg(sessionOptions.prompts.size())
                                .arg(options.seed));
    session.setRater(simulatedRaterName(options.labeler, options.poseWeight));
    // The two models and nothing else: a third would only be loaded to be dropped.
    ModelCache models(options.device, 2);
    rateAbSession(session, models, rater.asRater(), progress);
    return session;
}

QString simulatedRaterName(const LabelerOptions &labeler, double poseWeight)
{
    return QStringLiteral("the simulated labeler (kinematics + pose error against the caption's "
                          "clip, pose weight %1; noise %2, seed %3)")
        .arg(poseWeight)
        .arg(labeler.noiseStd)
        .arg(labeler.seed);
}

} // namespace mp
