/* Datasets: a sample source the trainer pulls batches from by index, so that
 * windows of a series or encoded texts are produced on demand, never all
 * materialised. */
#ifndef SEQNN_DATASET_H
#define SEQNN_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One batch as handed to the model.
 * Dense input: x (B, x_numel) floats written by the dataset into the
 * trainer-owned buffer. Sparse input (bag-of-words): the dataset points
 * sp_row_ptr / sp_col / sp_val at CSR storage it owns (valid until the next
 * fill), with sp_row_ptr[B] non-zeros; x is unused. Targets: y (B, y_numel).
 * Token ids are stored as floats (exact below 2^24). */
typedef struct sn_batch {
    int B;
    float *x;                 /* (B, x_numel), trainer-owned */
    float *y;                 /* (B, y_numel), trainer-owned */
    const int64_t *sp_row_ptr;/* (B+1) or NULL */
    const int32_t *sp_col;    /* (nnz) */
    const float *sp_val;      /* (nnz) */
    float *sw;                /* (B) trainer-owned per-sample loss weights, filled by a dataset with
                                 sample_weights (else NULL) */
} sn_batch;

typedef struct sn_dataset {
    size_t n;                 /* number of samples */
    size_t x_numel;           /* floats per sample input (dense), or the sparse width */
    size_t y_numel;           /* floats per sample target */
    int sparse;               /* 1: fills the sp_* CSR fields instead of x */
    void *ctx;
    /* Fills b->x/b->y (or the CSR) for samples idx[0..B), in that order. */
    sn_status (*fill)(void *ctx, const size_t *idx, int B, sn_batch *b);
    /* Optional: releases ctx (called by sn_dataset_free). */
    void (*destroy)(void *ctx);
    /* 1: fill also writes per-sample loss weights into b->sw (class weights).
     * Training uses them as Keras's sample_weight: loss = Σ w_i ℓ_i / B;
     * evaluation ignores them. Only for models with one output row per sample. */
    int sample_weights;
} sn_dataset;

/* Releases ctx through destroy (if any) and clears the struct. */
SN_API void sn_dataset_free(sn_dataset *d);

/* A dataset over caller-owned row-major arrays x (n, x_numel) and
 * y (n, y_numel) (y may be NULL: no targets). The arrays must outlive the
 * dataset (not copied). Errors: SN_ERR_ARG for NULL out / x, n == 0 or
 * x_numel == 0; SN_ERR_NOMEM. Free with sn_dataset_free. */
SN_API sn_status sn_dataset_from_arrays(sn_dataset *out, const float *x, const float *y, size_t n, size_t x_numel,
                                 size_t y_numel);

/* A dataset of n samples of which this process holds only [lo, lo +
 * inner->n), as a rank holds its share of the training set
 * (sn_fit_shard): sample lo + i is inner's sample i; a fill that asks for
 * any other sample fails with SN_ERR_STATE naming it. inner's fields
 * (x_numel, y_numel, sparse, sample_weights) carry over; inner may hold no
 * sample (n 0, fill NULL: nothing here). Takes inner over (it is cleared;
 * sn_dataset_free(out) releases it). Errors: SN_ERR_ARG for NULL
 * arguments, n == 0 or a range outside [0, n); SN_ERR_NOMEM. */
SN_API sn_status sn_dataset_window(sn_dataset *out, sn_dataset *inner, size_t n, size_t lo);

#ifdef __cplusplus
}
#endif
#endif
