/* Data-parallel helpers over an sn_comm (seqnn/comm.h), shared by chunked
 * evaluation (model/dp.c) and chunked training (src/fit/fit_dp.c). */
#ifndef SEQNN_MODEL_DP_H
#define SEQNN_MODEL_DP_H

#include "seqnn/comm.h"

/* The group of one process: every operation is the identity (gather copies
 * mine to all). Static; never NULL. */
const sn_comm *sn_dp_solo(void);

/* c, or the group of one when c is NULL. */
const sn_comm *sn_dp_or_solo(const sn_comm *c);

/* Part [*lo, *hi) of 0..n that rank `rank` of `size` takes when n items
 * are cut into `size` contiguous parts whose lengths differ by at most one
 * (the first n % size parts are the longer ones). */
void sn_dp_split(size_t n, int size, int rank, size_t *lo, size_t *hi);

/* Collective status: every rank passes its own st (its message in
 * sn_error_last when st != SN_OK). Returns SN_OK on every rank when every
 * st was SN_OK; else, on every rank, the status of the lowest failing rank
 * with its message prefixed "rank R: " (copied to every rank). A failure of
 * the communication itself is returned as is. */
sn_status sn_dp_agree(const sn_comm *c, sn_status st);

/* All-gather with a status: rank r contributes counts[r] doubles from
 * mine and its status st; like sn_dp_agree, any rank's failure is returned
 * on every rank (with its message). On SN_OK `all` holds every rank's
 * doubles in rank order. */
sn_status sn_dp_gather(const sn_comm *c, sn_status st, const double *mine, const int *counts, double *all);

#endif
