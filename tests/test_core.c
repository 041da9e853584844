/* Core: RNG determinism, error messages, GEMM backends and contract,
 * seqnn's own GEMM kernel, atomic writes. */
#define _GNU_SOURCE /* syscall() for the fsync / rename interposers */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "seqnn.h"
#include "core/internal.h"
#include "test.h"

/* Runs fn(arg) in a forked child with stderr silenced; returns the wait
 * status (death tests: SN_ASSERT aborts the process). */
static int in_child(void (*fn)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        fn(arg);
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return st;
}
#define ABORTED(st) ((st) != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)
#define EXITED_OK(st) ((st) != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)

TEST(rng_is_deterministic_and_uniform) {
    sn_rng a, b;
    sn_rng_seed(&a, 42);
    sn_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) CHECK(sn_rng_u64(&a) == sn_rng_u64(&b));
    double s = 0;
    for (int i = 0; i < 100000; i++) {
        float u = sn_rng_uniform(&a);
        CHECK(u >= 0.0f && u < 1.0f);
        s += u;
    }
    CHECK_CLOSE(s / 100000, 0.5, 0.01, 0);
    for (int i = 0; i < 1000; i++) CHECK(sn_rng_below(&a, 7) < 7);
}

TEST(error_message_is_kept) {
    sn_status st = sn_error(SN_ERR_SHAPE, "expected (%d,%d) got (%d,%d)", 1, 2, 3, 4);
    CHECK(st == SN_ERR_SHAPE);
    CHECK(strstr(sn_error_last(), "expected (1,2) got (3,4)") != NULL);
    sn_error_prefix(st, "file.csv:3");
    CHECK(strncmp(sn_error_last(), "file.csv:3: expected", 20) == 0);
    CHECK(strcmp(sn_status_str(SN_ERR_SHAPE), "shape mismatch") == 0);
}

TEST(gemm_blas_matches_portable) {
    sn_rng r;
    sn_rng_seed(&r, 1);
    int M = 37, N = 29, K = 41;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = (float)sn_rng_normal(&r);
    for (int i = 0; i < K * N; i++) B[i] = (float)sn_rng_normal(&r);
    for (int bk = SN_GEMM_BLAS; bk <= SN_GEMM_BLAS_ONLY; bk += SN_GEMM_BLAS_ONLY - SN_GEMM_BLAS)
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int i = 0; i < M * N; i++) C1[i] = C2[i] = (float)i * 0.01f;
            int lda = ta ? M : K, ldb = tb ? K : N;
            sn_gemm_set_backend((sn_gemm_backend)bk);
            sn_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C1, N);
            sn_gemm_set_backend(SN_GEMM_PORTABLE);
            sn_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C2, N);
            sn_gemm_set_backend(SN_GEMM_BLAS);
            double e = sn_test_max_relerr(C1, C2, (size_t)M * N, 1.0); /* entries are O(6): compare on that scale */
            CHECK_MSG(e < 1e-5, "ta=%d tb=%d relerr %g", ta, tb, e);
        }
    free(A); free(B); free(C1); free(C2);
}

TEST(atomic_write_replaces_whole_file) {
    char path[512];
    snprintf(path, sizeof path, "%s/atomic.bin", sn_test_tmpdir());
    CHECK_OK(sn_file_write_atomic(path, "hello", 5));
    CHECK_OK(sn_file_write_atomic(path, "bye", 3));
    FILE *fp = fopen(path, "rb");
    CHECK(fp);
    char buf[16] = {0};
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    CHECK(n == 3 && memcmp(buf, "bye", 3) == 0);
    /* A directory that does not exist: error, nothing written. */
    CHECK(sn_file_write_atomic("/nonexistent-dir/x.bin", "a", 1) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), "/nonexistent-dir/x.bin") != NULL);
}

TEST(gemm_is_bit_identical_for_1_and_2_threads) {
    /* Shapes of the seed's models: tall (B*T, C) x (C, 4H), the weight
     * gradient X^T dZ, and a square one. */
    int shapes[][5] = {{30720, 64, 14, 0, 0}, {14, 64, 30720, 1, 0}, {300, 300, 300, 0, 1}, {2880, 32, 14, 0, 0}};
    sn_rng r;
    sn_rng_seed(&r, 3);
    int old = sn_threads_get();
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
        for (int i = 0; i < M * K; i++) A[i] = (float)sn_rng_normal(&r);
        for (int i = 0; i < K * N; i++) B[i] = (float)sn_rng_normal(&r);
        sn_threads_set(1);
        sn_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C1, N);
        sn_threads_set(2);
        sn_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C2, N);
        int same = memcmp(C1, C2, sizeof(float) * M * N) == 0;
        free(A); free(B); free(C1); free(C2);
        sn_threads_set(old);
        CHECK_MSG(same, "shape %d x %d x %d differs between 1 and 2 threads", M, N, K);
    }
}

/* sn_rng_below(r, 0) is reachable from public input: defined as 0 with no
 * draw (it used to stop the process through SN_ASSERT). */
