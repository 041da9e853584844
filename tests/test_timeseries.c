/* Windows (against a brute-force reference of timeseries_dataset_from_array's
 * documented semantics), the window dataset, durations, the Jena protocol,
 * normalization and the naive baseline on the bundled hourly file. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "seqnn/data.h"
#include "test.h"

/* Brute force from docs/keras-semantics.md §11, written without the closed form:
 * Keras validation first; then every row i in [s0, e) with (i-s0) % S == 0
 * whose rows i + k*r (k < L) all lie below e, and (with targets) whose
 * relative position j*S = i - s0 is below len(targets). Returns -1 when
 * Keras raises, else the number of windows (written to out). *tgt_oob is set
 * when a window's target index i would be >= n_targets (Keras fails while
 * iterating). */
static long ref_windows(size_t n_rows, int L, int r, int S, size_t s0, size_t end, size_t nt, size_t *out,
                        int *tgt_oob) {
    *tgt_oob = 0;
    if (s0 && s0 >= n_rows) return -1;
    if (end) {
        if (s0 && end <= s0) return -1;
        if (end >= n_rows) return -1;
    }
    if (r <= 0 || (size_t)r >= n_rows || S <= 0 || (size_t)S >= n_rows) return -1;
    size_t e = end ? end : n_rows;
    long cnt = 0;
    for (size_t i = s0; i < e; i++) {
        if ((i - s0) % (size_t)S) continue;
        int fits = 1;
        for (int k = 0; k < L; k++)
            if (i + (size_t)k * (size_t)r >= e) fits = 0;
        if (!fits) continue;
        if (nt && i - s0 >= nt) continue;
        if (nt && i >= nt) *tgt_oob = 1;
        out[cnt++] = i;
    }
    return cnt;
}

TEST(windows_match_bruteforce_reference) {
    size_t ref[64];
    sn_windows w;
    long n_cases = 0, n_err = 0, n_ok = 0;
    for (size_t n = 1; n <= 24; n++)
        for (int L = 1; L <= 5; L++)
            for (int r = 1; r <= 4; r++)
                for (int S = 1; S <= 4; S++)
                    for (size_t s0 = 0; s0 <= n; s0 += 3)
                        for (size_t end = 0; end <= n; end += (end == 0 ? 5 : 4))
                            for (int tk = 0; tk < 3; tk++) {
                                size_t nt = tk == 0 ? 0 : tk == 1 ? n : n / 2;
                                int oob;
                                long k = ref_windows(n, L, r, S, s0, end, nt, ref, &oob);
                                sn_status st = sn_windows_init(&w, n, L, r, S, s0, end, nt);
                                n_cases++;
                                if (k <= 0 || oob) {
                                    /* Keras raises, yields nothing, or fails on a target: an error here. */
                                    CHECK_MSG(st == SN_ERR_ARG, "n=%zu L=%d r=%d S=%d s0=%zu end=%zu nt=%zu: st=%d",
                                              n, L, r, S, s0, end, nt, st);
                                    CHECK(w.n == 0 && w.start == NULL && sn_error_last()[0]);
                                    n_err++;
                                    continue;
                                }
                                CHECK_MSG(st == SN_OK, "n=%zu L=%d r=%d S=%d s0=%zu end=%zu nt=%zu: %s", n, L, r, S,
                                          s0, end, nt, sn_error_last());
                                CHECK_MSG(w.n == (size_t)k, "n=%zu L=%d r=%d S=%d s0=%zu end=%zu: %zu vs %ld", n, L,
                                          r, S, s0, end, w.n, k);
                                for (long j = 0; j < k; j++) CHECK(w.start[j] == ref[j]);
                                CHECK(w.sequence_length == L && w.sampling_rate == r && w.sequence_stride == S);
                                sn_windows_free(&w);
                                n_ok++;
                            }
    CHECK(n_ok > 1000 && n_err > 1000); /* both sides exercised */
    (void)n_cases;
}

