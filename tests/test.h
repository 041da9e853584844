/* Minimal test framework: TEST(name) registers a test at load time; the
 * runner (tests/main.c) runs them all, or those whose name contains argv[1],
 * and ends with the line "N passed, N failed, N skipped". */
#ifndef SEQNN_TEST_H
#define SEQNN_TEST_H
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef void (*sn_test_fn)(void);
void sn_test_register(const char *name, const char *file, sn_test_fn fn);
void sn_test_fail(void);
void sn_test_skip(const char *why);

#define TEST(name)                                                                   \
    static void name(void);                                                          \
    __attribute__((constructor)) static void sn_reg_##name(void) {                   \
        sn_test_register(#name, __FILE__, name);                                     \
    }                                                                                \
    static void name(void)

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "    FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
            sn_test_fail();                                                          \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define CHECK_MSG(cond, ...)                                                         \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "    FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                            \
            fprintf(stderr, "\n");                                                   \
            sn_test_fail();                                                          \
            return;                                                                  \
        }                                                                            \
    } while (0)

/* Status check: prints sn_error_last() on failure. */
#define CHECK_OK(expr)                                                               \
    do {                                                                             \
        sn_status st_ = (expr);                                                      \
        if (st_ != SN_OK) {                                                          \
            fprintf(stderr, "    FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__,    \
                    #expr, sn_status_str(st_), sn_error_last());                     \
            sn_test_fail();                                                          \
            return;                                                                  \
        }                                                                            \
    } while (0)

/* |a-b| <= atol + rtol*|b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                \
    do {                                                                             \
        double a_ = (a), b_ = (b);                                                   \
        if (!(fabs(a_ - b_) <= (atol) + (rtol)*fabs(b_))) {                          \
            fprintf(stderr, "    FAIL %s:%d: %s = %.9g vs %s = %.9g\n", __FILE__,    \
                    __LINE__, #a, a_, #b, b_);                                       \
            sn_test_fail();                                                          \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define SKIP(why)                                                                    \
    do {                                                                             \
        sn_test_skip(why);                                                           \
        return;                                                                      \
    } while (0)

/* Path of a committed fixture: tests/fixtures/<name> relative to the source
 * tree (the runner is started from the repository root or gets
 * SEQNN_TEST_DIR). Returns a static buffer. */
const char *sn_test_path(const char *rel);

/* Path of the shared data directory (../shared/data) or NULL when absent;
 * tests that need it SKIP with a visible message. */
const char *sn_test_shared_data(const char *file);

/* A scratch directory unique to this run (created on first use). */
const char *sn_test_tmpdir(void);
/* The seqnn binary under test: $SEQNN_CLI (make test sets it), else build/seqnn. */
const char *sn_test_cli(void);
/* Runs `<cli> args 2>&1` through the shell, its output into out (truncated
 * to n − 1 bytes, NUL-terminated); returns the exit code, −1 when it did not
 * exit normally. */
int sn_test_cli_run(char *out, size_t n, const char *args);

/* Compares two float arrays elementwise; returns max relative error
 * |a-b| / max(|b|, floor) and prints the first offending index when above tol. */
double sn_test_max_relerr(const float *a, const float *b, size_t n, double floor_);

/* ---- Fixtures: binary tensors written by tests/gen_fixtures.py ----
 * File: "SNFX" magic, uint32 count; per tensor: uint32 name_len, name bytes,
 * uint32 ndim, uint32 dims[ndim], float32 data (little endian). */
typedef struct sn_fixture sn_fixture;
sn_fixture *sn_fixture_load(const char *path);
/* Returns the tensor's data or NULL; fills dims (up to 8) and ndim when non-NULL. */
const float *sn_fixture_get(const sn_fixture *f, const char *name, int *ndim, int *dims);
size_t sn_fixture_numel(const sn_fixture *f, const char *name);
void sn_fixture_free(sn_fixture *f);

#endif
