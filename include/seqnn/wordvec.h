/* Word embeddings: loaders / savers for the word2vec (text and binary) and
 * GloVe formats, compressed or not; copying vectors into an Embedding weight for a
 * vocabulary; a Word2Vec trainer (skip-gram with negative sampling, Mikolov et
 * al. 2013, following the original word2vec.c); cosine neighbours and
 * 3CosAdd analogies.
 *
 * Shape letters: V vocabulary size, D vector dimension. */
#ifndef SEQNN_WORDVEC_H
#define SEQNN_WORDVEC_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A table of n words and their vectors. Every field is owned by the table and
 * released by sn_wordvec_free(). Read the fields freely; changing vecs in place
 * is fine, but change words only through the API (the index would go stale). */
typedef struct sn_wordvec {
    size_t n;      /* number of words */
    int dim;       /* D, > 0 */
    char **words;  /* (n) NUL-terminated, distinct, non-empty, no whitespace */
    float *vecs;   /* (n, D) row-major: row i is the vector of words[i] */
    void *index;   /* private: word -> row (the library's string table); NULL: lookups find nothing */
} sn_wordvec;

typedef enum sn_wordvec_format {
    SN_WORDVEC_AUTO = 0,       /* detect: header "N D" -> word2vec text or binary, else GloVe */
    SN_WORDVEC_W2V_TEXT = 1,   /* "N D\n" then "word v1 ... vD\n" per word */
    SN_WORDVEC_W2V_BINARY = 2, /* "N D\n" then per word: bytes, ' ', D float32 LE, optional '\n' */
    SN_WORDVEC_GLOVE = 3       /* no header; "word v1 ... vD\n"; D from the first line */
} sn_wordvec_format;

/* Longest accepted text line (and longest word in a binary file), in bytes. */
#define SN_WORDVEC_MAX_LINE (1u << 20)

/* Builds a table from caller arrays: words (n) and vecs (n, D) are copied.
 * Errors: SN_ERR_ARG for n == 0, D <= 0, a NULL / empty word or one holding
 * whitespace, a duplicate word (named), or a non-finite value (SN_ERR_NUMERIC).
 * On success *out owns everything; free it with sn_wordvec_free(). */
SN_API sn_status sn_wordvec_from_arrays(sn_wordvec **out, const char *const *words, const float *vecs, size_t n, int D);

/* Releases a table (NULL is fine). */
SN_API void sn_wordvec_free(sn_wordvec *wv);

/* Row of `word` (exact, case-sensitive match), or -1 when absent. O(1). */
SN_API long sn_wordvec_find(const sn_wordvec *wv, const char *word);

/* Vector (D) of `word`, pointing into the table (do not free), or NULL. */
SN_API const float *sn_wordvec_get(const sn_wordvec *wv, const char *word);

/* Loads a vector file. `fmt` may be SN_WORDVEC_AUTO: a first line of exactly
 * two integers "N D" means word2vec (binary when the first record after it is
 * not a text line of a word and D numbers), otherwise GloVe. Compressed files
 * are read transparently whatever their name, by their magic bytes: gzip,
 * xz, bzip2, zstd, or the first file of a zip (the reader sn_csv_read uses).
 * max_words > 0 keeps only the first max_words words (files are usually
 * sorted by frequency).
 * Errors (message names path:line, or path:byte offset for binary records):
 *  SN_ERR_IO      cannot open / read;
 *  SN_ERR_FORMAT  empty file; corrupt or truncated compressed data; bad
 *                 header; a header claiming more values than the file size
 *                 can hold (plain and gzip files: checked before any
 *                 allocation, so a forged "2^20 2^20" header fails fast); a line with the wrong
 *                 number of values; a field that is not a number; a line
 *                 longer than SN_WORDVEC_MAX_LINE; a truncated binary record;
 *                 fewer (or, in text, more) records than the header says;
 *  SN_ERR_NUMERIC a NaN or Inf value (named with line and column).
 * Duplicate words keep their first vector; each duplicate is logged at
 * SN_LOG_WARN through sn_log (with its line) and skipped, so wv->n can be
 * smaller than the header's N. Memory grows with the words actually read,
 * never from the header value alone. On error *out is NULL. */
