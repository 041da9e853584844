/* CSV reader: the Jena 10-minute format, a general ';' CSV with ISO dates,
 * gzip, column selection, missing values, time checks, malformed input, and
 * bit-exact number parsing against strtod. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "seqnn/data.h"
#include "test.h"

/* 2009-01-01 00:00:00 UTC */
#define T2009 1230768000LL

static const char *tmp_file(const char *name, const char *content, size_t len) {
    static char path[4][512];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, 512, "%s/%s", sn_test_tmpdir(), name);
    FILE *fp = fopen(p, "wb");
    if (!fp) return NULL;
    fwrite(content, 1, len, fp);
    fclose(fp);
    return p;
}
#define TMP(name, str) tmp_file(name, str, strlen(str))

static int has(const char *needle) {
    if (strstr(sn_error_last(), needle)) return 1;
    fprintf(stderr, "    message was: %s\n    expected to contain: %s\n", sn_error_last(), needle);
    return 0;
}

TEST(csv_reads_jena_10min_format) {
    sn_table t;
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_10min_head.csv"), NULL));
    CHECK(t.n_rows == 12);
    CHECK(t.n_cols == 14);
    CHECK(t.time && t.time_name && !strcmp(t.time_name, "Date Time"));
    CHECK(!strcmp(t.col_names[0], "p (mbar)"));
    CHECK(!strcmp(t.col_names[1], "T (degC)"));
    CHECK(!strcmp(t.col_names[13], "wd (deg)"));
    CHECK(t.time[0] == T2009 + 600);
    for (size_t i = 1; i < t.n_rows; i++) CHECK(t.time[i] - t.time[i - 1] == 600);
    CHECK(t.line[0] == 2 && t.line[11] == 13);
    /* exact: identical to strtod */
    CHECK(t.data[0 * 14 + 1] == strtod("-8.02", NULL));
    CHECK(t.data[0 * 14 + 10] == strtod("1307.75", NULL));
    CHECK(t.data[1 * 14 + 13] == strtod("136.10", NULL));
    char buf[32];
    CHECK(!strcmp(sn_time_format(t.time[0], buf, sizeof buf), "2009-01-01 00:10:00"));
    sn_time_report rep;
    CHECK_OK(sn_table_time_report(&t, &rep));
    CHECK(rep.median_step == 600 && rep.n_irregular == 0 && rep.n_duplicate == 0 && rep.n_backwards == 0);
    CHECK(strstr(t.path, "jena_10min_head.csv"));
    sn_table_free(&t);
    CHECK(t.data == NULL && t.n_rows == 0);
}

