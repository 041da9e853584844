/* Word vectors: loaders (word2vec text / binary, GloVe, gzip) against
 * committed fixtures with exact values, malformed files, round trips,
 * Embedding-weight export, neighbours / analogies on hand-built vectors, and
 * Word2Vec on a synthetic two-group corpus. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "seqnn/core.h"
#include "seqnn/wordvec.h"
#include "test.h"
#include <zlib.h>

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", sn_test_tmpdir(), name);
    return buf[k];
}

/* The content of every wv_small* fixture. */
static const char *small_words[4] = {"the", "cat", "Dog", "sat"};
static const float small_vecs[12] = {0.1f, -0.2f, 0.3f, 1, 2, 3, -1.5f, 0, 2.25f, 0.000125f, 1e-3f, -7};

static int is_small(const sn_wordvec *wv) {
    if (!wv || wv->n != 4 || wv->dim != 3) return 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(wv->words[i], small_words[i]) || sn_wordvec_find(wv, small_words[i]) != i) return 0;
    return memcmp(wv->vecs, small_vecs, sizeof small_vecs) == 0;
}

TEST(wordvec_load_all_formats_exact) {
    static const struct { const char *file; sn_wordvec_format fmt; } cases[] = {
        {"wv_small.txt", SN_WORDVEC_W2V_TEXT},      {"wv_small.txt", SN_WORDVEC_AUTO},
        {"wv_small.glove.txt", SN_WORDVEC_GLOVE},   {"wv_small.glove.txt", SN_WORDVEC_AUTO},
        {"wv_small.bin", SN_WORDVEC_W2V_BINARY},    {"wv_small.bin", SN_WORDVEC_AUTO},
        {"wv_small_nonl.bin", SN_WORDVEC_W2V_BINARY}, {"wv_small_nonl.bin", SN_WORDVEC_AUTO},
        {"wv_small.txt.gz", SN_WORDVEC_W2V_TEXT},   {"wv_small.txt.gz", SN_WORDVEC_AUTO},
        {"wv_small.bin.gz", SN_WORDVEC_W2V_BINARY}, {"wv_small.bin.gz", SN_WORDVEC_AUTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_wordvec *wv = NULL;
        sn_status st = sn_wordvec_load(&wv, sn_test_path(cases[i].file), cases[i].fmt, 0);
        CHECK_MSG(st == SN_OK, "%s fmt %d: %s", cases[i].file, (int)cases[i].fmt, sn_error_last());
        CHECK_MSG(is_small(wv), "%s fmt %d: wrong content", cases[i].file, (int)cases[i].fmt);
        CHECK(sn_wordvec_find(wv, "dog") == -1); /* case-sensitive */
        CHECK(sn_wordvec_get(wv, "sat")[2] == -7.0f);
        sn_wordvec_free(wv);
    }
}

TEST(wordvec_load_max_words) {
    sn_wordvec *wv = NULL;
    CHECK_OK(sn_wordvec_load(&wv, sn_test_path("wv_small.bin"), SN_WORDVEC_AUTO, 2));
    CHECK(wv->n == 2 && !strcmp(wv->words[1], "cat") && sn_wordvec_find(wv, "Dog") == -1);
    sn_wordvec_free(wv);
    CHECK_OK(sn_wordvec_load(&wv, sn_test_path("wv_small.glove.txt"), SN_WORDVEC_GLOVE, 3));
    CHECK(wv->n == 3 && wv->vecs[8] == 2.25f);
    sn_wordvec_free(wv);
    /* max_words stops before the header's count: no "too few" error. */
    CHECK_OK(sn_wordvec_load(&wv, sn_test_path("wv_fewer.txt"), SN_WORDVEC_W2V_TEXT, 2));
    CHECK(wv->n == 2);
    sn_wordvec_free(wv);
}

TEST(wordvec_save_roundtrip) {
    const char *words[3] = {"alpha", "beta", "γάμμα"};
    float v[3 * 4] = {1.0f / 3.0f, -1e-30f, 123456.789f, 0, -0.0f, 3.4e38f, 1e-45f, -2.5f, 7, 8, 9, 0.1f};
    sn_wordvec *wv = NULL, *back = NULL;
    CHECK_OK(sn_wordvec_from_arrays(&wv, words, v, 3, 4));
    static const struct { const char *name; int binary; } cases[] = {
        {"rt.txt", 0}, {"rt.bin", 1}, {"rt.txt.gz", 0}, {"rt.bin.gz", 1}};
    for (int i = 0; i < 4; i++) {
        const char *p = tmp_path(cases[i].name);
        CHECK_OK(sn_wordvec_save(wv, p, cases[i].binary));
        CHECK_OK(sn_wordvec_load(&back, p, SN_WORDVEC_AUTO, 0));
        CHECK(back->n == 3 && back->dim == 4);
        for (int r = 0; r < 3; r++) CHECK(!strcmp(back->words[r], words[r]));
        CHECK_MSG(memcmp(back->vecs, v, sizeof v) == 0, "%s: values differ", cases[i].name);
        sn_wordvec_free(back);
        back = NULL;
        /* Explicit format too. */
        CHECK_OK(sn_wordvec_load(&back, p, cases[i].binary ? SN_WORDVEC_W2V_BINARY : SN_WORDVEC_W2V_TEXT, 0));
        CHECK(memcmp(back->vecs, v, sizeof v) == 0);
        sn_wordvec_free(back);
        back = NULL;
    }
    /* An unwritable destination: SN_ERR_IO naming the temp file. */
    CHECK(sn_wordvec_save(wv, "/nonexistent-dir/x.txt", 0) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), "/nonexistent-dir/x.txt.tmp."));
    /* A word with whitespace cannot enter a table. */
    const char *bad[1] = {"a b"};
    CHECK(sn_wordvec_from_arrays(&back, bad, v, 1, 4) == SN_ERR_ARG && back == NULL);
    const char *dup[2] = {"x", "x"};
    CHECK(sn_wordvec_from_arrays(&back, dup, v, 2, 4) == SN_ERR_ARG && strstr(sn_error_last(), "duplicate"));
    sn_wordvec_free(wv);
}