SN_API sn_status sn_wordvec_load(sn_wordvec **out, const char *path, sn_wordvec_format fmt, size_t max_words);

/* Saves in word2vec format: binary != 0 gives the binary layout (float32
 * little-endian), else text with "%.9g" values (exact float round trip).
 * A path ending in ".gz" is written gzip-compressed. Atomic: written to
 * "path.tmp.PID", fsync'd, renamed over path; on failure path is untouched.
 * Errors: SN_ERR_ARG (NULL table / path, a word holding whitespace), SN_ERR_IO. */
SN_API sn_status sn_wordvec_save(const sn_wordvec *wv, const char *path, int binary);

/* What sn_wordvec_to_matrix puts in rows of words the table lacks. */
typedef enum sn_wordvec_missing {
    SN_WORDVEC_MISSING_ZERO = 0,   /* np.zeros, as the Deep Learning with Python GloVe example (default) */
    SN_WORDVEC_MISSING_UNIFORM = 1 /* uniform(-0.05, 0.05), Keras's Embedding initializer; needs rng */
} sn_wordvec_missing;

/* Fills an Embedding weight out (V, D) for vocabulary vocab (V): row i is the
 * vector of vocab[i], looked up exactly, then lowercased (ASCII) when the exact
 * form is absent. Rows of "" (the mask token, index 0 in a Keras
 * TextVectorization vocabulary), NULL entries and "[UNK]" are always zero and
 * never count as found. Rows of other absent words follow `missing` (rng is
 * only used, and then required, for SN_WORDVEC_MISSING_UNIFORM; rows are drawn
 * in index order so the result is reproducible from the seed).
 * found (optional) receives the number of rows filled from the table; the
 * coverage is *found / V.
 * Errors: SN_ERR_SHAPE when D != wv->dim (both named), SN_ERR_ARG for NULL
 * arguments, V == 0, or UNIFORM without rng. out is written only on success. */
SN_API sn_status sn_wordvec_to_matrix(const sn_wordvec *wv, const char *const *vocab, size_t V, int D,
                               float *out /* (V, D) */, sn_wordvec_missing missing, sn_rng *rng, size_t *found);

/* One query result: word points into the table (do not free). */
typedef struct sn_wordvec_hit {
    const char *word;
    size_t row;
    float score; /* cosine similarity in [-1, 1] */
} sn_wordvec_hit;

/* The k words most cosine-similar to `word`, excluding itself, best first,
 * ties broken by lower row. Rows of zero norm score 0. *n_out receives
 * min(k, n - 1). Errors: SN_ERR_ARG for an unknown word (named), k <= 0 or
 * NULL arguments. */
SN_API sn_status sn_wordvec_similar(const sn_wordvec *wv, const char *word, int k, sn_wordvec_hit *out /* (k) */,
                             int *n_out);

/* Analogy by 3CosAdd (word2vec's word-analogy): "a is to b as c is to ?".
 * Ranks every word w other than a, b, c by cos(w, b^ - a^ + c^), where x^ is x
 * scaled to unit length. Example: analogy("man", "king", "woman") -> "queen".
 * Results and errors as sn_wordvec_similar (each unknown word is named). */
SN_API sn_status sn_wordvec_analogy(const sn_wordvec *wv, const char *a, const char *b, const char *c, int k,
                             sn_wordvec_hit *out /* (k) */, int *n_out);

/* ---- Word2Vec training ---- */

/* Receives each token of a document in order: tok is NUL-terminated, len
 * bytes long, valid only during the call. Return 0 to go on. */
typedef int (*sn_word2vec_token_fn)(const char *tok, size_t len, void *user);

/* A tokenizer: calls emit for each token of text; returns SN_OK, or an error
 * (SN_ERR_INTERRUPTED when emit returned non-zero). */
typedef sn_status (*sn_word2vec_tokenizer_fn)(const char *text, sn_word2vec_token_fn emit, void *emit_user,
                                              void *tok_user);

