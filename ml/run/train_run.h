#pragma once
// `motionpref-cli train --config run.json --out RUN_DIR`: one training run of any method, in its
// run directory (DESIGN.md):
//   config.json        the parsed config with every default, which reproduces the run
//   train_ids.txt      the pair ids trained on and evaluated on (explicit lists, spec §1.2)
//   eval_ids.txt
//   events.jsonl       step / eval / checkpoint / spike / warning / done / failed events
//   checkpoints/step-N model, optimizer, scheduler and RNG state; the newest keepLast are kept
//   best/              the adapter (PEFT layout) of the best evaluation, with best.json
//   adapter/           the final adapter (PEFT layout)
// Full fine-tuning (lora.enabled false, method dpo, one process) trains every T5 weight against
// a frozen copy of the base: best/ is then a complete model bundle (with best.json and
// fine_tuning.json), the final one is model/ instead of adapter/, and checkpoints hold all the
// weights with their optimizer state.
// A stop request is honoured at the next step boundary with a checkpoint; `resume` continues
// from the newest checkpoint exactly as the uninterrupted run would have, with any number of
// data-parallel ranks (the global batch, and so the result, does not depend on it).

#include <atomic>
#include <filesystem>
#include <string>

#include "ml/core/distributed.h"
#include "ml/core/progress.h"

namespace mp {

struct RunConfig;

struct TrainRunOptions {
    std::filesystem::path runDir;
    bool resume = false;
    // Set (e.g. by a SIGTERM handler) to stop at the next step boundary.
    const std::atomic<bool> *stopRequested = nullptr;
    ProgressFn progress; // optimizer steps done of the run's total
    // Data parallelism (ml/core/distributed.h): this process's rank in the job; world size 1 is
    // a plain run. Every rank runs the same loop on its shard of each batch; rank 0 alone writes
    // the run directory, which must be one path all ranks see.
    RankEnvironment ranks;
    DistributedOptions distributed;
};

enum class RunOutcome { Finished, Stopped, Failed };

// Where the final model goes in the run directory: "adapter" (LoRA) or "model" (a bundle, full
// fine-tuning).
std::string finalModelDirectory(const RunConfig &config);

// Runs the config's method. Input problems (missing pairs file, bad ids, a run directory that
// holds another run) are InputErrors before anything is written to events.jsonl; a divergence
// during training ends with a "failed" event and RunOutcome::Failed.
RunOutcome runTraining(const RunConfig &config, const TrainRunOptions &options);

} // namespace mp
