#!/usr/bin/env python3
"""Goldens for the C++ T5, LoRA adapters and DPO sequence log-probs (issue 18), written by the
originals: transformers' T5ForConditionalGeneration, PEFT, and TRL.

Run: tests/reference/.venv/bin/python tests/reference/t5_lora.py  (seeded; rewrites exactly the
committed files under tests/reference/golden/t5, .../lora and .../logps). Read by
tests/ml/t5_reference_test.cpp, t5_flan_reference_slowtest.cpp, lora_reference_test.cpp and
logprobs_reference_test.cpp.

What is written:
- t5/small: a random gated-gelu T5 with an untied lm_head, saved by save_pretrained (the fixture),
  and io.safetensors: a padded batch, encoder states, logits, greedy generate() ids and the logits
  of a KV-cached step-by-step decode. Sequences of 150 encoder / 140 decoder positions reach every
  relative-position bucket, past max_distance 128 in both directions.
- t5/tied: the same for a T5 v1.0-style model (relu, lm_head = shared embedding, decoder output
  scaled by d_model**-0.5), with a short max_distance.
- t5/flan_formula: flan-t5-base's shape with MotionGPT's 32100 + 515 vocabulary, every parameter
  filled by formula_values below (no shared RNG; the C++ test computes the same values by HF name);
  only its config, inputs and a few outputs are stored.
- lora/peft_adapter: PEFT's own adapter (r 8, alpha 16, dropout 0.05, q and v) with seeded nonzero
  lora_B; lora/peft_io.safetensors: PeftModel's eval logits, unmerged and after merge_and_unload.
- lora/app_adapter: an adapter written by the C++ app (NOT by this script). It is made once by
    build/tests/lora_reference_test --gtest_also_run_disabled_tests \
        --gtest_filter='*DISABLED_WriteAppAdapter*'
  (with MP_SOURCE_DIR set to the checkout), then this script loads it with
  PeftModel.from_pretrained and records lora/app_io.safetensors, which the C++ test holds our
  logits with that adapter against.
- logps: chosen/rejected sequence log-probs of a padded batch under the small model with the PEFT
  adapter (policy) and with it disabled (reference), by TRL's DPOTrainer.concatenated_forward /
  get_batch_logps / concatenated_inputs. TRL 1.16 (the venv's) dropped encoder-decoder support
  and these functions (its DPO scores causal LMs through a fused LM head), so they are executed
  from TRL v0.11.4's own source, read from a git mirror of huggingface/trl (MP_TRL_GIT_DIR,
  default /work/.mirror/huggingface+trl/repo), not copied here. v0.11.4's encoder-decoder
  get_batch_logps overwrites the -100 labels with 0 in place, so its nll_loss (RPO) scores the
  padding as token 0; v0.12.2's rewritten concatenated_forward (also run, from the same mirror)
  ignores the padding, and is the NLL reference. TRL 1.16's selective_log_softmax gives the
  per-token log-probs as a third check, and its IPO averaging (completion-token count clamped to
  1) is recorded next to v0.11.4's (sum / count).
"""

import ast
import json
import math
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import torch
import transformers
import peft
import trl
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import T5Config, T5ForConditionalGeneration
from trl.trainer.utils import selective_log_softmax

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
TRL_GIT_DIR = Path(os.environ.get("MP_TRL_GIT_DIR", "/work/.mirror/huggingface+trl/repo"))
TRL_OLD_TAG = "v0.11.4"
TRL_012_TAG = "v0.12.2"

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


def versions():
    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "peft": peft.__version__, "trl": trl.__version__}


def small_config(**overrides):
    base = dict(vocab_size=64, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2,
                num_heads=4, relative_attention_num_buckets=32,
                relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
                tie_word_embeddings=False, decoder_start_token_id=0, pad_token_id=0,
                eos_token_id=1, dropout_rate=0.1)
    base.update(overrides)
    return T5Config(**base)


def untie_lm_head(model, generator, std):
    """transformers 5 builds every T5 with lm_head tied to shared (tie_word_embeddings only says
    whether to scale); an untied head is a separate parameter, saved as lm_head.weight."""
    weight = torch.randn(model.lm_head.weight.shape, generator=generator) * std
    model.lm_head.weight = torch.nn.Parameter(weight)


