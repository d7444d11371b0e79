"""Fixtures for the C++ PyTorch checkpoint and pickle reader (ml/data/torch_checkpoint.h,
ml/data/pickle_reader.h), written by the foreign tools themselves: torch.save (zip and legacy
layouts) and pickle.dump. Next to each file, a JSON description of the object as Python sees it
and a safetensors file (written by the safetensors package) with every tensor's values.

Run: tests/reference/.venv/bin/python tests/reference/checkpoints.py  (seeded; rewrites the
committed files byte for byte, except tensors_legacy.pt: the legacy layout names storages by
memory address, so its keys and their order change from run to run, never its values). Read by
tests/ml/torch_checkpoint_test.cpp.
"""

import collections
import json
import os
import pickle

import torch
from omegaconf import OmegaConf
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "checkpoints")


def describe(value, path, tensors):
    """The object as JSON: tensors go to `tensors` under their '/' path."""
    if isinstance(value, torch.Tensor):
        if value.dtype in (torch.uint16, torch.uint32, torch.uint64):
            return {"skipped": "tensor of " + str(value.dtype)}
        tensors[path] = value.detach().contiguous().clone()
        return {"tensor": path, "dtype": str(value.dtype), "shape": list(value.shape),
                "stride": list(value.stride()), "offset": value.storage_offset()}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)} if abs(value) >= 2**63 else {"int": value}
    if isinstance(value, float):
        return {"float": value}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if value is None:
        return {"none": None}
    if type(value) in (dict, collections.OrderedDict):
        return {"dict": [[str(k), describe(v, f"{path}/{k}".lstrip("/"), tensors)]
                         for k, v in value.items()]}
    if type(value) in (list, tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [describe(v, f"{path}/{i}".lstrip("/"), tensors)
                       for i, v in enumerate(value)]}
    return {"skipped": type(value).__module__ + "." + type(value).__qualname__}


def write(name, obj, **save_args):
    tensors = {}
    description = describe(obj, "", tensors)
    torch.save(obj, os.path.join(OUT, name), **save_args)
    stem = name.rsplit(".", 1)[0]
    with open(os.path.join(OUT, stem + ".json"), "w") as f:
        json.dump(description, f, indent=1, sort_keys=False)
        f.write("\n")
    if tensors:
        save_file(tensors, os.path.join(OUT, stem + ".safetensors"))


def tensors_of_every_kind():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 6, generator=g)
    dtypes = {}
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        dtypes[str(dtype).split(".")[1]] = (torch.randn(2, 3, generator=g) * 10).to(dtype)
    for dtype in (torch.int8, torch.int16, torch.int32, torch.int64):
        info = torch.iinfo(dtype)
        dtypes[str(dtype).split(".")[1]] = torch.tensor(
            [info.min, -1, 0, 1, info.max], dtype=dtype)
    dtypes["uint8"] = torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)
    dtypes["bool"] = torch.tensor([[True, False], [False, True]])
    shared = torch.arange(24, dtype=torch.float32)
    return collections.OrderedDict(
        dtypes=dtypes,
        views={
            "transposed": base.t(),                   # non-contiguous
            "offset": base[1:, 2:],                   # offset view of the same storage
            "shared_a": shared[2:10],                 # two views of one storage
            "shared_b": shared.view(4, 6)[:, 1::2],
            "scalar": torch.tensor(3.25),
            "empty": torch.zeros(0, 3),
            "expanded": torch.ones(3).expand(2, 3),   # stride 0
        },
        parameter=torch.nn.Parameter(torch.full((2, 2), 0.5)),
        nested={"a": {"b": {"c": torch.tensor([1, 2, 3])}}, "list": [torch.tensor([4.5]), 2]},
        scalars={"int": 7, "negative": -300000, "big": 2**70, "float": 1.5e-3, "str": "héllo",
                 "none": None, "true": True, "tuple": (1, "two", 3.0), "bytes": b"\x00\xffab"},
        new_dtype=torch.tensor([1, 65535], dtype=torch.uint16),  # _rebuild_tensor_v3
    )


def lightning_like():
    """The shape of a PyTorch Lightning checkpoint (MotionGPT's motiongpt_s3_h3d.tar)."""
    torch.manual_seed(11)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.99))
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    cfg = OmegaConf.create({"model": {"params": {"code_num": 512, "lm": "flan-t5-base"}},
                            "TRAIN": {"STAGE": "lm_instruct", "LR": 2e-4},
                            "DATASET": ["humanml3d"]})
    return {
        "epoch": 299,
        "global_step": 123456,
        "pytorch-lightning_version": "1.8.6",
        "state_dict": collections.OrderedDict(
            ("model." + k, v) for k, v in model.state_dict().items()),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"current": {"ready": 3}}}},
        "callbacks": {
            "ModelCheckpoint{'monitor': 'Metrics/FID', 'mode': 'min'}": {
                "monitor": "Metrics/FID", "best_model_score": torch.tensor(0.1234),
                "best_model_path": "checkpoints/epoch=299.ckpt", "kth_value": torch.tensor(1.5),
                "best_k_models": {"checkpoints/epoch=299.ckpt": torch.tensor(0.1234)}},
        },
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": {"cfg": cfg, "codes": OmegaConf.create([1, 2, 3]), "lr": 2e-4},
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    obj = tensors_of_every_kind()
    write("tensors.pt", obj)
    legacy = dict(obj)
    del legacy["new_dtype"]  # the legacy layout cannot hold the new dtypes
    write("tensors_legacy.pt", legacy, _use_new_zipfile_serialization=False)
    write("lightning.ckpt", lightning_like())

    # The T2M evaluator's GloVe vocabulary: a list of str and a dict str -> int, plain pickles.
    words = ["sos", "eos", "unk", "walk", "forward", "the", "naïve", "日本"]
    for protocol in (2, 3, 4, 5):
        with open(os.path.join(OUT, f"words_p{protocol}.pkl"), "wb") as f:
            pickle.dump(words, f, protocol=protocol)
        with open(os.path.join(OUT, f"idx_p{protocol}.pkl"), "wb") as f:
            pickle.dump({w: i for i, w in enumerate(words)}, f, protocol=protocol)
    with open(os.path.join(OUT, "words.json"), "w") as f:
        json.dump(words, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
