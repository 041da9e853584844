/* The sn_comm of all ranks over MPI (seqnn/dist.h, seqnn/comm.h).
 *
 * One communicator, a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN
 * (an MPI error becomes an sn_status with MPI's message). Started
 * operations are MPI_Iallreduce requests kept in a table; an operation
 * longer than INT_MAX elements is cut into several requests under one
 * handle. Sums are MPI_SUM over MPI_INT64_T: exact, so whatever algorithm
 * and association the MPI library picks for the rank count, the result is
 * the same integer. Nothing here sums floats (docs/distributed.md). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "seqnn/dist.h"

#define DIST_PIECES 8          /* requests one handle may hold */
#define DIST_PIECE ((size_t)1 << 30) /* elements per request */

typedef struct dist_req {
    MPI_Request r[DIST_PIECES];
    int n;                     /* requests in use, 0 = free slot */
} dist_req;

typedef struct dist_state {
    MPI_Comm comm;
    int we_initialised;        /* MPI_Init was ours, so is MPI_Finalize */
    int ready;
    dist_req *req;
    int n_req;
    sn_comm pub;
} dist_state;

static dist_state g_dist;

static sn_status mpi_fail(int rc, const char *what) {
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(rc, s, &n);
    return sn_error(SN_ERR_IO, "%s failed: %.*s", what, n, s);
}

/* A free request slot (the table grows by doubling). */
static int new_req(dist_state *d) {
    for (int i = 0; i < d->n_req; i++)
        if (d->req[i].n == 0) return i;
    int n = d->n_req ? 2 * d->n_req : 16;
    dist_req *t = realloc(d->req, (size_t)n * sizeof *t);
    if (!t) return -1;
    memset(t + d->n_req, 0, (size_t)(n - d->n_req) * sizeof *t);
    d->req = t;
    int i = d->n_req;
    d->n_req = n;
    return i;
}

static sn_status d_max(void *ctx, int32_t *v, int n) {
    dist_state *d = ctx;
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT32_T, MPI_MAX, d->comm);
    return rc == MPI_SUCCESS ? SN_OK : mpi_fail(rc, "MPI_Allreduce (max)");
}

/* Starts an in-place all-reduce of n elements of type t (size es bytes). */
static sn_status start(dist_state *d, void *v, size_t n, MPI_Datatype t, size_t es, MPI_Op op, int *handle) {
    if (n > DIST_PIECES * DIST_PIECE) return sn_error(SN_ERR_ARG, "all-reduce of %zu elements is too long", n);
    int h = new_req(d);
    if (h < 0) return SN_ERR_NOMEM;
    dist_req *q = &d->req[h];
    q->n = 0;
    size_t done = 0;
    do {
        size_t k = SN_MIN(n - done, DIST_PIECE);
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)v + done * es, (int)k, t, op, d->comm, &q->r[q->n]);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Iallreduce");
        q->n++;
        done += k;
    } while (done < n);
    *handle = h;
    return SN_OK;
}

static sn_status d_sum(void *ctx, int64_t *v, size_t n) {
    dist_state *d = ctx;
    size_t done = 0;
    do {
        size_t k = SN_MIN(n - done, DIST_PIECE);
        int rc = MPI_Allreduce(MPI_IN_PLACE, v + done, (int)k, MPI_INT64_T, MPI_SUM, d->comm);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Allreduce (sum)");
        done += k;
    } while (done < n);
    return SN_OK;
}

static sn_status d_max_start(void *ctx, int32_t *v, int n, int *req) {
    return start(ctx, v, (size_t)(n > 0 ? n : 0), MPI_INT32_T, sizeof *v, MPI_MAX, req);
}

static sn_status d_sum_start(void *ctx, int64_t *v, size_t n, int *req) {
    return start(ctx, v, n, MPI_INT64_T, sizeof *v, MPI_SUM, req);
}

/* Open MPI advances non-blocking collectives only inside MPI calls: a test
 * of each started request lets them move on while seqnn computes. */
static void d_progress(void *ctx) {
    dist_state *d = ctx;
    for (int i = 0; i < d->n_req; i++)
        if (d->req[i].n) {
            int done;
            MPI_Testall(d->req[i].n, d->req[i].r, &done, MPI_STATUSES_IGNORE);
        }
}

