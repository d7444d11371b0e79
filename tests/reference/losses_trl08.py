"""Preference losses as TRL 0.8.6 (the release the paper's code followed) and the paper's own
trainers (THU-LYJ-Lab/InstructMotion, src/trainer and src/utils) compute them:

- DPOTrainer.dpo_loss for sigmoid (scalar label smoothing, reference_free), hinge, ipo, kto_pair,
  in float64 and float32;
- the paper fork's dpo_loss with its per-example label smoothing tensor, the ε per degree coming
  from the fork's own _preprocess_dpo;
- the logged metrics through get_batch_loss_metrics on a stub model that returns fixed logits
  (so get_batch_logps, IPO's per-token averaging and the logits/* means run as TRL wrote them);
- the reward model: the fork's and TRL's RewardTrainer.compute_loss on a stub model, the margins
  and labels per degree from the fork's _preprocess_rm, and TRL's compute_accuracy.

Writes golden/losses/trl08.{safetensors,json}.
Run: tests/reference/.venv-trl08/bin/python tests/reference/losses_trl08.py
"""

import pathlib
import tempfile
import types

import numpy as np
import torch
import trl
from trl import DPOTrainer, RewardTrainer
from trl.trainer.utils import compute_accuracy

from loss_inputs import (DEGREES, INSTRUCTMOTION_COMMIT, Golden, instructmotion_checkout, logits_batch, scalars,
                         sequence_logps)

assert trl.__version__ == "0.8.6", trl.__version__
instructmotion_checkout()
from src.trainer.dpo_trainer import MotiongptDPOTrainer  # noqa: E402  (the paper's fork)
from src.trainer.reward_trainer import RewardTrainer as PaperRewardTrainer  # noqa: E402
from src.utils import motiongpt_utils  # noqa: E402

CPU = types.SimpleNamespace(device=torch.device("cpu"))
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def stub_trainer(cls, **attributes):
    """A trainer object without __init__ (which wants models and datasets), carrying the
    attributes that dpo_loss, concatenated_forward and get_batch_loss_metrics read."""
    trainer = object.__new__(cls)
    defaults = dict(
        loss_type="sigmoid",
        beta=0.1,
        label_smoothing=0.0,
        reference_free=False,
        accelerator=CPU,
        is_encoder_decoder=True,
        label_pad_token_id=-100,
        padding_value=0,
        ref_model=None,
        use_label_smoothing=False,
        use_reward_data_collator=True,
    )
    trainer.__dict__.update(defaults | attributes)
    return trainer


class StubSeq2Seq(torch.nn.Module):
    """Stands in for the T5 policy: returns the given logits whatever the inputs (their shape is
    checked against the concatenated labels)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, input_ids, attention_mask=None, labels=None, decoder_input_ids=None, **_):
        assert labels.shape == self.logits.shape[:2], (labels.shape, self.logits.shape)
        return types.SimpleNamespace(logits=self.logits)


class StubScorer:
    """Stands in for the reward model: input id i scores table[i] ([B,1] like a
    sequence-classification head with one label)."""

    def __init__(self, table):
        self.table = table

    def __call__(self, input_ids, attention_mask=None, return_dict=True):
        return {"logits": self.table[input_ids[:, 0]].unsqueeze(-1)}


def paper_examples(tmp_dir):
    """One labelled pair per degree in the paper's jsonl record layout, with the motion token files
    its preprocessing loads."""
    (tmp_dir / "tokens").mkdir(exist_ok=True)
    np.save(tmp_dir / "tokens" / "m_token.npy", np.array([[3, 1, 4]]))
    sample = {"features": "features/m.npy"}
    return {
        "prompt": ["a person walks"] * len(DEGREES),
        "sample_1": [sample] * len(DEGREES),
        "sample_2": [sample] * len(DEGREES),
        "chosen": [[{"choice": "sample_1", "degree of preference": d}] for d in DEGREES],
    }


def degree_constants(golden):
    """ε, margins and labels per degree from the fork's own preprocessing functions."""
    tmp_dir = pathlib.Path(tempfile.mkdtemp(prefix="paper_examples_"))
    examples = paper_examples(tmp_dir)
    tokenizer = lambda text, **_: {"input_ids": [1], "attention_mask": [1]}  # noqa: E731
    dpo = motiongpt_utils._preprocess_dpo(examples, tokenizer, 512, True, str(tmp_dir))
    big = motiongpt_utils._preprocess_rm(examples, tokenizer, 512, True, "big", str(tmp_dir))
    small = motiongpt_utils._preprocess_rm(examples, tokenizer, 512, True, "small", str(tmp_dir))
    constants = {
        "degrees": DEGREES,
        "label_smoothing": [float(x) for x in dpo["label_smoothing"]],
        "margin_big": [float(x) for x in big["margin"]],
        "margin_small": [float(x) for x in small["margin"]],
        "label": [float(x) for x in big["label"]],
    }
    golden.json["degree_constants"] = constants
    return constants


