/* Corpus loading (directory / archive), splitting, and text datasets. */
#include <stdlib.h>
#include <string.h>
#include "seqnn/text.h"
#include "test.h"

/* tests/fixtures/text_tree:
 *   Bees/one.txt "Bee one", Bees/z.txt (invalid UTF-8 + a NUL), Bees/notes.md (ignored),
 *   Bees/nested/deep.TXT "Deep bee", ants/a.txt, ants/b.txt, extra/x.txt,
 *   .hidden/h.txt (hidden class, ignored), top.txt (top-level file, ignored).
 * Keras order: classes "Bees" < "ants" < "extra" (bytes); within a class the
 * folder's own files come before sub-folders (sorted os.walk roots). */
static int check_tree(const sn_text_corpus *c) {
    const char *paths[] = {"Bees/one.txt", "Bees/z.txt", "Bees/nested/deep.TXT", "ants/a.txt", "ants/b.txt",
                           "extra/x.txt"};
    const int labels[] = {0, 0, 0, 1, 1, 2};
    if (c->n != 6 || c->n_classes != 3) {
        fprintf(stderr, "    n = %zu, classes = %d\n", c->n, c->n_classes);
        return 0;
    }
    if (strcmp(c->class_names[0], "Bees") || strcmp(c->class_names[1], "ants") || strcmp(c->class_names[2], "extra"))
        return 0;
    for (int i = 0; i < 6; i++)
        if (strcmp(c->paths[i], paths[i]) || c->labels[i] != labels[i]) {
            fprintf(stderr, "    doc %d: %s label %d\n", i, c->paths[i], c->labels[i]);
            return 0;
        }
    if (strcmp(c->texts[0], "Bee one") || strcmp(c->texts[2], "Deep bee") || strcmp(c->texts[5], "extra class"))
        return 0;
    /* raw bytes kept, the NUL became a space */
    if (c->lengths[1] != 13 || memcmp(c->texts[1], "zz\xff\xc3 bad utf8", 14) != 0) return 0;
    return 1;
}

TEST(text_load_directory_inferred_classes) {
    sn_text_corpus c;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), NULL));
    CHECK(check_tree(&c));
    sn_text_corpus_free(&c);
    CHECK(c.n == 0 && c.texts == NULL);
}

TEST(text_load_explicit_class_list) {
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    const char *names[] = {"ants", "Bees"};
    o.class_names = names;
    o.n_class_names = 2;
    sn_text_corpus c;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), &o));
    CHECK(c.n == 5 && c.n_classes == 2);
    CHECK(!strcmp(c.class_names[0], "ants") && c.labels[0] == 0 && !strcmp(c.texts[1], "Ant B"));
    CHECK(!strcmp(c.paths[2], "Bees/one.txt") && c.labels[2] == 1 && c.labels[4] == 1);
    sn_text_corpus_free(&c);
    const char *missing[] = {"ants", "wasps"};
    o.class_names = missing;
    CHECK(sn_text_load(&c, sn_test_path("text_tree"), &o) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "wasps") != NULL);
    CHECK(c.n == 0);
    /* a hidden folder can still be asked for explicitly */
    const char *hidden[] = {".hidden"};
    o.class_names = hidden;
    o.n_class_names = 1;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), &o));
    CHECK(c.n == 1 && !strcmp(c.texts[0], "hidden"));
    sn_text_corpus_free(&c);
    CHECK(sn_text_load(&c, sn_test_path("no_such_dir"), NULL) == SN_ERR_IO);
}

TEST(text_load_size_cap_and_max_length) {
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    o.max_file_bytes = 6;
    sn_text_corpus c;
    CHECK(sn_text_load(&c, sn_test_path("text_tree"), &o) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "one.txt") != NULL);
    o.oversize = SN_TEXT_OVERSIZE_SKIP;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), &o));
    CHECK(c.n == 2 && !strcmp(c.texts[0], "Ant A")); /* only the two 5-byte files fit */
    sn_text_corpus_free(&c);
    o.oversize = SN_TEXT_OVERSIZE_TRUNCATE;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), &o));
    CHECK(c.n == 6 && !strcmp(c.texts[0], "Bee on") && c.lengths[0] == 6);
    sn_text_corpus_free(&c);
    sn_text_load_opts_default(&o);
    o.max_length = 3;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), &o));
    CHECK(c.n == 6 && !strcmp(c.texts[0], "Bee") && !strcmp(c.texts[5], "ext"));
    sn_text_corpus_free(&c);
}

