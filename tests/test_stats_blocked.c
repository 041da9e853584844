/* Blocked training statistics (sn_table_stats_blocked): the same bits for
 * any assignment of blocks to ranks, each rank holding only its blocks'
 * rows (a partial CSV read) and summing them, on 1, 2 and 3 ranks of the
 * thread group that poses as MPI (dist_fake.c); close to the plain
 * sequential two-pass result (sn_table_stats, sn_fc_mase_scale) within the
 * summation bound derived below. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist_fake.h"
#include "seqnn/data.h"
#include "seqnn/forecast.h"
#include "test.h"

#define NS 2      /* series */
#define LEN 9000  /* rows per series: 6300 training rows, 25 blocks */
#define MAXB 64
#define SEASON 24

/* Two interleaved series; column a is large with small variation (the case
 * where the order of a double sum shows in the last bits), b is centred. */
static const char *write_file(void) {
    static char path[512];
    snprintf(path, sizeof path, "%s/stats_blocked.csv", sn_test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs("id,Date Time,a,b\n", f);
    uint64_t z = 88172645463325252ull;
    for (size_t i = 0; i < (size_t)LEN * NS; i++) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        int s = (int)(i % NS);
        size_t j = i / NS;
        fprintf(f, "s%d,%lld,%.4f,%.6f\n", s, 1000000LL + (long long)j * 3600, 98765.4321 + (double)(z % 100000) / 997.0,
                sin((double)j * 0.01) * 3.0 + (double)(z % 1000) / 1e4 - 0.05);
    }
    fclose(f);
    return path;
}

typedef struct job {
    const char *path;
    const sn_table *ix;          /* the index read */
    size_t begin[NS], end[NS];   /* the training rows */
    const int *owner;            /* (nb) */
    int miss_rank;               /* this rank drops one row of its first block (-1: none) */
    double mean[3][NS * 2], std[3][NS * 2], diff[3][NS * 2];
    sn_status st[3];
    char msg[3][256];
} job;

static void fill_req(const job *j, sn_stats_req *r, const sn_comm *c) {
    static const int cols[2] = {0, 1};
    memset(r, 0, sizeof *r);
    r->n_ranges = NS;
    r->begin = j->begin, r->end = j->end;
    r->owner = j->owner;
    r->comm = c;
    r->n_diff = 2, r->diff_col = cols, r->season = SEASON;
}

/* One rank: reads the rows of its blocks (and the season before each),
 * then the statistics. */
static void rank_fn(fake_rank *fr, void *user) {
    job *j = user;
    const int me = fr->rank;
    sn_stats_req r;
    fill_req(j, &r, &fr->comm);
    size_t keep[2 * MAXB], nk = 0, q = 0;
    for (int s = 0; s < NS; s++)
        for (size_t g = j->begin[s]; g < j->end[s]; g += SN_STATS_BLOCK, q++) {
            if (j->owner[q] != me) continue;
            size_t b = g - (g - j->begin[s] < SEASON ? g - j->begin[s] : SEASON);
            size_t e = g + SN_STATS_BLOCK < j->end[s] ? g + SN_STATS_BLOCK : j->end[s];
            if (me == j->miss_rank && nk == 0) b++; /* one row of the first block missing */
            if (nk && b <= keep[2 * nk - 1]) keep[2 * nk - 1] = e;
            else keep[2 * nk] = b, keep[2 * nk + 1] = e, nk++;
        }
    sn_table t;
    memset(&t, 0, sizeof t);
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    o.id_column = "id";
    o.keep = keep, o.n_keep = (int)nk;
    o.keep_series_start = j->ix->series_start, o.keep_n_series = j->ix->n_series;
    if (nk) j->st[me] = sn_csv_read(&t, j->path, &o);
    else t.n_cols = 2, t.n_total = j->ix->n_rows, t.row = NULL; /* holds nothing */
    if (!j->st[me]) {
        if (!nk) t.row = malloc(sizeof *t.row); /* n_rows 0: a partial read without rows */
        j->st[me] = sn_table_stats_blocked(&t, &r, j->mean[me], j->std[me], j->diff[me]);
    }
    snprintf(j->msg[me], sizeof j->msg[me], "%s", j->st[me] ? sn_error_last() : "");
    sn_table_free(&t);
}

static int bits_equal(const double *a, const double *b, size_t n) { return !memcmp(a, b, n * sizeof *a); }

