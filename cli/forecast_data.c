/* The forecasting commands' data: the CSV with its targets and series, the
 * layout from the options, split borders, training statistics and windows
 * (forecast.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forecast.h"

void fc_data_free(fc_data *d) {
    for (int i = 0; i < 3; i++) sn_windows_free(&d->w[i]);
    sn_table_free(&d->tab);
    free(d->tcol);
    free(d->sbeg);
    free(d->send);
    free(d->row_series);
    free(d->b);
    free(d->xmean);
    free(d->xstd);
    free(d->ymean);
    free(d->ystd);
    free(d->x);
    free(d->y);
    free(d->yn);
    free(d->mase_den);
    memset(d, 0, sizeof *d);
}

/* Splits "a,b,c" into at most max names (modifies s). */
static int split_names(char *s, const char **names, int max) {
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) names[n++] = tok;
    return n;
}

/* --quantiles "0.1,0.5,0.9": ascending levels in (0,1). */
static int parse_quantiles(fc_data *d, const char *s, const char *cmd) {
    const char *p = s;
    while (*p) {
        char *e;
        double v = strtod(p, &e);
        if (e == p || !(v > 0 && v < 1) || d->n_q >= FC_META_MAX_Q || (d->n_q && v <= d->quantiles[d->n_q - 1])) {
            fprintf(stderr, "seqnn %s: --quantiles \"%s\": give up to %d ascending levels in (0,1), e.g. 0.1,0.5,0.9\n",
                    cmd, s, FC_META_MAX_Q);
            return 1;
        }
        d->quantiles[d->n_q++] = v;
        p = *e == ',' ? e + 1 : e;
        if (*e && *e != ',') {
            fprintf(stderr, "seqnn %s: --quantiles \"%s\": unexpected \"%s\"\n", cmd, s, e);
            return 1;
        }
    }
    return 0;
}

/* The step, scale and metric options. */
static int parse_modes(fc_data *d, const char *cmd) {
    const fc_opts *o = &d->o;
    int all = !strcasecmp(o->steps, "all");
    if (!all && strcasecmp(o->steps, "last")) {
        fprintf(stderr, "seqnn %s: --steps must be last or all, got '%s'\n", cmd, o->steps);
        return 1;
    }
    d->steps_all = all;
    const char *sc = o->scale ? o->scale : o->bundled ? "none" : "standard";
    if (!sn_fc_scale_parse(sc, &d->scale)) {
        fprintf(stderr, "seqnn %s: --target-scale must be none, standard, last or window, got '%s'\n", cmd, sc);
        return 1;
    }
    if (!strcasecmp(o->metrics_scale, "standardized") || !strcasecmp(o->metrics_scale, "standardised"))
        d->standardized_metrics = 1;
    else if (strcasecmp(o->metrics_scale, "original")) {
        fprintf(stderr, "seqnn %s: --metrics-scale must be original or standardized, got '%s'\n", cmd, o->metrics_scale);
        return 1;
    }
    if (o->targets && o->target) {
        fprintf(stderr, "seqnn %s: give --target or --targets, not both\n", cmd);
        return 1;
    }
    return o->quantiles ? parse_quantiles(d, o->quantiles, cmd) : 0;
}

/* The names to read: --features plus any target not among them. */
static int read_table(fc_data *d, const char *cmd) {
    const fc_opts *o = &d->o;
    sn_csv_opts co;
    memset(&co, 0, sizeof co);
    co.missing = o->ffill ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    co.id_column = o->id_column;
    char *fbuf = NULL, *tbuf = NULL;
    const char *names[512];
    if (o->features) {
        fbuf = strdup(o->features);
        co.n_columns = split_names(fbuf, names, 256);
        const char *t1 = o->targets ? o->targets : o->target ? o->target : "T (degC)";
        if (strcasecmp(t1, "all")) {
            tbuf = strdup(t1);
            const char *tn[256];
            int nt = split_names(tbuf, tn, 256);
            for (int i = 0; i < nt; i++) {
                int have = 0;
                for (int j = 0; j < co.n_columns; j++) have |= !strcasecmp(names[j], tn[i]);
                if (!have) names[co.n_columns++] = tn[i];
            }
        }
        co.columns = names;
    }
    /* under MPI: the file's index first when each rank may read only its share */
    const char *why = fc_shard_refusal(o);
    d->shard = why == NULL;
    d->copts = co;
    d->copts.columns = NULL, d->copts.n_columns = 0, d->named_cols = co.columns != NULL;
    co.index_only = d->shard;
    double t0 = sn_time_now();
    sn_status st = sn_csv_read(&d->tab, o->data, &co);
    free(fbuf);
    free(tbuf);
    if (st) return cli_fail(st, NULL);
    d->N = d->tab.n_rows;
    if (why && *why && !d->quiet) printf("data: read whole on every rank (%s)\n", why);
    if (!d->tab.time) {
        fprintf(stderr, "seqnn %s: %s has no date column (needed to turn --lookback/--horizon into rows)\n", cmd, o->data);
        return 1;
    }
    d->C = d->tab.n_cols;
    d->read_seconds = sn_time_now() - t0;
    return 0;
}

