/* Table indexes (sn_text_table_opts.index_only) and partial reads
 * (sn_text_table_read): an index has the whole load's documents, labels,
 * classes and paths with empty texts; reading any range of it, or of a
 * subset of it, gives exactly the whole load's texts; compressed files and
 * other encodings are refused, and a file changed under an index is
 * reported naming the file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

static void write_file(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(s, 1, n, f);
    fclose(f);
}

/* A table of 60 records in fmt ("csv", "tsv", "jsonl") with the awkward
 * cases: quoted delimiters and newlines, doubled quotes, CRLF, blank
 * lines, a byte order mark, two text columns. */
static size_t make_table(char *buf, const char *fmt) {
    size_t p = 0;
    int csv = !strcmp(fmt, "csv"), tsv = !strcmp(fmt, "tsv");
    p += (size_t)sprintf(buf + p, "\xEF\xBB\xBF");
    if (csv) p += (size_t)sprintf(buf + p, "label,title,text\r\n");
    if (tsv) p += (size_t)sprintf(buf + p, "label\ttitle\ttext\n");
    for (int i = 0; i < 60; i++) {
        const char *lab = i % 3 == 0 ? "neg" : i % 3 == 1 ? "pos" : "mixed";
        if (csv)
            p += (size_t)sprintf(buf + p, "%s,\"t%d, \"\"q\"\"\",\"line one %d\nline two, %s\"%s", lab, i, i, lab,
                                 i % 7 == 0 ? "\r\n\r\n" : "\n");
        else if (tsv)
            p += (size_t)sprintf(buf + p, "%s\tt%d\t\"quoted\ttab %d\n2nd\"\n%s", lab, i, i, i % 5 == 0 ? "\n" : "");
        else
            p += (size_t)sprintf(buf + p, "{\"label\": \"%s\", \"title\": \"t%d\", \"text\": \"esc\\n\\u00e9 %d\\\"\"}\n%s",
                                 lab, i, i, i % 9 == 0 ? "\n" : "");
    }
    return p;
}

static void check_format(const char *fmt) {
    char path[512], buf[32768];
    snprintf(path, sizeof path, "%s/index_test.%s", sn_test_tmpdir(), fmt);
    write_file(path, buf, make_table(buf, fmt));
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    o.text_columns = "title,text";
    sn_text_corpus whole, idx;
    CHECK(sn_text_load_table(&whole, path, &o) == SN_OK);
    o.index_only = 1;
    CHECK(sn_text_load_table(&idx, path, &o) == SN_OK);
    CHECK(whole.n >= 60 && idx.n == whole.n && idx.spans && !whole.spans);
    CHECK(idx.n_classes == whole.n_classes);
    for (int k = 0; k < whole.n_classes && k < idx.n_classes; k++) CHECK(!strcmp(idx.class_names[k], whole.class_names[k]));
    int same = 1;
    for (size_t i = 0; i < whole.n && i < idx.n; i++)
        same &= idx.labels[i] == whole.labels[i] && !strcmp(idx.paths[i], whole.paths[i]) && idx.texts[i][0] == 0 &&
                idx.lengths[i] == 0;
    CHECK(same);
    /* ranges of the index */
    const size_t ranges[][2] = {{0, 1}, {5, 23}, {40, idx.n}, {17, 17}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        CHECK(sn_text_table_read(&idx, ranges[r][0], ranges[r][1], path, &o) == SN_OK);
    int read_ok = 1, untouched = 1;
    for (size_t i = 0; i < idx.n; i++) {
        int in = (i < 1) || (i >= 5 && i < 23) || i >= 40;
        if (in) read_ok &= idx.lengths[i] == whole.lengths[i] && !memcmp(idx.texts[i], whole.texts[i], whole.lengths[i] + 1);
        else untouched &= idx.lengths[i] == 0;
    }
    CHECK(read_ok);
    CHECK(untouched);
    /* a subset (as splits make) keeps the spans: reversed order */
    size_t sel[10];
    for (int i = 0; i < 10; i++) sel[i] = idx.n - 1 - (size_t)i * 3;
    sn_text_corpus sub;
    CHECK(sn_text_subset(&idx, sel, 10, &sub) == SN_OK);
    CHECK(sub.spans != NULL);
    CHECK(sn_text_table_read(&sub, 0, 10, path, &o) == SN_OK);
    int sub_ok = 1;
    for (int i = 0; i < 10; i++) sub_ok &= !strcmp(sub.texts[i], whole.texts[sel[i]]);
    CHECK(sub_ok);
    CHECK(sn_text_table_read(&sub, 3, 11, path, &o) == SN_ERR_ARG);
    CHECK(sn_text_table_read(&whole, 0, 1, path, &o) == SN_ERR_ARG);
    /* the file changed under the index: cut after its first half */
    size_t half = (size_t)idx.spans[2 * (idx.n / 2)];
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        CHECK(ftruncate(fileno(f), (off_t)half + 3) == 0); /* + the byte order mark */
        fclose(f);
    }
    sn_status st = sn_text_table_read(&sub, 0, 10, path, &o);
    CHECK(st == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), path) != NULL);
    sn_text_corpus_free(&sub);
    sn_text_corpus_free(&idx);
    sn_text_corpus_free(&whole);
}

