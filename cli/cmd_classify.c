/* seqnn classify: text classification on a labelled corpus. The seed's IMDB
 * experiment (module 7, part III) as a product, and any corpus beyond it:
 * class folders or archives (like Keras's text_dataset_from_directory),
 * CSV, TSV or JSONL files; two classes (sigmoid + binary crossentropy, the
 * seed's), K classes (softmax + sparse categorical crossentropy) or K
 * independent labels (--multi-label); a fixed test set, a stratified
 * --test-split or --folds cross-validation; network presets and the
 * classical baselines (nb, logreg). The vectorizer and the class names are
 * stored in every model file, so `seqnn predict` classifies raw text. The
 * files of the command: classify.h. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

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

static int parse_mode(const char *s, sn_output_mode *m) {
    if (!strcmp(s, "int")) *m = SN_OUTPUT_INT;
    else if (!strcmp(s, "multi_hot")) *m = SN_OUTPUT_MULTI_HOT;
    else if (!strcmp(s, "count")) *m = SN_OUTPUT_COUNT;
    else if (!strcmp(s, "tf_idf")) *m = SN_OUTPUT_TF_IDF;
    else return -1;
    return 0;
}

/* The presets a run covers: --all (with the --models subset) or --model. */
typedef struct cl_job {
    const cpreset *p[32];
    int n;
    cpreset custom;
    char *custom_spec;
} cl_job;

static int make_job(cl_job *j, const cl_opts *o) {
    memset(j, 0, sizeof *j);
    if (o->t.all) {
        /* --all alone: the seed's presets (its table); --models picks from all of them */
        for (int i = 0; i < cl_n_presets && j->n < 32; i++)
            if (o->t.models ? cli_in_list(o->t.models, cl_presets[i].name) : i < cl_n_seed_presets)
                j->p[j->n++] = &cl_presets[i];
        if (j->n == 0) {
            fprintf(stderr, "seqnn classify: --models %s names no preset\n", o->t.models);
            return 2;
        }
        return 0;
    }
    if ((j->p[0] = cl_find_preset(o->t.model))) {
        j->n = 1;
        return 0;
    }
    char *spec = cli_read_spec(o->t.model);
    if (!spec) return 1;
    sn_output_mode mode = SN_OUTPUT_INT;
    if (o->output_mode && parse_mode(o->output_mode, &mode)) {
        fprintf(stderr, "seqnn classify: --output-mode must be int, multi_hot, count or tf_idf\n");
        free(spec);
        return 2;
    }
    j->custom_spec = escape_percent(spec);
    free(spec);
    if (!j->custom_spec) return 1;
    j->custom = (cpreset){"custom", j->custom_spec, mode, o->ngrams, 0, 0, CL_NET, NAN};
    j->p[0] = &j->custom;
    j->n = 1;
    return 0;
}

/* Every preset of the job on every run (folds, or --repeats seeds). */
static int cl_run_all(const cl_corpus *c, const cl_opts *o, const cl_job *j) {
    int nf = o->folds >= 2 ? o->folds : 0, nr = nf ? nf : o->repeats;
    int *folds = NULL;
    if (nf) {
        folds = malloc((c->all.n + 1) * sizeof *folds);
        sn_status st = folds ? sn_text_folds(&c->all, nf, o->t.seed, folds) : SN_ERR_NOMEM;
        if (st) {
            free(folds);
            return cli_fail(st, "--folds");
        }
        printf("      %d stratified folds of %zu documents (seed %llu)\n", nf, c->all.n, (unsigned long long)o->t.seed);
    }
    cl_result *res = calloc((size_t)(j->n * nr), sizeof *res);
    int n = 0, rc = res ? 0 : cli_fail(SN_ERR_NOMEM, "results");
    for (int run = 0; run < nr && !rc; run++) {
        cl_data d;
        uint64_t seed = nf ? o->t.seed : o->t.seed + (uint64_t)run;
        cl_opts ro = *o;
        ro.t.seed = seed;
        if (nr > 1) printf("\n==== %s %d of %d (seed %llu)\n", nf ? "fold" : "run", run + 1, nr, (unsigned long long)seed);
        rc = cl_make_run(c, &ro, folds, nf ? run : -1, seed, &d);
        for (int i = 0; i < j->n && !rc; i++) {
            cl_result *r = &res[n];
            snprintf(r->name, sizeof r->name, "%s", j->p[i]->name);
            r->seed_acc = d.seed_data ? j->p[i]->seed_acc : NAN;
            r->seed = seed;
            r->fold = nf ? run + 1 : 0;
            if (nf) snprintf(r->run, sizeof r->run, "fold %d", run + 1);
            else if (nr > 1) snprintf(r->run, sizeof r->run, "seed %llu", (unsigned long long)seed);
            char tag[32] = "";
            if (nf) snprintf(tag, sizeof tag, "_fold%d", run + 1);
            else if (nr > 1) snprintf(tag, sizeof tag, "_seed%llu", (unsigned long long)seed);
            rc = cl_run_preset(&d, j->p[i], j->p[i]->spec, &ro, tag, r);
            if (!rc) n++;
        }
        cl_data_free(&d);
    }
    if (!rc && n) rc = cl_write_table(res, n, o, c, c->seed_data && !nf);
    free(res);
    free(folds);
    return rc;
}