TEST(text_load_tar_gz_matches_directory) {
    /* made with: tar --sort=name -czf text_tree.tar.gz ./text_tree (members "./text_tree/...") */
    sn_text_load_opts o[2];
    sn_text_load_opts_default(&o[0]);
    o[0].subdir = "text_tree";
    sn_text_load_opts_default(&o[1]);
    o[1].subdir = "text_tree/";
    const char *names[] = {"extra"};
    o[1].class_names = names;
    o[1].n_class_names = 1;
    sn_text_corpus c[2];
    CHECK_OK(sn_text_load_multi(c, sn_test_path("text_tree.tar.gz"), o, 2)); /* one pass, two corpora */
    CHECK(check_tree(&c[0]));
    CHECK(c[1].n == 1 && c[1].labels[0] == 0 && !strcmp(c[1].texts[0], "extra class"));
    sn_text_corpus_free(&c[0]);
    sn_text_corpus_free(&c[1]);
    o[0].subdir = "text_tree/Bees/nested";
    CHECK(sn_text_load(&c[0], sn_test_path("text_tree.tar.gz"), &o[0]) == SN_ERR_ARG); /* no class folders */
    o[0].subdir = "nope";
    CHECK(sn_text_load(&c[0], sn_test_path("text_tree.tar.gz"), &o[0]) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "nope") != NULL);
    /* a file that is not an archive */
    CHECK(sn_text_load(&c[0], sn_test_path("text_tree/ants/a.txt"), NULL) != SN_OK);
}

TEST(text_split_is_seeded_and_complementary) {
    sn_text_corpus c, tr, va, tr2, va2;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), NULL));
    CHECK_OK(sn_text_split(&c, 0.34, 7, &tr, &va));
    CHECK(tr.n == 4 && va.n == 2); /* n_val = floor(0.34 * 6) */
    CHECK_OK(sn_text_split(&c, 0.34, 7, &tr2, &va2));
    int seen[6] = {0};
    for (size_t i = 0; i < tr.n; i++) {
        CHECK(!strcmp(tr.paths[i], tr2.paths[i]));
        for (int j = 0; j < 6; j++) seen[j] += !strcmp(tr.paths[i], c.paths[j]);
    }
    for (size_t i = 0; i < va.n; i++)
        for (int j = 0; j < 6; j++)
            if (!strcmp(va.paths[i], c.paths[j])) {
                seen[j]++;
                CHECK(va.labels[i] == c.labels[j] && !strcmp(va.texts[i], c.texts[j]));
            }
    for (int j = 0; j < 6; j++) CHECK(seen[j] == 1);
    CHECK(va.n_classes == 3 && !strcmp(va.class_names[1], "ants"));
    sn_text_corpus_free(&tr);
    sn_text_corpus_free(&va);
    sn_text_corpus_free(&tr2);
    sn_text_corpus_free(&va2);
    CHECK_OK(sn_text_split(&c, 0.0, 1, &tr, NULL)); /* v = 0 keeps everything in training */
    CHECK(tr.n == 6);
    sn_text_corpus_free(&tr);
    CHECK(sn_text_split(&c, 1.0, 1, &tr, &va) == SN_ERR_ARG);
    sn_text_corpus_free(&c);
}