TEST(windows_edge_cases_and_keras_docstring) {
    sn_windows w;
    /* Keras docstring: indices 0..98, L=10, r=2, S=3 -> [0 2 .. 18], [3 5 .. 21], ..., last [78 .. 96]. */
    CHECK_OK(sn_windows_init(&w, 99, 10, 2, 3, 0, 0, 0));
    CHECK(w.n == 27 && w.start[0] == 0 && w.start[1] == 3 && w.start[26] == 78);
    CHECK(w.start[26] + 9 * 2 == 96);
    sn_windows_free(&w);
    /* end_index == len(data): Keras raises. */
    CHECK(sn_windows_init(&w, 50, 5, 1, 1, 0, 50, 0) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "end_index must be lower than the data length 50"));
    /* start_index beyond the data, end <= start, rates out of range, L = 0. */
    CHECK(sn_windows_init(&w, 50, 5, 1, 1, 50, 0, 0) == SN_ERR_ARG);
    CHECK(sn_windows_init(&w, 50, 5, 1, 1, 20, 20, 0) == SN_ERR_ARG);
    CHECK(sn_windows_init(&w, 50, 5, 50, 1, 0, 0, 0) == SN_ERR_ARG);
    CHECK(sn_windows_init(&w, 50, 5, 1, 0, 0, 0, 0) == SN_ERR_ARG);
    CHECK(sn_windows_init(&w, 50, 0, 1, 1, 0, 0, 0) == SN_ERR_ARG);
    /* Sequence longer than the data: Keras yields an empty dataset; we refuse with the numbers. */
    CHECK(sn_windows_init(&w, 50, 30, 2, 1, 0, 0, 0) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "spans 59 rows") && strstr(sn_error_last(), "hold only 50"));
    /* Exactly fitting: one window. */
    CHECK_OK(sn_windows_init(&w, 59, 30, 2, 1, 0, 0, 0));
    CHECK(w.n == 1 && w.start[0] == 0);
    sn_windows_free(&w);
    /* start/end index with stride: rows [10, 40), L=4, r=3 (span 9), S=5 -> 10,15,20,25 (25+9=34<40, 30+9=39<40 too). */
    CHECK_OK(sn_windows_init(&w, 100, 4, 3, 5, 10, 40, 0));
    CHECK(w.n == 5 && w.start[0] == 10 && w.start[4] == 30 && w.end_index == 40);
    sn_windows_free(&w);
    /* Targets cap: n capped at len(targets). */
    CHECK_OK(sn_windows_init(&w, 100, 4, 1, 1, 0, 0, 10));
    CHECK(w.n == 10);
    sn_windows_free(&w);
}

TEST(windows_book_jena_counts) {
    /* DLwP 2e: N = 420,451 rows; sampling 6, L 120, horizon 24 h -> delay 858. */
    sn_ts_protocol p;
    CHECK_OK(sn_ts_protocol_init(&p, 420451, 120, 24, 6, 0.5, 0.25));
    CHECK(p.delay == 858);
    CHECK(p.num_train == 210225 && p.num_val == 105112 && p.num_test == 105114);
    CHECK(p.train.n == 209511 && p.val.n == 104398 && p.test.n == 103542);
    /* 256 per batch, last partial batch kept: 819 / 408 / 405 steps. */
    CHECK((p.train.n + 255) / 256 == 819 && (p.val.n + 255) / 256 == 408 && (p.test.n + 255) / 256 == 405);
    CHECK(p.val.start[0] == 210225 && p.test.start[0] == 315337);
    /* The last test window ends on the last row of raw[:-858]; its target is 144 rows (24 h) later. */
    size_t last = p.test.start[p.test.n - 1];
    CHECK(last + 119 * 6 == 420451 - 858 - 1 && last + 858 == last + 119 * 6 + 144);
    sn_ts_protocol_free(&p);
    /* Same numbers from durations on 10-minute data. */
    int64_t lb, hz, sr;
    CHECK_OK(sn_duration_parse("120h", &lb));
    CHECK_OK(sn_duration_parse("24h", &hz));
    CHECK_OK(sn_duration_parse("1h", &sr));
    CHECK_OK(sn_ts_protocol_from_durations(&p, 420451, 600, lb, hz, sr, 0.5, 0.25));
    CHECK(p.sampling == 6 && p.lookback == 120 && p.horizon == 24 && p.delay == 858 && p.train.n == 209511);
    sn_ts_protocol_free(&p);
    /* Hourly data, same command: L=120, r=1, delay 143. */
    CHECK_OK(sn_ts_protocol_from_durations(&p, 70038, 3600, lb, hz, sr, 0.5, 0.25));
    CHECK(p.sampling == 1 && p.lookback == 120 && p.delay == 143);
    CHECK(p.train.n == 34900 && p.val.n == 17390 && p.test.n == 17248);
    sn_ts_protocol_free(&p);
    /* Sampling finer than the data step: clear error. */
    CHECK(sn_ts_protocol_from_durations(&p, 70038, 3600, lb, hz, 600, 0.5, 0.25) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "10min is not a whole number of 1h steps"));
    /* Too short a series. */
    CHECK(sn_ts_protocol_init(&p, 1000, 120, 24, 6, 0.5, 0.25) == SN_ERR_ARG);
    CHECK(sn_ts_protocol_init(&p, 3000, 120, 24, 6, 0.5, 0.25) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "split"));
}

