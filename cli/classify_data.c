/* seqnn classify: the data (classify.h). Folders or archives laid out like
 * aclImdb (train/ and test/ with one folder per class) or as class folders
 * only; CSV / TSV / JSONL files with an optional --test-data file. Then the
 * fixed test set or a stratified --test-split, folds, and the unstratified
 * Keras validation_split of each run's training part. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classify.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void cl_corpus_free(cl_corpus *c) {
    sn_text_corpus_free(&c->all);
    sn_text_corpus_free(&c->test);
    sn_text_corpus_free(&c->unsup);
    memset(c, 0, sizeof *c);
}

void cl_data_free(cl_data *d) {
    sn_text_corpus_free(&d->train);
    sn_text_corpus_free(&d->val);
    sn_text_corpus_free(&d->test);
    sn_wordvec_free(d->wv);
    memset(d, 0, sizeof *d);
}

/* Index of class `name` in c, or -1. */
static int class_index(const sn_text_corpus *c, const char *name) {
    for (int k = 0; k < c->n_classes; k++)
        if (!strcmp(c->class_names[k], name)) return k;
    return -1;
}

/* Moves the documents of class k out of c (into *out when non-NULL, as a
 * one-class corpus) and removes the class; later labels move down. */
static sn_status drop_class(sn_text_corpus *c, int k, sn_text_corpus *out) {
    size_t *keep = malloc((c->n + 1) * sizeof *keep), *gone = malloc((c->n + 1) * sizeof *gone), nk = 0, ng = 0;
    if (!keep || !gone) {
        free(keep);
        free(gone);
        return SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->labels[i] == k) gone[ng++] = i;
        else keep[nk++] = i;
    }
    sn_text_corpus kept;
    sn_status st = sn_text_subset(c, keep, nk, &kept);
    if (st == SN_OK && out) st = sn_text_subset(c, gone, ng, out);
    free(keep);
    free(gone);
    if (st) return st;
    for (size_t i = 0; i < kept.n; i++)
        if (kept.labels[i] > k) kept.labels[i]--;
    free(kept.class_names[k]);
    memmove(kept.class_names + k, kept.class_names + k + 1, (size_t)(kept.n_classes - k - 1) * sizeof *kept.class_names);
    kept.n_classes--;
    sn_text_corpus_free(c);
    *c = kept;
    return SN_OK;
}

/* The test corpus's labels renumbered to the training classes (by name). */
static int align_classes(const sn_text_corpus *train, sn_text_corpus *test, const char *path) {
    int map[4096];
    if (test->n_classes > 4096) return cli_fail(sn_error(SN_ERR_ARG, "more than 4096 classes"), path);
    for (int k = 0; k < test->n_classes; k++) {
        map[k] = class_index(train, test->class_names[k]);
        if (map[k] < 0) {
            fprintf(stderr, "seqnn classify: %s: the test class '%s' has no training folder\n", path,
                    test->class_names[k]);
            return 1;
        }
    }
    for (size_t i = 0; i < test->n; i++) test->labels[i] = map[test->labels[i]];
    for (int k = 0; k < test->n_classes; k++) free(test->class_names[k]);
    free(test->class_names);
    test->n_classes = train->n_classes;
    test->class_names = calloc((size_t)train->n_classes, sizeof *test->class_names);
    for (int k = 0; test->class_names && k < train->n_classes; k++) test->class_names[k] = strdup(train->class_names[k]);
    return test->class_names ? 0 : cli_fail(SN_ERR_NOMEM, path);
}

/* aclImdb's layout: classes neg and pos, files <id>_<stars>.txt. */
static int imdb_names(const sn_text_corpus *c) {
    if (c->n_classes != 2 || strcmp(c->class_names[0], "neg") || strcmp(c->class_names[1], "pos")) return 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *p = c->paths[i];
        if (strncmp(p, "neg/", 4) && strncmp(p, "pos/", 4)) return 0;
        p += 4;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
        if (*p++ != '_' || !isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
        if (strcmp(p, ".txt")) return 0;
    }
    return 1;
}

/* Class folders under `prefix`train and `prefix`test (or, with split 0,
 * directly under the root). SN_ERR_ARG when the folders are not there. */
