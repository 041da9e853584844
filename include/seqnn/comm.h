/* A data-parallel group: the collective operations chunked training
 * (sn_fit_opts.chunks, .comm) and chunked evaluation
 * (sn_model_evaluate_chunked) run on. src/dist implements it over MPI
 * (seqnn/dist.h, `make MPI=1`); a caller may plug in its own. NULL stands
 * for a group of one process (every operation is then the identity).
 *
 * Contract of every implementation: ranks 0..size-1; every rank calls the
 * same operations in the same order with the same sizes (counts[] equal on
 * all ranks); an operation returns only SN_OK or an error with a message
 * (sn_error). Integer sums are exact, so their result does not depend on
 * the order in which an implementation combines the ranks; nothing here
 * sums floats. Operations are called from one thread per rank (the thread
 * that called fit), never from seqnn's worker threads. docs/distributed.md
 * explains how seqnn builds bit-identical training on these. */
#ifndef SEQNN_COMM_H
#define SEQNN_COMM_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_comm {
    int rank, size;           /* this process's rank, the number of ranks */
    void *ctx;                /* the implementation's state */
    /* Element-wise maximum of v[0..n) over the ranks, in place. */
    sn_status (*max_i32)(void *ctx, int32_t *v, int n);
    /* Starts the element-wise maximum of v[0..n) in place; *req names it
     * until wait. v must not be touched before wait returns. */
    sn_status (*max_i32_start)(void *ctx, int32_t *v, int n, int *req);
    /* Starts the element-wise (exact, wrapping) sum of v[0..n) over the
     * ranks, in place; *req names it until wait. */
    sn_status (*sum_i64_start)(void *ctx, int64_t *v, size_t n, int *req);
    /* The same sum, blocking (for a reduction nothing is left to overlap:
     * MPI libraries often run their blocking collectives faster). */
    sn_status (*sum_i64)(void *ctx, int64_t *v, size_t n);
    /* Advances the started operations without blocking (may be a no-op). */
    void (*progress)(void *ctx);
    /* Completes the operation req. */
    sn_status (*wait)(void *ctx, int req);
    /* All-gather: rank r contributes counts[r] doubles from mine; every
     * rank receives all of them, rank 0's first, in `all`
     * (sum of counts doubles). */
    sn_status (*gather_f64)(void *ctx, const double *mine, const int *counts, double *all);
    /* Copies n bytes of buf from rank root to every rank. */
    sn_status (*bcast)(void *ctx, void *buf, size_t n, int root);
    /* All-gather of bytes: rank r contributes n bytes from mine (n may
     * differ between ranks); every rank receives each rank's count in
     * counts[0..size) and all the bytes, rank 0's first, in *all (malloc'd,
     * released with free; non-NULL also when every n is 0). */
    sn_status (*gather_bytes)(void *ctx, const void *mine, size_t n, void **all, size_t *counts);
    /* All-to-all of bytes: send holds counts[0] bytes for rank 0, then
     * counts[1] for rank 1, ...; every rank receives what each rank r sent
     * it, rank 0's first, in *recv (malloc'd as above), rcounts[r] bytes
     * from rank r. */
    sn_status (*exchange)(void *ctx, const void *send, const size_t *counts, void **recv, size_t *rcounts);
} sn_comm;

/* Collective status: every rank passes its own st (its message in
 * sn_error_last when st != SN_OK). Returns SN_OK on every rank when all
 * passed SN_OK; else, on every rank, the status of the lowest failing rank
 * with its message as "rank R: message". c NULL: returns st. */
SN_API sn_status sn_comm_agree(const sn_comm *c, sn_status st);

#ifdef __cplusplus
}
#endif
#endif
