/* Word-vector tables (sn_wordvec): the word index, building from arrays
 * (and the builder the loaders fill), Embedding-weight export, cosine
 * neighbours and 3CosAdd analogies. File formats are in wordvec_io.c, the
 * Word2Vec trainer in word2vec_train.c. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/wordvec.h"
#include "core/internal.h"
#include "core/strtab.h"
#include "embed/wordvec_internal.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Table and hash index                                                */
/* ------------------------------------------------------------------ */

/* The index: the library's string table (core/strtab.h); word ids are rows. */
static long find_len(const sn_wordvec *wv, const char *word, size_t len) {
    if (!wv || !wv->index || !word) return -1;
    return (long)sn_strtab_find((const sn_strtab *)wv->index, word, len);
}

long sn_wordvec_find(const sn_wordvec *wv, const char *word) {
    return word ? find_len(wv, word, strlen(word)) : -1;
}

const float *sn_wordvec_get(const sn_wordvec *wv, const char *word) {
    long r = sn_wordvec_find(wv, word);
    return r < 0 ? NULL : wv->vecs + (size_t)r * (size_t)wv->dim;
}

void sn_wordvec_free(sn_wordvec *wv) {
    if (!wv) return;
    for (size_t i = 0; i < wv->n; i++) free(wv->words[i]);
    free(wv->words);
    free(wv->vecs);
    if (wv->index) sn_strtab_free(wv->index);
    free(wv->index);
    free(wv);
}

sn_status sn_wv_builder_init(sn_wv_builder *b, int dim, size_t cap0) {
    b->wv = sn_calloc(1, sizeof *b->wv);
    if (!b->wv) return SN_ERR_NOMEM;
    b->wv->dim = dim;
    b->cap = cap0 ? cap0 : 16;
    b->wv->words = sn_malloc(b->cap, sizeof(char *));
    b->wv->vecs = sn_malloc(b->cap, (size_t)dim * sizeof(float));
    if (!b->wv->words || !b->wv->vecs) return SN_ERR_NOMEM;
    sn_strtab *t = sn_malloc(1, sizeof *t);
    if (!t) return SN_ERR_NOMEM;
    sn_status st = sn_strtab_init(t, b->cap);
    if (st != SN_OK) {
        free(t);
        return st;
    }
    b->wv->index = t;
    return SN_OK;
}

/* Appends word (len bytes) with vector vec (D). Returns 1 when added, 0 for a
 * duplicate (table unchanged), SN_ERR_NOMEM on failure. */
int sn_wv_builder_push(sn_wv_builder *b, const char *word, size_t len, const float *vec) {
    sn_wordvec *wv = b->wv;
    sn_strtab *t = wv->index;
    if (sn_strtab_find(t, word, len) >= 0) return 0;
    if (wv->n == b->cap) {
        size_t nc = b->cap * 2;
        char **w = sn_realloc(wv->words, nc, sizeof *w);
        if (!w) return SN_ERR_NOMEM;
        wv->words = w;
        float *v = sn_realloc(wv->vecs, nc, (size_t)wv->dim * sizeof(float));
        if (!v) return SN_ERR_NOMEM;
        wv->vecs = v;
        b->cap = nc;
    }
    char *copy = sn_malloc(len + 1, 1);
    if (!copy) return SN_ERR_NOMEM;
    memcpy(copy, word, len);
    copy[len] = '\0';
    wv->words[wv->n] = copy;
    memcpy(wv->vecs + wv->n * (size_t)wv->dim, vec, (size_t)wv->dim * sizeof(float));
    int fresh;
    if (sn_strtab_put(t, word, len, &fresh) < 0) return SN_ERR_NOMEM;
    SN_ASSERT(fresh && t->n == wv->n + 1);
    wv->n++;
    return 1;
}

/* Shrinks the arrays to n rows and hands the table over. */
sn_wordvec *sn_wv_builder_finish(sn_wv_builder *b) {
    sn_wordvec *wv = b->wv;
    b->wv = NULL;
    if (wv->n && wv->n < b->cap) {
        char **w = realloc(wv->words, wv->n * sizeof *w);
        if (w) wv->words = w;
        float *v = realloc(wv->vecs, wv->n * (size_t)wv->dim * sizeof(float));
        if (v) wv->vecs = v;
    }
    return wv;
}

int sn_wv_has_space(const char *w) {
    for (; *w; w++)
        if (*w == ' ' || *w == '\t' || *w == '\n' || *w == '\r' || *w == '\v' || *w == '\f') return 1;
    return 0;
}

