/* Building blocks of chunked training (docs/distributed.md), pure
 * functions of their arguments so that every rank computes the same:
 * the shards and chunk positions (chunk.c), the chunk RNG streams
 * (chunk.c) and the exact gradient sum on a fixed-point grid (xsum.c). */
#ifndef SEQNN_FIT_CHUNK_H
#define SEQNN_FIT_CHUNK_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

/* ---- Shards (chunk.c). n samples are cut into K contiguous shards, one
 * per chunk position k of a batch: shard k is [lo, hi) with
 * lo = floor(k*n/K), hi = floor((k+1)*n/K). ---- */
void sn_chunk_shard(size_t n, int K, int k, size_t *lo, size_t *hi);
/* Steps per epoch: each step takes c rows from every shard, so
 * ceil(ceil(n/K) / c). */
size_t sn_chunk_steps(size_t n, int K, size_t c);
/* The chunk positions [*k0, *k1) rank `rank` of `size` computes:
 * contiguous, counts differing by at most one (sn_dp_split). */
void sn_chunk_positions(int K, int size, int rank, int *k0, int *k1);

/* ---- Chunk RNG streams (chunk.c). The stream chunk k of a step draws its
 * dropout masks from: a function of the base stream's state at the step
 * and k only (never of what other chunks drew), so a chunk's masks are the
 * same on whichever rank it runs. The base stream then moves on to
 * sn_chunk_rng(base, SN_CHUNK_NEXT), once per step. ---- */
#define SN_CHUNK_NEXT UINT64_MAX
void sn_chunk_rng(sn_rng *out, const sn_rng *base, uint64_t k);

/* ---- Exact sums (xsum.c). Floats of one group share an exponent e: the
 * smallest with |g| < 2^e for every value of the group in every chunk
 * (the maximum over chunks of sn_xsum_exp). Each chunk's values are
 * rounded to integers on the grid 2^(e-S) and the integers are added; an
 * integer sum is exact in any order, so the result depends only on the
 * chunk values, not on which rank added what. S = sn_xsum_bits(K) keeps the
 * sum of K chunks within 2^50 (exact in double too). ---- */
#define SN_XSUM_GROUP 1024             /* floats per exponent group */
#define SN_XSUM_NONE INT32_MIN         /* every value 0 (or no chunk here) */
#define SN_XSUM_NONFINITE INT32_MAX    /* some value NaN or Inf */
/* The exponent of g[0..n) (frexp of its largest magnitude), SN_XSUM_NONE
 * when all are 0, SN_XSUM_NONFINITE when any is not finite. */
int32_t sn_xsum_exp(const float *g, size_t n);
/* Fraction bits of the grid for K chunks: 50 - ceil(log2 K) (K >= 1). */
int sn_xsum_bits(int K);
/* acc[i] += round(g[i] * 2^(S-e)) (to nearest, ties to even), for a group
 * exponent e that is neither NONE nor NONFINITE and every |g[i]| < 2^e. */
void sn_xsum_add(int64_t *acc, const float *g, size_t n, int32_t e, int S);
/* out[i] = (float)(acc[i] * 2^(e-S) / div), computed in double. e NONE
 * gives zeros. */
void sn_xsum_get(float *out, const int64_t *acc, size_t n, int32_t e, int S, double div);

#endif
