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

int cmd_vectorize(int argc, char **argv) {
    cli_opt opts[] = {
        {"data", 1, "texts to adapt on: a folder of class folders or an archive", NULL},
        {"subdir", 1, "folder inside --data holding the class folders (e.g. aclImdb/train)", NULL},
        {"model", 1, "show the vectorizer stored in this model file instead of adapting", NULL},
        {"max-tokens", 1, "vocabulary bound incl. special tokens (default 20000)", NULL},
        {"ngrams", 1, "n-gram width (default 1)", NULL},
        {"output-mode", 1, "int | multi_hot | count | tf_idf (default int)", NULL},
        {"standardize", 1, "lower_and_strip_punctuation | lower | strip_punctuation | none", NULL},
        {"character", 0, "split into characters instead of whitespace tokens", NULL},
        {"sequence-length", 1, "int mode: pad / truncate to this length", NULL},
        {"strip-html", 0, "replace <br /> by a space first (not Keras)", NULL},
        {"stem", 0, "Porter-stem tokens (not Keras)", NULL},
        {"utf8-lower", 0, "lowercase beyond ASCII (not Keras)", NULL},
        {"top", 1, "vocabulary entries to show (default 20)", NULL},
        {"text", 1, "a text to encode", NULL},
        {"help", 0, "show this help", NULL},
        {NULL, 0, NULL, NULL}};
    if (cli_parse(argc, argv, 2, opts, "vectorize")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "vectorize", "(--data PATH [--subdir S] | --model FILE) [--text T] [options]");
        return 0;
    }
    long maxtok, ngrams, seqlen, top;
    if (cli_int(opts, "max-tokens", 20000, 0, 1 << 26, &maxtok) || cli_int(opts, "ngrams", 1, 1, 16, &ngrams) ||
        cli_int(opts, "sequence-length", 0, 0, 1 << 20, &seqlen) || cli_int(opts, "top", 20, 0, 1 << 24, &top))
        return 2;
    sn_vectorizer *v = NULL;
    sn_status st;
    if (cli_get(opts, "model")) {
        sn_model *m = NULL;
        if ((st = sn_model_load(&m, cli_get(opts, "model")))) return cli_fail(st, NULL);
        size_t n;
        const void *b = sn_model_get_meta(m, "vectorizer", &n);
        st = b ? sn_vectorizer_load_blob(&v, b, n) : sn_error(SN_ERR_ARG, "%s holds no vectorizer", cli_get(opts, "model"));
        sn_model_free(m);
        if (st) return cli_fail(st, NULL);
    } else {
        sn_vectorizer_opts vo;
        sn_vectorizer_opts_default(&vo);
        vo.max_tokens = (int)maxtok;
        vo.ngrams = (int)ngrams;
        vo.output_sequence_length = (int)seqlen;
        vo.strip_html = cli_flag(opts, "strip-html");
        vo.stem = cli_flag(opts, "stem");
        vo.utf8_lower = cli_flag(opts, "utf8-lower");
        if (cli_flag(opts, "character")) vo.split = SN_SPLIT_CHARACTER;
        if (cli_get(opts, "output-mode") && parse_mode(cli_get(opts, "output-mode"), &vo.output_mode)) {
            fprintf(stderr, "seqnn vectorize: --output-mode must be int, multi_hot, count or tf_idf\n");
            return 2;
        }
        if (cli_get(opts, "standardize") && parse_standardize(cli_get(opts, "standardize"), &vo.standardize)) {
            fprintf(stderr, "seqnn vectorize: unknown --standardize '%s'\n", cli_get(opts, "standardize"));
            return 2;
        }
        if ((st = sn_vectorizer_init(&v, &vo))) return cli_fail(st, NULL);
        const char *data = cli_get(opts, "data");
        if (data) {
            sn_text_corpus c;
            if (load_texts(data, cli_get(opts, "subdir"), &c)) {
                sn_vectorizer_free(v);
                return 1;
            }
            double t0 = sn_time_now();
            st = sn_vectorizer_adapt(v, (const char *const *)c.texts, c.n);
            sn_text_corpus_free(&c);
            if (st) {
                sn_vectorizer_free(v);
                return cli_fail(st, "adapt");
            }
            printf("adapted in %.2f s\n", sn_time_now() - t0);
        } else if (cli_get(opts, "text")) {
            /* Adapt on the text itself: shows the Keras rules on one example. */
            const char *t = cli_get(opts, "text");
            if ((st = sn_vectorizer_adapt(v, &t, 1))) {
                sn_vectorizer_free(v);
                return cli_fail(st, "adapt");
            }
        } else {
            fprintf(stderr, "seqnn vectorize: give --data PATH, --model FILE or --text T\n");
            sn_vectorizer_free(v);
            return 2;
        }
    }
    size_t V = sn_vectorizer_vocab_size(v);
    printf("vocabulary: %zu entries (output width %zu)\n", V, sn_vectorizer_output_width(v));
    for (size_t i = 0; i < V && i < (size_t)top; i++) printf("  %5zu  \"%s\"\n", i, sn_vectorizer_token(v, i));
    const char *text = cli_get(opts, "text");
    if (text) {
        char *std = NULL;
        if (sn_vectorizer_standardize(v, text, &std) == SN_OK) printf("standardized: \"%s\"\n", std);
        free(std);
        const sn_vectorizer_opts *vo = sn_vectorizer_get_opts(v);
        if (vo->output_mode == SN_OUTPUT_INT) {
            size_t n = 0;
            sn_vectorizer_encode_ids(v, text, NULL, 0, &n);
            int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
            if (ids && (st = sn_vectorizer_encode_ids(v, text, ids, n, &n)) == SN_OK) {
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
        } else {
            size_t W = sn_vectorizer_output_width(v), nnz = 0;
            int32_t *idx = malloc((W ? W : 1) * sizeof *idx);
            float *val = malloc((W ? W : 1) * sizeof *val);
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

int cmd_embed(int argc, char **argv) {
    cli_opt opts[] = {
        {"train", 1, "train Word2Vec on the texts of a folder or archive", NULL},
        {"subdir", 1, "folder inside --train (e.g. aclImdb/train: neg, pos and unsup)", NULL},
        {"out", 1, "where to save trained vectors (default out/word2vec.txt)", NULL},
        {"binary", 0, "save in word2vec binary format", NULL},
        {"dim", 1, "vector size (default 100)", NULL},
        {"window", 1, "context window (default 5)", NULL},
        {"negative", 1, "negative samples (default 5)", NULL},
        {"min-count", 1, "minimum word count (default 5)", NULL},
        {"sample", 1, "subsampling threshold (default 1e-3)", NULL},
        {"epochs", 1, "epochs (default 5)", NULL},
        {"seed", 1, "seed (default 1)", NULL},
        {"vectors", 1, "load vectors (word2vec text / binary, GloVe) to query", NULL},
        {"similar", 1, "print the words closest to WORD", NULL},
        {"analogy", 1, "a,b,c: a is to b as c is to ? (b - a + c)", NULL},
        {"k", 1, "results to show (default 10)", NULL},
        {"help", 0, "show this help", NULL},
        {NULL, 0, NULL, NULL}};
    if (cli_parse(argc, argv, 2, opts, "embed")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "embed", "(--train PATH [--out F] | --vectors F) [--similar W] [--analogy a,b,c]");
        return 0;
    }
    long k, dim, window, neg, minc, epochs, seed;
    double sample;
    if (cli_int(opts, "k", 10, 1, 10000, &k) || cli_int(opts, "dim", 100, 1, 4096, &dim) ||
        cli_int(opts, "window", 5, 1, 100, &window) || cli_int(opts, "negative", 5, 0, 100, &neg) ||
        cli_int(opts, "min-count", 5, 1, 1 << 30, &minc) || cli_int(opts, "epochs", 5, 1, 1000, &epochs) ||
        cli_int(opts, "seed", 1, 0, 0x7fffffffL, &seed) || cli_double(opts, "sample", 1e-3, 0, 1, &sample))
        return 2;
    sn_wordvec *wv = NULL;
    sn_status st;
    if (cli_get(opts, "train")) {
        sn_text_corpus c;
        if (load_texts(cli_get(opts, "train"), cli_get(opts, "subdir"), &c)) return 1;
        sn_word2vec_opts wo;
        sn_word2vec_opts_default(&wo);
        wo.dim = (int)dim;
        wo.window = (int)window;
        wo.negative = (int)neg;
        wo.min_count = (int)minc;
        wo.sample = sample;
        wo.epochs = (int)epochs;
        wo.seed = (uint64_t)seed;
        double t0 = sn_time_now();
        st = sn_word2vec_train(&wv, (const char *const *)c.texts, c.n, &wo, w2v_cb, NULL);
        sn_text_corpus_free(&c);
        if (st) return cli_fail(st, "word2vec");
        const char *out = cli_get(opts, "out") ? cli_get(opts, "out") : "out/word2vec.txt";
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", out);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = 0;
            cli_mkdirs(dir);
        }
        if ((st = sn_wordvec_save(wv, out, cli_flag(opts, "binary")))) {
            sn_wordvec_free(wv);
            return cli_fail(st, NULL);
        }
        printf("trained %zu words x %d in %.1f s with %d threads; saved %s\n", wv->n, wv->dim, sn_time_now() - t0,
               sn_threads_get(), out);
    } else if (cli_get(opts, "vectors")) {
        if ((st = sn_wordvec_load(&wv, cli_get(opts, "vectors"), SN_WORDVEC_AUTO, 0))) return cli_fail(st, NULL);
        printf("loaded %zu words x %d\n", wv->n, wv->dim);
    } else {
        fprintf(stderr, "seqnn embed: give --train PATH or --vectors FILE\n");
        return 2;
    }
    int rc = 0;
    sn_wordvec_hit *hits = malloc((size_t)k * sizeof *hits);
    int nh = 0;
    if (cli_get(opts, "similar")) {
        if ((st = sn_wordvec_similar(wv, cli_get(opts, "similar"), (int)k, hits, &nh))) {
            rc = cli_fail(st, "--similar");
        } else {
            printf("closest to \"%s\":\n", cli_get(opts, "similar"));
            print_hits(hits, nh);
        }
    }
    if (!rc && cli_get(opts, "analogy")) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", cli_get(opts, "analogy"));
        char *a = strtok(buf, ","), *b = strtok(NULL, ","), *c = strtok(NULL, ",");
        if (!a || !b || !c || strtok(NULL, ",")) {
            fprintf(stderr, "seqnn embed: --analogy takes three words a,b,c (a is to b as c is to ?)\n");
            rc = 2;
        } else if ((st = sn_wordvec_analogy(wv, a, b, c, (int)k, hits, &nh))) {
            rc = cli_fail(st, "--analogy");
        } else {
            printf("%s is to %s as %s is to:\n", a, b, c);
            print_hits(hits, nh);
        }
    }
    free(hits);
    sn_wordvec_free(wv);
    return rc;
}