TEST(wordvec_malformed_files) {
    static const struct {
        const char *file;
        sn_wordvec_format fmt;
        sn_status want;
        const char *where; /* must appear in the message after the file name */
        const char *what;
    } cases[] = {
        {"wv_bad_count.txt", SN_WORDVEC_AUTO, SN_ERR_FORMAT, ":3:", "expected 3 values"},
        {"wv_bad_number.txt", SN_WORDVEC_W2V_TEXT, SN_ERR_FORMAT, ":3:", "not a number: '2x'"},
        {"wv_nan.txt", SN_WORDVEC_AUTO, SN_ERR_NUMERIC, ":3:", "not finite"},
        {"wv_inf.glove.txt", SN_WORDVEC_GLOVE, SN_ERR_NUMERIC, ":3:", "-inf"},
        {"wv_glove_mismatch.txt", SN_WORDVEC_AUTO, SN_ERR_FORMAT, ":3:", "(as on the first line), found 4"},
        {"wv_fewer.txt", SN_WORDVEC_W2V_TEXT, SN_ERR_FORMAT, ":4:", "ends after 3 records, the header announces 4"},
        {"wv_more.txt", SN_WORDVEC_W2V_TEXT, SN_ERR_FORMAT, ":4:", "more records than the 2"},
        {"wv_huge_header.txt", SN_WORDVEC_AUTO, SN_ERR_FORMAT, ":1:", "header claims 1099511627776 words"},
        {"wv_huge_header.bin", SN_WORDVEC_W2V_BINARY, SN_ERR_FORMAT, ":1:", "header claims 2097152 words x 524288"},
        {"wv_trunc.bin", SN_WORDVEC_AUTO, SN_ERR_FORMAT, ": byte offset 25", "truncated record 2"},
        {"wv_short.bin", SN_WORDVEC_W2V_BINARY, SN_ERR_FORMAT, ": byte offset 22", "ends after 2 records, the header announces 3"},
        {"wv_nan.bin", SN_WORDVEC_W2V_BINARY, SN_ERR_NUMERIC, ": byte offset 21", "value 1 is NaN"},
        {"wv_empty.txt", SN_WORDVEC_AUTO, SN_ERR_FORMAT, ":", "empty file"},
        {"wv_empty.txt", SN_WORDVEC_GLOVE, SN_ERR_FORMAT, ":", "empty file"},
        {"wv_empty.txt", SN_WORDVEC_W2V_BINARY, SN_ERR_FORMAT, ":", "empty file"},
        {"wv_bad_header.txt", SN_WORDVEC_W2V_TEXT, SN_ERR_FORMAT, ":1:", "expected a header"},
        {"wv_small.glove.txt", SN_WORDVEC_W2V_TEXT, SN_ERR_FORMAT, ":1:", "expected a header"},
        {"no_such_file.txt", SN_WORDVEC_AUTO, SN_ERR_IO, ":", "cannot open"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_wordvec *wv = (sn_wordvec *)1;
        sn_status st = sn_wordvec_load(&wv, sn_test_path(cases[i].file), cases[i].fmt, 0);
        const char *m = sn_error_last();
        char where[256];
        snprintf(where, sizeof where, "%s%s", cases[i].file, cases[i].where);
        CHECK_MSG(st == cases[i].want, "%s: got %s (%s)", cases[i].file, sn_status_str(st), m);
        CHECK(wv == NULL);
        CHECK_MSG(strstr(m, where) != NULL, "%s: message lacks '%s': %s", cases[i].file, where, m);
        CHECK_MSG(strstr(m, cases[i].what) != NULL, "%s: message lacks '%s': %s", cases[i].file, cases[i].what, m);
    }
}

TEST(wordvec_huge_header_fails_fast) {
    /* 2^40 values claimed by a 28-byte file: rejected from the file size,
     * before any allocation (an attempt would be SN_ERR_NOMEM or slow). */
    double t0 = sn_time_now();
    sn_wordvec *wv = NULL;
    CHECK(sn_wordvec_load(&wv, sn_test_path("wv_huge_header.txt"), SN_WORDVEC_W2V_TEXT, 0) == SN_ERR_FORMAT);
    CHECK(sn_wordvec_load(&wv, sn_test_path("wv_huge_header.bin"), SN_WORDVEC_AUTO, 0) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "1.1e+12 values"));
    CHECK(sn_time_now() - t0 < 0.5);
    /* A gzip'd forged header: bounded by 1032x the compressed size. */
    const char *p = tmp_path("huge.txt.gz");
    gzFile gz = gzopen(p, "wb");
    CHECK(gz);
    gzputs(gz, "1000000000 100\nthe 1 2 3\n");
    CHECK(gzclose(gz) == Z_OK);
    CHECK(sn_wordvec_load(&wv, p, SN_WORDVEC_AUTO, 0) == SN_ERR_FORMAT);
    CHECK_MSG(strstr(sn_error_last(), "huge.txt.gz:1: header claims 1000000000 words") &&
                  strstr(sn_error_last(), "gzip"), "%s", sn_error_last());
    CHECK(wv == NULL);
}

