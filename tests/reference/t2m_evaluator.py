#!/usr/bin/env python3
"""Goldens for the T2M evaluator and the HumanML3D metrics (issue 25), from the originals.

Runs EricGuo5513/text-to-motion (networks/modules.py, networks/evaluator_wrapper.py,
networks/trainers.py, data/dataset.py, utils/word_vectorizer.py, utils/metrics.py) and
OpenMotionLab/MotionGPT (mGPT/archs/tm2t_evaluator.py) from checkouts of their git mirrors
(brought with the search tool's `fetch`; T2M_GIT / MGPT_GIT override the paths), extracted to a
temporary directory and imported from there. None of their code is copied here.

Writes tests/reference/golden/t2m_evaluator/:
  checkpoint/finest.tar        random weights of reduced size saved by T2M's own
                               TextMotionMatchTrainer.save (the real finest.tar layout)
  glove/our_vab_*              a tiny GloVe table: numpy.save and pickle, as T2M ships it
  meta/mean.npy, meta/std.npy  the evaluator's normalisation (not the dataset's)
  humanml3d/                   a tiny HumanML3D-layout test split (whole clips and sub-clips)
  embeddings.safetensors/.json per whole clip: T2M's dataset item (first caption, first frames,
                               no crop: word vectors, POS one-hots, lengths, sums of the motion)
                               and the co-embeddings of T2M's EvaluatorModelWrapper,
                               plus MotionGPT's unpacked motion GRU on the same input
  metrics.safetensors/.json    the metric functions of utils/metrics.py on fixed embeddings,
                               with every index the Python side drew
Run: tests/reference/.venv/bin/python tests/reference/t2m_evaluator.py
"""
import argparse
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "golden" / "t2m_evaluator"
T2M_GIT = os.environ.get("T2M_GIT", "/work/.mirror/EricGuo5513+text-to-motion/repo")
MGPT_GIT = os.environ.get("MGPT_GIT", "/work/.mirror/OpenMotionLab+MotionGPT/repo")

# Reduced dimensions (the real ones: word 300, text hidden 512, coemb 512, movement 512/512,
# motion hidden 1024); the input width stays HumanML3D's 263 - 4.
DIMS = dict(dim_word=8, dim_pos_ohot=15, dim_text_hidden=16, dim_coemb_hidden=8,
            dim_movement_enc_hidden=8, dim_movement_latent=12, dim_motion_hidden=20)
FEATURES = 263


