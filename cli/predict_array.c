/* seqnn predict on arrays: --npy X.npy --out Y.npy (the model's inputs as
 * they are, no normalisation or vectorizing), and --stream (one time step
 * per line of stdin, one output line per step). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "predict.h"

static int is_ids(const sn_model *m) {
    const char *k = sn_model_layer_kind(m, 0);
    return !strcmp(k, "Embedding") || !strcmp(k, "OneHot");
}

int cli_predict_npy(sn_model *m, const char *in, const char *out) {
    if (!out) {
        fprintf(stderr, "seqnn predict: --npy needs --out Y.npy\n");
        return 2;
    }
    int d[3], rank = sn_model_input_shape(m, d), ids = is_ids(m);
    /* as float32 for every dtype: token ids (int32 / int64, or integer-valued
     * floats) are exact below 2^24, and the reader refuses those that are not;
     * predict then checks each id is an integer in the vocabulary */
    sn_npy a;
    sn_status st = sn_npy_read(&a, in, NULL);
    if (st) return cli_fail(st, NULL);
    int ok = a.ndim == rank + 1;
    for (int i = 0; ok && i < rank; i++) ok = a.shape[i + 1] == d[i];
    if (!ok || a.shape[0] < 1) {
        char got[256] = "", want[64];
        size_t k = 0;
        for (int i = 0; i < a.ndim && k < 200; i++) k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", i ? ", " : "", (long long)a.shape[i]);
        if (rank == 2) snprintf(want, sizeof want, "(N, %d, %d)", d[0], d[1]);
        else snprintf(want, sizeof want, "(N, %d)%s", d[0], ids ? " of token ids" : "");
        fprintf(stderr, "seqnn predict: %s has shape (%s%s); the model takes %s\n", in, got, a.ndim == 1 ? "," : "", want);
        sn_npy_free(&a);
        return 1;
    }
    size_t N = (size_t)a.shape[0], per = a.numel / N, on = sn_model_output_numel(m);
    float *x = a.f32;
    float *y = malloc(N * on * sizeof *y);
    sn_dataset ds;
    st = !x || !y ? SN_ERR_NOMEM : sn_dataset_from_arrays(&ds, x, NULL, N, per, 0);
    if (!st) {
        st = sn_model_predict(m, &ds, 256, y);
        sn_dataset_free(&ds);
    }
    if (!st) {
        int od[3], orank = sn_model_output_shape(m, od);
        int64_t shape[4] = {(int64_t)N, od[0], od[1], od[2]};
        st = sn_npy_write_f32(out, y, orank + 1, shape);
    }
    free(y);
    sn_npy_free(&a);
    if (st) return cli_fail(st, NULL);
    fprintf(stderr, "seqnn predict: %zu predictions -> %s\n", N, out);
    return 0;
}

/* Splits a CSV line into at most n floats; returns the count or -1 on a bad number. */
static int parse_line(char *line, float *v, int n) {
    int k = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        char *end;
        double d = strtod(p, &end);
        if (end == p || k >= n) return k >= n ? n + 1 : -1;
        v[k++] = (float)d;
        p = end;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == ',' || *p == ';') p++;
        else if (*p) return -1;
    }
    return k;
}

int cli_predict_stream(sn_model *m) {
    sn_stream *s = NULL;
    sn_status st = sn_stream_init(&s, m, 1);
    if (st) return cli_fail(st, NULL);
    int in = (int)sn_stream_input_numel(s), on = (int)sn_stream_output_numel(s);
    float *x = malloc(((size_t)in + 1) * sizeof *x), *y = malloc((size_t)on * sizeof *y);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    while (x && y && getline(&line, &cap, stdin) > 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[strspn(line, " \t")]) { /* a blank line starts a new sequence */
            sn_stream_reset(s, -1);
            printf("\n");
            fflush(stdout);
            continue;
        }
        int k = parse_line(line, x, in);
        if (k != in) {
            fprintf(stderr, "seqnn predict: stdin line %ld: expected %d comma-separated number%s (one time step), %s\n",
                    lineno, in, in == 1 ? "" : "s", k < 0 ? "got something else" : "got another count");
            rc = 1;
            break;
        }
        if ((st = sn_stream_step(s, NULL, 1, x, y))) {
            fprintf(stderr, "seqnn predict: stdin line %ld: %s\n", lineno, sn_error_last());
            rc = 1;
            break;
        }
        for (int j = 0; j < on; j++) printf("%s%.9g", j ? "," : "", (double)y[j]);
        printf("\n");
        fflush(stdout);
    }
    free(line);
    free(x);
    free(y);
    sn_stream_free(s);
    return rc;
}
