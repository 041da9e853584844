/* seqnn predict: forecast with a saved forecasting model (normalisation and
 * windowing come from the model file), or classify raw text with a saved
 * text model (its vectorizer is in the model file). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "forecast_meta.h"
#include "seqnn/data.h"
#include "seqnn/text.h"

static int predict_forecast(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
    fc_meta fm;
    char err[256];
    if (fc_meta_decode(&fm, blob, blen, err, sizeof err)) {
        fprintf(stderr, "seqnn predict: %s\n", err);
        return 1;
    }
    const char *data = cli_get(opts, "data");
    if (!data) {
        fprintf(stderr, "seqnn predict: a forecasting model needs --data CSV with the columns it was trained on\n");
        fc_meta_free(&fm);
        return 2;
    }
    sn_csv_opts co;
    memset(&co, 0, sizeof co);
    co.columns = (const char *const *)fm.features;
    co.n_columns = fm.n_features;
    co.missing = cli_flag(opts, "ffill") ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    sn_table t;
    sn_status st = sn_csv_read(&t, data, &co);
    int rc = 0;
    float *x = NULL, *pred = NULL, *target = NULL;
    sn_windows w;
    memset(&w, 0, sizeof w);
    sn_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (st) {
        rc = cli_fail(st, NULL);
        goto out;
    }
    if (!t.time) {
        fprintf(stderr, "seqnn predict: %s has no date column\n", data);
        rc = 1;
        goto out;
    }
    sn_time_report tr;
    if ((st = sn_table_time_report(&t, &tr))) {
        rc = cli_fail(st, data);
        goto out;
    }
    long r, L;
    if ((st = sn_duration_to_rows(fm.sampling_s, tr.median_step, &r))) {
        rc = cli_fail(st, "sampling period vs the file's step");
        goto out;
    }
    L = fm.lookback;
    if ((long)sn_model_input_numel(m) != L * fm.n_features) {
        fprintf(stderr, "seqnn predict: model input does not match its forecasting metadata\n");
        rc = 1;
        goto out;
    }
    size_t N = t.n_rows, span = (size_t)((L - 1) * r + 1);
    if (N < span) {
        fprintf(stderr, "seqnn predict: %s has %zu rows; one window needs %zu (%ld steps every %ld rows)\n", data, N, span, L,
                r);
        rc = 1;
        goto out;
    }
    x = malloc(N * (size_t)fm.n_features * sizeof(float));
    if (!x || (st = sn_table_normalize(&t, fm.mean, fm.std, x))) {
        rc = cli_fail(x ? st : SN_ERR_NOMEM, "normalisation");
        goto out;
    }
    /* Every window ending in the file, one per sampling period, the last one last. */
    size_t first_start = (N - span) % (size_t)r;
    if ((st = sn_windows_init(&w, N, (int)L, (int)r, (int)r, first_start, 0, 0))) {
        rc = cli_fail(st, "windows");
        goto out;
    }
    if ((st = sn_ts_dataset(&ds, x, N, fm.n_features, NULL, 0, &w))) {
        rc = cli_fail(st, "windows");
        goto out;
    }
    pred = malloc(w.n * sizeof(float));
    if (!pred || (st = sn_model_predict(m, &ds, 256, pred))) {
        rc = cli_fail(pred ? st : SN_ERR_NOMEM, "predict");
        goto out;
    }
    int tcol = -1;
    sn_table_col_index(&t, fm.target, &tcol);
    if (tcol >= 0) {
        target = malloc(N * sizeof(float));
        if (target) sn_table_column_f32(&t, tcol, target);
    }
    /* Actual values where the target time is in the file (exact timestamp match). */
    const char *outp = cli_get(opts, "out");
    FILE *fo = outp ? fopen(outp, "w") : NULL;
    if (outp && !fo) {
        fprintf(stderr, "seqnn predict: cannot write %s\n", outp);
        rc = 1;
        goto out;
    }
    if (fo) fprintf(fo, "last_input_time,target_time,prediction,actual\n");
    double abs_err = 0;
    size_t n_act = 0, j = 0;
    for (size_t k = 0; k < w.n; k++) {
        size_t last = w.start[k] + (size_t)((L - 1) * r);
        int64_t tt = t.time[last] + fm.horizon_s;
        while (j < N && t.time[j] < tt) j++;
        int have = target && j < N && t.time[j] == tt;
        if (have) {
            abs_err += fabs(pred[k] - target[j]);
            n_act++;
        }
        if (fo) {
            char a[32], b[32];
            fprintf(fo, "%s,%s,%.4f,", sn_time_format(t.time[last], a, sizeof a), sn_time_format(tt, b, sizeof b), pred[k]);
            if (have) fprintf(fo, "%.4f", target[j]);
            fprintf(fo, "\n");
        }
    }
    if (fo) fclose(fo);
    char a[32], b[32];
    size_t lastk = w.n - 1, last = w.start[lastk] + (size_t)((L - 1) * r);
    printf("%zu forecasts of \"%s\" %s ahead from %s\n", w.n, fm.target, sn_duration_format(fm.horizon_s, b, sizeof b), data);
    printf("latest: data up to %s -> %s at %s\n", sn_time_format(t.time[last], a, sizeof a), fm.target,
           sn_time_format(t.time[last] + fm.horizon_s, b, sizeof b));
    printf("forecast: %.2f\n", pred[lastk]);
    if (n_act) printf("MAE over the %zu forecasts whose target is in the file: %.3f\n", n_act, abs_err / (double)n_act);
    if (outp) printf("all forecasts written to %s\n", outp);
