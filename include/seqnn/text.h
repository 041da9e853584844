/* Text pipeline: corpus loading (like keras.utils.text_dataset_from_directory),
 * TextVectorization with Keras semantics (docs/keras-semantics.md §12, §13), and
 * datasets of encoded texts for the trainer.
 *
 * Bytes, not code points: texts are kept as the raw bytes of the files (as
 * Keras does). Invalid UTF-8 is never an error; the standardizer treats such
 * bytes as opaque, non-punctuation, non-space characters. */
#ifndef SEQNN_TEXT_H
#define SEQNN_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"
#include "seqnn/comm.h"
#include "seqnn/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Corpus loading
 * ====================================================================== */

/* A labelled corpus. Everything is owned by the struct (sn_text_corpus_free). */
typedef struct sn_text_corpus {
    size_t n;             /* number of documents */
    char **texts;         /* (n) NUL-terminated file contents (NUL bytes inside a file became ' ') */
    size_t *lengths;      /* (n) byte length of each text */
    char **paths;         /* (n) path relative to the class folder's parent, e.g. "pos/0_9.txt" */
    int32_t *labels;      /* (n) class index in [0, n_classes) */
    int n_classes;
    char **class_names;   /* (n_classes) */
    /* Multi-label corpora (sn_text_table_opts.label_delimiter): each
     * document's label set as a multi-hot row, labels[i] being the set's
     * first class (the one stratification uses); NULL for single-label. */
    uint8_t *label_sets;  /* (n, n_classes) or NULL */
    /* Per-document loss weights (e.g. sn_text_class_weights), or NULL = 1. */
    float *weights;       /* (n) or NULL */
    /* An index of a table file (sn_text_table_opts.index_only): document
     * i's record is bytes [spans[2i], spans[2i] + spans[2i+1]) of the file
     * (after a UTF-8 byte order mark); its text stays "" until
     * sn_text_table_read reads it. NULL for corpora loaded whole. */
    uint64_t *spans;      /* (2n) or NULL */
} sn_text_corpus;

/* What to do with a file larger than max_file_bytes. */
typedef enum sn_text_oversize {
    SN_TEXT_OVERSIZE_ERROR = 0, /* fail naming the file (default) */
    SN_TEXT_OVERSIZE_SKIP = 1,  /* leave it out, log a warning */
    SN_TEXT_OVERSIZE_TRUNCATE = 2 /* keep the first max_file_bytes bytes */
} sn_text_oversize;

typedef struct sn_text_load_opts {
    /* Folder inside the directory or archive holding the class folders, e.g.
     * "aclImdb/train". NULL or "" = the root. A leading "./" in archive
     * member names is ignored. */
    const char *subdir;
    /* Explicit classes (selection and order, labels = position), like Keras
     * class_names; each must exist as a sub-folder. NULL = every immediate,
     * non-hidden sub-folder in byte order. */
    const char *const *class_names;
    int n_class_names;
    /* Files larger than this are handled per `oversize`. 0 = 10 MiB. */
    size_t max_file_bytes;
    sn_text_oversize oversize;
    /* Keras max_length: keep only the first max_length bytes (0 = all). */
    size_t max_length;
    /* 1: an index only: the files are listed, sized and labelled as a load
     * does (the same documents, order, paths and size policy), but not
     * read; texts stay "" until sn_text_folder_read. Folders only: an
     * archive is SN_ERR_UNSUPPORTED (it cannot be read in parts). */
    int index_only;
} sn_text_load_opts;

/* Fills opts with the defaults (root folder, inferred classes, 10 MiB cap, error). */
SN_API void sn_text_load_opts_default(sn_text_load_opts *opts);

/* Loads a labelled corpus like text_dataset_from_directory(labels="inferred"):
 * `path` is a directory or an archive (.tar, .tar.gz, .tar.xz, anything
 * libarchive reads). Under opts->subdir each class is a sub-folder, walked
 * recursively; only files whose name ends in ".txt" (any case) are read;
 * top-level files are ignored. Order: class, then directory path (bytes),
 * then file name (bytes), as Keras's sorted os.walk. opts may be NULL.
 * Errors: SN_ERR_IO (cannot open/read, message names the file), SN_ERR_ARG
 * (subdir or a requested class missing, no class found), SN_ERR_FORMAT
 * (oversize file under SN_TEXT_OVERSIZE_ERROR, corrupt archive).
 * On error *out is left empty. Free with sn_text_corpus_free. */
