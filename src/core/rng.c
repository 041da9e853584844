/* The explicit RNG: xoshiro256** seeded through splitmix64. */
#include "seqnn/core.h"
#include "core/internal.h"

#include <math.h>

/* ---- RNG: xoshiro256** (Blackman & Vigna), seeded by splitmix64. ---- */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sn_rng_seed(sn_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sn_rng_u64(sn_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float sn_rng_uniform(sn_rng *r) { return (float)(sn_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double sn_rng_double(sn_rng *r) { return (double)(sn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

double sn_rng_normal(sn_rng *r) {
    double u1 = sn_rng_double(r), u2 = sn_rng_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

__extension__ typedef unsigned __int128 sn_u128;

uint64_t sn_rng_below(sn_rng *r, uint64_t n) {
    if (n == 0) return 0; /* empty range: defined as 0, no draw (core.h) */
    /* Lemire's nearly divisionless method on 64 bits via 128-bit product. */
    sn_u128 m = (sn_u128)sn_rng_u64(r) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            m = (sn_u128)sn_rng_u64(r) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

void sn_rng_shuffle(sn_rng *r, size_t *idx, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)sn_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

sn_rng sn_rng_split(sn_rng *r) {
    sn_rng out;
    sn_rng_seed(&out, sn_rng_u64(r));
    return out;
}