def padded_batch(generator, lengths, vocab, width=None, pad=0, eos=1):
    """Ids in [2, vocab) ending in eos, right-padded with `pad`; mask 1 = token."""
    width = width or max(lengths)
    ids = torch.full((len(lengths), width), pad, dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(2, vocab, (n,), generator=generator)
        ids[row, n - 1] = eos
        mask[row, :n] = 1
    return ids, mask


def label_batch(generator, lengths, vocab, width=None):
    """Labels in [2, vocab) ending in eos (1), padded with -100."""
    ids, mask = padded_batch(generator, lengths, vocab, width)
    return ids.masked_fill(mask == 0, -100)


def cached_decode(model, enc_ids, enc_mask, decoder_input):
    """Logits of a step-by-step decode with use_cache=True, one position at a time."""
    encoder_outputs = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask)
    cache = None
    steps = []
    for t in range(decoder_input.size(1)):
        out = model(encoder_outputs=encoder_outputs, attention_mask=enc_mask,
                    decoder_input_ids=decoder_input[:, t:t + 1], cache=cache, use_cache=True)
        cache = out.cache
        steps.append(out.logits)
    return torch.cat(steps, dim=1)


def greedy_margin(model, enc_ids, enc_mask, generated):
    """Smallest gap between the best and second-best logit along the greedy path (ties would make
    the ids depend on float rounding)."""
    logits = model(input_ids=enc_ids, attention_mask=enc_mask,
                   decoder_input_ids=generated[:, :-1]).logits
    top2 = logits.topk(2, dim=-1).values
    gap = top2[..., 0] - top2[..., 1]
    # Only positions before each row's end count.
    live = torch.ones_like(gap, dtype=torch.bool)
    for row in range(generated.size(0)):
        ends = (generated[row, 1:] == model.config.eos_token_id).nonzero()
        if len(ends):
            live[row, ends[0, 0] + 1:] = False
    return gap[live].min().item()


def t5_io(model, enc_ids, enc_mask, labels, max_new_tokens):
    """Encoder states, teacher-forced logits, greedy ids and cached-decode logits."""
    with torch.no_grad():
        out = model(input_ids=enc_ids, attention_mask=enc_mask, labels=labels)
        decoder_input = model._shift_right(labels)
        cached = cached_decode(model, enc_ids, enc_mask, decoder_input)
        generated = model.generate(input_ids=enc_ids, attention_mask=enc_mask, do_sample=False,
                                   num_beams=1, max_new_tokens=max_new_tokens,
                                   min_new_tokens=0)
        margin = greedy_margin(model, enc_ids, enc_mask, generated)
    gap = (cached - out.logits).abs().max().item()
    assert gap < 1e-5, f"HF cached decode differs from the full forward by {gap}"
    assert margin > 1e-3, f"greedy path has a near tie ({margin}); pick another seed"
    return {"encoder_input_ids": enc_ids, "encoder_attention_mask": enc_mask, "labels": labels,
            "decoder_input_ids": decoder_input, "encoder_last_hidden_state":
            out.encoder_last_hidden_state, "logits": out.logits, "cached_logits": cached,
            "generated_ids": generated}, {"greedy_min_margin": margin,
                                          "hf_cached_vs_full_max_abs": gap,
                                          "max_new_tokens": max_new_tokens}


def save_io(path, tensors, meta):
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in tensors.items()}
    # One metadata entry: safetensors writes several in a random order (bytes would change from
    # run to run).
    meta = dict(meta, versions=versions())
    save_file(tensors, str(path), metadata={"json": json.dumps(meta, sort_keys=True)})


def fresh_dir(path):
    if path.exists():
        shutil.rmtree(path)
    return path


def save_fixture(model, name):
    """golden/t5/NAME: config.json + model.safetensors as transformers writes them."""
    out_dir = fresh_dir(GOLDEN / "t5" / name)
    model.save_pretrained(out_dir, safe_serialization=True)
    (out_dir / "generation_config.json").unlink(missing_ok=True)


