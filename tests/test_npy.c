/* .npy reader / writer (include/seqnn/npy.h) against files NumPy wrote
 * (tests/gen_npy_fixtures.py, committed under tests/fixtures/npy): every
 * dtype and byte order, versions 1-3, Fortran order, 0-d and zero-size
 * arrays, the int64 path for ids, one test per malformed-header class, and
 * the writer's bytes against np.save's. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "seqnn.h"
#include "test.h"

static int msg_has(const char *needle) {
    if (strstr(sn_error_last(), needle)) return 1;
    fprintf(stderr, "    message was: %s\n    expected to contain: %s\n", sn_error_last(), needle);
    return 0;
}

static const char *fx(const char *name) {
    static char buf[4][4096];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 4096, "%s", sn_test_path("npy/"));
    strncat(p, name, 4000);
    return p;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = len > 0 ? fread(b, 1, (size_t)len, fp) : 0;
    fclose(fp);
    return b;
}

static int same_bits(float a, float b) { return !memcmp(&a, &b, sizeof a); }

/* The values of gen_npy_fixtures.py's INTS, per dtype (shape (2, 3)). */
static const struct { const char *kind; int64_t v[6]; uint64_t u5; } ints[] = {
    {"i1", {-128, -1, 0, 1, 2, 127}, 0},
    {"i2", {-32768, -1, 0, 1, 300, 32767}, 0},
    {"i4", {-16777216, -1, 0, 1, 65536, 16777216}, 0},
    {"i8", {-(INT64_C(1) << 40), -1, 0, 1, 1 << 24, INT64_C(1) << 53}, 0},
    {"u1", {0, 1, 2, 127, 128, 255}, 0},
    {"u2", {0, 1, 300, 32768, 65280, 65535}, 0},
    {"u4", {0, 1, 65536, 16777216, 4294967040, 2147483648}, 0},
    {"u8", {0, 1, 1 << 24, INT64_C(1) << 40, INT64_C(1) << 62, 0}, UINT64_C(1) << 63},
    {"b1", {1, 0, 1, 1, 0, 0}, 0},
};

TEST(npy_reads_float_dtypes_bit_exactly_in_both_byte_orders) {
    const char *files[] = {"f4_le.npy", "f4_be.npy", "f8_le.npy", "f8_be.npy"};
    const char *descr[] = {"<f4", ">f4", "<f8", ">f8"};
    for (int f = 0; f < 4; f++) {
        sn_npy a;
        CHECK_OK(sn_npy_read(&a, fx(files[f]), NULL));
        CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.numel == 6 && a.version == 1);
        CHECK(!strcmp(a.descr, descr[f]) && !a.fortran_order && a.f32 && !a.i64);
        for (int i = 0; i < 6; i++) {
            /* numpy: ((arange(6) - 2.5) * 0.1) in float64, then cast: the same IEEE steps */
            float want = (float)(((double)i - 2.5) * 0.1);
            CHECK_MSG(same_bits(a.f32[i], want), "%s[%d] = %.9g, want %.9g", files[f], i, a.f32[i], want);
        }
        sn_npy_free(&a);
        /* not integers: refused as ids, naming the first element */
        sn_npy_opts o;
        sn_npy_opts_default(&o);
        o.as_int64 = 1;
        CHECK(sn_npy_read(&a, fx(files[f]), &o) == SN_ERR_FORMAT);
        CHECK(msg_has(files[f]) && msg_has("element 0 (C order) = -0.25") && msg_has("int64"));
        CHECK(a.f32 == NULL && a.i64 == NULL);
    }
}