static sn_status load_folders(cl_corpus *c, const char *path, const char *prefix, int split) {
    char trs[256], tes[256];
    snprintf(trs, sizeof trs, "%strain", prefix);
    snprintf(tes, sizeof tes, "%stest", prefix);
    sn_text_load_opts lo[2];
    sn_text_load_opts_default(&lo[0]);
    sn_text_load_opts_default(&lo[1]);
    lo[0].subdir = split ? trs : "";
    lo[1].subdir = tes;
    lo[0].index_only = lo[1].index_only = c->indexed;
    sn_text_corpus got[2];
    sn_status st = sn_text_load_multi(got, path, lo, split ? 2 : 1);
    if (st) return st;
    c->all = got[0];
    c->folders = 1;
    snprintf(c->sub[0], sizeof c->sub[0], "%s", lo[0].subdir);
    snprintf(c->sub[1], sizeof c->sub[1], "%s", tes);
    if (split) {
        c->test = got[1];
        c->has_test = c->own_test = 1;
    }
    return SN_OK;
}

/* The aclImdb flags from the names and counts. Returns 0. */
static int imdb_flags(cl_corpus *c) {
    c->imdb_layout = c->has_test && imdb_names(&c->all) && imdb_names(&c->test);
    c->seed_data = c->imdb_layout && c->all.n == 25000 && c->test.n == 25000;
    return 0;
}

static int load_dir(cl_corpus *c, cl_opts *o) {
    c->indexed = o->shard && is_dir(o->data); /* an archive is read whole */
    const char *prefix = NULL;
    int split = 1;
    char b[4096];
    if (is_dir(o->data)) {
        snprintf(b, sizeof b, "%s/train", o->data);
        if (is_dir(b)) prefix = "";
        snprintf(b, sizeof b, "%s/aclImdb/train", o->data);
        if (!prefix && is_dir(b)) prefix = "aclImdb/";
        if (!prefix) split = 0;
    }
    sn_status st;
    if (prefix || !split) st = load_folders(c, o->data, prefix ? prefix : "", split);
    else if ((st = load_folders(c, o->data, "aclImdb/", 1)) == SN_ERR_ARG && (st = load_folders(c, o->data, "", 1)) == SN_ERR_ARG)
        st = load_folders(c, o->data, "", split = 0);
    if (st) {
        cli_fail(st, NULL); /* the message names the path */
        /* a table file whose name hides its format was taken for an archive */
        if (o->fmt == SN_TEXT_FORMAT_AUTO && is_file(o->data) && !strstr(o->data, ".tar") && !strstr(o->data, ".tgz") &&
            !strstr(o->data, ".zip"))
            fprintf(stderr, "seqnn classify: %s: not a folder or an archive, and its name does not end in .csv / .tsv / "
                            ".jsonl: give --format csv|tsv|jsonl\n", o->data);
        return 1;
    }
    /* aclImdb's unlabelled reviews sit beside the classes of train/ */
    int u = c->has_test ? class_index(&c->all, "unsup") : -1;
    if (u >= 0 && class_index(&c->test, "unsup") < 0) {
        if ((st = drop_class(&c->all, u, &c->unsup))) return cli_fail(st, o->data);
        c->has_unsup = 1;
    }
    if (c->has_test && align_classes(&c->all, &c->test, o->data)) return 1;
    if (c->indexed) return imdb_flags(c); /* texts are decoded when read */
    if ((st = sn_text_corpus_decode(&c->all, o->enc, o->data)) ||
        (c->has_test && (st = sn_text_corpus_decode(&c->test, o->enc, o->data))) ||
        (c->has_unsup && (st = sn_text_corpus_decode(&c->unsup, o->enc, o->data))))
        return cli_fail(st, NULL);
    return imdb_flags(c);
}

void cl_table_opts(const cl_opts *o, sn_text_table_opts *t) {
    sn_text_table_opts_default(t);
    t->format = o->fmt;
    t->text_columns = o->text_column;
    t->label_column = o->label_column;
    t->no_header = o->no_header;
    t->encoding = o->enc;
    t->label_delimiter = o->multi_label ? o->label_delim : NULL;
    t->index_only = o->shard;
}

