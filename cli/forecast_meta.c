/* Encoding of the forecasting metadata blob (see forecast_meta.h). */
#define _POSIX_C_SOURCE 200809L
#include "forecast_meta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    fclose(f);
    *blob = buf;
    *n = len;
    return 0;
}

void fc_meta_free(fc_meta *m) {
    for (int i = 0; i < m->n_features; i++) free(m->features[i]);
    free(m->features);
    free(m->mean);
    free(m->std);
    free(m->target);
    memset(m, 0, sizeof *m);
}

int fc_meta_decode(fc_meta *m, const void *blob, size_t n, char *err, size_t errn) {
    memset(m, 0, sizeof *m);
    snprintf(err, errn, "forecast metadata: out of memory"); /* replaced by any other reason */
    char *s = malloc(n + 1);
    if (!s) return -1;
    memcpy(s, blob, n);
    s[n] = 0;
    int ok = strncmp(s, "seqnn-forecast 1\n", 17) == 0, cap = 0, lineno = 1;
    if (!ok) snprintf(err, errn, "forecast metadata: unknown header");
    char *save = NULL;
    for (char *line = strtok_r(ok ? s + 17 : s, "\n", &save); ok && line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *tab = strchr(line, '\t');
        if (!tab) {
            snprintf(err, errn, "forecast metadata line %d: no tab", lineno);
            ok = 0;
            break;
        }
        *tab = 0;
        char *v = tab + 1;
        if (!strcmp(line, "target")) {
            free(m->target);
            m->target = strdup(v);
        } else if (!strcmp(line, "lookback_s")) {
            m->lookback_s = atoll(v);
        } else if (!strcmp(line, "horizon_s")) {
            m->horizon_s = atoll(v);
        } else if (!strcmp(line, "sampling_s")) {
            m->sampling_s = atoll(v);
        } else if (!strcmp(line, "step_s")) {
            m->step_s = atoll(v);
        } else if (!strcmp(line, "lookback")) {
            m->lookback = atoi(v);
        } else if (!strcmp(line, "feature")) {
            char *t2 = strchr(v, '\t'), *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
            if (!t3) {
                snprintf(err, errn, "forecast metadata line %d: feature needs name, mean, std", lineno);
                ok = 0;
                break;
            }
            *t2 = 0;
            *t3 = 0;
            if (m->n_features == cap) {
                cap = cap ? cap * 2 : 16;
                m->features = realloc(m->features, (size_t)cap * sizeof(char *));
                m->mean = realloc(m->mean, (size_t)cap * sizeof(double));
                m->std = realloc(m->std, (size_t)cap * sizeof(double));
                if (!m->features || !m->mean || !m->std) {
                    ok = 0;
                    break;
                }
            }
            m->features[m->n_features] = strdup(v);
            m->mean[m->n_features] = strtod(t2 + 1, NULL);
            m->std[m->n_features] = strtod(t3 + 1, NULL);
            if (!isfinite(m->mean[m->n_features]) || !(m->std[m->n_features] > 0)) {
                snprintf(err, errn, "forecast metadata line %d: bad mean/std for %s", lineno, v);
                free(m->features[m->n_features]);
                ok = 0;
                break;
            }
            m->n_features++;
        }
    }
    free(s);
    if (ok && (!m->target || m->n_features == 0 || m->lookback <= 0 || m->sampling_s <= 0 || m->horizon_s <= 0)) {
        snprintf(err, errn, "forecast metadata incomplete");
        ok = 0;
    }
    if (!ok) {
        fc_meta_free(m);
        return -1;
    }
    return 0;
}
