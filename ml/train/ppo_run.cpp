// TEMPORARY until the RM/PPO loops land (not committed)
#include "ml/core/error.h"
#include "ml/train/run_context.h"
namespace mp {
RunOutcome runRewardModel(RunContext &)
{
    throw InputError("method rm: not available yet");
}
RunOutcome runPpo(RunContext &)
{
    throw InputError("method ppo/rlhf: not available yet");
}
} // namespace mp