TEST(wordvec_long_line) {
    const char *p = tmp_path("long.glove.txt");
    size_t n = SN_WORDVEC_MAX_LINE + 100;
    char *buf = malloc(n + 64);
    CHECK(buf);
    size_t k = (size_t)snprintf(buf, 64, "the 1 2\ncat ");
    while (k < n) {
        buf[k++] = '1';
        buf[k++] = ' ';
    }
    buf[k++] = '\n';
    sn_status st = sn_file_write_atomic(p, buf, k);
    free(buf);
    CHECK_OK(st);
    sn_wordvec *wv = NULL;
    CHECK(sn_wordvec_load(&wv, p, SN_WORDVEC_AUTO, 0) == SN_ERR_FORMAT);
    CHECK_MSG(strstr(sn_error_last(), "long.glove.txt:2: line longer than 1048576 bytes"), "%s", sn_error_last());
    /* A wide but legal line: D = 200000 inferred from the first line. */
    const char *w = tmp_path("wide.glove.txt");
    buf = malloc(400100);
    CHECK(buf);
    k = (size_t)snprintf(buf, 64, "wide");
    for (int j = 0; j < 200000; j++) {
        buf[k++] = ' ';
        buf[k++] = (char)('0' + j % 10);
    }
    buf[k++] = '\n';
    st = sn_file_write_atomic(w, buf, k);
    free(buf);
    CHECK_OK(st);
    CHECK_OK(sn_wordvec_load(&wv, w, SN_WORDVEC_AUTO, 0));
    CHECK(wv->n == 1 && wv->dim == 200000 && wv->vecs[199999] == 9.0f);
    sn_wordvec_free(wv);
}

