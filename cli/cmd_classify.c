/* seqnn classify: the seed's IMDB experiment (module 7, part III) as a
 * product. Loads a labelled text folder or archive like Keras's
 * text_dataset_from_directory, adapts a TextVectorization on the training
 * texts, trains a bag-of-words or sequence preset (or any spec) with RMSprop,
 * binary crossentropy and accuracy, keeps the best-on-validation checkpoint
 * and reports test accuracy. The vectorizer is stored in the model file, so
 * `seqnn predict` classifies raw text. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_dist.h"
#include "cli_train.h"
#include "seqnn/plot.h"
#include "seqnn/text.h"
#include "seqnn/wordvec.h"

typedef struct cpreset {
    const char *name;
    const char *spec;          /* %d = max_tokens (and embedding width where relevant) */
    sn_output_mode mode;
    int ngrams;
    int pretrained;            /* fill the embedding from word vectors, frozen */
    double seed_acc;           /* the seed's Keras test accuracy (%) */
} cpreset;

static const cpreset g_cpresets[] = {
    {"unigram", "dense(16, activation=relu), dropout(0.5), dense(1, activation=sigmoid)", SN_OUTPUT_MULTI_HOT, 1, 0, 89.2},
    {"bigram", "dense(16, activation=relu), dropout(0.5), dense(1, activation=sigmoid)", SN_OUTPUT_MULTI_HOT, 2, 0, 90.4},
    {"bigram_tfidf", "dense(16, activation=relu), dropout(0.5), dense(1, activation=sigmoid)", SN_OUTPUT_TF_IDF, 2, 0, 89.8},
    {"onehot_bilstm", "onehot(%d), bidirectional(lstm(32)), dropout(0.5), dense(1, activation=sigmoid)", SN_OUTPUT_INT, 1, 0,
     87.0},
    {"embedding_bilstm", "embedding(%d, 256), bidirectional(lstm(32)), dropout(0.5), dense(1, activation=sigmoid)",
     SN_OUTPUT_INT, 1, 0, 87.0},
    {"embedding_bilstm_masked",
     "embedding(%d, 256, mask_zero=true), bidirectional(lstm(32)), dropout(0.5), dense(1, activation=sigmoid)", SN_OUTPUT_INT,
     1, 0, 88.0},
    {"pretrained_bilstm",
     "embedding(%d, %d, mask_zero=true, trainable=false), bidirectional(lstm(32)), dropout(0.5), dense(1, activation=sigmoid)",
     SN_OUTPUT_INT, 1, 1, NAN},
};
#define N_CPRESETS ((int)(sizeof g_cpresets / sizeof *g_cpresets))

/* The command's options; each is one line of the table in cmd_classify. */
typedef struct cl_opts {
    cli_train t;
    const char *data, *vectors, *output_mode;
    int max_tokens, seq_len, ngrams, strip_html, stem, w2v_dim, w2v_epochs;
    size_t limit;
    double vsplit;
} cl_opts;

typedef struct cl_data {
    sn_text_corpus all_train, train, val, test, unsup;
    int has_unsup;
    sn_wordvec *wv; /* word vectors for the pretrained preset (lazy) */
} cl_data;

typedef struct cl_result {
    char name[64];
    size_t params;
    double val_acc, test_acc, seconds, seed_acc;
    int epochs_run, best_epoch;
} cl_result;

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Finds the train / test folders: <dir>/train, <dir>/aclImdb/train, or the
 * same inside an archive (aclImdb/train assumed). */
