/* Core: RNG determinism, error messages, GEMM backends, atomic writes. */
#include <stdlib.h>
#include "seqnn.h"
#include "test.h"

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
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int i = 0; i < M * N; i++) C1[i] = C2[i] = (float)i * 0.01f;
            int lda = ta ? M : K, ldb = tb ? K : N;
            sn_gemm_set_backend(SN_GEMM_BLAS);
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
