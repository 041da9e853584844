/* seqnn vectorize (TextVectorization inspection) and seqnn embed (Word2Vec
 * training, word-vector queries). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seqnn/text.h"
#include "seqnn/wordvec.h"

static int parse_mode(const char *s, sn_output_mode *m) {
    static const char *const names[] = {"int", "multi_hot", "count", "tf_idf"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *m = (sn_output_mode)i;
            return 0;
        }
    return -1;
}

static int parse_standardize(const char *s, sn_standardize *m) {
    static const char *const names[] = {"lower_and_strip_punctuation", "lower", "strip_punctuation", "none"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *m = (sn_standardize)i;
            return 0;
        }
    return -1;
}

/* Loads every text under path/subdir (all classes) for adapt or Word2Vec. */
static int load_texts(const char *path, const char *subdir, sn_text_corpus *c) {
    sn_text_load_opts lo;
    sn_text_load_opts_default(&lo);
    lo.subdir = subdir;
    double t0 = sn_time_now();
    sn_status st = sn_text_load(c, path, &lo);
    if (st) return cli_fail(st, path);
    printf("read %zu texts from %s%s%s in %.1f s\n", c->n, path, subdir ? "/" : "", subdir ? subdir : "", sn_time_now() - t0);
    return 0;
}

/* The command's options; each is one line of the table in cmd_vectorize. */
typedef struct vz_opts {
    const char *data, *subdir, *model, *output_mode, *standardize, *text;
    int max_tokens, ngrams, seq_len, top, character, strip_html, stem, utf8_lower;
} vz_opts;

/* The vectorizer stored in a model file. */
static int vz_from_model(const char *path, sn_vectorizer **v) {
    sn_model *m = NULL;
    sn_status st = sn_model_load(&m, path);
    if (st) return cli_fail(st, NULL);
    size_t n;
    const void *b = sn_model_get_meta(m, "vectorizer", &n);
    st = b ? sn_vectorizer_load_blob(v, b, n) : sn_error(SN_ERR_ARG, "%s holds no vectorizer", path);
    sn_model_free(m);
    if (st) return cli_fail(st, NULL);
    return 0;
}

/* A vectorizer from the options, adapted on --data (or on --text itself,
 * which shows the Keras rules on one example). Returns 0, 1 or 2 (usage). */
static int vz_adapt(const vz_opts *o, sn_vectorizer **v) {
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.max_tokens = o->max_tokens;
    vo.ngrams = o->ngrams;
    vo.output_sequence_length = o->seq_len;
    vo.strip_html = o->strip_html;
    vo.stem = o->stem;
    vo.utf8_lower = o->utf8_lower;
    if (o->character) vo.split = SN_SPLIT_CHARACTER;
    if (o->output_mode && parse_mode(o->output_mode, &vo.output_mode)) {
        fprintf(stderr, "seqnn vectorize: --output-mode must be int, multi_hot, count or tf_idf\n");
        return 2;
    }
    if (o->standardize && parse_standardize(o->standardize, &vo.standardize)) {
        fprintf(stderr, "seqnn vectorize: unknown --standardize '%s'\n", o->standardize);
        return 2;
    }
    sn_status st;
    if ((st = sn_vectorizer_init(v, &vo))) return cli_fail(st, NULL);
    if (o->data) {
        sn_text_corpus c;
        if (load_texts(o->data, o->subdir, &c)) return 1;
        double t0 = sn_time_now();
        st = sn_vectorizer_adapt(*v, (const char *const *)c.texts, c.n);
        sn_text_corpus_free(&c);
        if (st) return cli_fail(st, "adapt");
        printf("adapted in %.2f s\n", sn_time_now() - t0);
    } else if (o->text) {
        if ((st = sn_vectorizer_adapt(*v, &o->text, 1))) return cli_fail(st, "adapt");
    } else {
        fprintf(stderr, "seqnn vectorize: give --data PATH, --model FILE or --text T\n");
        return 2;
    }
    return 0;
}

/* int mode: every id, then the padded / truncated sequence. */
static void vz_show_ids(const sn_vectorizer *v, const char *text) {
    const sn_vectorizer_opts *vo = sn_vectorizer_get_opts(v);
    size_t n = 0;
    sn_vectorizer_encode_ids(v, text, NULL, 0, &n);
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (ids && sn_vectorizer_encode_ids(v, text, ids, n, &n) == SN_OK) {
        printf("ids (%zu):", n);
        for (size_t i = 0; i < n; i++) printf(" %d", ids[i]);
        printf("\n");
    }
    free(ids);
    if (vo->output_sequence_length > 0) {
        float *f = malloc((size_t)vo->output_sequence_length * sizeof(float));
        if (f && sn_vectorizer_encode_int(v, text, f) == SN_OK) {
            printf("padded to %d:", vo->output_sequence_length);
            for (int i = 0; i < vo->output_sequence_length; i++) printf(" %g", f[i]);
            printf("\n");
        }
        free(f);
    }
}

