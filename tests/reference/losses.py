"""The preference losses as the current TRL (1.16, the main reference venv) computes them, on the
same seeded log-probs as losses_trl08.py / losses_trl011.py.

TRL 1.x has no DPOTrainer.dpo_loss any more: the losses and metrics are computed inside
DPOTrainer._compute_loss, which this script calls on a trainer made without __init__ and a stub
model whose per-token log-probs put each sequence's log-prob on its one completion token (so the
sums, and IPO's per-token means, are the given numbers). What 1.16 changed against the paper's
release, and so what the C++ tests do not hold the project to here: sigmoid ignores
label_smoothing, bco_pair has no running-mean shift, there is no kto_pair and no rpo_alpha, and
logits/* average the per-token vocabulary means over completion tokens only (0.8.6: every entry
of the logits, padding included). RewardTrainer.compute_loss squeezes the scores to [B] (no [B,B]
broadcast) and logs accuracy as a strict chosen > rejected (0.8.6's compute_accuracy counts a tie
as correct).

Writes golden/losses/trl116.{safetensors,json}.
Run: tests/reference/.venv/bin/python tests/reference/losses.py
"""

import contextlib
import types
from collections import defaultdict

import torch
import trl
from trl import DPOTrainer, RewardTrainer

from loss_inputs import Golden, sequence_logps

assert trl.__version__ == "1.16.0", trl.__version__


class SingleProcess:
    """The accelerator calls _compute_loss makes, for one process."""

    device = torch.device("cpu")

    def gather(self, x):
        return x

    gather_for_metrics = gather

    def unwrap_model(self, model):
        return model


class StubPolicy(torch.nn.Module):
    """Returns per-token log-probs [2B, 1] equal to the sequence log-probs; the entropy, mean
    logits and top-1 fields _compute_loss logs are zeros."""

    def __init__(self, logps):
        super().__init__()
        self.logps = logps
        self.is_gradient_checkpointing = False

    def forward(self, input_ids=None, labels=None, **_):
        n = self.logps.shape[0]
        zeros = torch.zeros(n, 1, dtype=self.logps.dtype)
        return types.SimpleNamespace(log_probs=self.logps.unsqueeze(1), entropy=zeros, mean_logits=zeros,
                                     is_top1=torch.zeros(n, 1, dtype=torch.bool))


def dpo_trainer(loss_type, beta, label_smoothing, model):
    trainer = object.__new__(DPOTrainer)
    trainer.__dict__.update(
        beta=beta, label_smoothing=label_smoothing, loss_types=[loss_type], loss_weights=[1.0],
        f_divergence_type="reverse_kl", f_alpha_divergence_coef=1.0, ld_alpha=None, use_weighting=False,
        precompute_ref_logps=True, aux_loss_enabled=False, ref_model=None, accelerator=SingleProcess(),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)}, _total_train_tokens=0, _tp_size=1,
        args=types.SimpleNamespace(gradient_checkpointing_kwargs=None, discopop_tau=0.05),
    )
    trainer.model = model
    model.train()
    return trainer


def dpo_cases(golden, inputs):
    pc, pr, rc, rr = (inputs[k] for k in ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected"))
    n = pc.shape[0]
    model = StubPolicy(torch.cat([pc, pr]))
    batch = {
        # One prompt token and one completion token per row: completion_mask[:, 1:] is the token whose
        # log-prob the stub returns, and IPO's per-token mean divides by 1.
        "input_ids": torch.zeros(2 * n, 2, dtype=torch.long),
        "attention_mask": torch.ones(2 * n, 2, dtype=torch.long),
        "completion_mask": torch.tensor([[0, 1]] * (2 * n)),
        "ref_chosen_logps": rc,
        "ref_rejected_logps": rr,
    }
    grid = [("sigmoid", b, 0.0) for b in (0.1, 0.5)] + [("robust", 0.1, 0.1)]
    grid += [(t, b, 0.0) for t in ("hinge", "ipo", "sppo_hard", "nca_pair", "bco_pair") for b in (0.1, 0.5)]
    for loss_type, beta, ls in grid:
        trainer = dpo_trainer(loss_type, beta, ls, model)
        with contextlib.redirect_stdout(None):
            loss = trainer._compute_loss(model, dict(batch), return_outputs=False)
        metrics = {k: float(v[-1]) for k, v in trainer._metrics["train"].items()
                   if k.startswith(("rewards/", "logps/"))}
        golden.case({"name": f"{loss_type}/beta{beta}/ls{ls}", "kind": "dpo_compute_loss",
                     "loss_type": loss_type, "beta": beta, "label_smoothing": ls, "loss": float(loss),
                     "metrics": metrics, "source": "trl 1.16.0 DPOTrainer._compute_loss"})


class StubScorer(torch.nn.Module):
    """Scores [2B,1]: chosen rows first, as RewardTrainer's collator stacks them."""

    def __init__(self, scores):
        super().__init__()
        self.scores = scores

    def forward(self, input_ids=None, **_):
        return types.SimpleNamespace(logits=self.scores[input_ids[:, 0]].unsqueeze(-1))


def reward_cases(golden):
    # The scores and margins of losses_trl08.py's reward cases (same seed and draws).
    g = torch.Generator().manual_seed(20)
    n = 8
    rc = torch.randn(n, generator=g, dtype=torch.float64)
    rr = torch.randn(n, generator=g, dtype=torch.float64)
    rr[3] = rc[3]
    margin = torch.tensor([3.0, 2.0, 1.0, 0.0] * 2, dtype=torch.float64)
    model = StubScorer(torch.cat([rc, rr]))
    model.train()
    for with_margin in (False, True):
        trainer = object.__new__(RewardTrainer)
        trainer.__dict__.update(
            model=model, accelerator=SingleProcess(), _metrics={"train": defaultdict(list)},
            _total_train_tokens=0, _tp_size=1, args=types.SimpleNamespace(center_rewards_coefficient=None))
        inputs = {"input_ids": torch.arange(2 * n).unsqueeze(1), "attention_mask": torch.ones(2 * n, 1)}
        if with_margin:
            inputs["margin"] = margin
        loss = trainer.compute_loss(model, inputs)
        golden.case({"name": f"reward/margin{with_margin}", "kind": "reward_compute_loss",
                     "margin": golden.tensor(f"reward/margin{with_margin}", margin if with_margin else 0 * margin),
                     "loss": float(loss),
                     "metrics": {k: float(v[-1]) for k, v in trainer._metrics["train"].items() if k != "num_tokens"},
                     "source": "trl 1.16.0 RewardTrainer.compute_loss"})
    golden.tensor("reward/chosen_scores", rc)
    golden.tensor("reward/rejected_scores", rr)


def main():
    golden = Golden("losses", "trl116", {
        "trl": trl.__version__,
        "torch": torch.__version__.split("+")[0],
        "script": "tests/reference/losses.py",
    })
    dpo_cases(golden, sequence_logps())
    reward_cases(golden)
    golden.write()


if __name__ == "__main__":
    main()
