// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include <optional>

#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/simulate/corpus_intents.h"
#include "ml/simulate/text_motion_judge.h"

#include "app/study/pair_generation.h"
#include "app/study/study_simulation.h"
#include "app/study/study_store.h"

#include <QElapsedTimer>

namespace mp {
namespace {

LabelInput labelInputOf(const SimulatedLabel &label)
{
    LabelInput input;
    if (label.skipped) {
        input.choice = Choice::Skipped;
        input.skipReason = SkipReason::Other;
        input.comment = QStringLiteral("simulated skip");
    } else if (label.degree == PreferenceDegree::Unsure) {
        input.choice = Choice::Unsure;
        input.degree = PreferenceDegree::Unsure;
    } else {
        input.choice = label.choice == 0 ? Choice::Sample1 : Choice::Sample2;
        input.degree = label.degree;
    }
    return input;
}

} // namespace

StudySimulationSummary simulateStudy(StudyStore &store, ModelBundle &bundle,
                                     const QString &bundleDir,
                                     const StudySimulationOptions &options,
                                     const ProgressFn &progress)
{
    if (options.pairs < 1)
        throw InputError("the number of pairs must be positive");
    if (options.corpusDir.isEmpty())
        throw InputError("a corpus directory is required (the prompts and what they ask for)");
    QElapsedTimer timer;
    timer.start();
    std::optional<TextMotionJudge> judge;
    if (!options.judgeDir.isEmpty())
        judge.emplace(options.judgeDir.toStdString());
    TextMotionJudge *judgePtr = judge ? &*judge : nullptr;
    const auto prompts = drawCorpusPrompts(
        options.corpusDir.toStdString(), options.split.toStdString(), options.pairs, options.seed,
        {.poseWeight = options.poseWeight, .judgeWeight = options.judgeWeight, .judge = judgePtr});
    const ModelIdentity model = ModelIdentity::ofDirectory(bundleDir);
    const SimulatedLabeler labeler(options.labeler);
    const double fps = bundle.config().fps;

    StudySimulationSummary summary;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        const auto &prompt = prompts[i];
        PairRequest request;
        request.prompt = QString::fromStdString(prompt.caption);
        request.source = PromptSource::Generated;
        // Two seeds per pair, distinct across pairs and simulations with other seeds.
        const std::uint64_t base = options.seed * 1000003ULL + 2 * i;
        request.seeds = {base, base + 1};
        request.sampling = {
            .temperature = options.temperature, .topK = options.topK, .topP = options.topP};
        const auto result = generateAndStorePair(store, bundle, model, request);
        const auto &samples = result.generated.samples;
        if (!samples[0].joints.defined() || !samples[1].joints.defined())
            throw InputError(bundleDir.toStdString() +
                             ": the model's features do not give joints (HumanML3D 263-d "
                             "features are needed to measure motions)");
        const auto label = labeler.label(
            prompt.intent,
            describeForPrompt(prompt, samples[0].joints, fps, samples[0].features, judgePtr),
            describeForPrompt(prompt, samples[1].joints, fps, samples[1].features, judgePtr),
            static_cast<std::uint64_t>(result.stored.pairId));
        const auto input = labelInputOf(label);
        store.addLabel(result.stored.pairId, options.labelerName, input);

        ++summary.pairs;
        if (input.choice == Choice::Skipped)
            ++summary.skipped;
        else if (input.choice == Choice::Unsure)
            ++summary.unsure;
        else {
            ++summary.byDegree[label.degree];
            const int chosenSample = input.choice == Choice::Sample1 ? 1 : 2;
            if (chosenSample == result.stored.leftSample)
                ++summary.leftChosen;
        }
        reportProgress(progress, static_cast<std::int64_t>(i + 1),
                       static_cast<std::int64_t>(prompts.size()), "simulate");
    }
    summary.seconds = static_cast<double>(timer.elapsed()) / 1000.0;
    return summary;
}

} // namespace mp