TEST(stats_blocked_equal_for_any_block_to_rank_assignment) {
    const char *path = write_file();
    CHECK(path);
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    o.id_column = "id";
    sn_table full, ix;
    CHECK_OK(sn_csv_read(&full, path, &o));
    o.index_only = 1;
    CHECK_OK(sn_csv_read(&ix, path, &o));
    job j;
    memset(&j, 0, sizeof j);
    j.path = path, j.ix = &ix, j.miss_rank = -1;
    for (int s = 0; s < NS; s++) j.begin[s] = full.series_start[s], j.end[s] = full.series_start[s] + LEN * 7 / 10;
    sn_stats_req r;
    fill_req(&j, &r, NULL);
    const size_t nb = sn_stats_n_blocks(&r);
    CHECK(nb == NS * ((6300 + SN_STATS_BLOCK - 1) / SN_STATS_BLOCK) && nb <= MAXB);
    double m0[NS * 2], s0[NS * 2], d0[NS * 2];
    CHECK_OK(sn_table_stats_blocked(&full, &r, m0, s0, d0)); /* one process, every block */
    int own[3][MAXB];
    for (size_t q = 0; q < nb; q++) own[0][q] = (int)(q * 3 / nb), own[1][q] = (int)(q % 3), own[2][q] = 2;
    for (int size = 1; size <= 3; size++)
        for (int a = 0; a < 3; a++) {
            int ow[MAXB];
            for (size_t q = 0; q < nb; q++) ow[q] = own[a][q] % size;
            j.owner = ow;
            fake_group_run(size, rank_fn, &j);
            for (int k = 0; k < size; k++) {
                CHECK_MSG(j.st[k] == SN_OK, "size %d assignment %d rank %d: %s", size, a, k, j.msg[k]);
                CHECK_MSG(bits_equal(j.mean[k], m0, NS * 2) && bits_equal(j.std[k], s0, NS * 2) &&
                              bits_equal(j.diff[k], d0, NS * 2),
                          "size %d assignment %d rank %d differs", size, a, k);
            }
        }
    /* a rank missing a row of its block fails (naming the rows); the others
     * are not kept waiting */
    int ow[MAXB];
    for (size_t q = 0; q < nb; q++) ow[q] = (int)(q % 2);
    j.owner = ow, j.miss_rank = 1;
    fake_group_run(2, rank_fn, &j);
    CHECK(j.st[0] == SN_OK && j.st[1] == SN_ERR_ARG && strstr(j.msg[1], "not all held"));

    /* Against the plain sequential sums. For n doubles summed in any order,
     * |computed - exact| <= g(n-1) sum|x_i|, g(k) = k u / (1 - k u), u =
     * 2^-53 (Higham, Accuracy and Stability, 4.2), so the blocked and the
     * sequential sum differ by at most 2 g(n-1) sum|x_i|; each division by n
     * adds u |mean|. For the variance the terms are >= 0, each computed
     * with relative error <= g(3) (a subtraction, a square, and the mean's
     * own error enters only to second order: sum (x - m')^2 = sum (x - m)^2
     * + n (m - m')^2 with m the exact mean), so two results differ by at most
     * 2 g(n+2) V + 2 n dm^2 with dm the mean bound; sqrt halves a relative
     * error and adds u. The MASE scale sums the same n-m terms (>= 0) in
     * two orders: 2 g(n-m-1) D, plus u from the division. */
    const double u = DBL_EPSILON / 2;
    for (int s = 0; s < NS; s++) {
        const size_t n = j.end[s] - j.begin[s];
        double mp[2], sp[2];
        CHECK_OK(sn_table_stats(&full, j.begin[s], j.end[s], mp, sp));
        float *y = malloc(full.n_rows * 2 * sizeof *y);
        CHECK(y);
        for (size_t i = 0; i < full.n_rows * 2; i++) y[i] = (float)full.data[i];
        for (int c = 0; c < 2; c++) {
            double abs_sum = 0;
            for (size_t i = j.begin[s]; i < j.end[s]; i++) abs_sum += fabs(full.data[i * 2 + (size_t)c]);
            const double g1 = (double)(n - 1) * u / (1 - (double)(n - 1) * u), g2 = (double)(n + 2) * u / (1 - (double)(n + 2) * u);
            const double dm = 2 * g1 * abs_sum / (double)n + 2 * u * fabs(mp[c]);
            const double V = sp[c] * sp[c] * (double)n, dV = 2 * g2 * V + 2 * (double)n * dm * dm;
            const double dsd = 0.5 * dV / V * sp[c] + 2 * u * sp[c];
            CHECK_MSG(fabs(m0[s * 2 + c] - mp[c]) <= dm, "mean %d/%d: %.17g vs %.17g (bound %g)", s, c, m0[s * 2 + c], mp[c], dm);
            CHECK_MSG(fabs(s0[s * 2 + c] - sp[c]) <= dsd, "std %d/%d: %.17g vs %.17g (bound %g)", s, c, s0[s * 2 + c], sp[c], dsd);
            double den;
            CHECK_OK(sn_fc_mase_scale(y, 2, c, j.begin[s], j.end[s], SEASON, &den));
            const size_t nd = n - SEASON;
            const double dd = (2 * (double)(nd - 1) * u / (1 - (double)(nd - 1) * u) + 2 * u) * den;
            CHECK_MSG(fabs(d0[s * 2 + c] - den) <= dd, "MASE %d/%d: %.17g vs %.17g (bound %g)", s, c, d0[s * 2 + c], den, dd);
        }
        free(y);
    }
    sn_table_free(&full);
    sn_table_free(&ix);
}

TEST(stats_blocked_refuses_bad_requests) {
    double data[6] = {1, 2, 3, 4, 5, 6};
    char *names[2] = {"a", "b"};
    sn_table t;
    memset(&t, 0, sizeof t);
    t.n_rows = 3, t.n_cols = 2, t.data = data, t.col_names = names;
    size_t b = 0, e = 4;
    sn_stats_req r;
    memset(&r, 0, sizeof r);
    r.n_ranges = 1, r.begin = &b, r.end = &e;
    double m[2], s[2];
    CHECK(sn_table_stats_blocked(&t, &r, m, s, NULL) == SN_ERR_ARG); /* beyond the rows */
    e = 3;
    int bad_owner = 1;
    r.owner = &bad_owner; /* rank 1 of a group of one */
    CHECK(sn_table_stats_blocked(&t, &r, m, s, NULL) == SN_ERR_ARG);
    r.owner = NULL;
    CHECK_OK(sn_table_stats_blocked(&t, &r, m, s, NULL));
    CHECK(m[0] == 3 && m[1] == 4 && fabs(s[0] - sqrt(8.0 / 3)) < 1e-15);
    data[1] = data[3] = data[5] = 7; /* a constant column */
    CHECK(sn_table_stats_blocked(&t, &r, m, s, NULL) == SN_ERR_NUMERIC && strstr(sn_error_last(), "\"b\""));
}