static void capture_log(sn_log_level level, const char *msg, void *user) {
    char *buf = user;
    if (level == SN_LOG_WARN && strlen(buf) + strlen(msg) + 2 < 1024) {
        strcat(buf, msg);
        strcat(buf, "\n");
    }
}

TEST(wordvec_duplicate_words_keep_first) {
    char log[1024] = "";
    sn_log_set(capture_log, log);
    sn_wordvec *wv = NULL;
    sn_status st = sn_wordvec_load(&wv, sn_test_path("wv_dup.txt"), SN_WORDVEC_AUTO, 0);
    sn_log_set(NULL, NULL);
    CHECK_OK(st);
    CHECK(wv->n == 3 && wv->dim == 2);
    const float *c = sn_wordvec_get(wv, "cat");
    CHECK(c && c[0] == 3 && c[1] == 4);
    CHECK_MSG(strstr(log, "wv_dup.txt:5: duplicate word 'cat'"), "log: %s", log);
    sn_wordvec_free(wv);
}

TEST(wordvec_to_matrix_rows_and_coverage) {
    sn_wordvec *wv = NULL;
    CHECK_OK(sn_wordvec_load(&wv, sn_test_path("wv_small.txt"), SN_WORDVEC_AUTO, 0));
    /* "Cat" -> lowercase "cat"; "dog" absent (the table has "Dog" only);
     * "Dog" exact; "" and "[UNK]" zero; "zebra" missing. */
    const char *vocab[7] = {"", "[UNK]", "the", "Cat", "dog", "Dog", "zebra"};
    float m[7 * 3];
    for (int i = 0; i < 21; i++) m[i] = 99;
    size_t found = 0;
    CHECK_OK(sn_wordvec_to_matrix(wv, vocab, 7, 3, m, SN_WORDVEC_MISSING_ZERO, NULL, &found));
    CHECK(found == 3);
    const float want[7 * 3] = {0, 0, 0, 0, 0, 0, 0.1f, -0.2f, 0.3f, 1, 2, 3, 0, 0, 0, -1.5f, 0, 2.25f, 0, 0, 0};
    CHECK(memcmp(m, want, sizeof want) == 0);
    /* Uniform init for missing rows: in (-0.05, 0.05), reproducible from the seed. */
    sn_rng r1, r2;
    sn_rng_seed(&r1, 7);
    sn_rng_seed(&r2, 7);
    float u1[21], u2[21];
    CHECK_OK(sn_wordvec_to_matrix(wv, vocab, 7, 3, u1, SN_WORDVEC_MISSING_UNIFORM, &r1, &found));
    CHECK_OK(sn_wordvec_to_matrix(wv, vocab, 7, 3, u2, SN_WORDVEC_MISSING_UNIFORM, &r2, NULL));
    CHECK(found == 3 && memcmp(u1, u2, sizeof u1) == 0);
    for (int j = 0; j < 6; j++) CHECK(u1[j] == 0); /* mask and [UNK] stay zero */
    CHECK(memcmp(u1 + 6, want + 6, 6 * sizeof(float)) == 0);
    int nonzero = 0;
    for (int row = 4; row < 7; row += 2)
        for (int j = 0; j < 3; j++) {
            float x = u1[row * 3 + j];
            CHECK(x >= -0.05f && x < 0.05f);
            nonzero += x != 0;
        }
    CHECK(nonzero >= 5);
    /* Errors: dimension mismatch names both; uniform without rng. */
    CHECK(sn_wordvec_to_matrix(wv, vocab, 7, 4, m, SN_WORDVEC_MISSING_ZERO, NULL, &found) == SN_ERR_SHAPE);
    CHECK(strstr(sn_error_last(), "D=4") && strstr(sn_error_last(), "dimension 3"));
    CHECK(sn_wordvec_to_matrix(wv, vocab, 7, 3, m, SN_WORDVEC_MISSING_UNIFORM, NULL, &found) == SN_ERR_ARG);
    sn_wordvec_free(wv);
}