/* Bag modes: the non-zero entries with their tokens. */
static void vz_show_bag(const sn_vectorizer *v, const char *text) {
    size_t W = sn_vectorizer_output_width(v), nnz = 0;
    int32_t *idx = malloc((W ? W : 1) * sizeof *idx);
    float *val = malloc((W ? W : 1) * sizeof *val);
    sn_status st = SN_OK;
    if (idx && val && (st = sn_vectorizer_encode_sparse(v, text, idx, val, W, &nnz)) == SN_OK) {
        printf("non-zeros (%zu of %zu):", nnz, W);
        for (size_t i = 0; i < nnz; i++) printf(" %d:\"%s\"=%.4g", idx[i], sn_vectorizer_token(v, (size_t)idx[i]), val[i]);
        printf("\n");
    } else if (st) {
        cli_fail(st, "encode");
    }
    free(idx);
    free(val);
}

int cmd_vectorize(int argc, char **argv) {
    vz_opts o;
    memset(&o, 0, sizeof o);
    cli_opt opts[] = {
        CLI_STR("data", &o.data, NULL, "texts to adapt on: a folder of class folders or an archive"),
        CLI_STR("subdir", &o.subdir, NULL, "folder inside --data holding the class folders (e.g. aclImdb/train)"),
        CLI_STR("model", &o.model, NULL, "show the vectorizer stored in this model file instead of adapting"),
        CLI_INT("max-tokens", &o.max_tokens, 20000, 0, 1 << 26, "vocabulary bound incl. special tokens (default 20000)"),
        CLI_INT("ngrams", &o.ngrams, 1, 1, 16, "n-gram width (default 1)"),
        CLI_STR("output-mode", &o.output_mode, NULL, "int | multi_hot | count | tf_idf (default int)"),
        CLI_STR("standardize", &o.standardize, NULL, "lower_and_strip_punctuation | lower | strip_punctuation | none"),
        CLI_FLAG("character", &o.character, "split into characters instead of whitespace tokens"),
        CLI_INT("sequence-length", &o.seq_len, 0, 0, 1 << 20, "int mode: pad / truncate to this length"),
        CLI_FLAG("strip-html", &o.strip_html, "replace <br /> by a space first (not Keras)"),
        CLI_FLAG("stem", &o.stem, "Porter-stem tokens (not Keras)"),
        CLI_FLAG("utf8-lower", &o.utf8_lower, "lowercase beyond ASCII (not Keras)"),
        CLI_INT("top", &o.top, 20, 0, 1 << 24, "vocabulary entries to show (default 20)"),
        CLI_STR("text", &o.text, NULL, "a text to encode"),
        CLI_HELP,
        CLI_END};
    if (cli_parse(argc, argv, 2, opts, "vectorize")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "vectorize", "(--data PATH [--subdir S] | --model FILE) [--text T] [options]");
        return 0;
    }
    if (cli_apply(opts)) return 2;
    sn_vectorizer *v = NULL;
    int rc = o.model ? vz_from_model(o.model, &v) : vz_adapt(&o, &v);
    if (rc) {
        sn_vectorizer_free(v);
        return rc;
    }
    size_t V = sn_vectorizer_vocab_size(v);
    printf("vocabulary: %zu entries (output width %zu)\n", V, sn_vectorizer_output_width(v));
    for (size_t i = 0; i < V && i < (size_t)o.top; i++) printf("  %5zu  \"%s\"\n", i, sn_vectorizer_token(v, i));
    if (o.text) {
        char *std = NULL;
        if (sn_vectorizer_standardize(v, o.text, &std) == SN_OK) printf("standardized: \"%s\"\n", std);
        free(std);
        if (sn_vectorizer_get_opts(v)->output_mode == SN_OUTPUT_INT) vz_show_ids(v, o.text);
        else vz_show_bag(v, o.text);
    }
    sn_vectorizer_free(v);
    return 0;
}

static int w2v_cb(int epoch, int epochs, float alpha, double loss, double wps, void *user) {
    (void)user;
    printf("epoch %d/%d: loss %.4f, alpha %.5f, %.0f words/s\n", epoch, epochs, loss, alpha, wps);
    fflush(stdout);
    return 0;
}

static void print_hits(const sn_wordvec_hit *h, int n) {
    for (int i = 0; i < n; i++) printf("  %-20s %.4f\n", h[i].word, h[i].score);
}

/* The command's options; each is one line of the table in cmd_embed. */
/* The command's options; each is one line of the table in cmd_embed. */
typedef struct em_opts {
    const char *train, *subdir, *out, *vectors, *similar, *analogy;
    int binary, dim, window, negative, min_count, epochs, k;
    double sample;
    uint64_t seed;
} em_opts;

