/* Test runner: runs every registered test (or those whose name or file
 * contains argv[1]) and ends with "N passed, N failed, N skipped". */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"

#define MAX_TESTS 2048
static struct { const char *name, *file; sn_test_fn fn; } g_tests[MAX_TESTS];
static int g_n;
static int g_cur_failed, g_cur_skipped;

void sn_test_register(const char *name, const char *file, sn_test_fn fn) {
    if (g_n < MAX_TESTS) {
        g_tests[g_n].name = name;
        g_tests[g_n].file = file;
        g_tests[g_n].fn = fn;
        g_n++;
    }
}
void sn_test_fail(void) { g_cur_failed = 1; }
void sn_test_skip(const char *why) {
    g_cur_skipped = 1;
    fprintf(stderr, "    SKIP: %s\n", why);
}

const char *sn_test_path(const char *rel) {
    static char buf[4096];
    const char *dir = getenv("SEQNN_TEST_DIR");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests/fixtures", rel);
    return buf;
}

const char *sn_test_shared_data(const char *file) {
    static char buf[4096];
    const char *dir = getenv("SEQNN_SHARED_DATA");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "../shared/data", file);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

/* A fresh directory per run (mkdtemp), removed at the end of a run that
 * passed and kept (its path printed) after a failure. It was
 * /tmp/seqnn-test-<pid>, never removed: once pids wrapped around (pid_max
 * 32768 on a busy machine), a run found an earlier run's files there — the
 * kill-and-resume tests resumed another run's state. */
static char g_tmp[4096];

const char *sn_test_tmpdir(void) {
    if (!g_tmp[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(g_tmp, sizeof g_tmp, "%s/seqnn-test-XXXXXX", t && t[0] ? t : "/tmp");
        if (!mkdtemp(g_tmp)) {
            perror("tests: mkdtemp");
            exit(2);
        }
    }
    return g_tmp;
}

const char *sn_test_cli(void) {
    const char *c = getenv("SEQNN_CLI");
    return c ? c : "build/seqnn";
}

int sn_test_cli_run(char *out, size_t n, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", sn_test_cli(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t k = fread(out, 1, n - 1, p);
    out[k] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

double sn_test_max_relerr(const float *a, const float *b, size_t n, double floor_) {
    double worst = 0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double s = fabs((double)b[i]);
        double r = d / (s > floor_ ? s : floor_);
        if (!(r <= worst)) { worst = r; wi = i; }
    }
    if (worst > 1e-3) fprintf(stderr, "    worst at [%zu]: %.9g vs %.9g\n", wi, a[wi], b[wi]);
    return worst;
}

struct sn_fixture {
    int n;
    struct { char name[128]; int ndim; int dims[8]; size_t numel; float *data; } *t;
};

sn_fixture *sn_fixture_load(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { fprintf(stderr, "    cannot open fixture %s\n", path); return NULL; }
    char magic[4];
    uint32_t count;
    sn_fixture *f = calloc(1, sizeof *f);
    if (fread(magic, 1, 4, fp) != 4 || memcmp(magic, "SNFX", 4) || fread(&count, 4, 1, fp) != 1) goto bad;
    f->t = calloc(count ? count : 1, sizeof *f->t);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len, nd;
        if (fread(&len, 4, 1, fp) != 1 || len >= 128 || fread(f->t[i].name, 1, len, fp) != len) goto bad;
        if (fread(&nd, 4, 1, fp) != 1 || nd > 8) goto bad;
        f->t[i].ndim = (int)nd;
        size_t numel = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint32_t v;
            if (fread(&v, 4, 1, fp) != 1) goto bad;
            f->t[i].dims[d] = (int)v;
            numel *= v;
        }
        f->t[i].numel = numel;
        f->t[i].data = malloc(numel ? numel * 4 : 4);
        f->n = (int)i + 1;
        if (fread(f->t[i].data, 4, numel, fp) != numel) goto bad;
    }
    fclose(fp);
    return f;
bad:
    fprintf(stderr, "    malformed fixture %s\n", path);
    fclose(fp);
    sn_fixture_free(f);
    return NULL;
}

const float *sn_fixture_get(const sn_fixture *f, const char *name, int *ndim, int *dims) {
    for (int i = 0; f && i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) {
            if (ndim) *ndim = f->t[i].ndim;
            if (dims) memcpy(dims, f->t[i].dims, sizeof f->t[i].dims);
            return f->t[i].data;
        }
    fprintf(stderr, "    fixture tensor '%s' missing\n", name);
    return NULL;
}

size_t sn_fixture_numel(const sn_fixture *f, const char *name) {
    for (int i = 0; f && i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return f->t[i].numel;
    return 0;
}

void sn_fixture_free(sn_fixture *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].data);
    free(f->t);
    free(f);
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < g_n; i++) {
        if (filter && !strstr(g_tests[i].name, filter) && !strstr(g_tests[i].file, filter)) continue;
        g_cur_failed = g_cur_skipped = 0;
        fprintf(stderr, "  %s ...\n", g_tests[i].name);
        g_tests[i].fn();
        if (g_cur_failed) {
            failed++;
            printf("FAIL %s (%s)\n", g_tests[i].name, g_tests[i].file);
        } else if (g_cur_skipped) {
            skipped++;
            printf("SKIP %s\n", g_tests[i].name);
        } else {
            passed++;
            printf("ok   %s\n", g_tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (g_tmp[0]) {
        if (failed)
            fprintf(stderr, "tests: the failed run's files are kept in %s\n", g_tmp);
        else
            nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    return failed ? 1 : 0;
}
