/* Measurements for docs/distributed.md (not a test): chunked training
 * throughput on the seed's shapes, the bytes reduced per step, the time a
 * rank spends blocked in communication, and the all-reduce bandwidth of
 * int64 sums.
 *
 *   build/bench_dist [steps] [case]             one process (chunked, --chunks 8, and classic)
 *   mpirun -np N build-mpi/bench_dist [steps] [case]   N ranks (MPI build)
 *   mpirun -np N build-mpi/bench_dist allreduce        int64 all-reduce bandwidth by size
 *
 * Threads: $SEQNN_THREADS (default: every CPU); repetitions per number:
 * $BENCH_REPS (default 3, the fastest is reported). Rank 0 prints. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqnn.h"
#ifdef SN_HAVE_MPI
#include "seqnn/dist.h"
#endif

typedef struct bcase {
    const char *name, *spec;
    int B, T, C;   /* C = 0: token ids in [0, vocab) of length T; T = 0: a (C) vector */
    int vocab;
    sn_loss_kind loss;
} bcase;

/* The seed's models on the seed's shapes: Jena windows (120, 14), batch 256;
 * IMDB bag-of-words (20000) and 600-token reviews, batch 32. */
static const bcase g_cases[] = {
    {"dense", "flatten(), dense(16, activation=relu), dense(1)", 256, 120, 14, 0, SN_LOSS_MSE},
    {"conv1d",
     "conv1d(8, 24, activation=relu), maxpooling1d(2), conv1d(8, 12, activation=relu), maxpooling1d(2), "
     "conv1d(8, 6, activation=relu), globalaveragepooling1d(), dense(1)",
     256, 120, 14, 0, SN_LOSS_MSE},
    {"simple_rnn", "simplernn(16), dense(1)", 256, 120, 14, 0, SN_LOSS_MSE},
    {"lstm", "lstm(16), dense(1)", 256, 120, 14, 0, SN_LOSS_MSE},
    {"lstm_dropout", "lstm(32, recurrent_dropout=0.25), dropout(0.5), dense(1)", 256, 120, 14, 0, SN_LOSS_MSE},
    {"gru_stacked",
     "gru(32, recurrent_dropout=0.5, return_sequences=true), gru(32, recurrent_dropout=0.5), dropout(0.5), dense(1)",
     256, 120, 14, 0, SN_LOSS_MSE},
    {"bilstm", "bidirectional(lstm(16)), dense(1)", 256, 120, 14, 0, SN_LOSS_MSE},
    {"bigram", "dense(16, activation=relu), dropout(0.5), dense(1, activation=sigmoid)", 32, 0, 20000, 0, SN_LOSS_BCE},
    {"embedding_bilstm", "embedding(20000, 256), bidirectional(lstm(32)), dropout(0.5), dense(1, activation=sigmoid)", 32,
     600, 0, 20000, SN_LOSS_BCE},
};

/* A wrapper around the group's operations that adds up the time a rank
 * spends inside them (blocked or copying). */
typedef struct timed {
    const sn_comm *in;
    sn_comm out;
    double secs;
} timed;
static timed g_t;
#define TIMED(call)                                  \
    do {                                             \
        double t0_ = sn_time_now();                  \
        sn_status st_ = (call);                      \
        g_t.secs += sn_time_now() - t0_;             \
        return st_;                                  \
    } while (0)