/* Under MPI, whether each rank may read only its share of the training
 * texts: every preset trains a network by chunked fit; naive Bayes,
 * logistic regression and Word2Vec (pretrained_bilstm without --vectors)
 * learn from all the training texts at once on every rank. */
static int shardable(const cl_job *j, const cl_opts *o) {
    if (!cli_comm || cli_comm->size < 2) return 0;
    for (int i = 0; i < j->n; i++)
        if (j->p[i]->kind != CL_NET || (j->p[i]->pretrained == 1 && !o->vectors)) {
            printf("      MPI: every rank reads the whole corpus: %s learns from all the training texts at once\n",
                   j->p[i]->kind == CL_NB ? "naive Bayes" : j->p[i]->kind == CL_LOGREG ? "logistic regression" : "Word2Vec");
            return 0;
        }
    return 1;
}

/* "auto" or a number in [lo, hi] for --sequence-length / --max-tokens. */
static int auto_or_int(const char *s, const char *name, int lo, int hi, int *v, int *is_auto) {
    *is_auto = 0;
    if (!s) return 0;
    if (!strcmp(s, "auto")) {
        *is_auto = 1;
        return 0;
    }
    char *e;
    long x = strtol(s, &e, 10);
    if (e == s || *e || x < lo || x > hi) {
        fprintf(stderr, "seqnn classify: --%s must be auto or an integer in [%d, %d], got '%s'\n", name, lo, hi, s);
        return 2;
    }
    *v = (int)x;
    return 0;
}

/* Checks and converts the options the table leaves as text. 0 / 2. */
static int check_opts(cl_opts *o, int *seq_given, int *tok_given) {
    if (o->vsplit <= 0) {
        fprintf(stderr, "seqnn classify: --validation-split must be > 0 (the best checkpoint is chosen on validation)\n");
        return 2;
    }
    if ((o->format && sn_text_format_parse(o->format, &o->fmt)) || sn_text_encoding_parse(o->encoding, &o->enc)) {
        fprintf(stderr, "seqnn classify: %s\n", sn_error_last());
        return 2;
    }
    if (o->class_weight && strcmp(o->class_weight, "balanced") && strcmp(o->class_weight, "none")) {
        fprintf(stderr, "seqnn classify: --class-weight must be balanced or none, got '%s'\n", o->class_weight);
        return 2;
    }
    if (o->folds == 1 || (o->folds >= 2 && (o->test_data || o->test_split > 0))) {
        fprintf(stderr, "seqnn classify: --folds K needs K >= 2 and no --test-data / --test-split (each fold is the "
                        "test set once)\n");
        return 2;
    }
    if (o->folds >= 2 && o->repeats > 1) {
        fprintf(stderr, "seqnn classify: --folds and --repeats exclude each other\n");
        return 2;
    }
    if (o->test_data && o->test_split > 0) {
        fprintf(stderr, "seqnn classify: give --test-data or --test-split, not both\n");
        return 2;
    }
    int a;
    if (auto_or_int(o->seq_len_s, "sequence-length", 1, 1 << 20, &o->seq_len, &a)) return 2;
    o->seq_len_auto = a;
    *seq_given = o->seq_len_s != NULL;
    if (auto_or_int(o->max_tokens_s, "max-tokens", 3, 1 << 24, &o->max_tokens, &a)) return 2;
    o->max_tokens_auto = a;
    *tok_given = o->max_tokens_s != NULL;
    return 0;
}