static int load_data(cl_data *d, const char *path, double vsplit, uint64_t seed, size_t limit, int want_unsup) {
    memset(d, 0, sizeof *d);
    const char *prefix = "aclImdb/";
    if (is_dir(path)) {
        char b[4096];
        snprintf(b, sizeof b, "%s/train", path);
        if (is_dir(b)) prefix = "";
    }
    char trs[256], tes[256];
    snprintf(trs, sizeof trs, "%strain", prefix);
    snprintf(tes, sizeof tes, "%stest", prefix);
    static const char *const classes[] = {"neg", "pos"};
    static const char *const unsup_class[] = {"unsup"};
    sn_text_load_opts lo[3];
    for (int i = 0; i < 3; i++) sn_text_load_opts_default(&lo[i]);
    lo[0].subdir = trs;
    lo[0].class_names = classes;
    lo[0].n_class_names = 2;
    lo[1].subdir = tes;
    lo[1].class_names = classes;
    lo[1].n_class_names = 2;
    lo[2].subdir = trs;
    lo[2].class_names = unsup_class;
    lo[2].n_class_names = 1;
    sn_text_corpus c[3];
    double t0 = sn_time_now();
    sn_status st = sn_text_load_multi(c, path, lo, 2);
    if (st) return cli_fail(st, NULL); /* the message names the path */
    d->all_train = c[0];
    d->test = c[1];
    if (want_unsup) {
        st = sn_text_load_multi(&c[2], path, &lo[2], 1);
        if (st == SN_OK) {
            d->unsup = c[2];
            d->has_unsup = 1;
        }
    }
    printf("data: %s: train %zu, test %zu%s documents, classes %s/%s, read in %.1f s\n", path, d->all_train.n, d->test.n,
           d->has_unsup ? " (+ unsup)" : "", d->all_train.class_names[0], d->all_train.class_names[1], sn_time_now() - t0);
    if (limit && limit < d->all_train.n) {
        /* A seeded subset for quick runs: shuffle, keep `limit`. */
        sn_text_corpus keep, rest;
        double frac = 1.0 - (double)limit / (double)d->all_train.n;
        if ((st = sn_text_split(&d->all_train, frac, seed ^ 77, &keep, &rest))) return cli_fail(st, "--limit");
        sn_text_corpus_free(&rest);
        sn_text_corpus_free(&d->all_train);
        d->all_train = keep;
        if (limit < d->test.n) {
            frac = 1.0 - (double)limit / (double)d->test.n;
            if ((st = sn_text_split(&d->test, frac, seed ^ 78, &keep, &rest))) return cli_fail(st, "--limit");
            sn_text_corpus_free(&rest);
            sn_text_corpus_free(&d->test);
            d->test = keep;
        }
        printf("      --limit: using %zu training and %zu test documents\n", d->all_train.n, d->test.n);
    }
    if ((st = sn_text_split(&d->all_train, vsplit, seed, &d->train, &d->val))) return cli_fail(st, "validation split");
    if (d->train.n == 0 || d->val.n == 0 || d->test.n == 0) {
        fprintf(stderr,
                "seqnn classify: %s: %zu training documents split at %.2f leave %zu for training and %zu for validation, "
                "with %zu test documents: each must be at least 1\n",
                path, d->all_train.n, vsplit, d->train.n, d->val.n, d->test.n);
        return 1;
    }
    printf("      split: %zu training / %zu validation documents (validation_split %.2f, seed %llu)\n", d->train.n,
           d->val.n, vsplit, (unsigned long long)seed);
    return 0;
}

static void cl_free(cl_data *d) {
    sn_text_corpus_free(&d->all_train);
    sn_text_corpus_free(&d->train);
    sn_text_corpus_free(&d->val);
    sn_text_corpus_free(&d->test);
    sn_text_corpus_free(&d->unsup);
    sn_wordvec_free(d->wv);
}

static int w2v_progress(int epoch, int epochs, float alpha, double loss, double wps, void *user) {
    (void)user;
    printf("word2vec epoch %d/%d: loss %.4f, alpha %.5f, %.0f words/s\n", epoch, epochs, loss, alpha, wps);
    fflush(stdout);
    return 0;
}

/* Word vectors for the pretrained preset: --vectors FILE, else Word2Vec
 * trained here on the training texts (+ unsup when present). */
