/* Operations on a loaded corpus: release, subsets, Keras's unstratified
 * validation split, stratified splits and K-fold assignment, balanced class
 * weights (text.h). Every subset is a deep copy of all per-document fields
 * (text, length, path, label, label set, weight, span) and of the class list, so
 * the parts outlive the corpus they came from. */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "seqnn/text.h"

void sn_text_corpus_free(sn_text_corpus *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->texts) free(c->texts[i]);
        if (c->paths) free(c->paths[i]);
    }
    free(c->texts);
    free(c->paths);
    free(c->lengths);
    free(c->labels);
    free(c->label_sets);
    free(c->weights);
    free(c->spans);
    for (int k = 0; k < c->n_classes; k++)
        if (c->class_names) free(c->class_names[k]);
    free(c->class_names);
    memset(c, 0, sizeof *c);
}

static char *dup_n(const char *s, size_t n) {
    char *d = sn_malloc(n + 1, 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* The per-document arrays of a corpus of n documents shaped like `in`. */
static sn_status alloc_docs(const sn_text_corpus *in, size_t n, sn_text_corpus *c) {
    c->texts = sn_calloc(n, sizeof *c->texts);
    c->paths = sn_calloc(n, sizeof *c->paths);
    c->lengths = sn_calloc(n, sizeof *c->lengths);
    c->labels = sn_calloc(n, sizeof *c->labels);
    int ok = c->texts && c->paths && c->lengths && c->labels;
    if (in->label_sets) ok = ok && (c->label_sets = sn_calloc(n, (size_t)SN_MAX(in->n_classes, 1)));
    if (in->weights) ok = ok && (c->weights = sn_calloc(n, sizeof *c->weights));
    if (in->spans) ok = ok && (c->spans = sn_calloc(n, 2 * sizeof *c->spans));
    return ok ? SN_OK : SN_ERR_NOMEM;
}

sn_status sn_text_subset(const sn_text_corpus *in, const size_t *idx, size_t n, sn_text_corpus *out) {
    if (!in || !out || (n && !idx)) return sn_error(SN_ERR_ARG, "sn_text_subset: NULL argument");
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= in->n) return sn_error(SN_ERR_ARG, "sn_text_subset: index %zu out of range (n = %zu)", idx[i], in->n);
    sn_text_corpus c = {0};
    c.n_classes = in->n_classes;
    c.class_names = sn_calloc((size_t)SN_MAX(in->n_classes, 1), sizeof *c.class_names);
    if (!c.class_names) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    for (int k = 0; k < in->n_classes; k++)
        if (!(c.class_names[k] = dup_n(in->class_names[k], strlen(in->class_names[k])))) st = SN_ERR_NOMEM;
    if (st == SN_OK && n) {
        st = alloc_docs(in, n, &c);
        if (c.texts) c.n = n;
    }
    size_t K = (size_t)in->n_classes;
    for (size_t i = 0; i < n && st == SN_OK; i++) {
        size_t j = idx[i];
        c.texts[i] = dup_n(in->texts[j], in->lengths[j]);
        c.paths[i] = in->paths ? dup_n(in->paths[j], strlen(in->paths[j])) : dup_n("", 0);
        c.lengths[i] = in->lengths[j];
        c.labels[i] = in->labels[j];
        if (c.label_sets) memcpy(c.label_sets + i * K, in->label_sets + j * K, K);
        if (c.weights) c.weights[i] = in->weights[j];
        if (c.spans) memcpy(c.spans + 2 * i, in->spans + 2 * j, 2 * sizeof *c.spans);
        if (!c.texts[i] || !c.paths[i]) st = SN_ERR_NOMEM;
    }
    if (st != SN_OK) {
        sn_text_corpus_free(&c);
        return st;
    }
    *out = c;
    return SN_OK;
}

sn_status sn_text_split(const sn_text_corpus *in, double validation_split, uint64_t seed, sn_text_corpus *train,
                        sn_text_corpus *val) {
    if (!in || !train) return sn_error(SN_ERR_ARG, "sn_text_split: NULL corpus");
    if (!(validation_split >= 0.0 && validation_split < 1.0))
        return sn_error(SN_ERR_ARG, "sn_text_split: validation_split must be in [0, 1), got %g", validation_split);
    if (validation_split > 0 && !val) return sn_error(SN_ERR_ARG, "sn_text_split: val is NULL");
    memset(train, 0, sizeof *train);
    if (val) memset(val, 0, sizeof *val);
    size_t n = in->n;
    size_t n_val = (size_t)(validation_split * (double)n);
    size_t *order = sn_malloc(SN_MAX(n, 1), sizeof *order);
    if (!order) return SN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) order[i] = i;
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_rng_shuffle(&r, order, n);
    sn_status st = sn_text_subset(in, order, n - n_val, train);
    if (st == SN_OK && val) st = sn_text_subset(in, order + (n - n_val), n_val, val);
    free(order);
    if (st != SN_OK) {
        sn_text_corpus_free(train);
        if (val) sn_text_corpus_free(val);
    }
    return st;
}