/* 5-D axes: male, female, royal, person, young. */
static sn_wordvec *royal_table(void) {
    const char *w[6] = {"man", "woman", "king", "queen", "prince", "apple"};
    const float v[6 * 5] = {
        1, 0, 0, 1, 0,   /* man    = male + person  */
        0, 1, 0, 1, 0,   /* woman  = female + person */
        1, 0, 1, 0, 0,   /* king   = male + royal   */
        0, 1, 1, 0, 0,   /* queen  = female + royal */
        1, 0, 1, 0, 0.5f,/* prince = king + young/2 */
        0, 0, 0, 0, -1,  /* apple                   */
    };
    sn_wordvec *wv = NULL;
    return sn_wordvec_from_arrays(&wv, w, v, 6, 5) == SN_OK ? wv : NULL;
}

TEST(wordvec_similar_and_analogy) {
    sn_wordvec *wv = royal_table();
    CHECK(wv);
    sn_wordvec_hit h[10];
    int n = 0;
    CHECK_OK(sn_wordvec_similar(wv, "king", 10, h, &n));
    CHECK(n == 5);
    CHECK(!strcmp(h[0].word, "prince") && h[0].row == 4);
    CHECK_CLOSE(h[0].score, 2.0 / (sqrt(2.0) * 1.5), 1e-6, 0);
    /* man and queen tie at 0.5: lower row first. */
    CHECK(!strcmp(h[1].word, "man") && !strcmp(h[2].word, "queen"));
    CHECK_CLOSE(h[1].score, 0.5, 1e-6, 0);
    CHECK_CLOSE(h[2].score, 0.5, 1e-6, 0);
    /* woman and apple are orthogonal to king: tie at 0, lower row first. */
    CHECK(!strcmp(h[3].word, "woman") && !strcmp(h[4].word, "apple"));
    CHECK_CLOSE(h[4].score, 0.0, 1e-6, 0);
    CHECK_OK(sn_wordvec_similar(wv, "prince", 5, h, &n));
    CHECK(!strcmp(h[4].word, "apple"));
    CHECK_CLOSE(h[4].score, -0.5 / 1.5, 1e-6, 0);
    CHECK_OK(sn_wordvec_similar(wv, "king", 2, h, &n));
    CHECK(n == 2 && !strcmp(h[1].word, "man"));

    /* man : king :: woman : ?  ->  king - man + woman = queen exactly. */
    CHECK_OK(sn_wordvec_analogy(wv, "man", "king", "woman", 3, h, &n));
    CHECK(n == 3 && !strcmp(h[0].word, "queen"));
    CHECK_CLOSE(h[0].score, 1.0, 1e-6, 0);
    /* The query words are excluded even when closest. */
    for (int i = 0; i < n; i++)
        CHECK(strcmp(h[i].word, "man") && strcmp(h[i].word, "king") && strcmp(h[i].word, "woman"));
    /* woman : queen :: man : ? -> king (prince second). */
    CHECK_OK(sn_wordvec_analogy(wv, "woman", "queen", "man", 1, h, &n));
    CHECK(n == 1 && !strcmp(h[0].word, "king"));

    CHECK(sn_wordvec_similar(wv, "emperor", 3, h, &n) == SN_ERR_ARG && n == 0);
    CHECK(strstr(sn_error_last(), "'emperor'"));
    CHECK(sn_wordvec_analogy(wv, "man", "kaiser", "woman", 3, h, &n) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "'kaiser'"));
    CHECK(sn_wordvec_similar(wv, "king", 0, h, &n) == SN_ERR_ARG);
    sn_wordvec_free(wv);
}