static int get_vectors(cl_data *d, const cl_opts *o) {
    if (d->wv) return 0;
    sn_status st;
    if (o->vectors) {
        if ((st = sn_wordvec_load(&d->wv, o->vectors, SN_WORDVEC_AUTO, 0))) return cli_fail(st, o->vectors);
        printf("word vectors: %s: %zu words x %d\n", o->vectors, d->wv->n, d->wv->dim);
        return 0;
    }
    size_t n = d->train.n + (d->has_unsup ? d->unsup.n : 0);
    const char **texts = malloc(n * sizeof *texts);
    if (!texts) return cli_fail(SN_ERR_NOMEM, "word2vec");
    for (size_t i = 0; i < d->train.n; i++) texts[i] = d->train.texts[i];
    for (size_t i = 0; d->has_unsup && i < d->unsup.n; i++) texts[d->train.n + i] = d->unsup.texts[i];
    sn_word2vec_opts wo;
    sn_word2vec_opts_default(&wo);
    wo.dim = o->w2v_dim;
    wo.epochs = o->w2v_epochs;
    wo.seed = o->t.seed;
    printf("training Word2Vec (skip-gram, negative sampling, dim %d, %d epochs) on %zu documents\n", wo.dim, wo.epochs, n);
    double t0 = sn_time_now();
    st = sn_word2vec_train(&d->wv, texts, n, &wo, w2v_progress, NULL);
    free(texts);
    if (st) return cli_fail(st, "word2vec");
    /* MPI: Hogwild vectors differ from rank to rank; all take rank 0's */
    if ((st = cli_dist_share(d->wv->vecs, d->wv->n * (size_t)d->wv->dim * sizeof(float))))
        return cli_fail(st, "word2vec");
    char path[4096];
    snprintf(path, sizeof path, "%s/word2vec.txt", o->t.out);
    if (cli_is_root() && (st = sn_wordvec_save(d->wv, path, 0))) return cli_fail(st, path);
    printf("word2vec: %zu words in %.1f s, saved %s\n", d->wv->n, sn_time_now() - t0, path);
    if (sn_threads_get() > 1) printf("note: Hogwild training: the vectors are reproducible only with --threads 1\n");
    return 0;
}

/* A TextVectorization for the preset, adapted on the training texts. */
static int cl_vectorizer(const cl_data *d, const char *name, sn_output_mode mode, int ngrams, const cl_opts *o,
                         sn_vectorizer **v) {
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.max_tokens = o->max_tokens;
    vo.ngrams = ngrams;
    vo.output_mode = mode;
    vo.strip_html = o->strip_html;
    vo.stem = o->stem;
    if (mode == SN_OUTPUT_INT) vo.output_sequence_length = o->seq_len;
    else vo.pad_to_max_tokens = 1; /* fixed input width = max_tokens, as the seed's Input(shape=(max_tokens,)) */
    sn_status st = sn_vectorizer_init(v, &vo);
    if (st) return cli_fail(st, "vectorizer");
    double t0 = sn_time_now();
    if ((st = sn_vectorizer_adapt(*v, (const char *const *)d->train.texts, d->train.n))) return cli_fail(st, "adapt");
    printf("\n== %s: vocabulary %zu tokens (ngrams %d), adapted in %.1f s\n", name, sn_vectorizer_vocab_size(*v), ngrams,
           sn_time_now() - t0);
    return 0;
}

/* The train / validation / test sets encoded by v (ids or sparse bags). */
static int cl_encode(cl_data *d, const sn_vectorizer *v, sn_output_mode mode, sn_dataset set[3]) {
    double t0 = sn_time_now();
    const sn_text_corpus *c[3] = {&d->train, &d->val, &d->test};
    sn_status st = SN_OK;
    for (int i = 0; i < 3 && !st; i++)
        st = mode == SN_OUTPUT_INT ? sn_text_dataset_int(&set[i], v, c[i]) : sn_text_dataset_bag(&set[i], v, c[i]);
    if (st) return cli_fail(st, "encoding");
    printf("encoded train / val / test in %.1f s\n", sn_time_now() - t0);
    return 0;
}

/* pretrained_bilstm: the embedding rows from the word vectors, frozen. */
static int cl_pretrained(cl_data *d, sn_model *m, const sn_vectorizer *v, const char *name) {
    size_t V = sn_vectorizer_vocab_size(v), numel, found = 0;
    float *emb = sn_model_tensor(m, "embedding", "embeddings", &numel);
    if (!emb) return cli_fail(SN_ERR_ARG, name);
    const char **vocab = malloc(V * sizeof *vocab);
    for (size_t i = 0; i < V; i++) vocab[i] = sn_vectorizer_token(v, i);
    memset(emb, 0, numel * sizeof(float));
    sn_status st = sn_wordvec_to_matrix(d->wv, vocab, V, d->wv->dim, emb, SN_WORDVEC_MISSING_ZERO, NULL, &found);
    free(vocab);
    if (st) return cli_fail(st, "pretrained embedding");
    printf("pretrained embedding: %zu of %zu vocabulary rows found (%.1f%% coverage), frozen\n", found, V,
           100.0 * (double)found / (double)V);
    return 0;
}

