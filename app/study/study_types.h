#pragma once
// Plain value types of the study store: what a prompt, sample, pair and label look like to the
// panels, the importers and the statistics. No database types here.

#include "ml/train/pair_selection.h"
#include "ml/train/preference_degree.h"

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <optional>
#include <vector>

namespace mp {

enum class PromptSource { Typed, List, Generated, Imported };

// What the labeler decided, in the pair's own terms (never in screen terms: left/right is only
// how the pair was shown, see ShownChoice).
enum class Choice { Sample1, Sample2, Unsure, Skipped };

// What the labeler pressed. Mapped to a Choice through the pair's leftSample.
enum class ShownChoice { Left, Right, Unsure, Skip };

enum class SkipReason { None, BrokenMotion, PromptUnclear, BothBad, Identical, Other };

// What a pair is for (schema v3). Normal pairs are the study's data; gold and repeat pairs are
// checks of the labeler (a known answer; a pair labeled before, shown again with sides
// swapped) and never become training data or agreement items.
enum class PairKind { Normal, Gold, Repeat };

// Why a skip (a "both bad" included): one or more tags, chosen with keys in the Label panel.
enum class ReasonTag {
    WrongAction,
    WrongCountOrDirection,
    Jitter,
    FootSkating,
    PhysicallyImpossible,
    TooShort
};
inline constexpr int kNumReasonTags = 6;

QString promptSourceName(PromptSource source);
std::optional<PromptSource> promptSourceFromName(const QString &name);
QString choiceName(Choice choice); // "sample_1", "sample_2", "unsure", "skipped" (paper form)
std::optional<Choice> choiceFromName(const QString &name);
// ml/train/preference_degree.h's paper form and parser, as QString.
QString degreeName(PreferenceDegree degree); // "Much better" ... "Negligibly better/unsure"
std::optional<PreferenceDegree> degreeFromName(const QString &name); // also "much", "3", ...
QString skipReasonName(SkipReason reason); // "broken_motion", ...; "" for None
std::optional<SkipReason> skipReasonFromName(const QString &name);
QString pairKindName(PairKind kind); // "normal", "gold", "repeat"
std::optional<PairKind> pairKindFromName(const QString &name);
// Stored and exported names ("wrong_action", "wrong_count_direction", "jitter", "foot_skating",
// "physically_impossible", "too_short") and the words the Label panel shows.
QString reasonTagName(ReasonTag tag);
QString reasonTagTitle(ReasonTag tag); // "Wrong action", ...
std::optional<ReasonTag> reasonTagFromName(const QString &name);
std::vector<ReasonTag> allReasonTags(); // in the order above

// leftSample is 1 or 2: which sample the pair shows on the left.
Choice choiceFromShown(ShownChoice shown, int leftSample);
// Signed preference for sample_1 on the ordinal scale -3..+3 (sample_2 "Much better" = -3,
// unsure or negligible = 0); nullopt for a skip. Agreement and margins use this scale.
std::optional<int> signedPreference(Choice choice, std::optional<PreferenceDegree> degree);

struct PromptInfo {
    qint64 id = 0;
    QString text;
    PromptSource source = PromptSource::Typed;
    qint64 createdAtMs = 0;
};

struct ModelInfo {
    qint64 id = 0;
    QString name;
    QString path;
    QString contentHash; // hex SHA-256 of the bundle's files (StudyStore::contentHash)
};

struct SampleInfo {
    qint64 id = 0;
    qint64 promptId = 0;
    std::optional<qint64> modelId;
    std::optional<qint64> adapterId;
    qint64 seed = 0;
    double temperature = 1.0;
    int topK = 0;      // 0: no top-k cut
    double topP = 1.0; // 1: no nucleus cut
    // VQ codes 0..511 without start/end tokens: with the model they reproduce the features
    // exactly (VQ decoding is deterministic).
    std::vector<int> tokens;
    QString featuresPath; // decoded 263-d features on disk, if any
    QByteArray features;  // or the features themselves (float32 .npy bytes), if stored
    QString origin;       // the paper's "from" ("motionGPT"); the generator otherwise
    qint64 createdAtMs = 0;
};

struct PairInfo {
    qint64 id = 0;
    qint64 promptId = 0;
    QString promptText;
    qint64 sample1Id = 0;
    qint64 sample2Id = 0;
    int leftSample = 1; // 1 or 2: the sample shown on the left
    QString externalId; // the record id of an imported dataset, if any
    QString assignedTo; // empty when nobody holds it
    qint64 assignedAtMs = 0;
    qint64 createdAtMs = 0;
    PairKind kind = PairKind::Normal;
    std::optional<qint64> goldExpected; // gold: the sample that should be chosen
    std::optional<qint64> repeatsPair;  // repeat: the pair shown again (sides swapped)
};

struct LabelInput {
    Choice choice = Choice::Skipped;
    std::optional<PreferenceDegree> degree;   // required for Sample1/Sample2; Negligible for Unsure
    SkipReason skipReason = SkipReason::None; // required (not None) for Skipped
    QString comment;
    qint64 timeOnTaskMs = 0;
    std::vector<ReasonTag> tags;     // skips only (a "both bad" is a skip)
    std::optional<bool> watchedBoth; // both motions played to the end before the vote
};

struct LabelRecord {
    qint64 id = 0;
    qint64 pairId = 0;
    QString labeler;
    std::optional<Choice> choice; // empty on a retraction row
    std::optional<PreferenceDegree> degree;
    SkipReason skipReason = SkipReason::None;
    QString comment;
    qint64 timeOnTaskMs = 0;
    qint64 createdAtMs = 0;
    std::optional<qint64> supersedes; // the label this row replaces or retracts
    bool retracted = false;           // an undo: the superseded label no longer counts
    std::vector<ReasonTag> tags;      // of a skip, in tag order
    std::optional<bool> watchedBoth;  // empty: not recorded (imported, before schema v3)
};

// How a pair was chosen (schema v4; rule ensemble from v5; issue 21): ml/train/pair_selection.h.
// Imported pairs have none.
struct PairSelectionRecord {
    qint64 pairId = 0;
    PairRule rule = PairRule::Random;
    int candidates = 2;               // K samples drawn for the prompt
    double diversity = 0.0;           // weight of the prompt-similarity penalty
    std::optional<double> beta;       // of the implicit rewards, when they were computed
    std::optional<double> margin;     // r(sample_1) − r(sample_2), when computed
    std::optional<double> score;      // the rule's value (higher teaches more), when it has one
    std::optional<double> similarity; // to the prompts chosen before, with diversity
    qint64 createdAtMs = 0;
};

// A round of an online study (schema v4): from round >= 1 on, pairs are sampled from the base
// model plus this round's adapter, trained on the labels stored before its training started.
// Round 0 (no row) samples from the base model.
struct RoundInfo {
    int round = 0;
    qint64 adapterId = 0;
    int trainedLabels = 0;                     // current labels the adapter was trained on
    std::optional<qint64> trainedThroughLabel; // the highest label row id among them
    QString runDir;
    qint64 trainingStartedAtMs = 0;
    qint64 createdAtMs = 0; // when the round began (its adapter was ready)
};

struct StudyCounts {
    qint64 prompts = 0;
    qint64 samples = 0;
    qint64 pairs = 0;
    qint64 labeledPairs = 0; // pairs with a current label (skips included)
    qint64 skippedPairs = 0; // pairs whose current label is a skip
    qint64 labelRows = 0;    // every row of the append-only log
    qint64 labelers = 0;
};

} // namespace mp