TEST(text_index_csv_reads_the_whole_loads_texts) { check_format("csv"); }
TEST(text_index_tsv_reads_the_whole_loads_texts) { check_format("tsv"); }
TEST(text_index_jsonl_reads_the_whole_loads_texts) { check_format("jsonl"); }

/* fuzz_corpus found it: a whole load reads NUL bytes as spaces before it
 * parses (so a label "\0n" is "n"), an index parses the bytes in place; an
 * index of a file holding NUL bytes is refused (the CLI reads it whole). */
TEST(text_index_refuses_nul_bytes_which_a_whole_load_reads_as_spaces) {
    char path[512];
    snprintf(path, sizeof path, "%s/corpus-tsv-nul-bytes-in-labels", sn_test_path("fuzz_regressions"));
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char tsv[512];
    snprintf(tsv, sizeof tsv, "%s/nul_labels.tsv", sn_test_tmpdir());
    write_file(tsv, buf + 1, n - 1); /* the fuzzer's first byte holds its options */
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    sn_text_corpus whole, idx;
    CHECK(sn_text_load_table(&whole, tsv, &o) == SN_OK);
    int spaced = 0; /* a class name the NUL bytes became spaces in, trimmed */
    for (int k = 0; k < whole.n_classes; k++) spaced |= !strcmp(whole.class_names[k], "n");
    CHECK(spaced);
    o.index_only = 1;
    CHECK(sn_text_load_table(&idx, tsv, &o) == SN_ERR_UNSUPPORTED);
    CHECK(strstr(sn_error_last(), "NUL") != NULL);
    sn_text_corpus_free(&whole);
}

TEST(text_index_refuses_compressed_files_and_other_encodings) {
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    o.index_only = 1;
    sn_text_corpus c;
    char path[512];
    snprintf(path, sizeof path, "%s/index_test.csv.gz", sn_test_tmpdir());
    write_file(path, "\x1f\x8b\x08\x00rest", 8);
    CHECK(sn_text_load_table(&c, path, &o) == SN_ERR_UNSUPPORTED);
    CHECK(strstr(sn_error_last(), "compressed") != NULL);
    snprintf(path, sizeof path, "%s/index_test_latin1.csv", sn_test_tmpdir());
    write_file(path, "label,text\npos,caf\xe9\n", 20);
    o.encoding = SN_TEXT_ENC_LATIN1;
    CHECK(sn_text_load_table(&c, path, &o) == SN_ERR_UNSUPPORTED);
    o.encoding = SN_TEXT_ENC_UTF8;
    snprintf(path, sizeof path, "%s/index_test_missing.csv", sn_test_tmpdir());
    CHECK(sn_text_load_table(&c, path, &o) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), "index_test_missing.csv") != NULL);
}

TEST(text_index_folders_reads_the_whole_loads_texts) {
    const char *root = "tests/fixtures/imdb_small";
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    o.subdir = "train";
    o.max_length = 700; /* some reviews are cut: the read cuts them alike */
    sn_text_corpus whole, idx;
    CHECK(sn_text_load(&whole, root, &o) == SN_OK);
    o.index_only = 1;
    CHECK(sn_text_load(&idx, root, &o) == SN_OK);
    CHECK(idx.n == whole.n && idx.n > 100 && idx.n_classes == whole.n_classes);
    int same = 1;
    for (size_t i = 0; i < whole.n && i < idx.n; i++)
        same &= idx.labels[i] == whole.labels[i] && !strcmp(idx.paths[i], whole.paths[i]) && idx.texts[i][0] == 0;
    CHECK(same);
    size_t lo = 13, hi = idx.n - 7;
    CHECK(sn_text_folder_read(&idx, lo, hi, root, &o) == SN_OK);
    int read_ok = 1;
    for (size_t i = 0; i < idx.n; i++)
        read_ok &= i >= lo && i < hi ? idx.lengths[i] == whole.lengths[i] && !strcmp(idx.texts[i], whole.texts[i])
                                     : idx.lengths[i] == 0;
    CHECK(read_ok);
    CHECK(sn_text_folder_read(&idx, 0, idx.n + 1, root, &o) == SN_ERR_ARG);
    /* a file gone since the index: named */
    free(idx.paths[0]);
    idx.paths[0] = strdup("neg/no_such_review.txt");
    CHECK(sn_text_folder_read(&idx, 0, 1, root, &o) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), "no_such_review.txt") != NULL);
    sn_text_corpus_free(&idx);
    sn_text_corpus_free(&whole);
}

TEST(text_index_refuses_archives) {
    sn_text_load_opts o;
    sn_text_load_opts_default(&o);
    o.index_only = 1;
    sn_text_corpus c;
    CHECK(sn_text_load(&c, "tests/fixtures/text_tree.tar.gz", &o) == SN_ERR_UNSUPPORTED);
    CHECK(strstr(sn_error_last(), "archive") != NULL);
}