static int load_table(cl_corpus *c, cl_opts *o) {
    sn_text_table_opts t;
    cl_table_opts(o, &t);
    sn_status st = sn_text_load_table(&c->all, o->data, &t);
    if (st == SN_ERR_UNSUPPORTED && o->shard) { /* compressed, or not UTF-8: every rank reads it whole */
        printf("      MPI: every rank reads the whole file: %s\n", sn_error_last());
        o->shard = t.index_only = 0;
        st = sn_text_load_table(&c->all, o->data, &t);
    }
    if (st) return cli_fail(st, NULL);
    c->indexed = o->shard;
    if (!o->test_data) return 0;
    t.format = SN_TEXT_FORMAT_AUTO;
    t.class_names = (const char *const *)c->all.class_names;
    t.n_class_names = c->all.n_classes;
    if ((st = sn_text_load_table(&c->test, o->test_data, &t))) return cli_fail(st, NULL);
    c->has_test = c->own_test = 1;
    return 0;
}

/* --limit: a seeded subset of `limit` documents (the seed's quick runs). */
static int apply_limit(sn_text_corpus *c, size_t limit, uint64_t seed) {
    if (!limit || limit >= c->n) return 0;
    sn_text_corpus keep, rest;
    double frac = 1.0 - (double)limit / (double)c->n;
    sn_status st = sn_text_split(c, frac, seed, &keep, &rest);
    if (st) return cli_fail(st, "--limit");
    sn_text_corpus_free(&rest);
    sn_text_corpus_free(c);
    *c = keep;
    return 0;
}

/* Class names must be one line each (the model file stores them so). */
static int check_class_names(const sn_text_corpus *c, const char *path) {
    for (int k = 0; k < c->n_classes; k++)
        if (strchr(c->class_names[k], '\n')) {
            fprintf(stderr, "seqnn classify: %s: the label \"%s\" holds a newline\n", path, c->class_names[k]);
            return 1;
        }
    if (c->n_classes < 2) {
        fprintf(stderr, "seqnn classify: %s: %d class%s found; classification needs at least 2\n", path, c->n_classes,
                c->n_classes == 1 ? "" : "es");
        return 1;
    }
    return 0;
}

/* The header line of --class-weight balanced: each class's weight (every
 * document of a class has the same one), the first 12 classes; at most 12
 * passes over the labels. */
static void print_class_weights(const sn_text_corpus *c) {
    printf("      class weights (balanced, n / (K n_c)):");
    for (int k = 0; k < c->n_classes && k < 12; k++) {
        size_t i = 0;
        while (i < c->n && c->labels[i] != k) i++;
        if (i < c->n) printf(" %s %.3f", c->class_names[k], c->weights[i]);
        else printf(" %s -", c->class_names[k]);
    }
    printf("%s\n", c->n_classes > 12 ? " ..." : "");
}