/* One target name to its column; a text column gets the reader's own
 * "cannot parse ... in column" message (file:line:column). */
static int resolve_target(fc_data *d, const char *name, int *col, const char *cmd) {
    sn_status st = sn_table_col_index(&d->tab, name, col);
    if (!st) return 0;
    char *keep = strdup(sn_error_last());
    sn_csv_opts co;
    memset(&co, 0, sizeof co);
    const char *one[1] = {name};
    co.columns = one;
    co.n_columns = 1;
    co.id_column = d->o.id_column;
    sn_table t;
    st = sn_csv_read(&t, d->o.data, &co);
    const char *why = sn_error_last();
    if (st && !strstr(why, "no column named") && !strstr(why, "ambiguous"))
        fprintf(stderr, "seqnn %s: target \"%s\" is not a numeric column: %s\n", cmd, name, why);
    else
        fprintf(stderr, "seqnn %s: --target: %s\n", cmd, keep ? keep : why);
    if (!st) sn_table_free(&t);
    free(keep);
    return 1;
}

static int resolve_targets(fc_data *d, const char *cmd) {
    const fc_opts *o = &d->o;
    const char *spec = o->targets ? o->targets : o->target ? o->target : "T (degC)";
    if (o->targets && !strcasecmp(o->targets, "all")) {
        d->K = d->C;
        d->tcol = malloc((size_t)d->K * sizeof *d->tcol);
        if (!d->tcol) return cli_fail(SN_ERR_NOMEM, NULL);
        for (int k = 0; k < d->K; k++) d->tcol[k] = k;
        return 0;
    }
    char *buf = strdup(spec);
    const char *names[256];
    int n = o->targets ? split_names(buf, names, 256) : 1;
    if (!o->targets) names[0] = spec;
    d->K = n;
    d->tcol = malloc((size_t)(n > 0 ? n : 1) * sizeof *d->tcol);
    int rc = !d->tcol || n < 1;
    for (int k = 0; k < n && !rc; k++) {
        rc = resolve_target(d, names[k], &d->tcol[k], cmd);
        for (int j = 0; j < k && !rc; j++)
            if (d->tcol[j] == d->tcol[k]) {
                fprintf(stderr, "seqnn %s: target \"%s\" given twice\n", cmd, names[k]);
                rc = 1;
            }
    }
    free(buf);
    return rc;
}

/* Series rows from the table (one series without an id column). */
static int series_rows(fc_data *d) {
    const sn_table *t = &d->tab;
    d->n_series = t->series_start ? t->n_series : 1;
    d->sbeg = malloc((size_t)d->n_series * sizeof *d->sbeg);
    d->send = malloc((size_t)d->n_series * sizeof *d->send);
    d->b = calloc((size_t)d->n_series, sizeof *d->b);
    if (!d->sbeg || !d->send || !d->b) return cli_fail(SN_ERR_NOMEM, NULL);
    for (int s = 0; s < d->n_series; s++) {
        d->sbeg[s] = t->series_start ? t->series_start[s] : 0;
        d->send[s] = t->series_start ? t->series_start[s + 1] : t->n_rows;
    }
    return 0;
}

