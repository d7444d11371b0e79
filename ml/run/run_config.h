#pragma once
// run.json: everything `motionpref-cli train --config run.json --out RUN_DIR` needs, with a
// default for every key. Defaults follow the paper's launch scripts for the chosen method (spec
// paper-and-motiongpt.md §1.4-1.6) and TRL's PPOConfig (preference-learning.md §4.1) where the
// scripts say nothing. Unknown keys and bad values are InputErrors naming the file and the key.
// The run directory's config.json is toJson() of the parsed config, so it reproduces the run.
//
// The top-level optimisation keys (optimizer, schedule, batch_size, epochs, ...) drive the DPO
// phase or the reward-model phase; PPO has its own in "ppo" (rlhf runs both: the reward model,
// then PPO against it).

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ml/train/dpo_loss.h"
#include "ml/train/ppo_math.h"
#include "ml/train/preference_degree.h"
#include "ml/train/schedule.h"

namespace mp {

// A number's accepted range in run.json. The parser enforces it and the Train form offers it, so
// the two cannot disagree; an infinite bound is no bound.
struct NumberBounds {
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
    bool minExclusive = false;
    bool maxExclusive = false;
    bool contains(double value) const
    {
        return (minExclusive ? value > min : value >= min) &&
               (maxExclusive ? value < max : value <= max);
    }
};
inline constexpr NumberBounds kPositive{.min = 0, .minExclusive = true};
inline constexpr NumberBounds kNonNegative{.min = 0};
inline constexpr NumberBounds kUnitOpen{.min = 0, .max = 1, .maxExclusive = true};
inline constexpr NumberBounds kUnitClosed{.min = 0, .max = 1};
inline constexpr NumberBounds kUnitLeftOpen{.min = 0, .max = 1, .minExclusive = true};
inline constexpr NumberBounds kLabelSmoothingBounds{.min = 0, .max = 0.5, .maxExclusive = true};
// The keys the Train form offers.
inline constexpr NumberBounds kDpoBetaBounds = kPositive;
inline constexpr NumberBounds kRpoAlphaBounds = kNonNegative;
inline constexpr NumberBounds kLoraAlphaBounds = kPositive;
inline constexpr NumberBounds kLoraDropoutBounds = kUnitOpen;
inline constexpr NumberBounds kLearningRateBounds = kPositive;
inline constexpr std::int64_t kMinLoraRank = 1;
inline constexpr std::int64_t kMinBatchSize = 1;
inline constexpr std::int64_t kMinEpochs = 1;
inline constexpr std::int64_t kMinWarmupSteps = 0;
// "[0, 1)", "> 0", ">= 0": how an error message states the bounds.
std::string boundsText(const NumberBounds &bounds);

enum class TrainMethod { Dpo, Rm, Ppo, Rlhf };
std::string_view trainMethodName(TrainMethod method);

enum class LabelSmoothingMode {
    None,      // ε = 0
    Scalar,    // dpo.label_smoothing for every pair
    PerDegree, // the paper's per-degree ε: Much better 0, Better 0.2, Slightly 0.3, unsure 0.5
};
std::string_view labelSmoothingModeName(LabelSmoothingMode mode);

enum class BestMode { Max, Min };

struct LoraSettings {
    bool enabled = true;
    std::int64_t r = 8;
    double alpha = 16.0;
    double dropout = 0.05;
    std::vector<std::string> targets = {"q", "v"};
    bool operator==(const LoraSettings &) const = default;
};

struct DpoSettings {
    DpoLossType loss = DpoLossType::Ipo; // the paper's dpo_train.sh
    double beta = 0.1;
    LabelSmoothingMode labelSmoothingMode = LabelSmoothingMode::None;
    double labelSmoothing = 0.0; // for mode "scalar"
    bool referenceFree = false;
    double rpoAlpha = 0.0; // weight of the chosen NLL added to the loss (RPO); 0: plain DPO
    // The reference's log-probs of every pair computed once before training (TRL's
    // precompute_ref_log_probs) instead of a reference forward in every step: the reference is
    // frozen, so they are the same up to float rounding (batches of 64 instead of the step's).
    bool precomputeRefLogps = true;
    bool disableDropout = true; // TRL zeroes every dropout, the LoRA one included
    std::int64_t maxPromptLength = 128;
    std::int64_t maxTargetLength = 128;
    bool operator==(const DpoSettings &) const = default;
};

struct RmSettings {
    MarginScale margin = MarginScale::Big;
    bool useUnsure = true; // unsure pairs trained with label 0.5
    double neftuneAlpha = 0.1;
    std::int64_t maxLength = 256;
    bool operator==(const RmSettings &) const = default;
};

struct PpoSettings {
    std::string rewardModel; // RM run directory (method ppo); rlhf uses its own RM phase
    double learningRate = 1e-5;
    OptimizerKind optimizer = OptimizerKind::Adam;
    std::int64_t batchSize = 8;
    std::int64_t miniBatchSize = 8;
    std::int64_t gradAccum = 1;
    std::int64_t ppoEpochs = 4;
    std::int64_t epochs = 20;
    std::optional<double> maxGradNorm; // none
    bool adapKlCtrl = true;
    double initKlCoef = 0.2;
    KlPenalty klPenalty = KlPenalty::Kl;
    double target = 6.0;
    double horizon = 10000.0;
    double gamma = 1.0;
    double lam = 0.95;
    double cliprange = 0.2;
    double cliprangeValue = 0.2;
    double vfCoef = 0.1;
    double ratioThreshold = 10.0;
    bool earlyStopping = false;
    double targetKl = 1.0;
    bool useScoreScaling = true;
    bool useScoreNorm = true;
    std::optional<double> scoreClip;
    bool whitenRewards = false;
    // The value function: the paper's separate critic (a T5 from the reward model, zero value
    // head), its shared-backbone value head (dropout valueHeadDropout), or none (values 0).
    // "separate_critic": true / false in older configs reads as separate / none.
    PpoCritic critic = PpoCritic::Separate;
    double valueHeadDropout = 0.1;
    std::int64_t maxNewTokens = 60;
    double temperature = 1.0;
    std::int64_t topK = 0; // 0 = no top-k
    double topP = 1.0;
    bool operator==(const PpoSettings &) const = default;
};

// Where a DPO run's pairs come from: the labeled pairs file, or built during the run
// (ml/run/semi_online.h).
enum class DataSource { Labeled, SemiOnline };
std::string_view dataSourceName(DataSource source);
// K, the policy samples per caption a semi-online refresh scores (as the study's pair selection).
inline constexpr std::int64_t kMinSemiOnlineCandidates = 2;
inline constexpr std::int64_t kMaxSemiOnlineCandidates = 8;

struct DataSettings {
    DataSource source = DataSource::Labeled;
    std::string pairs; // preference pairs file (required to train labeled pairs)
    std::vector<PreferenceDegree> degrees = {PreferenceDegree::MuchBetter, PreferenceDegree::Better,
                                             PreferenceDegree::SlightlyBetter,
                                             PreferenceDegree::Unsure};
    double percent = 1.0; // fraction of the selected pairs used, in (0, 1]
    std::string trainIds; // id list files; empty: a seeded split is made and saved in the run dir
    std::string evalIds;
    double evalFraction = 0.1;
    // Semi-online (source semi_online, method dpo): for each caption of the corpus split the
    // chosen motion is the caption's own clip (VQ codes of the bundle's VQ-VAE), the rejected one
    // the lowest-scored of `candidates` samples of the current policy, scored by the simulated
    // labeler's kinematic and pose-error match against the clip; rebuilt at each epoch's start.
    std::string corpus;                // a corpus made by `corpus build` (manifest.json)
    std::string corpusSplit = "train"; // its split the captions come from
    std::int64_t candidates = 4;
    std::int64_t prompts = 0; // captions per refresh; 0: one per clip of the split
    double poseWeight = 15.0; // the pose error's weight (15: half of the match score)
    bool operator==(const DataSettings &) const = default;
};

struct EvalSettings {
    std::int64_t logEverySteps = 10;
    std::int64_t evalEverySteps = 0; // 0: at each epoch end
    std::string bestMetric = "eval_rewards/accuracies";
    BestMode bestMode = BestMode::Max;
    // HumanML3D metrics (R-precision, FID, ...) of the policy every motionEveryEpochs epochs and
    // at the end, as motion_metrics events; best_metric may name one as "motion/FID".
    bool motionMetrics = false;
    std::int64_t motionEveryEpochs = 5;
    std::int64_t replications = 3;
    std::string motionDataset;         // HumanML3D layout (required with motionMetrics)
    std::string motionSplit = "val";   // the test split stays untouched for reporting
    std::int64_t motionMaxClips = 320; // 0: the whole split; a full split is slow per epoch
    double motionTemperature = 1.0;    // <= 0: greedy
    std::string motionEvaluator;       // empty: MODEL/evaluator, else the default bundle's
    std::int64_t motionMmTexts = 0;    // MultiModality texts (0: skipped; 30 samples each)
    bool operator==(const EvalSettings &) const = default;
};

struct CheckpointSettings {
    std::int64_t everySteps = 0; // 0: at each epoch end
    std::int64_t keepLast = 2;
    bool operator==(const CheckpointSettings &) const = default;
};

struct MonitorSettings {
    std::int64_t spikeWindow = 50;
    std::int64_t spikeMinHistory = 20;
    double spikeThreshold = 6.0;
    double maxKl = 100.0;
    bool operator==(const MonitorSettings &) const = default;
};

struct RunConfig {
    TrainMethod method = TrainMethod::Dpo;
    std::string model; // model bundle directory; empty = the embedded default
    std::string device = "auto";
    std::int64_t seed = 2222;
    std::int64_t epochs = 20;
    std::int64_t batchSize = 64;
    std::int64_t gradAccum = 1;
    std::optional<double> maxGradNorm = 1.0;
    OptimizerSettings optimizer{.kind = OptimizerKind::AdamW, .lr = 1e-3};
    ScheduleKind schedule = ScheduleKind::Cosine;
    std::int64_t warmupSteps = 150;
    LoraSettings lora;
    DpoSettings dpo;
    RmSettings rm;
    PpoSettings ppo;
    DataSettings data;
    EvalSettings eval;
    CheckpointSettings checkpoint;
    MonitorSettings monitor;
    bool operator==(const RunConfig &) const = default;
};

// The paper's settings for a method (DPO: AdamW 1e-3 cosine warmup 150 batch 64 seed 2222;
// RM: AdamW 2e-4 linear batch 32 seed 42, best by eval_accuracy; PPO/RLHF: seed 42).
RunConfig defaultRunConfig(TrainMethod method);

// The metrics eval.best_metric may name with the "motion/" prefix.
const std::vector<std::string> &motionMetricNames();
// Group size of the HumanML3D protocol: R-precision ranks each motion among 32.
constexpr std::int64_t kMotionGroupSize = 32;

// Parses run.json text; `source` names the file in errors ("run.json: key 'dpo.beta': ...").
RunConfig parseRunConfig(std::string_view jsonText, const std::string &source = "run.json");
RunConfig loadRunConfig(const std::filesystem::path &path);
// Every key, defaults included, pretty-printed.
std::string runConfigToJson(const RunConfig &config);
// Writes runConfigToJson to path (write-then-rename). InputError when it cannot.
void saveRunConfig(const RunConfig &config, const std::filesystem::path &path);

} // namespace mp