out:
    sn_dataset_free(&ds);
    sn_windows_free(&w);
    free(x);
    free(pred);
    free(target);
    sn_table_free(&t);
    fc_meta_free(&fm);
    return rc;
}

/* Reads a whole file or stdin (max 64 MiB). */
static char *slurp(FILE *fp, const char *name) {
    size_t cap = 65536, n = 0;
    char *s = malloc(cap);
    size_t k;
    while (s && (k = fread(s + n, 1, cap - n - 1, fp)) > 0) {
        n += k;
        if (n + 1 == cap) {
            if (cap >= (64u << 20)) {
                fprintf(stderr, "seqnn predict: %s is larger than 64 MiB\n", name);
                free(s);
                return NULL;
            }
            char *ns = realloc(s, cap *= 2);
            if (!ns) {
                free(s);
                return NULL;
            }
            s = ns;
        }
    }
    if (s) s[n] = 0;
    return s;
}

static int classify_one(sn_model *m, const sn_vectorizer *v, const char *text, const char *name, char cls[2][64]) {
    const sn_vectorizer_opts *vo = sn_vectorizer_get_opts(v);
    size_t W = sn_vectorizer_output_width(v);
    float p = 0;
    sn_status st;
    sn_dataset ds;
    sn_text_corpus c;
    memset(&c, 0, sizeof c);
    char *texts[1] = {(char *)text};
    size_t lens[1] = {strlen(text)};
    int32_t labels[1] = {0};
    c.n = 1;
    c.texts = texts;
    c.lengths = lens;
    c.labels = labels;
    c.n_classes = 2;
    char *cn[2] = {cls[0], cls[1]};
    c.class_names = cn;
    (void)W;
    st = vo->output_mode == SN_OUTPUT_INT ? sn_text_dataset_int(&ds, v, &c) : sn_text_dataset_bag(&ds, v, &c);
    if (st) return cli_fail(st, name);
    st = sn_model_predict(m, &ds, 1, &p);
    sn_dataset_free(&ds);
    if (st) return cli_fail(st, name);
    printf("%.4f\t%s\t%s\n", p, p > 0.5f ? cls[1] : cls[0], name);
    return 0;
}

