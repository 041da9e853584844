/* seqnn's HDF5 writer (src/interop/h5_write.c): a file with groups, float32
 * datasets of every rank and size seqnn writes, special values, and string
 * attributes (empty, UTF-8, 90 KB) reads back exactly through seqnn's
 * reader, and comes out byte for byte as tests/fixtures/h5/seqnn_written.h5
 * — the file tests/check_h5_with_h5py.py checked with h5py (the same
 * values, read by libhdf5). To rewrite that file after a deliberate format
 * change: SEQNN_H5_WRITE_FIXTURE=tests/fixtures/h5/seqnn_written.h5
 * build/test_all h5_write, then run the h5py check. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interop/h5.h"
#include "seqnn.h"
#include "test.h"

#define FIXTURE "tests/fixtures/h5/seqnn_written.h5"

/* The generator's formula (also in check_h5_with_h5py.py). */
static float pattern(size_t i) { return (float)((double)((i * 37) % 101) * 0.25 - 12); }

static char *json_text(void) {
    size_t cap = 15000 * 7 + 32, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "{\"config\": [");
    for (int i = 0; i < 15000; i++) n += (size_t)snprintf(s + n, cap - n, "%s%d", i ? ", " : "", i);
    snprintf(s + n, cap - n, "]}");
    return s;
}

static const char *long_name(void) {
    static char s[301];
    memset(s, 'n', 300);
    return s;
}

static sn_status build(void **img, size_t *n) {
    sn_h5 *h;
    sn_status st = sn_h5_create_image(&h, "seqnn_written.h5");
    if (st) return st;
    float big[50 * 64], many[2], sp[6] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-45f, 3.40282347e38f}, sc = 3.25f;
    for (size_t i = 0; i < 50 * 64; i++) big[i] = pattern(i);
    char *js = json_text();
    int64_t d34[2] = {3, 4}, d4 = 4, d05[2] = {0, 5}, dbig[2] = {50, 64}, d2 = 2, d6 = 6;
    if (!st) st = sn_h5_set_attr_str(h, "/", "name", "root");
    if (!st) st = sn_h5_set_attr_str(h, "", "unicode", "größe ✓ 日本語");
    if (!st) st = sn_h5_set_attr_str(h, "/", "empty", "");
    if (!st) st = sn_h5_set_attr_str(h, "/", "json", js);
    if (!st) st = sn_h5_make_group(h, "layers/dense/vars");
    if (!st) st = sn_h5_set_attr_str(h, "layers/dense/vars", "name", "dense");
    if (!st) st = sn_h5_write_f32(h, "layers/dense/vars/0", 2, d34, big);
    if (!st) st = sn_h5_write_f32(h, "layers/dense/vars/1", 1, &d4, big);
    if (!st) st = sn_h5_set_attr_str(h, "layers/dense/vars/0", "note", "kernel");
    if (!st) st = sn_h5_write_f32(h, "scalar", 0, NULL, &sc);
    if (!st) st = sn_h5_write_f32(h, "empty", 2, d05, NULL);
    if (!st) st = sn_h5_make_group(h, "deep/a/b/c/d/e/f/g");
    if (!st) st = sn_h5_write_f32(h, "big", 2, dbig, big);
    if (!st) st = sn_h5_write_f32(h, "special", 1, &d6, sp);
    for (int i = 0; i < 300 && !st; i++) {
        char p[64];
        snprintf(p, sizeof p, "many/m%03d", i);
        many[0] = (float)i * 0.5f;
        many[1] = -(float)i * 0.5f;
        st = sn_h5_write_f32(h, p, 1, &d2, many);
    }
    char lp[320];
    snprintf(lp, sizeof lp, "/%s", long_name());
    if (!st) st = sn_h5_write_f32(h, lp, 1, &d4, big);
    if (!st) st = sn_h5_image(h, img, n);
    free(js);
    sn_h5_close(h);
    return st;
}

static int same_f32(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], 4) && !(isnan(a[i]) && isnan(b[i]))) return 0;
    return 1;
}

static int read_is(sn_h5 *h, const char *path, int rank, const int64_t *dims, const float *want) {
    int r;
    int64_t d[SN_H5_MAX_RANK];
    size_t n = 1;
    if (sn_h5_shape(h, path, &r, d) || r != rank) return 0;
    for (int i = 0; i < r; i++) {
        if (d[i] != dims[i]) return 0;
        n *= (size_t)d[i];
    }
    float *v = malloc((n ? n : 1) * sizeof *v);
    int ok = sn_h5_read_f32(h, path, v, n) == SN_OK && same_f32(v, want, n);
    free(v);
    return ok;
}

static int attr_is(sn_h5 *h, const char *path, const char *name, const char *want) {
    char *s;
    if (sn_h5_attr_str(h, path, name, &s)) return 0;
    int ok = !strcmp(s, want);
    free(s);
    return ok;
}