typedef struct toks {
    char buf[256];
    int n;
} toks;

static int collect(const char *tok, size_t len, void *user) {
    toks *t = user;
    if (t->n) strcat(t->buf, "|");
    strncat(t->buf, tok, len);
    t->n++;
    return 0;
}

static int stop_at_two(const char *tok, size_t len, void *user) {
    (void)tok;
    (void)len;
    return ++*(int *)user == 2;
}

TEST(word2vec_tokenizer) {
    toks t = {"", 0};
    CHECK_OK(sn_word2vec_tokenize("  Hello, World!<br />It's\ta TEST-case...<br /><br />x\xc3\xa9Y  ", collect, &t, NULL));
    CHECK_MSG(!strcmp(t.buf, "hello|world|its|a|testcase|x\xc3\xa9y"), "%s", t.buf);
    CHECK(t.n == 6);
    toks e = {"", 0};
    CHECK_OK(sn_word2vec_tokenize(" ... ,, ", collect, &e, NULL));
    CHECK(e.n == 0);
    int k = 0;
    CHECK(sn_word2vec_tokenize("a b c d", stop_at_two, &k, NULL) == SN_ERR_INTERRUPTED && k == 2);
}

/* Sentences of 8 words, each drawn from one of two 12-word groups. */
static char **group_corpus(int n_docs, uint64_t seed) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    char **docs = calloc((size_t)n_docs, sizeof *docs);
    for (int d = 0; d < n_docs; d++) {
        docs[d] = calloc(8, 8);
        int g = d % 2;
        for (int i = 0; i < 8; i++) {
            char w[8];
            snprintf(w, sizeof w, "%c%d ", g ? 'b' : 'a', (int)sn_rng_below(&r, 12));
            strcat(docs[d], w);
        }
    }
    return docs;
}

static int count_epochs(int epoch, int epochs, float alpha, double loss, double wps, void *user) {
    (void)epochs;
    (void)wps;
    double *last = user;
    last[0] = epoch;
    last[1 + (epoch - 1) % 8] = loss;
    return !(alpha > 0) || !(loss > 0);
}

static int stop_now(int epoch, int epochs, float alpha, double loss, double wps, void *user) {
    (void)epoch, (void)epochs, (void)alpha, (void)loss, (void)wps, (void)user;
    return 1;
}

static double cosine(const float *a, const float *b, int D) {
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < D; j++) {
        ab += (double)a[j] * b[j];
        aa += (double)a[j] * a[j];
        bb += (double)b[j] * b[j];
    }
    return ab / sqrt(aa * bb);
}

