/* Chunked (data-parallel) training steps for the loop of fit.c
 * (sn_fit_opts.chunks > 0; docs/distributed.md). Every function taking a
 * fit_dp is collective: every rank of the group calls it at the same
 * point with the same arguments but its own data. */
#ifndef SEQNN_FIT_DP_H
#define SEQNN_FIT_DP_H

#include "fit/train_state.h"
#include "model/model_impl.h"

typedef struct fit_dp fit_dp;

/* What one step gives the loop: the same on every rank. */
typedef struct fit_dp_result {
    double loss;               /* mean loss of the whole batch */
    double rows;               /* samples in the batch */
    double mtotal[4], mcount[4]; /* metric sums of the batch, per compiled metric */
    int stop;                  /* some rank's stop flag was set */
} fit_dp_result;

/* Agrees on st (each rank's result of its own set-up) and, when all
 * succeeded, sets up chunked training of m on train with o (o->chunks
 * > 0): the gradient layout, buckets, buffers; then checks that every rank
 * starts from the same weights, optimizer, RNG streams and training state
 * (ts, after a resume) and the same settings. Errors on every rank: any
 * rank's set-up error or SN_ERR_STATE naming the ranks that differ
 * (e.g. a resume file only some ranks can read), SN_ERR_NOMEM. *out is
 * NULL on error. */
sn_status fit_dp_begin(fit_dp **out, sn_status st, sn_model *m, const sn_dataset *train, const sn_fit_opts *o,
                       const sn_train_state *ts);
void fit_dp_free(fit_dp *d);
/* 1 on the rank that writes files (rank 0). Not collective. */
int fit_dp_root(const fit_dp *d);
/* The epoch's sample order: idx (train->n) = the samples of each shard,
 * shuffled within the shard when shuffle (from epoch_seed and the shard
 * index). Not collective (every rank computes the same). */
void fit_dp_order(const fit_dp *d, size_t *idx, uint64_t epoch_seed, int shuffle);
/* One optimizer step: this rank's chunks of step `step` (rows of idx as
 * fit_dp_order laid them out), the exact gradient sum over all chunks,
 * the update, the batch's logs into *res. Errors on every rank, naming
 * epoch and step: a rank's data or memory error (naming the rank),
 * SN_ERR_NUMERIC for a NaN/Inf loss or gradient (before the weights
 * change). */
sn_status fit_dp_step(fit_dp *d, const size_t *idx, size_t step, int epoch, fit_dp_result *res);
/* sn_dp_agree over the group. */
sn_status fit_dp_agree(const fit_dp *d, sn_status st);
/* *flag = 1 on every rank when it was non-zero on some rank. */
sn_status fit_dp_any(const fit_dp *d, int *flag);

#endif
