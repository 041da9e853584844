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

typedef struct cl_opts {
    int epochs, batch, max_tokens, seq_len, quiet, plots, strip_html, stem, w2v_dim, w2v_epochs, resume, patience;
    sn_optimizer_cfg opt;
    uint64_t seed;
    const char *out, *vectors;
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
    wo.seed = o->seed;
    printf("training Word2Vec (skip-gram, negative sampling, dim %d, %d epochs) on %zu documents\n", wo.dim, wo.epochs, n);
    double t0 = sn_time_now();
    st = sn_word2vec_train(&d->wv, texts, n, &wo, w2v_progress, NULL);
    free(texts);
    if (st) return cli_fail(st, "word2vec");
    char path[4096];
    snprintf(path, sizeof path, "%s/word2vec.txt", o->out);
    if ((st = sn_wordvec_save(d->wv, path, 0))) return cli_fail(st, path);
    printf("word2vec: %zu words in %.1f s, saved %s\n", d->wv->n, sn_time_now() - t0, path);
    return 0;
}

static int run_preset(cl_data *d, const char *name, const char *spec_fmt, sn_output_mode mode, int ngrams, int pretrained,
                      double seed_acc, const cl_opts *o, cl_result *res) {
    memset(res, 0, sizeof *res);
    snprintf(res->name, sizeof res->name, "%s", name);
    res->seed_acc = seed_acc;
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.max_tokens = o->max_tokens;
    vo.ngrams = ngrams;
    vo.output_mode = mode;
    vo.strip_html = o->strip_html;
    vo.stem = o->stem;
    if (mode == SN_OUTPUT_INT) vo.output_sequence_length = o->seq_len;
    else vo.pad_to_max_tokens = 1; /* fixed input width = max_tokens, as the seed's Input(shape=(max_tokens,)) */
    sn_vectorizer *v = NULL;
    sn_status st = sn_vectorizer_init(&v, &vo);
    if (st) return cli_fail(st, "vectorizer");
    double t0 = sn_time_now();
    if ((st = sn_vectorizer_adapt(v, (const char *const *)d->train.texts, d->train.n))) {
        sn_vectorizer_free(v);
        return cli_fail(st, "adapt");
    }
    printf("\n== %s: vocabulary %zu tokens (ngrams %d), adapted in %.1f s\n", name, sn_vectorizer_vocab_size(v), ngrams,
           sn_time_now() - t0);
    sn_dataset tr, va, te;
    memset(&tr, 0, sizeof tr);
    memset(&va, 0, sizeof va);
    memset(&te, 0, sizeof te);
    t0 = sn_time_now();
    if (mode == SN_OUTPUT_INT) {
        st = sn_text_dataset_int(&tr, v, &d->train);
        if (!st) st = sn_text_dataset_int(&va, v, &d->val);
        if (!st) st = sn_text_dataset_int(&te, v, &d->test);
    } else {
        st = sn_text_dataset_bag(&tr, v, &d->train);
        if (!st) st = sn_text_dataset_bag(&va, v, &d->val);
        if (!st) st = sn_text_dataset_bag(&te, v, &d->test);
    }
    sn_model *m = NULL, *best = NULL;
    sn_history h = {0};
    int rc = 0;
    if (st) {
        rc = cli_fail(st, "encoding");
        goto out;
    }
    printf("encoded train / val / test in %.1f s\n", sn_time_now() - t0);
    int width = (int)sn_vectorizer_output_width(v);
    if (pretrained && (rc = get_vectors(d, o))) goto out;
    char spec[1024];
    if (pretrained)
        snprintf(spec, sizeof spec, spec_fmt, o->max_tokens, d->wv->dim);
    else
        snprintf(spec, sizeof spec, spec_fmt, o->max_tokens);
    sn_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.input_rank = 1;
    mo.input_shape[0] = width;
    mo.input_sparse = mode != SN_OUTPUT_INT;
    mo.seed = o->seed;
    if ((st = sn_model_init(&m, spec, &mo))) {
        rc = cli_fail(st, name);
        goto out;
    }
    if (pretrained) {
        size_t V = sn_vectorizer_vocab_size(v), numel, found = 0;
        float *emb = sn_model_tensor(m, "embedding", "embeddings", &numel);
        if (!emb) {
            rc = cli_fail(SN_ERR_ARG, name);
            goto out;
        }
        const char **vocab = malloc(V * sizeof *vocab);
        for (size_t i = 0; i < V; i++) vocab[i] = sn_vectorizer_token(v, i);
        memset(emb, 0, numel * sizeof(float));
        st = sn_wordvec_to_matrix(d->wv, vocab, V, d->wv->dim, emb, SN_WORDVEC_MISSING_ZERO, NULL, &found);
        free(vocab);
        if (st) {
            rc = cli_fail(st, "pretrained embedding");
            goto out;
        }
        printf("pretrained embedding: %zu of %zu vocabulary rows found (%.1f%% coverage), frozen\n", found, V,
               100.0 * (double)found / (double)V);
    }
    res->params = sn_model_param_count(m, NULL, NULL);
    printf("model: %s\n", sn_model_spec(m));
    if (!o->quiet) {
        char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
        if (s) fputs(s, stdout);
        free(s);
    }
    sn_optimizer_cfg oc = o->opt;
    sn_metric_kind mk = SN_METRIC_ACCURACY;
    if ((st = sn_model_compile(m, &oc, SN_LOSS_BCE, &mk, 1))) {
        rc = cli_fail(st, name);
        goto out;
    }
    void *blob;
    size_t blen;
    if ((st = sn_vectorizer_save_blob(v, &blob, &blen))) {
        rc = cli_fail(st, "vectorizer");
        goto out;
    }
    sn_model_set_meta(m, "vectorizer", blob, blen);
    free(blob);
    char classes[256];
    snprintf(classes, sizeof classes, "%s\n%s\n", d->train.class_names[0], d->train.class_names[1]);
    sn_model_set_meta(m, "classes", classes, strlen(classes));
    char ck[4096], rs[4096];
    snprintf(ck, sizeof ck, "%s/%s.seqnn", o->out, name);
    snprintf(rs, sizeof rs, "%s/%s.resume", o->out, name);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = o->epochs;
    fo.batch_size = o->batch;
    fo.seed = o->seed;
    fo.val = &va;
    fo.checkpoint_path = ck;
    fo.checkpoint_monitor = "val_loss";
    fo.save_best_only = 1;
    fo.resume_path = rs;
    fo.resume = o->resume;
    fo.early_stopping_patience = o->patience;
    fo.stop_flag = &cli_stop_flag;
    cli_progress pg;
    cli_progress_init(&pg, o->quiet);
    fo.progress = cli_progress_cb;
    fo.user = &pg;
    t0 = sn_time_now();
    st = sn_model_fit(m, &tr, &fo, &h);
    res->seconds = sn_time_now() - t0;
    if (st) {
        rc = cli_fail(st, name);
        goto out;
    }
    res->epochs_run = h.epochs;
    if ((st = sn_model_load(&best, ck))) {
        rc = cli_fail(st, "reloading the best checkpoint");
        goto out;
    }
    sn_logs vl, tl;
    if ((st = sn_model_evaluate(best, &va, o->batch, &vl)) || (st = sn_model_evaluate(best, &te, o->batch, &tl))) {
        rc = cli_fail(st, "evaluation");
        goto out;
    }
    res->val_acc = 100 * sn_logs_get(&vl, "accuracy");
    res->test_acc = 100 * sn_logs_get(&tl, "accuracy");
    double *tmp = malloc((size_t)h.epochs * sizeof(double)), bestv = INFINITY;
    const double *col = sn_history_column(&h, "val_loss", tmp);
    for (int e = 0; col && e < h.epochs; e++)
        if (col[e] < bestv) {
            bestv = col[e];
            res->best_epoch = e + 1;
        }
    free(tmp);
    printf("%s: best epoch %d, val acc %.2f%%, test acc %.2f%%, %.1f s\n", name, res->best_epoch, res->val_acc,
           res->test_acc, res->seconds);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.history.csv", o->out, name);
    sn_history_write_csv(&h, path);
    if (o->plots) {
        double *a = malloc((size_t)h.epochs * sizeof(double)), *b = malloc((size_t)h.epochs * sizeof(double));
        const double *ta = sn_history_column(&h, "accuracy", a), *vb = sn_history_column(&h, "val_accuracy", b);
        snprintf(path, sizeof path, "%s/%s_accuracy.png", o->out, name);
        char title[128];
        snprintf(title, sizeof title, "%s: training and validation accuracy", name);
        if (ta && (st = sn_plot_history(path, "accuracy", ta, vb, h.epochs, title))) cli_fail(st, "plot");
        free(a);
        free(b);
    }
out:
    sn_history_free(&h);
    sn_model_free(m);
    sn_model_free(best);
    sn_dataset_free(&tr);
    sn_dataset_free(&va);
    sn_dataset_free(&te);
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

int cmd_classify(int argc, char **argv) {
    cli_opt opts[] = {
        {"data", 1, "folder with train/ and test/ (pos, neg) or the aclImdb .tar.xz / .tar.gz (default tests/fixtures/imdb_small)", NULL},
        {"model", 1, "preset (unigram bigram bigram_tfidf onehot_bilstm embedding_bilstm embedding_bilstm_masked pretrained_bilstm), a spec or @file", NULL},
        {"all", 0, "run every preset and print the seed-style table", NULL},
        {"models", 1, "with --all: comma-separated subset", NULL},
        {"epochs", 1, "epochs (default 10, as the seed)", NULL},
        {"batch-size", 1, "batch size (default 32)", NULL},
        {"validation-split", 1, "fraction of the training texts kept for validation (default 0.2)", NULL},
        {"max-tokens", 1, "vocabulary size incl. special tokens (default 20000)", NULL},
        {"sequence-length", 1, "int mode: tokens kept per review (default 600)", NULL},
        {"output-mode", 1, "custom spec: int | multi_hot | count | tf_idf (default int)", NULL},
        {"ngrams", 1, "custom spec: n-gram width (default 1)", NULL},
        {"strip-html", 0, "replace <br /> by a space before standardization (not Keras)", NULL},
        {"stem", 0, "Porter-stem tokens (not Keras)", NULL},
        {"vectors", 1, "pretrained word vectors (word2vec text/binary or GloVe) for pretrained_bilstm", NULL},
        {"w2v-dim", 1, "Word2Vec dimension when training vectors here (default 100)", NULL},
        {"w2v-epochs", 1, "Word2Vec epochs (default 5)", NULL},
        {"limit", 1, "use only N training (and N test) documents (quick runs)", NULL},
        CLI_OPTIMIZER_OPTS,
        {"seed", 1, "random seed (default 1337, as the book's split)", NULL},
        {"out", 1, "output directory (default out/classify)", NULL},
        {"patience", 1, "early stopping patience on val_loss (default off)", NULL},
        {"resume", 0, "continue an interrupted run from its .resume file", NULL},
        {"no-plots", 0, "skip plots", NULL},
        {"quiet", 0, "no per-epoch progress", NULL},
        {"help", 0, "show this help", NULL},
        {NULL, 0, NULL, NULL}};
    if (cli_parse(argc, argv, 2, opts, "classify")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "classify", "[--data PATH] (--model NAME|SPEC | --all) [options]");
        return 0;
    }
    int all = cli_flag(opts, "all");
    const char *model = cli_get(opts, "model");
    if (!all && !model) {
        fprintf(stderr, "seqnn classify: give --model NAME|SPEC or --all (see seqnn classify --help)\n");
        return 2;
    }
    long epochs, batch, maxtok, seqlen, seed, ngrams, limit, w2vdim, w2vep, patience;
    double vsplit;
    if (cli_int(opts, "epochs", 10, 1, 100000, &epochs) || cli_int(opts, "batch-size", 32, 1, 1 << 20, &batch) ||
        cli_int(opts, "max-tokens", 20000, 3, 1 << 24, &maxtok) || cli_int(opts, "sequence-length", 600, 1, 1 << 20, &seqlen) ||
        cli_int(opts, "seed", 1337, 0, 0x7fffffffL, &seed) || cli_int(opts, "ngrams", 1, 1, 16, &ngrams) ||
        cli_int(opts, "limit", 0, 0, 1 << 30, &limit) || cli_int(opts, "w2v-dim", 100, 1, 4096, &w2vdim) ||
        cli_int(opts, "w2v-epochs", 5, 1, 1000, &w2vep) || cli_int(opts, "patience", -1, -1, 100000, &patience) ||
        cli_double(opts, "validation-split", 0.2, 0.0, 0.95, &vsplit))
        return 2;
    if (vsplit <= 0) {
        fprintf(stderr, "seqnn classify: --validation-split must be > 0 (the best checkpoint is chosen on validation)\n");
        return 2;
    }
    cl_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = (int)epochs;
    o.batch = (int)batch;
    o.max_tokens = (int)maxtok;
    o.seq_len = (int)seqlen;
    o.seed = (uint64_t)seed;
    o.out = cli_get(opts, "out") ? cli_get(opts, "out") : "out/classify";
    o.vectors = cli_get(opts, "vectors");
    o.quiet = cli_flag(opts, "quiet");
    o.plots = !cli_flag(opts, "no-plots");
    o.strip_html = cli_flag(opts, "strip-html");
    o.stem = cli_flag(opts, "stem");
    o.w2v_dim = (int)w2vdim;
    o.w2v_epochs = (int)w2vep;
    o.resume = cli_flag(opts, "resume");
    o.patience = (int)patience;
    if (cli_optimizer(opts, SN_OPT_RMSPROP, &o.opt)) return 2;
    if (cli_mkdirs(o.out)) {
        fprintf(stderr, "seqnn classify: cannot create output directory '%s'\n", o.out);
        return 1;
    }
    const char *data = cli_get(opts, "data") ? cli_get(opts, "data") : "tests/fixtures/imdb_small";
    const char *subset = cli_get(opts, "models");
    int want_unsup = !o.vectors && ((all && (!subset || strstr(subset, "pretrained"))) ||
                                    (model && !strcmp(model, "pretrained_bilstm")));
    cli_install_signals();
    cl_data d;
    if (load_data(&d, data, vsplit, o.seed, (size_t)limit, want_unsup)) {
        cl_free(&d);
        return 1;
    }
    cl_result res[N_CPRESETS + 1];
    int nres = 0, rc = 0;
    if (all) {
        for (int i = 0; i < N_CPRESETS && !rc; i++) {
            if (subset) {
                char buf[512], key[80];
                snprintf(buf, sizeof buf, ",%s,", subset);
                snprintf(key, sizeof key, ",%s,", g_cpresets[i].name);
                if (!strstr(buf, key)) continue;
            }
            const cpreset *p = &g_cpresets[i];
            rc = run_preset(&d, p->name, p->spec, p->mode, p->ngrams, p->pretrained, p->seed_acc, &o, &res[nres]);
            if (!rc) nres++;
        }
    } else {
        const cpreset *p = NULL;
        for (int i = 0; i < N_CPRESETS; i++)
            if (!strcmp(g_cpresets[i].name, model)) p = &g_cpresets[i];
        if (p) {
            rc = run_preset(&d, p->name, p->spec, p->mode, p->ngrams, p->pretrained, p->seed_acc, &o, &res[nres]);
        } else {
            char *spec = cli_read_spec(model);
            sn_output_mode mode = SN_OUTPUT_INT;
            if (cli_get(opts, "output-mode") && parse_mode(cli_get(opts, "output-mode"), &mode)) {
                fprintf(stderr, "seqnn classify: --output-mode must be int, multi_hot, count or tf_idf\n");
                free(spec);
                cl_free(&d);
                return 2;
            }
            /* A custom spec is used verbatim (no %d expansion). */
            char *esc = spec ? malloc(strlen(spec) * 2 + 1) : NULL;
            if (esc) {
                size_t k = 0;
                for (const char *q = spec; *q; q++) {
                    if (*q == '%') esc[k++] = '%';
                    esc[k++] = *q;
                }
                esc[k] = 0;
            }
            rc = esc ? run_preset(&d, "custom", esc, mode, (int)ngrams, 0, NAN, &o, &res[nres]) : 1;
            free(esc);
            free(spec);
        }
        if (!rc) nres++;
    }
    if (!rc && nres) rc = write_table(res, nres, o.out, data, &d, o.seed);
    cl_free(&d);
    return rc;
}