int cl_load(cl_corpus *c, cl_opts *o) {
    memset(c, 0, sizeof *c);
    sn_text_format f = o->fmt == SN_TEXT_FORMAT_AUTO ? sn_text_format_guess(o->data) : o->fmt;
    if (f == SN_TEXT_FORMAT_DIR && (o->test_data || o->multi_label)) {
        fprintf(stderr, "seqnn classify: %s is for CSV / TSV / JSONL data (%s)\n", o->test_data ? "--test-data" : "--multi-label",
                o->test_data ? "folders carry their test/" : "a folder gives each text one class");
        return 2;
    }
    double t0 = sn_time_now();
    int rc = f == SN_TEXT_FORMAT_DIR ? load_dir(c, o) : load_table(c, o);
    if (rc) return rc;
    if (o->shard && !c->indexed)
        printf("      MPI: every rank reads the whole corpus (an archive cannot be read in parts)\n");
    o->shard = c->indexed;
    if (c->indexed)
        printf("      MPI: the corpus indexed on every rank; each rank reads the texts of its share of the training "
               "documents, and the validation and test texts\n");
    if (check_class_names(&c->all, o->data)) return 1;
    c->seconds = sn_time_now() - t0;
    printf("data: %s (%s): %zu documents%s, %d classes", o->data,
           f == SN_TEXT_FORMAT_DIR ? "folders" : f == SN_TEXT_FORMAT_CSV ? "csv" : f == SN_TEXT_FORMAT_TSV ? "tsv" : "jsonl",
           c->all.n, c->has_unsup ? " (+ unsup)" : "", c->all.n_classes);
    for (int k = 0; k < c->all.n_classes && k < 12; k++) printf("%s%s", k ? "/" : " ", c->all.class_names[k]);
    printf("%s%s, read in %.1f s\n", c->all.n_classes > 12 ? "/..." : "", c->all.label_sets ? " (multi-label)" : "",
           c->seconds);
    if (c->has_test) printf("      test: %zu documents%s%s\n", c->test.n, o->test_data ? " from " : "", o->test_data ? o->test_data : "");
    if (o->limit && (apply_limit(&c->all, o->limit, o->t.seed ^ 77) || (c->has_test && apply_limit(&c->test, o->limit, o->t.seed ^ 78))))
        return 1;
    if (o->limit) printf("      --limit: using %zu training and %zu test documents\n", c->all.n, c->test.n);
    if (o->limit) c->seed_data = 0;
    if (!c->has_test && o->folds < 2) {
        double ts = o->test_split > 0 ? o->test_split : 0.2;
        sn_text_corpus tr;
        sn_status st = sn_text_split_stratified(&c->all, ts, o->t.seed, &tr, &c->test);
        if (st) return cli_fail(st, "test split");
        sn_text_corpus_free(&c->all);
        c->all = tr;
        c->has_test = 1;
        printf("      test split: %zu training / %zu test documents (stratified, %s %.2f, seed %llu)\n", c->all.n,
               c->test.n, o->test_split > 0 ? "--test-split" : "default --test-split", ts, (unsigned long long)o->t.seed);
    }
    return 0;
}