int cmd_classify(int argc, char **argv) {
    cl_opts o;
    memset(&o, 0, sizeof o);
    cli_opt opts[] = {
        CLI_STR("data", &o.data, "tests/fixtures/imdb_small",
                "class folders (train/ and test/, or only classes), the aclImdb .tar.xz / .tar.gz, or a CSV / TSV / "
                "JSONL file (default tests/fixtures/imdb_small)"),
        CLI_STR("format", &o.format, NULL, "csv | tsv | jsonl | dir (default: by the file name)"),
        CLI_STR("text-column", &o.text_column, NULL, "text column(s) by name or 0-based index, comma-separated, joined (default text; 1 with --no-header)"),
        CLI_STR("label-column", &o.label_column, NULL, "label column by name or index (default label; 0 with --no-header)"),
        CLI_FLAG("no-header", &o.no_header, "CSV / TSV without a header row"),
        CLI_STR("encoding", &o.encoding, "utf8", "utf8 (validated) | cp1252 | latin1 (transcoded)"),
        CLI_STR("test-data", &o.test_data, NULL, "a separate test file (CSV / TSV / JSONL, the same columns)"),
        CLI_DOUBLE("test-split", &o.test_split, 0, 0, 0.95, "hold out this stratified fraction as the test set (default 0.2 when there is no test set)"),
        CLI_INT("folds", &o.folds, 0, 0, 1000, "stratified K-fold cross-validation: mean ± sd over the folds"),
        CLI_INT("repeats", &o.repeats, 1, 1, 1000, "train each model with seeds seed, seed+1, ...: mean ± sd"),
        CLI_FLAG("multi-label", &o.multi_label, "several labels per text (split on --label-delimiter): one sigmoid per class"),
        CLI_STR("label-delimiter", &o.label_delim, ",", "between the labels of a multi-label field (default ,)"),
        CLI_STR("class-weight", &o.class_weight, NULL, "balanced (weights n / (K n_c), scikit-learn's) | none"),
        CLI_TRAIN_MODEL(&o.t, "preset (unigram bigram bigram_tfidf onehot_bilstm embedding_bilstm embedding_bilstm_masked pretrained_bilstm nb logreg cnn char_cnn), a spec or @file"),
        CLI_TRAIN_ALL(&o.t),
        CLI_TRAIN_MODELS(&o.t, "with --all: comma-separated presets (--all alone runs the seed's seven)"),
        CLI_TRAIN_EPOCHS(&o.t, 10, "epochs (default 10, as the seed)"),
        CLI_TRAIN_BATCH(&o.t, 32, "batch size (default 32)"),
        CLI_DOUBLE("validation-split", &o.vsplit, 0.2, 0.0, 0.95, "fraction of the training texts kept for validation (default 0.2)"),
        CLI_STR("max-tokens", &o.max_tokens_s, NULL, "vocabulary bound incl. special tokens, or auto (default 20000 on aclImdb, else auto)"),
        CLI_STR("sequence-length", &o.seq_len_s, NULL, "int mode: tokens kept per text, or auto = the 95th percentile (default 600 on aclImdb, else auto)"),
        CLI_STR("output-mode", &o.output_mode, NULL, "custom spec: int | multi_hot | count | tf_idf (default int)"),
        CLI_INT("ngrams", &o.ngrams, 1, 1, 16, "custom spec: n-gram width (default 1)"),
        CLI_FLAG("strip-html", &o.strip_html, "replace <br /> by a space before standardization (not Keras)"),
        CLI_FLAG("stem", &o.stem, "Porter-stem tokens (not Keras)"),
        CLI_STR("vectors", &o.vectors, NULL, "pretrained word vectors (word2vec text/binary or GloVe) for pretrained_bilstm and cnn"),
        CLI_INT("w2v-dim", &o.w2v_dim, 100, 1, 4096, "Word2Vec dimension when training vectors here (default 100)"),
        CLI_INT("w2v-epochs", &o.w2v_epochs, 5, 1, 1000, "Word2Vec epochs (default 5)"),
        CLI_DOUBLE("l2", &o.l2, 0, 0, 1e6, "logreg: L2 strength λ (default 1/n, scikit-learn's C = 1)"),
        CLI_DOUBLE("nb-alpha", &o.nb_alpha, 1.0, 1e-9, 1e6, "nb: additive smoothing (default 1)"),
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
    int seq_given, tok_given;
    o.seq_len = 600;
    o.max_tokens = 20000;
    if ((rc = check_opts(&o, &seq_given, &tok_given))) return rc;
    if (cli_optimizer(opts, SN_OPT_RMSPROP, &o.t.opt)) return 2;
    cl_job job;
    if ((rc = make_job(&job, &o))) return rc;
    if (cli_train_mkout(&o.t, "classify")) {
        free(job.custom_spec);
        return 1;
    }
    cli_install_signals();
    o.shard = shardable(&job, &o);
    cl_corpus c;
    rc = cl_load(&c, &o);
    if (!rc) {
        /* the seed's lengths on the seed's data, lengths that fit anything else */
        if (!seq_given) o.seq_len_auto = !c.imdb_layout;
        if (!tok_given) o.max_tokens_auto = !c.imdb_layout;
        if (c.imdb_layout && !seq_given && !tok_given)
            printf("      aclImdb layout: the seed's --sequence-length %d and --max-tokens %d\n", o.seq_len, o.max_tokens);
        rc = cl_run_all(&c, &o, &job);
    }
    cl_corpus_free(&c);
    free(job.custom_spec);
    return rc;
}