/* Durations to rows, the layout and the window geometry. */
static int geometry(fc_data *d, const char *cmd, int quiet) {
    const fc_opts *o = &d->o;
    sn_time_report tr;
    sn_status st;
    if ((st = sn_table_time_report(&d->tab, &tr))) return cli_fail(st, o->data);
    d->tr = tr;
    d->step_s = tr.median_step;
    if ((st = sn_duration_parse(o->lookback, &d->lookback_s))) return cli_fail(st, "--lookback");
    if ((st = sn_duration_parse(o->horizon, &d->horizon_s))) return cli_fail(st, "--horizon");
    if ((st = sn_duration_parse(o->sampling, &d->sampling_s))) return cli_fail(st, "--sampling");
    long r, L, H;
    if (d->sampling_s <= 0) return cli_fail(sn_error(SN_ERR_ARG, "the sampling interval must be positive"), "--sampling");
    if ((st = sn_duration_to_rows(d->sampling_s, d->step_s, &r))) return cli_fail(st, "--sampling vs the data step");
    if ((st = sn_duration_to_rows(d->lookback_s, d->sampling_s, &L))) return cli_fail(st, "--lookback vs --sampling");
    if ((st = sn_duration_to_rows(d->horizon_s, d->sampling_s, &H))) return cli_fail(st, "--horizon vs --sampling");
    if (L < 1 || H < 1) {
        fprintf(stderr, "seqnn %s: --lookback and --horizon must be at least one --sampling period\n", cmd);
        return 1;
    }
    d->H = H;
    int all = d->steps_all;
    d->lay.lookback = (int)L;
    d->lay.sampling = (int)r;
    d->lay.n_steps = all ? (int)H : 1;
    d->lay.first = all ? r : H * r;
    d->lay.stride = r;
    d->lay.scale = d->scale;
    d->lay.channel_independent = o->channel_independent;
    d->lay.n_quantiles = 1;
    d->ws.lookback = (int)L;
    d->ws.sampling = (int)r;
    d->ws.first = d->lay.first;
    d->ws.last = d->lay.first + (long)(d->lay.n_steps - 1) * d->lay.stride;
    d->ws.context = o->split_context;
    d->season = o->season > 0 ? o->season : sn_fc_season_from_step(d->step_s);
    if (quiet) return 0;
    char sbuf[32];
    printf("data: %s: %zu rows x %d features", o->data, d->N, d->C);
    if (d->n_series > 1) printf(", %d series (\"%s\")", d->n_series, d->tab.series_column);
    printf(", step %s, read in %.2f s\n", sn_duration_format(d->step_s, sbuf, sizeof sbuf), d->read_seconds);
    if (tr.n_irregular)
        printf("      %zu irregular steps (gaps or jitter; first at line %zu): windows are taken by row, as Keras does\n",
               tr.n_irregular, tr.first_irregular_line);
    return 0;
}

int fc_data_load(fc_data *d, const fc_opts *o, const char *cmd, int quiet) {
    memset(d, 0, sizeof *d);
    d->o = *o;
    d->quiet = quiet;
    d->o.bundled = !o->data;
    if (!o->data) d->o.data = FC_DEFAULT_DATA;
    int rc = parse_modes(d, cmd);
    if (!rc) rc = read_table(d, cmd);
    if (!rc) rc = resolve_targets(d, cmd);
    if (!rc) rc = series_rows(d);
    if (!rc) rc = geometry(d, cmd, quiet);
    return rc;
}

int fc_data_split_borders(fc_data *d, const char *cmd) {
    sn_fc_split sp;
    sn_status st = sn_fc_split_parse(d->o.split, &sp);
    if (st) return cli_fail(st, NULL);
    for (int s = 0; s < d->n_series; s++)
        if ((st = sn_fc_split_borders(&sp, d->sbeg[s], d->send[s], &d->b[s]))) {
            if (d->n_series > 1)
                fprintf(stderr, "seqnn %s: series \"%s\": %s\n", cmd, d->tab.series_names[s], sn_error_last());
            else
                fprintf(stderr, "seqnn %s: %s\n", cmd, sn_error_last());
            return 1;
        }
    return 0;
}

/* The series of the first column whose statistics cannot standardise it. */
static size_t first_bad_series(const fc_data *d) {
    const size_t C = (size_t)d->C;
    for (size_t s = 0; s < (size_t)d->n_series; s++)
        for (size_t c = 0; c < C; c++)
            if (!(d->xstd[s * C + c] > 0) || !isfinite(d->xstd[s * C + c]) || !isfinite(d->xmean[s * C + c])) return s;
    return 0;
}

/* Per-series training mean / std of every column (blocked: the same for
 * any rank count, sn_table_stats_blocked) and the MASE scales. */
