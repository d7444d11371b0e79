"""PPO's math as TRL 0.8.6's PPOTrainer computes it (the paper's PPO; TRL 1.x rewrote PPO):
compute_rewards with each KL penalty kind (_kl_penalty: kl, abs, mse, full), compute_advantages
(GAE with masks, gamma/lam, whiten_rewards), core.masked_mean/masked_var/masked_whiten, the
clipped policy and value losses with their stats (loss), record_step_stats over mini-batch stats
stacked as step() stacks them, score scaling/normalisation/clipping with RunningMoments, and
AdaptiveKLController.update. The methods run on a PPOTrainer object made without __init__ that
carries the config attributes they read.

Writes golden/ppo/trl08.{safetensors,json}.
Run: tests/reference/.venv-trl08/bin/python tests/reference/ppo_trl08.py
"""

import types

import torch
import trl
from trl import PPOTrainer
from trl.core import masked_mean, masked_var, masked_whiten, stack_dicts, WANDB_PADDING
from trl.trainer.utils import AdaptiveKLController, FixedKLController, RunningMoments

from loss_inputs import Golden

assert trl.__version__ == "0.8.6", trl.__version__

B, L, V = 4, 7, 9


def stub_ppo(kl_coef=0.2, **config):
    """A PPOTrainer without __init__, with the PPOConfig fields compute_rewards,
    compute_advantages, loss and record_step_stats read (PPOConfig defaults unless given)."""
    trainer = object.__new__(PPOTrainer)
    defaults = dict(kl_penalty="kl", gamma=1.0, lam=0.95, whiten_rewards=False, cliprange=0.2,
                    cliprange_value=0.2, vf_coef=0.1, ratio_threshold=10.0)
    trainer.config = types.SimpleNamespace(**(defaults | config))
    trainer.kl_ctl = FixedKLController(kl_coef)
    return trainer


def make_inputs(golden):
    g = torch.Generator().manual_seed(21)
    f64 = dict(generator=g, dtype=torch.float64)
    ids = torch.randint(0, V, (B, L), generator=g)
    full = torch.log_softmax(2 * torch.randn(B, L, V, **f64), -1)
    ref_full = torch.log_softmax(full + 0.5 * torch.randn(B, L, V, **f64), -1)
    new_logits = 2 * torch.randn(B, L, V, **f64)
    gather = lambda lp: lp.gather(2, ids.unsqueeze(2)).squeeze(2)  # noqa: E731
    # Row lengths differ; row 1 starts late (a decoder-only prompt), row 3 skips t=0 as TRL's
    # encoder-decoder mask does.
    mask = torch.zeros(B, L, dtype=torch.long)
    mask[0, :] = 1
    mask[1, 2:6] = 1
    mask[2, :3] = 1
    mask[3, 1:6] = 1
    x = {
        "ids": ids,
        "full_logprobs": full,
        "full_ref_logprobs": ref_full,
        "logprobs": gather(full),
        "ref_logprobs": gather(ref_full),
        "new_logits": new_logits,
        "new_logprobs": gather(torch.log_softmax(new_logits, -1)),
        "values": torch.randn(B, L, **f64),
        "vpreds": torch.randn(B, L, **f64),
        "mask": mask,
        "scores": torch.randn(B, **f64),
    }
    for key, value in x.items():
        golden.tensor(f"inputs/{key}", value)
    return x


def reward_cases(golden, x):
    results = {}
    for penalty in ("kl", "abs", "mse", "full"):
        for kl_coef in (0.2, 0.05):
            trainer = stub_ppo(kl_coef, kl_penalty=penalty)
            if penalty == "full":
                lp, ref = x["full_logprobs"], x["full_ref_logprobs"]
            else:
                lp, ref = x["logprobs"], x["ref_logprobs"]
            rewards, non_score, kls = trainer.compute_rewards(x["scores"], lp, ref, x["mask"])
            name = f"rewards/{penalty}/coef{kl_coef}"
            golden.case({"name": name, "kind": "compute_rewards", "kl_penalty": penalty, "kl_coef": kl_coef,
                         "rewards": golden.tensor(f"{name}/rewards", rewards),
                         "non_score_rewards": golden.tensor(f"{name}/non_score_rewards", non_score),
                         "kls": golden.tensor(f"{name}/kls", kls),
                         "source": "trl 0.8.6 PPOTrainer.compute_rewards / _kl_penalty"})
            results[(penalty, kl_coef)] = (rewards, non_score, kls)
    return results