SN_API sn_status sn_text_load(sn_text_corpus *out, const char *path, const sn_text_load_opts *opts);

/* Loads n corpora from one path, each with its own opts (e.g. subdir
 * "aclImdb/train" and "aclImdb/test"). An archive is decompressed once for
 * all of them. On error every out[i] is left empty. */
SN_API sn_status sn_text_load_multi(sn_text_corpus *out /* (n) */, const char *path,
                             const sn_text_load_opts *opts /* (n) */, int n);
/* Reads the texts of documents [lo, hi) of an index made by sn_text_load
 * with index_only from folder `path` and the same opts (subdir, size cap,
 * policy): each text becomes what the whole load gives. Errors: SN_ERR_ARG
 * for a range beyond the corpus; SN_ERR_IO naming a file that cannot be
 * read; SN_ERR_FORMAT for a file now over the cap; SN_ERR_NOMEM. */
SN_API sn_status sn_text_folder_read(sn_text_corpus *c, size_t lo, size_t hi, const char *path,
                                     const sn_text_load_opts *o);

/* Splits like Keras validation_split with a seed: the documents are shuffled
 * once with sn_rng seeded by `seed` (not NumPy's generator, so the sets
 * differ from Keras's), the last floor(validation_split * n) go to `val`,
 * the rest to `train` (both in shuffled order, deep copies; `in` is
 * unchanged). validation_split must be in [0, 1). `val` may be NULL when
 * validation_split is 0. */
SN_API sn_status sn_text_split(const sn_text_corpus *in, double validation_split, uint64_t seed, sn_text_corpus *train,
                        sn_text_corpus *val);

/* Releases everything and zeroes the struct (NULL or empty is fine). */
SN_API void sn_text_corpus_free(sn_text_corpus *c);

/* Deep copy of documents idx[0..n) of `in` (in that order, repeats allowed)
 * into *out, with every per-document field and the class list. */
SN_API sn_status sn_text_subset(const sn_text_corpus *in, const size_t *idx /* (n) */, size_t n, sn_text_corpus *out);

/* Stratified split: within each class (labels[i]) the documents are
 * shuffled with sn_rng seeded by `seed`, and round(test_fraction * n)
 * documents go to `test`, shared out over the classes by largest remainder
 * of test_fraction * n_c (ties: the smaller class index), each class giving
 * at most n_c - 1 (a class with one document stays in `train`). Both parts
 * keep the documents' original order. test_fraction in (0, 1). */
SN_API sn_status sn_text_split_stratified(const sn_text_corpus *in, double test_fraction, uint64_t seed,
                                          sn_text_corpus *train, sn_text_corpus *test);

/* Stratified K-fold assignment: fold[i] in [0, k) for every document. The
 * documents of each class are shuffled (sn_rng seeded by `seed`), the
 * classes concatenated in class order, and position p gets fold p mod k:
 * every fold holds floor or ceil of n_c / k documents of each class c and
 * floor or ceil of n / k in all. 2 <= k <= n. */
SN_API sn_status sn_text_folds(const sn_text_corpus *in, int k, uint64_t seed, int *fold /* (n) */);

/* Sets c->weights to the "balanced" class weights n / (n_classes_present *
 * n_c) of each document's class (scikit-learn's class_weight="balanced":
 * the weights average 1 over the documents). Errors: SN_ERR_ARG for a
 * multi-label corpus or an empty one. */
SN_API sn_status sn_text_class_weights(sn_text_corpus *c);

/* ======================================================================
 * Corpora in table files: CSV, TSV, JSON Lines
 * ====================================================================== */

