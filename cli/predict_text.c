/* seqnn predict, text models: the vectorizer is in the model file; classifies
 * --text, a file, a folder of .txt files, or stdin. */
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

int cli_predict_text(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
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

