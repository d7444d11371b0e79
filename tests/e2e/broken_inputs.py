#!/usr/bin/env python3
"""Every motionpref-cli command that reads a file, given broken copies of valid files.

Builds valid fixtures with the CLI itself (a study, a run directory with a checkpoint, a
.npy, a .bvh, a LoRA adapter made by a one-epoch DPO run on the embedded default) and takes the
default model bundle and the golden MotionGPT / T2M checkpoints; mutates each file
deterministically (empty, truncated, bits flipped at seeded offsets, seeded garbage, JSON fields
removed or given another field's value, a directory in its place, missing) and runs each reading
command on it. Each run must exit 1 with one line of stderr naming the file (a bit flip or a
JSON change that leaves a usable file may also exit 0); never 2 (internal error), a signal or a
hang.

usage: broken_inputs.py CLI SOURCE_DIR [--slow | --full] [--only SUBSTRING] [--count]
  (default) every command, two mutations per file and command (about 30 runs, under a minute)
  --slow    more files (each checkpoint file, the GloVe pickles, ...), three mutations each
  --full    every mutation of every case (about 250 runs: minutes; run it by hand)
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

CLI, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
FULL = "--full" in sys.argv or "--slow" in sys.argv
PER_CASE = 1000 if "--full" in sys.argv else 3 if "--slow" in sys.argv else 2
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
TIMEOUT_S = 60
work = tempfile.mkdtemp(prefix="broken_inputs.")
env = dict(os.environ, OMP_NUM_THREADS="1")


def cli(*args, check=True, cwd=None):
    result = subprocess.run([CLI, "--quiet", *args], capture_output=True, text=True, errors="replace", env=env,
                            timeout=TIMEOUT_S, cwd=cwd)
    if check and result.returncode != 0:
        sys.exit(f"FAIL: fixture: motionpref-cli {' '.join(args)}: {result.stderr}")
    return result


# ---- valid fixtures -------------------------------------------------------------------------
def build_fixtures():
    fx = os.path.join(work, "fixtures")
    os.makedirs(fx)
    with open(f"{fx}/prefs.jsonl", "w") as out:
        for i in range(1, 13):
            out.write(json.dumps({
                "id": f"r{i}", "prompt": f"a person walks {i}",
                "sample_1": {"seed": i, "tokens": [i, 7, 9]},
                "sample_2": {"seed": i + 100, "tokens": [2, 30]},
                "chosen": [{"choice": "sample_1", "degree of preference": "Much better",
                            "user": "ana"},
                           {"choice": "sample_2" if i % 3 == 0 else "sample_1",
                            "degree of preference": "Better", "user": "bo"}]}) + "\n")
    with open(f"{fx}/prefs.jsonl") as prefs, open(f"{fx}/more.jsonl", "w") as more:
        more.write(prefs.read().replace('"id": "r', '"id": "more'))
    cli("study", "create", f"{fx}/study.db")
    cli("study", "import", f"{fx}/study.db", f"{fx}/prefs.jsonl")
    cli("study", "split", f"{fx}/study.db", "--out", f"{fx}/split", "--test-fraction", "0.25")
    with open(f"{fx}/run.json", "w") as out:
        json.dump({"method": "dpo", "seed": 7, "epochs": 1, "batch_size": 4,
                   "data": {"pairs": f"{fx}/split/all.jsonl",
                            "train_ids": f"{fx}/split/train.txt",
                            "eval_ids": f"{fx}/split/test.txt"},
                   "eval": {"log_every_steps": 1}}, out, indent=1)
    cli("train", "--config", f"{fx}/run.json", "--out", f"{fx}/run")
    cli("generate", "--prompt", "a person walks forward", "--max-tokens", "8",
        "--out", f"{fx}/walk.npy")
    cli("motion", "convert", f"{fx}/walk.npy", f"{fx}/walk.bvh")
    return fx


# ---- mutations: each takes (path, rng) and changes the file in place ----------------------
def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    if os.path.islink(path):
        os.unlink(path)
    with open(path, "wb") as f:
        f.write(data)


def truncate(fraction):
    def mutate(path, rng):
        data = read(path)
        keep = max(1, int(len(data) * fraction)) if fraction < 1 else len(data) - 1
        write(path, data[:keep])
    mutate.__name__ = f"truncated to {fraction:g}" if fraction < 1 else "last byte cut"
    return mutate


def bitflips(count, header_only):
    def mutate(path, rng):
        data = bytearray(read(path))
        span = min(len(data), 4096) if header_only else len(data)
        for _ in range(count):
            offset = rng.randrange(span)
            data[offset] ^= 1 << rng.randrange(8)
        write(path, bytes(data))
    mutate.__name__ = f"{count} bit flips{' in the first 4 KiB' if header_only else ''}"
    return mutate


def empty(path, rng):
    write(path, b"")


def garbage(path, rng):
    size = min(len(read(path)), 65536)
    write(path, bytes(rng.randrange(256) for _ in range(size)))


def directory(path, rng):
    os.unlink(path)
    os.mkdir(path)


def missing(path, rng):
    os.unlink(path)


def not_json(path, rng):
    write(path, b"{\"this is\": not json,\n")


def json_object(path):
    return json.loads(read(path))


def json_drop_key(index):
    def mutate(path, rng):
        obj = json_object(path)
        keys = sorted(obj)
        del obj[keys[index % len(keys)]]
        write(path, json.dumps(obj).encode())
    mutate.__name__ = f"JSON key {index} removed"
    return mutate


def json_swap_values(path, rng):
    """Two fields of different types trade values (a string where a number is expected)."""
    obj = json_object(path)
    keys = sorted(obj)
    rng.shuffle(keys)
    for a in keys:
        for b in keys:
            if type(obj[a]) is not type(obj[b]):
                obj[a], obj[b] = obj[b], obj[a]
                write(path, json.dumps(obj).encode())
                return
    obj[keys[0]] = "swapped"
    write(path, json.dumps(obj).encode())


def json_wrong_types(path, rng):
    """Every value replaced by one of another kind: numbers by strings, strings by arrays..."""
    other = {str: [1, 2], int: "seven", float: "seven", bool: {"x": 1}, list: 3.5, dict: -1,
             type(None): [None]}
    obj = json_object(path)
    write(path, json.dumps({k: other[type(v)] for k, v in obj.items()}).encode())


def json_array(path, rng):
    write(path, b"[1, 2, 3]")


def jsonl_lines(mutate_line):
    def mutate(path, rng):
        lines = read(path).decode().splitlines()
        index = rng.randrange(len(lines))
        lines[index] = mutate_line(lines[index], rng)
        write(path, ("\n".join(lines) + "\n").encode())
    mutate.__name__ = "a line " + mutate_line.__doc__
    return mutate


def line_cut(line, rng):
    """cut in half"""
    return line[:len(line) // 2]


def line_drop_key(line, rng):
    """with a key removed"""
    obj = json.loads(line)
    del obj[sorted(obj)[rng.randrange(len(obj))]]
    return json.dumps(obj)


def line_wrong_types(line, rng):
    """with values of the wrong kind"""
    obj = json.loads(line)
    return json.dumps({k: ([v] if not isinstance(v, list) else "x") for k, v in obj.items()})


BINARY = [empty, truncate(0.5), bitflips(4, True), missing, directory]
BINARY_FULL = BINARY + [truncate(0.1), truncate(1), bitflips(16, True), garbage]
JSON = [not_json, json_swap_values, missing]
JSON_FULL = JSON + [empty, json_drop_key(0), json_drop_key(1), json_wrong_types, directory]
JSONL = [jsonl_lines(line_drop_key), jsonl_lines(line_wrong_types)]
JSONL_FULL = JSONL + [jsonl_lines(line_cut), empty, garbage]
ID_LIST = [empty, garbage]
# The mutations after which a file may still be usable: exit 0 is fine then (exit 1 naming the
# file too). A text file without its last byte (a newline, a digit), a SQLite file without the
# unused tail of its last page, an id list cut at a line.
def may_still_work(mutation, name):
    label = mutation.__name__
    if "bit flip" in label or "removed" in label or "a line" in label or \
            mutation is json_swap_values:
        return True
    return label == "last byte cut" and name.endswith((".bvh", ".db", ".txt", ".jsonl"))

# ---- what reads what ------------------------------------------------------------------------
# (name, {file in the case directory: source}, file mutated, mutations, command; the command's
# arguments may use {d} for the case directory)
GOLDEN = f"{SOURCE}/tests/reference/golden"
BUNDLE = f"{SOURCE}/resources/models/default"


def cases(fx):
    bundle_files = {n: f"{BUNDLE}/{n}" for n in
                    ("config.json", "model.safetensors", "vqvae.safetensors", "spiece.model",
                     "meta.safetensors")}
    generate = ["generate", "--model", "{d}", "--prompt", "a person walks", "--max-tokens", "4",
                "--out", "{d}/out.npy"]
    # A resume reads the run's configuration, its id lists and the newest complete checkpoint
    # (trainer_state.json, written last, marks it complete: without it the run starts over);
    # events.jsonl is only appended to.
    run_files = {"config.json": f"{fx}/run/config.json",
                 "events.jsonl": f"{fx}/run/events.jsonl",
                 "train_ids.txt": f"{fx}/run/train_ids.txt",
                 "eval_ids.txt": f"{fx}/run/eval_ids.txt"}
    ckpt = "checkpoints/step-000003"
    for name in ("model.pt", "optimizer.pt", "rng.pt", "trainer_state.json"):
        run_files[f"{ckpt}/{name}"] = f"{fx}/run/{ckpt}/{name}"
    resume = ["train", "--resume", "--out", "{d}"]
    mgpt = {"c.ckpt": f"{GOLDEN}/motiongpt/motiongpt_tiny.ckpt",
            "flan-t5/config.json": f"{GOLDEN}/motiongpt/flan-t5/config.json",
            "flan-t5/spiece.model": f"{GOLDEN}/motiongpt/flan-t5/spiece.model",
            "meta/mean.npy": f"{GOLDEN}/motiongpt/meta/mean.npy",
            "meta/std.npy": f"{GOLDEN}/motiongpt/meta/std.npy"}
    import_mgpt = ["import", "motiongpt", "--checkpoint", "{d}/c.ckpt", "--t5", "{d}/flan-t5",
                   "--meta", "{d}/meta", "--out", "{d}/out"]
    t2m = f"{GOLDEN}/t2m_evaluator"
    evaluator = {"finest.tar": f"{t2m}/checkpoint/finest.tar",
                 "glove/our_vab_data.npy": f"{t2m}/glove/our_vab_data.npy",
                 "glove/our_vab_idx.pkl": f"{t2m}/glove/our_vab_idx.pkl",
                 "glove/our_vab_words.pkl": f"{t2m}/glove/our_vab_words.pkl",
                 "meta/mean.npy": f"{t2m}/meta/mean.npy", "meta/std.npy": f"{t2m}/meta/std.npy"}
    import_eval = ["import", "evaluator", "--checkpoint", "{d}/finest.tar", "--glove", "{d}/glove",
                   "--meta", "{d}/meta", "--out", "{d}/out"]
    study = {"study.db": f"{fx}/study.db"}
    binary, json_m, jsonl_m = BINARY_FULL, JSON_FULL, JSONL_FULL
    out = []
    # Motions.
    for kind in ("npy", "bvh"):
        files = {f"walk.{kind}": f"{fx}/walk.{kind}"}
        other = "bvh" if kind == "npy" else "npy"
        out.append(("motion info", files, f"walk.{kind}", binary,
                    ["motion", "info", f"{{d}}/walk.{kind}"]))
        if FULL:
            out.append(("motion convert", files, f"walk.{kind}", [empty, truncate(0.5), garbage],
                        ["motion", "convert", f"{{d}}/walk.{kind}", f"{{d}}/out.{other}"]))
    # The model bundle, file by file, and a LoRA adapter.
    for name in bundle_files:
        mutations = json_m if name.endswith(".json") else binary
        if name in ("vqvae.safetensors", "meta.safetensors", "spiece.model"):
            mutations = [truncate(0.5), bitflips(4, True)] + ([garbage, directory] if FULL else [])
        out.append(("generate --model", bundle_files, name, mutations, generate))
    adapter = {n: f"{fx}/run/adapter/{n}" for n in
               ("adapter_config.json", "adapter_model.safetensors")}
    gen_adapter = ["generate", "--adapter", "{d}", "--prompt", "a person walks", "--max-tokens",
                   "4", "--out", "{d}/out.npy"]
    out.append(("generate --adapter", adapter, "adapter_config.json", json_m, gen_adapter))
    out.append(("generate --adapter", adapter, "adapter_model.safetensors",
                binary if FULL else [truncate(0.5), bitflips(4, True)], gen_adapter))
    # The study and the files it imports.
    out.append(("study info", study, "study.db", binary, ["study", "info", "{d}/study.db"]))
    if FULL:
        for command in (["study", "export", "{d}/study.db", "{d}/out.jsonl"],
                        ["study", "agreement", "{d}/study.db"],
                        ["study", "split", "{d}/study.db", "--out", "{d}/split"],
                        ["study", "import", "{d}/study.db", f"{fx}/more.jsonl"]):
            out.append((" ".join(command[:2]), study, "study.db", binary, command))
    else:
        out.append(("study export", study, "study.db", [truncate(0.5)],
                    ["study", "export", "{d}/study.db", "{d}/out.jsonl"]))
    out.append(("study import", {"prefs.jsonl": f"{fx}/prefs.jsonl", "s.db": f"{fx}/empty.db"},
                "prefs.jsonl", jsonl_m, ["study", "import", "{d}/s.db", "{d}/prefs.jsonl"]))
    # A run: its configuration, and a run directory resumed.
    out.append(("train --config", {"run.json": f"{fx}/run.json"}, "run.json", json_m,
                ["train", "--config", "{d}/run.json", "--out", "{d}/run"]))
    for name in run_files:
        if name.endswith(".json"):
            mutations = [m for m in json_m if m is not missing or name == "config.json"]
        elif name.endswith(".txt"):
            mutations = [garbage] if name == "train_ids.txt" else []
        elif name.endswith(".jsonl"):
            mutations = [] # not read
        else:
            mutations = binary
        if not FULL and name not in ("config.json", f"{ckpt}/model.pt"):
            continue
        out.append(("train --resume", run_files, name, mutations, resume))
    out.append(("eval --pairs", {"test.jsonl": f"{fx}/split/test.jsonl"}, "test.jsonl", jsonl_m,
                ["eval", "--pairs", "{d}/test.jsonl"]))
    # Checkpoints of the original projects (zip + pickle), and the GloVe pickles.
    out.append(("import motiongpt", mgpt, "c.ckpt", binary, import_mgpt))
    if FULL:
        for name in ("flan-t5/config.json", "meta/mean.npy"):
            out.append(("import motiongpt", mgpt, name,
                        json_m if name.endswith(".json") else binary, import_mgpt))
        for name in evaluator:
            out.append(("import evaluator", evaluator, name, binary, import_eval))
    else:
        out.append(("import evaluator", evaluator, "finest.tar", [truncate(0.5), garbage],
                    import_eval))
        out.append(("import evaluator", evaluator, "glove/our_vab_idx.pkl", [truncate(0.5)],
                    import_eval))
    # Each case takes PER_CASE of its mutations, starting at its own index: together the cases
    # still try every kind of mutation.
    return [(c, f, m, [muts[(i + k) % len(muts)] for k in range(min(PER_CASE, len(muts)))], a)
            for i, (c, f, m, muts, a) in enumerate(out) if muts]


def make_case_dir(files, mutated):
    d = tempfile.mkdtemp(dir=work)
    for name, source in files.items():
        target = os.path.join(d, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Copies of what may be written (a study, a run directory) and of what is mutated;
        # links to the large read-only files.
        if name == mutated or os.path.getsize(source) < (1 << 20):
            shutil.copyfile(source, target)
        else:
            os.symlink(source, target)
    return d


def main():
    if "--count" in sys.argv:
        print(sum(len(c[3]) for c in cases("fx")))
        return 0
    fx = build_fixtures()
    cli("study", "create", f"{fx}/empty.db")
    failures, runs, exited0 = [], 0, 0
    started = time.time()
    for command, files, mutated, mutations, args in cases(fx):
        for mutation in mutations:
            label = f"{command} / {mutated}: {mutation.__name__}"
            if ONLY and ONLY not in label:
                continue
            rng = random.Random(f"{command}/{mutated}/{mutation.__name__}")
            d = make_case_dir(files, mutated)
            mutation(os.path.join(d, mutated), rng)
            argv = [a.replace("{d}", d) for a in args]
            runs += 1
            try:
                result = cli(*argv, check=False, cwd=d)
            except subprocess.TimeoutExpired:
                failures.append(f"{label}: no answer in {TIMEOUT_S} s")
                continue
            code, lines = result.returncode, result.stderr.strip().splitlines()
            basename = os.path.basename(mutated)
            problem = None
            if code == 0:
                if may_still_work(mutation, mutated):
                    exited0 += 1
                else:
                    problem = "exit 0 on a broken file"
            elif code != 1:
                problem = f"exit {code}"
            elif len(lines) != 1 and not all(basename in line for line in lines):
                problem = f"{len(lines)} lines of stderr"
            elif not lines or (basename not in lines[-1] and not (
                    # A file changed into another valid-looking one (a key removed, a bit
                    # flipped) may clash with a file beside it: that one is named then.
                    may_still_work(mutation, mutated) and
                    any(os.path.basename(f) in lines[-1] for f in files))):
                problem = "the error does not name the file"
            if problem:
                tail = " | ".join(lines[-3:])[:400]
                failures.append(f"{label}: {problem}: {tail}")
            shutil.rmtree(d, ignore_errors=True)
    print(f"{runs} runs in {time.time() - started:.0f} s, {exited0} harmless mutations exited 0, "
          f"{len(failures)} failures")
    for failure in failures:
        print("FAIL:", failure)
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