TEST(h5_write_reads_back_exactly) {
    void *img;
    size_t n;
    CHECK_OK(build(&img, &n));
    sn_h5 *h;
    CHECK_OK(sn_h5_open_image(&h, img, n, "written"));
    free(img);
    float big[50 * 64], sp[6] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-45f, 3.40282347e38f}, sc = 3.25f;
    for (size_t i = 0; i < 50 * 64; i++) big[i] = pattern(i);
    int64_t d34[2] = {3, 4}, d4 = 4, d05[2] = {0, 5}, dbig[2] = {50, 64}, d6 = 6;
    char *js = json_text();
    int ok = attr_is(h, "/", "name", "root") && attr_is(h, "/", "unicode", "größe ✓ 日本語") && attr_is(h, "/", "empty", "") &&
             attr_is(h, "/", "json", js) && attr_is(h, "layers/dense/vars", "name", "dense") &&
             attr_is(h, "layers/dense/vars/0", "note", "kernel");
    free(js);
    CHECK_MSG(ok, "%s", sn_error_last());
    CHECK(read_is(h, "layers/dense/vars/0", 2, d34, big) && read_is(h, "layers/dense/vars/1", 1, &d4, big));
    CHECK(read_is(h, "scalar", 0, NULL, &sc) && read_is(h, "empty", 2, d05, big) && read_is(h, "big", 2, dbig, big));
    CHECK(read_is(h, "special", 1, &d6, sp) && read_is(h, long_name(), 1, &d4, big));
    CHECK(sn_h5_is_group(h, "deep/a/b/c/d/e/f/g") && !sn_h5_is_dataset(h, "deep/a/b/c/d/e/f/g"));
    char **v;
    size_t k;
    CHECK_OK(sn_h5_list(h, "many", &v, &k));
    CHECK(k == 300 && !strcmp(v[0], "m000") && !strcmp(v[299], "m299"));
    sn_h5_strs_free(v, k);
    float m[2], want[2] = {123 * 0.5f, -123 * 0.5f};
    CHECK(sn_h5_read_f32(h, "many/m123", m, 2) == SN_OK && same_f32(m, want, 2));
    sn_h5_close(h);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n = b ? fread(b, 1, (size_t)len, fp) : 0;
    fclose(fp);
    return b;
}

/* The same calls give the same bytes, and those are the bytes h5py was
 * shown to read (tests/check_h5_with_h5py.py). */
TEST(h5_write_matches_the_h5py_checked_file) {
    void *img, *img2;
    size_t n, n2, fn;
    CHECK_OK(build(&img, &n));
    CHECK_OK(build(&img2, &n2));
    CHECK(n == n2 && !memcmp(img, img2, n));
    free(img2);
    const char *out = getenv("SEQNN_H5_WRITE_FIXTURE");
    if (out) {
        FILE *fp = fopen(out, "wb");
        CHECK(fp && fwrite(img, 1, n, fp) == n);
        fclose(fp);
    }
    unsigned char *want = slurp(FIXTURE, &fn);
    CHECK(want);
    int same = fn == n && !memcmp(want, img, n);
    free(want);
    free(img);
    CHECK_MSG(same, "the writer's bytes differ from %s (%zu vs %zu bytes)", FIXTURE, n, fn);
}

/* Misuse of the writing calls is refused, and reading files refuse them. */
TEST(h5_write_refusals) {
    sn_h5 *h;
    CHECK_OK(sn_h5_create_image(&h, "w.h5"));
    float x = 1;
    int64_t d = 1;
    CHECK_OK(sn_h5_write_f32(h, "g/x", 1, &d, &x));
    CHECK(sn_h5_write_f32(h, "g/x", 1, &d, &x) == SN_ERR_ARG && strstr(sn_error_last(), "already exists"));
    CHECK(sn_h5_make_group(h, "g/x") == SN_ERR_ARG && strstr(sn_error_last(), "is a dataset"));
    CHECK(sn_h5_write_f32(h, "g/x/y", 1, &d, &x) == SN_ERR_ARG);
    CHECK(sn_h5_set_attr_str(h, "g/nope", "a", "b") == SN_ERR_ARG && strstr(sn_error_last(), "no such object"));
    CHECK_OK(sn_h5_set_attr_str(h, "g", "a", "b"));
    CHECK(sn_h5_set_attr_str(h, "g", "a", "c") == SN_ERR_ARG && strstr(sn_error_last(), "already exists"));
    CHECK(sn_h5_write_f32(h, "r", SN_H5_MAX_RANK + 1, &d, &x) == SN_ERR_ARG);
    sn_h5_close(h);
    void *img;
    size_t n;
    CHECK_OK(build(&img, &n));
    CHECK_OK(sn_h5_open_image(&h, img, n, "ro"));
    free(img);
    CHECK(sn_h5_make_group(h, "x") == SN_ERR_STATE && sn_h5_image(h, &img, &n) == SN_ERR_STATE);
    sn_h5_close(h);
}
