/* Forecasting windows and samples against brute force: sn_ts_windows_split
 * under both conventions (and equal to the seed's protocol on one series),
 * CSV series ids, and the scaled multi-step / multi-target /
 * channel-independent / quantile samples of sn_fc_dataset with their
 * un-scaling. */
#include <stdlib.h>

#include "seqnn.h"
#include "seqnn/forecast.h"
#include "test.h"

/* The rule of sn_ts_windows_split for window start s of series b, written
 * out directly (data.h states it). */
static int brute_in(const sn_ts_window_spec *sp, const sn_ts_borders *b, sn_ts_split which, size_t s) {
    size_t lo = which == SN_TS_TRAIN ? b->begin : which == SN_TS_VAL ? b->train_end : b->val_end;
    size_t hi = which == SN_TS_TRAIN ? b->train_end : which == SN_TS_VAL ? b->val_end : b->end;
    long span = (long)(sp->lookback - 1) * sp->sampling, o = (long)s + span;
    if ((long)s < (long)b->begin || o + sp->last >= (long)b->end) return 0;
    if (!sp->context) {
        long delay = span + sp->last, cap = (long)hi < (long)b->end - delay ? (long)hi : (long)b->end - delay;
        return (long)s >= (long)lo && (long)s + span < cap;
    }
    return o + sp->first >= (long)lo && o + sp->last < (long)hi;
}

TEST(forecast_split_windows_equal_the_seed_protocol_on_one_series) {
    /* hourly-like: L 12 steps every 2 rows, target 3 steps (6 rows) on */
    const size_t N = 1000;
    sn_ts_protocol p;
    CHECK_OK(sn_ts_protocol_init(&p, N, 12, 3, 2, 0.5, 0.25));
    sn_ts_borders b = {0, p.num_train, p.num_train + p.num_val, N};
    sn_ts_window_spec sp = {12, 2, 6, 6, 0};
    const sn_windows *ref[3] = {&p.train, &p.val, &p.test};
    for (int i = 0; i < 3; i++) {
        sn_windows w;
        CHECK_OK(sn_ts_windows_split(&w, &sp, &b, 1, (sn_ts_split)i));
        CHECK_MSG(w.n == ref[i]->n, "split %d: %zu windows vs the protocol's %zu", i, w.n, ref[i]->n);
        for (size_t k = 0; k < w.n; k++) CHECK(w.start[k] == ref[i]->start[k]);
        sn_windows_free(&w);
    }
    sn_ts_protocol_free(&p);
}

TEST(forecast_split_windows_match_brute_force_for_both_conventions) {
    /* three series of different lengths; --steps all: targets 2..10 rows on */
    sn_ts_borders b[3] = {{0, 60, 90, 130}, {130, 190, 220, 260}, {260, 300, 340, 380}};
    for (int ctx = 0; ctx < 2; ctx++)
        for (int which = 0; which < 3; which++) {
            sn_ts_window_spec sp = {5, 2, 2, 10, ctx};
            sn_windows w;
            CHECK_OK(sn_ts_windows_split(&w, &sp, b, 3, (sn_ts_split)which));
            size_t k = 0;
            for (int s = 0; s < 3; s++)
                for (size_t st = b[s].begin; st < b[s].end; st++)
                    if (brute_in(&sp, &b[s], (sn_ts_split)which, st)) {
                        CHECK_MSG(k < w.n && w.start[k] == st, "context %d split %d: window %zu should start at %zu",
                                  ctx, which, k, st);
                        k++;
                    }
            CHECK_MSG(k == w.n, "context %d split %d: %zu windows vs brute force %zu", ctx, which, w.n, k);
            if (ctx && which) {
                /* the first forecast of a split starts at its border */
                size_t lo = which == 1 ? b[0].train_end : b[0].val_end;
                CHECK(w.start[0] + 8 + 2 == lo);
            }
            sn_windows_free(&w);
        }
    /* a split too short for one window: an error that says how many rows it needs */
    sn_ts_borders tiny = {0, 60, 65, 130};
    sn_ts_window_spec sp = {5, 2, 2, 10, 1};
    sn_windows w;
    CHECK(sn_ts_windows_split(&w, &sp, &tiny, 1, SN_TS_VAL) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "validation split has no window") && strstr(sn_error_last(), "19 rows"));
}

