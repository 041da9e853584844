#!/usr/bin/env python3
"""Markdown tables for docs/forecasting.md from the runs of
scripts/forecast_results.sh: per horizon and split convention, every model's
test MAE / RMSE / MASE in the target's units and the benchmarks'
standardised MSE / MAE (errors divided by the training std of the target,
read from a model file: the std seqnn scaled with), the MAE at the last
step (the seed's single target), as mean ± sd (sample sd)
over the seeds that ran, with n; each run directory's command, wall and CPU
time; then the seed's table (default flags) beside docs/results.md's.
Numbers come only from the runs' results.csv / cmd.txt / cpu.txt.
Usage: scripts/forecast_results_table.py OUT_DIR [docs/results.md]"""
import csv
import glob
import os
import re
import statistics
import sys

out = sys.argv[1]
ref_md = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "docs", "results.md")
ORDER = ["naive", "seasonal_naive", "mean", "drift", "ets", "linear", "dlinear", "dense", "conv1d", "simple_rnn",
         "lstm", "lstm_dropout", "gru_stacked", "bilstm"]
HORIZONS = (24, 48, 96)
SPLITS = ("seed", "context")


def done(d):
    """The run's results rows, or None when it did not finish (rc != 0 or missing)."""
    p = os.path.join(out, d)
    try:
        with open(os.path.join(p, "cmd.txt")) as f:
            if not f.read().startswith("rc=0 "):
                return None
        with open(os.path.join(p, "results.csv")) as f:
            return list(csv.DictReader(f))
    except OSError:
        return None


def run_info(d):
    """(command, wall seconds, CPU seconds or None) of a run directory."""
    with open(os.path.join(out, d, "cmd.txt")) as f:
        m = re.match(r"rc=0 wall=(\d+)s (.*)", f.read().strip())
    cpu = None
    try:
        with open(os.path.join(out, d, "cpu.txt")) as f:
            u, s = f.read().split()[-2:]
            cpu = float(u) + float(s)
    except (OSError, ValueError):
        pass
    return m.group(2), int(m.group(1)), cpu


def train_std():
    for path in sorted(glob.glob(os.path.join(out, "*", "*.seqnn"))):
        with open(path, "rb") as f:
            m = re.search(rb"target_stat\t0\t0\t(\S+)\t(\S+)\n", f.read())
        if m:
            return float(m.group(2))
    sys.exit("no model file with the target's training statistics under " + out)


def ms(v, fmt):
    if len(v) == 1:
        return fmt % v[0]
    return (fmt + " ± " + fmt) % (statistics.mean(v), statistics.stdev(v))


def dirs(h, split):
    names = ["%d_%s_base" % (h, split)]
    for what in ("cheap", "heavy"):
        names += ["%d_%s_%s_s%d" % (h, split, what, s) for s in (1, 2, 3)]
    return [d for d in names if done(d) is not None]


def collect(h, split):
    res = {}
    for d in dirs(h, split):
        for r in done(d):
            r["_dir"] = d
            res.setdefault(r["model"], []).append(r)
    return res


def last_step_mae(r):
    """Test MAE at the last step (the seed's single target H ahead) from <model>_per_step.csv."""
    with open(os.path.join(out, r["_dir"], r["model"] + "_per_step.csv")) as f:
        return float(list(csv.DictReader(f))[-1]["test_mae"])


std = train_std()
conv_name = {"seed": "seed's convention (look-back inside each split)",
             "context": "`--split-context` (the long-horizon benchmarks' convention)"}

# 1. summary: test MAE per model and setting
print("#### Summary: test MAE in °C (mean ± sd over the seeds that ran; n in brackets where fewer than 3)\n")
cols = [(h, s) for s in SPLITS for h in HORIZONS]
table = {c: collect(*c) for c in cols}
print("| model | " + " | ".join("%d h %s" % (h, "seed" if s == "seed" else "context") for h, s in cols) + " |")
print("|---|" + "---:|" * len(cols))
for m in ORDER:
    cells = []
    for c in cols:
        rr = table[c].get(m)
        if not rr:
            cells.append("not run")
            continue
        v = [float(r["test_mae"]) for r in rr]
        note = "" if rr[0]["params"] == "0" or len(v) == 3 else " (n=%d)" % len(v)
        cells.append(ms(v, "%.3f") + note)
    print("| %s | %s |" % (m, " | ".join(cells)))

# 2. detail per setting
for split in SPLITS:
    for h in HORIZONS:
        res = table[(h, split)]
        if not res:
            continue
        print("\n#### Horizon %d h, %s\n" % (h, conv_name[split]))
        print("| model | n | epochs (best) | test MAE °C | test RMSE °C | test MASE | std. MSE | std. MAE "
              "| MAE at step %d °C | fit time per run |" % h)
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in ORDER:
            rr = res.get(m)
            if not rr:
                continue
            mae = [float(r["test_mae"]) for r in rr]
            rmse = [float(r["test_rmse"]) for r in rr]
            mase = [float(r["test_mase"]) for r in rr]
            smse = [float(r["test_mse"]) / std ** 2 for r in rr]
            smae = [x / std for x in mae]
            t = [float(r["train_seconds"]) for r in rr]
            last = [last_step_mae(r) for r in rr]
            ep = ", ".join("%s (%s)" % (r["epochs"], r["best_epoch"]) for r in rr) if rr[0]["params"] != "0" else "–"
            print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s s |" % (
                m, len(rr), ep, ms(mae, "%.3f"), ms(rmse, "%.3f"), ms(mase, "%.3f"), ms(smse, "%.4f"),
                ms(smae, "%.4f"), ms(last, "%.3f"), ms(t, "%.1f")))
        print("\nRuns (wall time of the whole process; CPU = user + system where measured):\n")
        for d in dirs(h, split):
            c, w, cpu = run_info(d)
            print("- `%s`: `seqnn --threads 1 forecast %s` — wall %d s%s" % (
                d, c, w, "" if cpu is None else ", CPU %.0f s" % cpu))

# 3. the seed's table with default flags, beside docs/results.md's
seed_rows = {}
for d in ("seed_table", "seed_table_long"):
    for r in done(d) or []:
        seed_rows[r["model"]] = (r, d)
if seed_rows:
    ref = {}
    with open(ref_md) as f:
        for line in f:
            m = re.match(r"\| (\w+)[^|]*\| [^|]* \| [^|]* \| ([\d.]+) \| \*\*([\d.]+)\*\* \|", line)
            if m:
                ref[m.group(1)] = (m.group(2), m.group(3))
    print("\n#### The seed's table, default flags (`forecast --all` protocol), beside docs/results.md\n")
    print("| model | epochs (best) | val MAE | test MAE | docs/results.md val / test MAE | seed's Keras test MAE | fit time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for m in ORDER:
        if m not in seed_rows:
            continue
        r, d = seed_rows[m]
        ep = "%s (%s)" % (r["epochs"], r["best_epoch"]) if r["params"] != "0" else "–"
        rv, rt = ref.get(m, ("–", "–"))
        print("| %s | %s | %.2f | %.2f | %s / %s | %s | %.1f s |" % (
            m, ep, float(r["val_mae"]), float(r["test_mae"]), rv, rt, r["seed_test_mae"] or "–",
            float(r["train_seconds"])))
    print()
    for d in ("seed_table", "seed_table_long"):
        if done(d) is not None:
            c, w, cpu = run_info(d)
            print("- `%s`: `seqnn --threads 1 forecast %s` — wall %d s%s" % (
                d, c, w, "" if cpu is None else ", CPU %.0f s" % cpu))
print("\n(training std of the target used for the standardised columns: %.6f °C)" % std)