typedef enum sn_text_format {
    SN_TEXT_FORMAT_AUTO = 0, /* by the name: .csv, .tsv / .tab, .jsonl / .ndjson (a trailing .gz, .xz,
                                .bz2, .zst is looked through); anything else is a folder or archive */
    SN_TEXT_FORMAT_DIR = 1,  /* class folders (sn_text_load) */
    SN_TEXT_FORMAT_CSV = 2,  /* RFC 4180: ',' separated, '"' quoting ("" inside), newlines inside quotes */
    SN_TEXT_FORMAT_TSV = 3,  /* the same rules with a tab as the separator */
    SN_TEXT_FORMAT_JSONL = 4 /* one JSON object per line; blank lines skipped */
} sn_text_format;

/* "csv" | "tsv" | "jsonl" | "dir" (also "auto"); SN_ERR_PARSE otherwise. */
SN_API sn_status sn_text_format_parse(const char *s, sn_text_format *out);
/* The format a path's name implies (never SN_TEXT_FORMAT_AUTO). */
SN_API sn_text_format sn_text_format_guess(const char *path);

typedef enum sn_text_encoding {
    SN_TEXT_ENC_UTF8 = 0,   /* validated: invalid UTF-8 is an error naming file:line:column */
    SN_TEXT_ENC_CP1252 = 1, /* Windows-1252 (WHATWG table: 0x81 0x8D 0x8F 0x90 0x9D map to U+0081 ...) */
    SN_TEXT_ENC_LATIN1 = 2  /* ISO-8859-1: byte b is U+00bb */
} sn_text_encoding;

/* "utf8" | "utf-8" | "cp1252" | "windows-1252" | "latin1" | "iso-8859-1" (any case). */
SN_API sn_status sn_text_encoding_parse(const char *s, sn_text_encoding *out);

/* Decodes in[0..len) into fresh NUL-terminated UTF-8 (*out, *out_len; free
 * it): UTF-8 is validated and copied, the 8-bit encodings are transcoded.
 * A NUL byte becomes ' '. On invalid UTF-8 returns SN_ERR_FORMAT with
 * "line L, column C: invalid UTF-8 byte 0xXX" (columns count bytes) and
 * allocates nothing; the caller prefixes the file. */
SN_API sn_status sn_text_decode(const char *in, size_t len, sn_text_encoding enc, char **out, size_t *out_len);

/* Decodes every text of c in place (sn_text_decode); an error names the
 * document's path: "<what>: <path>:L:C: invalid UTF-8 byte 0xXX ...". On
 * an error the texts before the failing one are already decoded; c stays
 * valid for sn_text_corpus_free. */
SN_API sn_status sn_text_corpus_decode(sn_text_corpus *c, sn_text_encoding enc, const char *what);

typedef struct sn_text_table_opts {
    sn_text_format format;        /* AUTO: sn_text_format_guess(path) */
    /* Text column(s): comma-separated names or 0-based indexes (a JSON
     * line's keys); several are joined with one '\n'. NULL = "text"
     * (index 1 with no_header). */
    const char *text_columns;
    /* Label column: name or 0-based index. NULL = "label" (index 0 with
     * no_header). */
    const char *label_column;
    int unlabelled;               /* 1: no label column (texts to predict): labels 0, no classes */
    int no_header;                /* CSV / TSV: the first row is data; columns by index only */
    sn_text_encoding encoding;
    /* Non-NULL: multi-label, the label field split on this (empty parts
     * ignored; a JSON array of strings is a set as it is). */
    const char *label_delimiter;
    /* Fixed classes in this order (e.g. the training classes when reading a
     * test file): any other label is an error. NULL: the labels met, in
     * numeric order when every label is an integer, else in byte order. */
    const char *const *class_names;
    int n_class_names;
    /* 1: an index only (sn_text_load_table): every record is parsed and
     * checked, its labels kept, but its text is left "" and its place in
     * the file kept in the corpus's spans, for sn_text_table_read to read
     * the texts of some documents later. Needs an uncompressed UTF-8 file
     * without NUL bytes (a whole load reads those as spaces before parsing),
     * which is mapped, not read into memory (SN_ERR_UNSUPPORTED otherwise). */
    int index_only;
} sn_text_table_opts;