TEST(windows_shuffle_is_seeded_permutation) {
    sn_windows a, b;
    CHECK_OK(sn_windows_init(&a, 1000, 10, 2, 1, 0, 0, 0));
    CHECK_OK(sn_windows_init(&b, 1000, 10, 2, 1, 0, 0, 0));
    size_t n = a.n;
    CHECK(n == 982);
    sn_rng r1, r2;
    sn_rng_seed(&r1, 1337);
    sn_rng_seed(&r2, 1337);
    sn_windows_shuffle(&a, &r1);
    sn_windows_shuffle(&b, &r2);
    CHECK(!memcmp(a.start, b.start, n * sizeof(size_t)));
    size_t moved = 0;
    char *seen = calloc(n, 1);
    CHECK(seen);
    for (size_t i = 0; i < n; i++) {
        CHECK(a.start[i] < n && !seen[a.start[i]]);
        seen[a.start[i]] = 1;
        moved += a.start[i] != i;
    }
    free(seen);
    CHECK(moved > n / 2);
    sn_rng_seed(&r2, 1338);
    sn_windows_free(&b);
    CHECK_OK(sn_windows_init(&b, 1000, 10, 2, 1, 0, 0, 0));
    sn_windows_shuffle(&b, &r2);
    CHECK(memcmp(a.start, b.start, n * sizeof(size_t)) != 0);
    sn_windows_free(&a);
    sn_windows_free(&b);
}

TEST(ts_dataset_fills_windows_and_targets) {
    enum { N = 20, C = 2 };
    float data[N * C], tg[N];
    for (int i = 0; i < N; i++) {
        data[i * C] = (float)(i * 10);
        data[i * C + 1] = (float)(i * 10 + 1);
        tg[i] = 100.0f + (float)i;
    }
    /* Keras style: data = x[:-5], targets = tg[5:]: windows over 15 rows. */
    const long delay = 5;
    sn_windows w;
    CHECK_OK(sn_windows_init(&w, N - delay, 3, 2, 1, 0, 0, N - delay));
    CHECK(w.n == 11);
    sn_dataset ds;
    CHECK_OK(sn_ts_dataset(&ds, data, N, C, tg, delay, &w));
    CHECK(ds.n == 11 && ds.x_numel == 6 && ds.y_numel == 1);
    float x[3 * 6], y[3];
    sn_batch b = {0};
    b.B = 3;
    b.x = x;
    b.y = y;
    size_t idx[3] = {2, 0, 10};
    CHECK_OK(ds.fill(ds.ctx, idx, 3, &b));
    for (int i = 0; i < 3; i++) {
        size_t s = idx[i];
        for (int t = 0; t < 3; t++)
            for (int c = 0; c < C; c++) CHECK(x[i * 6 + t * C + c] == (float)((s + 2 * t) * 10 + c));
        CHECK(y[i] == 100.0f + (float)(s + delay)); /* = targets[delay:][s] */
    }
    size_t badi = 11;
    CHECK(ds.fill(ds.ctx, &badi, 1, &b) == SN_ERR_ARG);
    sn_dataset_free(&ds);
    /* Keras docstring regression example: data[:-10] with targets data[10:], L=10:
     * inputs[0] == data[:10], targets[0] == data[10]. */
    float d1[100];
    for (int i = 0; i < 100; i++) d1[i] = (float)i;
    sn_windows w2;
    CHECK_OK(sn_windows_init(&w2, 90, 10, 1, 1, 0, 0, 90));
    CHECK(w2.n == 81);
    CHECK_OK(sn_ts_dataset(&ds, d1, 100, 1, d1, 10, &w2));
    float x2[10], y2;
    sn_batch b2 = {0};
    b2.B = 1;
    b2.x = x2;
    b2.y = &y2;
    size_t i0 = 0;
    CHECK_OK(ds.fill(ds.ctx, &i0, 1, &b2));
    for (int t = 0; t < 10; t++) CHECK(x2[t] == (float)t);
    CHECK(y2 == 10.0f);
    sn_dataset_free(&ds);
    /* Windows that reach beyond the arrays handed over are refused. */
    CHECK(sn_ts_dataset(&ds, data, N - delay - 1, C, NULL, 0, &w) == SN_ERR_ARG);
    CHECK(sn_ts_dataset(&ds, data, N, C, tg, delay + 5, &w) == SN_ERR_ARG); /* last window 10 + 10 = row 20 */
    CHECK_OK(sn_ts_dataset(&ds, data, N, C, tg, delay + 4, &w));
    sn_dataset_free(&ds);
    /* No targets: y_numel 0. */
    CHECK_OK(sn_ts_dataset(&ds, data, N, C, NULL, 0, &w));
    CHECK(ds.y_numel == 0);
    sn_dataset_free(&ds);
    sn_windows_free(&w);
    sn_windows_free(&w2);
}