/* The model from the preset's spec (%d = max_tokens, then the vector
 * width), compiled (RMSprop-style options, BCE, accuracy), with the
 * vectorizer and class names stored in it. */
static int cl_build(cl_data *d, const sn_vectorizer *v, const char *name, const char *spec_fmt, sn_output_mode mode,
                    int pretrained, const cl_opts *o, sn_model **m, size_t *params) {
    if (pretrained && get_vectors(d, o)) return 1;
    char spec[1024];
    if (pretrained) snprintf(spec, sizeof spec, spec_fmt, o->max_tokens, d->wv->dim);
    else snprintf(spec, sizeof spec, spec_fmt, o->max_tokens);
    sn_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.input_rank = 1;
    mo.input_shape[0] = (int)sn_vectorizer_output_width(v);
    mo.input_sparse = mode != SN_OUTPUT_INT;
    mo.seed = o->t.seed;
    sn_status st;
    if ((st = sn_model_init(m, spec, &mo))) return cli_fail(st, name);
    if (pretrained && cl_pretrained(d, *m, v, name)) return 1;
    *params = sn_model_param_count(*m, NULL, NULL);
    printf("model: %s\n", sn_model_spec(*m));
    if (!o->t.quiet) {
        char *s = sn_model_summary(*m, SN_SUMMARY_KERAS3);
        if (s) fputs(s, stdout);
        free(s);
    }
    sn_optimizer_cfg oc = o->t.opt;
    sn_metric_kind mk = SN_METRIC_ACCURACY;
    if ((st = sn_model_compile(*m, &oc, SN_LOSS_BCE, &mk, 1))) return cli_fail(st, name);
    void *blob;
    size_t blen;
    if ((st = sn_vectorizer_save_blob(v, &blob, &blen))) return cli_fail(st, "vectorizer");
    sn_model_set_meta(*m, "vectorizer", blob, blen);
    free(blob);
    char classes[256];
    snprintf(classes, sizeof classes, "%s\n%s\n", d->train.class_names[0], d->train.class_names[1]);
    sn_model_set_meta(*m, "classes", classes, strlen(classes));
    return 0;
}

/* Training and validation accuracy as a PNG in the output directory. */
static void cl_plot(const cl_opts *o, const char *name, const sn_history *h) {
    double *ta = cli_history_column(h, "accuracy"), *vb = cli_history_column(h, "val_accuracy");
    char path[4096], title[128];
    snprintf(path, sizeof path, "%s/%s_accuracy.png", o->t.out, name);
    snprintf(title, sizeof title, "%s: training and validation accuracy", name);
    sn_status st;
    if (ta && (st = sn_plot_history(path, "accuracy", ta, vb, h->epochs, title))) cli_fail(st, "plot");
    free(ta);
    free(vb);
}

/* One preset (or a custom spec): vectorize, encode, build, train, evaluate
 * the best-on-validation checkpoint. */
static int run_preset(cl_data *d, const char *name, const char *spec_fmt, sn_output_mode mode, int ngrams, int pretrained,
                      double seed_acc, const cl_opts *o, cl_result *res) {
    memset(res, 0, sizeof *res);
    snprintf(res->name, sizeof res->name, "%s", name);
    res->seed_acc = seed_acc;
    sn_vectorizer *v = NULL;
    sn_dataset set[3];
    memset(set, 0, sizeof set);
    sn_model *m = NULL, *best = NULL;
    sn_history h = {0};
    cli_fit_result fr = {0};
    int rc = cl_vectorizer(d, name, mode, ngrams, o, &v);
    if (!rc) rc = cl_encode(d, v, mode, set);
    if (!rc) rc = cl_build(d, v, name, spec_fmt, mode, pretrained, o, &m, &res->params);
    if (!rc) {
        rc = cli_fit_best(m, &o->t, name, &set[0], &set[1], &set[2], "accuracy", 0, &best, &h, &fr);
        res->seconds = fr.seconds;
        res->epochs_run = fr.epochs_run;
    }
    if (!rc) {
        res->val_acc = 100 * fr.val;
        res->test_acc = 100 * fr.test;
        res->best_epoch = fr.best_epoch;
        printf("%s: best epoch %d, val acc %.2f%%, test acc %.2f%%, %.1f s\n", name, res->best_epoch, res->val_acc,
               res->test_acc, res->seconds);
        cli_write_history(&o->t, name, &h, 0);
        if (!o->t.no_plots) cl_plot(o, name, &h);
    }
    sn_history_free(&h);
    sn_model_free(m);
    sn_model_free(best);
    for (int i = 0; i < 3; i++) sn_dataset_free(&set[i]);
    sn_vectorizer_free(v);
    return rc;
}

