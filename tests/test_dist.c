/* The building blocks of chunked (data-parallel) training, without MPI:
 * the exact sum on a shared fixed-point grid, the chunk RNG streams, the
 * shards and chunk positions, the group of one (docs/distributed.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "fit/chunk.h"
#include "model/dp.h"
#include "seqnn.h"
#include "test.h"

/* K chunk vectors of n floats over a wide dynamic range (2^-30 .. 2^6,
 * both signs, some exact zeros), from a fixed seed. */
static float *chunk_values(int K, size_t n, uint64_t seed) {
    float *g = malloc((size_t)K * n * sizeof *g);
    sn_rng r;
    sn_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)K * n; i++) {
        double u = sn_rng_double(&r), e = -30 + 36 * sn_rng_double(&r);
        g[i] = i % 17 == 3 ? 0.0f : (float)((u < 0.5 ? -1 : 1) * ldexp(0.5 + sn_rng_double(&r) / 2, (int)e));
    }
    return g;
}

/* The sum over chunks [a, b) of one group, rounded on the grid of e. */
static void partial(int64_t *acc, const float *g, size_t n, int a, int b, int32_t e, int S) {
    memset(acc, 0, n * sizeof *acc);
    for (int k = a; k < b; k++) sn_xsum_add(acc, g + (size_t)k * n, n, e, S);
}

TEST(xsum_sum_is_the_same_for_every_grouping_of_the_chunks) {
    enum { K = 9, N = 700 };
    float *g = chunk_values(K, N, 11);
    int32_t e = SN_XSUM_NONE;
    for (int k = 0; k < K; k++) e = SN_MAX(e, sn_xsum_exp(g + (size_t)k * N, N));
    int S = sn_xsum_bits(K);
    CHECK(S == 46); /* 50 - ceil(log2 9) */
    /* one "rank" with every chunk, then 2 and 3 ranks with contiguous
     * parts added in reverse rank order, then the chunks one by one */
    static int64_t ref[N], a[N], b[N], c[N];
    partial(ref, g, N, 0, K, e, S);
    int cuts[2][4] = {{0, 5, 9, 9}, {0, 3, 6, 9}};
    for (int t = 0; t < 2; t++) {
        int parts = t == 0 ? 2 : 3;
        memset(c, 0, sizeof c);
        for (int p = parts - 1; p >= 0; p--) {
            partial(a, g, N, cuts[t][p], cuts[t][p + 1], e, S);
            for (int i = 0; i < N; i++) c[i] += a[i];
        }
        CHECK(!memcmp(c, ref, sizeof ref));
    }
    memset(b, 0, sizeof b);
    for (int k = K - 1; k >= 0; k--) {
        partial(a, g, N, k, k + 1, e, S);
        for (int i = 0; i < N; i++) b[i] += a[i];
    }
    CHECK(!memcmp(b, ref, sizeof ref));
    /* And the float sums differ with the association (why the grid exists):
     * left-to-right vs. two halves, over the same chunks. */
    int differ = 0;
    for (int i = 0; i < N; i++) {
        float l = 0, h1 = 0, h2 = 0;
        for (int k = 0; k < K; k++) l += g[(size_t)k * N + i];
        for (int k = 0; k < 5; k++) h1 += g[(size_t)k * N + i];
        for (int k = 5; k < K; k++) h2 += g[(size_t)k * N + i];
        differ += l != h1 + h2;
    }
    CHECK(differ > 0);
    free(g);
}

TEST(xsum_error_is_within_its_derived_bound) {
    enum { K = 8, N = 1024 };
    float *g = chunk_values(K, N, 12);
    int32_t e = SN_XSUM_NONE;
    for (int k = 0; k < K; k++) e = SN_MAX(e, sn_xsum_exp(g + (size_t)k * N, N));
    int S = sn_xsum_bits(K);
    static int64_t acc[N];
    static float out[N];
    partial(acc, g, N, 0, K, e, S);
    const double W = 3.0;
    sn_xsum_get(out, acc, N, e, S, W);
    for (int i = 0; i < N; i++) {
        /* exact reference: the K floats summed in long double (64-bit
         * mantissa: exact for values within 2^36 of each other, here
         * 2^-30..2^6), divided by W */
        long double x = 0;
        for (int k = 0; k < K; k++) x += g[(size_t)k * N + i];
        double ref = (double)(x / W);
        /* Bound: each of the K roundings onto the grid 2^(e-S) errs by at
         * most half a grid step, K * 2^(e-S-1) in all, divided by W; the
         * int64 -> double conversion is exact (|sum| <= K * 2^S = 2^50);
         * the division by W rounds once in double (2^-53 |ref|) and the
         * conversion to float once more (2^-24 |ref|). */
        double bound = K * ldexp(1.0, e - S - 1) / W + ldexp(fabs(ref), -53) + ldexp(fabs(ref), -24) + 1e-45;
        CHECK_MSG(fabs((double)out[i] - ref) <= bound, "i %d: %.9g vs %.9g (bound %.3g)", i, out[i], ref, bound);
    }
    free(g);
}

