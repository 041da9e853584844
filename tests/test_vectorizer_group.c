/* sn_vectorizer_adapt_group learns, on 2 and 3 ranks (threads posing as
 * ranks, dist_fake.c) holding uneven parts of the texts, exactly the
 * vocabulary sn_vectorizer_adapt learns from all texts in one process: the
 * same tokens in the same order, counts and idf bits, in int and tf_idf
 * mode, with and without a max_tokens cut that falls inside a run of equal
 * counts; a NULL text on one rank fails every rank. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "dist_fake.h"
#include "seqnn.h"
#include "test.h"

#define NDOC 300

/* Texts over a small Zipf-like vocabulary, so that counts repeat often
 * (ties are resolved by the byte order) and bigrams recur. */
static char **make_texts(uint64_t seed) {
    static const char *words[] = {"the", "a", "movie", "film", "good", "bad", "plot", "actor", "great", "awful",
                                  "scene", "end", "story", "not", "very", "boring", "fun", "<br />", "Ending!", "x"};
    sn_rng r;
    sn_rng_seed(&r, seed);
    char **t = calloc(NDOC, sizeof *t);
    for (int d = 0; d < NDOC; d++) {
        size_t nw = 1 + sn_rng_below(&r, 40), p = 0;
        t[d] = malloc(nw * 12 + 1);
        for (size_t w = 0; w < nw; w++) {
            /* the product of two uniforms: small indexes are frequent */
            size_t k = (size_t)(sn_rng_below(&r, 20) * sn_rng_below(&r, 20) / 19);
            p += (size_t)sprintf(t[d] + p, "%s%s", w ? " " : "", words[k]);
        }
        t[d][p] = 0;
    }
    return t;
}

typedef struct job {
    sn_vectorizer_opts o;
    char **texts;
    size_t cut[4];          /* rank k holds texts [cut[k], cut[k+1]) */
    int null_rank;          /* rank given a NULL text, or -1 */
    sn_vectorizer *got[3];
    sn_status st[3];
} job;

static void rank_main(fake_rank *r, void *user) {
    job *j = user;
    int k = r->rank;
    size_t lo = j->cut[k], hi = j->cut[k + 1];
    const char **mine = malloc((hi - lo + 1) * sizeof *mine);
    for (size_t i = lo; i < hi; i++) mine[i - lo] = j->texts[i];
    if (k == j->null_rank && hi > lo) mine[0] = NULL;
    sn_vectorizer_init(&j->got[k], &j->o);
    j->st[k] = sn_vectorizer_adapt_group(j->got[k], mine, hi - lo, NDOC, &r->comm);
    free(mine);
}

/* 1 when a and b hold the same vocabulary, counts and idf bits. */
static int same_vocab(const sn_vectorizer *a, const sn_vectorizer *b) {
    size_t n = sn_vectorizer_vocab_size(a);
    if (n != sn_vectorizer_vocab_size(b)) return 0;
    for (size_t i = 0; i < n; i++) {
        float fa = sn_vectorizer_idf(a, i), fb = sn_vectorizer_idf(b, i);
        if (strcmp(sn_vectorizer_token(a, i), sn_vectorizer_token(b, i)) ||
            sn_vectorizer_token_count(a, i) != sn_vectorizer_token_count(b, i) || memcmp(&fa, &fb, sizeof fa))
            return 0;
    }
    return 1;
}

static void check_case(sn_output_mode mode, int ngrams, int max_tokens) {
    job j;
    memset(&j, 0, sizeof j);
    sn_vectorizer_opts_default(&j.o);
    j.o.output_mode = mode;
    j.o.ngrams = ngrams;
    j.o.max_tokens = max_tokens;
    if (mode != SN_OUTPUT_INT) j.o.pad_to_max_tokens = max_tokens > 0;
    j.texts = make_texts(7 + (uint64_t)ngrams);
    j.null_rank = -1;
    sn_vectorizer *ref;
    CHECK(sn_vectorizer_init(&ref, &j.o) == SN_OK);
    CHECK(sn_vectorizer_adapt(ref, (const char *const *)j.texts, NDOC) == SN_OK);
    CHECK(sn_vectorizer_vocab_size(ref) > 10);
    /* uneven parts; one rank of three holds no text at all */
    const size_t cuts[2][4] = {{0, 37, NDOC, 0}, {0, 0, 211, NDOC}};
    for (int size = 2; size <= 3; size++) {
        memcpy(j.cut, cuts[size - 2], sizeof j.cut);
        fake_group_run(size, rank_main, &j);
        for (int k = 0; k < size; k++) {
            CHECK(j.st[k] == SN_OK);
            CHECK(same_vocab(ref, j.got[k]));
            sn_vectorizer_free(j.got[k]);
        }
    }
    /* a NULL text on rank 1 of 2 fails both ranks */
    j.cut[0] = 0, j.cut[1] = 100, j.cut[2] = NDOC;
    j.null_rank = 1;
    fake_group_run(2, rank_main, &j);
    CHECK(j.st[0] != SN_OK && j.st[1] == SN_ERR_ARG);
    sn_vectorizer_free(j.got[0]);
    sn_vectorizer_free(j.got[1]);
    sn_vectorizer_free(ref);
    for (int d = 0; d < NDOC; d++) free(j.texts[d]);
    free(j.texts);
}

TEST(vectorizer_adapt_group_equals_one_process_int_mode) {
    check_case(SN_OUTPUT_INT, 1, 0);
    check_case(SN_OUTPUT_INT, 2, 0);
    /* 14 of the words and their bigrams: the cut falls among equal counts */
    check_case(SN_OUTPUT_INT, 2, 16);
}

TEST(vectorizer_adapt_group_equals_one_process_tf_idf_and_multi_hot) {
    check_case(SN_OUTPUT_TF_IDF, 2, 0);
    check_case(SN_OUTPUT_TF_IDF, 2, 40);
    check_case(SN_OUTPUT_MULTI_HOT, 1, 12);
}

TEST(vectorizer_adapt_group_on_one_rank_is_adapt) {
    char **t = make_texts(3);
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    sn_vectorizer *a, *b;
    CHECK(sn_vectorizer_init(&a, &o) == SN_OK && sn_vectorizer_init(&b, &o) == SN_OK);
    CHECK(sn_vectorizer_adapt(a, (const char *const *)t, NDOC) == SN_OK);
    CHECK(sn_vectorizer_adapt_group(b, (const char *const *)t, NDOC, NDOC, NULL) == SN_OK);
    CHECK(same_vocab(a, b));
    CHECK(sn_vectorizer_adapt_group(b, (const char *const *)t, 10, NDOC, NULL) == SN_ERR_ARG);
    sn_vectorizer_free(a);
    sn_vectorizer_free(b);
    for (int d = 0; d < NDOC; d++) free(t[d]);
    free(t);
}