static int train_stats(fc_data *d, const char *cmd) {
    const size_t S = (size_t)d->n_series, C = (size_t)d->C, K = (size_t)d->K;
    size_t *begin = malloc(S * sizeof *begin), *end = malloc(S * sizeof *end);
    double *diff = malloc(S * K * sizeof *diff);
    int *owner = NULL;
    sn_stats_req r;
    int rc = !begin || !end || !diff ? cli_fail(SN_ERR_NOMEM, NULL) : fc_shard_stats_req(d, &r, begin, end, &owner);
    sn_status st = SN_OK;
    if (!rc) {
        r.n_diff = d->K, r.diff_col = d->tcol, r.season = d->season;
        st = sn_table_stats_blocked(&d->tab, &r, d->xmean, d->xstd, diff);
        if (r.comm && (st = sn_comm_agree(r.comm, st))) cli_dist_agreed = 1;
    }
    if (!rc && st) {
        size_t bad = first_bad_series(d);
        if (d->n_series > 1 && st == SN_ERR_NUMERIC)
            fprintf(stderr, "seqnn %s: series \"%s\": %s\n", cmd, d->tab.series_names[bad], sn_error_last());
        else fprintf(stderr, "seqnn %s: normalisation: %s\n", cmd, sn_error_last());
        rc = 1;
    }
    for (size_t s = 0; !rc && s < S; s++)
        for (size_t k = 0; k < K; k++) {
            d->ymean[s * K + k] = d->xmean[s * C + (size_t)d->tcol[k]];
            d->ystd[s * K + k] = d->xstd[s * C + (size_t)d->tcol[k]];
            d->mase_den[s * K + k] = diff[s * K + k];
        }
    free(begin), free(end), free(diff), free(owner);
    return rc;
}

/* Standardised x and yn, raw y (float, as the seed's target column), of
 * every held row. */
static void standardise(fc_data *d) {
    const sn_table *t = &d->tab;
    const size_t N = t->n_rows, C = (size_t)d->C, K = (size_t)d->K;
    for (size_t i = 0; i < N; i++) {
        const double *mu = d->xmean + (size_t)d->row_series[i] * C, *sd = d->xstd + (size_t)d->row_series[i] * C;
        for (size_t c = 0; c < C; c++) d->x[i * C + c] = (float)((t->data[i * C + c] - mu[c]) / sd[c]);
        for (size_t k = 0; k < K; k++) {
            d->y[i * K + k] = (float)t->data[i * C + (size_t)d->tcol[k]];
            d->yn[i * K + k] = d->x[i * C + (size_t)d->tcol[k]];
        }
    }
}

int fc_data_stats(fc_data *d, const char *cmd) {
    if (d->shard == 1) { /* this rank's rows, now that the windows are known */
        if (fc_shard_read(d, cmd)) return 1;
        d->shard = 2;
    }
    const size_t N = d->tab.n_rows, C = (size_t)d->C, K = (size_t)d->K, S = (size_t)d->n_series;
    if (!d->x) {
        const size_t n1 = N ? N : 1;
        d->xmean = malloc(S * C * sizeof *d->xmean);
        d->xstd = malloc(S * C * sizeof *d->xstd);
        d->ymean = malloc(S * K * sizeof *d->ymean);
        d->ystd = malloc(S * K * sizeof *d->ystd);
        d->x = malloc(n1 * C * sizeof *d->x);
        d->y = malloc(n1 * K * sizeof *d->y);
        d->yn = malloc(n1 * K * sizeof *d->yn);
        d->mase_den = malloc(S * K * sizeof *d->mase_den);
        d->row_series = malloc(n1 * sizeof *d->row_series);
        if (!d->xmean || !d->xstd || !d->ymean || !d->ystd || !d->x || !d->y || !d->yn || !d->mase_den || !d->row_series)
            return cli_fail(SN_ERR_NOMEM, NULL);
        for (size_t s = 0; s < S; s++) {
            size_t b = d->tab.series_start ? d->tab.series_start[s] : 0, e = d->tab.series_start ? d->tab.series_start[s + 1] : N;
            for (size_t i = b; i < e; i++) d->row_series[i] = (int)s;
        }
    }
    if (train_stats(d, cmd)) return 1;
    standardise(d);
    sn_fc_series *fs = &d->fs;
    fs->N = N;
    fs->C = d->C;
    fs->x = d->x;
    fs->K = d->K;
    fs->y = d->y;
    fs->yn = d->yn;
    fs->series = d->n_series > 1 ? d->row_series : NULL;
    fs->n_series = d->n_series;
    fs->y_mean = d->ymean;
    fs->y_std = d->ystd;
    fs->rows = d->tab.row;
    return 0;
}

/* Each series is long enough for one window with its targets, and the
 * training split of each holds one (the seed's wording for the latter). */