TEST(text_imdb_small_fixture_and_datasets) {
    sn_text_load_opts o[2];
    sn_text_load_opts_default(&o[0]);
    o[0].subdir = "train";
    sn_text_load_opts_default(&o[1]);
    o[1].subdir = "test";
    sn_text_corpus c[2];
    CHECK_OK(sn_text_load_multi(c, sn_test_path("imdb_small"), o, 2));
    CHECK(c[0].n == 300 && c[1].n == 100 && c[0].n_classes == 2);
    CHECK(!strcmp(c[0].class_names[0], "neg") && !strcmp(c[0].class_names[1], "pos"));
    CHECK(c[0].labels[149] == 0 && c[0].labels[150] == 1);

    /* int dataset */
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.max_tokens = 2000;
    vo.output_sequence_length = 40;
    sn_vectorizer *v;
    CHECK_OK(sn_vectorizer_init(&v, &vo));
    CHECK_OK(sn_vectorizer_adapt(v, (const char *const *)c[0].texts, c[0].n));
    CHECK(sn_vectorizer_vocab_size(v) == 2000);
    CHECK(!strcmp(sn_vectorizer_token(v, 2), "the"));
    sn_dataset ds;
    CHECK_OK(sn_text_dataset_int(&ds, v, &c[1]));
    CHECK(ds.n == 100 && ds.x_numel == 40 && ds.y_numel == 1 && !ds.sparse);
    size_t idx[2] = {99, 3};
    float x[80], y[2], want[40];
    sn_batch b = {0};
    b.x = x;
    b.y = y;
    CHECK_OK(ds.fill(ds.ctx, idx, 2, &b));
    CHECK(b.B == 2 && y[0] == 1 && y[1] == 0);
    CHECK_OK(sn_vectorizer_encode_int(v, c[1].texts[99], want));
    CHECK(memcmp(x, want, sizeof want) == 0);
    CHECK_OK(sn_vectorizer_encode_int(v, c[1].texts[3], want));
    CHECK(memcmp(x + 40, want, sizeof want) == 0);
    size_t bad = 100;
    CHECK(ds.fill(ds.ctx, &bad, 1, &b) == SN_ERR_ARG);
    sn_dataset_free(&ds);
    CHECK(sn_text_dataset_bag(&ds, v, &c[1]) == SN_ERR_STATE);
    sn_vectorizer_free(v);

    /* bag dataset (tf_idf, bigrams): CSR rows equal the dense encoding, for 1 and 2 threads */
    sn_vectorizer_opts_default(&vo);
    vo.output_mode = SN_OUTPUT_TF_IDF;
    vo.ngrams = 2;
    vo.max_tokens = 5000;
    vo.strip_html = 1;
    CHECK_OK(sn_vectorizer_init(&v, &vo));
    CHECK_OK(sn_vectorizer_adapt(v, (const char *const *)c[0].texts, c[0].n));
    int threads = sn_threads_get();
    sn_dataset d1, d2;
    sn_threads_set(1);
    sn_status s1 = sn_text_dataset_bag(&d1, v, &c[0]);
    sn_threads_set(2);
    sn_status s2 = sn_text_dataset_bag(&d2, v, &c[0]);
    sn_threads_set(threads);
    CHECK_OK(s1);
    CHECK_OK(s2);
    CHECK(d1.sparse == 1 && d1.x_numel == 5000 && d1.n == 300);
    size_t bi[3] = {5, 290, 5};
    float y1[3], y2[3];
    sn_batch b1 = {0}, b2 = {0};
    b1.y = y1;
    b2.y = y2;
    CHECK_OK(d1.fill(d1.ctx, bi, 3, &b1));
    CHECK_OK(d2.fill(d2.ctx, bi, 3, &b2));
    CHECK(b1.sp_row_ptr[3] == b2.sp_row_ptr[3] && b1.sp_row_ptr[3] > 0);
    CHECK(memcmp(b1.sp_col, b2.sp_col, (size_t)b1.sp_row_ptr[3] * 4) == 0);
    CHECK(memcmp(b1.sp_val, b2.sp_val, (size_t)b1.sp_row_ptr[3] * 4) == 0);
    CHECK(y1[0] == 0 && y1[1] == 1);
    float *dense = calloc(5000, sizeof *dense), *got = calloc(5000, sizeof *got);
    for (int r = 0; r < 3; r++) {
        CHECK_OK(sn_vectorizer_encode_dense(v, c[0].texts[bi[r]], dense));
        memset(got, 0, 5000 * sizeof *got);
        for (int64_t k = b1.sp_row_ptr[r]; k < b1.sp_row_ptr[r + 1]; k++) {
            if (k > b1.sp_row_ptr[r]) CHECK(b1.sp_col[k] > b1.sp_col[k - 1]);
            got[b1.sp_col[k]] = b1.sp_val[k];
        }
        CHECK(memcmp(dense, got, 5000 * sizeof *got) == 0);
    }
    free(dense);
    free(got);
    sn_dataset_free(&d1);
    sn_dataset_free(&d2);
    sn_vectorizer_free(v);
    sn_text_corpus_free(&c[0]);
    sn_text_corpus_free(&c[1]);
}

