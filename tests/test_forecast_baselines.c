/* Forecast baselines, metrics, conformal intervals, splits and ETS against
 * hand-computed values and an independent float64 reference
 * (tests/gen_forecast_fixtures.py). */
#include <stdlib.h>

#include "seqnn.h"
#include "seqnn/forecast.h"
#include "test.h"

/* One target, one series: y[i] given, x unused but required. */
typedef struct series1 {
    float x[64], y[64], yn[64];
    double mean, std;
    sn_fc_series s;
} series1;

static void series1_init(series1 *t, const float *y, int n) {
    for (int i = 0; i < n; i++) t->x[i] = t->yn[i] = t->y[i] = y[i];
    t->mean = 0, t->std = 1;
    sn_fc_series s = {(size_t)n, 1, t->x, 1, t->y, t->yn, NULL, 1, &t->mean, &t->std, NULL};
    t->s = s;
}

TEST(forecast_baselines_match_hand_computed_values) {
    /* y = 0..11 plus a period-4 pattern: 10, 21, 32, 13, 14, 25, 36, 17, 18, 29, 40, 21 */
    const float y[12] = {10, 21, 32, 13, 14, 25, 36, 17, 18, 29, 40, 21};
    static series1 t;
    series1_init(&t, y, 12);
    /* window: L 3 every 2 rows from row 2 (rows 2, 4, 6; origin 6), steps 1..3 rows on */
    sn_fc_layout lay = {3, 2, 3, 1, 1, SN_FC_SCALE_NONE, 0, 1, 0};
    size_t st[1] = {2};
    sn_windows w = {1, st, 3, 2, 1, 2, 3};
    double out[3];
    CHECK_OK(sn_fc_baseline_predict(SN_FC_NAIVE, &t.s, &lay, &w, 4, out));
    CHECK(out[0] == 36 && out[1] == 36 && out[2] == 36);
    /* seasonal naive, m 4: step d takes row 6 + d - 4 ceil(d/4) = rows 3, 4, 5 */
    CHECK_OK(sn_fc_baseline_predict(SN_FC_SEASONAL_NAIVE, &t.s, &lay, &w, 4, out));
    CHECK(out[0] == 13 && out[1] == 14 && out[2] == 25);
    /* mean of rows 2, 4, 6 = (32 + 14 + 36) / 3 */
    CHECK_OK(sn_fc_baseline_predict(SN_FC_MEAN, &t.s, &lay, &w, 4, out));
    CHECK_CLOSE(out[0], 82.0 / 3, 1e-12, 0);
    /* drift: slope (36 - 32) / (6 - 2) = 1 per row: 37, 38, 39 */
    CHECK_OK(sn_fc_baseline_predict(SN_FC_DRIFT, &t.s, &lay, &w, 4, out));
    CHECK(out[0] == 37 && out[1] == 38 && out[2] == 39);
    /* a season reaching before the series is refused with the numbers */
    CHECK(sn_fc_baseline_predict(SN_FC_SEASONAL_NAIVE, &t.s, &lay, &w, 8, out) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "--season"));
    /* seasons from the time step */
    CHECK(sn_fc_season_from_step(3600) == 24 && sn_fc_season_from_step(600) == 144);
    CHECK(sn_fc_season_from_step(86400) == 7 && sn_fc_season_from_step(7 * 86400) == 52);
    CHECK(sn_fc_season_from_step(7 * 3600) == 1);
}