/* The built-in tokenizer: every "<br />" becomes a space, ASCII letters are
 * lowercased, the 32 ASCII punctuation characters (Keras's
 * lower_and_strip_punctuation set) are deleted (not replaced: "don't" ->
 * "dont"), then the text is split on runs of ASCII whitespace (no empty tokens).
 * Bytes >= 0x80 are kept as they are. tok_user is unused. Tokens longer than
 * SN_WORDVEC_MAX_LINE bytes are cut. Errors: SN_ERR_ARG for NULL text / emit,
 * SN_ERR_NOMEM, SN_ERR_INTERRUPTED (emit returned non-zero). */
SN_API sn_status sn_word2vec_tokenize(const char *text, sn_word2vec_token_fn emit, void *emit_user, void *tok_user);

typedef struct sn_word2vec_opts {
    int dim;          /* D, default 100 */
    int window;       /* max context distance, default 5; each center word draws b in [0, window)
                         and uses distance window - b, as word2vec.c */
    int negative;     /* negative samples per pair, default 5 (from unigram^0.75) */
    int min_count;    /* drop words seen fewer times, default 5 */
    double sample;    /* subsampling threshold t, default 1e-3 (0 = off); a word of count c in a
                         corpus of N tokens is kept with p = (sqrt(c/(tN)) + 1) * tN / c */
    int epochs;       /* passes over the corpus, default 5 */
    float alpha;      /* start learning rate, default 0.025, decayed linearly with the words
                         processed, floored at alpha * 1e-4 */
    int threads;      /* Hogwild threads, default 0 = sn_threads_get(); results are exactly
                         reproducible only with threads == 1 */
    uint64_t seed;    /* default 1 */
    size_t max_vocab; /* keep only the most frequent words, 0 = no limit (default) */
    int exact_sigmoid;/* 0 (default): word2vec's 1000-entry table over [-6, 6] and its
                         clipping; 1: expf on every pair */
    sn_word2vec_tokenizer_fn tokenizer; /* NULL (default) = sn_word2vec_tokenize */
    void *tokenizer_user;
} sn_word2vec_opts;

/* Fills o with the defaults listed above. */
SN_API void sn_word2vec_opts_default(sn_word2vec_opts *o);

/* Called after each epoch (from the calling thread) with the epoch just
 * done (1-based), the learning rate reached, the mean skip-gram loss per
 * (center, context) pair of the epoch — -log s(u.v) - sum log s(-u.n), a
 * Hogwild estimate — and throughput over the epoch in corpus words per
 * second. Return non-zero to stop: training ends with SN_ERR_INTERRUPTED. */
typedef int (*sn_word2vec_progress_fn)(int epoch, int epochs, float alpha, double loss, double words_per_sec,
                                       void *user);

/* Trains skip-gram with negative sampling on n_texts raw documents, each
 * tokenized by o->tokenizer (default sn_word2vec_tokenize). A document is a
 * sentence: context windows never cross documents (documents longer than
 * 1000 tokens are cut into 1000-token sentences, as word2vec.c).
 * Vocabulary: words with count >= min_count, sorted by decreasing count (ties
 * by byte order), at most max_vocab of them; other tokens are dropped before
 * windowing. Vectors start uniform in (-0.5/D, 0.5/D), output weights at 0;
 * *out holds the input vectors (the usual word2vec output), rows in vocabulary
 * order. o may be NULL for the defaults; cb may be NULL.
 * Threads: the corpus is split into `threads` contiguous slices updated
 * without locks (Hogwild, as word2vec.c); with threads == 1 and a fixed seed
 * the vectors are bit-identical from run to run.
 * Errors: SN_ERR_ARG (bad option, named), SN_ERR_STATE (empty vocabulary
 * after min_count), SN_ERR_NOMEM, SN_ERR_INTERRUPTED (callback or tokenizer). */
SN_API sn_status sn_word2vec_train(sn_wordvec **out, const char *const *texts, size_t n_texts, const sn_word2vec_opts *o,
                            sn_word2vec_progress_fn cb, void *user);

#ifdef __cplusplus
}
#endif
#endif
