/* seqnn classify: the presets and the run of one (classify.h). A network
 * preset is vectorized, built from its spec (the seed's two-class head
 * dense(1, sigmoid) becomes dense(K, softmax) for K classes or dense(K,
 * sigmoid) for K labels), trained with the best-on-validation checkpoint and
 * evaluated; nb and logreg are fitted in closed form / by L-BFGS and stored
 * as the same kind of model file (a Dense layer on the bag of n-grams). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "seqnn/plot.h"

#define SEED_HEAD "dense(1, activation=sigmoid)"
#define BAG_HEAD "dense(16, activation=relu), dropout(0.5), " SEED_HEAD

const cpreset cl_presets[] = {
    {"unigram", BAG_HEAD, SN_OUTPUT_MULTI_HOT, 1, 0, 0, CL_NET, 89.2},
    {"bigram", BAG_HEAD, SN_OUTPUT_MULTI_HOT, 2, 0, 0, CL_NET, 90.4},
    {"bigram_tfidf", BAG_HEAD, SN_OUTPUT_TF_IDF, 2, 0, 0, CL_NET, 89.8},
    {"onehot_bilstm", "onehot(%d), bidirectional(lstm(32)), dropout(0.5), " SEED_HEAD, SN_OUTPUT_INT, 1, 0, 0, CL_NET,
     87.0},
    {"embedding_bilstm", "embedding(%d, 256), bidirectional(lstm(32)), dropout(0.5), " SEED_HEAD, SN_OUTPUT_INT, 1, 0, 0,
     CL_NET, 87.0},
    {"embedding_bilstm_masked", "embedding(%d, 256, mask_zero=true), bidirectional(lstm(32)), dropout(0.5), " SEED_HEAD,
     SN_OUTPUT_INT, 1, 0, 0, CL_NET, 88.0},
    {"pretrained_bilstm",
     "embedding(%d, %d, mask_zero=true, trainable=false), bidirectional(lstm(32)), dropout(0.5), " SEED_HEAD,
     SN_OUTPUT_INT, 1, 1, 0, CL_NET, NAN},
    /* beyond the seed */
    {"nb", NULL, SN_OUTPUT_MULTI_HOT, 2, 0, 0, CL_NB, NAN},
    {"logreg", NULL, SN_OUTPUT_MULTI_HOT, 2, 0, 0, CL_LOGREG, NAN},
    {"cnn", "embedding(%d, %d), parallelconv1d(100, kernel_sizes=(3, 4, 5), activation=relu), dropout(0.5), " SEED_HEAD,
     SN_OUTPUT_INT, 1, 2, 0, CL_NET, NAN},
    {"char_cnn",
     "embedding(%d, 32), conv1d(128, 7, activation=relu), maxpooling1d(3), conv1d(128, 5, activation=relu), "
     "globalmaxpooling1d(), dropout(0.5), " SEED_HEAD,
     SN_OUTPUT_INT, 1, 0, 1, CL_NET, NAN},
};
const int cl_n_presets = (int)(sizeof cl_presets / sizeof *cl_presets);
const int cl_n_seed_presets = 7; /* the first seven: the seed's, what --all alone runs */

/* cnn's embedding width without --vectors */
#define CNN_DIM 128

const cpreset *cl_find_preset(const char *name) {
    for (int i = 0; i < cl_n_presets; i++)
        if (!strcmp(cl_presets[i].name, name)) return &cl_presets[i];
    return NULL;
}

/* Outputs of the head: 1 for two classes, else one per class. */
static int head_width(const cl_data *d) { return d->task == CL_BINARY ? 1 : d->train.n_classes; }

static sn_loss_kind task_loss(cl_task t) { return t == CL_MULTICLASS ? SN_LOSS_SCCE : SN_LOSS_BCE; }

static int w2v_progress(int epoch, int epochs, float alpha, double loss, double wps, void *user) {
    (void)user;
    printf("word2vec epoch %d/%d: loss %.4f, alpha %.5f, %.0f words/s\n", epoch, epochs, loss, alpha, wps);
    fflush(stdout);
    return 0;
}

/* Word vectors: --vectors FILE, else Word2Vec trained here on the training
 * texts (+ unsup when present). */
