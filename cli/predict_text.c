/* seqnn predict, text models: the vectorizer and the class names are in the
 * model file. Classifies --text, a file, a folder of .txt files, stdin, or
 * every record of a CSV / TSV / JSONL file (--data, with --text-column);
 * prints each text's label with its probability (the --top-k best with
 * --top-k), and --out writes a CSV with every class's probability. Models
 * with one sigmoid output are two-class (class 1 when p > 0.5), with K
 * outputs softmax over K classes, or K independent labels when the file's
 * "task" is multi_label (every label with p > 0.5). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "predict.h"
#include "seqnn/text.h"

typedef struct pt_model {
    sn_model *m;
    sn_vectorizer *v;
    char **classes; /* (K) */
    int K, width, multi;
} pt_model;

/* Reads a whole file or stdin (max 64 MiB). */
static char *slurp(FILE *fp, const char *name, size_t *len) {
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
    *len = n;
    return s;
}

/* The class names from the "classes" blob (one per line); "0", "1" for an
 * old file without it. */
static int load_classes(pt_model *t) {
    size_t cn = 0;
    const char *cl = sn_model_get_meta(t->m, "classes", &cn);
    int K = 0;
    for (size_t i = 0; cl && i < cn; i++) K += cl[i] == '\n';
    t->K = K ? K : 2;
    t->classes = calloc((size_t)t->K, sizeof *t->classes);
    if (!t->classes) return 1;
    if (!K) {
        t->classes[0] = strdup("0");
        t->classes[1] = strdup("1");
        return !t->classes[0] || !t->classes[1];
    }
    size_t s = 0;
    for (int k = 0; k < K; k++) {
        size_t e = s;
        while (cl[e] != '\n') e++;
        if (!(t->classes[k] = strndup(cl + s, e - s))) return 1;
        s = e + 1;
    }
    return 0;
}

/* A corpus of n texts (taken over) with their display names (copied). */
static int add_doc(sn_text_corpus *c, char *text, size_t len, const char *name) {
    char **tx = realloc(c->texts, (c->n + 1) * sizeof *tx);
    if (tx) c->texts = tx;
    char **pa = realloc(c->paths, (c->n + 1) * sizeof *pa);
    if (pa) c->paths = pa;
    size_t *le = realloc(c->lengths, (c->n + 1) * sizeof *le);
    if (le) c->lengths = le;
    int32_t *la = realloc(c->labels, (c->n + 1) * sizeof *la);
    if (la) c->labels = la;
    char *nm = strdup(name);
    if (!tx || !pa || !le || !la || !nm) {
        free(nm);
        free(text);
        return cli_fail(SN_ERR_NOMEM, name);
    }
    for (size_t i = 0; i < len; i++)
        if (!text[i]) text[i] = ' ';
    c->texts[c->n] = text;
    c->paths[c->n] = nm;
    c->lengths[c->n] = len;
    c->labels[c->n] = 0;
    c->n++;
    return 0;
}

static int add_file(sn_text_corpus *c, const char *path) {
    FILE *fp = fopen(path, "rb");
    size_t len = 0;
    char *s = fp ? slurp(fp, path, &len) : NULL;
    if (fp) fclose(fp);
    if (!s) {
        fprintf(stderr, "seqnn predict: cannot read %s\n", path);
        return 1;
    }
    return add_doc(c, s, len, path);
}

/* The .txt files of a folder, in name order. */
static int add_folder(sn_text_corpus *c, const char *dir) {
    struct dirent **ents;
    int ne = scandir(dir, &ents, NULL, alphasort), rc = 0;
    if (ne < 0) {
        fprintf(stderr, "seqnn predict: cannot list %s\n", dir);
        return 1;
    }
    for (int i = 0; i < ne; i++) {
        const char *nm = ents[i]->d_name;
        size_t l = strlen(nm);
        if (!rc && l > 4 && !strcasecmp(nm + l - 4, ".txt")) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            rc = add_file(c, path);
        }
        free(ents[i]);
    }
    free(ents);
    if (!rc && c->n == 0) {
        fprintf(stderr, "seqnn predict: %s holds no .txt file\n", dir);
        return 1;
    }
    return rc;
}

