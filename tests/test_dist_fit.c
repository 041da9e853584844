/* Chunked training is bit-identical at any scale, without MPI: a group of
 * threads posing as 1, 2 or 3 ranks (dist_fake.c) and one process with 1
 * or 2 threads train the same bits, with dropout, recurrent dropout,
 * seeded dropout, BatchNormalization and a masked sequence output; stop,
 * resume from a group into one process and back, a failing rank, ranks
 * that do not start from the same state (docs/distributed.md). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist_fake.h"
#include "seqnn.h"
#include "test.h"

/* One training problem: a spec, its input and the data. */
typedef struct problem {
    const char *spec;
    int rank, d0, d1;      /* input shape */
    int ids;               /* inputs are token ids in [0, 10), 0 the padding */
    int seq_out;           /* targets (T, 1) per sample */
    size_t n, nval;
    float *x, *y, *xv, *yv;
} problem;

#define BATCH 12
#define CHUNKS 4

static void make_data(problem *p, size_t n, float *x, float *y, uint64_t seed) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    size_t xn = (size_t)p->d0 * (size_t)(p->rank == 2 ? p->d1 : 1), yn = p->seq_out ? (size_t)p->d0 : 1;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        size_t len = 2 + sn_rng_below(&r, (uint64_t)p->d0 - 1); /* ids: valid prefix, zero padding */
        for (size_t j = 0; j < xn; j++) {
            float v = p->ids ? (j < len ? (float)(1 + sn_rng_below(&r, 9)) : 0.0f) : (float)(sn_rng_double(&r) * 2 - 1);
            x[i * xn + j] = v;
            s += v * (double)((j % 3) + 1) / (double)xn;
        }
        for (size_t j = 0; j < yn; j++) y[i * yn + j] = (float)(p->seq_out ? s * (double)(j + 1) / 10 : s);
    }
}

static void problem_init(problem *p, const char *spec, int rank, int d0, int d1, int ids, int seq_out) {
    memset(p, 0, sizeof *p);
    p->spec = spec;
    p->rank = rank;
    p->d0 = d0;
    p->d1 = d1;
    p->ids = ids;
    p->seq_out = seq_out;
    p->n = 53; /* not a multiple of the batch: short last chunks */
    p->nval = 19;
    size_t xn = (size_t)d0 * (size_t)(rank == 2 ? d1 : 1), yn = seq_out ? (size_t)d0 : 1;
    p->x = malloc(p->n * xn * sizeof(float));
    p->y = malloc(p->n * yn * sizeof(float));
    p->xv = malloc(p->nval * xn * sizeof(float));
    p->yv = malloc(p->nval * yn * sizeof(float));
    make_data(p, p->n, p->x, p->y, 1);
    make_data(p, p->nval, p->xv, p->yv, 2);
}

static void problem_free(problem *p) {
    free(p->x);
    free(p->y);
    free(p->xv);
    free(p->yv);
}

/* A failing dataset for one rank: fills like the arrays, but sample
 * `bad` reports an error naming it. */
typedef struct bad_ds {
    sn_dataset inner;
    size_t bad;
} bad_ds;
static sn_status bad_fill(void *ctx, const size_t *idx, int B, sn_batch *b) {
    bad_ds *d = ctx;
    for (int i = 0; i < B; i++)
        if (idx[i] == d->bad) return sn_error(SN_ERR_FORMAT, "sample %zu: unreadable", d->bad);
    return d->inner.fill(d->inner.ctx, idx, B, b);
}

/* One rank's (or the one process's) run. */
typedef struct run {
    const problem *p;
    int epochs;
    const char *resume;      /* resume path, or NULL */
    int resume_flag;
    int stop_rank, stop_step; /* set this rank's stop flag after this 1-based step of epoch 1 (-1: never) */
    int bad_rank;             /* this rank's training data fails (-1: none) */
    int seed_rank;            /* this rank builds its model from another seed (-1: none) */
    int chunks;               /* sn_fit_opts.chunks (CHUNKS unless a test changes it) */
    /* results per rank */
    sn_status st[FAKE_MAX_RANKS];
    char msg[FAKE_MAX_RANKS][300];
    unsigned char *file[FAKE_MAX_RANKS]; /* the bytes of the trained model's file */
    size_t len[FAKE_MAX_RANKS];
    double val_loss[FAKE_MAX_RANKS];
    long steps_seen[FAKE_MAX_RANKS];
} run;

