/* The deployment commands end to end through the binary ($SEQNN_CLI):
 * seqnn import (every kind of file, refusals leave no output file),
 * seqnn export --keras / --c, seqnn predict --npy / --stream. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

#define KDIR "tests/fixtures/keras/"

/* The same with stdout only (stderr, where log lines such as BLAS notes go, dropped). */
static int run_stdout(char *out, size_t n, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", sn_test_cli(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t k = fread(out, 1, n - 1, p);
    out[k] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char g_out[1 << 16];

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

TEST(cli_import_kinds_and_summary) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char out[512], args[2048];
    snprintf(out, sizeof out, "%s/imported.seqnn", sn_test_tmpdir());
    snprintf(args, sizeof args, "import " KDIR "lstm.keras -o %s --summary", out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    CHECK(strstr(g_out, "l1 (LSTM)") && strstr(g_out, "Total params: 345") && exists(out));
    snprintf(args, sizeof args, "summary --model %s", out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0 && strstr(g_out, "l2 (LSTM)") && strstr(g_out, "160"));
    snprintf(args, sizeof args, "import " KDIR "legacy_k21.h5 -o %s", out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    snprintf(args, sizeof args, "import --config " KDIR "legacy_k22.json --weights " KDIR "legacy_k22_weights.h5 -o %s", out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, "import " KDIR "lstm.keras") == 2 && strstr(g_out, "-o model.seqnn is required"));
}

/* Every refusal: exit 1, the reason, and no output file (not even a temp). */
TEST(cli_import_refusals_write_nothing) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    static const char *const bad[][2] = {
        {"bad_unknown_layer.keras", "GaussianNoise"}, {"bad_branching.keras", "branching"},
        {"bad_truncated.keras", "truncated"},          {"bad_truncated.h5", "truncated"},
        {"bad_corrupt.h5", "not a readable HDF5 file"}, {"bad_weight_shape.keras", "has shape (5, 3)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char out[512], args[2048];
        snprintf(out, sizeof out, "%s/refused-%zu.seqnn", sn_test_tmpdir(), i);
        snprintf(args, sizeof args, "import " KDIR "%s -o %s", bad[i][0], out);
        int rc = sn_test_cli_run(g_out, sizeof g_out, args);
        CHECK_MSG(rc == 1 && strstr(g_out, bad[i][1]), "%s: rc %d: %s", bad[i][0], rc, g_out);
        CHECK_MSG(!exists(out), "%s: %s was written", bad[i][0], out);
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "ls %s | grep -q 'refused-%zu.seqnn.tmp'", sn_test_tmpdir(), i);
        CHECK(system(cmd) != 0);
    }
}

