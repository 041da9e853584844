/* seqnn's HDF5 reader (src/interop/h5*.c) on files h5py / libhdf5 1.10
 * wrote (tests/gen_h5_fixtures.py): every dataset, attribute and group the
 * manifest lists must read back exactly — the values are small multiples
 * of 0.25, exact in every type, so the comparison is ==. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "interop/h5.h"
#include "seqnn.h"
#include "test.h"

#define HDIR "tests/fixtures/h5/"

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

/* The generator's formulas (tests/gen_h5_fixtures.py). */
static float pattern(char kind, size_t i) {
    double v = (double)((i * 37) % 101);
    return (float)(kind == 'f' ? v * 0.25 - 12 : kind == 'i' ? v - 50 : v);
}

/* Expands "@digits:N" to "00000,00001,...,". */
static char *expand(const char *s) {
    if (strncmp(s, "@digits:", 8)) return strdup(s);
    int n = atoi(s + 8);
    char *o = malloc((size_t)n * 6 + 1);
    for (int i = 0; i < n; i++) snprintf(o + 6 * i, 7, "%05d,", i % 100000);
    o[6 * n] = 0;
    return o;
}

static int check_dataset(sn_h5 *h, const sn_json *d) {
    const char *path = sn_json_str(sn_json_get(d, "path"), "");
    const sn_json *shape = sn_json_get(d, "shape");
    int rank;
    int64_t dims[SN_H5_MAX_RANK];
    if (!sn_h5_is_dataset(h, path) || sn_h5_shape(h, path, &rank, dims)) {
        fprintf(stderr, "    %s: %.200s: not a dataset: %s\n", sn_h5_name(h), path, sn_error_last());
        return 0;
    }
    size_t numel = 1;
    int ok = rank == (int)sn_json_len(shape);
    for (int i = 0; ok && i < rank; i++) {
        ok = dims[i] == sn_json_int(sn_json_at(shape, (size_t)i), -1);
        numel *= (size_t)dims[i];
    }
    if (!ok) {
        fprintf(stderr, "    %s: %s: shape differs\n", sn_h5_name(h), path);
        return 0;
    }
    float *v = malloc((numel ? numel : 1) * sizeof *v);
    if (sn_h5_read_f32(h, path, v, numel)) {
        fprintf(stderr, "    %s: %s: %s\n", sn_h5_name(h), path, sn_error_last());
        free(v);
        return 0;
    }
    const char *pat = sn_json_str(sn_json_get(d, "pattern"), NULL);
    const sn_json *vals = sn_json_get(d, "values");
    for (size_t i = 0; ok && i < numel; i++) {
        float want = pat ? pattern(pat[0], i) : (float)sn_json_num(sn_json_at(vals, i), 1e30);
        if (v[i] != want) {
            fprintf(stderr, "    %s: %s: element %zu is %g, h5py wrote %g\n", sn_h5_name(h), path, i, v[i], want);
            ok = 0;
        }
    }
    free(v);
    return ok;
}

static int check_attr(sn_h5 *h, const sn_json *a) {
    const char *path = sn_json_str(sn_json_get(a, "path"), ""), *name = sn_json_str(sn_json_get(a, "name"), "");
    const sn_json *want = sn_json_get(a, "strings");
    char **v;
    size_t n;
    if (!sn_h5_has_attr(h, path, name) || sn_h5_attr_strs(h, path, name, &v, &n)) {
        fprintf(stderr, "    %s: %s: attribute %s: %s\n", sn_h5_name(h), path, name, sn_error_last());
        return 0;
    }
    int ok = n == sn_json_len(want);
    for (size_t i = 0; ok && i < n; i++) {
        char *w = expand(sn_json_str(sn_json_at(want, i), ""));
        ok = !strcmp(v[i], w);
        if (!ok) fprintf(stderr, "    %s: %s: attribute %s[%zu] is \"%.60s\"\n", sn_h5_name(h), path, name, i, v[i]);
        free(w);
    }
    if (n != sn_json_len(want)) fprintf(stderr, "    %s: %s: attribute %s has %zu strings\n", sn_h5_name(h), path, name, n);
    sn_h5_strs_free(v, n);
    return ok;
}

static int check_group(sn_h5 *h, const sn_json *g) {
    const char *path = sn_json_str(sn_json_get(g, "path"), "");
    const sn_json *want = sn_json_get(g, "members");
    char **v;
    size_t n;
    if (!sn_h5_is_group(h, path) || sn_h5_list(h, path, &v, &n)) {
        fprintf(stderr, "    %s: %s: not a group: %s\n", sn_h5_name(h), path, sn_error_last());
        return 0;
    }
    int ok = n == sn_json_len(want);
    for (size_t i = 0; ok && i < n; i++) ok = !strcmp(v[i], sn_json_str(sn_json_at(want, i), ""));
    if (!ok) fprintf(stderr, "    %s: %s: members differ (%zu listed)\n", sn_h5_name(h), path, n);
    sn_h5_strs_free(v, n);
    return ok;
}