TEST(forecast_csv_id_column_groups_series_and_checks_their_time) {
    sn_table t;
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    o.id_column = "store";
    CHECK_OK(sn_csv_read(&t, sn_test_path("forecast/series_ids.csv"), &o));
    CHECK(t.n_series == 3 && t.n_cols == 2 && t.n_rows == 300 + 260 + 280);
    CHECK(!strcmp(t.series_names[0], "north") && !strcmp(t.series_names[2], "east"));
    CHECK(t.series_start[1] == 300 && t.series_start[2] == 560 && t.series_start[3] == 840);
    /* rows of a series are in time order, one hour apart; lines point back into the file */
    for (int s = 0; s < 3; s++)
        for (size_t r = t.series_start[s] + 1; r < t.series_start[s + 1]; r++) CHECK(t.time[r] - t.time[r - 1] == 3600);
    CHECK(t.line[0] == 2 && t.line[1] == 5 && t.line[300] == 3);
    sn_time_report tr;
    CHECK_OK(sn_table_time_report(&t, &tr));
    CHECK(tr.median_step == 3600 && tr.n_backwards == 0 && tr.n_steps == 837);
    sn_table_free(&t);
    /* without the id column the interleaved times are refused, naming the line */
    o.id_column = NULL;
    CHECK(sn_csv_read(&t, sn_test_path("forecast/series_ids.csv"), &o) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), ":3:") && strstr(sn_error_last(), "duplicates"));
    /* a duplicate time inside one series names the series */
    char path[512];
    snprintf(path, sizeof path, "%s/dup_ids.csv", sn_test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("date,id,v\n2024-01-01 00:00,a,1\n2024-01-01 00:00,b,2\n2024-01-01 01:00,a,3\n2024-01-01 01:00,a,4\n", f);
    fclose(f);
    o.id_column = "id";
    CHECK(sn_csv_read(&t, path, &o) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "series \"a\"") && strstr(sn_error_last(), ":5:"));
    o.id_column = "nope";
    CHECK(sn_csv_read(&t, path, &o) == SN_ERR_FORMAT && strstr(sn_error_last(), "id column"));
}

/* A 2-series, 2-target, 3-channel toy with values that identify the row. */
typedef struct toy {
    float x[200 * 3], y[200 * 2], yn[200 * 2];
    int series[200];
    double mean[4], std[4];
    sn_fc_series s;
} toy;

static void toy_init(toy *t) {
    for (int i = 0; i < 200; i++) {
        int s = i >= 120;
        t->series[i] = s;
        for (int c = 0; c < 3; c++) t->x[i * 3 + c] = (float)(0.01 * i + c + 0.3 * (i % 7));
        for (int k = 0; k < 2; k++) {
            double raw = 50.0 * (k + 1) + 2.0 * (i % 11) + 0.1 * i;
            t->y[i * 2 + k] = (float)raw;
        }
    }
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++) t->mean[s * 2 + k] = 40.0 + 10 * s + 5 * k, t->std[s * 2 + k] = 2.0 + s + k;
    for (int i = 0; i < 200; i++)
        for (int k = 0; k < 2; k++)
            t->yn[i * 2 + k] = (float)((t->y[i * 2 + k] - t->mean[t->series[i] * 2 + k]) / t->std[t->series[i] * 2 + k]);
    sn_fc_series s = {200, 3, t->x, 2, t->y, t->yn, t->series, 2, t->mean, t->std, NULL};
    t->s = s;
}