static int write_table(const cl_result *r, int n, const char *out, const char *data, const cl_data *d, uint64_t seed) {
    char pre[1024];
    snprintf(pre, sizeof pre, "Data: `%s`: %zu train / %zu validation / %zu test documents; seed %llu", data, d->train.n,
             d->val.n, d->test.n, (unsigned long long)seed);
    cli_row rows[N_CPRESETS + 1];
    for (int i = 0; i < n; i++)
        rows[i] = (cli_row){r[i].name, r[i].params, r[i].epochs_run, r[i].best_epoch, r[i].val_acc,
                            r[i].test_acc, r[i].seed_acc, r[i].seconds};
    return cli_write_results(out, pre, "acc", 1, rows, n);
}

static int parse_mode(const char *s, sn_output_mode *m) {
    if (!strcmp(s, "int")) *m = SN_OUTPUT_INT;
    else if (!strcmp(s, "multi_hot")) *m = SN_OUTPUT_MULTI_HOT;
    else if (!strcmp(s, "count")) *m = SN_OUTPUT_COUNT;
    else if (!strcmp(s, "tf_idf")) *m = SN_OUTPUT_TF_IDF;
    else return -1;
    return 0;
}

/* A custom spec is used verbatim: '%' is doubled so that the preset
 * expansion leaves it as it is. Returns a fresh string or NULL. */
static char *escape_percent(const char *spec) {
    char *esc = spec ? malloc(strlen(spec) * 2 + 1) : NULL;
    if (!esc) return NULL;
    size_t k = 0;
    for (const char *q = spec; *q; q++) {
        if (*q == '%') esc[k++] = '%';
        esc[k++] = *q;
    }
    esc[k] = 0;
    return esc;
}

/* --model: a preset by name, else a spec (text or @file) trained in
 * --output-mode with --ngrams. */
static int cl_run_one(cl_data *d, const cl_opts *o, cl_result *res) {
    for (int i = 0; i < N_CPRESETS; i++) {
        const cpreset *p = &g_cpresets[i];
        if (!strcmp(p->name, o->t.model))
            return run_preset(d, p->name, p->spec, p->mode, p->ngrams, p->pretrained, p->seed_acc, o, res);
    }
    char *spec = cli_read_spec(o->t.model);
    sn_output_mode mode = SN_OUTPUT_INT;
    if (o->output_mode && parse_mode(o->output_mode, &mode)) {
        fprintf(stderr, "seqnn classify: --output-mode must be int, multi_hot, count or tf_idf\n");
        free(spec);
        return 2;
    }
    char *esc = escape_percent(spec);
    int rc = esc ? run_preset(d, "custom", esc, mode, o->ngrams, 0, NAN, o, res) : 1;
    free(esc);
    free(spec);
    return rc;
}

/* --all (with the --models subset) or the one --model; then the table. */
static int cl_run(cl_data *d, const cl_opts *o) {
    cl_result res[N_CPRESETS + 1];
    int nres = 0, rc = 0;
    if (o->t.all) {
        for (int i = 0; i < N_CPRESETS && !rc; i++) {
            const cpreset *p = &g_cpresets[i];
            if (o->t.models && !cli_in_list(o->t.models, p->name)) continue;
            rc = run_preset(d, p->name, p->spec, p->mode, p->ngrams, p->pretrained, p->seed_acc, o, &res[nres]);
            if (!rc) nres++;
        }
    } else {
        rc = cl_run_one(d, o, &res[0]);
        if (!rc) nres++;
    }
    if (!rc && nres) rc = write_table(res, nres, o->t.out, o->data, d, o->t.seed);
    return rc;
}