/* Every object the manifest lists for `file`; counts what was checked. */
static int check_file(sn_h5 *h, const sn_json *man, size_t *checked) {
    int ok = 1;
    const sn_json *l = sn_json_get(man, "datasets");
    for (size_t i = 0; i < sn_json_len(l); i++, (*checked)++) ok &= check_dataset(h, sn_json_at(l, i));
    l = sn_json_get(man, "attrs");
    for (size_t i = 0; i < sn_json_len(l); i++, (*checked)++) ok &= check_attr(h, sn_json_at(l, i));
    l = sn_json_get(man, "groups");
    for (size_t i = 0; i < sn_json_len(l); i++, (*checked)++) ok &= check_group(h, sn_json_at(l, i));
    return ok;
}

static int load_manifest(sn_json_doc *doc) {
    size_t n;
    unsigned char *b = slurp(HDIR "manifest.json", &n);
    int ok = b && sn_json_parse(doc, (const char *)b, n, NULL) == SN_OK;
    free(b);
    return ok;
}

static void check_named(const char *file, int from_memory) {
    sn_json_doc doc;
    CHECK(load_manifest(&doc));
    char path[512];
    snprintf(path, sizeof path, HDIR "%s", file);
    sn_h5 *h = NULL;
    size_t n = 0;
    unsigned char *b = from_memory ? slurp(path, &n) : NULL;
    sn_status st = from_memory ? sn_h5_open_image(&h, b, n, file) : sn_h5_open(&h, path);
    free(b);
    CHECK_OK(st);
    size_t checked = 0;
    int ok = check_file(h, sn_json_get(doc.root, file), &checked);
    sn_h5_close(h);
    sn_json_free(&doc);
    CHECK(ok);
    CHECK(checked >= 2);
}

/* libver "earliest": superblock 0, v1 headers, symbol tables (600 links),
 * contiguous / compact / v1-B-tree chunked data, every string kind. */
TEST(h5_read_earliest_format) { check_named("earliest.h5", 0); }
/* libver "latest": superblock 3, v2 headers, dense links and attributes,
 * huge heap objects, layout v4 with every chunk index. From memory, as the
 * model.weights.h5 of a .keras archive is read. */
TEST(h5_read_latest_format) { check_named("latest.h5", 1); }
/* A user block: the superblock at 1024, addresses relative to it. */
TEST(h5_read_userblock) { check_named("userblock.h5", 0); }
TEST(h5_read_sweep_file) { check_named("sweep.h5", 0); }

/* Lookups that must answer "no" without an error. */
TEST(h5_read_absent_things) {
    sn_h5 *h;
    CHECK_OK(sn_h5_open(&h, HDIR "latest.h5"));
    CHECK(sn_h5_is_group(h, "") && sn_h5_is_group(h, "/") && sn_h5_is_group(h, "//index/"));
    CHECK(!sn_h5_is_group(h, "index/fixed") && sn_h5_is_dataset(h, "index/fixed"));
    CHECK(!sn_h5_is_dataset(h, "index/nope") && !sn_h5_is_group(h, "nope/deeper") && !sn_h5_is_dataset(h, "index/fixed/x"));
    CHECK(!sn_h5_has_attr(h, "attrs", "attr_99") && !sn_h5_has_attr(h, "nope", "x"));
    char **v;
    size_t n;
    CHECK(sn_h5_attr_strs(h, "attrs", "attr_99", &v, &n) == SN_ERR_FORMAT && strstr(sn_error_last(), "missing attribute attr_99"));
    CHECK(sn_h5_list(h, "index/fixed", &v, &n) == SN_ERR_FORMAT && strstr(sn_error_last(), "no such group"));
    float x[4];
    CHECK(sn_h5_read_f32(h, "index/fixed", x, 4) == SN_ERR_FORMAT && strstr(sn_error_last(), "35 elements, expected 4"));
    CHECK(sn_h5_attr_strs(h, "/", "empty_f64", &v, &n) == SN_OK && n == 0);
    sn_h5_strs_free(v, n);
    char *s;
    CHECK(sn_h5_attr_str(h, "/", "vlen_list", &s) == SN_ERR_FORMAT && strstr(sn_error_last(), "holds 4 strings"));
    CHECK(sn_h5_attr_strs(h, "/", "layer_names", &v, &n) == SN_OK && n == 5); /* layer_names0 + layer_names1 */
    sn_h5_strs_free(v, n);
    sn_h5_close(h);
}

/* Not HDF5, or HDF5 behind something that is not a user block boundary. */
TEST(h5_read_refuses_non_hdf5) {
    sn_h5 *h = NULL;
    static const unsigned char junk[600] = "PK\3\4 not hdf5";
    CHECK(sn_h5_open_image(&h, junk, sizeof junk, "junk.h5") == SN_ERR_FORMAT && !h);
    CHECK_MSG(strstr(sn_error_last(), "junk.h5: not a readable HDF5 file: no HDF5 signature"), "%s", sn_error_last());
    CHECK(sn_h5_open(&h, HDIR "no-such-file.h5") == SN_ERR_IO && !h);
    CHECK(sn_h5_open(&h, HDIR) == SN_ERR_IO && !h);
}

/* Offsets of 4 bytes with lengths of 8 (symbol tables, local heaps) and
 * offsets of 8 with lengths of 4 (v2 headers, fractal heaps, arrays). */
TEST(h5_read_other_address_sizes) {
    check_named("sizes_o4_l8.h5", 0);
    check_named("sizes_o8_l4.h5", 1);
}