TEST(forecast_metrics_match_hand_computed_values) {
    /* 2 windows x 2 steps x 1 target: truth 10, 20, -5, 0; pred 12, 18, -4, 1 */
    const double truth[4] = {10, 20, -5, 0}, pred[4] = {12, 18, -4, 1}, den[2] = {2, 4};
    sn_fc_metrics all, step[2];
    CHECK_OK(sn_fc_metrics_eval(pred, truth, den, 2, 2, 1, &all, step));
    /* errors 2, 2, 1, 1 */
    CHECK_CLOSE(all.mae, 1.5, 1e-15, 0);
    CHECK_CLOSE(all.mse, 2.5, 1e-15, 0);
    CHECK_CLOSE(all.rmse, sqrt(2.5), 1e-15, 0);
    /* MAPE skips y == 0: (2/10 + 2/20 + 1/5) / 3 */
    CHECK_CLOSE(all.mape, 100 * (0.2 + 0.1 + 0.2) / 3, 1e-12, 0);
    /* sMAPE: 2|e| / (|y| + |p|): 4/22, 4/38, 2/9, 2/1 */
    CHECK_CLOSE(all.smape, 100 * (4.0 / 22 + 4.0 / 38 + 2.0 / 9 + 2.0) / 4, 1e-12, 0);
    /* MASE: window 0 over den 2, window 1 over den 4: (1 + 1 + 0.25 + 0.25) / 4 */
    CHECK_CLOSE(all.mase, 2.5 / 4, 1e-15, 0);
    CHECK_CLOSE(step[0].mae, 1.5, 1e-15, 0);  /* steps 0: errors 2, 1 */
    CHECK_CLOSE(step[1].mse, 2.5, 1e-15, 0);  /* steps 1: errors 2, 1 */
    /* the in-sample seasonal-naive scale: |y_t - y_{t-2}| over t = 2..4 of 1, 3, 2, 6, 4 */
    const float y[5] = {1, 3, 2, 6, 4};
    double d;
    CHECK_OK(sn_fc_mase_scale(y, 1, 0, 0, 5, 2, &d));
    CHECK_CLOSE(d, (1.0 + 3.0 + 2.0) / 3, 1e-15, 0);
    CHECK(sn_fc_mase_scale(y, 1, 0, 0, 2, 2, &d) == SN_ERR_ARG);
}

TEST(forecast_conformal_rank_and_coverage_on_a_known_distribution) {
    /* the rank: n = 9 calibration residuals at level 0.9 -> ceil(10 * 0.9) = 9th smallest = the largest */
    double p[9] = {0}, y[9] = {3, -1, 4, 1, -5, 9, 2, -6, 5}, q;
    CHECK_OK(sn_fc_conformal(p, y, 9, 1, 0.9, &q));
    CHECK(q == 9);
    CHECK_OK(sn_fc_conformal(p, y, 9, 1, 0.5, &q)); /* ceil(5) = 5th smallest of |.|: 1,1,2,3,4 -> 4 */
    CHECK(q == 4);
    CHECK_OK(sn_fc_conformal(p, y, 8, 1, 0.95, &q)); /* rank 9 > 8: no finite width */
    CHECK(isinf(q));
    /* Gaussian errors: calibrate on 999, test on 20,000 fresh draws. Given the
     * calibration set, coverage is Beta(k, n+1-k) distributed with mean
     * k/(n+1) = 0.9 and sd sqrt(0.9 * 0.1 / 1001) = 0.0095; the test draws add
     * sd sqrt(0.09 / 20000) = 0.0021: the tolerance 0.04 is 4 sd. The width
     * estimates the 0.9 quantile of |N(0,1)|, 1.6449, with sd
     * sqrt(0.09 / 999) / (2 phi(1.6449)) = 0.046: 4 sd is 0.19. */
    enum { NC = 999, NT = 20000 };
    static double cp[NC], cy[NC], tl[NT], th[NT], ty[NT];
    sn_rng r;
    sn_rng_seed(&r, 7);
    for (int i = 0; i < NC; i++) cp[i] = 3.0, cy[i] = 3.0 + sn_rng_normal(&r);
    CHECK_OK(sn_fc_conformal(cp, cy, NC, 1, 0.9, &q));
    CHECK_MSG(fabs(q - 1.6449) < 0.19, "width %g", q);
    for (int i = 0; i < NT; i++) ty[i] = -2.0 + sn_rng_normal(&r), tl[i] = -2.0 - q, th[i] = -2.0 + q;
    double cov = sn_fc_coverage(tl, th, ty, NT);
    CHECK_MSG(fabs(cov - 0.9) < 0.04, "coverage %g", cov);
}

TEST(forecast_splits_and_walk_forward_folds) {
    sn_fc_split sp;
    sn_ts_borders b;
    CHECK_OK(sn_fc_split_parse("0.5,0.25,0.25", &sp));
    CHECK(!sp.is_rows && sp.c < 0); /* sums to 1: the test is the rest, as the seed */
    CHECK_OK(sn_fc_split_borders(&sp, 0, 70038, &b));
    CHECK(b.train_end == 35019 && b.val_end == 35019 + 17509 && b.end == 70038);
    CHECK_OK(sn_fc_split_parse("8640,2880,2880", &sp));
    CHECK_OK(sn_fc_split_borders(&sp, 100, 20000, &b));
    CHECK(sp.is_rows && b.train_end == 8740 && b.val_end == 11620 && b.end == 14500);
    CHECK(sn_fc_split_parse("0.7,0.5", &sp) == SN_ERR_ARG);
    CHECK(sn_fc_split_parse("0.7,x", &sp) == SN_ERR_PARSE);
    CHECK(sn_fc_split_parse("100.5,10", &sp) == SN_ERR_ARG);
    CHECK_OK(sn_fc_split_parse("500,10,10", &sp));
    CHECK(sn_fc_split_borders(&sp, 0, 400, &b) == SN_ERR_ARG && strstr(sn_error_last(), "400"));
    /* 3 folds of 100 rows on [0, 1000): cuts 700, 800, 900; a third of the rest validates */
    sn_ts_borders f[3];
    CHECK_OK(sn_fc_folds(0, 1000, 3, 100, 1.0 / 3, 50, f));
    CHECK(f[0].val_end == 700 && f[0].end == 800 && f[0].train_end == 700 - 233);
    CHECK(f[2].val_end == 900 && f[2].end == 1000 && f[1].train_end == 800 - 266);
    CHECK(sn_fc_folds(0, 1000, 3, 300, 0.25, 200, f) == SN_ERR_ARG && strstr(sn_error_last(), "--folds"));
}