typedef struct cb_state {
    volatile sig_atomic_t flag;
    int stop_step;
    long seen;
} cb_state;
static void on_progress(const sn_progress *pr, void *user) {
    cb_state *c = user;
    if (!pr->done) c->seen++;
    if (pr->epoch == 1 && pr->step == c->stop_step && !pr->done) c->flag = 1;
}

static void train_rank(const sn_comm *comm, int rank, run *R) {
    const problem *p = R->p;
    sn_model_opts mo = {0};
    mo.input_rank = p->rank;
    mo.input_shape[0] = p->d0;
    mo.input_shape[1] = p->d1;
    mo.seed = rank == R->seed_rank ? 99 : 5;
    sn_model *m = NULL;
    R->st[rank] = sn_model_init(&m, p->spec, &mo);
    if (R->st[rank]) {
        snprintf(R->msg[rank], sizeof R->msg[0], "%s", sn_error_last());
        return;
    }
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_RMSPROP);
    sn_metric_kind mk = SN_METRIC_MAE;
    sn_model_compile(m, &oc, SN_LOSS_MSE, &mk, 1);
    size_t xn = sn_model_input_numel(m), yn = sn_model_output_numel(m);
    sn_dataset tr, va;
    sn_dataset_from_arrays(&tr, p->x, p->y, p->n, xn, yn);
    sn_dataset_from_arrays(&va, p->xv, p->yv, p->nval, xn, yn);
    bad_ds bd = {tr, 0};
    sn_dataset trb = tr;
    if (rank == R->bad_rank) {
        size_t lo, hi;
        sn_fit_shard(p->n, BATCH, CHUNKS, rank, comm ? comm->size : 1, &lo, &hi);
        bd.bad = lo + 1; /* a sample only this rank reads */
        trb.ctx = &bd;
        trb.fill = bad_fill;
        trb.destroy = NULL;
    }
    cb_state cb = {0, rank == R->stop_rank ? R->stop_step : -1, 0};
    sn_fit_opts o;
    sn_fit_opts_default(&o);
    o.epochs = R->epochs;
    o.batch_size = BATCH;
    o.seed = 3;
    o.val = &va;
    o.chunks = R->chunks;
    o.comm = comm;
    o.resume_path = R->resume;
    o.resume = R->resume_flag;
    o.stop_flag = &cb.flag;
    o.progress = on_progress;
    o.user = &cb;
    sn_history h = {0};
    R->st[rank] = sn_model_fit(m, &trb, &o, &h);
    snprintf(R->msg[rank], sizeof R->msg[0], "%s", R->st[rank] ? sn_error_last() : "");
    R->steps_seen[rank] = cb.seen;
    double tmp[64];
    const double *vl = h.epochs > 0 && h.epochs <= 64 ? sn_history_column(&h, "val_loss", tmp) : NULL;
    R->val_loss[rank] = vl ? vl[h.epochs - 1] : NAN;
    /* the model file: weights, optimizer slots, RNG streams */
    char path[512];
    snprintf(path, sizeof path, "%s/dist_fit_%d_%ld.seqnn", sn_test_tmpdir(), rank, (long)getpid());
    if (sn_model_save(m, path) == SN_OK) {
        FILE *f = fopen(path, "rb");
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        R->file[rank] = malloc((size_t)len);
        R->len[rank] = fread(R->file[rank], 1, (size_t)len, f);
        fclose(f);
        remove(path);
    }
    sn_history_free(&h);
    sn_dataset_free(&tr);
    sn_dataset_free(&va);
    sn_model_free(m);
}

static void rank_main(fake_rank *r, void *user) { train_rank(&r->comm, r->rank, user); }

static void run_init(run *R, const problem *p, int epochs) {
    memset(R, 0, sizeof *R);
    R->p = p;
    R->epochs = epochs;
    R->stop_rank = R->bad_rank = R->seed_rank = -1;
    R->chunks = CHUNKS;
}

static void run_free(run *R) {
    for (int k = 0; k < FAKE_MAX_RANKS; k++) free(R->file[k]);
}