TEST(npy_reads_integer_and_bool_dtypes_exactly) {
    for (size_t t = 0; t < sizeof ints / sizeof *ints; t++) {
        for (int be = 0; be < 2; be++) {
            if (ints[t].kind[1] == '1' && be) continue; /* one-byte types have no byte order */
            char name[32];
            snprintf(name, sizeof name, "%s_%s.npy", ints[t].kind, be ? "be" : "le");
            sn_npy a;
            CHECK_OK(sn_npy_read(&a, fx(name), NULL));
            CHECK(a.numel == 6 && a.descr[0] == (ints[t].kind[1] == '1' ? '|' : be ? '>' : '<'));
            for (int i = 0; i < 6; i++) {
                double want = i == 5 && ints[t].u5 ? (double)ints[t].u5 : (double)ints[t].v[i];
                CHECK_MSG(a.f32[i] == (float)want && (double)a.f32[i] == want, "%s[%d] = %.9g", name, i, a.f32[i]);
            }
            sn_npy_free(&a);
            sn_npy_opts o = {1, 0};
            sn_status st = sn_npy_read(&a, fx(name), &o);
            if (ints[t].u5) { /* 2^63 as uint64 does not fit int64 */
                CHECK(st == SN_ERR_FORMAT && msg_has("element 5 (C order) = 9223372036854775808"));
                continue;
            }
            CHECK_OK(st);
            CHECK(a.i64 && !a.f32);
            for (int i = 0; i < 6; i++) CHECK_MSG(a.i64[i] == ints[t].v[i], "%s[%d]", name, i);
            sn_npy_free(&a);
        }
    }
}

TEST(npy_reads_versions_2_and_3) {
    const char *files[] = {"f4_v2.npy", "f4_v3.npy"};
    for (int f = 0; f < 2; f++) {
        sn_npy a;
        CHECK_OK(sn_npy_read(&a, fx(files[f]), NULL));
        CHECK(a.version == f + 2 && a.numel == 6 && a.shape[1] == 3);
        for (int i = 0; i < 6; i++) CHECK(same_bits(a.f32[i], (float)(((double)i - 2.5) * 0.1)));
        sn_npy_free(&a);
    }
}

TEST(npy_fortran_order_is_transposed_to_c_order) {
    sn_npy a;
    CHECK_OK(sn_npy_read(&a, fx("f4_fortran.npy"), NULL));
    CHECK(a.fortran_order == 1 && a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4);
    for (int i = 0; i < 24; i++) CHECK_MSG(a.f32[i] == (float)i, "[%d] = %g", i, a.f32[i]); /* arange(24) */
    sn_npy_free(&a);
    sn_npy_opts o = {1, 0};
    CHECK_OK(sn_npy_read(&a, fx("i8_fortran_be.npy"), &o));
    CHECK(a.fortran_order && !strcmp(a.descr, ">i8") && a.shape[0] == 3 && a.shape[1] == 2);
    for (int i = 0; i < 6; i++) CHECK(a.i64[i] == i - 2);
    sn_npy_free(&a);
}

TEST(npy_scalar_zero_size_and_rank4_arrays) {
    sn_npy a;
    CHECK_OK(sn_npy_read(&a, fx("f4_scalar.npy"), NULL));
    CHECK(a.ndim == 0 && a.numel == 1 && a.f32[0] == 3.5f);
    sn_npy_free(&a);
    CHECK_OK(sn_npy_read(&a, fx("f4_empty.npy"), NULL));
    CHECK(a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 3 && a.numel == 0 && a.f32 != NULL);
    sn_npy_free(&a);
    CHECK_OK(sn_npy_read(&a, fx("f4_empty3.npy"), NULL));
    CHECK(a.ndim == 3 && a.shape[1] == 0 && a.shape[2] == 5 && a.numel == 0);
    sn_npy_free(&a);
    CHECK_OK(sn_npy_read(&a, fx("f4_rank4.npy"), NULL));
    CHECK(a.ndim == 4 && a.shape[0] == 1 && a.shape[3] == 2 && a.numel == 12);
    for (int i = 0; i < 12; i++) CHECK(a.f32[i] == (float)i + 0.5f);
    sn_npy_free(&a);
}

