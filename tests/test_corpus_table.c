/* Corpus readers for table files (CSV, TSV, JSONL): good files with quotes,
 * embedded delimiters and newlines, several text columns, multi-label sets,
 * encodings; malformed files (an unterminated quote, text after a closing
 * quote, missing fields, bad UTF-8, an empty label, unknown columns), each
 * error naming file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "seqnn/text.h"
#include "test.h"

static sn_status parse(sn_text_corpus *c, const char *text, const char *name, const sn_text_table_opts *o) {
    return sn_text_parse_table(c, text, strlen(text), name, o);
}

/* 1 when parsing fails with SN_ERR_FORMAT / SN_ERR_ARG and a message holding every needle. */
static int fails_with(const char *text, const char *name, const sn_text_table_opts *o, const char *n1, const char *n2) {
    sn_text_corpus c;
    sn_status st = parse(&c, text, name, o);
    const char *m = sn_error_last();
    int ok = st != SN_OK && strstr(m, n1) && (!n2 || strstr(m, n2)) && c.n == 0 && c.texts == NULL;
    if (!ok) fprintf(stderr, "    status %d, message: %s\n", (int)st, st ? m : "(none)");
    if (st == SN_OK) sn_text_corpus_free(&c);
    return ok;
}

TEST(corpus_csv_quotes_newlines_delimiters) {
    const char *csv = "id,text,label\r\n"
                      "1,plain text,pos\r\n"
                      "2,\"with, a comma\",neg\r\n"
                      "\r\n"
                      "3,\"two\nlines and \"\"quotes\"\"\",pos\n"
                      "4,a \"quote\" inside,neg\n"
                      "5,,pos"; /* empty text, no final newline */
    sn_text_corpus c;
    CHECK_OK(parse(&c, csv, "r.csv", NULL));
    CHECK(c.n == 5 && c.n_classes == 2);
    CHECK(!strcmp(c.class_names[0], "neg") && !strcmp(c.class_names[1], "pos"));
    CHECK(!strcmp(c.texts[0], "plain text") && c.labels[0] == 1);
    CHECK(!strcmp(c.texts[1], "with, a comma") && c.labels[1] == 0);
    CHECK(!strcmp(c.texts[2], "two\nlines and \"quotes\"") && c.lengths[2] == strlen(c.texts[2]));
    CHECK(!strcmp(c.texts[3], "a \"quote\" inside"));
    CHECK(c.texts[4][0] == 0 && c.lengths[4] == 0);
    /* paths carry the line each record starts on (blank line 4 skipped) */
    CHECK(!strcmp(c.paths[0], "r.csv:2") && !strcmp(c.paths[2], "r.csv:5") && !strcmp(c.paths[3], "r.csv:7"));
    CHECK(c.label_sets == NULL && c.weights == NULL);
    sn_text_corpus_free(&c);
}

TEST(corpus_csv_columns_by_name_and_index) {
    const char *csv = "title,body,stars\nGood,Loved it,5\nBad,Hated it,1\nOk,Fine,10\n";
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    o.text_columns = "title,1"; /* a name and an index */
    o.label_column = "stars";
    sn_text_corpus c;
    CHECK_OK(parse(&c, csv, "s.csv", &o));
    CHECK(c.n == 3 && !strcmp(c.texts[0], "Good\nLoved it"));
    /* integer labels sort numerically: 1 < 5 < 10 (bytes would give 1 < 10 < 5) */
    CHECK(c.n_classes == 3 && !strcmp(c.class_names[0], "1") && !strcmp(c.class_names[2], "10"));
    CHECK(c.labels[0] == 1 && c.labels[1] == 0 && c.labels[2] == 2);
    sn_text_corpus_free(&c);
    /* no header: label 0, text 1 by default (the layout of AG News, DBpedia, Yelp CSVs) */
    sn_text_table_opts_default(&o);
    o.no_header = 1;
    CHECK_OK(parse(&c, "b,\"x, y\"\na,z\n", "n.csv", &o));
    CHECK(c.n == 2 && !strcmp(c.texts[0], "x, y") && c.labels[0] == 1 && !strcmp(c.class_names[0], "a"));
    sn_text_corpus_free(&c);
    o.text_columns = "text"; /* names need a header */
    CHECK(fails_with("b,x\n", "n.csv", &o, "no text column \"text\"", "columns: 0, 1"));
}