def checkout(git_dir, paths):
    """Extracts paths of the mirror's HEAD to a temporary directory; returns it and the commit."""
    target = tempfile.mkdtemp(prefix="mp_ref_")
    archive = subprocess.run(["git", "--git-dir", git_dir, "archive", "HEAD", *paths],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return target, commit


def import_t2m():
    """T2M's modules, imported from a checkout of its mirror (also used by bench_t2m.py)."""
    t2m_dir, t2m_commit = checkout(T2M_GIT, ["networks", "utils", "data"])
    # Imports the evaluation never touches: spaCy (data/dataset.py tags raw text elsewhere) and
    # the plotting stack of utils/utils.py (pulled in by networks/trainers.py).
    for name in ["spacy", "PIL", "PIL.Image", "matplotlib", "matplotlib.pyplot"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["PIL"].Image = sys.modules["PIL.Image"]
    sys.path.insert(0, t2m_dir)
    import data.dataset as t2m_dataset
    import networks.evaluator_wrapper as t2m_wrapper
    import networks.modules as t2m_modules
    import networks.trainers as t2m_trainers
    import utils.metrics as t2m_metrics
    import utils.word_vectorizer as t2m_words
    return types.SimpleNamespace(dataset=t2m_dataset, wrapper=t2m_wrapper, modules=t2m_modules,
                                 trainers=t2m_trainers, metrics=t2m_metrics, words=t2m_words,
                                 t2m_commit=t2m_commit)


def import_originals():
    o = import_t2m()
    mgpt_dir, o.mgpt_commit = checkout(MGPT_GIT, ["mGPT/archs/tm2t_evaluator.py"])
    sys.path.insert(0, os.path.join(mgpt_dir, "mGPT", "archs"))
    import tm2t_evaluator as mgpt_eval
    o.mgpt = mgpt_eval
    return o


def make_opt(checkpoints_dir, data_root, dims=DIMS):
    return argparse.Namespace(
        **dims, dim_pose=FEATURES, device=torch.device("cpu"), checkpoints_dir=str(checkpoints_dir),
        dataset_name="t2m", unit_length=4, max_motion_length=196, max_text_len=20,
        motion_dir=str(data_root / "new_joint_vecs"), text_dir=str(data_root / "texts"),
        is_train=False, lr=1e-4)


def write_checkpoint(o, opt, path, noise=0.2):
    """Random networks saved by T2M's TextMotionMatchTrainer.save after one Adam step, so the
    file has the real finest.tar's keys (optimizer states included). noise: the standard
    deviation added to every parameter (bench_t2m.py, at the real widths, adds less)."""
    torch.manual_seed(25)
    movement = o.modules.MovementConvEncoder(FEATURES - 4, opt.dim_movement_enc_hidden,
                                             opt.dim_movement_latent)
    text = o.modules.TextEncoderBiGRUCo(opt.dim_word, opt.dim_pos_ohot, opt.dim_text_hidden,
                                        opt.dim_coemb_hidden, opt.device)
    motion = o.modules.MotionEncoderBiGRUCo(opt.dim_movement_latent, opt.dim_motion_hidden,
                                            opt.dim_coemb_hidden, opt.device)
    with torch.no_grad():
        # Away from the init values (LayerNorm 1/0, zero biases) so a swapped tensor shows.
        for module in (movement, text, motion):
            for p in module.parameters():
                p.add_(noise * torch.randn_like(p))
    trainer = o.trainers.TextMotionMatchTrainer(opt, text, motion, movement)
    trainer.opt_text_encoder = torch.optim.Adam(text.parameters(), lr=opt.lr)
    trainer.opt_motion_encoder = torch.optim.Adam(motion.parameters(), lr=opt.lr)
    loss = sum(p.sum() for p in list(text.parameters()) + list(motion.parameters()))
    loss.backward()
    trainer.opt_text_encoder.step()
    trainer.opt_motion_encoder.step()
    path.parent.mkdir(parents=True, exist_ok=True)
    trainer.save(str(path), 11, 4321)


# Words of the tiny GloVe table: T2M's specials first, as in the real our_vab_words.pkl; some
# VIP words of T2M's lists, words the project's extended lists hold but T2M's do not (hip,
# around, sideways, circle, step, wave), and ordinary words. Missing from it (-> unk):
# "quickly", "zigzag", "stumbles".
VOCAB = ["sos", "eos", "unk", "a", "person", "man", "walk", "forward", "left", "right", "turn",
         "around", "and", "then", "hand", "hip", "jump", "slowly", "circle", "step", "sideways",
         "wave", "his", "the", "in", "up", "down", "kick", "chair", "run", "back", "foot", "twice"]


def write_glove(root):
    rng = np.random.default_rng(7)
    vectors = rng.normal(0, 0.5, size=(len(VOCAB), DIMS["dim_word"])).astype(np.float32)
    # The index table is a permutation, so a reader that ignores our_vab_idx.pkl is caught.
    order = rng.permutation(len(VOCAB))
    data = np.zeros_like(vectors)
    word2idx = {}
    for i, w in enumerate(VOCAB):
        data[order[i]] = vectors[i]
        word2idx[w] = int(order[i])
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "our_vab_data.npy", data)
    # Protocol 3, as T2M's own our_vab_words.pkl / our_vab_idx.pkl.
    with open(root / "our_vab_words.pkl", "wb") as f:
        pickle.dump(VOCAB, f, protocol=3)
    with open(root / "our_vab_idx.pkl", "wb") as f:
        pickle.dump(word2idx, f, protocol=3)


def tokens(text):
    return " ".join(text.split())


# Whole clips (start = end = 0) and one file with sub-clips; lengths within T2M's [40, 200).
CLIPS = {
    "000001": (198, [
        ("a man walks forward then turns around.",
         "a/DET man/NOUN walk/VERB forward/ADV then/ADV turn/VERB around/ADV", 0.0, 0.0),
        ("someone jumps.", "someone/PRON jump/VERB", 0.0, 0.0),
    ]),
    "000002": (61, [
        ("a person quickly waves his left hand up and down and then kicks with the right foot "
         "twice and steps sideways in a zigzag and stumbles back",
         "a/DET person/NOUN quickly/ADV wave/VERB his/PRON left/ADJ hand/NOUN up/ADP and/CCONJ "
         "down/ADV and/CCONJ then/ADV kick/VERB with/ADP the/DET right/ADJ foot/NOUN twice/ADV "
         "and/CCONJ step/VERB sideways/ADV in/ADP a/DET zigzag/NOUN and/CCONJ stumble/VERB "
         "back/ADV", 0.0, 0.0),
    ]),
    "000003": (40, [
        ("a person runs in a circle slowly.",
         "a/DET person/NOUN run/VERB in/ADP a/DET circle/NOUN slowly/ADV", 0.0, 0.0),
    ]),
    "000004": (84, [
        ("the man moves his hip to the left and right.",
         "the/DET man/NOUN move/VERB his/PRON hip/NOUN to/ADP the/DET left/NOUN and/CCONJ "
         "right/NOUN", 0.0, 0.0),
        ("a person sits on a chair.", "a/DET person/NOUN sit/VERB on/ADP a/DET chair/NOUN", 0.0,
         0.0),
    ]),
}
# Sub-clips (file: seconds long, starts in quarter seconds: exact in binary), so the split has
# the 32 items an R-precision group needs. T2M names a sub-clip with a random letter A..W, so a
# file can have at most 23.
SUBCLIPS = {"000001": (2.5, [0.25 * k for k in range(20)]),
            "000004": (2.0, [0.25 * k for k in range(9)])}


def write_dataset(root):
    rng = np.random.default_rng(11)
    (root / "new_joint_vecs").mkdir(parents=True, exist_ok=True)
    (root / "texts").mkdir(parents=True, exist_ok=True)
    for name, (frames, captions) in CLIPS.items():
        # Smooth random features around a per-dimension offset, float32 as HumanML3D's.
        base = rng.normal(0, 1, size=(1, FEATURES))
        walk = np.cumsum(rng.normal(0, 0.2, size=(frames, FEATURES)), axis=0)
        np.save(root / "new_joint_vecs" / f"{name}.npy", (base + walk).astype(np.float32))
        lines = [f"{c}#{tokens(t)}#{s}#{e}" for c, t, s, e in captions]
        seconds, starts = SUBCLIPS.get(name, (0.0, []))
        for start in starts:
            lines.append(f"a person does part {int(start * 4)} of {name}.#a/DET person/NOUN "
                         f"do/VERB part/NOUN#{start}#{start + seconds}")
        (root / "texts" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    (root / "test.txt").write_text("\n".join(CLIPS) + "\n")
    # The dataset's own statistics, deliberately unlike the evaluator's (meta/).
    np.save(root / "Mean.npy", np.zeros(FEATURES, dtype=np.float32))
    np.save(root / "Std.npy", np.ones(FEATURES, dtype=np.float32))


def write_meta(root):
    rng = np.random.default_rng(13)
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "mean.npy", rng.normal(0, 1, FEATURES).astype(np.float32))
    np.save(root / "std.npy", rng.uniform(0.5, 2.0, FEATURES).astype(np.float32))


class FirstCaptionNoCrop:
    """Stands in for data/dataset.py's `random` and `np` while reading an item: the first
    caption, the 'single' (plain floor) length coin and crop offset 0: what `eval embed`
    defines. Everything else goes to the real modules."""

    class _Random:
        def choice(self, seq):
            return seq[0]

        def randint(self, a, b):
            return a

    class _NumpyRandom:
        def choice(self, options):
            assert list(options) == ["single", "single", "double"]
            return "single"

    class _Numpy:
        def __init__(self):
            self.random = FirstCaptionNoCrop._NumpyRandom()

        def __getattr__(self, name):
            return getattr(np, name)

    def __init__(self, module):
        self.module = module

    def __enter__(self):
        self.saved = (self.module.random, self.module.np)
        self.module.random = self._Random()
        self.module.np = self._Numpy()

    def __exit__(self, *exc):
        self.module.random, self.module.np = self.saved


def embeddings_golden(o, opt, root, meta_root, glove_root):
    random.seed(3)  # the sub-clip name letters of Text2MotionDatasetV2.__init__
    vectorizer = o.words.WordVectorizer(str(glove_root), "our_vab")
    mean = np.load(meta_root / "mean.npy")
    std = np.load(meta_root / "std.npy")
    dataset = o.dataset.Text2MotionDatasetV2(opt, mean, std, str(root / "test.txt"), vectorizer)
    whole = [i for i, name in enumerate(dataset.name_list[dataset.pointer:])
             if name in CLIPS]
    with FirstCaptionNoCrop(o.dataset):
        items = [dataset[i] for i in whole]
    names = [dataset.name_list[dataset.pointer + i] for i in whole]
    # T2M's collate_fn sorts a batch by sentence length (the packed text GRU needs it).
    batch = o.dataset.collate_fn([item + (name,) for item, name in zip(items, names)])
    word_embs, pos_ohot, captions, sent_lens, motions, m_lens, token_strings, batch_names = batch

    text_enc, motion_enc, movement_enc = o.wrapper.build_models(opt)
    for m in (text_enc, motion_enc, movement_enc):
        m.eval()
    wrapper = o.wrapper.EvaluatorModelWrapper.__new__(o.wrapper.EvaluatorModelWrapper)
    wrapper.text_encoder, wrapper.motion_encoder, wrapper.movement_encoder = (
        text_enc, motion_enc, movement_enc)
    wrapper.opt, wrapper.device = opt, opt.device
    text_emb, motion_emb = wrapper.get_co_embeddings(word_embs, pos_ohot, sent_lens, motions,
                                                     m_lens)
    # get_co_embeddings returns both in descending motion length order.
    align = np.argsort(m_lens.data.tolist())[::-1].copy()

    # MotionGPT's copy: the same weights, the motion GRU over the padded 196 frames.
    mg_movement = o.mgpt.MovementConvEncoder(FEATURES - 4, opt.dim_movement_enc_hidden,
                                             opt.dim_movement_latent)
    mg_motion = o.mgpt.MotionEncoderBiGRUCo(opt.dim_movement_latent, opt.dim_motion_hidden,
                                            opt.dim_coemb_hidden)
    mg_movement.load_state_dict(movement_enc.state_dict())
    mg_motion.load_state_dict(motion_enc.state_dict())
    mg_movement.eval()
    mg_motion.eval()
    with torch.no_grad():
        movements = mg_movement(motions.float()[..., :-4])
        mg_emb = mg_motion(movements, m_lens // opt.unit_length)

    def order(x):
        return x[align].detach().float().numpy()

    tensors = {
        "word_embs": order(word_embs),            # (B, 22, dim_word) from WordVectorizer
        "pos_ohot": order(pos_ohot),              # (B, 22, 15)
        "sent_len": order(sent_lens).astype(np.int64),
        # The (B, 196, 263) normalised, zero-padded motions, summarised to keep the file small.
        "motion_sum": order(motions.sum(dim=(1, 2))).astype(np.float64),
        "motion_abs_sum": order(motions.abs().sum(dim=(1, 2))).astype(np.float64),
        "m_len": order(m_lens).astype(np.int64),  # frames, floored to the unit
        "text_embedding": text_emb.numpy(),
        "motion_embedding": motion_emb.numpy(),
        "motiongpt_unpacked_motion_embedding": order(mg_emb),
    }
    names_sorted = [batch_names[i] for i in align]
    captions_sorted = [captions[i] for i in align]
    tokens_sorted = [token_strings[i] for i in align]
    save_file(tensors, OUT / "embeddings.safetensors")
    # Row order of the tensors (safetensors' metadata map is not written in a fixed order).
    rows = {"names": names_sorted, "captions": captions_sorted, "tokens": tokens_sorted,
            "t2m_commit": o.t2m_commit, "motiongpt_commit": o.mgpt_commit}
    (OUT / "embeddings.json").write_text(json.dumps(rows, indent=2) + "\n")
    unpacked_gap = float(np.abs(tensors["motion_embedding"] -
                                tensors["motiongpt_unpacked_motion_embedding"]).max())
    return len(dataset), unpacked_gap


def draw_indices(draw):
    """Indices the original function will draw next from np.random, without consuming them."""
    state = np.random.get_state()
    out = draw()
    np.random.set_state(state)
    return out


def metrics_golden(o):
    rng = np.random.default_rng(21)
    n, dim = 320, 8
    text = rng.normal(0, 1, (n, dim))
    gt_motion = text + rng.normal(0, 0.8, (n, dim))
    gen_motion = 0.9 * text + rng.normal(0.3, 1.1, (n, dim))
    mm = rng.normal(0, 1, (20, 1, dim)) + rng.normal(0, 0.5, (20, 30, dim))
    m = o.metrics
    np.random.seed(2024)

    # R-precision and MM-Dist as final_evaluations.evaluate_matching_score: per batch of 32
    # (a shuffled DataLoader with drop_last), summed, divided by the samples seen.
    perm = np.random.permutation(n)
    groups = perm[: (n // 32) * 32].reshape(-1, 32)
    top_k = np.zeros(3)
    matching = 0.0
    for g in groups:
        top_k += m.calculate_R_precision(text[g], gen_motion[g], top_k=3, sum_all=True)
        matching += m.calculate_matching_score(text[g], gen_motion[g], sum_all=True)
    seen = groups.size

    distances = m.euclidean_distance_matrix(text[:32], gen_motion[:32])
    gt_mu, gt_cov = m.calculate_activation_statistics(gt_motion)
    mu, cov = m.calculate_activation_statistics(gen_motion)
    fid = m.calculate_frechet_distance(gt_mu, gt_cov, mu, cov)

    diversity_times, mm_times = 300, 10
    div_idx = draw_indices(lambda: (np.random.choice(n, diversity_times, replace=False),
                                    np.random.choice(n, diversity_times, replace=False)))
    diversity = m.calculate_diversity(gen_motion, diversity_times)
    mm_idx = draw_indices(lambda: (np.random.choice(30, mm_times, replace=False),
                                   np.random.choice(30, mm_times, replace=False)))
    multimodality = m.calculate_multimodality(mm, mm_times)

    save_file({
        "text": text, "gt_motion": gt_motion, "gen_motion": gen_motion, "mm": mm,
        "groups": groups.astype(np.int64), "distances_first32": distances,
        "gt_mu": gt_mu, "gt_cov": gt_cov,
        "diversity_first": div_idx[0].astype(np.int64),
        "diversity_second": div_idx[1].astype(np.int64),
        "mm_first": mm_idx[0].astype(np.int64), "mm_second": mm_idx[1].astype(np.int64),
    }, OUT / "metrics.safetensors", metadata={"t2m_commit": o.t2m_commit})
    values = {
        "R_precision": (top_k / seen).tolist(), "Matching_score": float(matching / seen),
        "FID": float(fid), "Diversity": float(diversity), "MultiModality": float(multimodality),
        "num_evaluated": int(seen), "t2m_commit": o.t2m_commit,
    }
    (OUT / "metrics.json").write_text(json.dumps(values, indent=2) + "\n")
    return values


def main():
    o = import_originals()
    OUT.mkdir(parents=True, exist_ok=True)
    checkpoints = OUT / "checkpoint"
    data_root = OUT / "humanml3d"
    opt = make_opt(checkpoints.parent / "t2m_layout", data_root)
    # build_models reads CHECKPOINTS/t2m/text_mot_match/model/finest.tar; the golden keeps the
    # file alone under checkpoint/, linked into that layout while the script runs.
    write_checkpoint(o, opt, checkpoints / "finest.tar")
    layout = Path(opt.checkpoints_dir) / "t2m" / "text_mot_match" / "model"
    layout.mkdir(parents=True, exist_ok=True)
    link = layout / "finest.tar"
    if link.exists() or link.is_symlink():
        link.unlink()
    link.symlink_to((checkpoints / "finest.tar").resolve())
    try:
        write_glove(OUT / "glove")
        write_meta(OUT / "meta")
        write_dataset(data_root)
        items, unpacked_gap = embeddings_golden(o, opt, data_root, OUT / "meta", OUT / "glove")
    finally:
        link.unlink()
        for d in (layout, layout.parent, layout.parent.parent, Path(opt.checkpoints_dir)):
            d.rmdir()
    values = metrics_golden(o)
    print(f"T2M dataset items: {items}; packed vs MotionGPT's unpacked motion GRU: "
          f"max |diff| {unpacked_gap:.3g}")
    print(json.dumps(values))


if __name__ == "__main__":
    main()
