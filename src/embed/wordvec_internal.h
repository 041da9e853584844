/* What the word-vector table (wordvec_table.c) shares with the file loaders
 * (wordvec_io.c); private to src/embed. */
#ifndef SEQNN_EMBED_WORDVEC_INTERNAL_H
#define SEQNN_EMBED_WORDVEC_INTERNAL_H

#include <stddef.h>
#include "seqnn/wordvec.h"

/* A table being filled: cap rows allocated in wv->words / wv->vecs. */
typedef struct sn_wv_builder {
    sn_wordvec *wv;
    size_t cap;
} sn_wv_builder;

/* An empty table of dimension dim with room for cap0 rows (0: 16).
 * Errors: SN_ERR_NOMEM; b->wv may then be a partial table to free with
 * sn_wordvec_free. */
sn_status sn_wv_builder_init(sn_wv_builder *b, int dim, size_t cap0);

/* Appends word (len bytes, copied) with vector vec (dim floats, copied).
 * Returns 1 when added, 0 for a duplicate word (table unchanged), or
 * SN_ERR_NOMEM (negative). The arrays double as needed. */
int sn_wv_builder_push(sn_wv_builder *b, const char *word, size_t len, const float *vec);

/* Shrinks the arrays to the rows held and hands the table over (b->wv
 * becomes NULL). */
sn_wordvec *sn_wv_builder_finish(sn_wv_builder *b);

/* 1 when w holds an ASCII whitespace byte (the formats cannot store it). */
int sn_wv_has_space(const char *w);

#endif