def write_small():
    torch.manual_seed(1234)
    model = T5ForConditionalGeneration(small_config())
    untie_lm_head(model, torch.Generator().manual_seed(11), 64 ** -0.5)
    model.eval()
    save_fixture(model, "small")
    g = torch.Generator().manual_seed(5)
    enc_ids, enc_mask = padded_batch(g, [150, 131, 40], 64)
    labels = label_batch(g, [140, 100, 7], 64)
    tensors, meta = t5_io(model, enc_ids, enc_mask, labels, max_new_tokens=140)
    save_io(GOLDEN / "t5" / "small_io.safetensors", tensors, meta)
    print("t5/small:", meta)
    return model


def write_tied():
    torch.manual_seed(99)
    config = small_config(d_model=32, d_kv=8, d_ff=64, feed_forward_proj="relu",
                          tie_word_embeddings=True, relative_attention_num_buckets=16,
                          relative_attention_max_distance=40)
    model = T5ForConditionalGeneration(config)
    assert model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()
    model.eval()
    save_fixture(model, "tied")
    g = torch.Generator().manual_seed(6)
    enc_ids, enc_mask = padded_batch(g, [60, 45], 64)
    labels = label_batch(g, [50, 30], 64)
    tensors, meta = t5_io(model, enc_ids, enc_mask, labels, max_new_tokens=50)
    save_io(GOLDEN / "t5" / "tied_io.safetensors", tensors, meta)
    print("t5/tied:", meta)


# --- flan-t5-base shape, parameters from a formula -------------------------------------------

FLAN = dict(vocab_size=32100 + 515, d_model=768, d_kv=64, d_ff=2048, num_layers=12,
            num_decoder_layers=12, num_heads=12, relative_attention_num_buckets=32,
            relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
            tie_word_embeddings=False, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
            dropout_rate=0.1)


def formula_scale(name, shape):
    """Per-tensor amplitude: 1/sqrt(fan-in) for projections (q also 1/sqrt(d_kv): T5 does not
    scale its attention scores), 1 for the embedding and the position bias."""
    if name == "shared.weight" or name.endswith("relative_attention_bias.weight"):
        return 1.0
    if name.endswith(".q.weight"):
        return (shape[1] * FLAN["d_kv"]) ** -0.5
    return shape[1] ** -0.5


