#!/usr/bin/env python3
"""Markdown tables for docs/forecasting.md from the runs of
scripts/forecast_results.sh: mean ± sd (sample sd over seeds; deterministic
baselines ran once) of test MAE / RMSE / MASE in °C and the benchmarks'
standardized MSE / MAE (divided by the training std of the target), per
horizon and split convention, with each row's command and time.
Usage: scripts/forecast_results_table.py OUT_DIR TRAIN_STD"""
import csv
import os
import statistics
import sys

out, std = sys.argv[1], float(sys.argv[2])
ORDER = ["naive", "seasonal_naive", "mean", "drift", "ets", "linear", "dlinear", "dense", "conv1d", "simple_rnn",
         "lstm", "lstm_dropout", "gru_stacked", "bilstm"]


def rows(d):
    with open(os.path.join(out, d, "results.csv")) as f:
        return list(csv.DictReader(f))


def cmd(d):
    with open(os.path.join(out, d, "cmd.txt")) as f:
        return f.read().strip()


def ms(v, fmt):
    if len(v) == 1:
        return fmt % v[0]
    return (fmt + " ± " + fmt) % (statistics.mean(v), statistics.stdev(v))


for split in ("seed", "context"):
    for h in (24, 48, 96):
        base = "%d_%s_base" % (h, split)
        if not os.path.exists(os.path.join(out, base, "results.csv")):
            continue
        res = {}
        for r in rows(base):
            res.setdefault(r["model"], []).append(r)
        seeds = []
        for s in (1, 2, 3):
            d = "%d_%s_learned_s%d" % (h, split, s)
            if os.path.exists(os.path.join(out, d, "results.csv")):
                seeds.append(d)
                for r in rows(d):
                    res.setdefault(r["model"], []).append(r)
        conv = "seed's (look-back inside each split)" if split == "seed" else "--split-context (benchmarks')"
        print("\n#### Horizon %d h, %s convention\n" % (h, conv))
        print("| model | runs | epochs (best) | test MAE °C | test RMSE °C | test MASE | std. MSE | std. MAE | train time |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in ORDER:
            if m not in res:
                continue
            rr = res[m]
            mae = [float(r["test_mae"]) for r in rr]
            rmse = [float(r["test_rmse"]) for r in rr]
            mase = [float(r["test_mase"]) for r in rr]
            smse = [float(r["test_mse"]) / std ** 2 for r in rr]
            smae = [x / std for x in mae]
            t = [float(r["train_seconds"]) for r in rr]
            ep = ", ".join("%s (%s)" % (r["epochs"], r["best_epoch"]) for r in rr) if rr[0]["params"] != "0" else "–"
            print("| %s | %d | %s | %s | %s | %s | %s | %s | %s s |" % (
                m, len(rr), ep, ms(mae, "%.3f"), ms(rmse, "%.3f"), ms(mase, "%.3f"), ms(smse, "%.4f"),
                ms(smae, "%.4f"), ms(t, "%.1f")))
        print("\nCommands: `%s` (baselines, wall %s); learned models: `%s` for `--seed 1..3`." % (
            cmd(base).split(" ", 2)[2], cmd(base).split(" ")[1][5:],
            cmd(seeds[0]).split(" ", 2)[2].replace("--seed 1", "--seed S") if seeds else "-"))
        if seeds:
            print("Wall time per learned run (all models of one seed): %s." % ", ".join(
                cmd(d).split(" ")[1][5:] for d in seeds))