/* Defaults: format auto, columns "text" / "label", header, UTF-8, single label. */
SN_API void sn_text_table_opts_default(sn_text_table_opts *o);

/* Loads a labelled corpus from a CSV, TSV or JSON Lines file (plain or
 * compressed, through the library's stream reader): one document per
 * record, in file order, paths[i] = "<file>:<line>". A UTF-8 byte-order
 * mark is skipped. Errors (SN_ERR_FORMAT, each naming file:line and the
 * column or key): an unterminated quote, text after a closing quote, a
 * record with a field count other than the header's, a missing or empty
 * label, a missing text field, a JSON line that is not an object or whose
 * field has the wrong type, invalid UTF-8, a label outside class_names;
 * SN_ERR_ARG for an unknown column (the message lists the columns) or a
 * file without records; SN_ERR_IO. On error *out is left empty. */
SN_API sn_status sn_text_load_table(sn_text_corpus *out, const char *path, const sn_text_table_opts *o);
/* Reads the texts of documents [lo, hi) of an index (a corpus loaded with
 * index_only, or a subset of one) from its table file `path`, read with the
 * options o it was indexed with: each text becomes what a whole load would
 * have given it. Only those records are parsed; the file is mapped.
 * Errors: SN_ERR_ARG for a corpus without spans or a range beyond it;
 * SN_ERR_FORMAT naming file:line when a record no longer parses (the file
 * changed); SN_ERR_IO, SN_ERR_NOMEM. */
SN_API sn_status sn_text_table_read(sn_text_corpus *c, size_t lo, size_t hi, const char *path,
                                    const sn_text_table_opts *o);

/* The same from a buffer in memory (`name` is used in messages). */
SN_API sn_status sn_text_parse_table(sn_text_corpus *out, const char *buf, size_t len, const char *name,
                                     const sn_text_table_opts *o);

/* ======================================================================
 * TextVectorization
 * ====================================================================== */

/* Numbers are stored in vectorizer blobs: never reuse them. */
typedef enum sn_standardize {
    SN_STANDARDIZE_LOWER_AND_STRIP_PUNCTUATION = 0, /* Keras default */
    SN_STANDARDIZE_LOWER = 1,
    SN_STANDARDIZE_STRIP_PUNCTUATION = 2,
    SN_STANDARDIZE_NONE = 3
} sn_standardize;

typedef enum sn_split {
    SN_SPLIT_WHITESPACE = 0, /* runs of ASCII whitespace, no empty tokens */
    SN_SPLIT_CHARACTER = 1,  /* one token per UTF-8 code point (invalid bytes: one token each) */
    SN_SPLIT_NONE = 2        /* the whole standardized text is one token ("" gives none) */
} sn_split;

typedef enum sn_output_mode {
    SN_OUTPUT_INT = 0,       /* 0 = padding/mask, 1 = OOV "[UNK]", tokens from 2 */
    SN_OUTPUT_MULTI_HOT = 1, /* 0 = OOV "[UNK]", tokens from 1 (no mask slot) */
    SN_OUTPUT_COUNT = 2,
    SN_OUTPUT_TF_IDF = 3
} sn_output_mode;

typedef struct sn_vectorizer_opts {
    int max_tokens;             /* bound on the vocabulary incl. special slots; 0 = unbounded; <= 2^24 */
    sn_standardize standardize;
    sn_split split;
    int ngrams;                 /* N >= 1: widths 1..N joined by one space */
    sn_output_mode output_mode;
    int output_sequence_length; /* int mode: L > 0 keeps the first L ids, pads 0 at the end */
    int pad_to_max_tokens;      /* bag modes: output width = max_tokens */
    int strip_html;             /* replace "<br />", "<br/>", "<br>" (any case) by ' ' first (not Keras) */
    int stem;                   /* Porter-stem every [a-z]+ word token before n-grams (not Keras) */
    int utf8_lower;             /* also lowercase Latin-1, Latin Ext-A, Greek, Cyrillic (not Keras) */
} sn_vectorizer_opts;

typedef struct sn_vectorizer sn_vectorizer;

