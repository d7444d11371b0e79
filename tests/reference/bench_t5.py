#!/usr/bin/env python3
"""The Python side of tests/bench/compare.sh (issue 19): the same work as build/tests/bench_side_by_side,
run by the originals (transformers' T5ForConditionalGeneration.generate, PEFT's LoRA, TRL's
log-prob gather), one JSON line per case on stdout. Nothing here is a test and nothing is
committed from its output.

  bench_t5.py prep --size default|flan --out DIR
      default: DIR/config.json from the embedded bundle's "t5" section and DIR/model.safetensors a
      link to resources/models/default/model.safetensors (the very weights the app loads).
      flan: a seeded random T5ForConditionalGeneration of flan-t5-base's shape with MotionGPT's
      vocabulary (32100 + 515), written by save_pretrained (about 1 GB; keep it under /tmp).
      Both: DIR/inputs.safetensors, the tokenised work both sides read (a pair prompt, a batch of
      64 padded prompts, a DPO batch of 64 pairs), and DIR/work.json, the FLOPs of each case.
  bench_t5.py run --dir DIR --cases gemm,pair,batch,dpo --reps N --threads N [--tokens 51]
                  [--warmup 1]
      Each case: one untimed warm-up (DPO: --warmup), then N timed repetitions; prints
      {"side": "python", "case": ..., "threads": ..., "ms": [...], "cpu_ms": [...]}.
      pair_int8, batch_int8: pair and batch with PyTorch's own int8 for CPU inference,
      torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8) on the
      same model: every nn.Linear (encoder, decoder, lm_head) gets int8 weights with per-tensor
      scales, and its input is quantised to uint8 on the fly at each call, so the product itself is
      int8 x int8 (fbgemm). The app's int8 (GenerateOptions::int8Weights) is weight-only with
      per-row scales and float32 activations, in the decoding steps only: the two int8 rows are
      each side's int8, not identical work.

Decoding: do_sample, top_k 50, top_p 1, temperature 1, use_cache, exactly --tokens new tokens
(end-of-sequence cannot stop a row early, so both sides do the same number of decoder steps).
DPO step: TRL 1.16's DPOTrainer scores causal LMs only (input_ids + completion_mask through a fused
LM head), so it cannot run a T5; the step is timed as DPOTrainer composes it for a PEFT model
without a ref_model: dropout off (TRL's disable_dropout_in_model, and the model loaded with
dropout_rate 0, which that function does not reach in T5's attention), one concatenated forward of
chosen + rejected through the adapter, TRL's selective_log_softmax summed over the completion, the
same forward under TRL's use_adapter(model, None) without gradient (the reference), the sigmoid
loss (beta 0.1), backward, gradient clipping at 1.0, AdamW (weight decay 0), zero_grad.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file, load_file
from transformers import T5Config, T5ForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import timed  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BUNDLE = REPO / "resources" / "models" / "default"
PAIR_TOKENS = 51  # 49 motion codes + SOM + EOM: the labeling pair's worst case
BATCH = 64
GEMM_N = 1536

FLAN = dict(vocab_size=32100 + 515, d_model=768, d_kv=64, d_ff=2048, num_layers=12,
            num_decoder_layers=12, num_heads=12, feed_forward_proj="gated-gelu",
            tie_word_embeddings=False, relative_attention_num_buckets=32,
            relative_attention_max_distance=128, decoder_start_token_id=0, pad_token_id=0,
            eos_token_id=1, dropout_rate=0.1, layer_norm_epsilon=1e-6)


def prep(size, out):
    out.mkdir(parents=True, exist_ok=True)
    if size == "default":
        bundle = json.loads((DEFAULT_BUNDLE / "config.json").read_text())
        (out / "config.json").write_text(json.dumps(bundle["t5"], indent=2))
        link = out / "model.safetensors"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(DEFAULT_BUNDLE / "model.safetensors")
        text_vocab = bundle["tokens"]["text_vocab_size"]
        config = T5Config(**bundle["t5"])
    else:
        torch.manual_seed(19)
        config = T5Config(**FLAN)
        model = T5ForConditionalGeneration(config)
        model.save_pretrained(out, safe_serialization=True)
        text_vocab = 32100
    gen = torch.Generator().manual_seed(19)
    vocab = config.vocab_size

    def text_row(length):
        ids = torch.randint(2, text_vocab, (length,), generator=gen)
        return torch.cat([ids, torch.tensor([1])])  # </s>

    def padded(rows, pad):
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return ids, mask

    # Prompts of 8..20 words' worth of pieces; DPO sides of 20..45 codes + SOM + EOM.
    pair = text_row(12).unsqueeze(0)
    batch_ids, batch_mask = padded([text_row(int(n)) for n in
                                    torch.randint(8, 21, (BATCH,), generator=gen)], 0)
    dpo_prompt, dpo_mask = padded([text_row(int(n)) for n in
                                   torch.randint(8, 21, (BATCH,), generator=gen)], 0)

    def labels():
        rows = [torch.randint(text_vocab, vocab, (int(n) + 2,), generator=gen)
                for n in torch.randint(20, 46, (BATCH,), generator=gen)]
        return padded(rows, -100)[0]

    chosen, rejected = labels(), labels()
    save_file({"pair_ids": pair, "batch_ids": batch_ids, "batch_mask": batch_mask,
               "dpo_prompt_ids": dpo_prompt, "dpo_prompt_mask": dpo_mask,
               "dpo_chosen_labels": chosen, "dpo_rejected_labels": rejected},
              str(out / "inputs.safetensors"))
    (out / "work.json").write_text(json.dumps(flops(config, pair, batch_mask, dpo_mask, chosen,
                                                    rejected), indent=2))


def flops(config, pair, batch_mask, dpo_mask, chosen, rejected):
    """Multiply-add FLOPs of the dense layers (2 per weight per token; attention scores left out,
    they are small at these lengths), so each case's GFLOP/s can be set against the GEMM's."""
    d, f, inner, v = config.d_model, config.d_ff, config.num_heads * config.d_kv, config.vocab_size
    ff = (3 if "gated" in config.feed_forward_proj else 2) * d * f
    enc_layer = 4 * d * inner + ff
    dec_layer_self = 4 * d * inner + ff + 2 * d * inner  # self-attn, FF, cross q and o
    cross_kv = 2 * d * inner  # cross k and v: once per encoder position per decoder layer
    enc = lambda tokens: 2 * tokens * enc_layer * config.num_layers
    dec = lambda tokens, enc_tokens: 2 * (tokens * (dec_layer_self * config.num_decoder_layers
                                                    + d * v)
                                          + enc_tokens * cross_kv * config.num_decoder_layers)
    prompt = pair.shape[1]
    pair_flops = enc(prompt) + dec(2 * PAIR_TOKENS, prompt)
    batch_prompt = int(batch_mask.sum())
    batch_flops = enc(batch_prompt) + dec(BATCH * PAIR_TOKENS, batch_prompt)
    width = max(chosen.shape[1], rejected.shape[1])
    dpo_prompt = 2 * int(dpo_mask.sum())
    forward = enc(dpo_prompt) + dec(2 * BATCH * width, dpo_prompt)
    # policy forward + reference forward + backward through the frozen weights (input gradients
    # only: about one more forward; LoRA's own products are negligible)
    return {"gemm": 2 * GEMM_N ** 3, "pair": pair_flops, "batch": batch_flops,
            "dpo": 3 * forward}


def run(args):
    torch.set_num_threads(args.threads)
    directory = Path(args.dir)
    inputs = load_file(str(directory / "inputs.safetensors"))
    model = T5ForConditionalGeneration.from_pretrained(directory)
    model.generation_config.eos_token_id = None  # every row decodes args.tokens steps
    cases = args.cases.split(",")

    def emit(case, times, **extra):
        print(json.dumps({"side": "python", "case": case, "threads": args.threads,
                          "ms": times[0], "cpu_ms": times[1], **extra}), flush=True)

    if "gemm" in cases:
        a, b = torch.randn(GEMM_N, GEMM_N), torch.randn(GEMM_N, GEMM_N)
        emit("gemm", timed(max(args.reps, 3), lambda: torch.mm(a, b)))

    def generate(ids, mask, samples, model=model):
        with torch.inference_mode():
            return model.generate(input_ids=ids, attention_mask=mask, do_sample=True, top_k=50,
                                  top_p=1.0, temperature=1.0, use_cache=True,
                                  max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                                  num_return_sequences=samples, pad_token_id=0)

    model.eval()
    torch.manual_seed(7)
    if "pair" in cases:
        ids = inputs["pair_ids"]
        out = generate(ids, torch.ones_like(ids), 2)
        assert out.shape == (2, args.tokens + 1), out.shape
        emit("pair", timed(args.reps, lambda: generate(ids, torch.ones_like(ids), 2)))
    if "batch" in cases:
        ids, mask = inputs["batch_ids"], inputs["batch_mask"]
        emit("batch", timed(args.reps, lambda: generate(ids, mask, 1)))
    if "pair_int8" in cases or "batch_int8" in cases:
        start = time.perf_counter()
        quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                           dtype=torch.qint8)
        quantize_ms = 1000 * (time.perf_counter() - start)
        quantized.eval()
        torch.manual_seed(7)
        if "pair_int8" in cases:
            ids = inputs["pair_ids"]
            out = generate(ids, torch.ones_like(ids), 2, quantized)
            assert out.shape == (2, args.tokens + 1), out.shape
            emit("pair_int8", timed(args.reps, lambda: generate(ids, torch.ones_like(ids), 2,
                                                                 quantized)),
                 quantize_ms=quantize_ms)
        if "batch_int8" in cases:
            ids, mask = inputs["batch_ids"], inputs["batch_mask"]
            emit("batch_int8", timed(args.reps, lambda: generate(ids, mask, 1, quantized)),
                 quantize_ms=quantize_ms)
    # dropout_rate 0 for training: TRL's disable_dropout_in_model zeroes nn.Dropout modules only,
    # and T5's attention applies config.dropout_rate to its probabilities as a float; the app's
    # step runs without dropout.
    if "dpo" in cases:
        model = T5ForConditionalGeneration.from_pretrained(directory, dropout_rate=0.0)
        emit("dpo", timed(args.reps, dpo_step(model, inputs), args.warmup))
    if "dpo_cached" in cases:
        # A fresh adapter on the reloaded weights, as the app's case (same adapter, cached refs).
        model = T5ForConditionalGeneration.from_pretrained(directory, dropout_rate=0.0)
        emit("dpo_cached", timed(args.reps, dpo_step(model, inputs, precomputed=True),
                                 args.warmup))


def dpo_step(model, inputs, precomputed=False):
    from peft import LoraConfig, get_peft_model
    from trl.trainer.utils import disable_dropout_in_model, selective_log_softmax, use_adapter

    policy = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05,
                                              target_modules=["q", "v"],
                                              task_type="SEQ_2_SEQ_LM"))
    disable_dropout_in_model(policy)
    policy.train()
    optimizer = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=1e-3,
                                  weight_decay=0.0)  # the app's AdamW default
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1000)
    prompt = inputs["dpo_prompt_ids"].repeat(2, 1)
    mask = inputs["dpo_prompt_mask"].repeat(2, 1)
    chosen, rejected = inputs["dpo_chosen_labels"], inputs["dpo_rejected_labels"]
    width = max(chosen.shape[1], rejected.shape[1])
    pad = lambda t: torch.nn.functional.pad(t, (0, width - t.shape[1]), value=-100)
    labels = torch.cat([pad(chosen), pad(rejected)])
    decoder_ids = model._shift_right(labels)
    label_mask = labels != -100
    safe_labels = labels.masked_fill(~label_mask, 0)
    beta = 0.1

    def logps():
        logits = policy(input_ids=prompt, attention_mask=mask, decoder_input_ids=decoder_ids,
                        use_cache=False).logits
        return (selective_log_softmax(logits, safe_labels) * label_mask).sum(-1)

    def reference():
        with torch.no_grad(), use_adapter(policy, adapter_name=None):
            return logps()

    # precompute_ref_log_probs: the reference's log-probs once, before training (not timed).
    cached = reference() if precomputed else None

    def step():
        policy_logps = logps()
        ref_logps = cached if precomputed else reference()
        pc, pr = policy_logps.chunk(2)
        rc, rr = ref_logps.chunk(2)
        loss = -torch.nn.functional.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in policy.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()

    return step


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--size", choices=["default", "flan"], required=True)
    p.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--cases", default="gemm,pair,batch,dpo")
    r.add_argument("--reps", type=int, default=3)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--tokens", type=int, default=PAIR_TOKENS)
    r.add_argument("--warmup", type=int, default=1, help="untimed steps before a DPO case")
    args = parser.parse_args()
    if args.command == "prep":
        prep(args.size, Path(args.out))
    else:
        run(args)


if __name__ == "__main__":
    main()