sn_status sn_wordvec_from_arrays(sn_wordvec **out, const char *const *words, const float *vecs, size_t n, int D) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: out is NULL");
    *out = NULL;
    if (!words || !vecs) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: NULL words or vecs");
    if (n == 0 || D <= 0) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: need n > 0 and D > 0, got n=%zu D=%d", n, D);
    for (size_t i = 0; i < n; i++) {
        if (!words[i] || !words[i][0]) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: word %zu is NULL or empty", i);
        if (sn_wv_has_space(words[i]))
            return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: word %zu ('%.60s') contains whitespace", i, words[i]);
    }
    for (size_t i = 0; i < n * (size_t)D; i++)
        if (!isfinite(vecs[i]))
            return sn_error(SN_ERR_NUMERIC, "sn_wordvec_from_arrays: vector of '%.60s' has a non-finite value at %zu",
                            words[i / (size_t)D], i % (size_t)D);
    sn_wv_builder b;
    sn_status st = sn_wv_builder_init(&b, D, n);
    for (size_t i = 0; st == SN_OK && i < n; i++) {
        int r = sn_wv_builder_push(&b, words[i], strlen(words[i]), vecs + i * (size_t)D);
        if (r < 0) st = (sn_status)r;
        else if (r == 0) st = sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: duplicate word '%.60s' at %zu", words[i], i);
    }
    if (st != SN_OK) {
        sn_wordvec_free(b.wv);
        return st;
    }
    *out = sn_wv_builder_finish(&b);
    return SN_OK;
}

/* ------------------------------------------------------------------ */
/* Embedding weight                                                    */
/* ------------------------------------------------------------------ */

sn_status sn_wordvec_to_matrix(const sn_wordvec *wv, const char *const *vocab, size_t V, int D, float *out,
                               sn_wordvec_missing missing, sn_rng *rng, size_t *found) {
    if (found) *found = 0;
    if (!wv || !vocab || !out) return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: NULL table, vocabulary or output");
    if (V == 0) return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: empty vocabulary (V = 0)");
    if (D != wv->dim)
        return sn_error(SN_ERR_SHAPE, "sn_wordvec_to_matrix: Embedding dimension D=%d differs from the vectors' dimension %d",
                        D, wv->dim);
    if (missing != SN_WORDVEC_MISSING_ZERO && missing != SN_WORDVEC_MISSING_UNIFORM)
        return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: unknown missing-row policy %d", (int)missing);
    if (missing == SN_WORDVEC_MISSING_UNIFORM && !rng)
        return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: uniform init of missing rows needs an rng");
    char *low = NULL;
    size_t low_cap = 0, nfound = 0;
    for (size_t i = 0; i < V; i++) {
        float *row = out + i * (size_t)D;
        const char *w = vocab[i];
        if (!w || !w[0] || strcmp(w, "[UNK]") == 0) {
            memset(row, 0, (size_t)D * sizeof *row);
            continue;
        }
        size_t len = strlen(w);
        long r = find_len(wv, w, len);
        if (r < 0) {
            int has_upper = 0;
            for (size_t j = 0; j < len; j++) has_upper |= (w[j] >= 'A' && w[j] <= 'Z');
            if (has_upper) {
                if (len + 1 > low_cap) {
                    char *nl = sn_realloc(low, len + 1, 1);
                    if (!nl) {
                        free(low);
                        return SN_ERR_NOMEM;
                    }
                    low = nl;
                    low_cap = len + 1;
                }
                for (size_t j = 0; j < len; j++)
                    low[j] = (w[j] >= 'A' && w[j] <= 'Z') ? (char)(w[j] - 'A' + 'a') : w[j];
                low[len] = '\0';
                r = find_len(wv, low, len);
            }
        }
        if (r >= 0) {
            memcpy(row, wv->vecs + (size_t)r * (size_t)D, (size_t)D * sizeof *row);
            nfound++;
        } else if (missing == SN_WORDVEC_MISSING_UNIFORM) {
            for (int j = 0; j < D; j++) row[j] = -0.05f + 0.1f * sn_rng_uniform(rng);
        } else {
            memset(row, 0, (size_t)D * sizeof *row);
        }
    }
    free(low);
    if (found) *found = nfound;
    return SN_OK;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

/* Scores every row by cos(row, q) (q need not be unit), skipping rows in
 * excl (n_excl), keeping the best k in out sorted by score desc, row asc. */
static void top_k(const sn_wordvec *wv, const float *q, const size_t *excl, int n_excl, int k, sn_wordvec_hit *out,
                  int *n_out) {
    size_t D = (size_t)wv->dim;
    double qn = 0;
    for (size_t j = 0; j < D; j++) qn += (double)q[j] * q[j];
    qn = sqrt(qn);
    int n = 0;
    for (size_t r = 0; r < wv->n; r++) {
        int skip = 0;
        for (int e = 0; e < n_excl; e++) skip |= excl[e] == r;
        if (skip) continue;
        const float *v = wv->vecs + r * D;
        double dot = 0, vn = 0;
        for (size_t j = 0; j < D; j++) {
            dot += (double)v[j] * q[j];
            vn += (double)v[j] * v[j];
        }
        double den = sqrt(vn) * qn;
        float s = den > 0 ? (float)(dot / den) : 0.0f;
        if (n == k && !(s > out[n - 1].score)) continue;
        int pos = n < k ? n++ : k - 1;
        while (pos > 0 && s > out[pos - 1].score) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos].word = wv->words[r];
        out[pos].row = r;
        out[pos].score = s;
    }
    *n_out = n;
}

