/* Stratified splits and K-fold assignment against brute force, subsets,
 * balanced class weights. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqnn/text.h"
#include "test.h"

/* A corpus of n documents "d<i>" with the given labels (K classes). */
static void make_corpus(sn_text_corpus *c, const int *labels, size_t n, int K) {
    memset(c, 0, sizeof *c);
    c->n = n;
    c->n_classes = K;
    c->texts = calloc(n, sizeof *c->texts);
    c->paths = calloc(n, sizeof *c->paths);
    c->lengths = calloc(n, sizeof *c->lengths);
    c->labels = calloc(n, sizeof *c->labels);
    c->class_names = calloc((size_t)K, sizeof *c->class_names);
    for (int k = 0; k < K; k++) {
        c->class_names[k] = malloc(8);
        snprintf(c->class_names[k], 8, "c%d", k);
    }
    for (size_t i = 0; i < n; i++) {
        c->texts[i] = malloc(16);
        snprintf(c->texts[i], 16, "d%zu", i);
        c->lengths[i] = strlen(c->texts[i]);
        c->paths[i] = strdup(c->texts[i]);
        c->labels[i] = labels[i];
    }
}

static size_t doc_id(const char *t) { return (size_t)strtoul(t + 1, NULL, 10); }

/* Brute force: the smallest possible largest deviation max_c |t_c - f n_c|
 * over every allocation t_c in [0, n_c - 1] (0 for empty classes) summing
 * to T; returns it, or -1 when none sums to T. */
static double best_max_dev(const int *nc, int K, int T, double f, int k, int *t) {
    if (k == K) {
        int s = 0;
        double worst = 0;
        for (int j = 0; j < K; j++) {
            s += t[j];
            double d = fabs(t[j] - f * nc[j]);
            if (d > worst) worst = d;
        }
        return s == T ? worst : -1;
    }
    double best = -1;
    for (t[k] = 0; t[k] <= (nc[k] ? nc[k] - 1 : 0); t[k]++) {
        double v = best_max_dev(nc, K, T, f, k + 1, t);
        if (v >= 0 && (best < 0 || v < best)) best = v;
    }
    return best;
}

TEST(corpus_stratified_split_vs_brute_force) {
    /* classes of 9, 5, 3, 1 (one example) and 2 documents, interleaved */
    int nc[5] = {9, 5, 3, 1, 2};
    int labels[20], n = 0;
    for (int r = 0; n < 20; r++)
        for (int k = 0; k < 5; k++)
            if (r < nc[k]) labels[n++] = k;
    sn_text_corpus c, tr, te;
    make_corpus(&c, labels, 20, 5);
    const double fracs[] = {0.1, 0.25, 0.3, 0.5, 0.8};
    for (int fi = 0; fi < 5; fi++) {
        double f = fracs[fi];
        CHECK_OK(sn_text_split_stratified(&c, f, 7, &tr, &te));
        /* round(f n), unless the classes' n_c - 1 caps (15 here) allow fewer */
        int T = (int)floor(f * 20 + 0.5), got[5] = {0}, seen[20] = {0};
        if (T > 15) T = 15;
        for (size_t i = 0; i < te.n; i++) {
            got[te.labels[i]]++;
            seen[doc_id(te.texts[i])]++;
            CHECK(te.labels[i] == labels[doc_id(te.texts[i])]);
        }
        for (size_t i = 0; i < tr.n; i++) seen[doc_id(tr.texts[i])]++;
        for (int i = 0; i < 20; i++) CHECK(seen[i] == 1); /* a partition */
        for (size_t i = 1; i < te.n; i++) CHECK(doc_id(te.texts[i - 1]) < doc_id(te.texts[i])); /* file order kept */
        int t[5];
        double best = best_max_dev(nc, 5, T, f, 0, t);
        double mine = 0;
        for (int k = 0; k < 5; k++) {
            CHECK(got[k] <= (nc[k] ? nc[k] - 1 : 0)); /* every class keeps one for training */
            double d = fabs(got[k] - f * nc[k]);
            if (d > mine) mine = d;
        }
        CHECK_MSG(best >= 0 && (int)te.n == T, "fraction %g: %zu test documents, want %d", f, te.n, T);
        CHECK_MSG(mine <= best + 1e-12, "fraction %g: largest deviation %g, brute force %g", f, mine, best);
        sn_text_corpus_free(&tr);
        sn_text_corpus_free(&te);
    }
    /* the seed decides which documents: same seed same set, another seed another */
    sn_text_corpus a, b;
    CHECK_OK(sn_text_split_stratified(&c, 0.5, 1, &tr, &a));
    sn_text_corpus_free(&tr);
    CHECK_OK(sn_text_split_stratified(&c, 0.5, 1, &tr, &b));
    sn_text_corpus_free(&tr);
    int same = a.n == b.n;
    for (size_t i = 0; same && i < a.n; i++) same = !strcmp(a.texts[i], b.texts[i]);
    CHECK(same);
    sn_text_corpus_free(&b);
    int differs = 0;
    for (uint64_t s = 2; s < 6 && !differs; s++) {
        CHECK_OK(sn_text_split_stratified(&c, 0.5, s, &tr, &b));
        for (size_t i = 0; i < a.n && !differs; i++) differs = strcmp(a.texts[i], b.texts[i]) != 0;
        sn_text_corpus_free(&tr);
        sn_text_corpus_free(&b);
    }
    CHECK(differs);
    sn_text_corpus_free(&a);
    CHECK(sn_text_split_stratified(&c, 1.0, 1, &tr, &te) == SN_ERR_ARG);
    sn_text_corpus_free(&c);
}