TEST(word2vec_groups_and_determinism) {
    const int n_docs = 600;
    char **docs = group_corpus(n_docs, 3);
    sn_word2vec_opts o;
    sn_word2vec_opts_default(&o);
    o.dim = 16;
    o.window = 3;
    o.min_count = 1;
    o.sample = 0;
    o.epochs = 4;
    o.threads = 1;
    o.seed = 42;
    sn_wordvec *a = NULL, *b = NULL, *c = NULL;
    double last[9] = {0};
    double t0 = sn_time_now();
    CHECK_OK(sn_word2vec_train(&a, (const char *const *)docs, (size_t)n_docs, &o, count_epochs, last));
    CHECK(last[0] == 4);
    CHECK(last[4] < last[1]); /* loss went down */
    CHECK(a->n == 24 && a->dim == 16);
    CHECK_OK(sn_word2vec_train(&b, (const char *const *)docs, (size_t)n_docs, &o, NULL, NULL));
    CHECK(b->n == a->n && memcmp(a->vecs, b->vecs, a->n * 16 * sizeof(float)) == 0);
    for (size_t i = 0; i < a->n; i++) CHECK(!strcmp(a->words[i], b->words[i]));
    /* Within-group similarity beats across-group similarity, on average and
     * for every word's nearest neighbour. */
    double within = 0, across = 0;
    int nw = 0, na = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = i + 1; j < a->n; j++) {
            double s = cosine(a->vecs + i * 16, a->vecs + j * 16, 16);
            if (a->words[i][0] == a->words[j][0]) within += s, nw++;
            else across += s, na++;
        }
    within /= nw;
    across /= na;
    CHECK_MSG(within > across + 0.3, "within %.3f across %.3f", within, across);
    for (size_t i = 0; i < a->n; i++) {
        sn_wordvec_hit h[1];
        int n;
        CHECK_OK(sn_wordvec_similar(a, a->words[i], 1, h, &n));
        CHECK_MSG(h[0].word[0] == a->words[i][0], "%s nearest %s", a->words[i], h[0].word);
    }
    /* Two threads: same structure (Hogwild: not bit-identical). */
    o.threads = 2;
    o.seed = 43;
    CHECK_OK(sn_word2vec_train(&c, (const char *const *)docs, (size_t)n_docs, &o, NULL, NULL));
    within = across = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = i + 1; j < c->n; j++) {
            double s = cosine(c->vecs + i * 16, c->vecs + j * 16, 16);
            if (c->words[i][0] == c->words[j][0]) within += s;
            else across += s;
        }
    CHECK(within / nw > across / na + 0.3);
    /* Exact sigmoid instead of the table: same structure. */
    sn_wordvec_free(c);
    o.threads = 1;
    o.exact_sigmoid = 1;
    CHECK_OK(sn_word2vec_train(&c, (const char *const *)docs, (size_t)n_docs, &o, NULL, NULL));
    within = across = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = i + 1; j < c->n; j++) {
            double s = cosine(c->vecs + i * 16, c->vecs + j * 16, 16);
            if (c->words[i][0] == c->words[j][0]) within += s;
            else across += s;
        }
    CHECK(within / nw > across / na + 0.3);
    CHECK(sn_time_now() - t0 < 3.0);
    sn_wordvec_free(a);
    sn_wordvec_free(b);
    sn_wordvec_free(c);
    for (int d = 0; d < n_docs; d++) free(docs[d]);
    free(docs);
}

TEST(word2vec_vocab_and_errors) {
    const char *texts[3] = {"the cat the dog the", "The CAT, the bird!", "rare"};
    sn_word2vec_opts o;
    sn_word2vec_opts_default(&o);
    o.dim = 4;
    o.min_count = 2;
    o.epochs = 1;
    o.threads = 1;
    sn_wordvec *wv = NULL;
    CHECK_OK(sn_word2vec_train(&wv, texts, 3, &o, NULL, NULL));
    /* counts: the 5, cat 2; dog, bird, rare dropped; sorted by count. */
    CHECK(wv->n == 2 && !strcmp(wv->words[0], "the") && !strcmp(wv->words[1], "cat"));
    sn_wordvec_free(wv);
    o.min_count = 1;
    o.max_vocab = 3;
    CHECK_OK(sn_word2vec_train(&wv, texts, 3, &o, NULL, NULL));
    /* ties at count 1 (bird, dog, rare) broken by byte order. */
    CHECK(wv->n == 3 && !strcmp(wv->words[2], "bird"));
    sn_wordvec_free(wv);
    wv = NULL;
    o.min_count = 10;
    CHECK(sn_word2vec_train(&wv, texts, 3, &o, NULL, NULL) == SN_ERR_STATE && wv == NULL);
    CHECK(strstr(sn_error_last(), "min_count=10"));
    o.min_count = 1;
    CHECK(sn_word2vec_train(&wv, texts, 3, &o, stop_now, NULL) == SN_ERR_INTERRUPTED && wv == NULL);
    o.window = 0;
    CHECK(sn_word2vec_train(&wv, texts, 3, &o, NULL, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "window"));
    o.window = 5;
    o.negative = 0;
    CHECK(sn_word2vec_train(&wv, texts, 3, &o, NULL, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "negative"));
    o.negative = 5;
    const char *with_null[2] = {"a b", NULL};
    CHECK(sn_word2vec_train(&wv, with_null, 2, &o, NULL, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "text 1"));
}

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define FTZ_DAZ 0x8040u /* MXCSR flush-to-zero | denormals-are-zero */
static unsigned g_csr_inside;
static sn_status csr_tokenizer(const char *text, sn_word2vec_token_fn emit, void *emit_user, void *tok_user) {
    (void)tok_user;
    g_csr_inside = _mm_getcsr();
    return sn_word2vec_tokenize(text, emit, emit_user, NULL);
}
#endif