/* Runs on `size` fake ranks (0: one process, comm NULL). */
static void run_go(run *R, int size) {
    if (size == 0) train_rank(NULL, 0, R);
    else fake_group_run(size, rank_main, R);
}

/* Rank ka of a and rank kb of b trained the same model file. */
static int same_file(const run *a, int ka, const run *b, int kb) {
    return a->file[ka] && b->file[kb] && a->len[ka] == b->len[kb] && !memcmp(a->file[ka], b->file[kb], a->len[ka]);
}

/* Trains p on one process with 1 and 2 threads and on 1, 2, 3 fake ranks
 * (1 thread each); every rank's model file must equal the 1 x 1 run's. */
static void check_identity(const problem *p) {
    int threads0 = sn_threads_get();
    run ref, r;
    run_init(&ref, p, 2);
    sn_threads_set(1);
    run_go(&ref, 0);
    CHECK_MSG(ref.st[0] == SN_OK, "%s", ref.msg[0]);
    CHECK(ref.file[0] && isfinite(ref.val_loss[0]));
    int sizes[] = {-2, 1, 2, 3}; /* -2: one process, 2 threads */
    for (int t = 0; t < 4; t++) {
        int size = sizes[t] < 0 ? 0 : sizes[t];
        sn_threads_set(sizes[t] < 0 ? 2 : 1);
        run_init(&r, p, 2);
        run_go(&r, size);
        for (int k = 0; k < (size ? size : 1); k++) {
            CHECK_MSG(r.st[k] == SN_OK, "size %d rank %d: %s", size, k, r.msg[k]);
            CHECK_MSG(same_file(&ref, 0, &r, k), "`%s`: %s rank %d differs from the 1 x 1 run", p->spec,
                      sizes[t] < 0 ? "2 threads" : size == 1 ? "1 rank" : size == 2 ? "2 ranks" : "3 ranks", k);
            CHECK(r.val_loss[k] == ref.val_loss[0]);
        }
        run_free(&r);
    }
    run_free(&ref);
    sn_threads_set(threads0);
}

TEST(chunked_lstm_with_dropouts_is_bit_identical_on_1_2_3_ranks) {
    problem p;
    problem_init(&p, "lstm(6, dropout=0.2, recurrent_dropout=0.3), dropout(0.25), dense(1)", 2, 5, 3, 0, 0);
    check_identity(&p);
    problem_free(&p);
}

TEST(chunked_batchnorm_and_seeded_dropout_are_bit_identical_on_1_2_3_ranks) {
    problem p;
    problem_init(&p, "conv1d(4, 2), batchnormalization(), dropout(0.3, seed=7), globalaveragepooling1d(), dense(1)", 2,
                 6, 3, 0, 0);
    check_identity(&p);
    problem_free(&p);
}

TEST(chunked_masked_sequence_output_is_bit_identical_on_1_2_3_ranks) {
    problem p;
    problem_init(&p, "embedding(10, 4, mask_zero=true), gru(5, return_sequences=true, recurrent_dropout=0.2), dense(1)",
                 1, 6, 0, 1, 1);
    check_identity(&p);
    problem_free(&p);
}

/* A stop flag set on one rank stops every rank after the same step with the
 * state saved by rank 0; the run resumed on one process (or on 3 ranks
 * after one process stopped) ends with the uninterrupted run's model. */