TEST(durations_parse_and_convert) {
    struct { const char *s; int64_t v; } ok[] = {
        {"120h", 432000}, {"24h", 86400}, {"1h", 3600}, {"10min", 600}, {"10m", 600}, {"5d", 432000},
        {"30s", 30},      {"1w", 604800}, {"2 hours", 7200}, {"1h30min", 5400}, {" 1d 12h ", 129600},
        {"90 Minutes", 5400}, {"0s", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t v = -1;
        CHECK_OK(sn_duration_parse(ok[i].s, &v));
        CHECK_MSG(v == ok[i].v, "%s -> %lld", ok[i].s, (long long)v);
    }
    const char *bad[] = {"", "12", "5x", "h", "-1h", "1.5h", "99999999999999999999s", "3 lightyears"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v;
        CHECK_MSG(sn_duration_parse(bad[i], &v) == SN_ERR_PARSE, "\"%s\" accepted", bad[i]);
    }
    int64_t v;
    CHECK(sn_duration_parse("12", &v) == SN_ERR_PARSE && strstr(sn_error_last(), "missing unit"));
    long rows = 0;
    CHECK_OK(sn_duration_to_rows(432000, 3600, &rows));
    CHECK(rows == 120);
    CHECK_OK(sn_duration_to_rows(3600, 600, &rows));
    CHECK(rows == 6);
    CHECK(sn_duration_to_rows(3900, 600, &rows) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "1h5min is not a whole number of 10min steps"));
    CHECK(sn_duration_to_rows(600, 0, &rows) == SN_ERR_ARG);
    char buf[32];
    CHECK(!strcmp(sn_duration_format(432000, buf, sizeof buf), "5d"));
    CHECK(!strcmp(sn_duration_format(90061, buf, sizeof buf), "1d1h1min1s"));
}

static void fake_table(sn_table *t, double *data, size_t n, int C, char **names) {
    memset(t, 0, sizeof *t);
    t->n_rows = n;
    t->n_cols = C;
    t->data = data;
    t->col_names = names;
}

TEST(normalization_stats_population_std) {
    double d[] = {1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5, 100, 0, 7};
    char *names[] = {"a", "b", "flat"};
    sn_table t;
    fake_table(&t, d, 5, 3, names);
    double mean[3], std[3];
    /* rows [0,4): "flat" has std 0 -> refused, naming it. */
    CHECK(sn_table_stats(&t, 0, 4, mean, std) == SN_ERR_NUMERIC);
    CHECK(strstr(sn_error_last(), "\"flat\""));
    CHECK_CLOSE(mean[0], 2.5, 1e-15, 0);
    CHECK_CLOSE(std[0], sqrt(1.25), 1e-15, 0); /* numpy .std(): ddof 0 */
    CHECK_CLOSE(std[1], sqrt(125.0), 1e-12, 0);
    CHECK(sn_table_stats(&t, 3, 3, mean, std) == SN_ERR_ARG);
    CHECK(sn_table_stats(&t, 0, 6, mean, std) == SN_ERR_ARG);
    CHECK_OK(sn_table_stats(&t, 0, 5, mean, std));
    float out[15];
    CHECK_OK(sn_table_normalize(&t, mean, std, out));
    double s0 = 0, s2 = 0;
    for (int i = 0; i < 5; i++) s0 += out[i * 3], s2 += (double)out[i * 3] * out[i * 3];
    CHECK_CLOSE(s0, 0, 1e-6, 0);
    CHECK_CLOSE(s2 / 5, 1, 1e-6, 0);
    CHECK_CLOSE(out[4 * 3 + 2], (7 - mean[2]) / std[2], 1e-6, 0);
    std[1] = 0;
    CHECK(sn_table_normalize(&t, mean, std, out) == SN_ERR_ARG && strstr(sn_error_last(), "\"b\""));
}

