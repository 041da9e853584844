/* The forecasting metadata of a model file (cli/forecast_meta.c, compiled
 * into this test): the seed's protocol writes exactly the first version's
 * lines (so its model files stay byte-identical), richer models round-trip,
 * and malformed blobs are refused naming the line. */
#include "../cli/forecast_meta.c"

#include "test.h"

static void seed_meta(fc_meta *m, char **names, double *mean, double *std) {
    memset(m, 0, sizeof *m);
    m->n_features = 2;
    m->features = names;
    m->mean = mean;
    m->std = std;
    m->target = names[1];
    m->lookback_s = 432000, m->horizon_s = 86400, m->sampling_s = 3600, m->step_s = 3600, m->lookback = 120;
    m->n_targets = 1;
    m->n_series = 1;
}

TEST(forecast_meta_seed_protocol_writes_the_first_version_exactly) {
    char *names[2] = {"p (mbar)", "T (degC)"};
    double mean[2] = {988.75, 8.8125}, std[2] = {8.5, 8.75};
    fc_meta m;
    seed_meta(&m, names, mean, std);
    void *b;
    size_t n;
    CHECK(fc_meta_encode(&m, &b, &n) == 0);
    /* the text the encoder before issue 11 wrote for the same model */
    const char *want = "seqnn-forecast 1\ntarget\tT (degC)\nlookback_s\t432000\nhorizon_s\t86400\nsampling_s\t3600\n"
                       "step_s\t3600\nlookback\t120\nfeature\tp (mbar)\t988.75\t8.5\nfeature\tT (degC)\t8.8125\t8.75\n";
    CHECK_MSG(n == strlen(want) && !memcmp(b, want, n), "%.*s", (int)n, (const char *)b);
    fc_meta d;
    char err[256];
    CHECK_MSG(fc_meta_decode(&d, b, n, err, sizeof err) == 0, "%s", err);
    CHECK(d.n_targets == 1 && !strcmp(d.targets[0], "T (degC)") && d.scale == 0 && !d.tmean && d.n_series == 1);
    fc_meta_free(&d);
    free(b);
}

TEST(forecast_meta_round_trips_targets_series_quantiles_and_widths) {
    char *names[2] = {"sales", "temp"};
    double mean[4] = {100, 5, 200, 6}, std[4] = {7, 2, 8, 3}, tm[4] = {100, 5, 200, 6}, ts[4] = {7, 2, 8, 3};
    double conf[4] = {1.5, 0.5, 2.5, 0.75};
    char *tn[2] = {"sales", "temp"}, *sn[2] = {"north", "south"};
    fc_meta m;
    seed_meta(&m, names, mean, std);
    m.scale = 2, m.steps_all = 1, m.n_targets = 2, m.targets = tn, m.tmean = tm, m.tstd = ts;
    m.n_quantiles = 3, m.quantiles[0] = 0.1, m.quantiles[1] = 0.5, m.quantiles[2] = 0.9;
    m.interval = 0.9, m.n_conformal = 4, m.conformal = conf;
    m.id_column = "store", m.n_series = 2, m.series = sn;
    void *b;
    size_t n;
    CHECK(fc_meta_encode(&m, &b, &n) == 0);
    fc_meta d;
    char err[256];
    CHECK_MSG(fc_meta_decode(&d, b, n, err, sizeof err) == 0, "%s", err);
    CHECK(d.scale == 2 && d.steps_all == 1 && d.n_targets == 2 && !strcmp(d.targets[1], "temp"));
    CHECK(d.n_series == 2 && !strcmp(d.series[1], "south") && fc_meta_series(&d, "south") == 1 &&
          fc_meta_series(&d, "west") == -1);
    CHECK(d.mean[3] == 6 && d.std[2] == 8 && d.tmean[2] == 200 && d.tstd[3] == 3);
    CHECK(d.n_quantiles == 3 && d.quantiles[2] == 0.9 && d.interval == 0.9 && d.n_conformal == 4 && d.conformal[3] == 0.75);
    fc_meta_free(&d);
    free(b);
}