TEST(forecast_samples_steps_all_targets_and_quantiles_against_brute_force) {
    static toy t;
    toy_init(&t);
    sn_fc_layout lay = {4, 3, 5, 3, 3, SN_FC_SCALE_STANDARD, 0, 2, 0}; /* L 4 every 3 rows, steps 3,6,..15 */
    size_t starts[3] = {0, 40, 130};
    sn_windows w = {3, starts, 4, 3, 1, 0, 131};
    sn_dataset ds;
    CHECK_OK(sn_fc_dataset(&ds, &t.s, &lay, &w));
    CHECK(ds.n == 3 && ds.x_numel == 12 && ds.y_numel == 5 * 2 * 2);
    float x[3 * 12], y[3 * 20];
    size_t idx[3] = {0, 1, 2};
    sn_batch b = {3, x, y, NULL, NULL, NULL, NULL};
    CHECK_OK(ds.fill(ds.ctx, idx, 3, &b));
    for (int j = 0; j < 3; j++) {
        size_t s = starts[j], o = s + 9;
        for (int tt = 0; tt < 4; tt++)
            for (int c = 0; c < 3; c++) CHECK(x[j * 12 + tt * 3 + c] == t.x[(s + (size_t)tt * 3) * 3 + (size_t)c]);
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 2; k++)
                for (int q = 0; q < 2; q++)
                    CHECK(y[j * 20 + (i * 2 + k) * 2 + q] == t.yn[(o + 3 + (size_t)i * 3) * 2 + (size_t)k]);
    }
    /* un-scaling the targets gives back the truth (to float rounding of yn:
     * |yn| < 40 carries 2^-24 relative error, times std <= 4: 1e-5) */
    double back[3 * 20], truth[3 * 10];
    CHECK_OK(sn_fc_unscale(&t.s, &lay, &w, y, back));
    lay.n_quantiles = 1;
    CHECK_OK(sn_fc_truth(&t.s, &lay, &w, truth));
    for (int e = 0; e < 30; e++) CHECK_CLOSE(back[e * 2 + 1], truth[e], 1e-4, 0);
    sn_dataset_free(&ds);
    /* a window crossing from series 0 into series 1 is refused */
    size_t bad[1] = {100};
    sn_windows wb = {1, bad, 4, 3, 1, 100, 101};
    CHECK(sn_fc_dataset(&ds, &t.s, &lay, &wb) == SN_ERR_ARG && strstr(sn_error_last(), "crosses"));
}

TEST(forecast_samples_scalings_and_channel_independence_round_trip) {
    static toy t;
    toy_init(&t);
    size_t starts[2] = {10, 150};
    sn_windows w = {2, starts, 6, 2, 1, 10, 151};
    for (int sc = 0; sc < 4; sc++)
        for (int ci = 0; ci < 2; ci++) {
            sn_fc_layout lay = {6, 2, 3, 2, 2, (sn_fc_scale)sc, ci, 1, 0};
            sn_dataset ds;
            CHECK_OK(sn_fc_dataset(&ds, &t.s, &lay, &w));
            CHECK(ds.n == (ci ? 4u : 2u) && ds.x_numel == (ci ? 6u : 18u) && ds.y_numel == (ci ? 3u : 6u));
            float x[4 * 18], y[4 * 6];
            size_t idx[4] = {0, 1, 2, 3};
            sn_batch b = {(int)ds.n, x, y, NULL, NULL, NULL, NULL};
            CHECK_OK(ds.fill(ds.ctx, idx, (int)ds.n, &b));
            if (sc == SN_FC_SCALE_LAST) /* every input channel is 0 at the origin */
                for (size_t j = 0; j < ds.n; j++)
                    for (size_t c = 0; c < ds.x_numel / 6; c++) CHECK(x[j * ds.x_numel + 5 * (ds.x_numel / 6) + c] == 0);
            if (ci) /* sample 1 is window 0, target 1: its input is that target's standardised series */
                for (int tt = 0; tt < 6; tt++) CHECK(sc >= 2 || x[6 + tt] == t.yn[(10 + (size_t)tt * 2) * 2 + 1]);
            double back[2 * 6], truth[2 * 6];
            CHECK_OK(sn_fc_unscale(&t.s, &lay, &w, y, back));
            CHECK_OK(sn_fc_truth(&t.s, &lay, &w, truth));
            /* the scaled targets are O(10) floats: 2^-24 * 10 * std (4) ~ 3e-6 per step, a few steps: 1e-4 */
            for (int e = 0; e < 12; e++)
                CHECK_MSG(fabs(back[e] - truth[e]) < 1e-4, "scale %d ci %d entry %d: %g vs %g", sc, ci, e, back[e],
                          truth[e]);
            sn_dataset_free(&ds);
        }
}

/* A series held in part (sn_fc_series.rows, one rank's share): samples,
 * truths, un-scaling and baselines over held windows equal those over the
 * whole series, bit for bit; a window on rows not held is named when it is
 * filled, not when the dataset is made. */