/* The texts the options name: --data table, --text, --input file / folder, or stdin. */
static int gather(sn_text_corpus *c, const cli_opt *opts, sn_text_encoding enc) {
    memset(c, 0, sizeof *c);
    const char *text = cli_get(opts, "text"), *in = cli_get(opts, "input"), *data = cli_get(opts, "data");
    int rc;
    if (data) {
        sn_text_table_opts to;
        sn_text_table_opts_default(&to);
        to.unlabelled = 1;
        to.text_columns = cli_get(opts, "text-column");
        to.no_header = cli_flag(opts, "no-header");
        to.encoding = enc;
        const char *f = cli_get(opts, "format");
        sn_status st = f ? sn_text_format_parse(f, &to.format) : SN_OK;
        if (!st) st = sn_text_load_table(c, data, &to);
        return st ? cli_fail(st, NULL) : 0;
    }
    if (text) {
        char *s = strdup(text);
        rc = s ? add_doc(c, s, strlen(s), "--text") : cli_fail(SN_ERR_NOMEM, "--text");
    } else if (in) {
        struct stat sb;
        if (stat(in, &sb) != 0) {
            fprintf(stderr, "seqnn predict: cannot open %s\n", in);
            return 1;
        }
        rc = S_ISDIR(sb.st_mode) ? add_folder(c, in) : add_file(c, in);
    } else {
        size_t len = 0;
        char *s = slurp(stdin, "stdin", &len);
        rc = s ? add_doc(c, s, len, "stdin") : 1;
    }
    sn_status st = rc ? SN_OK : sn_text_corpus_decode(c, enc, "predict");
    return rc ? rc : st ? cli_fail(st, NULL) : 0;
}

/* Every class's probability (K) from one output row. */
static void class_probs(const pt_model *t, const float *out, float *p) {
    if (t->width == 1) {
        p[0] = 1.0f - out[0];
        p[1] = out[0];
    } else {
        for (int k = 0; k < t->K; k++) p[k] = out[k];
    }
}