/* The documents grouped by class: members (n) holds class 0's indices,
 * then class 1's, ..., each group shuffled by r in turn; start (K+1) the
 * group boundaries. Labels outside [0, K) are an error. */
static sn_status class_groups(const sn_text_corpus *in, sn_rng *r, size_t **members, size_t **start) {
    size_t K = (size_t)in->n_classes, n = in->n;
    for (size_t i = 0; i < n; i++)
        if (in->labels[i] < 0 || (size_t)in->labels[i] >= K)
            return sn_error(SN_ERR_ARG, "document %zu has label %d outside [0, %zu)", i, (int)in->labels[i], K);
    size_t *s = sn_calloc(K + 2, sizeof *s), *m = sn_malloc(SN_MAX(n, 1), sizeof *m);
    if (!s || !m) {
        free(s);
        free(m);
        return SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) s[in->labels[i] + 2]++;
    for (size_t k = 0; k < K; k++) s[k + 2] += s[k + 1];
    /* s[k + 1] is now the next free slot of class k */
    for (size_t i = 0; i < n; i++) m[s[in->labels[i] + 1]++] = i;
    for (size_t k = 0; k < K; k++) sn_rng_shuffle(r, m + s[k], s[k + 1] - s[k]);
    *members = m;
    *start = s;
    return SN_OK;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* A class's claim on one more test document: its remainder frac * n_c -
 * floor(frac * n_c); larger first, then the smaller class index. */
typedef struct claim { double rem; size_t k; } claim;
static int cmp_claim(const void *a, const void *b) {
    const claim *x = a, *y = b;
    if (x->rem != y->rem) return x->rem > y->rem ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

/* How many documents of each class go to the test part: take (K) sums to
 * round(frac * n) unless the n_c - 1 caps forbid it. Returns 0 on OOM. */
static int stratified_counts(const size_t *start, size_t K, size_t n, double frac, size_t *take) {
    claim *c = sn_malloc(SN_MAX(K, 1), sizeof *c);
    if (!c) return 0;
    size_t total = (size_t)floor(frac * (double)n + 0.5), given = 0;
    for (size_t k = 0; k < K; k++) {
        size_t nc = start[k + 1] - start[k];
        double q = frac * (double)nc;
        take[k] = SN_MIN((size_t)floor(q), nc ? nc - 1 : 0);
        c[k].rem = q - floor(q);
        c[k].k = k;
        given += take[k];
    }
    qsort(c, K, sizeof *c, cmp_claim);
    for (int progress = 1; given < total && progress;) {
        progress = 0;
        for (size_t j = 0; j < K && given < total; j++) {
            size_t k = c[j].k, nc = start[k + 1] - start[k];
            if (nc == 0 || take[k] + 1 >= nc) continue;
            take[k]++;
            given++;
            progress = 1;
        }
    }
    free(c);
    return 1;
}

sn_status sn_text_split_stratified(const sn_text_corpus *in, double test_fraction, uint64_t seed,
                                   sn_text_corpus *train, sn_text_corpus *test) {
    if (!in || !train || !test) return sn_error(SN_ERR_ARG, "sn_text_split_stratified: NULL argument");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!(test_fraction > 0.0 && test_fraction < 1.0))
        return sn_error(SN_ERR_ARG, "test fraction must be in (0, 1), got %g", test_fraction);
    sn_rng r;
    sn_rng_seed(&r, seed);
    size_t *m, *s, K = (size_t)in->n_classes, n = in->n;
    sn_status st = class_groups(in, &r, &m, &s);
    if (st) return st;
    size_t *take = sn_calloc(K + 1, sizeof *take), *idx = sn_malloc(SN_MAX(n, 1), sizeof *idx);
    if (!take || !idx) st = SN_ERR_NOMEM;
    size_t nt = 0;
    if (st == SN_OK && !stratified_counts(s, K, n, test_fraction, take)) st = SN_ERR_NOMEM;
    if (st == SN_OK) {
        /* the first take[k] of each shuffled class group go to test */
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < take[k]; j++) idx[nt++] = m[s[k] + j];
        qsort(idx, nt, sizeof *idx, cmp_size);
        size_t nr = 0, t = 0;
        size_t *rest = m; /* reused: the members are no longer needed */
        for (size_t i = 0; i < n; i++) {
            if (t < nt && idx[t] == i) t++;
            else rest[nr++] = i;
        }
        st = sn_text_subset(in, idx, nt, test);
        if (st == SN_OK) st = sn_text_subset(in, rest, nr, train);
    }
    free(take);
    free(idx);
    free(m);
    free(s);
    if (st) {
        sn_text_corpus_free(train);
        sn_text_corpus_free(test);
    }
    return st;
}