static sn_status lookup(const sn_wordvec *wv, const char *w, const char *what, size_t *row) {
    if (!w) return sn_error(SN_ERR_ARG, "%s: word is NULL", what);
    long r = sn_wordvec_find(wv, w);
    if (r < 0) return sn_error(SN_ERR_ARG, "%s: unknown word '%.80s'", what, w);
    *row = (size_t)r;
    return SN_OK;
}

static sn_status sn_wordvec_similar_work(const sn_wordvec *wv, const char *word, int k, sn_wordvec_hit *out, int *n_out) {
    if (n_out) *n_out = 0;
    if (!wv || !out || !n_out) return sn_error(SN_ERR_ARG, "sn_wordvec_similar: NULL argument");
    if (k <= 0) return sn_error(SN_ERR_ARG, "sn_wordvec_similar: k must be > 0, got %d", k);
    size_t r = 0;
    sn_status st = lookup(wv, word, "sn_wordvec_similar", &r);
    if (st != SN_OK) return st;
    top_k(wv, wv->vecs + r * (size_t)wv->dim, &r, 1, k, out, n_out);
    return SN_OK;
}

sn_status sn_wordvec_similar(const sn_wordvec *wv, const char *word, int k, sn_wordvec_hit *out, int *n_out) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_wordvec_similar_work(wv, word, k, out, n_out);
    sn_fp_leave(fp);
    return st;
}

static sn_status sn_wordvec_analogy_work(const sn_wordvec *wv, const char *a, const char *b, const char *c, int k,
                             sn_wordvec_hit *out, int *n_out) {
    if (n_out) *n_out = 0;
    if (!wv || !out || !n_out) return sn_error(SN_ERR_ARG, "sn_wordvec_analogy: NULL argument");
    if (k <= 0) return sn_error(SN_ERR_ARG, "sn_wordvec_analogy: k must be > 0, got %d", k);
    size_t rows[3] = {0, 0, 0};
    const char *ws[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        sn_status st = lookup(wv, ws[i], "sn_wordvec_analogy", &rows[i]);
        if (st != SN_OK) return st;
    }
    size_t D = (size_t)wv->dim;
    float *q = sn_calloc(D, sizeof *q);
    if (!q) return SN_ERR_NOMEM;
    static const float sign[3] = {-1.0f, 1.0f, 1.0f}; /* b - a + c */
    for (int i = 0; i < 3; i++) {
        const float *v = wv->vecs + rows[i] * D;
        double nn = 0;
        for (size_t j = 0; j < D; j++) nn += (double)v[j] * v[j];
        if (nn <= 0) continue; /* a zero vector contributes nothing */
        float s = sign[i] / (float)sqrt(nn);
        for (size_t j = 0; j < D; j++) q[j] += s * v[j];
    }
    top_k(wv, q, rows, 3, k, out, n_out);
    free(q);
    return SN_OK;
}

sn_status sn_wordvec_analogy(const sn_wordvec *wv, const char *a, const char *b, const char *c, int k,
                             sn_wordvec_hit *out, int *n_out) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_wordvec_analogy_work(wv, a, b, c, k, out, n_out);
    sn_fp_leave(fp);
    return st;
}