TEST(forecast_samples_on_held_rows_equal_the_whole_series) {
    static toy t;
    static float hx[200 * 3], hy[200 * 2], hyn[200 * 2];
    static int hser[200];
    static size_t rows[200];
    toy_init(&t);
    size_t n = 0; /* held: rows 5..59 and 110..189 */
    for (size_t g = 0; g < 200; g++) {
        if (!((g >= 5 && g < 60) || (g >= 110 && g < 190))) continue;
        memcpy(hx + n * 3, t.x + g * 3, 3 * sizeof *hx);
        memcpy(hy + n * 2, t.y + g * 2, 2 * sizeof *hy);
        memcpy(hyn + n * 2, t.yn + g * 2, 2 * sizeof *hyn);
        hser[n] = t.series[g], rows[n++] = g;
    }
    sn_fc_series h = t.s;
    h.N = n, h.x = hx, h.y = hy, h.yn = hyn, h.series = hser, h.rows = rows;
    for (int sc = 0; sc < 4; sc++) {
        sn_fc_layout lay = {4, 3, 2, 3, 3, (sn_fc_scale)sc, 0, 1, 0}; /* span 9 + 3 + 3 = 15 rows */
        size_t starts[4] = {5, 44, 121, 174}; /* 44 + 15 = 59 and 174 + 15 = 189: the last held rows */
        sn_windows w = {4, starts, 4, 3, 1, 0, 175};
        sn_dataset a, b;
        CHECK_OK(sn_fc_dataset(&a, &t.s, &lay, &w));
        CHECK_OK(sn_fc_dataset(&b, &h, &lay, &w));
        float xa[4 * 12], ya[4 * 4], xb[4 * 12], yb[4 * 4];
        size_t idx[4] = {3, 0, 2, 1};
        sn_batch ba = {4, xa, ya, NULL, NULL, NULL, NULL}, bb = {4, xb, yb, NULL, NULL, NULL, NULL};
        CHECK_OK(a.fill(a.ctx, idx, 4, &ba));
        CHECK_OK(b.fill(b.ctx, idx, 4, &bb));
        CHECK(!memcmp(xa, xb, sizeof xa) && !memcmp(ya, yb, sizeof ya));
        double ua[4 * 4], ub[4 * 4], ta[4 * 4], tb[4 * 4], pa[4 * 4], pb[4 * 4];
        CHECK_OK(sn_fc_unscale(&t.s, &lay, &w, ya, ua));
        CHECK_OK(sn_fc_unscale(&h, &lay, &w, yb, ub));
        CHECK_OK(sn_fc_truth(&t.s, &lay, &w, ta));
        CHECK_OK(sn_fc_truth(&h, &lay, &w, tb));
        CHECK_OK(sn_fc_baseline_predict(SN_FC_DRIFT, &t.s, &lay, &w, 1, pa));
        CHECK_OK(sn_fc_baseline_predict(SN_FC_DRIFT, &h, &lay, &w, 1, pb));
        CHECK(!memcmp(ua, ub, sizeof ua) && !memcmp(ta, tb, sizeof ta) && !memcmp(pa, pb, sizeof pa));
        sn_dataset_free(&a);
        sn_dataset_free(&b);
    }
    /* window 45 needs row 60, which is not held: made, but not filled */
    sn_fc_layout lay = {4, 3, 2, 3, 3, SN_FC_SCALE_STANDARD, 0, 1, 0};
    size_t starts[2] = {5, 45};
    sn_windows w = {2, starts, 4, 3, 1, 0, 46};
    sn_dataset b;
    CHECK_OK(sn_fc_dataset(&b, &h, &lay, &w));
    float x[12], y[4];
    size_t i0 = 0, i1 = 1;
    sn_batch bb = {1, x, y, NULL, NULL, NULL, NULL};
    CHECK_OK(b.fill(b.ctx, &i0, 1, &bb));
    CHECK(b.fill(b.ctx, &i1, 1, &bb) == SN_ERR_ARG && strstr(sn_error_last(), "sample 1 (rows 45..60) is not among the rows held"));
    double tr[4];
    CHECK(sn_fc_truth(&h, &lay, &w, tr) == SN_ERR_ARG);
    sn_dataset_free(&b);
}