/* The full IMDB archive from ../shared (skipped when absent). Prints the
 * measured times: archive load, adapt (unigrams+bigrams, 25k reviews),
 * dataset encoding. */
TEST(text_full_imdb_archive) {
    const char *p = sn_test_shared_data("aclImdb_v1.tar.xz");
    if (!p) SKIP("../shared/data/aclImdb_v1.tar.xz not present");
    const char *slow = getenv("SEQNN_SLOW_TESTS");
    if (!slow || strcmp(slow, "1") != 0) SKIP("full IMDB archive load takes ~10 s; set SEQNN_SLOW_TESTS=1");
    sn_text_load_opts o[2];
    const char *names[] = {"neg", "pos"};
    for (int i = 0; i < 2; i++) {
        sn_text_load_opts_default(&o[i]);
        o[i].class_names = names; /* skips train/unsup */
        o[i].n_class_names = 2;
    }
    o[0].subdir = "aclImdb/train";
    o[1].subdir = "aclImdb/test";
    sn_text_corpus c[2];
    double t0 = sn_time_now();
    CHECK_OK(sn_text_load_multi(c, p, o, 2));
    double t1 = sn_time_now();
    for (int k = 0; k < 2; k++) {
        CHECK(c[k].n == 25000);
        size_t pos = 0;
        for (size_t i = 0; i < c[k].n; i++) pos += c[k].labels[i] == 1;
        CHECK(pos == 12500);
    }
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.ngrams = 2;
    vo.max_tokens = 20000;
    vo.output_mode = SN_OUTPUT_MULTI_HOT;
    sn_vectorizer *v;
    CHECK_OK(sn_vectorizer_init(&v, &vo));
    double t2 = sn_time_now();
    CHECK_OK(sn_vectorizer_adapt(v, (const char *const *)c[0].texts, c[0].n));
    double t3 = sn_time_now();
    sn_dataset ds;
    CHECK_OK(sn_text_dataset_bag(&ds, v, &c[1]));
    double t4 = sn_time_now();
    CHECK(sn_vectorizer_vocab_size(v) == 20000 && !strcmp(sn_vectorizer_token(v, 1), "the"));
    fprintf(stderr, "    IMDB: load train+test %.2f s, adapt 25k bigrams %.2f s, encode 25k bag (%d threads) %.2f s\n",
            t1 - t0, t3 - t2, sn_threads_get(), t4 - t3);
    sn_dataset_free(&ds);
    sn_vectorizer_free(v);
    sn_text_corpus_free(&c[0]);
    sn_text_corpus_free(&c[1]);
}

/* adapt partitions the vocabulary over threads: the result must not depend
 * on the thread count (300 docs is above the parallel threshold). */