TEST(csv_gzip_equals_plain) {
    sn_table a, b;
    CHECK_OK(sn_csv_read(&a, sn_test_path("jena_10min_head.csv"), NULL));
    CHECK_OK(sn_csv_read(&b, sn_test_path("jena_10min_head.csv.gz"), NULL));
    CHECK(a.n_rows == b.n_rows && a.n_cols == b.n_cols);
    CHECK(!memcmp(a.data, b.data, a.n_rows * (size_t)a.n_cols * sizeof(double)));
    CHECK(!memcmp(a.time, b.time, a.n_rows * sizeof(int64_t)));
    sn_table_free(&b);
    /* zip (Keras ships the Jena data as .csv.zip) and xz, through libarchive. */
    const char *other[] = {"jena_10min_head.csv.zip", "jena_10min_head.csv.xz"};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(sn_csv_read(&b, sn_test_path(other[k]), NULL));
        CHECK(a.n_rows == b.n_rows && a.n_cols == b.n_cols);
        CHECK(!memcmp(a.data, b.data, a.n_rows * (size_t)a.n_cols * sizeof(double)));
        CHECK(!memcmp(a.time, b.time, a.n_rows * sizeof(int64_t)));
        sn_table_free(&b);
    }
    sn_table_free(&a);
    CHECK(sn_csv_read(&a, sn_test_path("jena_nocsv.zip"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_nocsv.zip: no .csv file in the archive"));
    /* A truncated gzip stream is an I/O error, not a crash or a short table. */
    FILE *fp = fopen(sn_test_path("jena_10min_head.csv.gz"), "rb");
    CHECK(fp);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    const char *p = tmp_file("trunc.csv.gz", buf, n / 2);
    sn_status st = sn_csv_read(&a, p, NULL);
    CHECK(st != SN_OK);
    CHECK(has("trunc.csv.gz"));
}

TEST(csv_general_semicolon_iso_dates) {
    sn_table t;
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_general_iso_semicolon.csv"), NULL));
    /* "station" is text: skipped; "timestamp" is the date column. */
    CHECK(t.n_cols == 2);
    CHECK(!strcmp(t.col_names[0], "temp") && !strcmp(t.col_names[1], "humidity"));
    CHECK(!strcmp(t.time_name, "timestamp"));
    CHECK(t.n_rows == 4); /* the blank line is skipped */
    int64_t t0 = 1717933200; /* 2024-06-09 11:40:00 UTC */
    CHECK(t.time[0] == t0 && t.time[1] == t0 + 600 && t.time[2] == t0 + 1200 && t.time[3] == t0 + 1800);
    CHECK(t.line[2] == 5 && t.line[3] == 6);
    CHECK(t.data[2 * 2 + 0] == 19.1);
    CHECK(t.data[3 * 2 + 0] == strtod("19.20", NULL)); /* spaces trimmed */
    CHECK(t.data[3 * 2 + 1] == strtod("50.25", NULL)); /* quoted number */
    sn_table_free(&t);
    /* Given delimiter and date column; tab-separated auto-detected. */
    const char *p = TMP("tab.tsv", "when\tx\ty\n2020-02-29 23:59:59\t1\t2\n2020-03-01\t3\t4\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.n_cols == 2 && t.n_rows == 2 && t.time == NULL); /* "when" is not a date name */
    sn_table_free(&t);
    sn_csv_opts o = {0};
    o.date_column = "when";
    CHECK_OK(sn_csv_read(&t, p, &o));
    CHECK(t.time && t.time[1] - t.time[0] == 1);
    sn_table_free(&t);
}

TEST(csv_date_formats) {
    sn_table t;
    sn_csv_opts o = {0};
    /* ISO with offsets: converted to UTC. */
    const char *p = TMP("iso.csv", "date,v\n2024-01-01T01:00:00+01:00,1\n2024-01-01T00:30:00Z,2\n"
                                   "2024-01-01T00:00:00-01:00,3\n2024-01-01T01:00:01.750,4\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.time[0] == 1704067200 && t.time[1] == 1704067200 + 1800 && t.time[2] == 1704067200 + 3600 &&
          t.time[3] == 1704067200 + 3601);
    sn_table_free(&t);
    /* Unix seconds. */
    p = TMP("unix.csv", "timestamp,v\n1717933200,1\n1717933800,2\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.time[1] == 1717933800);
    sn_table_free(&t);
    /* Month-first: refused unless asked. */
    p = TMP("mdy.csv", "Date,v\n06/09/2024 11:40,1\n06/10/2024,2\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT);
    CHECK(has("mdy.csv:2:1:") && has("SN_DATE_MDY"));
    o.date_format = SN_DATE_MDY;
    CHECK_OK(sn_csv_read(&t, p, &o));
    CHECK(t.time[0] == 1717933200 && t.time[1] == 1717977600);
    sn_table_free(&t);
    /* A row in another format than the first: error names line and format. */
    p = TMP("mixed.csv", "Date Time,v\n01.01.2009 00:10:00,1\n2009-01-01 00:20:00,2\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT);
    CHECK(has("mixed.csv:3:1: cannot parse \"2009-01-01 00:20:00\" as a date (dd.mm.yyyy HH:MM:SS)"));
    /* Invalid calendar dates. */
    p = TMP("feb30.csv", "date,v\n2023-02-28,1\n2023-02-29,2\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT);
    CHECK(has("feb30.csv:3:1:"));
    /* A date column named but absent. */
    o.date_format = SN_DATE_AUTO;
    o.date_column = "Zeit";
    CHECK(sn_csv_read(&t, sn_test_path("jena_10min_head.csv"), &o) == SN_ERR_FORMAT);
    CHECK(has("\"Zeit\"") && has("\"T (degC)\""));
    /* "" = no date column: the Jena date column is then text and skipped. */
    o.date_column = "";
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_10min_head.csv"), &o));
    CHECK(t.time == NULL && t.n_cols == 14);
    sn_table_free(&t);
}

TEST(csv_column_selection) {
    sn_table t, s;
    sn_csv_opts o = {0};
    const char *cols[] = {"T", "p (mbar)", "wd (DEG)"};
    o.columns = cols;
    o.n_columns = 3;
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_10min_head.csv"), &o));
    CHECK(t.n_cols == 3);
    CHECK(!strcmp(t.col_names[0], "T (degC)") && !strcmp(t.col_names[1], "p (mbar)") &&
          !strcmp(t.col_names[2], "wd (deg)"));
    CHECK(t.data[0] == strtod("-8.02", NULL) && t.data[1] == strtod("996.52", NULL));
    sn_table_free(&t);
    const char *bad[] = {"temperature"};
    o.columns = bad;
    o.n_columns = 1;
    CHECK(sn_csv_read(&t, sn_test_path("jena_10min_head.csv"), &o) == SN_ERR_FORMAT);
    CHECK(has("no column named \"temperature\"") && has("\"Tpot (K)\""));
    /* sn_table_select / sn_table_col_index on a loaded table. */
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_10min_head.csv"), NULL));
    int j = -1;
    CHECK_OK(sn_table_col_index(&t, "t (degc)", &j));
    CHECK(j == 1);
    CHECK_OK(sn_table_col_index(&t, "Tdew", &j));
    CHECK(j == 3);
    CHECK(sn_table_col_index(&t, "max", &j) == SN_ERR_ARG);
    const char *sel[] = {"rho", "T"};
    CHECK_OK(sn_table_select(&s, &t, sel, 2));
    CHECK(s.n_cols == 2 && s.n_rows == 12 && !strcmp(s.col_names[0], "rho (g/m**3)"));
    for (size_t i = 0; i < 12; i++) CHECK(s.data[i * 2] == t.data[i * 14 + 10] && s.data[i * 2 + 1] == t.data[i * 14 + 1]);
    CHECK(s.time[5] == t.time[5]);
    float col[12];
    CHECK_OK(sn_table_column_f32(&s, 1, col));
    CHECK(col[0] == -8.02f);
    CHECK(sn_table_column_f32(&s, 2, col) == SN_ERR_ARG);
    sn_table_free(&s);
    sn_table_free(&t);
    /* Ambiguous short name. */
    const char *p = TMP("amb.csv", "a (x),A (y)\n1,2\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(sn_table_col_index(&t, "a", &j) == SN_ERR_ARG);
    CHECK(has("ambiguous"));
    sn_table_free(&t);
}

TEST(csv_malformed_inputs_are_reported) {
    sn_table t;
    CHECK(sn_csv_read(&t, sn_test_path("jena_bad_number.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_bad_number.csv:3:28: cannot parse \"-8.4x1\" as a number in column \"T (degC)\""));
    CHECK(t.data == NULL && t.n_rows == 0);
    CHECK(sn_csv_read(&t, sn_test_path("jena_bad_fields.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_bad_fields.csv:3: expected 4 fields (as in the header), found 3"));
    CHECK(sn_csv_read(&t, sn_test_path("jena_empty.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_empty.csv: file is empty"));
    CHECK(sn_csv_read(&t, sn_test_path("jena_header_only.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_header_only.csv: header only, no data rows"));
    CHECK(sn_csv_read(&t, "/nonexistent/x.csv", NULL) == SN_ERR_IO);
    CHECK(has("/nonexistent/x.csv: cannot open"));
    /* Non-UTF-8 bytes in a numeric field: shown escaped. */
    const char *p = TMP("latin1.csv", "a,b\n1,2\n3,\xff\xfe" "4\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT);
    CHECK(has("latin1.csv:3:3: cannot parse \"\\xFF\\xFE4\" as a number in column \"b\""));
    /* Too many fields, unterminated quote, inf / hex / nan-like words. */
    p = TMP("many.csv", "a,b\n1,2,3\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("many.csv:2: expected 2 fields (as in the header), found 3"));
    p = TMP("quote.csv", "a,b\n1,\"2\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("quote.csv:2:3: unterminated"));
    p = TMP("inf.csv", "a,b\n1,2\n1,inf\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("inf.csv:3:3: \"inf\" is not a finite number"));
    p = TMP("hex.csv", "a,b\n1,2\n1,0x10\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("hex.csv:3:3:"));
    p = TMP("huge.csv", "a,b\n1,2\n1,1e999\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("huge.csv:3:3: \"1e999\" is out of range"));
    p = TMP("comma.csv", "a;b\n1,5;2\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("comma.csv:2:1: cannot parse \"1,5\" as a number in column \"a\" (decimal commas are not supported)"));
    /* An unnamed header field (pandas index) gets a name. */
    p = TMP("unnamed.csv", ",x\n0,5\n1,6\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.n_cols == 2 && !strcmp(t.col_names[0], "column 1"));
    sn_table_free(&t);
    p = TMP("text_only.csv", "a,b\nx,y\n");
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("no numeric column"));
    /* A line over 1 MiB. */
    size_t big = (1u << 20) + 100;
    char *s = malloc(big + 16);
    CHECK(s);
    memcpy(s, "a\n", 2);
    memset(s + 2, '1', big);
    memcpy(s + 2 + big, "\n", 1);
    p = tmp_file("long.csv", s, big + 3);
    free(s);
    CHECK(sn_csv_read(&t, p, NULL) == SN_ERR_FORMAT && has("long.csv:2: line longer than"));
}

TEST(csv_missing_values_and_ffill) {
    sn_table t;
    CHECK(sn_csv_read(&t, sn_test_path("jena_missing.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_missing.csv:3:28: missing value \"\" in column \"T (degC)\""));
    sn_csv_opts o = {0};
    o.missing = SN_MISSING_FFILL;
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_missing.csv"), &o));
    CHECK(t.n_rows == 4);
    CHECK(t.data[1 * 3 + 1] == strtod("-8.02", NULL)); /* empty -> previous */
    CHECK(t.data[2 * 3 + 1] == strtod("-8.02", NULL)); /* NaN -> previous (filled) */
    CHECK(t.data[3 * 3 + 1] == strtod("-8.31", NULL));
    CHECK(t.data[1 * 3 + 2] == strtod("265.01", NULL));
    sn_table_free(&t);
    /* First row missing: still an error. */
    const char *p = TMP("first_missing.csv", "a,b\n1,nan\n2,3\n");
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_FORMAT);
    CHECK(has("first_missing.csv:2:3:") && has("first data row"));
    /* -9999 is a number by default, missing with use_sentinel. */
    p = TMP("sentinel.csv", "a,wv\n1,2.5\n2,-9999\n3,-9999.00\n4,1\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.data[3] == -9999.0);
    sn_table_free(&t);
    o.use_sentinel = 1;
    o.sentinel = -9999;
    CHECK_OK(sn_csv_read(&t, p, &o));
    CHECK(t.data[3] == 2.5 && t.data[5] == 2.5 && t.data[7] == 1.0);
    sn_table_free(&t);
}

TEST(csv_duplicate_and_backwards_times) {
    sn_table t;
    CHECK(sn_csv_read(&t, sn_test_path("jena_duplicate_time.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_duplicate_time.csv:4:1: timestamp 2009-01-01 00:20:00 duplicates line 3"));
    CHECK(sn_csv_read(&t, sn_test_path("jena_backwards_time.csv"), NULL) == SN_ERR_FORMAT);
    CHECK(has("jena_backwards_time.csv:4:1: timestamp 2009-01-01 00:20:00 goes back before line 3"));
    sn_csv_opts o = {0};
    o.allow_unsorted_time = 1;
    sn_time_report rep;
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_duplicate_time.csv"), &o));
    CHECK(t.n_rows == 3);
    CHECK_OK(sn_table_time_report(&t, &rep));
    CHECK(rep.n_steps == 2 && rep.n_duplicate == 1 && rep.first_duplicate_line == 4 && rep.n_backwards == 0);
    sn_table_free(&t);
    CHECK_OK(sn_csv_read(&t, sn_test_path("jena_backwards_time.csv"), &o));
    CHECK_OK(sn_table_time_report(&t, &rep));
    CHECK(rep.n_backwards == 1 && rep.first_backwards_line == 4 && rep.min_step == -600 && rep.max_step == 1200);
    sn_table_free(&t);
    /* A table without time. */
    const char *p = TMP("notime.csv", "a\n1\n2\n");
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(sn_table_time_report(&t, &rep) == SN_ERR_ARG);
    sn_table_free(&t);
}

/* Random numbers in many spellings; every parsed value must equal strtod's bit for bit. */
TEST(csv_numbers_match_strtod_exactly) {
    sn_rng r;
    sn_rng_seed(&r, 7);
    const int n = 3000;
    size_t cap = (size_t)n * 64 + 16, o = 0;
    char *buf = malloc(cap);
    char (*txt)[48] = malloc((size_t)n * sizeof *txt);
    CHECK(buf && txt);
    o += (size_t)snprintf(buf, cap, "x\n");
    for (int i = 0; i < n; i++) {
        double v = (sn_rng_double(&r) - 0.5) * pow(10.0, (double)(int)sn_rng_below(&r, 30) - 10);
        switch (i % 6) {
        case 0: snprintf(txt[i], 48, "%.2f", v); break;
        case 1: snprintf(txt[i], 48, "%.17g", v); break;
        case 2: snprintf(txt[i], 48, "%.6e", v); break;
        case 3: snprintf(txt[i], 48, "%.25f", v); break;
        case 4: snprintf(txt[i], 48, "%lld", (long long)(sn_rng_u64(&r) >> (i % 40))); break;
        default: snprintf(txt[i], 48, "+%.3fE+%d", fabs(v), (int)sn_rng_below(&r, 25)); break;
        }
        o += (size_t)snprintf(buf + o, cap - o, "%s\n", txt[i]);
    }
    const char *p = tmp_file("numbers.csv", buf, o);
    sn_table t;
    sn_status st = sn_csv_read(&t, p, NULL);
    free(buf);
    if (st != SN_OK) free(txt);
    CHECK_OK(st);
    int bad = -1;
    for (int i = 0; i < n && bad < 0; i++) {
        double ref = strtod(txt[i], NULL);
        if (memcmp(&ref, &t.data[i], sizeof ref)) bad = i;
    }
    if (bad >= 0) fprintf(stderr, "    \"%s\": %.17g vs strtod %.17g\n", txt[bad], t.data[bad], strtod(txt[bad], NULL));
    free(txt);
    sn_table_free(&t);
    CHECK(bad < 0);
}

TEST(csv_bundled_hourly_file) {
    const char *p = "data/jena_climate_2009_2016_PARTIAL_6cols_hourly.csv.gz";
    FILE *fp = fopen(p, "rb");
    if (!fp) SKIP("data/jena_climate_2009_2016_PARTIAL_6cols_hourly.csv.gz absent (run from the repository root)");
    fclose(fp);
    sn_table t;
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.n_rows == 70038 && t.n_cols == 6);
    sn_time_report rep;
    CHECK_OK(sn_table_time_report(&t, &rep));
    /* Provenance: 70,032 steps of 60 min; 70 min x2, 80, 1010 and 4510 min. */
    CHECK(rep.median_step == 3600 && rep.n_irregular == 5 && rep.n_duplicate == 0 && rep.n_backwards == 0);
    CHECK(rep.max_step == 4510 * 60 && rep.min_step == 3600);
    sn_table_free(&t);
}

TEST(csv_shared_2024_extract) {
    const char *p = sn_test_shared_data("jena_roof_20240609-20241020_SUBSTITUTE.csv.gz");
    if (!p) SKIP("../shared/data/jena_roof_20240609-20241020_SUBSTITUTE.csv.gz absent");
    sn_table t;
    CHECK_OK(sn_csv_read(&t, p, NULL));
    CHECK(t.n_rows == 19132 && t.n_cols == 14);
    sn_time_report rep;
    CHECK_OK(sn_table_time_report(&t, &rep));
    CHECK(rep.median_step == 600 && rep.n_irregular == 0 && rep.n_duplicate == 0 && rep.n_backwards == 0);
    char buf[32];
    CHECK(!strcmp(sn_time_format(t.time[0], buf, sizeof buf), "2024-06-09 11:40:00"));
    CHECK(!strcmp(sn_time_format(t.time[t.n_rows - 1], buf, sizeof buf), "2024-10-20 08:10:00"));
    sn_table_free(&t);
}

/* Random byte-level mutations of both fixture formats: every outcome is a
 * table or an error with a message; never a crash (run under `make asan`). */
TEST(csv_survives_random_mutations) {
    static const char *src[2] = {"jena_10min_head.csv", "jena_general_iso_semicolon.csv"};
    char base[2][2048];
    size_t blen[2];
    for (int k = 0; k < 2; k++) {
        FILE *fp = fopen(sn_test_path(src[k]), "rb");
        CHECK(fp);
        blen[k] = fread(base[k], 1, sizeof base[k], fp);
        fclose(fp);
    }
    static const char alphabet[] = ",;\t\"\n\r .-+eE0123456789nNaA:/T\xff";
    sn_rng r;
    sn_rng_seed(&r, 2024);
    char buf[4096];
    int n_ok = 0, n_err = 0;
    for (int it = 0; it < 300; it++) {
        size_t len = blen[it & 1];
        memcpy(buf, base[it & 1], len);
        int muts = 1 + (int)sn_rng_below(&r, 6);
        for (int m = 0; m < muts && len > 0; m++) {
            size_t pos = (size_t)sn_rng_below(&r, len);
            char c = alphabet[sn_rng_below(&r, sizeof alphabet - 1)];
            switch (sn_rng_below(&r, 4)) {
            case 0: buf[pos] = c; break;
            case 1: memmove(buf + pos + 1, buf + pos, len - pos); buf[pos] = c; len++; break;
            case 2: memmove(buf + pos, buf + pos + 1, len - pos - 1); len--; break;
            default: len = pos; break;
            }
        }
        const char *p = tmp_file("mutant.csv", buf, len);
        sn_csv_opts o = {0};
        o.missing = (it >> 1) & 1 ? SN_MISSING_FFILL : SN_MISSING_ERROR;
        o.allow_unsorted_time = (it >> 2) & 1;
        sn_table t;
        sn_status st = sn_csv_read(&t, p, &o);
        if (st == SN_OK) {
            CHECK(t.n_rows > 0 && t.n_cols > 0 && t.data && t.col_names);
            for (size_t i = 0; i < t.n_rows * (size_t)t.n_cols; i++) CHECK(isfinite(t.data[i]));
            n_ok++;
            sn_table_free(&t);
        } else {
            CHECK_MSG(strstr(sn_error_last(), "mutant.csv") != NULL, "status %d without the path: %s", st,
                      sn_error_last());
            CHECK(t.data == NULL && t.n_rows == 0);
            n_err++;
        }
    }
    CHECK(n_ok > 10 && n_err > 100);
}

/* Files larger than the reader's 4 MiB window: lines straddle refills, a
 * line of almost 1 MiB (allowed) crosses a boundary, plain and gzip agree,
 * a UTF-8 BOM before the header is skipped. */
TEST(csv_streams_large_files_across_buffer_refills) {
    char path[512], gzpath[512];
    snprintf(path, sizeof path, "%s/big.csv", sn_test_tmpdir());
    snprintf(gzpath, sizeof gzpath, "%s/big.csv.gz", sn_test_tmpdir());
    FILE *fp = fopen(path, "wb");
    gzFile gz = gzopen(gzpath, "wb1");
    CHECK(fp && gz);
    const size_t rows = 300000, wide = 200000; /* row `wide` carries ~1 MiB of padding */
    const char *hdr = "\xEF\xBB\xBF" "timestamp,a,b\n";
    fputs(hdr, fp);
    gzputs(gz, hdr);
    char line[64];
    size_t line_pad = (1u << 20) - 64;
    char *pad = malloc(line_pad + 1);
    CHECK(pad);
    memset(pad, ' ', line_pad);
    pad[line_pad] = 0;
    for (size_t i = 0; i < rows; i++) {
        snprintf(line, sizeof line, "%zu,%zu.%02zu,%s%zu", 1000000 + i * 60, i, i % 100, i % 7 ? "" : "-", i * 3);
        fputs(line, fp);
        gzputs(gz, line);
        if (i == wide) { /* trailing spaces are trimmed from the field */
            fputs(pad, fp);
            gzputs(gz, pad);
        }
        fputc('\n', fp);
        gzputc(gz, '\n');
    }
    free(pad);
    fclose(fp);
    gzclose(gz);
    const char *paths[2] = {path, gzpath};
    for (int k = 0; k < 2; k++) {
        sn_table t;
        CHECK_OK(sn_csv_read(&t, paths[k], NULL));
        CHECK(t.n_rows == rows && t.n_cols == 2 && t.time && !strcmp(t.col_names[0], "a"));
        int bad = 0;
        for (size_t i = 0; i < rows && !bad; i++) {
            char ref[32];
            snprintf(ref, sizeof ref, "%zu.%02zu", i, i % 100);
            double b = (double)(i * 3) * (i % 7 ? 1 : -1);
            bad = t.time[i] != (int64_t)(1000000 + i * 60) || t.data[2 * i] != strtod(ref, NULL) ||
                  t.data[2 * i + 1] != b || t.line[i] != i + 2;
            if (bad) fprintf(stderr, "    row %zu differs (%s)\n", i, paths[k]);
        }
        sn_table_free(&t);
        CHECK(!bad);
    }
}

TEST(csv_infinite_values_are_refused_not_taken_for_text) {
    char path[512];
    snprintf(path, sizeof path, "%s/inf.csv", sn_test_tmpdir());
    FILE *fp = fopen(path, "w");
    CHECK(fp);
    fputs("\"Date Time\",\"p (mbar)\",\"T (degC)\"\n01.01.2009 00:10:00,996.52,-Infinity\n01.01.2009 00:20:00,996.5,1\n", fp);
    fclose(fp);
    sn_table t;
    CHECK(sn_csv_read(&t, path, NULL) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "inf.csv:2:") && strstr(sn_error_last(), "\"-Infinity\" is not a finite number") &&
          strstr(sn_error_last(), "T (degC)"));
}