TEST(cli_export_and_predict_arrays) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    const char *d = sn_test_tmpdir();
    char a[512], k[512], b[512], c[512], y[512], args[4096];
    snprintf(a, sizeof a, "%s/emb.seqnn", d);
    snprintf(k, sizeof k, "%s/emb.keras", d);
    snprintf(b, sizeof b, "%s/emb2.seqnn", d);
    snprintf(c, sizeof c, "%s/emb.c", d);
    snprintf(y, sizeof y, "%s/emb_y.npy", d);
    snprintf(args, sizeof args, "import " KDIR "embedding_masked.keras -o %s", a);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    snprintf(args, sizeof args, "export --keras %s -o %s", a, k);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    snprintf(args, sizeof args, "import %s -o %s", k, b);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    snprintf(args, sizeof args, "cmp %s %s", a, b);
    CHECK(system(args) == 0);
    snprintf(args, sizeof args, "export --c %s -o %s --int8", a, c);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    snprintf(args, sizeof args, "%s/emb.h", d);
    CHECK(exists(c) && exists(args));
    /* predict --npy: float32 ids of the fixture against its reference output */
    snprintf(args, sizeof args, "predict --model %s --npy " KDIR "embedding_masked_x.npy --out %s", a, y);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    sn_npy got, want;
    CHECK_OK(sn_npy_read(&got, y, NULL));
    CHECK_OK(sn_npy_read(&want, KDIR "embedding_masked_y.npy", NULL));
    CHECK(got.ndim == 2 && got.shape[0] == 4 && got.shape[1] == 1 && got.numel == want.numel);
    for (size_t i = 0; i < got.numel; i++) CHECK_CLOSE(got.f32[i], want.f32[i], 1e-5, 0);
    sn_npy_free(&got);
    sn_npy_free(&want);
    /* the same ids as int64 (what np.save writes for integer token ids) */
    char y64[512], x64[512];
    snprintf(x64, sizeof x64, "%s/ids64.npy", d);
    snprintf(y64, sizeof y64, "%s/emb_y64.npy", d);
    sn_npy xf;
    CHECK_OK(sn_npy_read(&xf, KDIR "embedding_masked_x.npy", NULL));
    int64_t ids[64], shape[2] = {xf.shape[0], xf.shape[1]};
    CHECK(xf.numel <= 64);
    for (size_t i = 0; i < xf.numel; i++) ids[i] = (int64_t)xf.f32[i];
    sn_npy_free(&xf);
    CHECK_OK(sn_npy_write_i64(x64, ids, 2, shape));
    snprintf(args, sizeof args, "predict --model %s --npy %s --out %s", a, x64, y64);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    snprintf(args, sizeof args, "cmp %s %s", y, y64);
    CHECK(system(args) == 0);
    /* a wrong shape is refused naming both shapes */
    snprintf(args, sizeof args, "predict --model %s --npy " KDIR "lstm_x.npy --out %s", a, y);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "has shape (3, 7, 3)") && strstr(g_out, "(N, 7) of token ids"));
}

/* --stream prints one line per input line; its last line before a blank
 * line equals predict on the whole sequence; a blank line resets. */
TEST(cli_predict_stream) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    const char *d = sn_test_tmpdir();
    char m[512], csv[512], args[4096];
    snprintf(m, sizeof m, "%s/lstm_stream.seqnn", d);
    snprintf(csv, sizeof csv, "%s/rows.csv", d);
    snprintf(args, sizeof args, "import " KDIR "lstm.keras -o %s", m);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 0);
    sn_npy x, yr;
    CHECK_OK(sn_npy_read(&x, KDIR "lstm_x.npy", NULL));
    CHECK_OK(sn_npy_read(&yr, KDIR "lstm_y.npy", NULL));
    FILE *fp = fopen(csv, "w");
    CHECK(fp);
    for (int s = 0; s < 2; s++) { /* samples 0 and 1, a blank line between */
        for (int t = 0; t < 7; t++) fprintf(fp, "%.9g,%.9g,%.9g\n", x.f32[s * 21 + t * 3], x.f32[s * 21 + t * 3 + 1], x.f32[s * 21 + t * 3 + 2]);
        if (!s) fprintf(fp, "\n");
    }
    fclose(fp);
    snprintf(args, sizeof args, "predict --model %s --stream < %s", m, csv);
    CHECK(run_stdout(g_out, sizeof g_out, args) == 0);
    char *lines[32];
    int n = 0;
    for (char *p = strtok(g_out, "\n"); p && n < 32; p = strtok(NULL, "\n")) lines[n++] = p;
    CHECK_MSG(n == 14, "%d output lines", n); /* the blank line echoes as an empty line, which strtok skips */
    CHECK_CLOSE(atof(lines[6]), yr.f32[0], 1e-5, 0);
    CHECK_CLOSE(atof(lines[13]), yr.f32[1], 1e-5, 0);
    sn_npy_free(&x);
    sn_npy_free(&yr);
    fp = fopen(csv, "w");
    fprintf(fp, "0.1,0.2\n");
    fclose(fp);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "line 1: expected 3"));
}
