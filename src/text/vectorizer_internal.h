/* The vectorizer's representation, shared by vectorizer.c (options,
 * tokenizing, adapt, encoding) and vectorizer_blob.c (its serialized form);
 * private to src/text. */
#ifndef SEQNN_TEXT_VECTORIZER_INTERNAL_H
#define SEQNN_TEXT_VECTORIZER_INTERNAL_H

#include <stdint.h>
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

#endif
