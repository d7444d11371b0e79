"""One whole PPO step of the paper's shared-backbone PPO (ppo.py) as TRL 0.8.6 runs it:
PPOTrainer.step(queries, responses, scores) on an AutoModelForSeq2SeqLMWithValueHead over a T5
with a PEFT LoRA adapter (the reference = the adapter disabled), the value head on the policy's
last decoder states. The C++ PpoTrainer with `valueHead` (tests/ml/ppo_step_reference_test.cpp)
runs the same step on the same files and is held to what this records.

Written by the foreign tools, never by the app: golden/ppo/step/model (transformers'
save_pretrained of a seeded random gated-gelu T5 with an untied lm_head), golden/ppo/step/adapter
(PEFT's save_pretrained of a LoRA r 4 / alpha 8 on q and v whose B is seeded nonzero, so that the
policy and its reference differ), and golden/ppo/step_trl08.{safetensors,json}: the rollout
(queries, responses, scores, each PPO epoch's order), the value head's initial weights, what the
step's no-grad forwards gave (TRL's batched_forward_pass: log-probs, reference log-probs, values,
mask), the step's stats and the adapter's and value head's weights after it.

Dropout is off everywhere (T5 dropout_rate 0, lora_dropout 0, summary_dropout_prob 0) so the step
is deterministic; np.random.permutation, which step() calls once per PPO epoch, returns the
recorded orders.

Run: tests/reference/.venv-trl08/bin/python tests/reference/ppo_step_trl08.py
"""

import json
import shutil
from pathlib import Path

import numpy as np
import torch
import trl
from peft import LoraConfig, get_peft_model
from transformers import T5Config, T5ForConditionalGeneration
from trl import AutoModelForSeq2SeqLMWithValueHead, PPOConfig, PPOTrainer

from bench_ppo import tokenizer
from loss_inputs import Golden

assert trl.__version__ == "0.8.6", trl.__version__

GOLDEN = Path(__file__).resolve().parent / "golden" / "ppo"
BATCH, MINI_BATCH, PPO_EPOCHS, LEARNING_RATE = 6, 2, 2, 1e-3
VOCAB = 48


def make_model(directory):
    torch.manual_seed(31)
    config = T5Config(vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                      num_decoder_layers=2, num_heads=4, feed_forward_proj="gated-gelu",
                      tie_word_embeddings=False, dropout_rate=0.0, decoder_start_token_id=0,
                      pad_token_id=0, eos_token_id=1)
    t5 = T5ForConditionalGeneration(config)
    t5.save_pretrained(directory / "model", safe_serialization=True)
    peft = get_peft_model(t5, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                         target_modules=["q", "v"], task_type="SEQ_2_SEQ_LM"))
    gen = torch.Generator().manual_seed(32)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.copy_(0.3 * torch.randn(param.shape, generator=gen))
    peft.save_pretrained(directory / "adapter", safe_serialization=True)
    (directory / "adapter" / "README.md").unlink(missing_ok=True)  # PEFT's model card
    return peft


def rollout():
    """Queries of 3..7 tokens ending in </s>, responses of T5's start token then 2..6 labels
    ending in </s> (as generate returns them), seeded scores and orders."""
    gen = torch.Generator().manual_seed(33)
    queries, responses = [], []
    for i in range(BATCH):
        q = torch.randint(2, VOCAB, (3 + i % 5,), generator=gen)
        q[-1] = 1
        r = torch.randint(2, VOCAB, (2 + (i * 3) % 5,), generator=gen)
        r[-1] = 1
        queries.append(q)
        responses.append(torch.cat([torch.zeros(1, dtype=torch.long), r]))
    scores = torch.randn(BATCH, generator=gen)
    orders = torch.stack([torch.randperm(BATCH, generator=gen) for _ in range(PPO_EPOCHS)])
    return queries, responses, scores, orders


