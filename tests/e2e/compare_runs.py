#!/usr/bin/env python3
# compare_runs.py RUN_A RUN_B [MODEL_DIR]: two runs of one config agree within float tolerance:
# every tensor of MODEL_DIR/adapter_model.safetensors (MODEL_DIR defaults to adapter), and the
# "loss" of each step event. Prints the largest differences; exit 1 when beyond tolerance.
import json, struct, sys
from array import array

ATOL, RTOL = 2e-5, 1e-3


def tensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        out[name] = array("f", data[begin:end])
    return out


def losses(run):
    with open(f"{run}/events.jsonl") as f:
        events = [json.loads(line) for line in f if line.strip()]
    return {e["step"]: e["loss"] for e in events if e["type"] == "step"}


a_dir, b_dir = sys.argv[1], sys.argv[2]
model = sys.argv[3] if len(sys.argv) > 3 else "adapter"
a = tensors(f"{a_dir}/{model}/adapter_model.safetensors")
b = tensors(f"{b_dir}/{model}/adapter_model.safetensors")
if a.keys() != b.keys():
    sys.exit(f"tensor names differ: {sorted(a.keys() ^ b.keys())[:5]}")
worst, worst_name, bad = 0.0, "", []
for name in a:
    for x, y in zip(a[name], b[name]):
        d = abs(x - y)
        if d > worst:
            worst, worst_name = d, name
        if d > ATOL + RTOL * abs(x):
            bad.append(name)
            break
la, lb = losses(a_dir), losses(b_dir)
if la.keys() != lb.keys():
    sys.exit(f"step events differ: {sorted(la)} vs {sorted(lb)}")
loss_worst = max((abs(la[s] - lb[s]) for s in la), default=0.0)
print(f"{len(a)} tensors, largest difference {worst:.3g} ({worst_name}); "
      f"{len(la)} step losses, largest difference {loss_worst:.3g}")
if bad:
    sys.exit(f"beyond atol {ATOL} + rtol {RTOL}: {bad[:5]}")
if any(abs(la[s] - lb[s]) > 1e-4 + 1e-4 * abs(la[s]) for s in la):
    sys.exit("step losses differ")