TEST(npy_ids_must_be_exactly_representable) {
    sn_npy a;
    sn_npy_opts ids = {1, 0};
    CHECK_OK(sn_npy_read(&a, fx("i8_ids.npy"), &ids));
    const int64_t want[] = {0, 1, (INT64_C(1) << 40) + 1, -5, INT64_C(1) << 62};
    for (int i = 0; i < 5; i++) CHECK(a.i64[i] == want[i]);
    sn_npy_free(&a);
    CHECK(sn_npy_read(&a, fx("i8_ids.npy"), NULL) == SN_ERR_FORMAT);
    CHECK(msg_has("i8_ids.npy: element 2 (C order) = 1099511627777 is not exactly representable as float32"));
    CHECK_OK(sn_npy_read(&a, fx("f8_ints.npy"), &ids));
    CHECK(a.i64[0] == 1 && a.i64[1] == -3 && a.i64[2] == INT64_C(1) << 53);
    sn_npy_free(&a);
    CHECK(sn_npy_read(&a, fx("f8_halfint.npy"), &ids) == SN_ERR_FORMAT && msg_has("element 1 (C order) = 2.5"));
    CHECK(sn_npy_read(&a, fx("f8_big.npy"), NULL) == SN_ERR_FORMAT && msg_has("element 1 (C order) = 1e+300"));
    CHECK(sn_npy_read(&a, fx("i4_inexact.npy"), NULL) == SN_ERR_FORMAT && msg_has("element 1 (C order) = 16777217"));
    CHECK_OK(sn_npy_read(&a, fx("u8_huge.npy"), NULL)); /* 2^63 is a float32 */
    CHECK(a.f32[0] == 9223372036854775808.0f);
    sn_npy_free(&a);
}

TEST(npy_unsupported_dtype_names_file_and_field) {
    sn_npy a;
    CHECK(sn_npy_read(&a, fx("c8_unsupported.npy"), NULL) == SN_ERR_UNSUPPORTED);
    CHECK(msg_has("c8_unsupported.npy: header field 'descr': unsupported dtype '<c8'"));
}

/* A v1 .npy in memory: the header text as given (plus '\n'), then `data`
 * zero bytes. */
static unsigned char g_buf[8192];
static size_t mk(const char *header, size_t data) {
    size_t h = strlen(header) + 1;
    memcpy(g_buf, "\x93NUMPY\x01\x00", 8);
    g_buf[8] = (unsigned char)h;
    g_buf[9] = (unsigned char)(h >> 8);
    memcpy(g_buf + 10, header, h - 1);
    g_buf[10 + h - 1] = '\n';
    memset(g_buf + 10 + h, 0, data);
    return 10 + h + data;
}