/* Classes by probability, highest first (ties: the smaller index). */
static void rank(const float *p, int K, int *order) {
    for (int k = 0; k < K; k++) order[k] = k;
    for (int i = 1; i < K; i++) {
        int v = order[i], j = i;
        while (j > 0 && p[order[j - 1]] < p[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

/* CSV field: quoted, inner quotes doubled. */
static void csv_field(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The predicted label(s) of probabilities p into buf. */
static void label_of(const pt_model *t, const float *p, const int *order, char *buf, size_t n) {
    if (!t->multi) {
        snprintf(buf, n, "%s", t->classes[order[0]]);
        return;
    }
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < t->K; k++)
        if (p[k] > 0.5f && o + 2 < n) o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? "," : "", t->classes[k]);
    if (!o) snprintf(buf, n, "-");
}

static int print_all(const pt_model *t, const sn_text_corpus *c, const float *out, int topk, FILE *csv) {
    float *p = malloc((size_t)t->K * sizeof *p);
    int *order = malloc((size_t)t->K * sizeof *order);
    char label[4096];
    if (!p || !order) {
        free(p);
        free(order);
        return cli_fail(SN_ERR_NOMEM, "predict");
    }
    int k1 = topk < t->K ? topk : t->K;
    printf(k1 > 1 ? "rank\tprobability\tlabel\tinput\n" : "probability\tlabel\tinput\n");
    if (csv) {
        fprintf(csv, "input,label");
        for (int k = 0; k < t->K; k++) {
            fputc(',', csv);
            csv_field(csv, t->classes[k]);
        }
        fputc('\n', csv);
    }
    for (size_t i = 0; i < c->n; i++) {
        class_probs(t, out + i * (size_t)t->width, p);
        rank(p, t->K, order);
        label_of(t, p, order, label, sizeof label);
        if (k1 <= 1) printf("%.4f\t%s\t%s\n", p[order[0]], label, c->paths[i]);
        for (int r = 0; k1 > 1 && r < k1; r++)
            printf("%d\t%.4f\t%s\t%s\n", r + 1, p[order[r]], t->classes[order[r]], c->paths[i]);
        if (csv) {
            csv_field(csv, c->paths[i]);
            fputc(',', csv);
            csv_field(csv, label);
            for (int k = 0; k < t->K; k++) fprintf(csv, ",%.6f", p[k]);
            fputc('\n', csv);
        }
    }
    free(p);
    free(order);
    return 0;
}

/* Closes the in-memory CSV and, when ok, writes it to path atomically. */
static int finish_csv(FILE *f, char **buf, size_t *n, const char *path, int ok) {
    fclose(f); /* *buf and *n are final only now */
    sn_status st = ok ? sn_file_write_atomic(path, *buf, *n) : SN_OK;
    free(*buf);
    if (st) return cli_fail(st, NULL);
    if (ok) printf("probabilities of every class written to %s\n", path);
    return 0;
}

static int run_predict(pt_model *t, const cli_opt *opts) {
    long topk;
    if (cli_int(opts, "top-k", 1, 1, 100000, &topk)) return 2;
    sn_text_encoding enc = SN_TEXT_ENC_UTF8;
    const char *es = cli_get(opts, "encoding");
    if (es && sn_text_encoding_parse(es, &enc)) {
        fprintf(stderr, "seqnn predict: %s\n", sn_error_last());
        return 2;
    }
    sn_text_corpus c;
    int rc = gather(&c, opts, enc);
    if (rc) {
        sn_text_corpus_free(&c);
        return rc;
    }
    const sn_vectorizer_opts *vo = sn_vectorizer_get_opts(t->v);
    sn_dataset ds;
    sn_status st = vo->output_mode == SN_OUTPUT_INT ? sn_text_dataset_int(&ds, t->v, &c) : sn_text_dataset_bag(&ds, t->v, &c);
    float *out = st ? NULL : malloc(c.n * (size_t)t->width * sizeof *out);
    if (!st && !out) st = SN_ERR_NOMEM;
    if (!st) st = sn_model_predict(t->m, &ds, 256, out);
    sn_dataset_free(&ds); /* zeroed by the constructors on failure too */
    if (st) rc = cli_fail(st, "predict");
    const char *op = cli_get(opts, "out");
    char *buf = NULL;
    size_t bn = 0;
    FILE *csv = !rc && op ? open_memstream(&buf, &bn) : NULL;
    if (!rc && op && !csv) rc = cli_fail(SN_ERR_NOMEM, op);
    if (!rc) rc = print_all(t, &c, out, (int)topk, csv);
    if (csv) {
        int wrc = finish_csv(csv, &buf, &bn, op, !rc);
        if (!rc) rc = wrc;
    }
    free(out);
    sn_text_corpus_free(&c);
    return rc;
}

int cli_predict_text(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
    pt_model t = {m, NULL, NULL, 0, (int)sn_model_output_numel(m), 0};
    size_t tn = 0;
    const char *task = sn_model_get_meta(m, "task", &tn);
    t.multi = task && tn == 11 && !memcmp(task, "multi_label", 11);
    sn_status st = sn_vectorizer_load_blob(&t.v, blob, blen);
    if (st) return cli_fail(st, "the model's vectorizer");
    int rc = load_classes(&t) ? cli_fail(SN_ERR_NOMEM, "classes") : 0;
    if (!rc && !(t.width == 1 ? t.K == 2 : t.width == t.K)) {
        fprintf(stderr, "seqnn predict: the model has %d outputs but %d class names\n", t.width, t.K);
        rc = 1;
    }
    if (!rc) rc = run_predict(&t, opts);
    for (int k = 0; t.classes && k < t.K; k++) free(t.classes[k]);
    free(t.classes);
    sn_vectorizer_free(t.v);
    return rc;
}