static int check_lengths(const fc_data *d, const char *cmd) {
    const long span = sn_fc_layout_span(&d->lay) + 1;
    for (int s = 0; s < d->n_series; s++) {
        size_t len = d->send[s] - d->sbeg[s];
        if (d->n_series > 1 && (long)len < span) {
            fprintf(stderr,
                    "seqnn %s: series \"%s\" (column \"%s\") has %zu rows, fewer than the %ld one window with its "
                    "targets spans (%s look-back + %s horizon): drop it or shorten --lookback / --horizon\n",
                    cmd, d->tab.series_names[s], d->tab.series_column, len, span, d->o.lookback, d->o.horizon);
            return 1;
        }
    }
    for (int s = 0; s < d->n_series; s++) {
        size_t len = d->send[s] - d->sbeg[s], ntr = d->b[s].train_end - d->b[s].begin;
        if ((long)ntr < span) {
            fprintf(stderr,
                    "seqnn %s: a %s look-back plus the %s horizon spans %ld rows, more than the %zu rows of the "
                    "training split%s%s%s (%zu rows, --split %s): use a shorter --lookback / --horizon or a longer "
                    "series\n",
                    cmd, d->o.lookback, d->o.horizon, span, ntr, d->n_series > 1 ? " of series \"" : "",
                    d->n_series > 1 ? d->tab.series_names[s] : "", d->n_series > 1 ? "\"" : "", len, d->o.split);
            return 1;
        }
    }
    return 0;
}

int fc_data_windows(fc_data *d, uint64_t seed, const char *cmd, int context) {
    static const char *names[] = {"training", "validation", "test"};
    if (check_lengths(d, cmd)) return 1;
    d->ws.context = context;
    for (int i = 0; i < 3; i++) {
        sn_windows_free(&d->w[i]);
        sn_status st = sn_ts_windows_split(&d->w[i], &d->ws, d->b, d->n_series, (sn_ts_split)i);
        if (st) {
            fprintf(stderr, "seqnn %s: %s (the %s horizon is longer than the %s split allows: shorten --horizon / "
                            "--lookback or change --split)\n",
                    cmd, sn_error_last(), d->o.horizon, names[i]);
            return 1;
        }
    }
    /* chunked training (docs/distributed.md) keeps the windows in time order,
     * so that each chunk position's fixed shard is a stretch of the series
     * that a rank can read alone; the fit shuffles within each shard */
    if (d->chunks > 0) return 0;
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_windows_shuffle(&d->w[0], &r);
    return 0;
}

void fc_data_meta(const fc_data *d, fc_meta *m) {
    const size_t C = (size_t)d->C, K = (size_t)d->K, S = (size_t)d->n_series;
    memset(m, 0, sizeof *m);
    m->n_features = d->C;
    m->features = calloc(C, sizeof *m->features);
    for (size_t c = 0; m->features && c < C; c++) m->features[c] = strdup(d->tab.col_names[c]);
    m->mean = malloc(S * C * sizeof *m->mean);
    m->std = malloc(S * C * sizeof *m->std);
    if (m->mean) memcpy(m->mean, d->xmean, S * C * sizeof *m->mean);
    if (m->std) memcpy(m->std, d->xstd, S * C * sizeof *m->std);
    m->target = strdup(d->tab.col_names[d->tcol[0]]);
    m->lookback_s = d->lookback_s;
    m->horizon_s = d->horizon_s;
    m->sampling_s = d->sampling_s;
    m->lookback = d->lay.lookback;
    m->step_s = d->step_s;
    m->scale = (int)d->scale;
    m->steps_all = d->steps_all;
    m->n_targets = d->K;
    m->targets = calloc(K, sizeof *m->targets);
    for (size_t k = 0; m->targets && k < K; k++) m->targets[k] = strdup(d->tab.col_names[d->tcol[k]]);
    m->tmean = malloc(S * K * sizeof *m->tmean);
    m->tstd = malloc(S * K * sizeof *m->tstd);
    if (m->tmean) memcpy(m->tmean, d->ymean, S * K * sizeof *m->tmean);
    if (m->tstd) memcpy(m->tstd, d->ystd, S * K * sizeof *m->tstd);
    m->channel_independent = d->lay.channel_independent;
    m->n_quantiles = d->n_q;
    memcpy(m->quantiles, d->quantiles, sizeof m->quantiles);
    m->n_series = d->n_series;
    if (d->n_series > 1) {
        m->id_column = strdup(d->tab.series_column);
        m->series = calloc(S, sizeof *m->series);
        for (size_t s = 0; m->series && s < S; s++) m->series[s] = strdup(d->tab.series_names[s]);
    }
}