static void below_zero_child(void *arg) {
    (void)arg;
    sn_rng r, c;
    sn_rng_seed(&r, 5);
    c = r;
    uint64_t v = sn_rng_below(&r, 0);
    _exit(v == 0 && !memcmp(&r, &c, sizeof r) ? 0 : 1);
}
TEST(rng_below_zero_is_defined) {
    int st = in_child(below_zero_child, NULL);
    CHECK_MSG(EXITED_OK(st), "sn_rng_below(r, 0): wait status %#x (aborted: %d)", st, ABORTED(st));
    sn_rng r;
    sn_rng_seed(&r, 5);
    CHECK(sn_rng_below(&r, 1) == 0);
}

/* ---- sn_gemm's contract (core.h): negative sizes are caller bugs and stop
 * the process; zero sizes are empty products. ---- */
static void gemm_bad_child(void *arg) {
    const int *d = arg; /* M, N, K, lda */
    float A[64] = {0}, B[64] = {0}, C[64] = {0};
    sn_gemm(0, 0, d[0], d[1], d[2], 1.0f, A, d[3], B, 4, 0.0f, C, 4);
}
TEST(gemm_negative_dims_are_caught) {
    const int bad[][4] = {{-1, 4, 4, 4}, {4, -2, 4, 4}, {4, 4, -3, 4}, {4, 4, 4, 2} /* lda < K */};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int st = in_child(gemm_bad_child, (void *)bad[i]);
        CHECK_MSG(ABORTED(st), "M=%d N=%d K=%d lda=%d: not stopped (wait status %#x)", bad[i][0], bad[i][1],
                  bad[i][2], bad[i][3], st);
    }
    const int ok[4] = {4, 4, 4, 4};
    CHECK(EXITED_OK(in_child(gemm_bad_child, (void *)ok)));
}

