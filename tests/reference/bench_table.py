#!/usr/bin/env python3
"""Prints tests/bench/compare.sh's table from its JSON lines (one per side, case, size, thread
count and round; see bench_t5.py and tests/bench/bench_side_by_side.cpp).

  bench_table.py RESULTS.jsonl [--work /tmp/mp_bench] [--markdown]

ratio = Python median / app median (above 1: the app is faster). spread = (max - min) / median
over every repetition of every round. CPU ms: the process CPU time per repetition (what the work
costs when other jobs share the cores; at one thread, the wall time on an idle core). GFLOP/s counts the dense layers' FLOPs of the case
(bench_t5.py's work.json, the same work on both sides); "of GEMM" divides it by the same side's
fp32 GEMM GFLOP/s at the same thread count in the same run.
"""

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

CASES = ["gemm", "pair", "pair_t5", "batch", "pair_int8", "pair_int8_t5", "batch_int8", "dpo",
         "dpo_cached", "rm_step", "ppo_step", "ppo_step_value_head", "t2m_embed"]
LABELS = {"gemm": "fp32 GEMM 1536^3", "pair": "labeling pair (2 x 51 tokens)",
          "pair_t5": "  of which the T5 (app)", "batch": "batch of 64 prompts (51 tokens)",
          "pair_int8": "labeling pair, int8 (each side's)",
          "pair_int8_t5": "  of which the T5 (app)",
          "batch_int8": "batch of 64 prompts, int8 (each side's)",
          "dpo": "DPO step, 64 pairs, LoRA r8",
          "dpo_cached": "  same, cached reference log-probs (less work)",
          "rm_step": "reward-model step, 64 pairs, LoRA r8",
          "ppo_step": "PPO step, 64 rollouts, LoRA r8 (app: separate critic)",
          "ppo_step_value_head": "  same, app with a value head as TRL's (same work)",
          "t2m_embed": "T2M evaluator: embed motions + texts"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--work", default="/tmp/mp_bench")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true", help="no GFLOP/s (fewer decoder steps "
                        "than work.json counts)")
    args = parser.parse_args()
    times = defaultdict(list)  # (size, threads, case, side) -> ms
    cpu = defaultdict(list)
    first_loss = defaultdict(set)  # (size, case, side) -> the loss at the initial weights
    for line in Path(args.results).read_text().splitlines():
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        key = (row["size"], row["threads"])
        times[key + (row["case"], row["side"])] += row["ms"]
        cpu[key + (row["case"], row["side"])] += row.get("cpu_ms", [])
        if "first_loss" in row:
            first_loss[(row["size"], row["case"], row["side"])].add(row["first_loss"])
        if "t5_only_ms" in row:
            times[key + (row["case"] + "_t5", row["side"])] += row["t5_only_ms"]
    work = {}
    for size in {k[0] for k in times}:
        path = Path(args.work) / size / "work.json"
        work[size] = json.loads(path.read_text()) if path.exists() else {}
    # A step with cached reference log-probs runs two of the DPO step's three forwards' worth.
    scale = {"dpo_cached": 2 / 3}
    alias = {"pair_t5": "pair", "dpo_cached": "dpo", "pair_int8": "pair", "pair_int8_t5": "pair",
             "batch_int8": "batch"}
    work_of = lambda size, case: (None if args.quick and case != "gemm" else
                                  work[size].get(alias.get(case, case), 0) * scale.get(case, 1)
                                  or None)

    header = ["size", "thr", "case", "app ms", "Python ms", "ratio", "spread app/Py",
              "CPU ms app/Py", "CPU ratio",
              "GFLOP/s app/Py", "of GEMM app/Py"]
    rows = []
    for size, threads in sorted({k[:2] for k in times}, key=lambda k: (k[0] != "default", k)):
        gemm = {side: work_of(size, "gemm") / statistics.median(times[(size, threads, "gemm",
                                                                         side)]) / 1e6
                for side in ("app", "python") if times.get((size, threads, "gemm", side))}
        for case in CASES:
            app = times.get((size, threads, case, "app"), [])
            py = times.get((size, threads, case, "python"), [])
            if case in ("pair_t5", "pair_int8_t5"):
                py = times.get((size, threads, case[:-3], "python"), [])
            if case == "ppo_step_value_head":  # the app's TRL-like critic against the same TRL step
                py = times.get((size, threads, "ppo_step", "python"), [])
            if not app and not py:
                continue
            med = lambda ms: statistics.median(ms) if ms else None
            spread = lambda ms: f"{100 * (max(ms) - min(ms)) / med(ms):.0f}%" if ms else "-"
            fmt = lambda v: f"{v:.1f}" if v is not None else "-"
            flops = work_of(size, case)
            rate = {s: flops / med(ms) / 1e6 if flops and ms else None
                    for s, ms in (("app", app), ("python", py))}
            frac = {s: f"{rate[s] / gemm[s]:.2f}" if rate[s] and s in gemm else "-"
                    for s in rate}
            app_cpu = cpu.get((size, threads, case, "app"), [])
            py_cpu = cpu.get((size, threads, case, "python"), [])
            if case == "ppo_step_value_head":
                py_cpu = cpu.get((size, threads, "ppo_step", "python"), [])
            rows.append([size, str(threads), LABELS[case], fmt(med(app)), fmt(med(py)),
                         f"{med(py) / med(app):.2f}x" if app and py else "-",
                         f"{spread(app)} / {spread(py)}",
                         f"{fmt(med(app_cpu))} / {fmt(med(py_cpu))}",
                         f"{med(py_cpu) / med(app_cpu):.2f}x" if app_cpu and py_cpu else "-",
                         f"{fmt(rate['app'])} / {fmt(rate['python'])}",
                         f"{frac['app']} / {frac['python']}"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        for row in [header] + rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
    # What each side's int8 gains over its own float32 (process CPU time, medians).
    for size, threads in sorted({k[:2] for k in times}, key=lambda k: (k[0] != "default", k)):
        for case in ("pair", "pair_t5", "batch"):
            int8_case = case.replace("pair", "pair_int8") if "pair" in case else "batch_int8"
            gains = []
            for side in ("app", "python"):
                fp32 = cpu.get((size, threads, case, side)) or times.get((size, threads, case,
                                                                          side))
                int8 = cpu.get((size, threads, int8_case, side)) or times.get(
                    (size, threads, int8_case, side))
                if fp32 and int8:
                    gains.append(f"{side} {statistics.median(fp32) / statistics.median(int8):.2f}x")
            if gains:
                print(f"{size} {threads} thr {case}: int8 against float32, CPU time: "
                      + ", ".join(gains))
    # The equality check of the training cases: same initial weights, same first loss.
    for size, case in sorted({k[:2] for k in first_loss}):
        app, py = first_loss.get((size, case, "app")), first_loss.get((size, case, "python"))
        if app and py:
            a, p = min(app), min(py)
            print(f"{size} {case}: first loss app {sorted(app)} / Python {sorted(py)}, relative "
                  f"difference {abs(a - p) / max(abs(p), 1e-30):.1e}")


if __name__ == "__main__":
    main()