def advantage_cases(golden, x, rewards):
    mask = x["mask"].to(torch.float64)
    out = {}
    for gamma, lam in ((1.0, 0.95), (0.99, 0.9)):
        for whiten_rewards in (False, True):
            trainer = stub_ppo(gamma=gamma, lam=lam, whiten_rewards=whiten_rewards)
            values, advantages, returns = trainer.compute_advantages(x["values"], rewards, mask)
            name = f"advantages/gamma{gamma}/lam{lam}/whiten_rewards{whiten_rewards}"
            golden.case({"name": name, "kind": "compute_advantages", "gamma": gamma, "lam": lam,
                         "whiten_rewards": whiten_rewards,
                         "values": golden.tensor(f"{name}/values", values),
                         "advantages": golden.tensor(f"{name}/advantages", advantages),
                         "returns": golden.tensor(f"{name}/returns", returns),
                         "source": "trl 0.8.6 PPOTrainer.compute_advantages"})
            out[(gamma, lam, whiten_rewards)] = (values, advantages, returns)
    for shift_mean in (True, False):
        name = f"whiten/shift_mean{shift_mean}"
        golden.case({"name": name, "kind": "masked_whiten", "shift_mean": shift_mean,
                     "whitened": golden.tensor(name, masked_whiten(x["values"], mask, shift_mean=shift_mean)),
                     "masked_mean": float(masked_mean(x["values"], mask)),
                     "masked_var": float(masked_var(x["values"], mask)),
                     "masked_mean_axis1": golden.tensor(f"{name}/mean_axis1", masked_mean(x["values"], mask, axis=1)),
                     "source": "trl 0.8.6 core.masked_whiten / masked_mean / masked_var"})
    return out


def loss_stats(trainer, x, values, advantages, returns, rows):
    mask = x["mask"].to(torch.float64)[rows]
    pg_loss, vf_loss_scaled, stats = trainer.loss(
        x["logprobs"][rows], values[rows], x["new_logits"][rows], x["vpreds"][rows],
        x["new_logprobs"][rows], mask, advantages[rows], returns[rows])
    return pg_loss, vf_loss_scaled, stats


# The compute_advantages case whose values/advantages/returns the loss and step stats use.
LOSS_INPUTS = "advantages/gamma1.0/lam0.95/whiten_rewardsFalse"


def loss_cases(golden, x, values, advantages, returns):
    all_rows = slice(0, B)
    runs = [("clip0.2", dict()), ("clip0.1", dict(cliprange=0.1, cliprange_value=0.1, vf_coef=0.5)),
            ("ratio_threshold", dict(ratio_threshold=1.0))]
    for label, config in runs:
        trainer = stub_ppo(**config)
        pg_loss, vf_scaled, stats = loss_stats(trainer, x, values, advantages, returns, all_rows)
        name = f"loss/{label}"
        golden.case({
            "name": name, "kind": "loss", "config": trainer.config.__dict__, "inputs": LOSS_INPUTS,
            "pg_loss": float(pg_loss), "vf_loss_scaled": float(vf_scaled),
            "stats": {k: float(v) for k, v in stats.items() if v.numel() == 1},
            "advantages_dist": golden.tensor(f"{name}/policy/advantages", stats["policy/advantages"]),
            "ratio_dist": golden.tensor(f"{name}/policy/ratio", stats["policy/ratio"]),
            "source": "trl 0.8.6 PPOTrainer.loss",
        })


