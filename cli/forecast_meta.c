/* Encoding of the forecasting metadata blob (see forecast_meta.h). The
 * decoder reads untrusted bytes (a model file): every count is bounded,
 * every index checked, every number parsed in full (fuzz/fuzz_fcmeta.c). */
#define _POSIX_C_SOURCE 200809L
#include "forecast_meta.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FC_MAX_FIELDS 4096
#define FC_MAX_COUNT (1 << 20)

static int is_seed_protocol(const fc_meta *m) {
    return !m->scale && !m->steps_all && m->n_targets <= 1 && !m->channel_independent && !m->n_quantiles &&
           !(m->interval > 0) && !m->id_column && m->n_series <= 1;
}

int fc_meta_encode(const fc_meta *m, void **blob, size_t *n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -1;
    fprintf(f, "seqnn-forecast 1\n");
    fprintf(f, "target\t%s\n", m->target);
    fprintf(f, "lookback_s\t%lld\nhorizon_s\t%lld\nsampling_s\t%lld\nstep_s\t%lld\nlookback\t%d\n",
            (long long)m->lookback_s, (long long)m->horizon_s, (long long)m->sampling_s, (long long)m->step_s,
            m->lookback);
    for (int i = 0; i < m->n_features; i++) fprintf(f, "feature\t%s\t%.17g\t%.17g\n", m->features[i], m->mean[i], m->std[i]);
    if (!is_seed_protocol(m)) {
        const int K = m->n_targets, S = m->n_series > 0 ? m->n_series : 1;
        fprintf(f, "scale\t%d\nsteps_all\t%d\nchannel_independent\t%d\n", m->scale, m->steps_all,
                m->channel_independent);
        fprintf(f, "targets");
        for (int k = 0; k < K; k++) fprintf(f, "\t%s", m->targets[k]);
        fprintf(f, "\n");
        for (int s = 0; m->tmean && s < S; s++)
            for (int k = 0; k < K; k++)
                if (m->tstd[(size_t)s * K + k] > 0) /* all present unless the scale is none */
                    fprintf(f, "target_stat\t%d\t%d\t%.17g\t%.17g\n", s, k, m->tmean[(size_t)s * K + k],
                        m->tstd[(size_t)s * K + k]);
        if (m->n_quantiles) {
            fprintf(f, "quantiles");
            for (int q = 0; q < m->n_quantiles; q++) fprintf(f, "\t%.17g", m->quantiles[q]);
            fprintf(f, "\n");
        }
        if (m->interval > 0 && m->n_conformal) {
            fprintf(f, "interval\t%.17g\n", m->interval);
            for (int i = 0; i < m->n_conformal / K; i++) {
                fprintf(f, "conformal\t%d", i);
                for (int k = 0; k < K; k++) fprintf(f, "\t%.17g", m->conformal[(size_t)i * K + k]);
                fprintf(f, "\n");
            }
        }
        if (m->id_column) {
            fprintf(f, "id_column\t%s\n", m->id_column);
            for (int s = 0; s < S; s++) fprintf(f, "series\t%d\t%s\n", s, m->series[s]);
            for (int s = 1; s < S; s++)
                for (int c = 0; c < m->n_features; c++)
                    fprintf(f, "series_stat\t%d\t%d\t%.17g\t%.17g\n", s, c, m->mean[(size_t)s * m->n_features + c],
                            m->std[(size_t)s * m->n_features + c]);
        }
    }
    if (fclose(f)) {
        free(buf);
        return -1;
    }
    *blob = buf;
    *n = len;
    return 0;
}

