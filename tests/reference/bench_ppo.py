#!/usr/bin/env python3
"""The Python side of tests/bench/compare.sh's PPO step (issue 19): TRL 0.8.6's
PPOTrainer.step(queries, responses, scores) on the rollouts that
build/tests/bench_side_by_side --cases ppo_step trains on (the prompts and chosen labels of
bench_t5.py prep's inputs.safetensors, the scores of ppo_inputs.safetensors), one JSON line per
case on stdout. Runs under tests/reference/.venv-trl08 (tests/reference/setup.sh trl08: TRL 0.8.6
with PEFT 0.10.0); TRL 1.x has no PPO for encoder-decoder models. Nothing here is a test.

  bench_ppo.py prep --dir DIR
      DIR/ppo_inputs.safetensors: ppo_scores [64] (the reward model's scores, a seeded normal
      vector) and ppo_orders [4, 64] (each PPO epoch's order of the rollouts, seeded
      permutations), which the app's case reads too.
  bench_ppo.py run --dir DIR --cases ppo_step --reps N --threads N [--warmup 1]
      One untimed warm-up step (--warmup), then N timed steps; prints {"side": "python",
      "case": ..., "threads": ..., "ms": [...], "cpu_ms": [...], "first_loss": ...}.

The step: AutoModelForSeq2SeqLMWithValueHead over the T5 of DIR (loaded with dropout_rate 0; the
value head without dropout and zeroed, as the app's critic head starts) with a PEFT LoRA (r 8,
alpha 16 on q and v, dropout 0), so that PPOTrainer (ref_model None) takes the adapter-disabled
model as the reference. PPOConfig: batch 64, mini-batch 8, 4 PPO epochs, Adam lr 1e-5 (TRL's
optimizer; the app's ppo run's default), adaptive KL (init 0.2, target 6, horizon 10000), the
"kl" penalty, gamma 1, lam 0.95, clip ranges 0.2, vf_coef 0.1, ratio_threshold 10, no score
scaling or normalisation, no gradient clipping: the app's ppo run's settings. A response is
the decoder start token (0) followed by the chosen labels, as TRL's generate returns them; TRL's
encoder-decoder mask leaves the first label out (the app's case uses the same mask). Each epoch's
order is ppo_orders' row (np.random.permutation replaced by a lookup, the app's case reads the
same rows), so both sides train on the same mini-batches. "first_loss": the total loss
(pg + vf_coef * vf) of the first mini-batch of the first step, at the initial weights.

The app's ppo_step case is not the same work by design: TRL's value head shares the policy's body
(one forward and backward per mini-batch), the ppo run's default critic is a separate T5 with its
own adapter (two). Its ppo_step_value_head case is the same work: the app's value head on the
policy's decoder states (ppo.critic "value_head"), zeroed and without dropout as here.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import timed  # noqa: E402

BATCH, MINI_BATCH, PPO_EPOCHS, LEARNING_RATE = 64, 8, 4, 1e-5


def prep(directory):
    gen = torch.Generator().manual_seed(29)
    scores = torch.randn(BATCH, generator=gen)
    orders = torch.stack([torch.randperm(BATCH, generator=gen) for _ in range(PPO_EPOCHS)])
    save_file({"ppo_scores": scores.contiguous(), "ppo_orders": orders.contiguous()},
              str(directory / "ppo_inputs.safetensors"))


def tokenizer():
    """PPOTrainer demands a tokenizer (its collator pads with it): pad 0, eos 1, right padding,
    as T5's. The ids are given, so its vocabulary is never used."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="<unk>")),
                                   pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def ppo_step(directory, inputs, ppo_inputs):
    import trl
    from peft import LoraConfig
    from transformers import T5ForConditionalGeneration
    from trl import AutoModelForSeq2SeqLMWithValueHead, PPOConfig, PPOTrainer

    assert trl.__version__ == "0.8.6", trl.__version__
    t5 = T5ForConditionalGeneration.from_pretrained(directory, dropout_rate=0.0)
    model = AutoModelForSeq2SeqLMWithValueHead.from_pretrained(
        t5, peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q", "v"],
                                   task_type="SEQ_2_SEQ_LM"),
        summary_dropout_prob=0.0)
    with torch.no_grad():
        model.v_head.summary.weight.zero_()
        model.v_head.summary.bias.zero_()
    config = PPOConfig(batch_size=BATCH, mini_batch_size=MINI_BATCH, ppo_epochs=PPO_EPOCHS,
                       learning_rate=LEARNING_RATE, adap_kl_ctrl=True, init_kl_coef=0.2, target=6,
                       horizon=10000, kl_penalty="kl", gamma=1.0, lam=0.95, cliprange=0.2,
                       cliprange_value=0.2, vf_coef=0.1, ratio_threshold=10.0,
                       use_score_scaling=False, use_score_norm=False, whiten_rewards=False,
                       max_grad_norm=None, log_with=None)
    trainer = PPOTrainer(config, model, ref_model=None, tokenizer=tokenizer())
    assert trainer.is_peft_model and trainer.is_encoder_decoder

    prompt_ids, prompt_mask = inputs["dpo_prompt_ids"], inputs["dpo_prompt_mask"]
    labels = inputs["dpo_chosen_labels"]
    queries = [prompt_ids[i, : int(prompt_mask[i].sum())] for i in range(BATCH)]
    start = torch.zeros(1, dtype=torch.long)  # T5's decoder start token, as generate returns it
    responses = [torch.cat([start, labels[i][labels[i] != -100]]) for i in range(BATCH)]
    scores = list(ppo_inputs["ppo_scores"].to(torch.float32))

    # Each epoch's order from the inputs (TRL's step draws np.random.permutation(bs) per epoch).
    orders = ppo_inputs["ppo_orders"].numpy()
    calls = [0]

    def permutation(n):
        assert n == orders.shape[1], n
        row = orders[calls[0] % PPO_EPOCHS]
        calls[0] += 1
        return row.copy()

    np.random.permutation = permutation

    first_losses = []  # the first mini-batch's total loss of each step
    pending = [False]
    loss = trainer.loss

    def recording_loss(*args, **kwargs):
        pg_loss, vf_loss, stats = loss(*args, **kwargs)
        if pending[0]:  # one .item() per step, on its first mini-batch
            first_losses.append((pg_loss + vf_loss).item())
            pending[0] = False
        return pg_loss, vf_loss, stats

    trainer.loss = recording_loss

    def step():
        pending[0] = True
        trainer.step(queries, responses, scores)

    return step, first_losses


def run(args):
    torch.set_num_threads(args.threads)
    directory = Path(args.dir)
    inputs = load_file(str(directory / "inputs.safetensors"))
    ppo_inputs = load_file(str(directory / "ppo_inputs.safetensors"))
    for case in args.cases.split(","):
        if case == "ppo_step":
            step, losses = ppo_step(directory, inputs, ppo_inputs)
        else:
            raise SystemExit(f"bench_ppo.py: unknown case {case}")
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
    r.add_argument("--cases", default="ppo_step")
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