static int predict_text(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
    sn_vectorizer *v = NULL;
    sn_status st = sn_vectorizer_load_blob(&v, blob, blen);
    if (st) return cli_fail(st, "the model's vectorizer");
    char cls[2][64] = {"0", "1"};
    size_t cn;
    const char *cl = sn_model_get_meta(m, "classes", &cn);
    if (cl) {
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)(cn < 255 ? cn : 255), cl);
        char *nl = strchr(buf, '\n');
        if (nl) {
            *nl = 0;
            snprintf(cls[0], sizeof cls[0], "%.63s", buf);
            char *nl2 = strchr(nl + 1, '\n');
            if (nl2) *nl2 = 0;
            snprintf(cls[1], sizeof cls[1], "%.63s", nl + 1);
        }
    }
    printf("probability\tlabel\tinput\n");
    int rc = 0;
    const char *text = cli_get(opts, "text"), *in = cli_get(opts, "input");
    if (text) {
        rc = classify_one(m, v, text, "--text", cls);
    } else if (in) {
        struct stat sb;
        if (stat(in, &sb) != 0) {
            fprintf(stderr, "seqnn predict: cannot open %s\n", in);
            rc = 1;
        } else if (S_ISDIR(sb.st_mode)) {
            struct dirent **ents;
            int ne = scandir(in, &ents, NULL, alphasort);
            for (int i = 0; i < ne; i++) {
                const char *nm = ents[i]->d_name;
                size_t l = strlen(nm);
                if (!rc && l > 4 && !strcasecmp(nm + l - 4, ".txt")) {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/%s", in, nm);
                    FILE *fp = fopen(path, "rb");
                    char *s = fp ? slurp(fp, path) : NULL;
                    if (fp) fclose(fp);
                    rc = s ? classify_one(m, v, s, path, cls) : 1;
                    free(s);
                }
                free(ents[i]);
            }
            if (ne >= 0) free(ents);
        } else {
            FILE *fp = fopen(in, "rb");
            char *s = fp ? slurp(fp, in) : NULL;
            if (fp) fclose(fp);
            if (!s) {
                fprintf(stderr, "seqnn predict: cannot read %s\n", in);
                rc = 1;
            } else {
                rc = classify_one(m, v, s, in, cls);
            }
            free(s);
        }
    } else {
        char *s = slurp(stdin, "stdin");
        if (!s) rc = 1;
        else rc = classify_one(m, v, s, "stdin", cls);
        free(s);
    }
    sn_vectorizer_free(v);
    return rc;
}

int cmd_predict(int argc, char **argv) {
    cli_opt opts[] = {
        {"model", 1, "a model file written by seqnn forecast / classify", NULL},
        {"data", 1, "forecasting: CSV with the model's feature columns", NULL},
        {"out", 1, "forecasting: write every forecast to this CSV", NULL},
        {"ffill", 0, "forecasting: forward-fill missing values", NULL},
        {"text", 1, "classification: the text to classify", NULL},
        {"input", 1, "classification: a text file or a folder of .txt files (default: stdin)", NULL},
        {"help", 0, "show this help", NULL},
        {NULL, 0, NULL, NULL}};
    if (cli_parse(argc, argv, 2, opts, "predict")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "predict", "--model FILE (--data CSV | --text T | --input PATH | < text)");
        return 0;
    }
    const char *mp = cli_get(opts, "model");
    if (!mp) {
        fprintf(stderr, "seqnn predict: --model FILE is required\n");
        return 2;
    }
    sn_model *m = NULL;
    sn_status st = sn_model_load(&m, mp);
    if (st) return cli_fail(st, NULL);
    size_t n;
    const void *blob;
    int rc;
    if ((blob = sn_model_get_meta(m, FC_META_KEY, &n)))
        rc = predict_forecast(m, blob, n, opts);
    else if ((blob = sn_model_get_meta(m, "vectorizer", &n)))
        rc = predict_text(m, blob, n, opts);
    else {
        fprintf(stderr, "seqnn predict: %s holds no forecasting or text metadata (was it written by seqnn forecast / classify?)\n", mp);
        rc = 1;
    }
    sn_model_free(m);
    return rc;
}