static void free_names(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

void fc_meta_free(fc_meta *m) {
    free_names(m->features, m->n_features);
    free(m->mean);
    free(m->std);
    free(m->target);
    free_names(m->targets, m->n_targets);
    free(m->tmean);
    free(m->tstd);
    free(m->conformal);
    free(m->id_column);
    free_names(m->series, m->series ? m->n_series : 0);
    memset(m, 0, sizeof *m);
}

int fc_meta_series(const fc_meta *m, const char *name) {
    if (!m->series) return 0;
    for (int s = 0; s < m->n_series; s++)
        if (!strcmp(m->series[s], name)) return s;
    return -1;
}

/* ---- decoding ---- */

typedef struct mline {
    int lineno, nf;
    char *f[FC_MAX_FIELDS]; /* fields: f[0] the key */
} mline;

typedef struct mdec {
    fc_meta *m;
    char *err;
    size_t errn;
    int ok;
} mdec;

static int fail(mdec *d, int lineno, const char *what) {
    if (d->ok && lineno > 0) snprintf(d->err, d->errn, "forecast metadata line %d: %s", lineno, what);
    else if (d->ok) snprintf(d->err, d->errn, "forecast metadata: %s", what);
    d->ok = 0;
    return -1;
}

static int num(mdec *d, const mline *l, int i, double *out) {
    if (i >= l->nf) return fail(d, l->lineno, "missing value");
    char *e;
    errno = 0;
    double v = strtod(l->f[i], &e);
    if (e == l->f[i] || *e || errno || !isfinite(v)) return fail(d, l->lineno, "not a finite number");
    *out = v;
    return 0;
}

static int inum(mdec *d, const mline *l, int i, long lo, long hi, long *out) {
    if (i >= l->nf) return fail(d, l->lineno, "missing value");
    char *e;
    errno = 0;
    long long v = strtoll(l->f[i], &e, 10);
    if (e == l->f[i] || *e || errno || v < lo || v > hi) return fail(d, l->lineno, "integer out of range");
    *out = (long)v;
    return 0;
}

static char *dupf(mdec *d, const mline *l, int i) {
    if (i >= l->nf) return fail(d, l->lineno, "missing value"), NULL;
    char *s = strdup(l->f[i]);
    if (!s) fail(d, l->lineno, "out of memory");
    return s;
}

/* First pass: counts (features, targets, series, conformal) and scalars. */
static void pass1(mdec *d, const mline *l) {
    fc_meta *m = d->m;
    const char *k = l->f[0];
    long v;
    double x;
    if (!strcmp(k, "feature")) {
        if (l->nf != 4) fail(d, l->lineno, "feature needs name, mean, std");
        else if (++m->n_features > FC_MAX_COUNT) fail(d, l->lineno, "too many features");
    } else if (!strcmp(k, "targets")) {
        if (l->nf < 2) fail(d, l->lineno, "targets needs names");
        else m->n_targets = l->nf - 1;
    } else if (!strcmp(k, "series")) {
        if (!inum(d, l, 1, 0, FC_MAX_COUNT - 1, &v) && v + 1 > m->n_series) m->n_series = (int)v + 1;
    } else if (!strcmp(k, "conformal")) {
        if (l->nf < 3 || !inum(d, l, 1, 0, FC_MAX_COUNT, &v)) {
            if (l->nf < 3) fail(d, l->lineno, "conformal needs a step and widths");
            else if ((v + 1) * (long)(l->nf - 2) > FC_MAX_COUNT) fail(d, l->lineno, "too many conformal widths");
            else if ((v + 1) * (l->nf - 2) > m->n_conformal) m->n_conformal = (int)((v + 1) * (l->nf - 2));
        }
    } else if (!strcmp(k, "lookback_s") && !inum(d, l, 1, 0, (long)1 << 40, &v)) m->lookback_s = v;
    else if (!strcmp(k, "horizon_s") && !inum(d, l, 1, 0, (long)1 << 40, &v)) m->horizon_s = v;
    else if (!strcmp(k, "sampling_s") && !inum(d, l, 1, 0, (long)1 << 40, &v)) m->sampling_s = v;
    else if (!strcmp(k, "step_s") && !inum(d, l, 1, 0, (long)1 << 40, &v)) m->step_s = v;
    else if (!strcmp(k, "lookback") && !inum(d, l, 1, 0, 1 << 24, &v)) m->lookback = (int)v;
    else if (!strcmp(k, "scale") && !inum(d, l, 1, 0, 3, &v)) m->scale = (int)v;
    else if (!strcmp(k, "steps_all") && !inum(d, l, 1, 0, 1, &v)) m->steps_all = (int)v;
    else if (!strcmp(k, "channel_independent") && !inum(d, l, 1, 0, 1, &v)) m->channel_independent = (int)v;
    else if (!strcmp(k, "interval") && !num(d, l, 1, &x)) {
        if (!(x > 0 && x < 1)) fail(d, l->lineno, "interval level not in (0,1)");
        m->interval = x;
    } else if (!strcmp(k, "quantiles")) {
        if (l->nf < 2 || l->nf - 1 > FC_META_MAX_Q) fail(d, l->lineno, "1 to 16 quantile levels");
        for (int q = 1; d->ok && q < l->nf; q++)
            if (!num(d, l, q, &m->quantiles[q - 1]) && !(m->quantiles[q - 1] > 0 && m->quantiles[q - 1] < 1))
                fail(d, l->lineno, "quantile level not in (0,1)");
        if (d->ok) m->n_quantiles = l->nf - 1;
    } else if (!strcmp(k, "target")) {
        free(m->target);
        m->target = dupf(d, l, 1);
    } else if (!strcmp(k, "id_column")) {
        free(m->id_column);
        m->id_column = dupf(d, l, 1);
    }
}

/* Second pass: the arrays, now that their sizes are known. */
static void pass2(mdec *d, const mline *l, int *fi) {
    fc_meta *m = d->m;
    const char *k = l->f[0];
    const int K = m->n_targets, C = m->n_features;
    long s, j;
    if (!strcmp(k, "feature")) {
        int i = (*fi)++;
        if (i >= C || !(m->features[i] = dupf(d, l, 1))) return;
        if (num(d, l, 2, &m->mean[i]) || num(d, l, 3, &m->std[i])) return;
        if (!(m->std[i] > 0)) fail(d, l->lineno, "feature std must be positive");
    } else if (!strcmp(k, "targets")) {
        if (l->nf - 1 != K) {
            fail(d, l->lineno, "two targets lines disagree");
            return;
        }
        for (int t = 0; t < K && d->ok; t++) {
            free(m->targets[t]);
            m->targets[t] = dupf(d, l, t + 1);
        }
    } else if (!strcmp(k, "target_stat")) {
        if (l->nf != 5 || inum(d, l, 1, 0, m->n_series - 1, &s) || inum(d, l, 2, 0, K - 1, &j)) {
            fail(d, l->lineno, "target_stat needs series, target, mean, std");
            return;
        }
        size_t i = (size_t)s * (size_t)K + (size_t)j;
        if (num(d, l, 3, &m->tmean[i]) || num(d, l, 4, &m->tstd[i])) return;
        if (!(m->tstd[i] > 0)) fail(d, l->lineno, "target std must be positive");
    } else if (!strcmp(k, "conformal")) {
        if (l->nf - 2 != K || inum(d, l, 1, 0, m->n_conformal / K - 1, &s)) {
            fail(d, l->lineno, "conformal needs a step and one width per target");
            return;
        }
        for (int i = 0; i < K && d->ok; i++) num(d, l, i + 2, &m->conformal[(size_t)s * (size_t)K + (size_t)i]);
    } else if (!strcmp(k, "series")) {
        if (!m->series) {
            fail(d, l->lineno, "series without an id column");
            return;
        }
        if (inum(d, l, 1, 0, m->n_series - 1, &s)) return;
        free(m->series[s]);
        m->series[s] = dupf(d, l, 2);
    } else if (!strcmp(k, "series_stat")) {
        if (l->nf != 5 || inum(d, l, 1, 1, m->n_series - 1, &s) || inum(d, l, 2, 0, C - 1, &j)) {
            fail(d, l->lineno, "series_stat needs series >= 1, feature, mean, std");
            return;
        }
        size_t i = (size_t)s * (size_t)C + (size_t)j;
        if (num(d, l, 3, &m->mean[i]) || num(d, l, 4, &m->std[i])) return;
        if (!(m->std[i] > 0)) fail(d, l->lineno, "feature std must be positive");
    }
}

/* Splits the NUL-terminated line at tabs (in place). */
static void split_line(char *line, mline *l) {
    l->nf = 0;
    char *p = line;
    while (l->nf < FC_MAX_FIELDS) {
        l->f[l->nf++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
}

/* Sizes the arrays after pass 1 and checks what pass 2 needs. */
static void allocate(mdec *d) {
    fc_meta *m = d->m;
    if (!d->ok) return;
    if (m->n_targets == 0) m->n_targets = 1;
    if (m->n_series == 0) m->n_series = 1;
    if ((m->n_series > 1 || m->id_column) && !(m->id_column && m->n_series >= 1)) {
        fail(d, 0, "series without an id column");
        return;
    }
    const size_t S = (size_t)m->n_series, C = (size_t)m->n_features, K = (size_t)m->n_targets;
    if (C == 0 || S * C > FC_MAX_COUNT || S * K > FC_MAX_COUNT) {
        fail(d, 0, C ? "too many series x features" : "no feature");
        return;
    }
    m->features = calloc(C, sizeof *m->features);
    m->mean = calloc(S * C, sizeof *m->mean);
    m->std = calloc(S * C, sizeof *m->std);
    m->targets = calloc(K, sizeof *m->targets);
    m->tmean = calloc(S * K, sizeof *m->tmean);
    m->tstd = calloc(S * K, sizeof *m->tstd);
    m->conformal = calloc((size_t)m->n_conformal + 1, sizeof *m->conformal);
    m->series = m->id_column ? calloc(S, sizeof *m->series) : NULL;
    if (!m->features || !m->mean || !m->std || !m->targets || !m->tmean || !m->tstd || !m->conformal ||
        (m->id_column && !m->series))
        fail(d, 0, "out of memory");
}

/* Everything present and consistent after pass 2. */
static void validate(mdec *d, int have_targets) {
    fc_meta *m = d->m;
    if (!d->ok) return;
    if (!m->target || m->lookback <= 0 || m->sampling_s <= 0 || m->horizon_s <= 0) {
        fail(d, 0, "incomplete (target, lookback, sampling, horizon)");
        return;
    }
    const size_t S = (size_t)m->n_series, C = (size_t)m->n_features, K = (size_t)m->n_targets;
    if (!have_targets) {
        if (!(m->targets[0] = strdup(m->target))) fail(d, 0, "out of memory");
    }
    for (size_t i = 0; d->ok && i < S * C; i++)
        if (!(m->std[i] > 0)) fail(d, 0, "a series_stat line is missing");
    int need_t = m->scale != 0;
    for (size_t i = 0; d->ok && i < S * K; i++)
        if (!(m->tstd[i] > 0) && need_t) fail(d, 0, "a target_stat line is missing");
    if (d->ok && !need_t) {
        int any = 0;
        for (size_t i = 0; i < S * K; i++) any |= m->tstd[i] > 0;
        if (!any) {
            free(m->tmean), free(m->tstd);
            m->tmean = m->tstd = NULL;
        }
    }
    for (size_t s = 0; d->ok && m->series && s < S; s++)
        if (!m->series[s]) fail(d, 0, "a series line is missing");
    if (d->ok && m->interval > 0 && m->n_conformal < 1) fail(d, 0, "interval without conformal widths");
}

int fc_meta_decode(fc_meta *m, const void *blob, size_t n, char *err, size_t errn) {
    memset(m, 0, sizeof *m);
    mdec d = {m, err, errn, 1};
    snprintf(err, errn, "forecast metadata: out of memory");
    char *s = malloc(n + 1);
    mline *l = malloc(sizeof *l);
    if (!s || !l) {
        free(s);
        free(l);
        return -1;
    }
    memcpy(s, blob, n);
    s[n] = 0;
    if (strncmp(s, "seqnn-forecast 1\n", 17) != 0 || memchr(s, 0, n)) {
        snprintf(err, errn, "forecast metadata: unknown header");
        d.ok = 0;
    }
    int have_targets = 0;
    for (int pass = 1; pass <= 2 && d.ok; pass++) {
        if (pass == 2) allocate(&d);
        int fi = 0, lineno = 1;
        for (char *p = s + 17; d.ok && *p;) {
            char *nl = strchr(p, '\n'), save = 0;
            if (nl) save = *nl, *nl = 0;
            lineno++;
            char *line = strdup(p);
            if (!line) fail(&d, lineno, "out of memory");
            else if (*line) {
                split_line(line, l);
                l->lineno = lineno;
                if (l->nf < 2) fail(&d, lineno, "no tab");
                else if (pass == 1) pass1(&d, l);
                else {
                    have_targets |= !strcmp(l->f[0], "targets");
                    pass2(&d, l, &fi);
                }
            }
            free(line);
            if (!nl) break;
            *nl = save;
            p = nl + 1;
        }
    }
    validate(&d, have_targets);
    free(s);
    free(l);
    if (!d.ok) {
        fc_meta_free(m);
        return -1;
    }
    return 0;
}
