/* Status strings, thread-local error messages, log sink, RNG, threads, GEMM,
 * atomic file writes. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/core.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef SN_HAVE_OPENBLAS
#include <cblas.h>
/* OpenBLAS extension, declared here so any cblas.h works. */
void openblas_set_num_threads(int num_threads);
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

const char *sn_status_str(sn_status s) {
    switch (s) {
    case SN_OK: return "ok";
    case SN_ERR_ARG: return "invalid argument";
    case SN_ERR_SHAPE: return "shape mismatch";
    case SN_ERR_NOMEM: return "out of memory";
    case SN_ERR_IO: return "I/O error";
    case SN_ERR_FORMAT: return "malformed file";
    case SN_ERR_PARSE: return "parse error";
    case SN_ERR_NUMERIC: return "NaN or Inf";
    case SN_ERR_STATE: return "invalid state";
    case SN_ERR_INTERRUPTED: return "interrupted";
    case SN_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}

static _Thread_local char g_errmsg[1024];

const char *sn_last_error(void) { return g_errmsg; }

sn_status sn_error(sn_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_errmsg, sizeof g_errmsg, fmt, ap);
    va_end(ap);
    return s;
}

sn_status sn_error_prefix(sn_status s, const char *fmt, ...) {
    char pre[512], old[sizeof g_errmsg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, g_errmsg, sizeof old);
    snprintf(g_errmsg, sizeof g_errmsg, "%.500s: %.500s", pre, old);
    return s;
}

static sn_log_fn g_log_fn;
static void *g_log_user;

void sn_set_log(sn_log_fn fn, void *user) {
    g_log_fn = fn;
    g_log_user = user;
}

void sn_log(sn_log_level level, const char *fmt, ...) {
    if (!g_log_fn) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_log_fn(level, buf, g_log_user);
}

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
    SN_ASSERT(n > 0);
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

/* ---- Threads ---- */
static int g_threads;

void sn_set_threads(int n) {
    if (n < 1) n = 1;
    g_threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
#ifdef SN_HAVE_OPENBLAS
    /* OpenBLAS's own threading changes results with the thread count; seqnn
     * runs BLAS single-threaded and splits large GEMMs itself (sn_gemm). */
    openblas_set_num_threads(1);
#endif
}

int sn_get_threads(void) {
    if (g_threads == 0) {
        const char *e = getenv("SEQNN_THREADS");
        int n = e ? atoi(e) : 0;
        if (n < 1) {
            long c = sysconf(_SC_NPROCESSORS_ONLN);
            n = c > 0 ? (int)c : 1;
        }
        sn_set_threads(n);
    }
    return g_threads;
}

/* ---- GEMM ---- */
static sn_gemm_backend g_backend = SN_GEMM_BLAS;

void sn_gemm_set_backend(sn_gemm_backend b) { g_backend = b; }
sn_gemm_backend sn_gemm_get_backend(void) { return g_backend; }

/* Portable reference GEMM: i-k-j loop order with a double-free float
 * accumulation in C's row; used to cross-check BLAS and where BLAS is absent. */
static void gemm_portable(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < N; j++) c[j] = 0.0f;
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
        for (int k = 0; k < K; k++) {
            float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
            a *= alpha;
            if (a == 0.0f) continue;
            if (!tb) {
                const float *b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            } else {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + k];
            }
        }
    }
}

static void gemm_one(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, float *C, int ldc) {
#ifdef SN_HAVE_OPENBLAS
    if (g_backend == SN_GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                    A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Parallel GEMM whose results do not depend on the thread count: C is cut
 * into fixed blocks of SN_GEMM_BLOCK rows (or columns when M is small) chosen
 * from the shape alone; each block is one single-threaded BLAS call, so every
 * element is computed by the same kernel call whatever the number of threads.
 * Small products run as one call. */
#define SN_GEMM_BLOCK 128
#define SN_GEMM_PAR_FLOPS 2000000.0

void sn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    int threads = sn_get_threads(); /* first call also pins OpenBLAS to one thread */
    double flops = 2.0 * M * (double)N * K;
    /* The blocking depends on the shape only, so 1 and N threads agree bit for bit. */
    if (flops < SN_GEMM_PAR_FLOPS || (M < 2 * SN_GEMM_BLOCK && N < 2 * SN_GEMM_BLOCK)) {
        gemm_one(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (M >= 2 * SN_GEMM_BLOCK) {
        int nb = (M + SN_GEMM_BLOCK - 1) / SN_GEMM_BLOCK;
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int b = 0; b < nb; b++) {
            int i0 = b * SN_GEMM_BLOCK, mc = SN_MIN(SN_GEMM_BLOCK, M - i0);
            const float *Ab = ta ? A + i0 : A + (size_t)i0 * lda;
            gemm_one(ta, tb, mc, N, K, alpha, Ab, lda, B, ldb, beta, C + (size_t)i0 * ldc, ldc);
        }
    } else {
        int nb = (N + SN_GEMM_BLOCK - 1) / SN_GEMM_BLOCK;
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int b = 0; b < nb; b++) {
            int j0 = b * SN_GEMM_BLOCK, nc = SN_MIN(SN_GEMM_BLOCK, N - j0);
            const float *Bb = tb ? B + (size_t)j0 * ldb : B + j0;
            gemm_one(ta, tb, M, nc, K, alpha, A, lda, Bb, ldb, beta, C + j0, ldc);
        }
    }
}

double sn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sn_status sn_write_file_atomic(const char *path, const void *data, size_t n) {
    if (!path || (!data && n)) return sn_error(SN_ERR_ARG, "sn_write_file_atomic: NULL argument");
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return sn_error(SN_ERR_ARG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return sn_error(SN_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return sn_error(SN_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return sn_error(SN_ERR_IO, "%s: fsync/close failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sn_error(SN_ERR_IO, "%s: rename to %s failed: %s", tmp, path, strerror(e));
    }
    return SN_OK;
}