#define F4(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }"
static const struct { const char *hdr; size_t data; sn_status st; const char *msg; } bad_hdr[] = {
    {"[1, 2]", 0, SN_ERR_FORMAT, "bad.npy: header: expected a dict literal starting with '{', at `[1, 2]"},
    {"{'descr': '<f4', 'fortran_order': False}", 0, SN_ERR_FORMAT, "bad.npy: header has no 'shape' field"},
    {"{'shape': (1,), 'fortran_order': False}", 4, SN_ERR_FORMAT, "bad.npy: header has no 'descr' field"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8, SN_ERR_FORMAT,
     "bad.npy: header field 'x': unexpected key"},
    {"{'descr': '<f4', 'descr': '<f4'}", 0, SN_ERR_FORMAT, "header field 'descr': given twice"},
    {F4("[2, 3]"), 24, SN_ERR_FORMAT, "header field 'shape': expected a tuple such as (3, 4), at `[2, 3]"},
    {F4("(2)"), 8, SN_ERR_FORMAT, "header field 'shape': (n) is an integer, not a tuple: write (n,)"},
    {F4("(-1,)"), 0, SN_ERR_FORMAT, "header field 'shape': negative dimension"},
    {F4("(2, x)"), 0, SN_ERR_FORMAT, "header field 'shape': expected a dimension (an integer), at `x)"},
    {F4("(2 3)"), 0, SN_ERR_FORMAT, "header field 'shape': expected ',' or ')' in the shape tuple"},
    {F4("(02,)"), 0, SN_ERR_FORMAT, "header field 'shape': leading zero"},
    {F4("(99999999999999999999,)"), 0, SN_ERR_FORMAT, "header field 'shape': dimension too large"},
    {F4("(4294967296, 4294967296)"), 0, SN_ERR_NOMEM, "header field 'shape': too many elements"},
    {F4("(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)"), 4, SN_ERR_UNSUPPORTED,
     "header field 'shape': more than 32 dimensions"},
    {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 4, SN_ERR_FORMAT,
     "header field 'fortran_order': expected True or False, at `0"},
    {"{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", 4, SN_ERR_UNSUPPORTED,
     "header field 'descr': unsupported dtype '|f4'"},
    {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", 4, SN_ERR_UNSUPPORTED,
     "header field 'descr': structured dtypes are not supported"},
    {"{'descr': <f4, 'fortran_order': False, 'shape': (1,)}", 4, SN_ERR_FORMAT,
     "header field 'descr': expected a quoted dtype"},
    {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, SN_ERR_FORMAT,
     "header field 'descr': expected ',' or '}' after the value"},
    {"{'descr: '<f4'}", 0, SN_ERR_FORMAT, "header field 'descr: ': unexpected key"},
    {"{'descr' '<f4'}", 0, SN_ERR_FORMAT, "header field 'descr': expected ':' after the key"},
    {"{'descr': '<f4", 0, SN_ERR_FORMAT, "header field 'descr': expected a quoted dtype"},
    {"{\"descr\": '<f4', 'fortran_order': False, 'shape': (1,), } x", 4, SN_ERR_FORMAT,
     "bad.npy: header: unexpected text after the dict, at `x"},
    {"{1: 2}", 0, SN_ERR_FORMAT, "bad.npy: header: expected a quoted key or '}', at `1: 2}"},
    {F4("(2, 3)"), 20, SN_ERR_FORMAT,
     "bad.npy: truncated: shape (2, 3) of <f4 needs 24 bytes of data after the 70-byte header, the file has 20"},
    {F4("(2, 3)"), 28, SN_ERR_FORMAT, "bad.npy: 28 bytes of data after the 70-byte header, shape (2, 3) of <f4 needs exactly 24"},
    {F4("(1000000000, 1000000)"), 0, SN_ERR_FORMAT, "truncated: shape (1000000000, 1000000) of <f4 needs 4000000000000000"},
};

TEST(npy_malformed_headers_name_the_file_and_field) {
    for (size_t k = 0; k < sizeof bad_hdr / sizeof *bad_hdr; k++) {
        size_t n = mk(bad_hdr[k].hdr, bad_hdr[k].data);
        sn_npy a;
        sn_status st = sn_npy_read_mem(&a, g_buf, n, "bad.npy", NULL);
        CHECK_MSG(st == bad_hdr[k].st, "case %zu: %s (%s)", k, sn_status_str(st), sn_error_last());
        CHECK_MSG(msg_has(bad_hdr[k].msg), "case %zu", k);
        CHECK(a.f32 == NULL && a.i64 == NULL);
    }
    /* the same shape is fine with the right payload; "(3L,)" from Python 2 writers too */
    sn_npy a;
    CHECK_OK(sn_npy_read_mem(&a, g_buf, mk(F4("(2, 3)"), 24), "ok.npy", NULL));
    sn_npy_free(&a);
    CHECK_OK(sn_npy_read_mem(&a, g_buf, mk(F4("(3L,)"), 12), "ok.npy", NULL));
    CHECK(a.ndim == 1 && a.shape[0] == 3);
    sn_npy_free(&a);
    sn_npy_opts o = {0, 16};
    CHECK(sn_npy_read_mem(&a, g_buf, mk(F4("(2, 3)"), 24), "big.npy", &o) == SN_ERR_NOMEM);
    CHECK(msg_has("big.npy: shape (2, 3) needs 24 bytes, more than max_bytes (16)"));
}

