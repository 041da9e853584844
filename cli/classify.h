/* seqnn classify, shared by its files: cmd_classify.c (options, the runs
 * over presets × folds or seeds), classify_data.c (corpora: folders,
 * archives, CSV / TSV / JSONL, test and validation splits, folds, length
 * and vocabulary defaults), classify_run.c (the presets, vectorizing,
 * training one model, naive Bayes and logistic regression in closed form)
 * and classify_report.c (metrics, confusion matrix, results tables). */
#ifndef SEQNN_CLI_CLASSIFY_H
#define SEQNN_CLI_CLASSIFY_H

#include "cli.h"
#include "cli_dist.h"
#include "cli_train.h"
#include "seqnn/classify.h"
#include "seqnn/text.h"
#include "seqnn/wordvec.h"

/* What the preset's head and loss are. */
typedef enum cl_task {
    CL_BINARY = 0,     /* two classes: dense(1, sigmoid) + binary crossentropy (the seed's) */
    CL_MULTICLASS = 1, /* K > 2: dense(K, softmax) + sparse categorical crossentropy */
    CL_MULTILABEL = 2  /* --multi-label: dense(K, sigmoid) + binary crossentropy over K */
} cl_task;

/* How a preset is trained. */
typedef enum cl_kind { CL_NET = 0, CL_NB = 1, CL_LOGREG = 2 } cl_kind;

typedef struct cpreset {
    const char *name;
    const char *spec;          /* %d = vocabulary bound (then the embedding width where relevant) */
    sn_output_mode mode;
    int ngrams;
    int pretrained;            /* 1: embedding from word vectors, frozen; 2: from --vectors when given, trainable */
    int chars;                 /* character tokens (split=character, no punctuation stripping) */
    cl_kind kind;
    double seed_acc;           /* the seed's Keras test accuracy (%), NaN for presets beyond the seed */
} cpreset;

extern const cpreset cl_presets[];
extern const int cl_n_presets, cl_n_seed_presets;

/* The command's options; each is one line of the table in cmd_classify. */
typedef struct cl_opts {
    cli_train t;
    const char *data, *vectors, *output_mode, *format, *text_column, *label_column, *encoding, *test_data;
    const char *seq_len_s, *max_tokens_s, *class_weight, *label_delim;
    int max_tokens, seq_len, ngrams, strip_html, stem, w2v_dim, w2v_epochs, no_header, folds, multi_label, repeats;
    int max_tokens_auto, seq_len_auto;
    int shard;       /* under MPI: index the table and read only this rank's training share (cl_load decides) */
    size_t limit;
    double vsplit, test_split, l2, nb_alpha;
    sn_text_format fmt;
    sn_text_encoding enc;
} cl_opts;

/* The data of one run (a fold, or the one split). */
typedef struct cl_data {
    sn_text_corpus train, val, test;
    const sn_text_corpus *unsup; /* the aclImdb "unsup" reviews (Word2Vec), borrowed from cl_corpus, or NULL */
    cl_task task;
    sn_wordvec *wv; /* word vectors for the pretrained presets (lazy) */
    /* defaults the data implies */
    int imdb_layout;  /* the aclImdb folders (train / test, neg / pos, <id>_<stars>.txt): the seed's 600 / 20000 */
    int seed_data;    /* exactly the seed's data (all 25000 + 25000 reviews): the seed's reference column */
    const char *path;
    /* Read in parts (cl_opts.shard): train holds the texts of documents
     * [lo, hi) only, the others are ""; val and test are whole. */
    int sharded;
    size_t lo, hi;
} cl_data;

/* Everything loaded once: the labelled documents and, unless folds are
 * made from it, the fixed test part. */
typedef struct cl_corpus {
    sn_text_corpus all, test, unsup;
    int has_test, has_unsup, imdb_layout, seed_data;
    int indexed;     /* all and test are indexes of their files (cl_opts.shard), texts "" */
    int folders;     /* a folder corpus: all under sub[0], a fixed test under sub[1] */
    int own_test;    /* test has its own source (--test-data, or the test/ folder) */
    char sub[2][256];
    double seconds;
} cl_corpus;

typedef struct cl_result {
    char name[64];   /* preset or "custom" */
    char run[32];    /* "" (one run), "fold 2", "seed 1338" */
    int fold;        /* 1-based fold, 0 without folds */
    uint64_t seed;
    size_t params;
    double val_acc, test_acc, macro_f1, weighted_f1, roc_auc, seconds, seed_acc;
    int epochs_run, best_epoch;
} cl_result;

/* classify_data.c */
/* Loads --data (and --test-data) as o says; prints the data line. 0 / 1. */
int cl_load(cl_corpus *c, cl_opts *o);
void cl_corpus_free(cl_corpus *c);
/* The table reader's options from o (--format, columns, header, encoding, labels). */
void cl_table_opts(const cl_opts *o, sn_text_table_opts *t);
/* The run's parts: test = the fixed test set (fold < 0) or fold `fold` of
 * `folds`; validation split off the rest with o->vsplit. 0 / 1. */
int cl_make_run(const cl_corpus *c, const cl_opts *o, const int *folds, int fold, uint64_t seed, cl_data *d);
/* A sharded run's texts (classify_shard.c): the training documents of this
 * rank's chunk positions, validation and test whole; every rank learns
 * whether all read theirs. 0 / 1. */
int cl_read_shard(const cl_corpus *c, const cl_opts *o, int test_own, cl_data *d);
void cl_data_free(cl_data *d);
/* The 95th percentile of the training texts' token counts for vectorizer
 * options vo (sequence-length auto). */
int cl_auto_length(const sn_text_corpus *train, const sn_vectorizer_opts *vo);
/* The same over every rank's share of a sharded run: the ranks' token
 * counts gathered in document order, so every rank finds the percentile of
 * all training texts. Collective. 0 / 1 (on every rank). */
int cl_auto_length_group(const cl_data *d, const sn_vectorizer_opts *vo, int *len);

/* classify_run.c */
/* One preset (p) or custom spec on d: vectorize, encode, train (or fit in
 * closed form), evaluate the best checkpoint, report. `tag` suffixes the
 * file names ("" or "_fold2"). 0 / 1. */
int cl_run_preset(cl_data *d, const cpreset *p, const char *spec_fmt, const cl_opts *o, const char *tag,
                  cl_result *res);
/* The preset called name, or NULL. */
const cpreset *cl_find_preset(const char *name);

/* classify_report.c */
/* Test predictions probs (n, width) against d->test: prints accuracy,
 * per-class precision / recall / F1, macro and weighted F1, the confusion
 * matrix, ROC-AUC for two classes; writes <out>/<name><tag>_confusion.csv
 * (and .png unless no_plots); fills res's metric fields. 0 / 1. */
int cl_report(const cl_data *d, const float *probs, size_t width, const cl_opts *o, const char *name, const char *tag,
              cl_result *res);
/* The results table (rows r, n) to stdout and <out>/results.md / .csv;
 * with several runs per model, their mean ± sd rows. 0 / 1. */
int cl_write_table(const cl_result *r, int n, const cl_opts *o, const cl_corpus *c, int show_seed);

#endif