TEST(corpus_csv_malformed_named_by_line) {
    CHECK(fails_with("text,label\nok,a\n\"never closed,b\nmore\n", "m.csv", NULL, "m.csv:3", "never closed"));
    CHECK(fails_with("text,label\n\"closed\" late,a\n", "m.csv", NULL, "m.csv:2: column 9", "after a closing quote"));
    CHECK(fails_with("text,label\nonly one field\n", "m.csv", NULL, "m.csv:2: 1 field, expected 2", "header"));
    CHECK(fails_with("text,label\nun, quoted,a\n", "m.csv", NULL, "m.csv:2: 3 fields, expected 2", NULL));
    CHECK(fails_with("text,label\nfine,a\nno label,  \n", "m.csv", NULL, "m.csv:3: empty label", "column \"label\""));
    CHECK(fails_with("body,label\nx,a\n", "m.csv", NULL, "no text column \"text\"", "\"body\", \"label\""));
    CHECK(fails_with("text,label\n", "m.csv", NULL, "no records", NULL));
    CHECK(fails_with("", "m.csv", NULL, "no records", NULL));
}

TEST(corpus_tsv_rules) {
    const char *tsv = "label\ttext\n"
                      "pos\t\"tab\tinside\"\n"
                      "neg\tsays \"hi\"\n";
    sn_text_corpus c;
    CHECK_OK(parse(&c, tsv, "t.tsv", NULL));
    CHECK(c.n == 2 && !strcmp(c.texts[0], "tab\tinside") && !strcmp(c.texts[1], "says \"hi\""));
    sn_text_corpus_free(&c);
    CHECK(fails_with("label\ttext\npos\ta\tb\n", "t.tsv", NULL, "t.tsv:2: 3 fields, expected 2", NULL));
    CHECK(fails_with("label\ttext\npos\n", "t.tsv", NULL, "t.tsv:2: 1 field, expected 2", NULL));
    CHECK(fails_with("label\ttext\npos\tok\n\tno label\n", "t.tsv", NULL, "t.tsv:3: empty label", NULL));
    CHECK(fails_with("label\ttext\npos\tcaf\xe9\n", "t.tsv", NULL, "t.tsv:2:8: invalid UTF-8 byte 0xE9", NULL));
}

TEST(corpus_jsonl_good_and_bad) {
    const char *jl = "{\"text\": \"first\", \"label\": 3, \"x\": [1]}\n"
                     "\n"
                     "{\"label\": 1, \"text\": \"second \\u00e9\"}\r\n";
    sn_text_corpus c;
    CHECK_OK(parse(&c, jl, "j.jsonl", NULL));
    CHECK(c.n == 2 && !strcmp(c.texts[1], "second \xc3\xa9"));
    CHECK(!strcmp(c.class_names[0], "1") && c.labels[0] == 1 && !strcmp(c.paths[1], "j.jsonl:3"));
    sn_text_corpus_free(&c);
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    o.text_columns = "title,body";
    o.label_column = "topic";
    CHECK_OK(parse(&c, "{\"title\":\"T\",\"body\":\"B\",\"topic\":\"x\"}", "j.jsonl", &o));
    CHECK(c.n == 1 && !strcmp(c.texts[0], "T\nB"));
    sn_text_corpus_free(&c);
    CHECK(fails_with("[1, 2]\n", "j.jsonl", NULL, "j.jsonl:1: expected a JSON object", "array"));
    CHECK(fails_with("{\"text\":\"a\",\"label\":1}\n{\"label\":2}\n", "j.jsonl", NULL, "j.jsonl:2: missing text field",
                     NULL));
    CHECK(fails_with("{\"text\":5,\"label\":1}\n", "j.jsonl", NULL, "j.jsonl:1", "expected a string"));
    CHECK(fails_with("{\"text\":\"a\",\"label\":null}\n", "j.jsonl", NULL, "j.jsonl:1: missing label", NULL));
    CHECK(fails_with("{\"text\":\"a\",\"label\":\"\"}\n", "j.jsonl", NULL, "j.jsonl:1: empty label", NULL));
    CHECK(fails_with("{\"text\":\"a\",\"label\":[\"x\"]}\n", "j.jsonl", NULL, "j.jsonl:1", "is an array"));
    CHECK(fails_with("{\"text\":\"a\",}\n", "j.jsonl", NULL, "j.jsonl: line 1", NULL));
    CHECK(fails_with("{\"text\":\"a\",\"label\":1}\n{\"text\":\"caf\xe9\",\"label\":2}\n", "j.jsonl", NULL,
                     "j.jsonl:2:13: invalid UTF-8 byte 0xE9", NULL));
}

