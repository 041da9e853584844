/* seqnn forecast / backtest / predict end to end on small real extracts of
 * the bundled Jena series (tests/fixtures/jena_hourly_*.csv.gz) and on the
 * generated fixtures of tests/gen_forecast_fixtures.py. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

/* Runs the CLI with args (1 thread), output into out; returns the exit code. */
static int run(char *out, size_t n, const char *args) {
    char a[8192];
    snprintf(a, sizeof a, "--threads 1 %s", args);
    return sn_test_cli_run(out, n, a);
}

static char g_out[1 << 16];

/* The number after `key` in s, NAN when absent. */
static double after(const char *s, const char *key) {
    const char *p = strstr(s, key);
    return p ? atof(p + strlen(key)) : NAN;
}

/* Issue 11's end-to-end claim: on a target whose mean is far from 0 ("p
 * (mbar)", mean ~ 989) the raw-target LSTM cannot learn the level in a short
 * training (its output bias moves ~1e-3 per RMSprop step) and stays far
 * behind the naive forecaster, while the same LSTM on the default
 * standardised target beats it. */
TEST(forecast_cli_scaled_lstm_beats_naive_where_the_raw_target_lstm_does_not) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048];
    const char *common = "--target \"p (mbar)\" --model \"lstm(16), dense(1)\" --lookback 48h --horizon 12h --epochs 10 "
                         "--batch-size 64 --quiet --no-plots";
    double mae[2], naive[2];
    for (int scaled = 0; scaled < 2; scaled++) {
        snprintf(args, sizeof args, "forecast --data %s %s %s --out %s/e2e_p%d", sn_test_path("jena_hourly_2009_2010.csv.gz"),
                 common, scaled ? "" : "--target-scale none", sn_test_tmpdir(), scaled);
        CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
        CHECK(strstr(g_out, scaled ? "target scale: standard" : "target scale: none"));
        mae[scaled] = after(g_out, "test MAE ");
        naive[scaled] = after(g_out, "(naive ");
    }
    CHECK(naive[0] == naive[1]);
    CHECK_MSG(mae[0] > naive[0], "raw-target LSTM %.3f vs naive %.3f", mae[0], naive[0]);
    CHECK_MSG(mae[1] < 0.95 * naive[1], "scaled LSTM %.3f vs naive %.3f", mae[1], naive[1]);
}

/* --steps all with a conformal interval, then the future: H rows after the
 * last row of the file, one sampling period apart, with lo <= point <= hi. */
TEST(forecast_cli_steps_all_interval_and_the_future) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048], out[512], path[1024];
    snprintf(out, sizeof out, "%s/fc_all", sn_test_tmpdir());
    snprintf(args, sizeof args,
             "forecast --data %s --model dlinear --steps all --lookback 24h --horizon 6h --interval 0.9 --epochs 2 "
             "--out %s --quiet",
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "at 6 step(s) 1h..6h") && strstr(g_out, "conformal interval 90%: test coverage"));
    snprintf(path, sizeof path, "%s/results.csv", out);
    FILE *f = fopen(path, "r");
    CHECK(f);
    char line[1024];
    CHECK(fgets(line, sizeof line, f));
    fclose(f);
    CHECK(strstr(line, "val_mae,val_mse,val_rmse,val_mape,val_smape,val_mase,test_mae,test_mse") &&
          strstr(line, "test_coverage"));
    const char *files[] = {"dlinear_per_step.csv", "dlinear_error_by_step.png", "dlinear_test_forecast.png",
                           "dlinear_test_example.png"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        CHECK_MSG(access(path, R_OK) == 0, "missing %s", path);
    }
    snprintf(args, sizeof args, "predict --model %s/dlinear.seqnn --data %s --out %s/future.csv", out,
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "latest: data up to 2009-06-16 15:10:00") && strstr(g_out, "MAE over"));
    snprintf(path, sizeof path, "%s/future.csv", out);
    f = fopen(path, "r");
    CHECK(f);
    CHECK(fgets(line, sizeof line, f) && strstr(line, "time,step,\"T (degC)\",\"T (degC)_lo\",\"T (degC)_hi\""));
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        int d, hh, mm, st;
        double pt, lo, hi;
        CHECK(sscanf(line, "2009-06-%d %d:%d:00,%d,%lf,%lf,%lf", &d, &hh, &mm, &st, &pt, &lo, &hi) == 7);
        /* the last row is 2009-06-16 15:10: step s is s hours later */
        CHECK(st == rows + 1 && mm == 10 && (d - 16) * 24 + hh == 15 + st);
        CHECK(lo <= pt && pt <= hi);
        rows++;
    }
    fclose(f);
    CHECK(rows == 6);
    snprintf(path, sizeof path, "%s/future.png", out);
    CHECK(access(path, R_OK) == 0);
}