TEST(xsum_exponent_bounds_the_values_and_flags_zero_and_nonfinite) {
    float z[5] = {0};
    CHECK(sn_xsum_exp(z, 5) == SN_XSUM_NONE);
    float v[4] = {0.75f, -3.0f, 1e-3f, 2.0f};
    int32_t e = sn_xsum_exp(v, 4);
    CHECK(e == 2); /* 3 = 0.75 * 2^2: 2^1 <= 3 < 2^2 */
    float w[3] = {1.0f, NAN, 2.0f};
    CHECK(sn_xsum_exp(w, 3) == SN_XSUM_NONFINITE);
    w[1] = -INFINITY;
    CHECK(sn_xsum_exp(w, 3) == SN_XSUM_NONFINITE);
    CHECK(sn_xsum_bits(1) == 50 && sn_xsum_bits(2) == 49 && sn_xsum_bits(8) == 47);
    /* the largest value rounds to at most 2^S: K of them cannot overflow */
    int64_t acc[1] = {0};
    float big[1] = {nextafterf(4.0f, 0.0f)}; /* just below 2^e, e = 2 */
    int S = sn_xsum_bits(8);
    for (int k = 0; k < 8; k++) sn_xsum_add(acc, big, 1, 2, S);
    CHECK(acc[0] > 0 && acc[0] <= 8 * (INT64_C(1) << S));
    float out[1];
    sn_xsum_get(out, acc, 1, 2, S, 8.0);
    CHECK(out[0] == big[0]);
    sn_xsum_get(out, acc, 1, SN_XSUM_NONE, S, 1.0);
    CHECK(out[0] == 0.0f);
}

/* sn_xsum_add rounds through 1.5 * 2^52 instead of llrint: the same integer
 * for every value it may see (|g * 2^(S-e)| <= 2^S), ties to even included,
 * for both signs and at the ends of the range. */
TEST(xsum_rounding_is_that_of_llrint) {
    const int S = sn_xsum_bits(8), e = 3;
    const double s = ldexp(1.0, S - e);
    enum { N = 4096 };
    static float g[N];
    sn_rng r;
    sn_rng_seed(&r, 5);
    int i = 0;
    /* exact halves of the grid step (ties) at small and large magnitudes */
    for (int k = 0; k < 16; k++) g[i++] = (float)ldexp(k + 0.5, e - S), g[i++] = (float)-ldexp(k + 0.5, e - S);
    g[i++] = nextafterf(8.0f, 0.0f), g[i++] = -nextafterf(8.0f, 0.0f); /* just below 2^e */
    g[i++] = 0.0f, g[i++] = -0.0f, g[i++] = 1e-45f, g[i++] = -1e-45f; /* zeros and a denormal */
    while (i < N) {
        double u = sn_rng_double(&r), ex = -40 + 43 * sn_rng_double(&r);
        g[i++] = (float)((u < 0.5 ? -1 : 1) * ldexp(0.5 + sn_rng_double(&r) / 2, (int)ex));
    }
    static int64_t acc[N];
    memset(acc, 0, sizeof acc);
    sn_xsum_add(acc, g, N, e, S);
    int bad = 0;
    for (int k = 0; k < N; k++) {
        long long want = llrint((double)g[k] * s);
        if (acc[k] != want && bad++ < 5) CHECK_MSG(0, "g %.9g: %lld, llrint %lld", g[k], (long long)acc[k], want);
    }
    CHECK(bad == 0);
}