TEST(corpus_multi_label_sets) {
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    o.label_delimiter = "|";
    sn_text_corpus c;
    CHECK_OK(parse(&c, "text,label\na,sport|news\nb,news\nc,\"art | | sport|art\"\n", "ml.csv", &o));
    CHECK(c.n == 3 && c.n_classes == 3 && c.label_sets);
    /* classes art, news, sport */
    const uint8_t want[9] = {0, 1, 1, 0, 1, 0, 1, 0, 1};
    CHECK(!memcmp(c.label_sets, want, 9));
    CHECK(c.labels[0] == 2 && c.labels[2] == 0); /* the first label met */
    sn_text_corpus_free(&c);
    CHECK_OK(parse(&c, "{\"text\":\"t\",\"label\":[\"b\",\"a\"]}\n", "ml.jsonl", &o));
    CHECK(c.n_classes == 2 && c.label_sets[0] == 1 && c.label_sets[1] == 1);
    sn_text_corpus_free(&c);
    CHECK(fails_with("text,label\na,| |\n", "ml.csv", &o, "ml.csv:2: empty label", NULL));
}

TEST(corpus_encodings) {
    /* "café €" in Windows-1252; 0x80 is U+0080 in Latin-1 */
    const char *csv = "text,label\ncaf\xe9 \x80,a\n";
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    CHECK(fails_with(csv, "e.csv", &o, "e.csv:2:4: invalid UTF-8 byte 0xE9", "--encoding"));
    o.encoding = SN_TEXT_ENC_CP1252;
    sn_text_corpus c;
    CHECK_OK(parse(&c, csv, "e.csv", &o));
    CHECK(!strcmp(c.texts[0], "caf\xc3\xa9 \xe2\x82\xac"));
    sn_text_corpus_free(&c);
    o.encoding = SN_TEXT_ENC_LATIN1;
    CHECK_OK(parse(&c, csv, "e.csv", &o));
    CHECK(!strcmp(c.texts[0], "caf\xc3\xa9 \xc2\x80"));
    sn_text_corpus_free(&c);
    /* a BOM is skipped; overlong and surrogate forms are invalid */
    CHECK_OK(parse(&c, "\xEF\xBB\xBFtext,label\nx,y\n", "b.csv", NULL));
    CHECK(c.n == 1);
    sn_text_corpus_free(&c);
    CHECK(fails_with("text,label\n\xc0\xaf,a\n", "o.csv", NULL, "o.csv:2:1: invalid UTF-8", NULL));
    CHECK(fails_with("text,label\n\xed\xa0\x80,a\n", "o.csv", NULL, "o.csv:2:1: invalid UTF-8", NULL));
    sn_text_encoding e;
    CHECK_OK(sn_text_encoding_parse("Windows-1252", &e));
    CHECK(e == SN_TEXT_ENC_CP1252);
    CHECK(sn_text_encoding_parse("ebcdic", &e) == SN_ERR_PARSE);
}

/* Class folders keep raw bytes (text_load.c); sn_text_corpus_decode then
 * validates or transcodes them, an error naming the document's file. The
 * fixture's Bees/z.txt is "zz\xff\xc3 bad utf8" (13 bytes). */
