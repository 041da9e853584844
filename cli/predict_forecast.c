/* seqnn predict, forecasting models: normalisation and windowing come from
 * the model file (forecast_meta.h); forecasts for every window of --data. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "forecast_meta.h"
#include "predict.h"
#include "seqnn/data.h"

/* The state of one forecasting prediction, released by pf_free. */
typedef struct pf {
    fc_meta fm;
    const char *data;
    sn_table t;
    long r, L;      /* sampling in rows, look-back in steps */
    size_t N, span; /* rows; rows one window spans */
    float *x, *pred, *target;
    sn_windows w;
    sn_dataset ds;
} pf;

static void pf_free(pf *p) {
    sn_dataset_free(&p->ds);
    sn_windows_free(&p->w);
    free(p->x);
    free(p->pred);
    free(p->target);
    sn_table_free(&p->t);
    fc_meta_free(&p->fm);
}

/* The CSV with the model's feature columns, checked against the model. */
static int pf_load(pf *p, sn_model *m, const cli_opt *opts) {
    sn_csv_opts co;
    memset(&co, 0, sizeof co);
    co.columns = (const char *const *)p->fm.features;
    co.n_columns = p->fm.n_features;
    co.missing = cli_flag(opts, "ffill") ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    sn_status st = sn_csv_read(&p->t, p->data, &co);
    if (st) return cli_fail(st, NULL);
    if (!p->t.time) {
        fprintf(stderr, "seqnn predict: %s has no date column\n", p->data);
        return 1;
    }
    sn_time_report tr;
    if ((st = sn_table_time_report(&p->t, &tr))) return cli_fail(st, p->data);
    if ((st = sn_duration_to_rows(p->fm.sampling_s, tr.median_step, &p->r)))
        return cli_fail(st, "sampling period vs the file's step");
    p->L = p->fm.lookback;
    if ((long)sn_model_input_numel(m) != p->L * p->fm.n_features) {
        fprintf(stderr, "seqnn predict: model input does not match its forecasting metadata\n");
        return 1;
    }
    p->N = p->t.n_rows;
    p->span = (size_t)((p->L - 1) * p->r + 1);
    if (p->N < p->span) {
        fprintf(stderr, "seqnn predict: %s has %zu rows; one window needs %zu (%ld steps every %ld rows)\n", p->data, p->N,
                p->span, p->L, p->r);
        return 1;
    }
    return 0;
}

/* Every window ending in the file, one per sampling period, the last one
 * last, predicted; and the raw target column when the file has it. */
static int pf_predict(pf *p, sn_model *m) {
    sn_status st;
    p->x = malloc(p->N * (size_t)p->fm.n_features * sizeof(float));
    if (!p->x || (st = sn_table_normalize(&p->t, p->fm.mean, p->fm.std, p->x)))
        return cli_fail(p->x ? st : SN_ERR_NOMEM, "normalisation");
    size_t first_start = (p->N - p->span) % (size_t)p->r;
    if ((st = sn_windows_init(&p->w, p->N, (int)p->L, (int)p->r, (int)p->r, first_start, 0, 0)))
        return cli_fail(st, "windows");
    if ((st = sn_ts_dataset(&p->ds, p->x, p->N, p->fm.n_features, NULL, 0, &p->w))) return cli_fail(st, "windows");
    p->pred = malloc(p->w.n * sizeof(float));
    if (!p->pred || (st = sn_model_predict(m, &p->ds, 256, p->pred)))
        return cli_fail(p->pred ? st : SN_ERR_NOMEM, "predict");
    int tcol = -1;
    sn_table_col_index(&p->t, p->fm.target, &tcol);
    if (tcol >= 0) {
        p->target = malloc(p->N * sizeof(float));
        if (p->target) sn_table_column_f32(&p->t, tcol, p->target);
    }
    return 0;
}

/* The forecasts (to --out as CSV), the latest one, and the MAE where the
 * target time is in the file (exact timestamp match). */
static int pf_report(const pf *p, const char *outp) {
    FILE *fo = outp ? fopen(outp, "w") : NULL;
    if (outp && !fo) {
        fprintf(stderr, "seqnn predict: cannot write %s\n", outp);
        return 1;
    }
    if (fo) fprintf(fo, "last_input_time,target_time,prediction,actual\n");
    const int64_t *time = p->t.time;
    double abs_err = 0;
    size_t n_act = 0, j = 0;
    for (size_t k = 0; k < p->w.n; k++) {
        size_t last = p->w.start[k] + (size_t)((p->L - 1) * p->r);
        int64_t tt = time[last] + p->fm.horizon_s;
        while (j < p->N && time[j] < tt) j++;
        int have = p->target && j < p->N && time[j] == tt;
        if (have) {
            abs_err += fabs(p->pred[k] - p->target[j]);
            n_act++;
        }
        if (fo) {
            char a[32], b[32];
            fprintf(fo, "%s,%s,%.4f,", sn_time_format(time[last], a, sizeof a), sn_time_format(tt, b, sizeof b), p->pred[k]);
            if (have) fprintf(fo, "%.4f", p->target[j]);
            fprintf(fo, "\n");
        }
    }
    if (fo) fclose(fo);
    char a[32], b[32];
    size_t lastk = p->w.n - 1, last = p->w.start[lastk] + (size_t)((p->L - 1) * p->r);
    printf("%zu forecasts of \"%s\" %s ahead from %s\n", p->w.n, p->fm.target,
           sn_duration_format(p->fm.horizon_s, b, sizeof b), p->data);
    printf("latest: data up to %s -> %s at %s\n", sn_time_format(time[last], a, sizeof a), p->fm.target,
           sn_time_format(time[last] + p->fm.horizon_s, b, sizeof b));
    printf("forecast: %.2f\n", p->pred[lastk]);
    if (n_act) printf("MAE over the %zu forecasts whose target is in the file: %.3f\n", n_act, abs_err / (double)n_act);
    if (outp) printf("all forecasts written to %s\n", outp);
    return 0;
}

int cli_predict_forecast(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
    pf p;
    memset(&p, 0, sizeof p);
    char err[256];
    if (fc_meta_decode(&p.fm, blob, blen, err, sizeof err)) {
        fprintf(stderr, "seqnn predict: %s\n", err);
        return 1;
    }
    p.data = cli_get(opts, "data");
    int rc = 0;
    if (!p.data) {
        fprintf(stderr, "seqnn predict: a forecasting model needs --data CSV with the columns it was trained on\n");
        rc = 2;
    }
    if (!rc) rc = pf_load(&p, m, opts);
    if (!rc) rc = pf_predict(&p, m);
    if (!rc) rc = pf_report(&p, cli_get(opts, "out"));
    pf_free(&p);
    return rc;
}

