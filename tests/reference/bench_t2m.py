#!/usr/bin/env python3
"""The Python side of tests/bench/compare.sh's T2M case (issue 19): the HumanML3D evaluator of
Guo et al. (EricGuo5513/text-to-motion's EvaluatorModelWrapper: TextEncoderBiGRUCo,
MovementConvEncoder, MotionEncoderBiGRUCo) embedding 1,000 captions and 1,000 motions, run by
T2M's own code imported from its git mirror (t2m_evaluator.import_t2m: a checkout extracted to a
temporary directory; none of its code is copied here). The app's side is the case t2m_embed of
build/tests/bench_side_by_side, on the same files. Nothing here is a test and nothing it writes is
committed.

  bench_t2m.py prep --out DIR          (compare.sh: $MP_BENCH_DIR/t2m, default /tmp/mp_bench/t2m)
      DIR/checkpoints/t2m/text_mot_match/model/finest.tar  seeded random weights at the
          evaluator's real size (word 300, POS 15, text hidden 512, coemb 512, movement 512/512,
          motion hidden 1024), saved by T2M's TextMotionMatchTrainer.save (t2m_evaluator.py's
          write_checkpoint), where T2M's build_models reads it
      DIR/glove/our_vab_*     a GloVe-style table (T2M's WordVectorizer files) of a small
                              vocabulary, 300-d
      DIR/meta/mean.npy, std.npy   the evaluator's normalisation
      DIR/inputs.safetensors  1,000 seeded motions (raw features, lengths 40..196 frames in
          multiples of 4: motions (frames, 263) concatenated, motion_lengths) and 1,000 captions
          of 3..24 words (caption_words / caption_pos: (N, 24) indices into the metadata's
          "words" / "pos_tags" JSON lists, -1 padded; caption_lengths). Some words are missing
          from the table (-> unk) and some captions are longer than T2M's 20 words (cropped).
  bench_t2m.py run --dir DIR [--reps 3] [--threads 1] [--count 1000]
      T2M's evaluation embedding, as its evaluation loops do it: a Text2MotionDatasetV2 holding
      the inputs (its __getitem__: WordVectorizer lookups, Z normalisation, the zero pad to 196
      frames), a DataLoader of batch 32 (the app's EvaluationOptions::batchSize) with T2M's
      collate_fn, and EvaluatorModelWrapper.get_co_embeddings per batch (torch.no_grad). The first
      caption of each item and no random crop (t2m_evaluator.FirstCaptionNoCrop), as the app's
      side: each motion is embedded whole. One untimed warm-up of two batches, then --reps timed
      passes over the first --count items; prints {"side": "python", "case": "t2m_embed",
      "threads": ..., "ms": [...], "cpu_ms": [...]}.
  bench_t2m.py check --dir DIR --app FILE [--count 64]
      The first --count items embedded one at a time by the same path (so their order is known)
      against the app's embeddings (bench_side_by_side --t2m-dump FILE); prints the max abs
      differences. Not timed.
"""

import argparse
import contextlib
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import timed  # noqa: E402
import t2m_evaluator as golden  # noqa: E402  (import_t2m, write_checkpoint, FirstCaptionNoCrop)

BATCH = 32  # ml/eval/evaluation.h EvaluationOptions::batchSize, as T2M's evaluation
COUNT = 1000
MAX_CAPTION_WORDS = 24
# T2M's evaluator (networks/evaluator_wrapper.py, Comp_v6_KLD01's opt.txt).
REAL_DIMS = dict(dim_word=300, dim_pos_ohot=15, dim_text_hidden=512, dim_coemb_hidden=512,
                 dim_movement_enc_hidden=512, dim_movement_latent=512, dim_motion_hidden=1024)
# Tags of spaCy's universal set; the last four are not in T2M's POS_enumerator (-> OTHER).
POS_TAGS = ["VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV", "CCONJ", "PROPN",
            "PART", "SCONJ"]
PLAIN_WORDS = ["a", "the", "person", "man", "woman", "his", "her", "and", "then", "with", "to",
               "in", "on", "while", "around", "again", "twice", "body", "arms", "steps", "move",
               "circle", "sideways", "hip", "wave", "motion", "side", "both", "another", "once"]