/* Keras defaults: no max_tokens, lower_and_strip_punctuation, whitespace,
 * ngrams 1, int output, no sequence length, every extension off. */
SN_API void sn_vectorizer_opts_default(sn_vectorizer_opts *o);

/* Creates an empty (not adapted) vectorizer. Errors: SN_ERR_ARG for an
 * out-of-range option (e.g. max_tokens 1 in int mode, ngrams < 1 or > 16,
 * pad_to_max_tokens without max_tokens). Free with sn_vectorizer_free. */
SN_API sn_status sn_vectorizer_init(sn_vectorizer **out, const sn_vectorizer_opts *opts);

/* Options the vectorizer was built with (points into v). */
SN_API const sn_vectorizer_opts *sn_vectorizer_get_opts(const sn_vectorizer *v);

/* Learns the vocabulary (and, in tf_idf mode, the idf weights) from texts
 * (n NUL-terminated strings), replacing any previous one: total occurrence
 * counts, sorted by count descending then token bytes descending, truncated
 * to max_tokens minus the special slots. Errors: SN_ERR_ARG, SN_ERR_NOMEM. */
SN_API sn_status sn_vectorizer_adapt(sn_vectorizer *v, const char *const *texts /* (n) */, size_t n);
/* The same adapt over texts spread across the ranks of comm: this rank
 * passes its own n texts, n_total is the number over all ranks (idf counts
 * them). Every rank ends with the vocabulary sn_vectorizer_adapt would learn
 * from all the texts in one process (the same tokens, order, counts and
 * idf). Collective (needs comm's exchange and gather_bytes); comm NULL or
 * of one rank: sn_vectorizer_adapt, with n == n_total. A failure on any rank
 * fails every rank. docs/distributed.md. */
SN_API sn_status sn_vectorizer_adapt_group(sn_vectorizer *v, const char *const *texts /* (n) */, size_t n,
                                           size_t n_total, const sn_comm *comm);

/* Sets the vocabulary directly (like Keras set_vocabulary): tokens in index
 * order without the special slots; idf (n) is required in tf_idf mode and
 * ignored otherwise. Errors: duplicates, empty or "[UNK]" tokens, too many. */
SN_API sn_status sn_vectorizer_set_vocabulary(sn_vectorizer *v, const char *const *tokens /* (n) */, size_t n,
                                       const float *idf /* (n) or NULL */);

/* Vocabulary size including the special slots (int: n+2, others: n+1). */
SN_API size_t sn_vectorizer_vocab_size(const sn_vectorizer *v);

/* Width of a bag output row (vocab size, or max_tokens with
 * pad_to_max_tokens); output_sequence_length in int mode. */
SN_API size_t sn_vectorizer_output_width(const sn_vectorizer *v);

/* Token at index i ("" for the mask, "[UNK]" for OOV), NULL when out of
 * range. Points into v: valid until the next adapt/set_vocabulary/free. */
SN_API const char *sn_vectorizer_token(const sn_vectorizer *v, size_t i);

/* Index of an exact token (no standardization); the OOV index when absent. */
SN_API int32_t sn_vectorizer_lookup(const sn_vectorizer *v, const char *token);

/* idf weight of index i (tf_idf mode after adapt; 0 otherwise / out of range). */
SN_API float sn_vectorizer_idf(const sn_vectorizer *v, size_t i);

/* How often token i occurred in the texts of the last adapt (0 for the
 * special slots, out of range, after set_vocabulary or a blob load). */
SN_API uint64_t sn_vectorizer_token_count(const sn_vectorizer *v, size_t i);

/* Standardizes `text` as the vectorizer would before splitting, into a
 * newly malloc'd string (*out, free with free()). For tests and debugging. */
SN_API sn_status sn_vectorizer_standardize(const sn_vectorizer *v, const char *text, char **out);

/* Calls fn(token, len, user) for every token of `text` in output order
 * (unigrams, then bigrams, ...), after standardization, split and stemming. */
SN_API sn_status sn_vectorizer_tokenize(const sn_vectorizer *v, const char *text,
                                 void (*fn)(const char *tok, size_t len, void *user), void *user);

