#!/usr/bin/env python3
"""The Python side of tests/bench/compare.sh's reward-model step (issue 19): the same work as
build/tests/bench_side_by_side --cases rm_step, on the same weights and inputs (DIR of
bench_t5.py prep), one JSON line per case on stdout. Nothing here is a test.

  bench_rlhf.py prep --dir DIR
      DIR/rm_head.safetensors: the scalar head's initial weights (score.weight [1, d_model],
      score.bias [1]; torch's nn.Linear init, seeded), which the app's case loads too.
  bench_rlhf.py run --dir DIR --cases rm_step --reps N --threads N [--warmup 1]
      One untimed warm-up (--warmup), then N timed repetitions; prints {"side": "python",
      "case": ..., "threads": ..., "ms": [...], "cpu_ms": [...], "first_loss": ...}.

Reward-model step: TRL 1.16's RewardTrainer trains AutoModelForSequenceClassification models on
one token sequence per side (DataCollatorForPreference: input_ids and attention_mask, nothing for
a decoder). For a T5 that is T5ForSequenceClassification, which feeds that sequence to encoder and
decoder and reads a dense-tanh-dense head at the sequence's last </s>: not the app's reward model
(prompt to the encoder, motion labels shifted right to the decoder, one linear head on the last
label position's hidden state). So the step is composed as RewardTrainer.compute_loss composes it,
on a PEFT-wrapped T5 (transformers' T5Model: encoder + decoder, no LM head, as the app's reward
model computes no logits) with the app's head: TRL's disable_dropout_in_model, chosen and
rejected concatenated in one forward, rewards chunked in two, -logsigmoid(r_chosen - r_rejected)
mean (no margin column, no center_rewards_coefficient: the app uses neither here), compute_loss's
no-grad metrics (min/mean/max reward, accuracy, margin), backward, clip_grad_norm_ 1.0, AdamW
(the Trainer's adamw_torch: lr 2e-4, weight decay 0), the linear schedule, zero_grad: the app's
rm run's settings (ml/train/reward_trainer.h). LoRA r 8, alpha 16 on q and v, dropout 0.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import timed  # noqa: E402


def prep(directory):
    config = json.loads((directory / "config.json").read_text())
    torch.manual_seed(23)
    head = torch.nn.Linear(config["d_model"], 1)
    save_file({"score.weight": head.weight.detach().contiguous(),
               "score.bias": head.bias.detach().contiguous()},
              str(directory / "rm_head.safetensors"))


class RewardT5(torch.nn.Module):
    """The app's RewardModel (ml/train/reward_model.h): the decoder's hidden state at the last
    label position through a linear head."""

    def __init__(self, t5, head):
        super().__init__()
        self.t5 = t5
        self.score = head

    def forward(self, input_ids, attention_mask, decoder_input_ids, last_index, use_cache=False):
        hidden = self.t5(input_ids=input_ids, attention_mask=attention_mask,
                         decoder_input_ids=decoder_input_ids, use_cache=use_cache).last_hidden_state
        picked = hidden[torch.arange(hidden.shape[0]), last_index]
        return self.score(picked)  # [2B, 1], as a sequence-classification model's logits


def rm_step(directory, inputs):
    from peft import LoraConfig, get_peft_model
    from transformers import T5Model, get_linear_schedule_with_warmup
    from trl.trainer.utils import disable_dropout_in_model

    # dropout_rate 0: TRL's disable_dropout_in_model zeroes nn.Dropout modules only, and T5's
    # attention applies config.dropout_rate to its probabilities as a float (the app's case loads
    # its T5 with dropout_rate 0 as well). The checkpoint's lm_head is not loaded.
    t5 = T5Model.from_pretrained(directory, dropout_rate=0.0)
    t5 = get_peft_model(t5, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                       target_modules=["q", "v"]))
    head_weights = load_file(str(directory / "rm_head.safetensors"))
    head = torch.nn.Linear(head_weights["score.weight"].shape[1], 1)
    with torch.no_grad():
        head.weight.copy_(head_weights["score.weight"])
        head.bias.copy_(head_weights["score.bias"])
    model = RewardT5(t5, head)
    disable_dropout_in_model(model)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, 0, 1000)

    chosen, rejected = inputs["dpo_chosen_labels"], inputs["dpo_rejected_labels"]
    width = max(chosen.shape[1], rejected.shape[1])
    pad = lambda t: torch.nn.functional.pad(t, (0, width - t.shape[1]), value=-100)
    labels = torch.cat([pad(chosen), pad(rejected)])
    positions = torch.arange(width).expand_as(labels)
    batch = {"input_ids": inputs["dpo_prompt_ids"].repeat(2, 1),
             "attention_mask": inputs["dpo_prompt_mask"].repeat(2, 1),
             "decoder_input_ids": t5.get_base_model()._shift_right(labels),
             "last_index": torch.where(labels != -100, positions, -1).amax(1).clamp_min(0)}
    losses = []

    def compute_loss(inputs):  # RewardTrainer.compute_loss, less its token counting
        inputs["use_cache"] = False
        logits = model(**inputs)
        rewards_chosen, rewards_rejected = torch.chunk(logits.squeeze(-1), chunks=2)
        loss = -torch.nn.functional.logsigmoid(rewards_chosen - rewards_rejected).mean()
        with torch.no_grad():
            metrics = {"min_reward": logits.min().item(), "mean_reward": logits.mean().item(),
                       "max_reward": logits.max().item(),
                       "accuracy": (rewards_chosen > rewards_rejected).float().mean().item(),
                       "margin": (rewards_chosen - rewards_rejected).mean().item()}
        return loss, metrics

    def step():  # Trainer.training_step + the optimizer step of Trainer's inner loop
        loss, _ = compute_loss(dict(batch))
        loss.backward()
        losses.append(loss.item())
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()

    return step, losses


def run(args):
    torch.set_num_threads(args.threads)
    directory = Path(args.dir)
    inputs = load_file(str(directory / "inputs.safetensors"))
    for case in args.cases.split(","):
        if case == "rm_step":
            step, losses = rm_step(directory, inputs)
        else:
            raise SystemExit(f"bench_rlhf.py: unknown case {case}")
        wall, cpu = timed(args.reps, step, args.warmup)
        print(json.dumps({"side": "python", "case": case, "threads": args.threads, "ms": wall,
                          "cpu_ms": cpu, "first_loss": losses[0]}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--dir", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--cases", default="rm_step")
    r.add_argument("--reps", type=int, default=3)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--warmup", type=int, default=1, help="untimed steps before each case")
    args = parser.parse_args()
    if args.command == "prep":
        prep(Path(args.dir))
    else:
        run(args)


if __name__ == "__main__":
    main()