sn_status sn_text_folds(const sn_text_corpus *in, int k, uint64_t seed, int *fold) {
    if (!in || !fold) return sn_error(SN_ERR_ARG, "sn_text_folds: NULL argument");
    if (k < 2 || (size_t)k > in->n)
        return sn_error(SN_ERR_ARG, "folds must be in [2, %zu] (the number of documents), got %d", in->n, k);
    sn_rng r;
    sn_rng_seed(&r, seed);
    size_t *m, *s;
    sn_status st = class_groups(in, &r, &m, &s);
    if (st) return st;
    for (size_t p = 0; p < in->n; p++) fold[m[p]] = (int)(p % (size_t)k);
    free(m);
    free(s);
    return SN_OK;
}

sn_status sn_text_class_weights(sn_text_corpus *c) {
    if (!c || c->n == 0) return sn_error(SN_ERR_ARG, "class weights: empty corpus");
    if (c->label_sets) return sn_error(SN_ERR_ARG, "class weights: balanced weights need single-label data");
    size_t K = (size_t)c->n_classes, present = 0;
    size_t *cnt = sn_calloc(K + 1, sizeof *cnt);
    float *w = sn_malloc(c->n, sizeof *w);
    if (!cnt || !w) {
        free(cnt);
        free(w);
        return SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->labels[i] < 0 || (size_t)c->labels[i] >= K) {
            free(cnt);
            free(w);
            return sn_error(SN_ERR_ARG, "class weights: document %zu has label %d outside [0, %zu)", i,
                            (int)c->labels[i], K);
        }
        cnt[c->labels[i]]++;
    }
    for (size_t k = 0; k < K; k++) present += cnt[k] > 0;
    for (size_t i = 0; i < c->n; i++) w[i] = (float)((double)c->n / ((double)present * (double)cnt[c->labels[i]]));
    free(c->weights);
    c->weights = w;
    free(cnt);
    return SN_OK;
}