/* The seed's naive forecaster on the bundled hourly 2009-2016 file with the
 * same command as the book (lookback 120 h, horizon 24 h, one sample per h):
 * validation MAE 2.44, test MAE 2.62 (numpy reference 2.442590569 / 2.624876507). */
TEST(naive_baseline_bundled_hourly_jena) {
    const char *p = "data/jena_climate_2009_2016_PARTIAL_6cols_hourly.csv.gz";
    FILE *fp = fopen(p, "rb");
    if (!fp) SKIP("data/jena_climate_2009_2016_PARTIAL_6cols_hourly.csv.gz absent (run from the repository root)");
    fclose(fp);
    sn_table t;
    CHECK_OK(sn_csv_read(&t, p, NULL));
    sn_time_report rep;
    CHECK_OK(sn_table_time_report(&t, &rep));
    int64_t lb, hz, sr;
    CHECK_OK(sn_duration_parse("120h", &lb));
    CHECK_OK(sn_duration_parse("24h", &hz));
    CHECK_OK(sn_duration_parse("1h", &sr));
    sn_ts_protocol pr;
    CHECK_OK(sn_ts_protocol_from_durations(&pr, t.n_rows, rep.median_step, lb, hz, sr, 0.5, 0.25));
    CHECK(pr.delay == 143);
    int tc;
    CHECK_OK(sn_table_col_index(&t, "T (degC)", &tc));
    float *temp = malloc(t.n_rows * sizeof(float));
    CHECK(temp);
    sn_status st = sn_table_column_f32(&t, tc, temp);
    double val = -1, test = -1;
    if (st == SN_OK) st = sn_ts_naive_mae(temp, t.n_rows, pr.delay, &pr.val, &val);
    if (st == SN_OK) st = sn_ts_naive_mae(temp, t.n_rows, pr.delay, &pr.test, &test);
    /* Normalization stats over the training rows; feed a dataset and check one target. */
    double mean[6], sd[6];
    if (st == SN_OK) st = sn_table_stats(&t, 0, pr.num_train, mean, sd);
    free(temp);
    sn_ts_protocol_free(&pr);
    sn_table_free(&t);
    CHECK_OK(st);
    CHECK(lround(val * 100) == 244);
    CHECK(lround(test * 100) == 262);
    CHECK_CLOSE(val, 2.442590569292697, 2e-5, 0);
    CHECK_CLOSE(test, 2.6248765074211504, 2e-5, 0);
    CHECK(sn_ts_naive_mae(NULL, 0, 0, NULL, &val) == SN_ERR_ARG);
}

/* 10-minute data, the book's own parameters (sampling 6, L 120, delay 858),
 * on the 2024 substitute extract; numpy reference values. */
TEST(naive_baseline_shared_10min_2024) {
    const char *p = sn_test_shared_data("jena_roof_20240609-20241020_SUBSTITUTE.csv.gz");
    if (!p) SKIP("../shared/data/jena_roof_20240609-20241020_SUBSTITUTE.csv.gz absent");
    sn_table t;
    CHECK_OK(sn_csv_read(&t, p, NULL));
    sn_ts_protocol pr;
    CHECK_OK(sn_ts_protocol_init(&pr, t.n_rows, 120, 24, 6, 0.5, 0.25));
    CHECK(pr.delay == 858 && pr.train.n == 8852 && pr.val.n == 4069 && pr.test.n == 3211);
    float *temp = malloc(t.n_rows * sizeof(float));
    CHECK(temp);
    double val = -1, test = -1, mean[14], sd[14];
    sn_status st = sn_table_column_f32(&t, 1, temp);
    if (st == SN_OK) st = sn_ts_naive_mae(temp, t.n_rows, pr.delay, &pr.val, &val);
    if (st == SN_OK) st = sn_ts_naive_mae(temp, t.n_rows, pr.delay, &pr.test, &test);
    if (st == SN_OK) st = sn_table_stats(&t, 0, pr.num_train, mean, sd);
    free(temp);
    sn_ts_protocol_free(&pr);
    sn_table_free(&t);
    CHECK_OK(st);
    CHECK_CLOSE(val, 2.9208896534775124, 2e-5, 0);
    CHECK_CLOSE(test, 2.6206851448146997, 2e-5, 0);
    CHECK_CLOSE(mean[1], 19.675008362952006, 1e-12, 0);
    CHECK_CLOSE(sd[1], 4.831846491063868, 1e-12, 0);
}
