/* seqnn's HDF5 reader on hostile input (make asan runs these under ASan and
 * UBSan): the inputs that broke libhdf5 1.10 (and any fuzz finding) give
 * clean errors; truncated files (with the superblock's end-of-file address
 * moved to the cut, so the parsers meet the missing bytes) and files with
 * one byte changed never crash, and every read either fails or returns what
 * the intact file holds — for the checksummed file (tests/fixtures/h5/
 * sweep.h5: libver latest, fletcher32 chunks) after any byte change, for the
 * others after any cut. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interop/h5.h"
#include "interop/h5_internal.h"
#include "seqnn.h"
#include "test.h"

/* What a walk read: one line per successful read ("L path: names",
 * "A path attr: strings", "D path: shape, value hash"); errors count. */
typedef struct digest {
    char **line;
    size_t n, cap;
    int errors;
} digest;

static void add(digest *d, const char *s) {
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->line = realloc(d->line, d->cap * sizeof *d->line);
    }
    d->line[d->n++] = strdup(s);
}

static void digest_free(digest *d) {
    for (size_t i = 0; i < d->n; i++) free(d->line[i]);
    free(d->line);
    memset(d, 0, sizeof *d);
}

static uint64_t fnv(const void *p, size_t n, uint64_t h) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void walk(sn_h5 *h, const char *path, int depth, digest *d) {
    static const char *const attrs[] = {"model_config", "keras_version", "backend", "layer_names", "weight_names", "name"};
    char line[600];
    for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
        char **v;
        size_t n;
        if (!sn_h5_has_attr(h, path, attrs[a])) continue;
        if (sn_h5_attr_strs(h, path, attrs[a], &v, &n)) {
            d->errors++;
            continue;
        }
        uint64_t hs = 14695981039346656037ull;
        for (size_t i = 0; i < n; i++) hs = fnv(v[i], strlen(v[i]) + 1, hs);
        snprintf(line, sizeof line, "A %.200s %s: %zu %016llx", path, attrs[a], n, (unsigned long long)hs);
        add(d, line);
        sn_h5_strs_free(v, n);
    }
    char **names;
    size_t n;
    if (depth > 6) return;
    if (sn_h5_list(h, path, &names, &n)) {
        d->errors++;
        return;
    }
    uint64_t hs = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) hs = fnv(names[i], strlen(names[i]) + 1, hs);
    snprintf(line, sizeof line, "L %.200s: %zu %016llx", path, n, (unsigned long long)hs);
    add(d, line);
    for (size_t i = 0; i < n && i < 64; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%.400s/%.400s", path, names[i]);
        int rank;
        int64_t dims[SN_H5_MAX_RANK];
        if (sn_h5_is_group(h, p)) {
            walk(h, p, depth + 1, d);
        } else if (!sn_h5_is_dataset(h, p) || sn_h5_shape(h, p, &rank, dims)) {
            d->errors++;
        } else {
            size_t numel = 1;
            for (int k = 0; k < rank && numel <= 65536; k++) numel *= (size_t)dims[k];
            if (numel > 65536) continue;
            float *buf = malloc((numel ? numel : 1) * sizeof *buf);
            if (sn_h5_read_f32(h, p, buf, numel)) d->errors++;
            else {
                snprintf(line, sizeof line, "D %.400s: %d %zu %016llx", p, rank, numel,
                         (unsigned long long)fnv(buf, numel * sizeof *buf, 14695981039346656037ull));
                add(d, line);
            }
            free(buf);
        }
    }
    sn_h5_strs_free(names, n);
}

/* Opens buf as HDF5 and walks it (an open failure counts as an error). */
static void walk_image(const unsigned char *buf, size_t n, digest *d) {
    sn_h5 *h = NULL;
    if (sn_h5_open_image(&h, buf, n, "sweep") != SN_OK) {
        d->errors++;
        return;
    }
    walk(h, "", 0, d);
    sn_h5_close(h);
}

/* Every line of `got` is a line of `want`; prints the first that is not. */
static int subset(const digest *got, const digest *want, const char *what, size_t at) {
    for (size_t i = 0; i < got->n; i++) {
        size_t k = 0;
        while (k < want->n && strcmp(got->line[i], want->line[k])) k++;
        if (k == want->n) {
            fprintf(stderr, "    %s at %zu: read \"%s\", which the intact file does not hold\n", what, at, got->line[i]);
            return 0;
        }
    }
    return 1;
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

/* The inputs on which libhdf5 1.10.8 over-read, leaked, looped or asked
 * for 3e15 bytes (tests/fixtures/h5_regressions/README.md), and fuzz
 * findings since: each walk ends, reporting the damage it meets. */
TEST(h5_hostile_regressions_give_clean_errors) {
    const char *dir = sn_test_path("h5_regressions");
    DIR *dp = opendir(dir);
    CHECK(dp);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 3 && !strcmp(e->d_name + len - 3, ".md"))) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n;
        unsigned char *b = slurp(path, &n);
        CHECK(b);
        digest d = {0};
        walk_image(b, n, &d);
        sn_model *m = NULL;
        sn_keras_import_opts o;
        sn_keras_import_opts_default(&o);
        o.max_params = 1 << 20;
        sn_status st = sn_keras_import(&m, path, &o);
        sn_model_free(m);
        int ok = d.errors > 0 && st != SN_OK;
        digest_free(&d);
        free(b);
        CHECK_MSG(ok, "%s: damage not reported", e->d_name);
        files++;
    }
    closedir(dp);
    CHECK(files >= 4);
}