TEST(chunked_stop_on_one_rank_then_resume_elsewhere_gives_the_same_model) {
    int threads0 = sn_threads_get();
    sn_threads_set(1);
    problem p;
    problem_init(&p, "gru(5, dropout=0.1, recurrent_dropout=0.2), dense(1)", 2, 5, 3, 0, 0);
    run ref, a, b;
    run_init(&ref, &p, 3);
    run_go(&ref, 0);
    CHECK_MSG(ref.st[0] == SN_OK, "%s", ref.msg[0]);
    char path[512];
    snprintf(path, sizeof path, "%s/dist_stop_%ld.resume", sn_test_tmpdir(), (long)getpid());
    int from[2] = {2, 0}, to[2] = {0, 3}; /* 2 ranks -> one process; one process -> 3 ranks */
    for (int t = 0; t < 2; t++) {
        remove(path);
        run_init(&a, &p, 3);
        a.resume = path;
        a.stop_rank = from[t] ? 1 : 0;
        a.stop_step = 2;
        run_go(&a, from[t]);
        for (int k = 0; k < (from[t] ? from[t] : 1); k++) {
            CHECK_MSG(a.st[k] == SN_ERR_INTERRUPTED, "rank %d: %s", k, a.msg[k]);
            /* the flag set after step 2 is seen in step 3's reduction on every rank */
            CHECK_MSG(strstr(a.msg[k], "epoch 1 step 3"), "rank %d: %s", k, a.msg[k]);
            CHECK(a.steps_seen[k] == 3);
        }
        CHECK(access(path, F_OK) == 0);
        run_init(&b, &p, 3);
        b.resume = path;
        b.resume_flag = 1;
        run_go(&b, to[t]);
        for (int k = 0; k < (to[t] ? to[t] : 1); k++) {
            CHECK_MSG(b.st[k] == SN_OK, "rank %d: %s", k, b.msg[k]);
            CHECK_MSG(same_file(&ref, 0, &b, k), "resumed on %d ranks: rank %d differs", to[t], k);
        }
        run_free(&a);
        run_free(&b);
    }
    remove(path);
    run_free(&ref);
    problem_free(&p);
    sn_threads_set(threads0);
}

/* An epoch interrupted in chunked mode resumes only in the same mode: with
 * no chunks, or another number of them, the steps and the sample order of
 * the epoch differ, so the run would silently skip and repeat samples. The
 * file names the settings it needs; with them it resumes (test above). */
TEST(chunked_interrupted_epoch_resumes_only_with_the_same_chunks) {
    problem p;
    problem_init(&p, "gru(5, dropout=0.1, recurrent_dropout=0.2), dense(1)", 2, 5, 3, 0, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/dist_mode_%ld.resume", sn_test_tmpdir(), (long)getpid());
    remove(path);
    run a, b;
    run_init(&a, &p, 2);
    a.resume = path;
    a.stop_rank = 0;
    a.stop_step = 2;
    run_go(&a, 0);
    CHECK_MSG(a.st[0] == SN_ERR_INTERRUPTED, "%s", a.msg[0]);
    int other[2] = {0, CHUNKS / 2};
    for (int t = 0; t < 2; t++) {
        run_init(&b, &p, 2);
        b.resume = path;
        b.resume_flag = 1;
        b.chunks = other[t];
        run_go(&b, 0);
        CHECK_MSG(b.st[0] == SN_ERR_ARG, "chunks %d: %s", other[t], b.msg[0]);
        char want[120];
        snprintf(want, sizeof want, "ran with batch size %d in %d chunks", BATCH, CHUNKS);
        CHECK_MSG(strstr(b.msg[0], want) && strstr(b.msg[0], path), "%s", b.msg[0]);
        run_free(&b);
    }
    run_free(&a);
    remove(path);
    problem_free(&p);
}

/* A rank whose data fails ends the step on every rank with its message. */
TEST(chunked_failing_rank_is_named_on_every_rank) {
    int threads0 = sn_threads_get();
    sn_threads_set(1);
    problem p;
    problem_init(&p, "dense(3), dense(1)", 1, 4, 0, 0, 0);
    run r;
    run_init(&r, &p, 2);
    r.bad_rank = 2;
    run_go(&r, 3);
    for (int k = 0; k < 3; k++) {
        CHECK_MSG(r.st[k] == SN_ERR_FORMAT, "rank %d: %s", k, r.msg[k]);
        CHECK_MSG(strstr(r.msg[k], "rank 2: epoch 1 step ") && strstr(r.msg[k], "unreadable"), "rank %d: %s", k,
                  r.msg[k]);
    }
    run_free(&r);
    /* ranks that do not start from the same weights refuse to train */
    run_init(&r, &p, 1);
    r.seed_rank = 1;
    run_go(&r, 2);
    for (int k = 0; k < 2; k++)
        CHECK_MSG(r.st[k] == SN_ERR_STATE && strstr(r.msg[k], "do not start from the same"), "rank %d: %s", k,
                  r.msg[k]);
    run_free(&r);
    problem_free(&p);
    sn_threads_set(threads0);
}