int cl_make_run(const cl_corpus *c, const cl_opts *o, const int *folds, int fold, uint64_t seed, cl_data *d) {
    memset(d, 0, sizeof *d);
    d->path = o->data;
    d->imdb_layout = c->imdb_layout;
    d->seed_data = c->seed_data && fold < 0;
    d->unsup = c->has_unsup ? &c->unsup : NULL;
    sn_text_corpus rest = {0};
    const sn_text_corpus *tv = &c->all;
    sn_status st = SN_OK;
    if (fold >= 0) {
        size_t *a = malloc((c->all.n + 1) * sizeof *a), *b = malloc((c->all.n + 1) * sizeof *b), na = 0, nb = 0;
        if (!a || !b) st = SN_ERR_NOMEM;
        for (size_t i = 0; st == SN_OK && i < c->all.n; i++) {
            if (folds[i] == fold) a[na++] = i;
            else b[nb++] = i;
        }
        if (st == SN_OK) st = sn_text_subset(&c->all, a, na, &d->test);
        if (st == SN_OK) st = sn_text_subset(&c->all, b, nb, &rest);
        free(a);
        free(b);
        tv = &rest;
    } else {
        size_t *a = malloc((c->test.n + 1) * sizeof *a);
        for (size_t i = 0; a && i < c->test.n; i++) a[i] = i;
        st = a ? sn_text_subset(&c->test, a, c->test.n, &d->test) : SN_ERR_NOMEM;
        free(a);
    }
    if (st == SN_OK) st = sn_text_split(tv, o->vsplit, seed, &d->train, &d->val);
    sn_text_corpus_free(&rest);
    if (st) return cli_fail(st, "split");
    if (d->train.n == 0 || d->val.n == 0 || d->test.n == 0) {
        fprintf(stderr,
                "seqnn classify: %s: the split leaves %zu training, %zu validation and %zu test documents: each must be "
                "at least 1\n",
                o->data, d->train.n, d->val.n, d->test.n);
        return 1;
    }
    if (o->class_weight && !strcmp(o->class_weight, "balanced") && (st = sn_text_class_weights(&d->train)))
        return cli_fail(st, "--class-weight");
    if (c->indexed && cl_read_shard(c, o, fold < 0 && c->own_test, d)) return 1;
    d->task = d->train.label_sets ? CL_MULTILABEL : d->train.n_classes == 2 ? CL_BINARY : CL_MULTICLASS;
    printf("      split: %zu training / %zu validation / %zu test documents (validation_split %.2f, seed %llu)\n",
           d->train.n, d->val.n, d->test.n, o->vsplit, (unsigned long long)seed);
    if (d->train.weights) print_class_weights(&d->train);
    return 0;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Token counts of texts [lo, hi) of c under vo (as the int vectorizer
 * counts them, before truncation) into len[0 .. hi - lo). */
static sn_status token_lengths(const sn_text_corpus *c, size_t lo, size_t hi, const sn_vectorizer_opts *vo, size_t *len) {
    sn_vectorizer_opts to = *vo;
    to.output_mode = SN_OUTPUT_INT;
    to.output_sequence_length = 0;
    to.max_tokens = 0;
    to.pad_to_max_tokens = 0;
    sn_vectorizer *v;
    sn_status st = sn_vectorizer_init(&v, &to);
    if (st) return st;
    for (size_t i = lo; i < hi; i++)
        if (sn_vectorizer_encode_ids(v, c->texts[i], NULL, 0, &len[i - lo])) len[i - lo] = 0;
    sn_vectorizer_free(v);
    return SN_OK;
}

/* The nearest-rank 95th percentile of len[0..n) (sorted here), in [1, 2^20]. */
static int percentile_95(size_t *len, size_t n) {
    qsort(len, n, sizeof *len, cmp_size);
    /* nearest rank: the smallest length at least 95% of the texts do not exceed */
    size_t r = (size_t)((95 * n + 99) / 100);
    size_t L = len[r ? r - 1 : 0];
    return (int)(L < 1 ? 1 : L > (1u << 20) ? (1u << 20) : L);
}

int cl_auto_length(const sn_text_corpus *train, const sn_vectorizer_opts *vo) {
    size_t *len = malloc((train->n + 1) * sizeof *len);
    if (!len || token_lengths(train, 0, train->n, vo, len)) {
        free(len);
        return 600;
    }
    int L = percentile_95(len, train->n);
    free(len);
    return L;
}

int cl_auto_length_group(const cl_data *d, const sn_vectorizer_opts *vo, int *L) {
    size_t m = d->hi - d->lo, *mine = malloc((m + 1) * sizeof *mine), *counts = calloc((size_t)cli_comm->size, sizeof *counts);
    sn_status st = mine && counts ? token_lengths(&d->train, d->lo, d->hi, vo, mine) : SN_ERR_NOMEM;
    uint64_t *u = (uint64_t *)mine; /* as fixed-width integers on the wire */
    for (size_t i = 0; !st && i < m; i++) u[i] = (uint64_t)mine[i];
    void *all = NULL;
    if (!(st = sn_comm_agree(cli_comm, st)))
        st = cli_comm->gather_bytes(cli_comm->ctx, mine, m * sizeof *u, &all, counts);
    size_t tot = 0;
    for (int r = 0; !st && r < cli_comm->size; r++) tot += counts[r];
    /* the shards are contiguous and in rank order: the gathered counts are in document order */
    if (!st && tot != d->train.n * sizeof *u)
        st = sn_error(SN_ERR_STATE, "the ranks hold %zu of %zu training documents", tot / sizeof *u, d->train.n);
    size_t *len = st ? NULL : malloc((d->train.n + 1) * sizeof *len);
    if (!st && !len) st = SN_ERR_NOMEM;
    for (size_t i = 0; !st && i < d->train.n; i++) {
        uint64_t x;
        memcpy(&x, (const char *)all + i * sizeof x, sizeof x);
        len[i] = (size_t)x;
    }
    if (!st) *L = percentile_95(len, d->train.n);
    free(mine);
    free(counts);
    free(all);
    free(len);
    if (st) {
        cli_dist_agreed = 1;
        return cli_is_root() ? cli_fail(st, "--sequence-length auto") : 1;
    }
    return 0;
}
