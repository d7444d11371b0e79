#!/usr/bin/env python3
"""Goldens for the MotionGPT import (ml/models/motiongpt_import.cpp) from OpenMotionLab/MotionGPT's
own code, imported from a checkout of its git mirror (MGPT_GIT, default
/work/.mirror/OpenMotionLab+MotionGPT/repo), never copied here.

Run: tests/reference/.venv/bin/python tests/reference/motiongpt.py  (seeded). Writes
tests/reference/golden/motiongpt/, read by tests/ml/motiongpt_reference_test.cpp:
- flan-t5/: config.json and spiece.model of a tiny T5 directory in flan-t5-base's layout (HF's
  config.json before the vocabulary resize; spiece.model trained here by the sentencepiece
  package with T5's ids pad 0, eos 1, unk 2). MotionGPT's MLM loads the whole directory (with
  the weights and tokenizer files, left in a temporary directory) by AutoTokenizer and
  T5ForConditionalGeneration.from_pretrained, adds <motion_id_0..code_num+2> and resizes.
- motiongpt_tiny.ckpt: a Lightning-style checkpoint written by torch.save: state_dict of a module
  holding MotionGPT's VQVae as `vae` (configs/vq/default.yaml's layout with small widths: code_num
  32, code_dim 16, width 16, depth 2, down_t 2, stride_t 2, dilation growth 3, seeded random
  weights and codebook) and its MLM as `lm` (so keys vae.* and lm.language_model.*),
  hyper_parameters holding OmegaConf objects, optimizer_states (one AdamW step), callbacks.
- meta/mean.npy, std.npy (263,) by numpy.save.
- vq_io.safetensors: feature sequences (1, T, 263) for T in LENGTHS, VQVae.encode's codes and
  VQVae.decode's features of those codes.
- reference.json: the encoder input MotionGPT's MLM.generate_conditional(task="t2m") builds for
  two captions, each state_dict tensor's sum and sum of squares, the commit, the config, the code margins (how far each frame's nearest code is
  from the second nearest, so a C++ rounding difference cannot flip a code).
The checkpoint's zip bytes depend on nothing random beyond the seeds, so reruns rewrite them.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import sentencepiece as spm
import torch
from omegaconf import OmegaConf
from safetensors.torch import save_file
from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden", "motiongpt")
MGPT_GIT = os.environ.get("MGPT_GIT", "/work/.mirror/OpenMotionLab+MotionGPT/repo")
LENGTHS = [16, 24, 40]
VQ = dict(nfeats=263, quantizer="ema_reset", code_num=32, code_dim=16, output_emb_width=16,
          down_t=2, stride_t=2, width=16, depth=2, dilation_growth_rate=3, norm=None,
          activation="relu")
CAPTIONS = [f"a person {verb} {way}" for verb in ("walks", "runs", "jumps", "waves", "kicks",
                                                   "turns", "sits down", "stands up")
            for way in ("forward", "backward", "to the left", "to the right", "slowly",
                        "quickly", "twice", "in a circle")]


def checkout(git_dir):
    target = tempfile.mkdtemp(prefix="mgpt_")
    archive = subprocess.run(["git", "--git-dir", git_dir, "archive", "HEAD", "mGPT"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return target, commit


def tiny_t5_directory(path):
    os.makedirs(path, exist_ok=True)
    # Written through model_writer: a model_prefix would be recorded in the model (a temporary
    # path, different on every run).
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CAPTIONS), model_writer=model, vocab_size=32,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, num_threads=1,
        character_coverage=1.0, normalization_rule_name="identity", minloglevel=2)
    with open(os.path.join(path, "spiece.model"), "wb") as f:
        f.write(model.getvalue())
    # flan-t5-base's directory also has the tokenizer files AutoTokenizer identifies it by.
    T5Tokenizer(vocab_file=os.path.join(path, "spiece.model"), legacy=True).save_pretrained(path)
    torch.manual_seed(1)
    # flan-t5-base's kind (gated-gelu, untied lm_head), tiny; vocabulary as HF's config has it
    # before MotionGPT's resize (32 pieces + 100 extra ids, rounded up as flan-t5 rounds 32100 to 32128).
    config = T5Config(vocab_size=136, d_model=16, d_kv=4, d_ff=32, num_layers=1,
                      num_decoder_layers=2, num_heads=2, relative_attention_num_buckets=8,
                      relative_attention_max_distance=20, feed_forward_proj="gated-gelu",
                      tie_word_embeddings=False, dropout_rate=0.0, decoder_start_token_id=0,
                      pad_token_id=0, eos_token_id=1)
    T5ForConditionalGeneration(config).save_pretrained(path, safe_serialization=True)
    # flan-t5-base's config.json on the Hub (written by transformers 4) says tie_word_embeddings
    # false, and its lm_head is a weight of its own. transformers 5 writes every T5 as tied, with
    # scale_decoder_outputs saying whether it scales; write the Hub's form, which transformers 5
    # reads as the same untied, unscaled model.
    with open(os.path.join(path, "config.json")) as f:
        hub = json.load(f)
    hub["tie_word_embeddings"] = False
    del hub["scale_decoder_outputs"]
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(hub, f, indent=2)


def main():
    os.makedirs(OUT, exist_ok=True)
    mgpt_dir, commit = checkout(MGPT_GIT)
    sys.path.insert(0, mgpt_dir)
    from mGPT.archs.mgpt_vq import VQVae  # MotionGPT's own modules
    from mGPT.archs.mgpt_lm import MLM

    t5_dir = os.path.join(tempfile.mkdtemp(prefix="flan_t5_"), "flan-t5")
    tiny_t5_directory(t5_dir)

    class MotionGpt(torch.nn.Module):  # only the attribute names matter: they make the keys
        def __init__(self):
            super().__init__()
            torch.manual_seed(2)
            self.vae = VQVae(**VQ)
            self.lm = MLM(model_path=t5_dir, model_type="t5", stage="lm_instruct",
                          motion_codebook_size=VQ["code_num"])
            # transformers 5 ties lm_head to shared whatever the config says; flan-t5's is
            # separate, so give it a weight of its own as the release checkpoint has.
            head = self.lm.language_model.lm_head
            head.weight = torch.nn.Parameter(torch.randn(head.weight.shape) * 16 ** -0.5)

    model = MotionGpt().eval()
    # One AdamW step, for a real optimizer_states entry (before the goldens: it moves the
    # weights). Over the language model only, as MotionGPT's instruction stage trains it.
    optimizer = torch.optim.AdamW(model.lm.parameters(), lr=2e-4)
    sum(p.sum() for p in model.lm.parameters()).backward()
    optimizer.step()
    optimizer.zero_grad()
    # A codebook spread like the encoder's outputs, so that the codes vary over frames.
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        probe = model.vae.encoder(torch.randn(4, 263, 64, generator=g)).permute(0, 2, 1)
        probe = probe.reshape(-1, VQ["code_dim"])
        model.vae.quantizer.codebook.copy_(
            probe[torch.randperm(probe.shape[0], generator=g)[:VQ["code_num"]]]
            + 0.05 * torch.randn(VQ["code_num"], VQ["code_dim"], generator=g))

    # The encoder input MotionGPT's own text-to-motion path builds for a caption: its
    # template_fulfill is wrapped to record what it returns (quota_ratio 0: MotionGPT quotes the
    # caption half the time; the app never does).
    prompts = []
    fulfill = model.lm.template_fulfill

    def recording(*args, **kwargs):
        inputs, outputs = fulfill(*args, **kwargs)
        prompts.extend(inputs)
        return inputs, outputs

    model.lm.template_fulfill = recording
    model.lm.quota_ratio = 0.0
    captions = ["a person walks forward", "someone waves with the left hand"]
    try:
        with torch.no_grad():
            model.lm.generate_conditional(texts=captions, task="t2m", stage="test")
    except IndexError:
        # transformers 5's cache cannot generate with fewer encoder than decoder layers; the
        # prompts are recorded before generation starts.
        pass
    del model.lm.template_fulfill
    assert len(prompts) == len(captions), prompts

    tensors = {}
    margins = []
    with torch.no_grad():
        for length in LENGTHS:
            x = torch.randn(1, length, 263, generator=g)
            codes, _ = model.vae.encode(x)
            decoded = model.vae.decode(codes[0])
            tensors[f"features_{length}"] = x
            tensors[f"codes_{length}"] = codes.to(torch.int64)
            tensors[f"decoded_{length}"] = decoded.contiguous()
            latent = model.vae.encoder(x.permute(0, 2, 1)).permute(0, 2, 1)[0]
            distances = torch.cdist(latent, model.vae.quantizer.codebook).sort(dim=1).values
            margins.append(float((distances[:, 1] - distances[:, 0]).min()))
    save_file(tensors, os.path.join(OUT, "vq_io.safetensors"))


    cfg = OmegaConf.create({
        "model": {"params": {"condition": "text", "task": "t2m", "lm": {
            "target": "mGPT.archs.mgpt_lm.MLM", "params": {"model_type": "t5",
                                                          "model_path": "deps/flan-t5-base"}},
            "motion_vae": {"target": "mGPT.archs.mgpt_vq.VQVae", "params": VQ}}},
        "TRAIN": {"STAGE": "lm_instruct"}})
    checkpoint = {
        "epoch": 299,
        "global_step": 1000,
        "pytorch-lightning_version": "1.8.6",
        "state_dict": model.state_dict(),
        "loops": {"fit_loop": {"epoch_progress": {"current": {"completed": 299}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None, 'mode': 'min'}": {
            "best_model_score": None, "best_model_path": "", "dirpath": "checkpoints"}},
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": {"cfg": cfg, "datamodule": None,
                             "codes": OmegaConf.create(list(range(4)))},
    }
    torch.save(checkpoint, os.path.join(OUT, "motiongpt_tiny.ckpt"))

    # The importer reads only these two files of the flan-t5 directory.
    os.makedirs(os.path.join(OUT, "flan-t5"), exist_ok=True)
    for name in ("config.json", "spiece.model"):
        shutil.copy(os.path.join(t5_dir, name), os.path.join(OUT, "flan-t5", name))
    os.makedirs(os.path.join(OUT, "meta"), exist_ok=True)
    np.save(os.path.join(OUT, "meta", "mean.npy"), np.linspace(-1, 1, 263))
    np.save(os.path.join(OUT, "meta", "std.npy"), np.full(263, 0.5))

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"motiongpt_commit": commit, "vq": {k: v for k, v in VQ.items()},
                   "lengths": LENGTHS, "min_code_margin": min(margins),
                   "vocab_size": model.lm.language_model.shared.weight.shape[0],
                   "t2m_prompts": [{"caption": c, "input": i} for c, i in zip(captions, prompts)],
                   # Per-tensor sum and sum of squares of the state_dict, to check every
                   # imported weight without storing them twice.
                   "state_sums": {k: [float(v.double().sum()), float(v.double().square().sum())]
                                  for k, v in model.state_dict().items()},
                   "motion_id_0": model.lm.tokenizer.convert_tokens_to_ids("<motion_id_0>"),
                   "torch": torch.__version__}, f, indent=1)
        f.write("\n")
    print("codes", [tensors[f"codes_{n}"].tolist() for n in LENGTHS], "margin", min(margins))


if __name__ == "__main__":
    main()