/* Impossible requests name what is wrong and exit 1. */
TEST(forecast_cli_impossible_requests_name_the_column_or_series) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048];
    snprintf(args, sizeof args, "forecast --data %s --steps all --lookback 24h --horizon 1500h --model naive --out %s/e1 --no-plots",
             sn_test_path("jena_hourly_4000.csv.gz"), sn_test_tmpdir());
    CHECK(run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "test split has no window") && strstr(g_out, "1500h"));
    snprintf(args, sizeof args, "forecast --data %s --target status --model naive --out %s/e2 --no-plots",
             sn_test_path("forecast/text_target.csv"), sn_test_tmpdir());
    CHECK(run(g_out, sizeof g_out, args) == 1);
    CHECK_MSG(strstr(g_out, "\"status\" is not a numeric column") && strstr(g_out, "text_target.csv:2:") &&
                  strstr(g_out, "\"check\""), "%s", g_out);
    snprintf(args, sizeof args,
             "forecast --data %s --id-column store --target sales --lookback 200h --horizon 70h --model naive --out %s/e3 "
             "--no-plots",
             sn_test_path("forecast/series_ids.csv"), sn_test_tmpdir());
    CHECK(run(g_out, sizeof g_out, args) == 1);
    CHECK_MSG(strstr(g_out, "series \"south\" (column \"store\") has 260 rows"), "%s", g_out);
    snprintf(args, sizeof args, "forecast --data %s --target-scale maybe --model naive --out %s/e4",
             sn_test_path("jena_hourly_4000.csv.gz"), sn_test_tmpdir());
    CHECK(run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "--target-scale must be"));
}

/* Several series: one global model, metrics per series, the future per series. */
TEST(forecast_cli_id_column_trains_one_model_over_every_series) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048], out[512], path[1024], line[512];
    snprintf(out, sizeof out, "%s/fc_ids", sn_test_tmpdir());
    snprintf(args, sizeof args,
             "forecast --data %s --id-column store --target sales --lookback 24h --horizon 6h --steps all --model linear "
             "--epochs 2 --out %s --quiet --no-plots",
             sn_test_path("forecast/series_ids.csv"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "3 series (\"store\")") && strstr(g_out, "3 series: worst test MAE"));
    snprintf(path, sizeof path, "%s/linear_per_series.csv", out);
    FILE *f = fopen(path, "r");
    CHECK(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strstr(line, "\"north\"") || strstr(line, "\"south\"") || strstr(line, "\"east\"");
    fclose(f);
    CHECK(n == 3);
    snprintf(args, sizeof args, "predict --model %s/linear.seqnn --data %s --out %s/future.csv", out,
             sn_test_path("forecast/series_ids.csv"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    snprintf(path, sizeof path, "%s/future.csv", out);
    f = fopen(path, "r");
    CHECK(f);
    int south = 0, first_ok = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "\"south\",", 8)) first_ok |= !south++ && !strncmp(line + 8, "2024-01-11 20:00:00,1,", 22);
    fclose(f);
    CHECK_MSG(south == 6 && first_ok, "south's 6 future rows start an hour after its last row (2024-01-11 19:00)");
}

/* --metrics-scale standardized divides every error by the target's training
 * std: one target, one series, so MSE scales by the square of MAE's factor. */
TEST(forecast_cli_standardized_metrics_scale_by_the_training_std) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048], path[1024], line[1024];
    double mae[2], mse[2];
    for (int s = 0; s < 2; s++) {
        snprintf(args, sizeof args, "forecast --data %s --model naive --steps all --horizon 6h --out %s/std%d --quiet --no-plots %s",
                 sn_test_path("jena_hourly_4000.csv.gz"), sn_test_tmpdir(), s, s ? "--metrics-scale standardized" : "");
        CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
        snprintf(path, sizeof path, "%s/std%d/results.csv", sn_test_tmpdir(), s);
        FILE *f = fopen(path, "r");
        CHECK(f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f));
        fclose(f);
        /* model,params,epochs,best_epoch, then 6 val metrics, then test_mae,test_mse */
        char *p = line;
        for (int c = 0; c < 10; c++) p = strchr(p, ',') + 1;
        mae[s] = atof(p);
        mse[s] = atof(strchr(p, ',') + 1);
    }
    double k = mae[1] / mae[0];
    CHECK(k < 0.5); /* the std of T (degC) is several degrees */
    /* both files print 6 significant digits: relative error 1e-5 each */
    CHECK_CLOSE(mse[1] / mse[0], k * k, 0, 5e-5);
}