/* Word2Vec on the texts of --train, saved to --out. */
static int em_train(const em_opts *o, sn_wordvec **wv) {
    sn_text_corpus c;
    if (load_texts(o->train, o->subdir, &c)) return 1;
    sn_word2vec_opts wo;
    sn_word2vec_opts_default(&wo);
    wo.dim = o->dim;
    wo.window = o->window;
    wo.negative = o->negative;
    wo.min_count = o->min_count;
    wo.sample = o->sample;
    wo.epochs = o->epochs;
    wo.seed = o->seed;
    double t0 = sn_time_now();
    sn_status st = sn_word2vec_train(wv, (const char *const *)c.texts, c.n, &wo, w2v_cb, NULL);
    sn_text_corpus_free(&c);
    if (st) return cli_fail(st, "word2vec");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", o->out);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        cli_mkdirs(dir);
    }
    if ((st = sn_wordvec_save(*wv, o->out, o->binary))) return cli_fail(st, NULL);
    printf("trained %zu words x %d in %.1f s with %d threads; saved %s\n", (*wv)->n, (*wv)->dim, sn_time_now() - t0,
           sn_threads_get(), o->out);
    if (sn_threads_get() > 1) printf("note: Hogwild training: the vectors are reproducible only with --threads 1\n");
    return 0;
}

/* --similar and --analogy on the table. */
static int em_query(const em_opts *o, const sn_wordvec *wv) {
    int rc = 0, nh = 0;
    sn_status st;
    sn_wordvec_hit *hits = malloc((size_t)o->k * sizeof *hits);
    if (o->similar) {
        if ((st = sn_wordvec_similar(wv, o->similar, o->k, hits, &nh))) {
            rc = cli_fail(st, "--similar");
        } else {
            printf("closest to \"%s\":\n", o->similar);
            print_hits(hits, nh);
        }
    }
    if (!rc && o->analogy) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", o->analogy);
        char *a = strtok(buf, ","), *b = strtok(NULL, ","), *c = strtok(NULL, ",");
        if (!a || !b || !c || strtok(NULL, ",")) {
            fprintf(stderr, "seqnn embed: --analogy takes three words a,b,c (a is to b as c is to ?)\n");
            rc = 2;
        } else if ((st = sn_wordvec_analogy(wv, a, b, c, o->k, hits, &nh))) {
            rc = cli_fail(st, "--analogy");
        } else {
            printf("%s is to %s as %s is to:\n", a, b, c);
            print_hits(hits, nh);
        }
    }
    free(hits);
    return rc;
}

int cmd_embed(int argc, char **argv) {
    em_opts o;
    memset(&o, 0, sizeof o);
    cli_opt opts[] = {
        CLI_STR("train", &o.train, NULL, "train Word2Vec on the texts of a folder or archive"),
        CLI_STR("subdir", &o.subdir, NULL, "folder inside --train (e.g. aclImdb/train: neg, pos and unsup)"),
        CLI_STR("out", &o.out, "out/word2vec.txt", "where to save trained vectors (default out/word2vec.txt)"),
        CLI_FLAG("binary", &o.binary, "save in word2vec binary format"),
        CLI_INT("dim", &o.dim, 100, 1, 4096, "vector size (default 100)"),
        CLI_INT("window", &o.window, 5, 1, 100, "context window (default 5)"),
        CLI_INT("negative", &o.negative, 5, 0, 100, "negative samples (default 5)"),
        CLI_INT("min-count", &o.min_count, 5, 1, 1 << 30, "minimum word count (default 5)"),
        CLI_DOUBLE("sample", &o.sample, 1e-3, 0, 1, "subsampling threshold (default 1e-3)"),
        CLI_INT("epochs", &o.epochs, 5, 1, 1000, "epochs (default 5)"),
        CLI_U64("seed", &o.seed, 1, 0, 0x7fffffffL, "seed (default 1)"),
        CLI_STR("vectors", &o.vectors, NULL, "load vectors (word2vec text / binary, GloVe) to query"),
        CLI_STR("similar", &o.similar, NULL, "print the words closest to WORD"),
        CLI_STR("analogy", &o.analogy, NULL, "a,b,c: a is to b as c is to ? (b - a + c)"),
        CLI_INT("k", &o.k, 10, 1, 10000, "results to show (default 10)"),
        CLI_HELP,
        CLI_END};
    if (cli_parse(argc, argv, 2, opts, "embed")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "embed", "(--train PATH [--out F] | --vectors F) [--similar W] [--analogy a,b,c]");
        printf("\nWord2Vec trains Hogwild (lock-free threads, as word2vec.c): with more than one thread the\n"
               "vectors differ from run to run; they are reproducible only with --threads 1.\n");
        return 0;
    }
    if (cli_apply(opts)) return 2;
    sn_wordvec *wv = NULL;
    int rc;
    if (o.train) {
        rc = em_train(&o, &wv);
    } else if (o.vectors) {
        sn_status st = sn_wordvec_load(&wv, o.vectors, SN_WORDVEC_AUTO, 0);
        rc = st ? cli_fail(st, NULL) : 0;
        if (!rc) printf("loaded %zu words x %d\n", wv->n, wv->dim);
    } else {
        fprintf(stderr, "seqnn embed: give --train PATH or --vectors FILE\n");
        return 2;
    }
    if (!rc) rc = em_query(&o, wv);
    sn_wordvec_free(wv);
    return rc;
}
