/* The one Keras-style standardizer and splitter of the library
 * (text/tokenize.c), private to it: TextVectorization (vectorizer.c) and the
 * Word2Vec trainer's built-in tokenizer (embed) both tokenize through it, so
 * "the same rules" means the same code.
 *
 * Standardizing maps bytes to bytes and never lengthens the text (Keras's
 * lower_and_strip_punctuation: lowercase, then delete the 32 ASCII
 * punctuation characters; docs/keras-semantics.md §13); splitting yields
 * tokens as (start, length) spans of the standardized text. */
#ifndef SEQNN_TEXT_TOKENIZE_H
#define SEQNN_TEXT_TOKENIZE_H

#include <stddef.h>
#include "seqnn/text.h"

/* What to do with HTML line breaks before the other rules. */
typedef enum sn_tok_br {
    SN_TOK_BR_KEEP = 0,  /* no special case (Keras) */
    SN_TOK_BR_ANY = 1,   /* "<br>", "<br/>", "<br />", any case of "br" -> ' ' (vectorizer strip_html) */
    SN_TOK_BR_EXACT = 2  /* only "<br />" -> ' ' (the Word2Vec tokenizer) */
} sn_tok_br;

typedef struct sn_tok_rules {
    int lower;       /* ASCII A-Z -> a-z */
    int utf8_lower;  /* with lower: also 2-byte UTF-8 letters (Latin-1, Latin Ext-A, Greek, Cyrillic) */
    int strip_punct; /* delete the 32 ASCII punctuation characters */
    sn_tok_br br;
    sn_split split;  /* for sn_tok_next */
} sn_tok_rules;

/* The rules of a vectorizer configured by o (standardize, strip_html,
 * utf8_lower, split). */
sn_tok_rules sn_tok_rules_of(const sn_vectorizer_opts *o);

/* Writes the standardized form of text[0..n) into out (capacity >= n + 1,
 * NUL-terminated) and returns its length (<= n). text must be readable up to
 * a NUL at or after text[n] (a C string): a "<br" is matched by peeking. */
size_t sn_tok_standardize(const sn_tok_rules *r, const char *text, size_t n, char *out);

/* The next token of the standardized text s[0..m) at or after *pos, by
 * r->split: SN_SPLIT_WHITESPACE runs of ASCII whitespace separate tokens (no
 * empty ones); SN_SPLIT_CHARACTER one token per UTF-8 code point (an invalid
 * byte is a token of its own); SN_SPLIT_NONE the whole text ("" gives none).
 * Returns 1 with [*start, *start + *len) and *pos advanced, or 0 at the end. */
int sn_tok_next(const sn_tok_rules *r, const char *s, size_t m, size_t *pos, size_t *start, size_t *len);

#endif