int cmd_classify(int argc, char **argv) {
    cl_opts o;
    memset(&o, 0, sizeof o);
    cli_opt opts[] = {
        CLI_STR("data", &o.data, "tests/fixtures/imdb_small",
                "folder with train/ and test/ (pos, neg) or the aclImdb .tar.xz / .tar.gz (default tests/fixtures/imdb_small)"),
        CLI_TRAIN_MODEL(&o.t, "preset (unigram bigram bigram_tfidf onehot_bilstm embedding_bilstm embedding_bilstm_masked pretrained_bilstm), a spec or @file"),
        CLI_TRAIN_ALL(&o.t),
        CLI_TRAIN_MODELS(&o.t, "with --all: comma-separated subset"),
        CLI_TRAIN_EPOCHS(&o.t, 10, "epochs (default 10, as the seed)"),
        CLI_TRAIN_BATCH(&o.t, 32, "batch size (default 32)"),
        CLI_DOUBLE("validation-split", &o.vsplit, 0.2, 0.0, 0.95, "fraction of the training texts kept for validation (default 0.2)"),
        CLI_INT("max-tokens", &o.max_tokens, 20000, 3, 1 << 24, "vocabulary size incl. special tokens (default 20000)"),
        CLI_INT("sequence-length", &o.seq_len, 600, 1, 1 << 20, "int mode: tokens kept per review (default 600)"),
        CLI_STR("output-mode", &o.output_mode, NULL, "custom spec: int | multi_hot | count | tf_idf (default int)"),
        CLI_INT("ngrams", &o.ngrams, 1, 1, 16, "custom spec: n-gram width (default 1)"),
        CLI_FLAG("strip-html", &o.strip_html, "replace <br /> by a space before standardization (not Keras)"),
        CLI_FLAG("stem", &o.stem, "Porter-stem tokens (not Keras)"),
        CLI_STR("vectors", &o.vectors, NULL, "pretrained word vectors (word2vec text/binary or GloVe) for pretrained_bilstm"),
        CLI_INT("w2v-dim", &o.w2v_dim, 100, 1, 4096, "Word2Vec dimension when training vectors here (default 100)"),
        CLI_INT("w2v-epochs", &o.w2v_epochs, 5, 1, 1000, "Word2Vec epochs (default 5)"),
        CLI_SIZE("limit", &o.limit, 0, 0, 1 << 30, "use only N training (and N test) documents (quick runs)"),
        CLI_OPTIMIZER_OPTS,
        CLI_TRAIN_SEED(&o.t, 1337, "random seed (default 1337, as the book's split)"),
        CLI_TRAIN_OUT(&o.t, "out/classify"),
        CLI_TRAIN_PATIENCE(&o.t),
        CLI_TRAIN_RESUME(&o.t),
        CLI_TRAIN_NO_PLOTS(&o.t, "skip plots"),
        CLI_TRAIN_QUIET(&o.t),
        CLI_HELP,
        CLI_END};
    int rc = cli_train_parse(argc, argv, opts, "classify", "[--data PATH] (--model NAME|SPEC | --all) [options]", &o.t);
    if (rc >= 0) return rc;
    if (o.vsplit <= 0) {
        fprintf(stderr, "seqnn classify: --validation-split must be > 0 (the best checkpoint is chosen on validation)\n");
        return 2;
    }
    if (cli_optimizer(opts, SN_OPT_RMSPROP, &o.t.opt)) return 2;
    if (cli_train_mkout(&o.t, "classify")) return 1;
    int want_unsup = !o.vectors && ((o.t.all && (!o.t.models || strstr(o.t.models, "pretrained"))) ||
                                    (o.t.model && !strcmp(o.t.model, "pretrained_bilstm")));
    cli_install_signals();
    cl_data d;
    if (load_data(&d, o.data, o.vsplit, o.t.seed, o.limit, want_unsup)) {
        cl_free(&d);
        return 1;
    }
    rc = cl_run(&d, &o);
    cl_free(&d);
    return rc;
}