def step_stats_case(golden, x, reward_results, advantage_results):
    """record_step_stats after two mini-batches (rows 0-1, 2-3), stacked as step() does."""
    trainer = stub_ppo()
    rewards, non_score, kls = reward_results[("kl", 0.2)]
    values, advantages, returns = advantage_results[(1.0, 0.95, False)]
    all_stats = [loss_stats(trainer, x, values, advantages, returns, slice(r, r + 2))[2] for r in (0, 2)]
    # PPOTrainer.step, the lines after its mini-batch loop: stack_dicts, then flatten the two
    # distributions into one row and replace NaN by WANDB_PADDING.
    train_stats = stack_dicts(all_stats)
    for key in ("policy/advantages", "policy/ratio"):
        train_stats[key] = torch.flatten(train_stats[key]).unsqueeze(0)
    train_stats["policy/advantages"] = torch.nan_to_num(train_stats["policy/advantages"], WANDB_PADDING)
    queries = [torch.zeros(n) for n in (5, 3, 8, 4)]
    responses = [torch.zeros(int(n)) for n in x["mask"].sum(1)]
    mask = x["mask"].to(torch.float64)
    stats = trainer.record_step_stats(
        kl_coef=0.2, scores=x["scores"], logprobs=x["logprobs"], ref_logprobs=x["ref_logprobs"],
        non_score_reward=non_score, train_stats=train_stats, kls=kls, masks=mask,
        queries=queries, responses=responses)
    scalars, dists = {}, {}
    for key, value in stats.items():
        if isinstance(value, float):  # objective/kl_coef, given as a Python float
            scalars[key] = value
            continue
        value = torch.as_tensor(value)
        if value.numel() == 1:
            scalars[key] = float(value)
        else:
            dists[key] = golden.tensor(f"step_stats/{key}", value.to(torch.float64))
    golden.case({"name": "step_stats", "kind": "record_step_stats", "kl_coef": 0.2, "inputs": LOSS_INPUTS,
                 "rewards": "rewards/kl/coef0.2", "minibatch_rows": [[0, 2], [2, 4]],
                 "query_lengths": [len(q) for q in queries],
                 "response_lengths": [len(r) for r in responses],
                 "scalars": scalars, "distributions": dists,
                 "source": "trl 0.8.6 PPOTrainer.record_step_stats (+ step()'s stacking lines)"})


def score_cases(golden):
    g = torch.Generator().manual_seed(22)
    batches = [3 * torch.randn(8, generator=g, dtype=torch.float64) + 1 for _ in range(3)]
    accelerator = types.SimpleNamespace(use_distributed=False)
    for norm in (False, True):
        for clip in (None, 0.5):
            running = RunningMoments(accelerator)
            for step, raw in enumerate(batches):
                scores = raw.clone()
                # PPOTrainer.step's score transform (the lines under `if self.config.use_score_scaling`
                # and `if self.config.score_clip is not None`), with TRL's RunningMoments.
                running.update(scores)
                kwargs = dict(dtype=scores.dtype, device=scores.device)
                factor = running.std.to(**kwargs) + torch.finfo(scores.dtype).eps
                if norm:
                    scores = (scores - running.mean.to(**kwargs)) / factor
                else:
                    scores /= factor
                if clip is not None:
                    scores = torch.clip(scores.float(), -clip, clip).to(dtype=scores.dtype)
                name = f"scores/norm{norm}/clip{clip}/step{step}"
                golden.case({"name": name, "kind": "score_transform", "use_norm": norm, "score_clip": clip,
                             "sequence_step": step, "raw": golden.tensor(f"{name}/raw", raw),
                             "scores": golden.tensor(f"{name}/scores", scores),
                             "running_mean": float(running.mean), "running_var": float(running.var),
                             "running_std": float(running.std), "running_count": float(running.count),
                             "source": "trl 0.8.6 PPOTrainer.step score lines + RunningMoments.update"})


def kl_controller_case(golden):
    updates = [(8.0, 256), (3.0, 256), (6.6, 128), (100.0, 32), (-4.0, 512), (6.0, 64)]
    ctl = AdaptiveKLController(0.2, 6.0, 10000)
    values = []
    for current, n_steps in updates:
        ctl.update(current, n_steps)
        values.append(float(ctl.value))
    golden.case({"name": "adaptive_kl", "kind": "adaptive_kl", "init": 0.2, "target": 6.0,
                 "horizon": 10000, "updates": updates, "values": values,
                 "source": "trl 0.8.6 AdaptiveKLController.update"})


def main():
    golden = Golden("ppo", "trl08", {"trl": trl.__version__, "torch": torch.__version__.split("+")[0],
                                     "script": "tests/reference/ppo_trl08.py"})
    x = make_inputs(golden)
    reward_results = reward_cases(golden, x)
    advantage_results = advantage_cases(golden, x, reward_results[("kl", 0.2)][0])
    values, advantages, returns = advantage_results[(1.0, 0.95, False)]
    loss_cases(golden, x, values, advantages, returns)
    step_stats_case(golden, x, reward_results, advantage_results)
    score_cases(golden)
    kl_controller_case(golden)
    golden.write()


if __name__ == "__main__":
    main()