def dpo_loss_cases(golden, inputs, eps_per_example):
    grid = [("sigmoid", b, ls) for b in (0.1, 0.5) for ls in (0.0, 0.1, 0.3)]
    grid += [(t, b, 0.0) for t in ("hinge", "ipo", "kto_pair") for b in (0.1, 0.5)]
    for dtype_name, dtype in DTYPES.items():
        x = [inputs[k].to(dtype) for k in ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected")]
        runs = [(t, b, ls, False, False) for t, b, ls in grid]
        runs += [("sigmoid", 0.1, 0.0, True, False)]  # reference_free
        runs += [("sigmoid", b, 0.0, False, True) for b in (0.1, 0.5)]  # the fork's per-example ε
        for loss_type, beta, ls, ref_free, per_example in runs:
            if per_example:
                # MotiongptDPOTrainer.dpo_loss(label_smoothing=tensor): the paper's per-degree cDPO.
                trainer = stub_trainer(MotiongptDPOTrainer, loss_type=loss_type, beta=beta)
                eps = eps_per_example.to(dtype)
                losses, cr, rr = trainer.dpo_loss(*x, label_smoothing=eps)
                source = "InstructMotion MotiongptDPOTrainer.dpo_loss(label_smoothing=tensor)"
            else:
                trainer = stub_trainer(DPOTrainer, loss_type=loss_type, beta=beta, label_smoothing=ls,
                                       reference_free=ref_free)
                losses, cr, rr = trainer.dpo_loss(*x)
                source = "trl 0.8.6 DPOTrainer.dpo_loss"
                # The fork is TRL between 0.7.10 and 0.7.11: the same numbers with a scalar ε. (Its
                # reference_free=True fails: `0.to(device)` on an int.)
                if not ref_free:
                    fork = stub_trainer(MotiongptDPOTrainer, loss_type=loss_type, beta=beta, label_smoothing=ls)
                    f_losses, f_cr, f_rr = fork.dpo_loss(*x)
                    assert torch.equal(f_losses, losses) and torch.equal(f_cr, cr) and torch.equal(f_rr, rr)
            name = f"{loss_type}/beta{beta}/ls{'_per_example' if per_example else ls}" \
                   f"{'/reference_free' if ref_free else ''}/{dtype_name}"
            golden.case({
                "name": name,
                "kind": "dpo_loss",
                "source": source,
                "loss_type": loss_type,
                "beta": beta,
                "label_smoothing": ls,
                "per_example_label_smoothing": per_example,
                "reference_free": ref_free,
                "dtype": dtype_name,
                "losses": golden.tensor(f"{name}/losses", losses),
                "chosen_rewards": golden.tensor(f"{name}/chosen_rewards", cr),
                "rejected_rewards": golden.tensor(f"{name}/rejected_rewards", rr),
                "loss": float(losses.mean()),
            })


def metric_cases(golden):
    batch = logits_batch()
    for key in ("chosen_labels", "rejected_labels", "prompt_input_ids", "logits",
                "reference_chosen_logps", "reference_rejected_logps"):
        golden.tensor(f"metric_batch/{key}", batch[key])
    model = StubSeq2Seq(batch.pop("logits"))
    eps = torch.tensor([0.0, 0.2, 0.3, 0.5], dtype=torch.float64)
    golden.tensor("metric_batch/label_smoothing", eps)
    # (loss, beta, scalar ε, per-example ε, through the paper's fork): the fork's own path also
    # for IPO (its get_batch_logps averages per token) and kto_pair.
    runs = [("sigmoid", 0.1, 0.0, False, False), ("sigmoid", 0.1, 0.2, False, False),
            ("hinge", 0.1, 0.0, False, False), ("ipo", 0.5, 0.0, False, False),
            ("kto_pair", 0.1, 0.0, False, False), ("sigmoid", 0.1, 0.0, True, True),
            ("ipo", 0.5, 0.0, False, True), ("kto_pair", 0.1, 0.0, False, True)]
    for loss_type, beta, ls, per_example, fork in runs:
        for train_eval in ("train", "eval"):
            if fork:
                trainer = stub_trainer(MotiongptDPOTrainer, loss_type=loss_type, beta=beta,
                                       use_label_smoothing=per_example)
                source = "InstructMotion MotiongptDPOTrainer.get_batch_loss_metrics"
                run_batch = dict(batch, label_smoothing=eps)
            else:
                trainer = stub_trainer(DPOTrainer, loss_type=loss_type, beta=beta, label_smoothing=ls)
                source = "trl 0.8.6 DPOTrainer.get_batch_loss_metrics"
                run_batch = dict(batch)
            loss, metrics = trainer.get_batch_loss_metrics(model, run_batch, train_eval=train_eval)
            golden.case({
                "name": f"metrics/{'instructmotion' if fork else 'trl'}/{loss_type}/beta{beta}/"
                        f"ls{'_per_example' if per_example else ls}/{train_eval}",
                "kind": "dpo_metrics",
                "source": source,
                "loss_type": loss_type,
                "beta": beta,
                "label_smoothing": ls,
                "per_example_label_smoothing": per_example,
                "train_eval": train_eval,
                "loss": float(loss),
                "metrics": scalars(metrics),
            })
    # get_batch_logps itself (the static method), sums and IPO's per-token means, both layouts.
    logits = model.logits
    labels = torch.cat([batch["chosen_labels"],
                        torch.cat([batch["rejected_labels"],
                                   torch.full((4, 2), -100)], 1)])
    for average in (False, True):
        for enc_dec in (True, False):
            logps = DPOTrainer.get_batch_logps(logits, labels.clone(), average_log_prob=average,
                                               is_encoder_decoder=enc_dec)
            name = f"get_batch_logps/{'average' if average else 'sum'}/" \
                   f"{'encoder_decoder' if enc_dec else 'decoder_only'}"
            golden.case({"name": name, "kind": "get_batch_logps", "average": average,
                         "encoder_decoder": enc_dec, "logps": golden.tensor(name, logps),
                         "source": "trl 0.8.6 DPOTrainer.get_batch_logps"})


def reward_cases(golden, constants):
    g = torch.Generator().manual_seed(20)
    n = 8
    rc = torch.randn(n, generator=g, dtype=torch.float64)
    rr = torch.randn(n, generator=g, dtype=torch.float64)
    rr[3] = rc[3]  # a tie: TRL's compute_accuracy counts it correct (argmax picks index 0)
    degree_index = torch.arange(n) % len(DEGREES)
    golden.tensor("reward/chosen_scores", rc)
    golden.tensor("reward/rejected_scores", rr)
    golden.json["reward_degrees"] = [DEGREES[i] for i in degree_index]
    scorer = StubScorer(torch.cat([rc, rr]))
    ids = {
        "input_ids_chosen": torch.arange(n).unsqueeze(1),
        "attention_mask_chosen": torch.ones(n, 1),
        "input_ids_rejected": torch.arange(n, 2 * n).unsqueeze(1),
        "attention_mask_rejected": torch.ones(n, 1),
    }
    label = torch.tensor([constants["label"][i] for i in degree_index], dtype=torch.float64)
    paper = stub_trainer(PaperRewardTrainer)
    trl_rm = stub_trainer(RewardTrainer)
    for scale in ("big", "small", "none"):
        margin = torch.zeros(n, dtype=torch.float64) if scale == "none" else torch.tensor(
            [constants[f"margin_{scale}"][i] for i in degree_index], dtype=torch.float64)
        # The paper's collator makes margin and label [B] against [B,1] scores, so the loss is a
        # mean over a [B,B] broadcast; [B,1] margin/label give the intended per-pair loss.
        per_pair_inputs = dict(ids, margin=margin.unsqueeze(1), label=label.unsqueeze(1))
        quirk_inputs = dict(ids, margin=margin, label=label)
        golden.case({
            "name": f"reward/margin_{scale}",
            "kind": "reward_loss",
            "margin_scale": scale,
            "margin": golden.tensor(f"reward/margin_{scale}", margin),
            "label": golden.tensor(f"reward/label_{scale}", label),
            "source": "InstructMotion RewardTrainer.compute_loss; trl 0.8.6 RewardTrainer.compute_loss",
            "paper_loss_per_pair": float(paper.compute_loss(scorer, per_pair_inputs)),
            "paper_loss_collator_broadcast": float(paper.compute_loss(scorer, quirk_inputs)),
            "trl_loss_per_pair": float(trl_rm.compute_loss(scorer, dict(ids, margin=margin.unsqueeze(1)))),
            "trl_loss_collator_broadcast": float(trl_rm.compute_loss(scorer, dict(ids, margin=margin))),
        })
    # Without a margin the paper's branch has no minus sign (it would maximise the loss it
    # reports); recorded, not matched. TRL's is the negative log-likelihood.
    golden.json["reward_no_margin"] = {
        "paper_loss": float(paper.compute_loss(scorer, dict(ids, label=label.unsqueeze(1)))),
        "trl_loss": float(trl_rm.compute_loss(scorer, ids)),
    }
    # prediction_step's lines: stack (chosen, rejected) scores, mean over the logits dim, softmax
    # over the pair, transpose -> [B,2]; labels are zeros. compute_accuracy is TRL's own.
    logits = torch.stack((rc.unsqueeze(1), rr.unsqueeze(1))).mean(dim=2).softmax(dim=0).T
    accuracy = compute_accuracy((logits.numpy(), np.zeros(n)))["accuracy"]
    golden.json["reward_accuracy"] = {
        "accuracy": accuracy,
        "chosen_probability": golden.tensor("reward/chosen_probability", logits[:, 0]),
        "source": "trl 0.8.6 RewardTrainer.prediction_step lines + trl.trainer.utils.compute_accuracy",
    }


def main():
    golden = Golden("losses", "trl08", {
        "trl": trl.__version__,
        "torch": torch.__version__.split("+")[0],
        "instructmotion_commit": INSTRUCTMOTION_COMMIT,
        "script": "tests/reference/losses_trl08.py",
    })
    inputs = sequence_logps()
    for key, value in inputs.items():
        golden.tensor(f"inputs/{key}", value)
    constants = degree_constants(golden)
    eps = torch.tensor([constants["label_smoothing"][i % len(DEGREES)] for i in range(len(inputs["policy_chosen"]))],
                       dtype=torch.float64)
    golden.tensor("inputs/label_smoothing", eps)
    dpo_loss_cases(golden, inputs, eps)
    metric_cases(golden)
    reward_cases(golden, constants)
    golden.write()


if __name__ == "__main__":
    main()