/* Reads one case of tests/fixtures/forecast/ets_reference.txt. */
static int read_case(FILE *f, char *name, int *m, int *n, double *par, double *s0, double *y, double *lik) {
    if (fscanf(f, "%15s %d %d %lf %lf %lf %lf %lf", name, m, n, &par[0], &par[1], &par[2], &par[3], &par[4]) != 8)
        return 0;
    for (int i = 0; i < *m; i++)
        if (fscanf(f, "%lf", &s0[i]) != 1) return 0;
    for (int i = 0; i < *n; i++)
        if (fscanf(f, "%lf", &y[i]) != 1) return 0;
    return fscanf(f, "%lf", lik) == 1;
}

TEST(forecast_ets_likelihood_matches_the_reference_implementation) {
    FILE *f = fopen(sn_test_path("forecast/ets_reference.txt"), "r");
    CHECK(f);
    char line[256], name[16];
    CHECK(fgets(line, sizeof line, f)); /* header comment */
    int m, n, cases = 0;
    double par[5], s0[8], y[64], lik;
    while (read_case(f, name, &m, &n, par, s0, y, &lik)) {
        double v = sn_ets_lik(y, (size_t)n, m, par[0], par[1], par[2], par[3], par[4], s0);
        /* n log(SSE): both sides sum n <= 30 squares in double, each error
         * built from O(n) recursive updates; relative agreement to 1e-12 is
         * far inside what double (2^-53 = 1.1e-16 per operation) allows. */
        CHECK_MSG(fabs(v - lik) <= 1e-12 * fabs(lik), "%s: %.17g vs reference %.17g", name, v, lik);
        cases++;
    }
    fclose(f);
    CHECK(cases == 2);
}

TEST(forecast_ets_fit_finds_a_better_likelihood_and_forecasts_a_clean_season) {
    /* y = 20 + 0.05 t + 3 sin(2 pi t / 12): trend and season, no noise */
    enum { N = 240, M = 12 };
    static double y[N + 24];
    for (int t = 0; t < N + 24; t++) y[t] = 20 + 0.05 * t + 3 * sin(2 * 3.14159265358979323846 * t / M);
    sn_ets e;
    CHECK_OK(sn_ets_fit(&e, y, N, M));
    CHECK(e.m == M && e.alpha >= 1e-4 && e.alpha <= 0.9999 && e.beta <= e.alpha + 1e-12);
    double s = 0;
    for (int i = 0; i < M; i++) s += e.s0[i];
    CHECK_CLOSE(s, 0, 1e-9, 0);
    CHECK(e.lik == sn_ets_lik(y, N, M, e.alpha, e.beta, e.gamma, e.l0, e.b0, e.s0));
    /* forecasts 1..24 rows after the last training row follow the clean
     * series: the model holds it exactly (alpha = beta = gamma = 0 with the
     * decomposition's states fits it to the decomposition's error), so the
     * forecast error stays well below the season's amplitude 3 */
    size_t org[1] = {N - 1};
    long off[24];
    double fc[24];
    for (int i = 0; i < 24; i++) off[i] = i + 1;
    CHECK_OK(sn_ets_forecast(&e, y, N + 24, org, 1, off, 24, fc, 24));
    double worst = 0;
    for (int i = 0; i < 24; i++) worst = fmax(worst, fabs(fc[i] - y[N + i]));
    CHECK_MSG(worst < 0.05, "worst 24-step error %g", worst);
    sn_ets_free(&e);
    CHECK(sn_ets_fit(&e, y, 30, M) == SN_ERR_ARG && strstr(sn_error_last(), "3 seasons"));
}