TEST(npy_malformed_prefix_names_the_file) {
    sn_npy a;
    CHECK(sn_npy_read_mem(&a, "PK\x03\x04zipfile", 11, "x.npy", NULL) == SN_ERR_FORMAT);
    CHECK(msg_has("x.npy: not a .npy file"));
    size_t n = mk(F4("(1,)"), 4);
    g_buf[6] = 4;
    CHECK(sn_npy_read_mem(&a, g_buf, n, "x.npy", NULL) == SN_ERR_UNSUPPORTED && msg_has("x.npy: .npy format version 4.0"));
    g_buf[6] = 1;
    CHECK(sn_npy_read_mem(&a, g_buf, 9, "x.npy", NULL) == SN_ERR_FORMAT && msg_has("x.npy: truncated: 9 bytes"));
    CHECK(sn_npy_read_mem(&a, g_buf, 40, "x.npy", NULL) == SN_ERR_FORMAT &&
          msg_has("x.npy: truncated: the header needs 68 bytes, the file has 40"));
    g_buf[8] = 0xff, g_buf[9] = 0xff;
    g_buf[6] = 2, g_buf[10] = 0x10, g_buf[11] = 0; /* v2: 0x10ffff bytes */
    CHECK(sn_npy_read_mem(&a, g_buf, n, "x.npy", NULL) == SN_ERR_FORMAT && msg_has("x.npy: header length 1114111 exceeds"));
    CHECK(sn_npy_read_mem(&a, NULL, 0, NULL, NULL) == SN_ERR_FORMAT && msg_has("<memory>: not a .npy file"));
}

static const char *tmp_path(const char *name) {
    static char p[2][512];
    static int k;
    char *s = p[k++ & 1];
    snprintf(s, 512, "%s/%s", sn_test_tmpdir(), name);
    return s;
}

TEST(npy_file_errors_name_the_file_and_byte_counts) {
    sn_npy a;
    CHECK(sn_npy_read(&a, "/nonexistent/x.npy", NULL) == SN_ERR_IO && msg_has("/nonexistent/x.npy: cannot open"));
    CHECK(sn_npy_read(&a, sn_test_tmpdir(), NULL) == SN_ERR_IO && msg_has("not a regular file"));
    size_t n;
    unsigned char *b = slurp(fx("f4_le.npy"), &n);
    CHECK(b && n == 128 + 24);
    const char *p = tmp_path("short.npy");
    FILE *fp = fopen(p, "wb");
    fwrite(b, 1, n - 4, fp);
    fclose(fp);
    CHECK(sn_npy_read(&a, p, NULL) == SN_ERR_FORMAT);
    CHECK(msg_has(p) && msg_has("truncated: shape (2, 3) of <f4 needs 24 bytes of data after the 128-byte header, "
                                "the file has 20"));
    fp = fopen(p, "wb");
    fwrite(b, 1, 100, fp);
    fclose(fp);
    CHECK(sn_npy_read(&a, p, NULL) == SN_ERR_FORMAT && msg_has("the header needs 128 bytes, the file has 100"));
    /* the in-memory reader agrees with the file reader */
    CHECK_OK(sn_npy_read_mem(&a, b, n, "mem", NULL));
    CHECK(a.numel == 6 && same_bits(a.f32[5], (float)((5 - 2.5) * 0.1)));
    sn_npy_free(&a);
    free(b);
}

/* The arrays of gen_npy_fixtures.py's WRITTEN. */
static const float w2x3[] = {0.5f, -1.25f, 0.0009765625f, 1048576.0f, -0.0f, 3.140625f};
static const int64_t w2x3_shape[] = {2, 3}, w5_shape[] = {2, 1, 3, 1, 2}, wbig_shape[] = {123456789, 0};
static const int64_t wedge_shape[] = {0, 1, 1, 1, 10, 10, 10, 10, 10, 10, 10, 10};
static const int64_t wids[] = {0, 7, -1, (INT64_C(1) << 62) + 1}, wids_shape[] = {4};

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    if (!same) fprintf(stderr, "    %s and %s differ\n", a, b);
    free(x);
    free(y);
    return same;
}

/* Writes one array and checks its bytes against np.save's and the committed
 * seqnn file (SEQNN_NPY_REGEN=1 rewrites the latter for the generator to
 * verify with numpy). */