TEST(corpus_folder_texts_decoded_with_the_file_named) {
    sn_text_corpus c;
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), NULL));
    CHECK(sn_text_corpus_decode(&c, SN_TEXT_ENC_UTF8, "tree") == SN_ERR_FORMAT);
    CHECK_MSG(strstr(sn_error_last(), "tree: Bees/z.txt:1:3: invalid UTF-8 byte 0xFF"), "%s", sn_error_last());
    sn_text_corpus_free(&c);
    CHECK_OK(sn_text_load(&c, sn_test_path("text_tree"), NULL));
    CHECK_OK(sn_text_corpus_decode(&c, SN_TEXT_ENC_LATIN1, "tree"));
    /* 0xFF -> U+00FF, 0xC3 -> U+00C3, two bytes each; ASCII documents untouched */
    CHECK(c.lengths[1] == 15 && !strcmp(c.texts[1], "zz\xc3\xbf\xc3\x83 bad utf8"));
    CHECK(!strcmp(c.texts[0], "Bee one"));
    sn_text_corpus_free(&c);
}

TEST(corpus_fixed_classes_and_one_example_class) {
    const char *classes[] = {"neg", "pos"};
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    o.class_names = classes;
    o.n_class_names = 2;
    sn_text_corpus c;
    CHECK_OK(parse(&c, "text,label\na,pos\n", "f.csv", &o));
    CHECK(c.n_classes == 2 && c.labels[0] == 1);
    sn_text_corpus_free(&c);
    CHECK(fails_with("text,label\na,pos\nb,meh\n", "f.csv", &o, "f.csv:3: label \"meh\"", "2 training classes"));
    /* a class with one example is a class like any other */
    CHECK_OK(parse(&c, "text,label\na,x\nb,x\nc,lonely\n", "f.csv", NULL));
    CHECK(c.n_classes == 2 && !strcmp(c.class_names[0], "lonely") && c.labels[2] == 0);
    sn_text_corpus_free(&c);
    o.class_names = NULL;
    o.unlabelled = 1;
    CHECK_OK(parse(&c, "text\nonly text\n", "u.csv", &o));
    CHECK(c.n == 1 && c.n_classes == 0 && c.labels[0] == 0);
    sn_text_corpus_free(&c);
}

TEST(corpus_table_from_file_and_format_guess) {
    CHECK(sn_text_format_guess("a/b.CSV") == SN_TEXT_FORMAT_CSV);
    CHECK(sn_text_format_guess("b.tsv.gz") == SN_TEXT_FORMAT_TSV);
    CHECK(sn_text_format_guess("b.ndjson") == SN_TEXT_FORMAT_JSONL);
    CHECK(sn_text_format_guess("aclImdb_v1.tar.xz") == SN_TEXT_FORMAT_DIR);
    sn_text_format f;
    CHECK_OK(sn_text_format_parse("JSONL", &f));
    CHECK(f == SN_TEXT_FORMAT_JSONL);
    char path[512];
    snprintf(path, sizeof path, "%s/corpus_rt.txt", sn_test_tmpdir());
    FILE *fp = fopen(path, "wb");
    CHECK(fp);
    fputs("label\ttext\na\tone\nb\ttwo\n", fp);
    fclose(fp);
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    sn_text_corpus c;
    CHECK(sn_text_load_table(&c, path, &o) == SN_ERR_ARG); /* .txt: no format implied */
    o.format = SN_TEXT_FORMAT_TSV;
    CHECK_OK(sn_text_load_table(&c, path, &o));
    CHECK(c.n == 2 && !strcmp(c.texts[1], "two"));
    sn_text_corpus_free(&c);
    CHECK(sn_text_load_table(&c, "/nonexistent/x.csv", NULL) == SN_ERR_IO);
    remove(path);
    /* compressed files go through the stream reader: the format comes from the name under .gz */
    snprintf(path, sizeof path, "%s/corpus_rt.jsonl.gz", sn_test_tmpdir());
    gzFile gz = gzopen(path, "wb");
    CHECK(gz);
    gzputs(gz, "{\"text\": \"zipped\", \"label\": \"z\"}\n{\"text\": \"again\", \"label\": \"y\"}\n");
    gzclose(gz);
    CHECK_OK(sn_text_load_table(&c, path, NULL));
    CHECK(c.n == 2 && !strcmp(c.texts[0], "zipped") && c.labels[0] == 1 && strstr(c.paths[1], "corpus_rt.jsonl.gz:2"));
    sn_text_corpus_free(&c);
    remove(path);
}
