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

static int predict_forecast(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
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
        CLI_RAW("model", 1, "a model file written by seqnn forecast / classify"),
        CLI_RAW("data", 1, "forecasting: CSV with the model's feature columns"),
        CLI_RAW("out", 1, "forecasting: write every forecast to this CSV"),
        CLI_RAW("ffill", 0, "forecasting: forward-fill missing values"),
        CLI_RAW("text", 1, "classification: the text to classify"),
        CLI_RAW("input", 1, "classification: a text file or a folder of .txt files (default: stdin)"),
        CLI_RAW("help", 0, "show this help"),
        CLI_END};
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
