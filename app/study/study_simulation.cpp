// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include <optional>

#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/simulate/corpus_intents.h"
#include "ml/simulate/text_motion_judge.h"

#include "app/study/active_pairs.h"
#include "app/study/pair_generation.h"
#include "app/study/study_rounds.h"
#include "app/study/study_simulation.h"
#include "app/study/study_store.h"

#include <QElapsedTimer>
#include <QFileInfo>

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
    ModelIdentity model = ModelIdentity::ofDirectory(bundleDir);
    // The study's online round: its pairs come from the base + the round's adapter.
    const RoundStatus round = roundStatus(store);
    if (round.adapter) {
        if (!loraLayers(*bundle.t5()).empty())
            throw InputError(bundleDir.toStdString() +
                             ": the model already carries an adapter; the study's round " +
                             std::to_string(round.round) + " needs the base model");
        loadLoraAdapter(*bundle.t5(), round.adapter->path.toStdString());
        bundle.t5()->eval();
        model.adapterName = QFileInfo(round.adapter->path).fileName();
        model.adapterPath = round.adapter->path;
        model.adapterHash = round.adapter->contentHash;
    }
    // The study's pair selection; with diversity, each pair's prompt is chosen among this one
    // and the kDiversityPool - 1 after it.
    const PairSelectionSettings selection = pairSelectionSettings(store);
    constexpr std::size_t kDiversityPool = 4;
    SelectionState selectionState;
    selectionState.rng.seed(options.seed);
    selectionState.ensembleDir = roundEnsembleDir(store);
    const SimulatedLabeler labeler(options.labeler);
    const double fps = bundle.config().fps;

    StudySimulationSummary summary;
    const auto requestOf = [&](std::size_t i) {
        PairRequest request;
        request.prompt = QString::fromStdString(prompts[i].caption);
        request.source = PromptSource::Generated;
        // Two seeds per pair, distinct across pairs and simulations with other seeds.
        const std::uint64_t base = options.seed * 1000003ULL + 2 * i;
        request.seeds = {base, base + 1};
        request.sampling = {
            .temperature = options.temperature, .topK = options.topK, .topP = options.topP};
        return request;
    };
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        PairResult result;
        std::size_t promptIndex = i;
        if (isPlain(selection)) {
            result.generated = generatePair(bundle, requestOf(i));
        } else {
            std::vector<std::size_t> indices = {i};
            for (std::size_t k = 1;
                 selection.diversity > 0 && k < kDiversityPool && k < prompts.size(); ++k)
                indices.push_back((i + k) % prompts.size());
            std::vector<PairRequest> pool;
            for (const std::size_t index : indices)
                pool.push_back(requestOf(index));
            SelectedPair selected = generateSelectedPair(bundle, pool, selection, selectionState);
            promptIndex = indices[selected.poolIndex];
            result.generated = std::move(selected.pair);
        }
        result.stored = storePair(store, result.generated, model);
        const auto &prompt = prompts[promptIndex];
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