TEST(gemm_zero_dims_are_empty_products) {
    float A[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, B[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, C[12];
    for (int i = 0; i < 12; i++) C[i] = 7.0f;
    sn_gemm(0, 0, 0, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 3); /* M = 0 */
    sn_gemm(0, 0, 3, 0, 4, 1.0f, A, 4, B, 1, 0.0f, C, 1); /* N = 0 */
    for (int i = 0; i < 12; i++) CHECK(C[i] == 7.0f);
    sn_gemm(0, 0, 3, 4, 0, 1.0f, A, 1, B, 4, 2.0f, C, 4); /* K = 0: C = beta C */
    for (int i = 0; i < 12; i++) CHECK(C[i] == 14.0f);
    for (int i = 0; i < 12; i++) C[i] = NAN;
    sn_gemm(0, 0, 3, 4, 0, 1.0f, A, 1, B, 4, 0.0f, C, 4); /* beta = 0 never reads C */
    for (int i = 0; i < 12; i++) CHECK(C[i] == 0.0f);
}

/* ---- seqnn's own kernel (core/gemm_kernel.c) against a double reference.
 * Bound per element (Higham, Accuracy and Stability, 3.1): a sum of K
 * products formed by K FMAs in any order has |error| <= gamma_K sum|a b|,
 * gamma_n = n u / (1 - n u), u = 2^-24; alpha * acc and beta * C + ...
 * add two roundings: |c - c_ref| <= gamma_{K+2} (|alpha| sum|a b| + |beta c0|). ---- */
static int check_gemm_case(int ta, int tb, int M, int N, int K, int pad, float alpha, float beta, sn_rng *r) {
    /* padded or not: leading dimensions are honoured, contiguous cases take the vector kernels */
    int lda = (ta ? M : K) + 3 * pad, ldb = (tb ? K : N) + 5 * pad, ldc = N + 2 * pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
    float *C0 = malloc(nc * sizeof *C0);
    for (size_t i = 0; i < na; i++) A[i] = (float)sn_rng_normal(r);
    for (size_t i = 0; i < nb; i++) B[i] = (float)sn_rng_normal(r);
    for (size_t i = 0; i < nc; i++) C0[i] = C[i] = (float)sn_rng_normal(r);
    sn_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    const double u = 1.0 / 16777216.0, g = (K + 2) * u / (1 - (K + 2) * u);
    int bad = 0;
    for (int i = 0; i < M && !bad; i++)
        for (int j = 0; j < ldc && !bad; j++) {
            size_t ci = (size_t)i * ldc + j;
            if (j >= N) { /* padding untouched */
                bad = memcmp(&C[ci], &C0[ci], sizeof *C) != 0;
                continue;
            }
            double s = 0, sa = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
                sa += fabs(a * b);
            }
            double ref = alpha * s + beta * (double)C0[ci];
            double tol = g * (fabs(alpha) * sa + fabs(beta * (double)C0[ci])) + 1e-30;
            if (fabs(C[ci] - ref) > tol) {
                fprintf(stderr, "    ta=%d tb=%d %dx%dx%d alpha %g beta %g: C[%d,%d] = %.9g, ref %.9g, bound %.3g\n", ta,
                        tb, M, N, K, alpha, beta, i, j, C[ci], ref, tol);
                bad = 1;
            }
        }
    free(A); free(B); free(C); free(C0);
    return bad;
}

TEST(gemm_own_kernel_matches_reference_on_each_path) {
    const int Ms[] = {1, 3, 8, 9, 14, 17, 32, 33}, Ns[] = {1, 8, 15, 16, 17, 33, 64, 100}, Ks[] = {1, 16, 256, 300};
    sn_isa keep = sn_isa_get();
    sn_rng r;
    sn_rng_seed(&r, 11);
    int tested = 0;
    for (int p = SN_ISA_SSE2; p <= (int)sn_isa_detect(); p++) {
        CHECK_OK(sn_isa_set((sn_isa)p));
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
                    for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
                        for (size_t c = 0; c < sizeof Ks / sizeof *Ks; c++) {
                            int M = Ms[a], N = Ns[b], K = Ks[c], pad = (a + c) % 2;
                            tested += sn_gemm_rb_fits(ta, tb, M, N, K, (tb ? K : N) + 5 * pad, N + 2 * pad);
                            float alpha = (a + b) % 2 ? 1.0f : -0.75f, beta = (b + c) % 2 ? 0.0f : 0.5f;
                            if (check_gemm_case(ta, tb, M, N, K, pad, alpha, beta, &r)) {
                                sn_isa_set(keep);
                                CHECK_MSG(0, "path %s", sn_isa_name((sn_isa)p));
                            }
                        }
    }
    CHECK_OK(sn_isa_set(keep));
    if (sn_isa_detect() >= SN_ISA_AVX2) CHECK_MSG(tested > 100, "only %d products took seqnn's kernel", tested);
}

/* ---- sn_file_write_atomic: a temporary name per call, the directory
 * synced after the rename. The test binary interposes fsync and rename
 * (link-time: the library's calls resolve to these) to see the order. ---- */
static int g_trace;
static char g_events[64];
static ino_t g_event_ino[64];
static int g_nev;
static void trace(char what, ino_t ino) {
    if (g_trace && g_nev < 64) {
        g_event_ino[g_nev] = ino;
        g_events[g_nev++] = what;
    }
}
int fsync(int fd) {
    struct stat st;
    if (g_trace && fstat(fd, &st) == 0) trace(S_ISDIR(st.st_mode) ? 'D' : 'F', st.st_ino);
    return (int)syscall(SYS_fsync, fd);
}
int rename(const char *from, const char *to) {
    trace('R', 0);
    return (int)syscall(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
}

TEST(atomic_write_syncs_directory_after_rename) {
    char path[512];
    snprintf(path, sizeof path, "%s/dirsync.bin", sn_test_tmpdir());
    struct stat dst;
    CHECK(stat(sn_test_tmpdir(), &dst) == 0);
    g_nev = 0;
    g_trace = 1;
    sn_status st = sn_file_write_atomic(path, "data", 4);
    g_trace = 0;
    CHECK_OK(st);
    g_events[g_nev] = 0;
    const char *r = strchr(g_events, 'R'), *d = strrchr(g_events, 'D');
    CHECK_MSG(strchr(g_events, 'F') && r && strchr(g_events, 'F') < r, "events %s: the file is not synced before the rename", g_events);
    CHECK_MSG(d && d > r && g_event_ino[d - g_events] == dst.st_ino, "events %s: no fsync of %s after the rename",
              g_events, sn_test_tmpdir());
}

typedef struct { const char *path; int id; int failures; } writer_arg;
static void *writer(void *p) {
    writer_arg *w = p;
    static char buf[4][1 << 15];
    memset(buf[w->id], 'a' + w->id, sizeof buf[w->id]);
    for (int i = 0; i < 40; i++)
        if (sn_file_write_atomic(w->path, buf[w->id], sizeof buf[w->id]) != SN_OK) w->failures++;
    return NULL;
}
TEST(atomic_write_concurrent_writers_of_one_path) {
    /* Four threads replace one file 40 times each: every call succeeds and the
     * file always holds one writer's content whole (with one temporary name
     * per process, writers truncated each other's file and renames failed). */
    char path[512];
    snprintf(path, sizeof path, "%s/shared.bin", sn_test_tmpdir());
    pthread_t th[4];
    writer_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer_arg){path, i, 0};
        CHECK(pthread_create(&th[i], NULL, writer, &w[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    CHECK_MSG(failures == 0, "%d of 160 writes failed", failures);
    FILE *fp = fopen(path, "rb");
    CHECK(fp);
    static char got[1 << 16];
    size_t n = fread(got, 1, sizeof got, fp);
    fclose(fp);
    CHECK_MSG(n == 1 << 15, "file has %zu bytes", n);
    for (size_t i = 1; i < n; i++) CHECK(got[i] == got[0]);
    char tmpl[600];
    snprintf(tmpl, sizeof tmpl, "ls %s | grep -c shared.bin.tmp > /dev/null", sn_test_tmpdir());
    CHECK_MSG(system(tmpl) != 0, "temporary files left behind in %s", sn_test_tmpdir());
}