TEST(corpus_folds_vs_brute_force) {
    int labels[23];
    for (int i = 0; i < 23; i++) labels[i] = i < 11 ? 0 : i < 18 ? 1 : i < 22 ? 2 : 3; /* 11, 7, 4, 1 */
    sn_text_corpus c;
    make_corpus(&c, labels, 23, 4);
    for (int k = 2; k <= 5; k++) {
        int fold[23];
        CHECK_OK(sn_text_folds(&c, k, 3, fold));
        /* brute force: count every (fold, class) cell and every fold */
        for (int f = 0; f < k; f++) {
            int size = 0;
            for (int cl = 0; cl < 4; cl++) {
                int cnt = 0, ncl = 0;
                for (int i = 0; i < 23; i++) {
                    ncl += labels[i] == cl;
                    cnt += labels[i] == cl && fold[i] == f;
                }
                CHECK_MSG(cnt == ncl / k || cnt == (ncl + k - 1) / k, "k %d fold %d class %d: %d of %d", k, f, cl, cnt,
                          ncl);
                size += cnt;
            }
            CHECK(size == 23 / k || size == (23 + k - 1) / k);
        }
        for (int i = 0; i < 23; i++) CHECK(fold[i] >= 0 && fold[i] < k);
    }
    int fold[23];
    CHECK(sn_text_folds(&c, 1, 3, fold) == SN_ERR_ARG);
    CHECK(sn_text_folds(&c, 24, 3, fold) == SN_ERR_ARG);
    sn_text_corpus_free(&c);
}

TEST(corpus_subset_and_class_weights) {
    int labels[6] = {0, 0, 0, 0, 1, 1};
    sn_text_corpus c, s;
    make_corpus(&c, labels, 6, 3); /* class 2 has no document */
    CHECK_OK(sn_text_class_weights(&c));
    /* n / (present * n_c): 6 / (2 * 4) and 6 / (2 * 2) */
    CHECK_CLOSE(c.weights[0], 0.75, 1e-7, 0);
    CHECK_CLOSE(c.weights[5], 1.5, 1e-7, 0);
    size_t idx[3] = {5, 0, 5};
    CHECK_OK(sn_text_subset(&c, idx, 3, &s));
    CHECK(s.n == 3 && !strcmp(s.texts[0], "d5") && s.labels[1] == 0 && s.weights[2] == c.weights[5]);
    CHECK(s.n_classes == 3 && !strcmp(s.class_names[2], "c2"));
    sn_text_corpus_free(&s);
    idx[0] = 6;
    CHECK(sn_text_subset(&c, idx, 1, &s) == SN_ERR_ARG);
    sn_text_corpus_free(&c);
}