TEST(chunk_rng_depends_only_on_base_and_chunk) {
    sn_rng base, other, a, b, c;
    sn_rng_seed(&base, 42);
    sn_rng_seed(&other, 43);
    sn_chunk_rng(&a, &base, 3);
    /* drawing from one chunk's stream does not move another's */
    sn_chunk_rng(&c, &base, 2);
    for (int i = 0; i < 100; i++) sn_rng_u64(&c);
    sn_chunk_rng(&b, &base, 3);
    CHECK(!memcmp(&a, &b, sizeof a));
    sn_chunk_rng(&b, &base, 4);
    CHECK(memcmp(&a, &b, sizeof a));
    sn_chunk_rng(&b, &other, 3);
    CHECK(memcmp(&a, &b, sizeof a));
    sn_chunk_rng(&b, &base, SN_CHUNK_NEXT);
    CHECK(memcmp(&a, &b, sizeof a) && memcmp(&b, &base, sizeof b));
    /* the first draws of 64 chunk streams are distinct */
    uint64_t first[64];
    for (int k = 0; k < 64; k++) {
        sn_chunk_rng(&a, &base, (uint64_t)k);
        first[k] = sn_rng_u64(&a);
        for (int j = 0; j < k; j++) CHECK(first[j] != first[k]);
    }
}

TEST(shards_and_positions_cover_everything_once) {
    size_t ns[] = {0, 1, 7, 53, 1000, 34901};
    int Ks[] = {1, 2, 3, 8};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof Ks / sizeof Ks[0]; b++) {
            size_t n = ns[a], prev = 0, mn = (size_t)-1, mx = 0;
            int K = Ks[b];
            for (int k = 0; k < K; k++) {
                size_t lo, hi;
                sn_chunk_shard(n, K, k, &lo, &hi);
                CHECK(lo == prev && hi >= lo);
                prev = hi;
                mn = SN_MIN(mn, hi - lo);
                mx = SN_MAX(mx, hi - lo);
            }
            CHECK(prev == n && mx - mn <= 1);
            /* steps: each step takes c rows of every shard */
            size_t c = 3, steps = sn_chunk_steps(n, K, c);
            CHECK(steps * c >= mx && (steps == 0 || (steps - 1) * c < mx));
            for (int size = 1; size <= 5; size++) {
                int next = 0;
                size_t next_row = 0;
                for (int r = 0; r < size; r++) {
                    int k0, k1;
                    sn_chunk_positions(K, size, r, &k0, &k1);
                    CHECK(k0 == next && k1 >= k0);
                    next = k1;
                    size_t lo, hi;
                    CHECK(sn_fit_shard(n, K * 4, K, r, size, &lo, &hi) == SN_OK);
                    CHECK(lo == next_row && hi >= lo);
                    next_row = hi;
                }
                CHECK(next == K && next_row == n);
            }
        }
    size_t lo, hi;
    CHECK(sn_fit_shard(10, 12, 5, 0, 1, &lo, &hi) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "not a multiple"));
    CHECK(sn_fit_shard(10, 12, 4, 2, 2, &lo, &hi) == SN_ERR_ARG);
    /* evaluation shares: batches of 4 over 10 samples, 2 ranks: [0, 8), [8, 10) */
    sn_model_eval_shard(10, 4, 0, 2, &lo, &hi);
    CHECK(lo == 0 && hi == 8);
    sn_model_eval_shard(10, 4, 1, 2, &lo, &hi);
    CHECK(lo == 8 && hi == 10);
}

TEST(group_of_one_is_the_identity) {
    const sn_comm *c = sn_dp_solo();
    CHECK(c->rank == 0 && c->size == 1 && sn_dp_or_solo(NULL) == c);
    int32_t v[2] = {3, -4};
    CHECK(c->max_i32(c->ctx, v, 2) == SN_OK && v[0] == 3 && v[1] == -4);
    double mine[3] = {1, 2, 3}, all[3];
    int counts[1] = {3};
    CHECK(sn_dp_gather(c, SN_OK, mine, counts, all) == SN_OK && !memcmp(mine, all, sizeof all));
    sn_error(SN_ERR_IO, "disk full");
    CHECK(sn_dp_agree(c, SN_ERR_IO) == SN_ERR_IO && strstr(sn_error_last(), "disk full"));
    CHECK(sn_dp_agree(NULL, SN_OK) == SN_OK);
}