def formula_values(index, name, shape):
    """value[i] = offset + scale * sin(0.5 + 0.61803398875 i + 1.3e-7 i^2 + 0.7 k), i the
    flattened index (float64, exact up to 2^26 elements), k the name's place in sorted order; layer
    norms 1 + 0.2 sin(...). The i^2 term keeps the matrices full rank."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    phase = i * 0.61803398875 + (i * i) * 1.3e-7 + (0.5 + 0.7 * index)
    wave = torch.sin(phase)
    if len(shape) == 1:
        values = 1.0 + 0.2 * wave
    else:
        values = formula_scale(name, shape) * wave
    return values.to(torch.float32).reshape(shape)


def write_flan_formula():
    torch.manual_seed(0)
    config = T5Config(**FLAN)
    model = T5ForConditionalGeneration(config)
    untie_lm_head(model, torch.Generator().manual_seed(0), 1.0)
    names = sorted(n for n in model.state_dict() if not n.endswith("embed_tokens.weight"))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, name in enumerate(names):
            params[name].copy_(formula_values(k, name, tuple(params[name].shape)))
    model.eval()
    g = torch.Generator().manual_seed(7)
    vocab = FLAN["vocab_size"]
    enc_ids, enc_mask = padded_batch(g, [12, 9], vocab)
    labels = label_batch(g, [8, 5], vocab)
    with torch.no_grad():
        out = model(input_ids=enc_ids, attention_mask=enc_mask, labels=labels)
        decoder_input = model._shift_right(labels)
        cached = cached_decode(model, enc_ids, enc_mask, decoder_input)
        generated = model.generate(input_ids=enc_ids, attention_mask=enc_mask, do_sample=False,
                                   num_beams=1, max_new_tokens=10, min_new_tokens=0)
        margin = greedy_margin(model, enc_ids, enc_mask, generated)
    gap = (cached - out.logits).abs().max().item()
    assert gap < 1e-4 and margin > 1e-3, (gap, margin)
    logits = out.logits
    # The motion-token boundary (32100) and the first text ids; the whole row through its
    # logsumexp and argmax.
    columns = torch.cat([torch.arange(0, 48), torch.arange(32080, 32144),
                         torch.arange(vocab - 16, vocab)])
    tensors = {"encoder_input_ids": enc_ids, "encoder_attention_mask": enc_mask, "labels": labels,
               "encoder_last_hidden_state": out.encoder_last_hidden_state,
               "logit_columns": columns, "logits_columns": logits[..., columns],
               "logits_logsumexp": logits.logsumexp(-1), "logits_argmax": logits.argmax(-1),
               "cached_logits_columns": cached[..., columns],
               "cached_logits_logsumexp": cached.logsumexp(-1), "generated_ids": generated}
    meta = {"greedy_min_margin": margin, "hf_cached_vs_full_max_abs": gap,
            "parameter_names": names, "max_new_tokens": 10}
    out_dir = fresh_dir(GOLDEN / "t5" / "flan_formula")
    out_dir.mkdir(parents=True)
    config.to_json_file(out_dir / "config.json")
    save_io(out_dir / "io.safetensors", tensors, meta)
    print("t5/flan_formula: margin", margin, "cached gap", gap)


# --- LoRA / PEFT --------------------------------------------------------------------------------

def lora_inputs():
    g = torch.Generator().manual_seed(8)
    enc_ids, enc_mask = padded_batch(g, [20, 13], 64)
    labels = label_batch(g, [12, 6], 64)
    return enc_ids, enc_mask, labels


def load_small():
    model = T5ForConditionalGeneration.from_pretrained(GOLDEN / "t5" / "small")
    model.eval()
    return model


def write_peft_adapter():
    base = load_small()
    enc_ids, enc_mask, labels = lora_inputs()
    with torch.no_grad():
        base_logits = base(input_ids=enc_ids, attention_mask=enc_mask, labels=labels).logits
    base.name_or_path = "tests/reference/golden/t5/small"  # PEFT records it; no machine path
    torch.manual_seed(21)  # lora_A's kaiming init
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["q", "v"],
                        task_type="SEQ_2_SEQ_LM")
    model = get_peft_model(base, config)
    g = torch.Generator().manual_seed(22)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=g) * 0.2)
    out_dir = fresh_dir(GOLDEN / "lora" / "peft_adapter")
    model.save_pretrained(out_dir)
    (out_dir / "README.md").unlink(missing_ok=True)
    model.eval()
    with torch.no_grad():
        unmerged = model(input_ids=enc_ids, attention_mask=enc_mask, labels=labels).logits
        merged_model = model.merge_and_unload()
        merged = merged_model(input_ids=enc_ids, attention_mask=enc_mask, labels=labels).logits
    change = (unmerged - base_logits).abs().max().item()
    assert change > 1e-2, f"the adapter hardly changes the logits ({change})"
    tensors = {"encoder_input_ids": enc_ids, "encoder_attention_mask": enc_mask, "labels": labels,
               "base_logits": base_logits, "logits_unmerged": unmerged, "logits_merged": merged}
    meta = {"adapter_change_max_abs": change,
            "merged_vs_unmerged_max_abs": (merged - unmerged).abs().max().item()}
    save_io(GOLDEN / "lora" / "peft_io.safetensors", tensors, meta)
    print("lora/peft:", meta)


def write_app_adapter_io():
    adapter = GOLDEN / "lora" / "app_adapter"
    if not (adapter / "adapter_config.json").exists():
        print("lora/app_adapter missing: write it with the C++ test (see this file's header), then "
              "run this script again", file=sys.stderr)
        return
    enc_ids, enc_mask, labels = lora_inputs()
    model = PeftModel.from_pretrained(load_small(), adapter)
    model.eval()
    # Every tensor of our file reached a PEFT module, none was left at its initial value.
    ours = load_file(str(adapter / "adapter_model.safetensors"))
    loaded = {n.replace(".default", ""): p for n, p in model.named_parameters() if "lora_" in n}
    assert set(loaded) == set(ours), set(loaded) ^ set(ours)
    assert all(torch.equal(loaded[n], ours[n]) for n in ours)
    with torch.no_grad():
        unmerged = model(input_ids=enc_ids, attention_mask=enc_mask, labels=labels).logits
        exact = model.to(torch.float64)(input_ids=enc_ids, attention_mask=enc_mask,
                                        labels=labels).logits
        model.to(torch.float32)
        merged = model.merge_and_unload()(input_ids=enc_ids, attention_mask=enc_mask,
                                          labels=labels).logits
    # Well conditioned: fp32 rounding alone must stay far below the C++ tests' 1e-4.
    rounding = (unmerged.double() - exact).abs().max().item()
    assert rounding < 2e-5, f"the app adapter makes fp32 logits {rounding} off fp64"
    tensors = {"encoder_input_ids": enc_ids, "encoder_attention_mask": enc_mask, "labels": labels,
               "logits_unmerged": unmerged, "logits_merged": merged}
    save_io(GOLDEN / "lora" / "app_io.safetensors", tensors, {})
    print("lora/app: merged vs unmerged", (merged - unmerged).abs().max().item())


# --- DPO log-probs (TRL) -----------------------------------------------------------------------

def trl_old_functions(tag, names):
    """DPOTrainer methods `names` and utils.pad_to_length from TRL `tag`'s source, executed as
    they are (not copied)."""
    def source(path):
        return subprocess.run(["git", f"--git-dir={TRL_GIT_DIR}", "show", f"{tag}:{path}"],
                              check=True, capture_output=True, text=True).stdout

    from typing import Any, Dict, List, Literal, Optional, Tuple, Union
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "Any": Any,
                 "Dict": Dict, "List": List, "Literal": Literal, "Optional": Optional,
                 "Tuple": Tuple, "Union": Union}

    def load(tree, names, where):
        found = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in names and node.name not in found:
                node.decorator_list = []
                exec(compile(ast.Module(body=[node], type_ignores=[]), where, "exec"), namespace)
                found[node.name] = namespace[node.name]
        assert set(found) == set(names), f"{where}: missing {set(names) - set(found)}"
        return found

    load(ast.parse(source("trl/trainer/utils.py")), ["pad_to_length"], "trl/trainer/utils.py")
    trainer_tree = ast.parse(source("trl/trainer/dpo_trainer.py"))
    dpo_class = next(n for n in trainer_tree.body
                     if isinstance(n, ast.ClassDef) and n.name == "DPOTrainer")
    return load(dpo_class, names, "trl/trainer/dpo_trainer.py")


def write_logps():
    fns = trl_old_functions(TRL_OLD_TAG, ["concatenated_inputs", "get_batch_logps",
                                          "concatenated_forward"])
    fns12 = trl_old_functions(TRL_012_TAG, ["concatenated_inputs", "concatenated_forward"])
    model = PeftModel.from_pretrained(load_small(), GOLDEN / "lora" / "peft_adapter")
    model.eval()
    g = torch.Generator().manual_seed(9)
    prompt_ids, prompt_mask = padded_batch(g, [17, 11, 6], 64)
    chosen = label_batch(g, [9, 4, 12], 64)
    rejected = label_batch(g, [5, 14, 3], 64)
    batch = {"prompt_input_ids": prompt_ids, "prompt_attention_mask": prompt_mask,
             "chosen_labels": chosen, "rejected_labels": rejected}
    tensors = {"prompt_input_ids": prompt_ids, "prompt_attention_mask": prompt_mask,
               "chosen_labels": chosen, "rejected_labels": rejected}
    meta = {"trl_old_tag": TRL_OLD_TAG, "trl_012_tag": TRL_012_TAG}
    batch12 = {"prompt_input_ids": prompt_ids, "prompt_attention_mask": prompt_mask}
    for side, labels in (("chosen", chosen), ("rejected", rejected)):
        batch12[f"{side}_input_ids"] = labels.clamp(min=0)
        batch12[f"{side}_attention_mask"] = (labels != -100).long()
    for loss_type in ("sigmoid", "ipo"):
        trainer = types.SimpleNamespace(
            is_encoder_decoder=True, is_vision_model=False, label_pad_token_id=-100,
            padding_value=0, aux_loss_enabled=False, loss_type=loss_type,
            accelerator=types.SimpleNamespace(device=torch.device("cpu")),
            concatenated_inputs=fns["concatenated_inputs"],
            get_batch_logps=fns["get_batch_logps"])
        for role in ("policy", "reference"):
            with torch.no_grad():
                if role == "reference":
                    with model.disable_adapter():
                        result = fns["concatenated_forward"](trainer, model, dict(batch))
                else:
                    result = fns["concatenated_forward"](trainer, model, dict(batch))
            c_logps, r_logps, c_logits, r_logits, nll = result
            key = f"{loss_type}_{role}"
            tensors[f"{key}_chosen_logps"] = c_logps
            tensors[f"{key}_rejected_logps"] = r_logps
            tensors[f"{key}_logits_chosen_mean"] = c_logits.mean().reshape(1)
            tensors[f"{key}_logits_rejected_mean"] = r_logits.mean().reshape(1)
            tensors[f"{key}_nll_loss"] = nll.reshape(1)
            # TRL v0.12.2: the same path rewritten (masked logits means, NLL without padding).
            trainer12 = types.SimpleNamespace(
                is_encoder_decoder=True, label_pad_token_id=-100, padding_value=0,
                aux_loss_enabled=False, loss_type=loss_type, use_weighting=False,
                args=types.SimpleNamespace(rpo_alpha=1.0, max_length=None),
                concatenated_inputs=fns12["concatenated_inputs"])
            with torch.no_grad():
                if role == "reference":
                    with model.disable_adapter():
                        out12 = fns12["concatenated_forward"](trainer12, model, dict(batch12))
                else:
                    out12 = fns12["concatenated_forward"](trainer12, model, dict(batch12))
            tensors[f"{key}_v012_chosen_logps"] = out12["chosen_logps"]
            tensors[f"{key}_v012_rejected_logps"] = out12["rejected_logps"]
            tensors[f"{key}_v012_nll_loss"] = out12["nll_loss"].reshape(1)
            gap = max((out12["chosen_logps"] - c_logps).abs().max().item(),
                      (out12["rejected_logps"] - r_logps).abs().max().item())
            assert gap < 1e-5, f"TRL v0.12.2 and v0.11.4 log-probs differ by {gap}"

    # TRL 1.16's current pieces: selective_log_softmax over the same concatenated forward, and its
    # IPO averaging (scores / completion tokens clamped to 1).
    labels = fns["concatenated_inputs"](batch, is_encoder_decoder=True)["concatenated_labels"]
    with torch.no_grad():
        logits = model(input_ids=prompt_ids.repeat(2, 1), attention_mask=prompt_mask.repeat(2, 1),
                       labels=labels).logits
    mask = labels != -100
    per_token = selective_log_softmax(logits, labels.masked_fill(~mask, 0)) * mask
    sums = per_token.sum(-1)
    tensors["trl116_logps_sum"] = sums
    tensors["trl116_logps_ipo_average"] = sums / mask.sum(-1).clamp(min=1)
    gap = (sums - torch.cat([tensors["sigmoid_policy_chosen_logps"],
                             tensors["sigmoid_policy_rejected_logps"]])).abs().max().item()
    assert gap < 1e-5, f"TRL 1.16 and v0.11.4 disagree by {gap}"
    meta["trl116_vs_v0114_max_abs"] = gap
    save_io(GOLDEN / "logps" / "dpo_logps.safetensors", tensors, meta)
    print("logps:", meta)


def main():
    # PEFT keeps target_modules as a set: a fixed string hash keeps adapter_config.json's order.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], dict(os.environ, PYTHONHASHSEED="0"))
    print(versions())
    write_small()
    write_tied()
    write_flan_formula()
    write_peft_adapter()
    write_app_adapter_io()
    write_logps()


if __name__ == "__main__":
    main()
