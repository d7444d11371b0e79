"""The DPO-family losses that came after the paper's TRL release, as TRL 0.11.4 computes them
(DPOTrainer.dpo_loss, still a method there): robust, bco_pair (a sequence of batches through one
RunningMoments), sppo_hard, nca_pair, with sigmoid/hinge/ipo again as a cross-check of 0.8.6, in
float64 and float32; and get_batch_loss_metrics on a stub model with and without rpo_alpha
(loss + alpha * chosen NLL, logged as nll_loss).

Writes golden/losses/trl011.{safetensors,json}.
Run: tests/reference/.venv-trl011/bin/python tests/reference/losses_trl011.py
"""

import types

import torch
import trl
from trl import DPOTrainer
from trl.trainer.utils import RunningMoments

from loss_inputs import Golden, logits_batch, scalars, sequence_logps

assert trl.__version__ == "0.11.4", trl.__version__

# RunningMoments.update only asks the accelerator whether it is distributed.
CPU = types.SimpleNamespace(device=torch.device("cpu"), use_distributed=False)
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def stub_trainer(**attributes):
    """A DPOTrainer without __init__ (which wants models and datasets), carrying the attributes
    that dpo_loss, concatenated_forward and get_batch_loss_metrics read."""
    trainer = object.__new__(DPOTrainer)
    defaults = dict(
        loss_type="sigmoid",
        beta=0.1,
        label_smoothing=0.0,
        reference_free=False,
        f_divergence_type="reverse_kl",
        f_divergence_params=None,
        accelerator=CPU,
        is_encoder_decoder=True,
        is_vision_model=False,
        aux_loss_enabled=False,
        label_pad_token_id=-100,
        padding_value=0,
        ref_model=None,
        precompute_ref_log_probs=True,
        args=types.SimpleNamespace(rpo_alpha=None),
    )
    trainer.__dict__.update(defaults | attributes)
    if trainer.loss_type == "bco_pair":
        trainer.running = RunningMoments(CPU)
    return trainer


class StubSeq2Seq(torch.nn.Module):
    """Stands in for the T5 policy: returns the given logits whatever the inputs."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, input_ids, attention_mask=None, labels=None, **_):
        assert labels.shape == self.logits.shape[:2], (labels.shape, self.logits.shape)
        return types.SimpleNamespace(logits=self.logits)


def case_entry(golden, name, trainer, dtype_name, losses, cr, rr, **extra):
    entry = {
        "name": name,
        "kind": "dpo_loss",
        "source": "trl 0.11.4 DPOTrainer.dpo_loss",
        "loss_type": trainer.loss_type,
        "beta": trainer.beta,
        "label_smoothing": trainer.label_smoothing,
        "per_example_label_smoothing": False,
        "reference_free": False,
        "dtype": dtype_name,
        "losses": golden.tensor(f"{name}/losses", losses),
        "chosen_rewards": golden.tensor(f"{name}/chosen_rewards", cr),
        "rejected_rewards": golden.tensor(f"{name}/rejected_rewards", rr),
        "loss": float(losses.mean()),
    }
    entry.update(extra)
    golden.case(entry)


def dpo_loss_cases(golden, inputs):
    grid = [("sigmoid", b, ls) for b in (0.1, 0.5) for ls in (0.0, 0.1)]
    grid += [("robust", b, ls) for b in (0.1, 0.5) for ls in (0.0, 0.1, 0.3)]
    grid += [(t, b, 0.0) for t in ("hinge", "ipo", "sppo_hard", "nca_pair") for b in (0.1, 0.5)]
    for dtype_name, dtype in DTYPES.items():
        x = [inputs[k].to(dtype) for k in ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected")]
        for loss_type, beta, ls in grid:
            trainer = stub_trainer(loss_type=loss_type, beta=beta, label_smoothing=ls)
            losses, cr, rr = trainer.dpo_loss(*x)
            case_entry(golden, f"{loss_type}/beta{beta}/ls{ls}/{dtype_name}", trainer, dtype_name, losses, cr, rr)
        # bco_pair: δ is the running mean of each call's mean reward, so the golden is a sequence of
        # consecutive calls (four batches of 4) on one trainer, as training makes them.
        for beta in (0.1, 0.5):
            trainer = stub_trainer(loss_type="bco_pair", beta=beta)
            for step in range(4):
                rows = slice(4 * step, 4 * step + 4)
                losses, cr, rr = trainer.dpo_loss(*[t[rows] for t in x])
                case_entry(golden, f"bco_pair/beta{beta}/step{step}/{dtype_name}", trainer, dtype_name,
                           losses, cr, rr, rows=[rows.start, rows.stop], sequence_step=step,
                           running_mean=trainer.running.mean, running_var=trainer.running.var,
                           running_count=trainer.running.count)


def metric_cases(golden):
    """get_batch_loss_metrics on two batches. TRL 0.11.4's get_batch_logps overwrites the -100
    labels with 0 in place (encoder-decoder labels are not cloned), and concatenated_forward takes
    the NLL's labels after that: in rows with padding its nll_loss scores the padding as token 0
    (T5's pad). On the batch whose chosen rows have no padding, nll_loss is the mean over the
    chosen tokens, RPO's definition; the padded batch records TRL's quirk (trl_nll_counts_padding)."""
    for batch_name, pad_chosen in (("metric_batch_unpadded_chosen", False), ("metric_batch", True)):
        batch = logits_batch(pad_chosen=pad_chosen)
        if not pad_chosen:
            golden.tensor(f"{batch_name}/chosen_labels", batch["chosen_labels"])
        model = StubSeq2Seq(batch.pop("logits"))
        runs = [("sigmoid", 0.1, None), ("sigmoid", 0.1, 0.5), ("sigmoid", 0.1, 1.0), ("ipo", 0.5, 1.0),
                ("robust", 0.1, None), ("nca_pair", 0.1, 1.0)]
        for loss_type, beta, rpo_alpha in runs:
            for train_eval in ("train", "eval"):
                # precompute_ref_log_probs: the batch's reference_*_logps are used, as in the project's
                # runs with precomputed reference log-probs.
                trainer = stub_trainer(loss_type=loss_type, beta=beta, label_smoothing=0.0,
                                       args=types.SimpleNamespace(rpo_alpha=rpo_alpha))
                loss, metrics = trainer.get_batch_loss_metrics(model, dict(batch), train_eval=train_eval)
                golden.case({
                    "name": f"metrics/{batch_name}/{loss_type}/beta{beta}/rpo{rpo_alpha}/{train_eval}",
                    "kind": "dpo_metrics",
                    "source": "trl 0.11.4 DPOTrainer.get_batch_loss_metrics",
                    "batch": batch_name,
                    "trl_nll_counts_padding": pad_chosen and rpo_alpha is not None,
                    "loss_type": loss_type,
                    "beta": beta,
                    "label_smoothing": 0.0,
                    "per_example_label_smoothing": False,
                    "rpo_alpha": rpo_alpha,
                    "train_eval": train_eval,
                    "loss": float(loss),
                    "metrics": scalars(metrics),
                })


def main():
    golden = Golden("losses", "trl011", {
        "trl": trl.__version__,
        "torch": torch.__version__.split("+")[0],
        "script": "tests/reference/losses_trl011.py",
        "inputs": "golden/losses/trl08.safetensors (inputs/*, metric_batch/*): the same seeded numbers",
    })
    inputs = sequence_logps()
    dpo_loss_cases(golden, inputs)
    metric_cases(golden)
    golden.write()


if __name__ == "__main__":
    main()