/* Sets the superblock's end-of-file address to n (fixing the checksum of
 * a version 2/3 superblock), so a cut file passes the truncation check. */
static void move_eof(unsigned char *b, size_t n) {
    int v = b[8];
    size_t at = v >= 2 ? 28 : 40, len = v >= 2 ? 44 : 0;
    for (int i = 0; i < 8; i++) b[at + (size_t)i] = (unsigned char)((uint64_t)n >> (8 * i));
    if (len) {
        uint32_t c = h5_lookup3(b, len, 0);
        for (int i = 0; i < 4; i++) b[len + (size_t)i] = (unsigned char)(c >> (8 * i));
    }
}

static void truncation_sweep(const char *file, size_t stride) {
    size_t n;
    unsigned char *b = slurp(sn_test_path(file), &n);
    CHECK(b);
    digest want = {0};
    walk_image(b, n, &want);
    CHECK(want.errors == 0 && want.n >= 3);
    int ok = 1;
    size_t cuts = 0;
    unsigned char *c = malloc(n);
    for (size_t len = 64; len < n && ok; len += (len < 4096 ? 1 : stride), cuts++) {
        memcpy(c, b, len);
        move_eof(c, len);
        digest got = {0};
        walk_image(c, len, &got);
        ok = subset(&got, &want, file, len);
        digest_free(&got);
    }
    /* and without moving it: the truncation check answers first */
    sn_h5 *h = NULL;
    CHECK(sn_h5_open_image(&h, b, n / 2, file) == SN_ERR_FORMAT && strstr(sn_error_last(), "truncated"));
    free(c);
    free(b);
    digest_free(&want);
    CHECK(ok);
    CHECK(cuts > 100);
}

TEST(h5_hostile_truncation_sweep_v0) { truncation_sweep("keras/legacy_k21.h5", 1); }
TEST(h5_hostile_truncation_sweep_v3) { truncation_sweep("h5/sweep.h5", 1); }
TEST(h5_hostile_truncation_sweep_latest) { truncation_sweep("h5/latest.h5", 97); }

/* Every byte of a file changed: four ways when strict, where every
 * successful read must equal the intact file's (all metadata and chunks of
 * the file are checksummed); else flipped (the file's raw data is not
 * checksummed: reads must only not crash, hang, or read past the file). */
static void corruption_sweep(const char *file, int strict) {
    size_t n;
    unsigned char *b = slurp(sn_test_path(file), &n);
    CHECK(b);
    digest want = {0};
    walk_image(b, n, &want);
    CHECK(want.errors == 0 && want.n >= 3);
    unsigned char *c = malloc(n);
    memcpy(c, b, n);
    int ok = 1;
    size_t caught = 0, same = 0;
    for (size_t i = 0; i < n && ok; i++) {
        unsigned char vals[4] = {(unsigned char)(b[i] ^ 0x01), (unsigned char)(b[i] ^ 0x80), 0x00, (unsigned char)~b[i]};
        for (int k = strict ? 0 : 3; k < 4 && ok; k++) {
            if (vals[k] == b[i]) continue;
            c[i] = vals[k];
            digest got = {0};
            walk_image(c, n, &got);
            if (strict) ok = subset(&got, &want, file, i);
            caught += got.errors > 0;
            same += got.errors == 0 && got.n == want.n;
            digest_free(&got);
        }
        c[i] = b[i];
    }
    free(c);
    free(b);
    digest_free(&want);
    CHECK(ok);
    fprintf(stderr, "    %s: %zu bytes, %zu changes noticed, %zu read as the intact file\n", file, n, caught, same);
    CHECK(caught > 0);
}

TEST(h5_hostile_corruption_sweep_checksummed) { corruption_sweep("h5/sweep.h5", 1); }
TEST(h5_hostile_corruption_sweep_v0) { corruption_sweep("keras/legacy_k21.h5", 0); }

/* A dataspace whose element count overflows 64 bits (2^21 x 2^21 x 2^22
 * wraps to 0) is refused, not read as the count it wraps to. */
TEST(h5_hostile_dims_overflow) {
    sn_h5 *h;
    CHECK_OK(sn_h5_create_image(&h, "w"));
    float x[8] = {0};
    int64_t d[3] = {2, 2, 2};
    CHECK_OK(sn_h5_write_f32(h, "x", 3, d, x));
    void *img;
    size_t n;
    CHECK_OK(sn_h5_image(h, &img, &n));
    sn_h5_close(h);
    unsigned char *b = img, *o = NULL;
    for (size_t i = 60; i + 4 < n && !o; i++)
        if (!memcmp(b + i, "OHDR", 4)) o = b + i; /* the dataset's header, after the root's */
    CHECK(o && o[10] == 1 && o[15] == 3);    /* its first message: the dataspace, rank 3 */
    const int sh[3] = {21, 21, 22};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 8; i++) o[18 + 8 * k + i] = (unsigned char)(((uint64_t)1 << sh[k]) >> (8 * i));
    size_t len = 10 + (size_t)h5_le(o + 6, 4);
    uint32_t c = h5_lookup3(o, len, 0);
    for (int i = 0; i < 4; i++) o[len + (size_t)i] = (unsigned char)(c >> (8 * i));
    CHECK_OK(sn_h5_open_image(&h, img, n, "wrapped"));
    free(img);
    float y;
    CHECK(sn_h5_read_f32(h, "x", &y, 0) == SN_ERR_FORMAT);
    sn_h5_close(h);
}
