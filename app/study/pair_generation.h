#pragma once
// Making a labeling pair: two samples of one prompt from one model bundle, then the prompt,
// model, samples and pair in the study. The Label panel, the Compare panel and
// `motionpref-cli study simulate` all go through here.
//
// Two steps, so the slow one can leave the GUI thread:
//   generatePair()  runs the model (both seeds in one batched generate call). Touches no store;
//                   callable from any thread, one call at a time per bundle (ModelBundle is not
//                   reentrant: give each thread its own bundle).
//   storePair()     writes the result in one transaction, on the store's thread.
// MotionSample holds tensors: include ml/models/bundle.h to read GeneratedPair::samples.

#include "app/study/study_types.h"
#include "ml/core/progress.h"
#include "ml/motion/motion_clip.h"

#include <QByteArray>
#include <QString>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace mp {

class ModelBundle;
class StudyStore;
struct MotionSample;

// Sampling of both samples of a pair; defaults follow the bundle's generation defaults.
struct PairSampling {
    double temperature = 1.0;         // 0: greedy
    int topK = 50;                    // 0: off
    double topP = 1.0;                // 1: off
    std::int64_t maxMotionTokens = 0; // 0: the bundle's default
    bool int8Weights = false;         // GenerateOptions::int8Weights
};

struct PairRequest {
    QString prompt;
    PromptSource source = PromptSource::Typed;
    std::array<std::uint64_t, 2> seeds = {0, 1}; // sample_1, sample_2
    PairSampling sampling;
    std::optional<qint64> promptId; // a prompt row of the study to reuse (else one is added)
};

// Identifies the bundle in the study (StudyStore::addModel); hashing a bundle reads all of its
// files, so do it once per bundle, off the GUI thread.
struct ModelIdentity {
    QString name;
    QString path;
    QString contentHash;
    // The LoRA adapter on top of the bundle (an online round's), if any: part of the identity
    // of every sample it makes (StudyStore::addAdapter, samples.adapter_id).
    QString adapterName;
    QString adapterPath;
    QString adapterHash; // empty: the base model alone
    static ModelIdentity ofDirectory(const QString &bundleDir);
};

struct GeneratedPair {
    GeneratedPair();
    GeneratedPair(const GeneratedPair &); // tensors are shared, not deep-copied
    GeneratedPair &operator=(const GeneratedPair &);
    GeneratedPair(GeneratedPair &&) noexcept;
    GeneratedPair &operator=(GeneratedPair &&) noexcept;
    ~GeneratedPair();

    PairRequest request;
    std::vector<MotionSample> samples;     // two: sample_1, sample_2 (seed order)
    std::array<MotionClip, 2> clips;       // joints for the viewer; empty without joints
    std::array<QByteArray, 2> featuresNpy; // denormalised features, float32 .npy
    double fps = 20.0;
    // How the pair was chosen among the prompt's candidates (active_pairs.h); stored with it.
    // generatePair: random of 2. pairId is filled in by storePair.
    std::optional<PairSelectionRecord> selection;
};

// Throws InputError for a blank prompt or bad sampling values (names the value).
GeneratedPair generatePair(ModelBundle &bundle, const PairRequest &request,
                           const ProgressFn &progress = {});

// `count` (>= 2) samples of request.prompt in one batch: seeds request.seeds[0], [1], then
// request.seeds[0] + 7919·i. Same checks as generatePair.
std::vector<MotionSample> generateCandidates(ModelBundle &bundle, const PairRequest &request,
                                             int count, const ProgressFn &progress = {});
// The pair of two candidates (features as .npy, clips for the viewer), request.seeds set to
// theirs; no selection record.
GeneratedPair pairOfCandidates(const PairRequest &request, const MotionSample &first,
                               const MotionSample &second, double fps);

struct StoredPair {
    qint64 pairId = 0;
    qint64 promptId = 0;
    qint64 modelId = 0;
    std::array<qint64, 2> sampleIds = {0, 0};
    int leftSample = 1;
};

// One transaction: the prompt (request.promptId if set, else a new row), the model and its
// adapter if any (idempotent by content hash), both samples (codes as tokens, features as .npy
// bytes, seed, sampling) and the pair with leftSample (StudyStore::randomLeftSample() when not
// given), and the pair's selection record when it has one.
StoredPair storePair(StudyStore &store, const GeneratedPair &pair, const ModelIdentity &model,
                     std::optional<int> leftSample = std::nullopt);

struct PairResult {
    StoredPair stored;
    GeneratedPair generated;
};

// Both steps on the calling thread (the CLI).
PairResult generateAndStorePair(StudyStore &store, ModelBundle &bundle, const ModelIdentity &model,
                                const PairRequest &request, const ProgressFn &progress = {});

} // namespace mp
