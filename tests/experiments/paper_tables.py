#!/usr/bin/env python3
"""The README's paper tables from an experiment directory made with paper_tables.json.

Usage: paper_tables.py EXPERIMENT_DIR

Reads EXPERIMENT_DIR/results.csv (written by `motionpref-cli experiment run` or `experiment
report`) and each run's train/best/best.json, and prints one Markdown table per paper table. Each
cell is the configuration's mean over its runs' replications followed by the paired difference
against the untrained baseline with its 95% interval; * marks an interval that excludes zero.
"""
import csv
import json
import os
import sys

TABLES = [
    ("Table 1: DPO against the baseline and RLHF", ["dpo", "rlhf"]),
    ("Table 2: percentage of the training pairs", ["data-25%", "data-50%", "dpo"]),
    ("Table 3: the four losses", ["dpo", "hinge", "ipo", "kto_pair"]),
    ("Table 4: degrees used", ["much-only", "dpo", "all-degrees"]),
    ("LoRA against full fine-tuning", ["dpo", "full-ft"]),
]
LABELS = {
    "dpo": "DPO (sigmoid; 100%, much+better, LoRA)",
    "rlhf": "RLHF (reward model + PPO, LoRA)",
    "data-25%": "25% of the pairs",
    "data-50%": "50% of the pairs",
    "hinge": "hinge",
    "ipo": "IPO",
    "kto_pair": "KTO-pair",
    "much-only": "much better only",
    "all-degrees": "all four degrees",
    "full-ft": "full fine-tuning",
}
METRICS = [
    ("R_precision_top_1", "R@1", 3),
    ("R_precision_top_3", "R@3", 3),
    ("FID", "FID", 2),
    ("Foot_skating_ratio", "foot skating", 4),
    ("x_R_precision_top_1", "cross R@1", 3),
    ("x_FID", "cross FID", 3),
]


def main(directory):
    rows = list(csv.DictReader(open(os.path.join(directory, "results.csv"))))
    base = {r["metric"]: r for r in rows if r["run"] == "baseline"}
    pooled = {(r["configuration"], r["metric"]): r for r in rows if r["run"] == "pooled"}
    metrics = [m for m in METRICS if m[0] in base]
    accuracy = held_out_accuracy(directory)

    def cell(row, metric, digits):
        if row is None or not row["mean"]:
            return "–"
        text = f"{float(row['mean']):.{digits}f}"
        if row.get("diff_mean"):
            star = "*" if row["diff_excludes_zero"] == "yes" else ""
            text += f" ({float(row['diff_mean']):+.{digits}f} ± {float(row['diff_half_interval']):.{digits}f}{star})"
        return text

    for title, configurations in TABLES:
        print(f"#### {title}\n")
        header = ["configuration", "runs", "held-out pref. acc."] + [m[1] for m in metrics]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        cells = ["untrained baseline", "1", "–"]
        cells += [f"{float(base[m]['mean']):.{d}f}" for m, _, d in metrics]
        print("| " + " | ".join(cells) + " |")
        for c in configurations:
            first = pooled.get((c, metrics[0][0]))
            runs = first["n"] if first else "0"
            n = int(runs) // 5 if first and first["n"] else 0  # 5 replications per run
            acc = accuracy.get(c)
            cells = [LABELS.get(c, c), str(n), f"{acc:.2f}" if acc is not None else "–"]
            cells += [cell(pooled.get((c, m)), m, d) for m, _, d in metrics]
            print("| " + " | ".join(cells) + " |")
        print()


def held_out_accuracy(directory):
    """Mean over a configuration's runs of best.json's held-out reward accuracy (DPO runs)."""
    state = json.load(open(os.path.join(directory, "experiment.json")))
    values = {}
    for run in state.get("runs", []):
        best = os.path.join(directory, "runs", run["id"], "train", "best", "best.json")
        if not os.path.exists(best):
            continue
        metrics = json.load(open(best)).get("metrics", {})
        if "eval_rewards/accuracies" in metrics:
            values.setdefault(run["configuration"], []).append(metrics["eval_rewards/accuracies"])
    return {c: sum(v) / len(v) for c, v in values.items()}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
