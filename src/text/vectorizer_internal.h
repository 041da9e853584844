/* The vectorizer's representation, shared by vectorizer.c (options,
 * tokenizing, adapt, encoding) and vectorizer_blob.c (its serialized form);
 * private to src/text. */
#ifndef SEQNN_TEXT_VECTORIZER_INTERNAL_H
#define SEQNN_TEXT_VECTORIZER_INTERNAL_H

#include <stdint.h>
#include "core/internal.h"
#include "core/strtab.h"
#include "seqnn/text.h"

#define SN_VEC_UNK "[UNK]"

struct sn_vectorizer {
    sn_vectorizer_opts o;
    sn_strtab vocab; /* learned tokens; id = position in the learned list */
    float *idf;      /* (vocab.n) tf_idf weights, or NULL */
    float oov_idf;   /* idf of the OOV slot (mean of the learned idfs) */
};

/* SN_OK, or SN_ERR_ARG naming the first option out of range. */
sn_status sn_vectorizer_check_opts(const sn_vectorizer_opts *o);

/* Replaces v's vocabulary by tokens[0..n) (lens[i] bytes each, not
 * necessarily NUL-terminated) with idf weights (tf_idf mode; NULL = 0) and,
 * when have_oov_idf, the OOV weight oov_idf (else the mean of idf).
 * Errors (v unchanged): SN_ERR_ARG for more tokens than max_tokens allows or
 * 2^24, an empty token, the OOV token, a NUL byte, a duplicate, a non-finite
 * idf; SN_ERR_NOMEM. */
sn_status sn_vectorizer_install_vocab(sn_vectorizer *v, const char *const *tokens, const uint32_t *lens, size_t n,
                                      const float *idf, int have_oov_idf, float oov_idf);

/* ---- adapt, shared by vectorizer.c and vectorizer_group.c ---- */

/* Adapt counts of one hash partition: part p of nparts counts the tokens
 * whose hash has (h >> 40) % nparts == p (vectorizer.c explains why). Entry
 * fields: count = occurrences, aux[0] = documents holding the token. */
typedef struct adapt_ctx {
    sn_strtab t;
    uint32_t doc;     /* current document, 1-based */
    int part, nparts;
    sn_status st;
} adapt_ctx;

/* A counted token as the vocabulary's sort sees it. */
typedef struct sort_item {
    uint64_t count;
    const char *s;
    uint32_t len;
    uint32_t df;
} sort_item;

/* Bins of the count histogram that finds the top-max_tokens floor (counts
 * from SN_VEC_HIST - 1 up share the last bin). */
#define SN_VEC_HIST 4096

/* Threads adapt counts n texts with. */
static inline int sn_vec_adapt_threads(size_t n) { return n >= 256 ? SN_MAX(1, SN_MIN(sn_threads_get(), 64)) : 1; }
/* Counts the tokens of texts[0..n) into parts[0..T) (initialised here). */
sn_status sn_vec_count_parts(const sn_vectorizer *v, const char *const *texts, size_t n, adapt_ctx *parts, int T);
/* hist[min(count, SN_VEC_HIST - 1)] += 1 for every entry of t. */
void sn_vec_hist_add(const sn_strtab *t, int64_t *hist);
/* The largest count c such that at least `limit` tokens have a count >= c
 * (0 when fewer tokens exist), from the histogram of all counts. */
uint64_t sn_vec_floor(const int64_t *hist, size_t limit);
/* The vocabulary order: count descending, then token bytes descending. */
int sn_vec_cmp_item(const void *a, const void *b);
/* Installs the first m sorted items as the vocabulary, idf over n documents. */
sn_status sn_vec_install_items(sn_vectorizer *v, const sort_item *items, size_t m, size_t n);

#endif