static int write_check(const char *name, const float *f, const int64_t *i, int ndim, const int64_t *shape) {
    char file[64], np[64];
    snprintf(file, sizeof file, "seqnn_%s.npy", name);
    snprintf(np, sizeof np, "np_%s.npy", name);
    for (int regen = 0; regen < 1 + (getenv("SEQNN_NPY_REGEN") != NULL); regen++) {
        const char *out = regen ? fx(file) : tmp_path(file);
        sn_status st = f || !i ? sn_npy_write_f32(out, f, ndim, shape) : sn_npy_write_i64(out, i, ndim, shape);
        if (st != SN_OK) return fprintf(stderr, "    %s\n", sn_error_last()), 0;
    }
    return same_file(tmp_path(file), fx(np)) && same_file(tmp_path(file), fx(file));
}

TEST(npy_writer_bytes_equal_numpy_save) {
    float r5[12];
    for (int k = 0; k < 12; k++) r5[k] = (float)k * 0.25f;
    float scalar = -2.75f;
    CHECK(write_check("f32_2x3", w2x3, NULL, 2, w2x3_shape));
    CHECK(write_check("f32_scalar", &scalar, NULL, 0, NULL));
    CHECK(write_check("f32_rank5", r5, NULL, 5, w5_shape));
    CHECK(write_check("f32_bigdim_empty", NULL, NULL, 2, wbig_shape));
    CHECK(write_check("f32_pad_edge", NULL, NULL, 12, wedge_shape));
    CHECK(write_check("i64_ids", NULL, wids, 1, wids_shape));
    /* and they read back */
    sn_npy a;
    CHECK_OK(sn_npy_read(&a, tmp_path("seqnn_f32_2x3.npy"), NULL));
    for (int k = 0; k < 6; k++) CHECK(same_bits(a.f32[k], w2x3[k]));
    sn_npy_free(&a);
    sn_npy_opts ids = {1, 0};
    CHECK_OK(sn_npy_read(&a, tmp_path("seqnn_i64_ids.npy"), &ids));
    CHECK(a.numel == 4 && a.i64[3] == wids[3] && a.i64[2] == -1);
    sn_npy_free(&a);
}

TEST(npy_writer_rejects_bad_arguments_and_writes_nothing) {
    const char *p = tmp_path("never.npy");
    unlink(p);
    int64_t neg[] = {2, -1}, ok[] = {2, 2};
    CHECK(sn_npy_write_f32(p, w2x3, 2, neg) == SN_ERR_ARG && msg_has("dimension 1 is -1"));
    CHECK(sn_npy_write_f32(p, w2x3, -1, ok) == SN_ERR_ARG && msg_has("ndim -1"));
    CHECK(sn_npy_write_f32(p, w2x3, 33, ok) == SN_ERR_ARG);
    CHECK(sn_npy_write_f32(p, NULL, 2, ok) == SN_ERR_ARG && msg_has("NULL data"));
    CHECK(sn_npy_write_i64(NULL, wids, 1, wids_shape) == SN_ERR_ARG);
    CHECK(sn_npy_write_f32("/nonexistent/dir/x.npy", w2x3, 2, ok) == SN_ERR_IO);
    CHECK(access(p, F_OK) != 0);
}

/* Each npy-* input the fuzzer found gives a clean status in both modes. */
TEST(npy_fuzz_regressions_replay_cleanly) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sn_test_path("fuzz_regressions"));
    DIR *dp = opendir(dir);
    CHECK(dp);
    struct dirent *e;
    int replayed = 0;
    while ((e = readdir(dp))) {
        if (strncmp(e->d_name, "npy-", 4)) continue;
        replayed++;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n;
        unsigned char *b = slurp(path, &n);
        CHECK(b);
        for (int ids = 0; ids < 2; ids++) {
            sn_npy_opts o = {ids, 0};
            sn_npy a, f;
            sn_status sm = sn_npy_read_mem(&a, b, n, e->d_name, &o), sf = sn_npy_read(&f, path, &o);
            CHECK_MSG(sm == sf, "%s: memory and file readers disagree", e->d_name);
            sn_npy_free(&a);
            sn_npy_free(&f);
        }
        free(b);
    }
    closedir(dp);
    CHECK(replayed >= 3);
}