static int get_vectors(cl_data *d, const cl_opts *o) {
    if (d->wv) return 0;
    sn_status st;
    if (o->vectors) {
        if ((st = sn_wordvec_load(&d->wv, o->vectors, SN_WORDVEC_AUTO, 0))) return cli_fail(st, o->vectors);
        printf("word vectors: %s: %zu words x %d\n", o->vectors, d->wv->n, d->wv->dim);
        return 0;
    }
    size_t n = d->train.n + (d->unsup ? d->unsup->n : 0);
    const char **texts = malloc(n * sizeof *texts);
    if (!texts) return cli_fail(SN_ERR_NOMEM, "word2vec");
    for (size_t i = 0; i < d->train.n; i++) texts[i] = d->train.texts[i];
    for (size_t i = 0; d->unsup && i < d->unsup->n; i++) texts[d->train.n + i] = d->unsup->texts[i];
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

/* Tokens seen at least twice in the adapted texts (the auto vocabulary). */
static size_t tokens_seen_twice(const sn_vectorizer *v) {
    size_t k = 0, V = sn_vectorizer_vocab_size(v);
    for (size_t i = 0; i < V; i++) k += sn_vectorizer_token_count(v, i) >= 2;
    return k;
}

/* Adapt on the training texts: in a sharded run, every rank's share. */
static sn_status adapt(const cl_data *d, sn_vectorizer *v) {
    if (!d->sharded) return sn_vectorizer_adapt(v, (const char *const *)d->train.texts, d->train.n);
    return sn_vectorizer_adapt_group(v, (const char *const *)d->train.texts + d->lo, d->hi - d->lo, d->train.n, cli_comm);
}

/* A TextVectorization for the preset, adapted on the training texts; with
 * --max-tokens auto bounded by the tokens seen twice (at most 20000), with
 * --sequence-length auto as long as the 95th percentile of the texts. */
static int cl_vectorizer(const cl_data *d, const char *name, const cpreset *p, const cl_opts *o, sn_vectorizer **v,
                         int *bound) {
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.max_tokens = o->max_tokens_auto ? 20000 : o->max_tokens;
    vo.ngrams = p->ngrams;
    vo.output_mode = p->mode;
    vo.strip_html = o->strip_html;
    vo.stem = o->stem && !p->chars;
    if (p->chars) {
        vo.split = SN_SPLIT_CHARACTER;
        vo.standardize = SN_STANDARDIZE_LOWER; /* punctuation is signal at the character level */
    }
    if (p->mode == SN_OUTPUT_INT && o->seq_len_auto && d->sharded) {
        if (cl_auto_length_group(d, &vo, &vo.output_sequence_length)) return 1;
    } else if (p->mode == SN_OUTPUT_INT)
        vo.output_sequence_length = o->seq_len_auto ? cl_auto_length(&d->train, &vo) : o->seq_len;
    else vo.pad_to_max_tokens = 1; /* fixed input width = max_tokens, as the seed's Input(shape=(max_tokens,)) */
    /* characters: at most 1024 (Zhang, Zhao & LeCun 2015 read 1014) */
    if (p->chars && o->seq_len_auto && vo.output_sequence_length > 1024) vo.output_sequence_length = 1024;
    double t0 = sn_time_now();
    sn_status st = sn_vectorizer_init(v, &vo);
    if (!st) st = adapt(d, *v);
    if (!st && o->max_tokens_auto) {
        int specials = p->mode == SN_OUTPUT_INT ? 2 : 1;
        size_t want = tokens_seen_twice(*v) + (size_t)specials;
        if (want < (size_t)specials + 1) want = (size_t)specials + 1;
        if (want < (size_t)vo.max_tokens) {
            vo.max_tokens = (int)want;
            sn_vectorizer_free(*v);
            st = sn_vectorizer_init(v, &vo);
            if (!st) st = adapt(d, *v);
        }
    }
    if (st && d->sharded) { /* adapt_group failed on every rank: rank 0 says why */
        cli_dist_agreed = 1;
        return cli_is_root() ? cli_fail(st, "vectorizer") : 1;
    }
    if (st) return cli_fail(st, "vectorizer");
    *bound = vo.max_tokens;
    printf("\n== %s: vocabulary %zu tokens (ngrams %d%s), adapted in %.1f s\n", name, sn_vectorizer_vocab_size(*v),
           p->ngrams, p->chars ? ", characters" : "", sn_time_now() - t0);
    if (o->max_tokens_auto) printf("   vocabulary bound %d (auto: the tokens seen at least twice, at most 20000)\n", vo.max_tokens);
    if (p->mode == SN_OUTPUT_INT)
        printf("   sequence length %d%s\n", vo.output_sequence_length,
               !o->seq_len_auto ? "" : p->chars ? " (auto: the 95th percentile of the training texts' lengths, at most 1024)"
                                                 : " (auto: the 95th percentile of the training texts' lengths)");
    return 0;
}

/* A sharded run's training set: this rank's documents [lo, hi) encoded,
 * presented as the whole training set (sn_dataset_window). */
static sn_status encode_share(const cl_data *d, const sn_vectorizer *v, sn_output_mode mode, sn_dataset *out) {
    sn_dataset inner;
    memset(&inner, 0, sizeof inner);
    sn_status st = SN_OK;
    if (d->hi > d->lo) {
        size_t m = d->hi - d->lo, *idx = malloc(m * sizeof *idx);
        sn_text_corpus part;
        for (size_t k = 0; idx && k < m; k++) idx[k] = d->lo + k;
        st = idx ? sn_text_subset(&d->train, idx, m, &part) : SN_ERR_NOMEM;
        free(idx);
        if (st) return st;
        st = mode == SN_OUTPUT_INT ? sn_text_dataset_int(&inner, v, &part) : sn_text_dataset_bag(&inner, v, &part);
        sn_text_corpus_free(&part);
        if (st) return st;
    } else { /* a rank beyond the chunk count holds none: the shape alone */
        inner.x_numel = mode == SN_OUTPUT_INT ? (size_t)sn_vectorizer_get_opts(v)->output_sequence_length
                                              : sn_vectorizer_output_width(v);
        inner.y_numel = d->train.label_sets ? (size_t)d->train.n_classes : 1;
        inner.sparse = mode != SN_OUTPUT_INT;
        inner.sample_weights = d->train.weights != NULL;
    }
    st = sn_dataset_window(out, &inner, d->train.n, d->lo);
    sn_dataset_free(&inner);
    return st;
}

/* The train / validation / test sets encoded by v (ids or sparse bags). */
static int cl_encode(cl_data *d, const sn_vectorizer *v, sn_output_mode mode, sn_dataset set[3]) {
    double t0 = sn_time_now();
    const sn_text_corpus *c[3] = {&d->train, &d->val, &d->test};
    sn_status st = SN_OK;
    for (int i = 0; i < 3 && !st; i++)
        if (i == 0 && d->sharded) st = encode_share(d, v, mode, &set[0]);
        else st = mode == SN_OUTPUT_INT ? sn_text_dataset_int(&set[i], v, c[i]) : sn_text_dataset_bag(&set[i], v, c[i]);
    if (d->sharded) st = sn_comm_agree(cli_comm, st); /* a rank short of memory stops all */
    if (st && d->sharded) {
        cli_dist_agreed = 1;
        return cli_is_root() ? cli_fail(st, "encoding") : 1;
    }
    if (st) return cli_fail(st, "encoding");
    printf("encoded train / val / test in %.1f s\n", sn_time_now() - t0);
    return 0;
}

/* The embedding rows from the word vectors: frozen zero-filled (the seed's
 * pretrained_bilstm) or trainable with uniform rows for absent words (cnn,
 * Kim 2014's non-static variant). */
static int cl_pretrained(cl_data *d, sn_model *m, const sn_vectorizer *v, const char *name, int frozen, uint64_t seed) {
    size_t V = sn_vectorizer_vocab_size(v), numel, found = 0;
    float *emb = sn_model_tensor(m, "embedding", "embeddings", &numel);
    if (!emb) return cli_fail(SN_ERR_ARG, name);
    const char **vocab = malloc(V * sizeof *vocab);
    if (!vocab) return cli_fail(SN_ERR_NOMEM, name);
    for (size_t i = 0; i < V; i++) vocab[i] = sn_vectorizer_token(v, i);
    memset(emb, 0, numel * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_status st = sn_wordvec_to_matrix(d->wv, vocab, V, d->wv->dim, emb,
                                        frozen ? SN_WORDVEC_MISSING_ZERO : SN_WORDVEC_MISSING_UNIFORM, &r, &found);
    free(vocab);
    if (st) return cli_fail(st, "pretrained embedding");
    printf("pretrained embedding: %zu of %zu vocabulary rows found (%.1f%% coverage), %s\n", found, V,
           100.0 * (double)found / (double)V, frozen ? "frozen" : "trainable");
    return 0;
}

/* The spec with the seed's two-class head replaced for K classes / labels. */
static int head_spec(const char *fmt_spec, const cl_data *d, char *out, size_t n) {
    size_t L = strlen(fmt_spec), H = strlen(SEED_HEAD);
    if (d->task == CL_BINARY || L < H || strcmp(fmt_spec + L - H, SEED_HEAD)) return snprintf(out, n, "%s", fmt_spec) >= (int)n;
    return snprintf(out, n, "%.*sdense(%d, activation=%s)", (int)(L - H), fmt_spec, d->train.n_classes,
                    d->task == CL_MULTICLASS ? "softmax" : "sigmoid") >= (int)n;
}

/* Vectorizer, class names (one per line) and, for multi-label, the task
 * into the model's metadata. */
static int set_meta(sn_model *m, const sn_vectorizer *v, const cl_data *d) {
    void *blob;
    size_t blen;
    sn_status st = sn_vectorizer_save_blob(v, &blob, &blen);
    if (st) return cli_fail(st, "vectorizer");
    sn_model_set_meta(m, "vectorizer", blob, blen);
    free(blob);
    size_t cap = 1;
    for (int k = 0; k < d->train.n_classes; k++) cap += strlen(d->train.class_names[k]) + 1;
    char *cls = malloc(cap), *q = cls;
    if (!cls) return cli_fail(SN_ERR_NOMEM, "classes");
    for (int k = 0; k < d->train.n_classes; k++) q += sprintf(q, "%s\n", d->train.class_names[k]);
    sn_model_set_meta(m, "classes", cls, (size_t)(q - cls));
    free(cls);
    if (d->task == CL_MULTILABEL) sn_model_set_meta(m, "task", "multi_label", 11);
    return 0;
}

/* The network from the preset's spec (%d = the vocabulary bound, then the
 * embedding width), compiled (the run's optimizer, the task's loss,
 * accuracy), with the vectorizer and class names stored in it. */
static int cl_build(cl_data *d, const sn_vectorizer *v, const char *name, const char *spec_fmt, const cpreset *p,
                    int bound, const cl_opts *o, sn_model **m, size_t *params) {
    int pre = p->pretrained, use_wv = pre == 1 || (pre == 2 && o->vectors);
    if (use_wv && get_vectors(d, o)) return 1;
    char fmt[1024], spec[1024];
    if (head_spec(spec_fmt, d, fmt, sizeof fmt)) return cli_fail(sn_error(SN_ERR_ARG, "spec too long"), name);
    if (pre) snprintf(spec, sizeof spec, fmt, bound, use_wv ? d->wv->dim : CNN_DIM);
    else snprintf(spec, sizeof spec, fmt, bound);
    sn_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.input_rank = 1;
    mo.input_shape[0] = (int)sn_vectorizer_output_width(v);
    mo.input_sparse = sn_vectorizer_get_opts(v)->output_mode != SN_OUTPUT_INT;
    mo.seed = o->t.seed;
    sn_status st;
    if ((st = sn_model_init(m, spec, &mo))) return cli_fail(st, name);
    if (use_wv && cl_pretrained(d, *m, v, name, pre == 1, o->t.seed)) return 1;
    if ((int)sn_model_output_numel(*m) != head_width(d)) {
        fprintf(stderr, "seqnn classify: %s: the model gives %zu outputs, the data needs %d (%s)\n", name,
                sn_model_output_numel(*m), head_width(d),
                d->task == CL_BINARY ? "two classes: dense(1, activation=sigmoid)" : "one per class");
        return 1;
    }
    *params = sn_model_param_count(*m, NULL, NULL);
    printf("model: %s\n", sn_model_spec(*m));
    if (!o->t.quiet) {
        char *s = sn_model_summary(*m, SN_SUMMARY_KERAS3);
        if (s) fputs(s, stdout);
        free(s);
    }
    sn_optimizer_cfg oc = o->t.opt;
    sn_metric_kind mk = SN_METRIC_ACCURACY;
    if ((st = sn_model_compile(*m, &oc, task_loss(d->task), &mk, 1))) return cli_fail(st, name);
    return set_meta(*m, v, d);
}

/* Training and validation accuracy as a PNG in the output directory. */
static void cl_plot(const cl_opts *o, const char *name, const sn_history *h) {
    double *ta = cli_history_column(h, "accuracy"), *vb = cli_history_column(h, "val_accuracy");
    char path[4096], title[256];
    snprintf(path, sizeof path, "%s/%s_accuracy.png", o->t.out, name);
    snprintf(title, sizeof title, "%s: training and validation accuracy", name);
    sn_status st;
    if (ta && (st = sn_plot_history(path, "accuracy", ta, vb, h->epochs, title))) cli_fail(st, "plot");
    free(ta);
    free(vb);
}

/* The training rows as one CSR batch (the dataset's storage, valid until
 * its next fill). */
static sn_status train_rows(const sn_dataset *ds, sn_csr_rows *x) {
    size_t *idx = malloc(ds->n * sizeof *idx);
    if (!idx) return SN_ERR_NOMEM;
    for (size_t i = 0; i < ds->n; i++) idx[i] = i;
    sn_batch b;
    memset(&b, 0, sizeof b);
    sn_status st = ds->fill(ds->ctx, idx, (int)ds->n, &b);
    free(idx);
    *x = (sn_csr_rows){ds->n, ds->x_numel, b.sp_row_ptr, b.sp_col, b.sp_val};
    return st;
}

/* nb / logreg: the linear model's W (cols, width) and b (width). */
static sn_status fit_linear(const cl_data *d, const cpreset *p, const cl_opts *o, const sn_csr_rows *x, int width,
                            float *W, float *b) {
    const sn_text_corpus *c = &d->train;
    size_t n = c->n, K = (size_t)c->n_classes, cols = x->cols;
    sn_status st;
    if (p->kind == CL_NB) {
        sn_nb_opts no;
        sn_nb_opts_default(&no);
        no.alpha = o->nb_alpha;
        if (d->task == CL_MULTILABEL) return sn_nb_fit_ovr(x, c->label_sets, c->weights, (int)K, &no, W, b);
        float *Wk = width == 1 ? malloc(cols * 2 * sizeof *Wk) : W, bk[2];
        if (!Wk) return SN_ERR_NOMEM;
        st = sn_nb_fit(x, c->labels, c->weights, (int)K, &no, Wk, width == 1 ? bk : b);
        if (width == 1) { /* sigmoid of the log-odds: the two-class posterior */
            for (size_t j = 0; j < cols; j++) W[j] = Wk[2 * j + 1] - Wk[2 * j];
            b[0] = bk[1] - bk[0];
            free(Wk);
        }
        return st;
    }
    sn_logreg_opts lo;
    sn_logreg_opts_default(&lo);
    lo.kind = d->task == CL_MULTICLASS ? SN_LOGREG_SOFTMAX : SN_LOGREG_SIGMOID;
    lo.l2 = o->l2 > 0 ? o->l2 : 1.0 / (double)n; /* scikit-learn's C = 1 */
    size_t yn = d->task == CL_MULTILABEL ? K : 1;
    float *y = malloc(n * yn * sizeof *y);
    if (!y) return SN_ERR_NOMEM;
    for (size_t i = 0; i < n * yn; i++) y[i] = d->task == CL_MULTILABEL ? (float)c->label_sets[i] : (float)c->labels[i];
    sn_logreg_info info;
    st = sn_logreg_fit(x, y, c->weights, width, &lo, W, b, &info);
    free(y);
    if (!st)
        printf("logistic regression: l2 %.3g, %d L-BFGS iterations, objective %.6f, max |gradient| %.2g%s\n", lo.l2,
               info.iterations, info.objective, info.grad_max, info.converged ? "" : " (not converged)");
    return st;
}

/* nb / logreg: fitted, stored as dense(width) on the bag, saved, evaluated. */
static int run_linear(cl_data *d, const sn_vectorizer *v, const cpreset *p, const cl_opts *o, const char *fname,
                      sn_dataset set[3], sn_model **m, cl_result *res) {
    int width = head_width(d);
    sn_csr_rows x;
    double t0 = sn_time_now();
    sn_status st = train_rows(&set[0], &x);
    if (st) return cli_fail(st, p->name);
    char spec[128];
    snprintf(spec, sizeof spec, "dense(%d, activation=%s)", width, d->task == CL_MULTICLASS ? "softmax" : "sigmoid");
    sn_model_opts mo = {.input_rank = 1, .input_shape = {(int)x.cols}, .input_sparse = 1, .seed = o->t.seed};
    if ((st = sn_model_init(m, spec, &mo))) return cli_fail(st, p->name);
    float *W = sn_model_tensor(*m, sn_model_layer_name(*m, 0), "kernel", NULL);
    float *b = sn_model_tensor(*m, sn_model_layer_name(*m, 0), "bias", NULL);
    if (!W || !b || (st = fit_linear(d, p, o, &x, width, W, b))) return cli_fail(st ? st : SN_ERR_STATE, p->name);
    res->seconds = sn_time_now() - t0;
    res->params = sn_model_param_count(*m, NULL, NULL);
    printf("model: %s, %s in %.2f s\n", sn_model_spec(*m), p->kind == CL_NB ? "naive Bayes (closed form)" : "fitted",
           res->seconds);
    sn_optimizer_cfg oc = o->t.opt;
    sn_metric_kind mk = SN_METRIC_ACCURACY;
    if ((st = sn_model_compile(*m, &oc, task_loss(d->task), &mk, 1)) || set_meta(*m, v, d)) return cli_fail(st, p->name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.seqnn", o->t.out, fname);
    sn_logs vl;
    if ((cli_is_root() && (st = sn_model_save(*m, path))) || (st = sn_model_evaluate(*m, &set[1], o->t.batch, &vl)))
        return cli_fail(st, p->name); /* MPI: rank 0 writes */
    res->val_acc = 100 * sn_logs_get(&vl, "accuracy");
    res->epochs_run = res->best_epoch = 0;
    return 0;
}

int cl_run_preset(cl_data *d, const cpreset *p, const char *spec_fmt, const cl_opts *o, const char *tag, cl_result *res) {
    const char *name = res->name;
    char fname[128];
    snprintf(fname, sizeof fname, "%s%s", name, tag);
    sn_vectorizer *v = NULL;
    sn_dataset set[3];
    memset(set, 0, sizeof set);
    sn_model *m = NULL, *best = NULL;
    sn_history h = {0};
    cli_fit_result fr = {0};
    int bound = 0;
    int rc = cl_vectorizer(d, name, p, o, &v, &bound);
    if (!rc) rc = cl_encode(d, v, p->mode, set);
    if (!rc && p->kind != CL_NET) rc = run_linear(d, v, p, o, fname, set, &best, res);
    else if (!rc) {
        rc = cl_build(d, v, name, spec_fmt, p, bound, o, &m, &res->params);
        if (!rc) rc = cli_fit_best(m, &o->t, fname, &set[0], &set[1], &set[2], "accuracy", 0, &best, &h, &fr);
        res->seconds = fr.seconds;
        res->epochs_run = fr.epochs_run;
        res->best_epoch = fr.best_epoch;
        res->val_acc = 100 * fr.val;
        if (!rc) {
            printf("%s: best epoch %d, val acc %.2f%%, test acc %.2f%%, %.1f s\n", fname, res->best_epoch, res->val_acc,
                   100 * fr.test, res->seconds);
            cli_write_history(&o->t, fname, &h, 0);
            if (!o->t.no_plots) cl_plot(o, fname, &h);
        }
    }
    if (!rc) {
        size_t w = sn_model_output_numel(best);
        float *probs = malloc(set[2].n * w * sizeof *probs);
        sn_status st = probs ? sn_model_predict(best, &set[2], o->t.batch, probs) : SN_ERR_NOMEM;
        rc = st ? cli_fail(st, "test predictions") : cl_report(d, probs, w, o, name, tag, res);
        free(probs);
    }
    sn_history_free(&h);
    sn_model_free(m);
    sn_model_free(best);
    for (int i = 0; i < 3; i++) sn_dataset_free(&set[i]);
    sn_vectorizer_free(v);
    return rc;
}