MISSING_WORDS = ["zigzag", "cartwheel", "moonwalk", "pirouette", "shimmy", "somersault"]


def evaluator_opt(directory):
    return golden.make_opt(directory / "checkpoints", directory / "unused", dims=REAL_DIMS)


def caption_words(o):
    vip = []
    for words in o.words.VIP_dict.values():
        vip += [w for w in words if w not in vip]
    return vip + PLAIN_WORDS + [f"w{i:03d}" for i in range(120)]


def write_glove(words, root):
    table = ["sos", "eos", "unk"] + words
    rng = np.random.default_rng(31)
    vectors = rng.normal(0, 0.4, size=(len(table), REAL_DIMS["dim_word"])).astype(np.float32)
    order = rng.permutation(len(table))  # our_vab_idx.pkl is not the identity, as T2M's
    data = np.zeros_like(vectors)
    data[order] = vectors
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "our_vab_data.npy", data)
    with open(root / "our_vab_words.pkl", "wb") as f:
        pickle.dump(table, f, protocol=3)
    with open(root / "our_vab_idx.pkl", "wb") as f:
        pickle.dump({w: int(order[i]) for i, w in enumerate(table)}, f, protocol=3)


def write_inputs(words, path):
    rng = np.random.default_rng(37)
    lengths = 4 * rng.integers(10, 50, COUNT)  # 40..196 frames
    motions = []
    for frames in lengths:
        base = rng.normal(0, 1, size=(1, golden.FEATURES))
        walk = np.cumsum(rng.normal(0, 0.2, size=(frames, golden.FEATURES)), axis=0)
        motions.append((base + walk).astype(np.float32))
    vocabulary = words + MISSING_WORDS
    caption_lengths = rng.integers(3, MAX_CAPTION_WORDS + 1, COUNT)
    word_ids = np.full((COUNT, MAX_CAPTION_WORDS), -1, dtype=np.int64)
    pos_ids = np.full((COUNT, MAX_CAPTION_WORDS), -1, dtype=np.int64)
    for i, n in enumerate(caption_lengths):
        word_ids[i, :n] = rng.integers(0, len(vocabulary), n)
        pos_ids[i, :n] = rng.integers(0, len(POS_TAGS), n)
    save_file({"motions": np.concatenate(motions), "motion_lengths": lengths.astype(np.int64),
               "caption_words": word_ids, "caption_pos": pos_ids,
               "caption_lengths": caption_lengths.astype(np.int64)}, str(path),
              metadata={"words": json.dumps(vocabulary), "pos_tags": json.dumps(POS_TAGS)})


def prep(out):
    o = golden.import_t2m()
    opt = evaluator_opt(out)
    layout = Path(opt.checkpoints_dir) / "t2m" / "text_mot_match" / "model"
    golden.write_checkpoint(o, opt, layout / "finest.tar", noise=0.02)
    words = caption_words(o)
    write_glove(words, out / "glove")
    rng = np.random.default_rng(41)
    (out / "meta").mkdir(parents=True, exist_ok=True)
    np.save(out / "meta" / "mean.npy", rng.normal(0, 1, golden.FEATURES).astype(np.float32))
    np.save(out / "meta" / "std.npy", rng.uniform(0.5, 2.0, golden.FEATURES).astype(np.float32))
    write_inputs(words, out / "inputs.safetensors")
    print(f"T2M evaluator, GloVe table, statistics and {COUNT} motions and captions in {out} "
          f"(text-to-motion {o.t2m_commit})", file=sys.stderr)


def read_items(path, count):
    """(tokens "word/POS", raw motion) of the first count items."""
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
        t = {k: f.get_tensor(k) for k in f.keys()}
    words, tags = json.loads(meta["words"]), json.loads(meta["pos_tags"])
    starts = np.concatenate([[0], np.cumsum(t["motion_lengths"])])
    items = []
    for i in range(min(count, len(t["motion_lengths"]))):
        n = t["caption_lengths"][i]
        tokens = [f"{words[w]}/{tags[p]}" for w, p in
                  zip(t["caption_words"][i, :n], t["caption_pos"][i, :n])]
        items.append((tokens, t["motions"][starts[i]:starts[i + 1]]))
    return items