static sn_status d_wait(void *ctx, int h) {
    dist_state *d = ctx;
    if (h < 0 || h >= d->n_req || d->req[h].n == 0) return sn_error(SN_ERR_STATE, "wait on an unknown request %d", h);
    int rc = MPI_Waitall(d->req[h].n, d->req[h].r, MPI_STATUSES_IGNORE);
    d->req[h].n = 0;
    return rc == MPI_SUCCESS ? SN_OK : mpi_fail(rc, "MPI_Waitall");
}

static sn_status d_gather(void *ctx, const double *mine, const int *counts, double *all) {
    dist_state *d = ctx;
    int size = d->pub.size;
    int *displs = malloc((size_t)size * sizeof *displs);
    if (!displs) return SN_ERR_NOMEM;
    long p = 0;
    for (int r = 0; r < size; r++) {
        displs[r] = (int)p;
        p += counts[r];
    }
    if (p > INT_MAX) {
        free(displs);
        return sn_error(SN_ERR_ARG, "all-gather of %ld values is too long", p);
    }
    int rc = MPI_Allgatherv(mine, counts[d->pub.rank], MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, d->comm);
    free(displs);
    return rc == MPI_SUCCESS ? SN_OK : mpi_fail(rc, "MPI_Allgatherv");
}

static sn_status d_bcast(void *ctx, void *buf, size_t n, int root) {
    dist_state *d = ctx;
    for (size_t done = 0; done < n;) {
        int k = (int)SN_MIN(n - done, (size_t)INT_MAX);
        int rc = MPI_Bcast((char *)buf + done, k, MPI_BYTE, root, d->comm);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Bcast");
        done += (size_t)k;
    }
    return SN_OK;
}

/* Byte counts (size_t) as MPI's int counts and displacements; SN_ERR_ARG
 * when a count or the total passes INT_MAX (2 GiB). */
static sn_status int_counts(const size_t *c, int size, int *ic, int *disp, size_t *total) {
    size_t p = 0;
    for (int r = 0; r < size; r++) {
        if (c[r] > INT_MAX || p > INT_MAX) return sn_error(SN_ERR_ARG, "a byte exchange of more than 2 GiB");
        ic[r] = (int)c[r];
        disp[r] = (int)p;
        p += c[r];
    }
    if (p > INT_MAX) return sn_error(SN_ERR_ARG, "a byte exchange of more than 2 GiB");
    *total = p;
    return SN_OK;
}

static sn_status d_gather_bytes(void *ctx, const void *mine, size_t n, void **all, size_t *counts) {
    dist_state *d = ctx;
    int size = d->pub.size;
    *all = NULL;
    uint64_t me = n, *c64 = malloc((size_t)size * sizeof *c64);
    int *ic = malloc((size_t)size * sizeof *ic), *disp = malloc((size_t)size * sizeof *disp);
    sn_status st = c64 && ic && disp ? SN_OK : SN_ERR_NOMEM;
    int rc = st ? MPI_SUCCESS : MPI_Allgather(&me, 1, MPI_UINT64_T, c64, 1, MPI_UINT64_T, d->comm);
    if (!st && rc != MPI_SUCCESS) st = mpi_fail(rc, "MPI_Allgather (counts)");
    size_t tot = 0;
    for (int r = 0; !st && r < size; r++) counts[r] = (size_t)c64[r];
    if (!st) st = int_counts(counts, size, ic, disp, &tot);
    if (!st && !(*all = malloc(tot ? tot : 1))) st = SN_ERR_NOMEM;
    if (!st && (rc = MPI_Allgatherv(mine, ic[d->pub.rank], MPI_BYTE, *all, ic, disp, MPI_BYTE, d->comm)) != MPI_SUCCESS)
        st = mpi_fail(rc, "MPI_Allgatherv (bytes)");
    if (st) {
        free(*all);
        *all = NULL;
    }
    free(c64);
    free(ic);
    free(disp);
    return st;
}