static sn_status t_max(void *c, int32_t *v, int n) {
    (void)c;
    TIMED(g_t.in->max_i32(g_t.in->ctx, v, n));
}
static sn_status t_max_start(void *c, int32_t *v, int n, int *r) {
    (void)c;
    TIMED(g_t.in->max_i32_start(g_t.in->ctx, v, n, r));
}
static sn_status t_sum_start(void *c, int64_t *v, size_t n, int *r) {
    (void)c;
    TIMED(g_t.in->sum_i64_start(g_t.in->ctx, v, n, r));
}
static sn_status t_sum(void *c, int64_t *v, size_t n) {
    (void)c;
    TIMED(g_t.in->sum_i64(g_t.in->ctx, v, n));
}
static void t_progress(void *c) {
    (void)c;
    double t0 = sn_time_now();
    g_t.in->progress(g_t.in->ctx);
    g_t.secs += sn_time_now() - t0;
}
static sn_status t_wait(void *c, int r) {
    (void)c;
    TIMED(g_t.in->wait(g_t.in->ctx, r));
}
static sn_status t_gather(void *c, const double *m, const int *k, double *a) {
    (void)c;
    TIMED(g_t.in->gather_f64(g_t.in->ctx, m, k, a));
}
static sn_status t_bcast(void *c, void *b, size_t n, int root) {
    (void)c;
    TIMED(g_t.in->bcast(g_t.in->ctx, b, n, root));
}
static sn_status t_gather_bytes(void *c, const void *m, size_t n, void **a, size_t *k) {
    (void)c;
    TIMED(g_t.in->gather_bytes(g_t.in->ctx, m, n, a, k));
}
static sn_status t_exchange(void *c, const void *s, const size_t *k, void **r, size_t *rk) {
    (void)c;
    TIMED(g_t.in->exchange(g_t.in->ctx, s, k, r, rk));
}
static const sn_comm *timed_comm(const sn_comm *in) {
    if (!in) return NULL;
    g_t.in = in;
    sn_comm o = {in->rank, in->size, NULL, t_max, t_max_start, t_sum_start, t_sum, t_progress, t_wait, t_gather, t_bcast,
                 t_gather_bytes, t_exchange};
    g_t.out = o;
    return &g_t.out;
}

/* Trains `steps` batches of case k (chunks 0: classic), g_reps times on a
 * fresh model; samples/s of the fastest run (on a shared machine the other
 * processes' load only ever slows a run down), and the fraction of that
 * run's time inside the group's operations in *comm_frac. Every rank
 * repeats alike (the runs are collective). */
static int g_reps = 3;
static double train_once(const bcase *k, int steps, int chunks, const sn_comm *comm, double *comm_frac, size_t *ntr) {
    sn_model_opts mo = {0};
    mo.input_rank = k->T && k->C ? 2 : 1;
    mo.input_shape[0] = k->T ? k->T : k->C;
    mo.input_shape[1] = k->T && k->C ? k->C : 0;
    mo.seed = 1;
    sn_model *m = NULL;
    size_t n = (size_t)steps * (size_t)k->B, xn = (size_t)(k->T ? k->T : 1) * (size_t)(k->C ? k->C : 1);
    float *x = malloc(n * xn * sizeof *x), *y = malloc(n * sizeof *y);
    sn_rng r;
    sn_rng_seed(&r, 7);
    for (size_t i = 0; i < n * xn; i++)
        x[i] = k->vocab ? (float)sn_rng_below(&r, (uint64_t)k->vocab) : (k->T ? (float)sn_rng_double(&r) : (float)(sn_rng_double(&r) < 0.01));
    for (size_t i = 0; i < n; i++) y[i] = (float)(sn_rng_double(&r) < 0.5);
    sn_dataset ds;
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_RMSPROP);
    if (sn_model_init(&m, k->spec, &mo) || sn_dataset_from_arrays(&ds, x, y, n, xn, 1) ||
        sn_model_compile(m, &oc, k->loss, NULL, 0)) {
        fprintf(stderr, "%s: %s\n", k->name, sn_error_last());
        exit(1);
    }
    sn_model_param_count(m, ntr, NULL);
    sn_fit_opts o;
    sn_fit_opts_default(&o);
    o.batch_size = k->B;
    o.chunks = chunks;
    o.comm = comm ? timed_comm(comm) : NULL;
    g_t.secs = 0;
    double t0 = sn_time_now();
    sn_status st = sn_model_fit(m, &ds, &o, NULL);
    double secs = sn_time_now() - t0;
    if (st) {
        fprintf(stderr, "%s: %s\n", k->name, sn_error_last());
        exit(1);
    }
    *comm_frac = g_t.secs / secs;
    sn_dataset_free(&ds);
    sn_model_free(m);
    free(x);
    free(y);
    return (double)n / secs;
}

