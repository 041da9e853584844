"""Reference values for the forecasting tests (numpy only, float64):

    /usr/bin/python3 tests/gen_forecast_fixtures.py

Writes tests/fixtures/forecast/ets_reference.txt, read by
tests/test_forecast_baselines.c: tiny series with ETS(A,A,A) / ETS(A,A,N)
parameters and initial states, and the objective n*log(sum e^2) that
statsforecast's etscalc computes for them. The recursion here is written
in statsforecast's own update form (python/statsforecast/ets.py and
src/ets.cpp: q = l + b, p = y - s[m-1], l' = q + alpha (p - q),
b' = b + beta/alpha (l' - l - b), s' = s[m-1] + gamma (y - q - s[m-1]),
shifted in as the newest season state), not in the error-correction form
seqnn's C code uses, so the two are independent implementations of the
same model.

Also writes tests/fixtures/forecast/series_ids.csv (three series whose rows
are interleaved, for --id-column) and text_target.csv (a target column
that is not numeric).
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "forecast")


def ets_lik(y, m, alpha, beta, gamma, l0, b0, s0):
    """etscalc for additive error, additive trend, additive (or no) season."""
    l, b = l0, b0
    s = list(s0) if m > 1 else [0.0]
    sse = 0.0
    for yt in y:
        old_l, old_b, old_s = l, b, list(s)
        f = old_l + old_b + (old_s[m - 1] if m > 1 else 0.0)
        e = yt - f
        q = old_l + old_b
        p = yt - old_s[m - 1] if m > 1 else yt
        l = q + alpha * (p - q)
        b = old_b + (beta / alpha) * ((l - old_l) - old_b)
        if m > 1:
            t = yt - q
            s = [old_s[m - 1] + gamma * (t - old_s[m - 1])] + old_s[: m - 1]
        sse += e * e
    return len(y) * np.log(sse)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261127)
    cases = []
    # ETS(A,A,A), m = 4, 30 values: trend + season + noise
    t = np.arange(30)
    y = 10 + 0.3 * t + np.array([2.0, -1.0, 0.5, -1.5])[t % 4] + rng.normal(0, 0.4, 30)
    s0 = [0.4, -1.2, 1.9]
    s0 = s0 + [-sum(s0)]
    cases.append(("aaa", 4, y, 0.31, 0.07, 0.12, 9.5, 0.25, s0))
    # ETS(A,A,N), m = 1, 20 values
    y2 = 5 + 0.5 * np.arange(20) + rng.normal(0, 1.0, 20)
    cases.append(("aan", 1, y2, 0.6, 0.1, 0.0, 4.8, 0.4, [0.0]))
    with open(os.path.join(OUT, "ets_reference.txt"), "w") as f:
        f.write("# name m n alpha beta gamma l0 b0 | s0[0..m-1] | y[0..n-1] | lik (numpy float64)\n")
        for name, m, yy, a, b, g, l0, b0, s in cases:
            lik = ets_lik(yy, m, a, b, g, l0, b0, s)
            f.write("%s %d %d %.17g %.17g %.17g %.17g %.17g\n" % (name, m, len(yy), a, b, g, l0, b0))
            f.write(" ".join("%.17g" % v for v in s) + "\n")
            f.write(" ".join("%.17g" % v for v in yy) + "\n")
            f.write("%.17g\n" % lik)
    # three hourly series, rows interleaved by time (as a long-format export)
    with open(os.path.join(OUT, "series_ids.csv"), "w") as f:
        f.write("date,store,sales,temp\n")
        base = np.datetime64("2024-01-01T00:00")
        lengths = {"north": 300, "south": 260, "east": 280}
        for h in range(300):
            for k, (sid, n) in enumerate(lengths.items()):
                if h >= n:
                    continue
                ts = str(base + np.timedelta64(h, "h")).replace("T", " ")
                sales = 100 * (k + 1) + 10 * np.sin(2 * np.pi * h / 24) + rng.normal(0, 1)
                temp = 5 + 3 * np.cos(2 * np.pi * h / 24) + rng.normal(0, 0.3)
                f.write("%s,%s,%.3f,%.3f\n" % (ts, sid, sales, temp))
    with open(os.path.join(OUT, "text_target.csv"), "w") as f:
        f.write("date,level,status\n")
        for h in range(200):
            ts = str(base + np.timedelta64(h, "h")).replace("T", " ")
            f.write("%s,%.2f,%s\n" % (ts, 50 + np.sin(h / 5.0), "ok" if h % 7 else "check"))


if __name__ == "__main__":
    main()