/* Word2Vec computes with denormals flushed (they cost a micro-code assist
 * per operand on Intel cores) and gives the caller its own mode back: the
 * tokenizer, called from inside sn_word2vec_train, sees FTZ and DAZ set
 * although the caller cleared them, and after the call they are clear again. */
TEST(word2vec_flushes_denormals_and_restores_the_callers_mode) {
#if defined(__x86_64__) || defined(__i386__)
    const char *texts[] = {"the cat sat on the mat", "the dog sat on the log", "a cat and a dog"};
    sn_word2vec_opts o;
    sn_word2vec_opts_default(&o);
    o.dim = 4;
    o.epochs = 1;
    o.min_count = 1;
    o.threads = 1;
    o.tokenizer = csr_tokenizer;
    int was = sn_denormals_get();
    sn_denormals_set(1);
    unsigned caller = _mm_getcsr();
    _mm_setcsr(caller & ~FTZ_DAZ);
    g_csr_inside = 0;
    sn_wordvec *wv = NULL;
    sn_status st = sn_word2vec_train(&wv, texts, 3, &o, NULL, NULL);
    unsigned after = _mm_getcsr();
    _mm_setcsr(caller);
    sn_denormals_set(was);
    CHECK_OK(st);
    CHECK_MSG((g_csr_inside & FTZ_DAZ) == FTZ_DAZ, "MXCSR inside: %#x", g_csr_inside);
    CHECK_MSG((after & FTZ_DAZ) == 0, "MXCSR after: %#x", after);
    sn_wordvec_free(wv);
#else
    SKIP("MXCSR (flush-to-zero) is x86 only");
#endif
}

/* A truncated .gz is damaged input, not a shorter file: a GloVe file (no
 * header to count against) whose gzip stream lacks its last bytes must fail
 * naming the damage, where it used to load as if nothing were missing.
 * Cut 1: the 4-byte size trailer only (every record decodes); cut 2: half. */
TEST(wordvec_truncated_gzip_is_an_error) {
    const char *p = tmp_path("cut.glove.txt.gz");
    gzFile gz = gzopen(p, "wb9");
    CHECK(gz);
    for (int i = 0; i < 2000; i++) gzprintf(gz, "w%d %d.25 %d.5 -%d.75\n", i, i, i % 13, i % 7);
    CHECK(gzclose(gz) == Z_OK);
    FILE *fp = fopen(p, "rb");
    CHECK(fp);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    CHECK(n > 1000 && n < sizeof buf);
    const size_t cut[2] = {n - 4, n / 2};
    for (int k = 0; k < 2; k++) {
        fp = fopen(p, "wb");
        CHECK(fp);
        fwrite(buf, 1, cut[k], fp);
        fclose(fp);
        sn_wordvec *wv = (sn_wordvec *)1;
        sn_status st = sn_wordvec_load(&wv, p, SN_WORDVEC_GLOVE, 0);
        CHECK_MSG(st == SN_ERR_FORMAT && strstr(sn_error_last(), "cut.glove.txt.gz") &&
                      strstr(sn_error_last(), "truncated"),
                  "cut %d: %s (%s)", k, sn_error_last(), sn_status_str(st));
        CHECK(wv == NULL);
        if (st == SN_OK) sn_wordvec_free(wv);
    }
}