static double train_rate(const bcase *k, int steps, int chunks, const sn_comm *comm, double *comm_frac, size_t *ntr) {
    double best = 0, f;
    for (int i = 0; i < g_reps; i++) {
        double r = train_once(k, steps, chunks, comm, &f, ntr);
        if (r > best) best = r, *comm_frac = f;
    }
    return best;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Bandwidth of the int64 sum through the group, by message size: each
 * operation timed alone after a 1-int max that lines the ranks up; the
 * fastest and the median of the repetitions (on a shared machine the
 * median carries the other processes' load, the fastest what the transport
 * can do). */
static void allreduce(const sn_comm *c) {
    if (c->rank == 0)
        printf("%10s %10s %10s %12s %12s\n", "bytes", "min us", "median us", "GB/s bus min", "GB/s bus med");
    double t[64];
    for (size_t bytes = 1024; bytes <= ((size_t)64 << 20); bytes *= 4) {
        size_t n = bytes / 8;
        int64_t *v = calloc(n, sizeof *v);
        int reps = bytes <= (1 << 20) ? 64 : 16, req;
        for (int i = 0; i < reps; i++) {
            int32_t one = 0;
            c->max_i32(c->ctx, &one, 1);
            double t0 = sn_time_now();
            c->sum_i64_start(c->ctx, v, n, &req);
            c->wait(c->ctx, req);
            t[i] = sn_time_now() - t0;
        }
        /* rank 0's times; bus bandwidth: a ring all-reduce moves 2 (p-1)/p of the message per rank */
        qsort(t, (size_t)reps, sizeof *t, cmp_d);
        double f = (double)bytes * 2.0 * (c->size - 1) / c->size / 1e9;
        if (c->rank == 0)
            printf("%10zu %10.1f %10.1f %12.3f %12.3f\n", bytes, t[0] * 1e6, t[reps / 2] * 1e6, f / t[0], f / t[reps / 2]);
        free(v);
    }
}

int main(int argc, char **argv) {
    const sn_comm *comm = NULL;
#ifdef SN_HAVE_MPI
    if (sn_dist_launched() && sn_dist_init(&argc, &argv, &comm)) {
        fprintf(stderr, "MPI: %s\n", sn_error_last());
        return 1;
    }
#endif
    if (argc > 1 && !strcmp(argv[1], "allreduce")) {
        if (comm) allreduce(comm);
#ifdef SN_HAVE_MPI
        sn_dist_finalize();
#endif
        return 0;
    }
    int steps = argc > 1 ? atoi(argv[1]) : 20;
    if (getenv("BENCH_REPS")) g_reps = atoi(getenv("BENCH_REPS")) > 0 ? atoi(getenv("BENCH_REPS")) : 1;
    const char *only = argc > 2 ? argv[2] : NULL;
    int rank = comm ? comm->rank : 0, size = comm ? comm->size : 1;
    sn_cpu_info ci;
    sn_cpu_info_get(&ci);
    if (rank == 0)
        printf("%s, %d rank(s) x %d thread(s), %d steps per case\n%-18s %10s %14s %16s %14s %12s\n", ci.model_name, size,
               sn_threads_get(), steps, "case", "trainable", "bytes/step", "chunked samp/s", "in comm", "classic");
    for (size_t c = 0; c < sizeof g_cases / sizeof *g_cases; c++) {
        const bcase *k = &g_cases[c];
        if (only && !strstr(k->name, only)) continue;
        int st = k->B >= 256 ? steps : (steps + 3) / 4;
        double frac = 0, cfrac;
        size_t ntr = 0;
        double rate = train_rate(k, st, 8, comm, &frac, &ntr);
        double classic = comm ? 0 : train_rate(k, st, 0, NULL, &cfrac, &ntr);
        /* per step: the int64 sums, one int32 exponent per 1024 floats
         * (groups do not straddle tensors: a bound) */
        size_t bytes = 8 * ntr + 4 * ((ntr + 1023) / 1024 + 8);
        if (rank == 0) {
            printf("%-18s %10zu %14zu %16.0f %13.1f%%", k->name, ntr, bytes, rate, 100 * frac);
            if (comm) printf(" %12s\n", "-");
            else printf(" %12.0f\n", classic);
        }
    }
#ifdef SN_HAVE_MPI
    sn_dist_finalize();
#endif
    return 0;
}