static sn_status d_exchange(void *ctx, const void *send, const size_t *counts, void **recv, size_t *rcounts) {
    dist_state *d = ctx;
    int size = d->pub.size;
    *recv = NULL;
    uint64_t *sc = calloc((size_t)size, sizeof *sc), *rc64 = calloc((size_t)size, sizeof *rc64);
    int *si = malloc((size_t)size * sizeof *si), *sd = malloc((size_t)size * sizeof *sd);
    int *ri = malloc((size_t)size * sizeof *ri), *rd = malloc((size_t)size * sizeof *rd);
    sn_status st = sc && rc64 && si && sd && ri && rd ? SN_OK : SN_ERR_NOMEM;
    int rc = MPI_SUCCESS;
    if (!st) {
        for (int r = 0; r < size; r++) sc[r] = counts[r];
        if ((rc = MPI_Alltoall(sc, 1, MPI_UINT64_T, rc64, 1, MPI_UINT64_T, d->comm)) != MPI_SUCCESS)
            st = mpi_fail(rc, "MPI_Alltoall (counts)");
    }
    size_t stot = 0, rtot = 0;
    for (int r = 0; !st && r < size; r++) rcounts[r] = (size_t)rc64[r];
    if (!st) st = int_counts(counts, size, si, sd, &stot);
    if (!st) st = int_counts(rcounts, size, ri, rd, &rtot);
    if (!st && !(*recv = malloc(rtot ? rtot : 1))) st = SN_ERR_NOMEM;
    if (!st && (rc = MPI_Alltoallv(send, si, sd, MPI_BYTE, *recv, ri, rd, MPI_BYTE, d->comm)) != MPI_SUCCESS)
        st = mpi_fail(rc, "MPI_Alltoallv (bytes)");
    if (st) {
        free(*recv);
        *recv = NULL;
    }
    free(sc);
    free(rc64);
    free(si);
    free(sd);
    free(ri);
    free(rd);
    return st;
}

int sn_dist_launched(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

sn_status sn_dist_init(int *argc, char ***argv, const sn_comm **comm) {
    if (!comm) return sn_error(SN_ERR_ARG, "sn_dist_init: NULL argument");
    dist_state *d = &g_dist;
    if (d->ready) {
        *comm = &d->pub;
        return SN_OK;
    }
    int inited = 0, provided = 0, rc;
    MPI_Initialized(&inited);
    if (!inited) {
        if ((rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided)) != MPI_SUCCESS)
            return sn_error(SN_ERR_IO, "MPI_Init_thread failed (error %d)", rc);
        d->we_initialised = 1;
    } else {
        MPI_Query_thread(&provided);
    }
    if (provided < MPI_THREAD_FUNNELED)
        return sn_error(SN_ERR_UNSUPPORTED, "the MPI library gives thread level %d, seqnn needs MPI_THREAD_FUNNELED",
                        provided);
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &d->comm)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_dup");
    MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d->comm, &d->pub.rank);
    MPI_Comm_size(d->comm, &d->pub.size);
    d->pub.ctx = d;
    d->pub.max_i32 = d_max;
    d->pub.max_i32_start = d_max_start;
    d->pub.sum_i64_start = d_sum_start;
    d->pub.sum_i64 = d_sum;
    d->pub.progress = d_progress;
    d->pub.wait = d_wait;
    d->pub.gather_f64 = d_gather;
    d->pub.bcast = d_bcast;
    d->pub.gather_bytes = d_gather_bytes;
    d->pub.exchange = d_exchange;
    d->ready = 1;
    *comm = &d->pub;
    return SN_OK;
}

void sn_dist_finalize(void) {
    dist_state *d = &g_dist;
    if (!d->ready) return;
    MPI_Comm_free(&d->comm);
    free(d->req);
    int fin = 0;
    MPI_Finalized(&fin);
    if (d->we_initialised && !fin) MPI_Finalize();
    memset(d, 0, sizeof *d);
}

int sn_dist_all_failed(double seconds) {
    dist_state *d = &g_dist;
    if (!d->ready) return 0;
    MPI_Request r;
    if (MPI_Ibarrier(d->comm, &r) != MPI_SUCCESS) return 0;
    double t0 = MPI_Wtime();
    for (;;) {
        int done = 0;
        if (MPI_Test(&r, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return 0;
        if (done) return 1;
        if (MPI_Wtime() - t0 > seconds) return 0; /* the request is left: the job is aborted next */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

void sn_dist_abort(int code) {
    if (g_dist.ready) MPI_Abort(MPI_COMM_WORLD, code);
}
