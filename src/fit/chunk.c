/* Shards, chunk positions and chunk RNG streams of chunked training
 * (chunk.h, docs/distributed.md). */
#include "fit/chunk.h"
#include "model/dp.h"

void sn_chunk_shard(size_t n, int K, int k, size_t *lo, size_t *hi) {
    /* floor(k*n/K) without overflowing k*n: n = q*K + r. */
    size_t q = n / (size_t)K, r = n % (size_t)K;
    *lo = (size_t)k * q + (size_t)k * r / (size_t)K;
    *hi = (size_t)(k + 1) * q + (size_t)(k + 1) * r / (size_t)K;
}

size_t sn_chunk_steps(size_t n, int K, size_t c) {
    size_t longest = (n + (size_t)K - 1) / (size_t)K;
    return longest ? (longest + c - 1) / c : 0;
}

void sn_chunk_positions(int K, int size, int rank, int *k0, int *k1) {
    size_t lo, hi;
    sn_dp_split((size_t)K, size, rank, &lo, &hi);
    *k0 = (int)lo;
    *k1 = (int)hi;
}

/* splitmix64's finaliser: a bijection of 64-bit words that mixes every bit. */
static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sn_chunk_rng(sn_rng *out, const sn_rng *base, uint64_t k) {
    /* A 64-bit digest of the 256-bit base state and k seeds the stream
     * (sn_rng_seed expands it through splitmix64). */
    uint64_t h = mix64(k ^ 0x243f6a8885a308d3ULL);
    for (int i = 0; i < 4; i++) h = mix64(h ^ base->s[i]);
    sn_rng_seed(out, h);
}
