"""Seeded inputs and golden writing shared by the loss reference scripts (losses_trl08.py,
losses_trl011.py, losses.py), so every TRL release is run on the same numbers.

Tensors go to <topic>.safetensors (float64 unless the key ends in /f32), cases and scalar
metrics to <topic>.json; the C++ tests under tests/ml/*_reference_test.cpp read both.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import save_file

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "golden"

# The paper's repository as the search tool's `fetch` brings it (a bare git directory), and the
# commit the goldens were made from.
INSTRUCTMOTION_GIT = "/work/.mirror/THU-LYJ-Lab+InstructMotion/repo"
INSTRUCTMOTION_COMMIT = "8a3ab3fc7c93a6fa74cced3260fd810ce03a5a00"

BATCH = 16
# The four degrees in the paper's record text; row i of the DPO inputs has DEGREES[i % 4].
DEGREES = ["Much better", "Better", "Slightly better", "Negligibly better/unsure"]


def sequence_logps(seed=18):
    """Policy/reference chosen/rejected sequence log-probs [BATCH], float64.

    Sums of ~10-60 token log-probs, the reference within a few nats of the policy; the last row
    is an exact tie (policy = reference), whose rewards are equal: TRL's accuracy counts it 0.
    """
    g = torch.Generator().manual_seed(seed)
    pc = -(5 + 55 * torch.rand(BATCH, generator=g, dtype=torch.float64))
    pr = -(5 + 55 * torch.rand(BATCH, generator=g, dtype=torch.float64))
    rc = pc + 3 * torch.randn(BATCH, generator=g, dtype=torch.float64)
    rr = pr + 3 * torch.randn(BATCH, generator=g, dtype=torch.float64)
    rc[-1], rr[-1] = pc[-1], pr[-1]
    return {"policy_chosen": pc, "policy_rejected": pr, "ref_chosen": rc, "ref_rejected": rr}


def logits_batch(seed=19, batch=4, chosen_len=6, rejected_len=4, vocab=11, pad_chosen=True):
    """A tiny encoder-decoder DPO batch for the metric path: labels padded with -100 (chosen
    and rejected of different lengths, some rows shorter still) and fixed policy logits
    [2*batch, max_len, vocab] that a stub model returns; reference log-probs precomputed.
    pad_chosen=False leaves every chosen row full length (the same numbers otherwise)."""
    g = torch.Generator().manual_seed(seed)
    length = max(chosen_len, rejected_len)
    chosen = torch.randint(0, vocab, (batch, chosen_len), generator=g)
    rejected = torch.randint(0, vocab, (batch, rejected_len), generator=g)
    if pad_chosen:
        chosen[1, 4:] = -100
        chosen[3, 2:] = -100
    rejected[2, 3:] = -100
    logits = 3 * torch.randn(2 * batch, length, vocab, generator=g, dtype=torch.float64)
    ref = -(4 + 10 * torch.rand(2, batch, generator=g, dtype=torch.float64))
    return {
        "prompt_input_ids": torch.randint(1, vocab, (batch, 5), generator=g),
        "prompt_attention_mask": torch.ones(batch, 5, dtype=torch.long),
        "chosen_labels": chosen,
        "rejected_labels": rejected,
        "logits": logits,
        "reference_chosen_logps": ref[0],
        "reference_rejected_logps": ref[1],
    }


def instructmotion_checkout():
    """Extracts the paper's src/ at the pinned commit into a temporary directory and puts it on
    sys.path (its modules import each other as `src.…`). Nothing of it is copied into the tree."""
    target = pathlib.Path(tempfile.mkdtemp(prefix="instructmotion_"))
    archive = subprocess.run(
        ["git", "--git-dir", INSTRUCTMOTION_GIT, "archive", INSTRUCTMOTION_COMMIT, "src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    sys.path.insert(0, str(target))
    return target


class Golden:
    """Collects tensors and JSON for one topic and writes them under golden/<topic>/."""

    def __init__(self, topic, name, meta):
        self.dir = GOLDEN / topic
        self.name = name
        self.tensors = {}
        self.json = {"meta": meta, "cases": []}

    def tensor(self, key, value):
        value = value.detach().clone().contiguous()
        if key in self.tensors:
            raise KeyError(key)
        self.tensors[key] = value
        return key

    def case(self, entry):
        self.json["cases"].append(entry)

    def write(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        save_file(self.tensors, str(self.dir / f"{self.name}.safetensors"))
        with open(self.dir / f"{self.name}.json", "w") as out:
            json.dump(self.json, out, indent=1, sort_keys=True)
            out.write("\n")
        print(f"wrote {self.dir / self.name}.{{safetensors,json}}: "
              f"{len(self.tensors)} tensors, {len(self.json['cases'])} cases")


def scalars(metrics):
    """TRL's metric dict (0-d tensors) as plain floats."""
    return {k: float(v) for k, v in metrics.items()}
