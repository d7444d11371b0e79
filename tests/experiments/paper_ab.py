#!/usr/bin/env python3
"""The README's blind A/B table from the CSV files paper_ab.sh writes (`compare ab --format csv`).

Usage: paper_ab.py AB_DIR

One row per comparison found (NAME.csv), one column per temperature and one for all of them.
Each cell: B's wins / ties / losses against A in percent of the trials, then the 95% Wilson
interval of the win rate in brackets; * marks a cell whose win and loss intervals do not overlap.
The last column: the exact two-sided sign test of wins against losses over all temperatures
(ties left out), against B and A being preferred equally often.
"""
import csv
import math
import os
import sys

ROWS = [
    ("self", "untrained default (B = A: the null)"),
    ("dpo_s1", "DPO, seed 1"),
    ("dpo_s2", "DPO, seed 2"),
    ("rlhf_s1", "RLHF, seed 1"),
    ("rlhf_s2", "RLHF, seed 2"),
    ("full-ft_s1", "full fine-tuning, seed 1"),
    ("dpo_s1_labeler7", "DPO, seed 1; labeler noise seed 7"),
    ("dpo_s1_noise015", "DPO, seed 1; labeler noise 0.15"),
    ("dpo_s2_noise015", "DPO, seed 2; labeler noise 0.15"),
]


def cell(row):
    wins, ties, losses, n = (int(float(row[k])) for k in ("wins", "ties", "losses", "trials"))
    pct = lambda k: round(100.0 * k / n) if n else 0
    apart = float(row["win_low"]) > float(row["loss_high"]) or \
        float(row["loss_low"]) > float(row["win_high"])
    return "%d/%d/%d [%d-%d]%s" % (pct(wins), pct(ties), pct(losses),
                                   round(100 * float(row["win_low"])),
                                   round(100 * float(row["win_high"])), "*" if apart else "")


def sign_test_p(wins, losses):
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def main():
    folder = sys.argv[1]
    header = None
    lines = []
    trials = None
    for name, label in ROWS:
        path = os.path.join(folder, name + ".csv")
        if not os.path.exists(path):
            continue
        rows = list(csv.DictReader(open(path)))
        temps = [r["temperature"] for r in rows]
        if header is None:
            header = temps
            trials = [int(float(r["trials"])) for r in rows]
        elif temps != header:
            sys.exit("%s: temperatures %s differ from %s" % (path, temps, header))
        total = rows[-1]
        p = sign_test_p(int(float(total["wins"])), int(float(total["losses"])))
        lines.append("| %s | %s | %.2g |" % (label, " | ".join(cell(r) for r in rows), p))
    if header is None:
        sys.exit(folder + ": no comparison CSV found")
    print("| B against A = untrained default | %s | sign test p |" %
          " | ".join("T %s (%d)" % (t, n) if t != "all" else "all (%d)" % n
                     for t, n in zip(header, trials)))
    print("|---|%s---|" % ("---|" * len(header)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