TEST(forecast_meta_refuses_malformed_blobs_naming_the_line) {
    static const struct {
        const char *blob, *why;
    } bad[] = {
        {"seqnn-forecast 2\n", "unknown header"},
        {"seqnn-forecast 1\ntarget\tT\nlookback\t12\n", "forecast metadata: no feature"},
        {"seqnn-forecast 1\ntarget\tT\nlookback\t12\nfeature\tT\t1\t1\n", "incomplete"},
        {"seqnn-forecast 1\ntarget\tT\nlookback_s\t1\nhorizon_s\t1\nsampling_s\t1\nlookback\t2\nfeature\tT\t1\t0\n",
         "line 7: feature std"},
        {"seqnn-forecast 1\ntarget\tT\nlookback_s\tx\n", "line 3: integer"},
        {"seqnn-forecast 1\ntarget\tT\nlookback_s\t1\nhorizon_s\t1\nsampling_s\t1\nlookback\t2\nfeature\tT\t1\t1\n"
         "series\t1\tb\n",
         "series without an id column"},
        {"seqnn-forecast 1\ntarget\tT\nlookback_s\t1\nhorizon_s\t1\nsampling_s\t1\nlookback\t2\nfeature\tT\t1\t1\n"
         "scale\t1\n",
         "target_stat line is missing"},
        {"seqnn-forecast 1\ntarget\tT\nlookback_s\t1\nhorizon_s\t1\nsampling_s\t1\nlookback\t2\nfeature\tT\t1\t1\n"
         "conformal\t0\t1\t2\n",
         "line 8: conformal needs a step and one width per target"},
        {"seqnn-forecast 1\ntarget\tT\nlookback_s\t1\nhorizon_s\t1\nsampling_s\t1\nlookback\t2\nfeature\tT\t1\t1\n"
         "quantiles\t0.5\t1.5\n",
         "line 8: quantile level"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fc_meta d;
        char err[256];
        CHECK_MSG(fc_meta_decode(&d, bad[i].blob, strlen(bad[i].blob), err, sizeof err) == -1, "case %zu decoded", i);
        CHECK_MSG(strstr(err, bad[i].why), "case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].why);
        CHECK(d.features == NULL && d.target == NULL);
    }
}

/* Decodes, then encodes and decodes again to the same bytes (the fuzz
 * harness's property). Returns 0 when the blob does not decode, 1 when the
 * round trip holds, -1 when it breaks. */
static int round_trip(const char *buf, size_t n, char *err, size_t errn) {
    fc_meta d, d2;
    if (fc_meta_decode(&d, buf, n, err, errn)) return 0;
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    int ok = fc_meta_encode(&d, &b1, &n1) == 0 && fc_meta_decode(&d2, b1, n1, err, errn) == 0;
    if (ok) {
        ok = fc_meta_encode(&d2, &b2, &n2) == 0 && n1 == n2 && !memcmp(b1, b2, n1);
        fc_meta_free(&d2);
    }
    free(b1), free(b2);
    fc_meta_free(&d);
    return ok ? 1 : -1;
}

/* Fuzzer finds (make fuzz, fuzz_fcmeta): "series" lines without an id
 * column wrote through a NULL array; partial target statistics of a raw
 * (scale none) model encoded to a blob that did not decode. */
TEST(forecast_meta_fuzz_regressions_replay_cleanly) {
    static const struct {
        const char *file;
        int want; /* round_trip's result */
    } cases[] = {{"fuzz_regressions/fcmeta-series-without-id", 0}, {"fuzz_regressions/fcmeta-partial-target-stats", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *f = fopen(sn_test_path(cases[i].file), "rb");
        CHECK(f);
        char buf[8192], err[256] = "";
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        int got = round_trip(buf, n, err, sizeof err);
        CHECK_MSG(got == cases[i].want, "%s: round trip %d (%s)", cases[i].file, got, err);
        if (!cases[i].want) CHECK(strstr(err, "series without an id column"));
    }
}