TEST(text_adapt_independent_of_thread_count) {
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    o.subdir = "train";
    sn_text_corpus c;
    CHECK_OK(sn_text_load(&c, sn_test_path("imdb_small"), &o));
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.output_mode = SN_OUTPUT_TF_IDF;
    vo.ngrams = 2;
    vo.max_tokens = 3000;
    sn_vectorizer *v[3];
    int threads = sn_threads_get();
    sn_status st[3];
    for (int k = 0; k < 3; k++) {
        CHECK_OK(sn_vectorizer_init(&v[k], &vo));
        sn_threads_set(k + 1);
        st[k] = sn_vectorizer_adapt(v[k], (const char *const *)c.texts, c.n);
    }
    sn_threads_set(threads);
    for (int k = 0; k < 3; k++) CHECK_OK(st[k]);
    CHECK(sn_vectorizer_vocab_size(v[0]) == 3000);
    for (int k = 1; k < 3; k++)
        for (size_t i = 0; i < 3000; i++) {
            CHECK(!strcmp(sn_vectorizer_token(v[0], i), sn_vectorizer_token(v[k], i)));
            CHECK(sn_vectorizer_idf(v[0], i) == sn_vectorizer_idf(v[k], i));
        }
    for (int k = 0; k < 3; k++) sn_vectorizer_free(v[k]);
    sn_text_corpus_free(&c);
}

/* A truncated archive gives an error naming the file, never a crash. */
TEST(text_load_truncated_archive_is_an_error) {
    FILE *f = fopen(sn_test_path("text_tree.tar.gz"), "rb");
    CHECK(f);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(n > 100);
    char path[512];
    snprintf(path, sizeof path, "%s/truncated.tar.gz", sn_test_tmpdir());
    f = fopen(path, "wb");
    CHECK(f);
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    o.subdir = "text_tree";
    sn_text_corpus c;
    sn_status st = sn_text_load(&c, path, &o);
    CHECK(st == SN_ERR_FORMAT || st == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), "truncated.tar.gz") != NULL);
    CHECK(c.n == 0);
    remove(path);
}

/* A failure inside an encoding worker reaches the caller with the worker's
 * own message (sn_error_last is thread-local: before, the caller only got a
 * status string), for the smallest failing document whatever the thread
 * count. The failure here: NULL texts in a hand-modified corpus, which the
 * workers' encode call refuses. */
TEST(text_dataset_worker_failure_surfaces_its_message) {
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    o.subdir = "train";
    sn_text_corpus c;
    CHECK_OK(sn_text_load(&c, sn_test_path("imdb_small"), &o));
    sn_vectorizer *vi, *vb;
    sn_vectorizer_opts vo;
    sn_vectorizer_opts_default(&vo);
    vo.output_sequence_length = 20;
    CHECK_OK(sn_vectorizer_init(&vi, &vo));
    CHECK_OK(sn_vectorizer_adapt(vi, (const char *const *)c.texts, c.n));
    sn_vectorizer_opts_default(&vo);
    vo.output_mode = SN_OUTPUT_COUNT;
    CHECK_OK(sn_vectorizer_init(&vb, &vo));
    CHECK_OK(sn_vectorizer_adapt(vb, (const char *const *)c.texts, c.n));
    char *keep[2] = {c.texts[40], c.texts[250]};
    c.texts[250] = NULL;
    c.texts[40] = NULL;
    int threads = sn_threads_get();
    for (int t = 1; t <= 4; t *= 2) {
        sn_threads_set(t);
        sn_dataset ds;
        sn_status st = sn_text_dataset_int(&ds, vi, &c);
        const char *m = sn_error_last();
        CHECK_MSG(st == SN_ERR_ARG && strstr(m, "document 40") && strstr(m, "sn_vectorizer_encode_ids: NULL argument"),
                  "%d threads: %s (%s)", t, m, sn_status_str(st));
        st = sn_text_dataset_bag(&ds, vb, &c);
        m = sn_error_last();
        CHECK_MSG(st == SN_ERR_ARG && strstr(m, "document 40") && strstr(m, "sn_vectorizer_encode_sparse: NULL argument"),
                  "%d threads: %s (%s)", t, m, sn_status_str(st));
    }
    sn_threads_set(threads);
    c.texts[40] = keep[0];
    c.texts[250] = keep[1];
    sn_vectorizer_free(vi);
    sn_vectorizer_free(vb);
    sn_text_corpus_free(&c);
}