/* Int encoding of all tokens: writes the first min(cap, count) ids to ids and
 * the total count to *n (ids may be NULL when cap is 0). Any output mode. */
SN_API sn_status sn_vectorizer_encode_ids(const sn_vectorizer *v, const char *text, int32_t *ids /* (cap) */, size_t cap,
                                   size_t *n);

/* Int mode with output_sequence_length L: ids (L) as floats, first L kept,
 * zero-padded at the end. Errors: SN_ERR_STATE if not int mode or L == 0. */
SN_API sn_status sn_vectorizer_encode_int(const sn_vectorizer *v, const char *text, float *ids /* (L) */);

/* Bag encoding (multi_hot, count, tf_idf) as sparse pairs with strictly
 * increasing indices; OOV goes to index 0. Writes *nnz; if cap is too small
 * returns SN_ERR_SHAPE with the needed count in *nnz (nothing else valid).
 * Empty text gives nnz 0. Errors: SN_ERR_STATE in int mode. */
SN_API sn_status sn_vectorizer_encode_sparse(const sn_vectorizer *v, const char *text, int32_t *idx /* (cap) */,
                                      float *val /* (cap) */, size_t cap, size_t *nnz);

/* Bag encoding into a dense row out (W), W = sn_vectorizer_output_width. */
SN_API sn_status sn_vectorizer_encode_dense(const sn_vectorizer *v, const char *text, float *out /* (W) */);

/* Serializes options, vocabulary and idf weights into a malloc'd
 * little-endian blob (*buf, free with free()): "SNVZ", u32 version (1),
 * u32 payload fields, u32 token count, per token u32 length + bytes,
 * optional f32 idf table, and a trailing CRC-32 of everything before. */
SN_API sn_status sn_vectorizer_save_blob(const sn_vectorizer *v, void **buf, size_t *len);

/* Rebuilds a vectorizer from a blob. Every length and enum is checked
 * against the remaining bytes before use; a corrupt or truncated blob gives
 * SN_ERR_FORMAT naming the field, never a crash or an oversized allocation. */
SN_API sn_status sn_vectorizer_load_blob(sn_vectorizer **out, const void *buf, size_t len);

/* Releases v (NULL is fine). */
SN_API void sn_vectorizer_free(sn_vectorizer *v);

/* ======================================================================
 * Porter stemmer (Porter 1980, "An algorithm for suffix stripping")
 * ====================================================================== */

/* Stems the lowercase ASCII word w[0..len) in place and returns the new
 * length (<= len). Words of length <= 2 are returned unchanged. Bytes outside
 * a-z are treated as consonants; callers stem only [a-z]+ words. */
SN_API size_t sn_porter_stem(char *w, size_t len);

/* ======================================================================
 * Datasets of encoded texts (see seqnn/dataset.h)
 * ====================================================================== */

/* Targets of both kinds: the class id (y_numel 1), or, for a multi-label
 * corpus (c->label_sets), the multi-hot row (y_numel = n_classes). With
 * c->weights the dataset has sample_weights and fill writes them to b->sw.
 *
 * Int sequences: encodes every document of c once (int32, L per document,
 * L = output_sequence_length, required > 0). fill writes ids as floats into
 * b->x (B, L) and labels into b->y (B, 1). The vectorizer and corpus may be
 * freed afterwards (the dataset keeps its own copies). Errors: SN_ERR_STATE
 * (not int mode, L == 0, not adapted), SN_ERR_NOMEM. */
SN_API sn_status sn_text_dataset_int(sn_dataset *out, const sn_vectorizer *v, const sn_text_corpus *c);

/* Bags (multi_hot / count / tf_idf): every document encoded once into CSR;
 * sparse = 1, x_numel = output width. fill points b->sp_row_ptr (B+1),
 * sp_col, sp_val at CSR storage owned by the dataset, valid until the next
 * fill (one fill at a time), and writes labels into b->y (B, 1). */
SN_API sn_status sn_text_dataset_bag(sn_dataset *out, const sn_vectorizer *v, const sn_text_corpus *c);

#ifdef __cplusplus
}
#endif
#endif