def padded(rows, value):
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def main():
    step_dir = GOLDEN / "step"
    shutil.rmtree(step_dir, ignore_errors=True)
    peft = make_model(step_dir)
    torch.manual_seed(34)  # the value head's default Linear initialisation
    model = AutoModelForSeq2SeqLMWithValueHead.from_pretrained(peft, summary_dropout_prob=0.0)
    assert model.is_peft_model
    head_weight = model.v_head.summary.weight.detach().clone()
    head_bias = model.v_head.summary.bias.detach().clone()

    config = PPOConfig(batch_size=BATCH, mini_batch_size=MINI_BATCH, ppo_epochs=PPO_EPOCHS,
                       learning_rate=LEARNING_RATE, adap_kl_ctrl=True, init_kl_coef=0.2, target=6,
                       horizon=10000, kl_penalty="kl", gamma=1.0, lam=0.95, cliprange=0.2,
                       cliprange_value=0.2, vf_coef=0.1, ratio_threshold=10.0,
                       use_score_scaling=False, use_score_norm=False, whiten_rewards=False,
                       max_grad_norm=None, log_with=None, seed=0)
    trainer = PPOTrainer(config, model, ref_model=None, tokenizer=tokenizer())
    assert trainer.is_peft_model and trainer.is_encoder_decoder

    queries, responses, scores, orders = rollout()
    calls = [0]

    def permutation(n):
        assert n == BATCH, n
        row = orders[calls[0]].numpy()
        calls[0] += 1
        return row.copy()

    np.random.permutation = permutation

    forwards = []  # batched_forward_pass's results: the policy's, then the reference's
    batched = trainer.batched_forward_pass

    def recording(*args, **kwargs):
        out = batched(*args, **kwargs)
        if len(forwards) < 2:
            forwards.append(out)
        return out

    trainer.batched_forward_pass = recording
    stats = trainer.step(queries, responses, list(scores))
    assert calls[0] == PPO_EPOCHS

    golden = Golden("ppo", "step_trl08", {
        "source": "trl 0.8.6 PPOTrainer.step, AutoModelForSeq2SeqLMWithValueHead, peft "
                  "LoRA (tests/reference/ppo_step_trl08.py)",
        "batch_size": BATCH, "mini_batch_size": MINI_BATCH, "ppo_epochs": PPO_EPOCHS,
        "learning_rate": LEARNING_RATE, "optimizer": "adam", "init_kl_coef": 0.2,
        "adap_kl_ctrl": True, "target": 6, "horizon": 10000, "kl_penalty": "kl",
        "gamma": 1.0, "lam": 0.95, "cliprange": 0.2, "cliprange_value": 0.2, "vf_coef": 0.1,
        "ratio_threshold": 10.0})
    labels = [r[1:] for r in responses]
    golden.tensor("prompt_ids", padded(queries, 0))
    golden.tensor("prompt_mask", padded([torch.ones_like(q) for q in queries], 0))
    golden.tensor("labels", padded(labels, -100))
    golden.tensor("scores", scores)
    golden.tensor("orders", orders)
    golden.tensor("value_head/initial/weight", head_weight)
    golden.tensor("value_head/initial/bias", head_bias)
    logprobs, _, values, mask = forwards[0]
    ref_logprobs = forwards[1][0]
    golden.tensor("forward/logprobs", logprobs)
    golden.tensor("forward/ref_logprobs", ref_logprobs)
    golden.tensor("forward/values", values)
    golden.tensor("forward/mask", mask.to(torch.float32))
    golden.tensor("value_head/final/weight", model.v_head.summary.weight)
    golden.tensor("value_head/final/bias", model.v_head.summary.bias)
    for name, param in model.pretrained_model.named_parameters():
        if "lora_" in name:
            golden.tensor("adapter/final/" + name.replace(".default", ""), param)
    scalar_stats = {}
    for key, value in stats.items():
        array = np.asarray(value)
        if array.size == 1 and not key.startswith("time/"):  # not TRL's wall-clock timings
            scalar_stats[key] = float(array.reshape(()))
    golden.case({"name": "step", "kind": "ppo_step", "stats": scalar_stats})
    golden.write()


if __name__ == "__main__":
    main()