/* Walk-forward backtest: a table per fold, mean ± sd, the plot. */
TEST(forecast_cli_backtest_walks_forward) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048], out[512], path[1024], line[512];
    snprintf(out, sizeof out, "%s/bt", sn_test_tmpdir());
    snprintf(args, sizeof args,
             "backtest --data %s --model seasonal_naive --folds 3 --step 200 --steps all --lookback 24h --horizon 12h "
             "--out %s --quiet",
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "3 folds of 200 rows") && strstr(g_out, "mean ± sd over the folds: MAE"));
    /* fold i tests rows [4000 - (3 - i) 200, + 200): windows with every target inside: 200 - 12 + 1 */
    CHECK(strstr(g_out, "test ..3600") && strstr(g_out, "test ..4000"));
    snprintf(path, sizeof path, "%s/backtest.csv", out);
    FILE *f = fopen(path, "r");
    CHECK(f);
    int n = 0, windows_ok = 1;
    while (fgets(line, sizeof line, f))
        if (line[0] >= '1' && line[0] <= '9') {
            n++;
            const char *p = strchr(strchr(line, ',') + 1, ',') + 1;
            windows_ok &= atoi(p) == 189;
        }
    fclose(f);
    CHECK(n == 3 && windows_ok);
    snprintf(path, sizeof path, "%s/backtest_mae.png", out);
    CHECK(access(path, R_OK) == 0);
    /* --refit-every 2: fold 2 (test rows 3600..3800) is forecast by fold 1's
     * fit, so its row gives fold 1's 3400 training + validation rows (the cut
     * of fold i is 4000 - (4 - i) 200); fold 3 refits on the 3800 before its cut */
    snprintf(args, sizeof args,
             "backtest --data %s --model dlinear --folds 3 --step 200 --refit-every 2 --steps all --lookback 24h "
             "--horizon 12h --epochs 1 --out %s --quiet --no-plots",
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK_MSG(strstr(g_out, "fold 2: test rows 3600..3800 (no refit: the fit of fold 1 forecasts)"), "%s", g_out);
    snprintf(path, sizeof path, "%s/backtest.csv", out);
    f = fopen(path, "r");
    CHECK(f);
    size_t rows[3] = {0};
    n = 0;
    while (fgets(line, sizeof line, f))
        if (line[0] >= '1' && line[0] <= '3' && line[1] == ',') rows[n++ % 3] = (size_t)atol(line + 2);
    fclose(f);
    CHECK_MSG(n == 3 && rows[0] == 3400 && rows[1] == 3400 && rows[2] == 3800, "train rows %zu %zu %zu", rows[0],
              rows[1], rows[2]);
}

/* Channel independence with per-window scaling: one shared model over two
 * targets (output 3 steps per channel); predict reads the layout back from
 * the model file and writes both targets' future. */
TEST(forecast_cli_channel_independent_window_scaled_model_predicts_both_targets) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048], out[512], path[1024], line[1024];
    snprintf(out, sizeof out, "%s/fc_ci", sn_test_tmpdir());
    snprintf(args, sizeof args,
             "forecast --data %s --targets T,p --channel-independent --target-scale window --steps all --lookback 12h "
             "--horizon 3h --model \"lstm(4), dense(3)\" --epochs 1 --out %s --quiet --no-plots",
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    snprintf(args, sizeof args, "predict --model %s/custom.seqnn --data %s --out %s/future.csv", out,
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK_MSG(run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    snprintf(path, sizeof path, "%s/future.csv", out);
    FILE *f = fopen(path, "r");
    CHECK(f);
    CHECK(fgets(line, sizeof line, f) && !strcmp(line, "time,step,\"T (degC)\",\"p (mbar)\"\n"));
    int rows = 0;
    double t, p;
    while (fgets(line, sizeof line, f)) {
        CHECK(sscanf(strchr(strchr(line, ',') + 1, ',') + 1, "%lf,%lf", &t, &p) == 2);
        /* each target back in its own units: temperature in June, pressure near 1000 mbar */
        CHECK_MSG(t > -10 && t < 40 && p > 900 && p < 1100, "%s", line);
        rows++;
    }
    fclose(f);
    CHECK(rows == 3);
    /* a spec of the wrong size says which dense(N) to end with */
    snprintf(args, sizeof args,
             "forecast --data %s --targets T,p --steps all --horizon 3h --lookback 12h --model \"lstm(4), dense(3)\" "
             "--epochs 1 --out %s --quiet --no-plots",
             sn_test_path("jena_hourly_4000.csv.gz"), out);
    CHECK(run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "end the spec with dense(6)"));
}