def eval_dataset(o, opt, directory, count):
    """T2M's Text2MotionDatasetV2 over the inputs, in their order (its __init__ reads a
    HumanML3D directory; the fields it would set are set here, the items come from its own
    __getitem__)."""
    dataset = o.dataset.Text2MotionDatasetV2.__new__(o.dataset.Text2MotionDatasetV2)
    dataset.opt = opt
    dataset.w_vectorizer = o.words.WordVectorizer(str(directory / "glove"), "our_vab")
    dataset.max_length = 20
    dataset.pointer = 0
    dataset.max_motion_length = opt.max_motion_length
    dataset.mean = np.load(directory / "meta" / "mean.npy")
    dataset.std = np.load(directory / "meta" / "std.npy")
    items = read_items(directory / "inputs.safetensors", count)
    dataset.name_list = [f"{i:06d}" for i in range(len(items))]
    dataset.data_dict = {name: {"motion": motion, "length": len(motion),
                                "text": [{"caption": " ".join(tokens), "tokens": tokens}]}
                         for name, (tokens, motion) in zip(dataset.name_list, items)}
    dataset.length_arr = np.array([len(m) for _, m in items])
    return dataset


def load(directory, count, batch):
    o = golden.import_t2m()
    opt = evaluator_opt(directory)
    with contextlib.redirect_stdout(sys.stderr):  # build_models prints its epoch
        wrapper = o.wrapper.EvaluatorModelWrapper(opt)
    dataset = eval_dataset(o, opt, directory, count)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=False,
                                         num_workers=0, drop_last=False,
                                         collate_fn=o.dataset.collate_fn)
    return o, wrapper, loader


def embed(o, wrapper, loader, batches=None):
    """Every batch's (text, motion) co-embeddings, in get_co_embeddings' order."""
    out = []
    with golden.FirstCaptionNoCrop(o.dataset):
        for k, (word_embs, pos_ohot, _, sent_lens, motions, m_lens, _) in enumerate(loader):
            if batches is not None and k == batches:
                break
            out.append(wrapper.get_co_embeddings(word_embs, pos_ohot, sent_lens, motions, m_lens))
    return out


def run(args):
    torch.set_num_threads(args.threads)
    o, wrapper, loader = load(Path(args.dir), args.count, BATCH)
    embed(o, wrapper, loader, batches=2)  # warm-up: allocator, first-call dispatch
    wall, cpu = timed(args.reps, lambda: embed(o, wrapper, loader), warmup=0)  # warmed up above
    print(json.dumps({"side": "python", "case": "t2m_embed", "threads": args.threads,
                      "count": len(loader.dataset), "ms": wall, "cpu_ms": cpu}), flush=True)


def check(args):
    o, wrapper, loader = load(Path(args.dir), args.count, 1)
    pairs = embed(o, wrapper, loader)
    text = torch.cat([t for t, _ in pairs]).numpy()
    motion = torch.cat([m for _, m in pairs]).numpy()
    with safe_open(args.app, framework="numpy") as f:
        app_text = f.get_tensor("text_embedding")[: len(text)]
        app_motion = f.get_tensor("motion_embedding")[: len(motion)]
    print(f"{len(text)} items one at a time by T2M's code against the app's batches of "
          f"{BATCH}: text max |diff| {np.abs(text - app_text).max():.3g} "
          f"(max |value| {np.abs(text).max():.3g}), motion max |diff| "
          f"{np.abs(motion - app_motion).max():.3g} (max |value| {np.abs(motion).max():.3g})")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prep").add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--reps", type=int, default=3)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--count", type=int, default=COUNT)
    c = sub.add_parser("check")
    c.add_argument("--dir", required=True)
    c.add_argument("--app", required=True)
    c.add_argument("--count", type=int, default=64)
    args = parser.parse_args()
    if args.command == "prep":
        prep(Path(args.out))
    elif args.command == "run":
        run(args)
    else:
        check(args)


if __name__ == "__main__":
    main()
