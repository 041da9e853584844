/* The CLI's chunked mode without MPI (--chunks; docs/distributed.md): the
 * model file does not depend on the thread count, bad values are refused.
 * The rank-count identity of the MPI build is tests/mpi/run.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

/* Runs `env seqnn args`, output into out; the exit status. */
static int run_env(char *out, size_t n, const char *env, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "env %s %s %s 2>&1", env, sn_test_cli(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t k = fread(out, 1, n - 1, p);
    out[k] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char g_out[1 << 16];

/* The bytes of a file (malloc'd) and its length, or NULL. */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

TEST(cli_chunks_model_file_does_not_depend_on_threads) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048], p1[600], p2[600];
    unsigned char *f[2];
    size_t n[2];
    for (int t = 0; t < 2; t++) {
        snprintf(args, sizeof args,
                 "--chunks 4 forecast --data %s --model \"lstm(4, dropout=0.2, recurrent_dropout=0.3), dense(1)\" "
                 "--batch-size 64 --epochs 1 --out %s/chunks%d --quiet --no-plots",
                 sn_test_path("jena_hourly_4000.csv.gz"), sn_test_tmpdir(), t + 1);
        CHECK_MSG(run_env(g_out, sizeof g_out, t ? "SEQNN_THREADS=2" : "SEQNN_THREADS=1", args) == 0, "%s", g_out);
        snprintf(t ? p2 : p1, sizeof p1, "%s/chunks%d/custom.seqnn", sn_test_tmpdir(), t + 1);
        f[t] = slurp(t ? p2 : p1, &n[t]);
        CHECK(f[t]);
    }
    CHECK_MSG(n[0] == n[1] && !memcmp(f[0], f[1], n[0]), "%s and %s differ", p1, p2);
    free(f[0]);
    free(f[1]);
}

TEST(cli_chunks_refuses_a_batch_it_does_not_divide) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[2048];
    snprintf(args, sizeof args,
             "--chunks 3 forecast --data %s --model dense --epochs 1 --out %s/chunks3 --quiet --no-plots",
             sn_test_path("jena_hourly_4000.csv.gz"), sn_test_tmpdir());
    CHECK(run_env(g_out, sizeof g_out, "SEQNN_THREADS=1", args) == 1);
    CHECK_MSG(strstr(g_out, "batch size 256 is not a multiple of 3 chunks"), "%s", g_out);
    CHECK(run_env(g_out, sizeof g_out, "", "--chunks 0 forecast --model dense") == 2);
    CHECK(strstr(g_out, "--chunks must be in [1, 65536]"));
}
