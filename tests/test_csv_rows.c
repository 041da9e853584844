/* Partial CSV reads (sn_csv_opts.index_only / .keep, the reading of one
 * rank's share under MPI): the rows a range read returns equal the full
 * reader's rows for random ranges, with and without series ids; errors in
 * rows it reads still name file:line:column, rows it skips are not parsed,
 * and the index read checks what it reads (dates, field counts) on every row. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqnn/data.h"
#include "test.h"

#define SN_MAXZ(a, b) ((a) > (b) ? (a) : (b))
#define SN_MINZ(a, b) ((a) < (b) ? (a) : (b))

static uint64_t g_rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    g_rs ^= g_rs << 13, g_rs ^= g_rs >> 7, g_rs ^= g_rs << 17;
    return g_rs;
}

/* A CSV of n rows (10-minute steps) with a text column, quoted fields and
 * blank lines; with ns > 1 an id column whose series interleave at random
 * (each series' times still increase). */
static const char *write_csv(const char *name, size_t n, int ns) {
    static char path[2][512];
    static int k;
    char *p = path[k++ & 1];
    snprintf(p, 512, "%s/%s", sn_test_tmpdir(), name);
    FILE *fp = fopen(p, "w");
    if (!fp) return NULL;
    fprintf(fp, "%s\"Date Time\",\"a (x)\",note,b\n", ns > 1 ? "id," : "");
    int64_t t0 = 1230768000LL;
    size_t cnt[8] = {0};
    for (size_t i = 0; i < n; i++) {
        int s = ns > 1 ? (int)(rnd() % (uint64_t)ns) : 0;
        size_t j = cnt[s]++;
        int64_t tv = t0 + (int64_t)j * 600;
        int64_t day = tv / 86400 - 14245, sec = tv % 86400; /* days since 2009-01-01: < 31 here */
        if (ns > 1) fprintf(fp, "\"s%d\",", s);
        fprintf(fp, "%02d.01.2009 %02d:%02d:00,%.3f,\"w %zu\",%lld\n", (int)day + 1, (int)(sec / 3600),
                (int)(sec / 60 % 60), (double)(int64_t)(rnd() % 2000000) / 1000.0 - 1000.0, i, (long long)(rnd() % 997));
        if (i % 97 == 5) fputs("  \n", fp);
    }
    fclose(fp);
    return p;
}

/* Random ascending disjoint ranges of [0, n) into r (pairs); returns their number. */
static int random_ranges(size_t n, size_t *r, int max) {
    int k = 1 + (int)(rnd() % (uint64_t)max);
    size_t cut[16];
    for (int i = 0; i < 2 * k; i++) cut[i] = rnd() % (n + 1);
    for (int i = 1; i < 2 * k; i++) /* insertion sort */
        for (int j = i; j > 0 && cut[j] < cut[j - 1]; j--) {
            size_t t = cut[j];
            cut[j] = cut[j - 1], cut[j - 1] = t;
        }
    int m = 0;
    for (int i = 0; i < k; i++) {
        size_t b = cut[2 * i], e = cut[2 * i + 1];
        if (e <= b || (m && b < r[2 * m - 1])) continue;
        if (m && b == r[2 * m - 1]) { /* touching: merge */
            r[2 * m - 1] = e;
            continue;
        }
        r[2 * m] = b, r[2 * m + 1] = e, m++;
    }
    if (!m) r[0] = n / 3, r[1] = n / 3 + 1, m = 1;
    return m;
}

/* Rows of the partial table p equal the full table's rows they name. */
static int same_rows(const sn_table *full, const sn_table *p, const size_t *r, int nr) {
    size_t want = 0;
    for (int i = 0; i < nr; i++) want += r[2 * i + 1] - r[2 * i];
    if (p->n_rows != want || p->n_total != full->n_rows || p->n_cols != full->n_cols || !p->row) return 0;
    size_t j = 0;
    for (int i = 0; i < nr; i++)
        for (size_t g = r[2 * i]; g < r[2 * i + 1]; g++, j++) {
            if (p->row[j] != g || p->line[j] != full->line[g] || p->time[j] != full->time[g]) return 0;
            if (memcmp(p->data + j * (size_t)p->n_cols, full->data + g * (size_t)full->n_cols,
                       (size_t)full->n_cols * sizeof(double)))
                return 0;
        }
    return 1;
}

static int check_ranges(const char *path, int ns) {
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    o.id_column = ns > 1 ? "id" : NULL;
    sn_table full, ix;
    if (sn_csv_read(&full, path, &o)) return 0;
    o.index_only = 1;
    if (sn_csv_read(&ix, path, &o)) return 0;
    int ok = ix.n_rows == full.n_rows && !ix.data && ix.n_cols == full.n_cols && ix.n_series == full.n_series;
    for (size_t i = 0; ok && i < full.n_rows; i++) ok = ix.time[i] == full.time[i] && ix.line[i] == full.line[i];
    for (int c = 0; ok && c < full.n_cols; c++) ok = !strcmp(ix.col_names[c], full.col_names[c]);
    for (int s = 0; ok && ns > 1 && s <= full.n_series; s++) ok = ix.series_start[s] == full.series_start[s];
    o.index_only = 0;
    o.keep_series_start = ix.series_start;
    o.keep_n_series = ix.n_series;
    for (int trial = 0; ok && trial < 25; trial++) {
        size_t r[16];
        o.n_keep = random_ranges(full.n_rows, r, 4);
        o.keep = r;
        sn_table p;
        if (sn_csv_read(&p, path, &o)) {
            fprintf(stderr, "    partial read: %s\n", sn_error_last());
            ok = 0;
            break;
        }
        ok = same_rows(&full, &p, r, o.n_keep);
        for (int s = 0; ok && ns > 1 && s < full.n_series; s++) {
            /* the rows held of series s: those of its rows in the ranges */
            size_t h = 0;
            for (int i = 0; i < o.n_keep; i++) {
                size_t b = SN_MAXZ(r[2 * i], full.series_start[s]), e = SN_MINZ(r[2 * i + 1], full.series_start[s + 1]);
                h += e > b ? e - b : 0;
            }
            ok = p.series_start[s + 1] - p.series_start[s] == h && !strcmp(p.series_names[s], full.series_names[s]);
        }
        if (!ok) fprintf(stderr, "    trial %d (%d ranges from [%zu, %zu)) differs\n", trial, o.n_keep, r[0], r[1]);
        sn_table_free(&p);
    }
    sn_table_free(&full);
    sn_table_free(&ix);
    return ok;
}

TEST(csv_rows_equal_the_full_read) {
    const char *p = write_csv("rows1.csv", 3000, 1);
    CHECK(p);
    CHECK(check_ranges(p, 1));
}

TEST(csv_rows_equal_the_full_read_with_series_ids) {
    const char *p = write_csv("rows3.csv", 3000, 3);
    CHECK(p);
    CHECK(check_ranges(p, 3));
}

static const char *write_text(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", sn_test_tmpdir(), name);
    FILE *fp = fopen(path, "w");
    if (!fp) return NULL;
    fputs(text, fp);
    fclose(fp);
    return path;
}

static int has(const char *needle) {
    if (strstr(sn_error_last(), needle)) return 1;
    fprintf(stderr, "    message was: %s\n    expected to contain: %s\n", sn_error_last(), needle);
    return 0;
}

TEST(csv_rows_errors_where_they_are_read) {
    /* line 4 (row 2) has a bad value, line 6 (row 4) a field too few */
    const char *p = write_text("rows_bad.csv", "Date Time,a,b\n"
                                               "01.01.2009 00:00:00,1,2\n"
                                               "01.01.2009 00:10:00,3,4\n"
                                               "01.01.2009 00:20:00,5,x7\n"
                                               "01.01.2009 00:30:00,7,8\n"
                                               "01.01.2009 00:40:00,9\n"
                                               "01.01.2009 00:50:00,11,12\n");
    CHECK(p);
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    sn_table t;
    size_t r1[2] = {1, 3}; /* rows 1..2: the bad value */
    o.keep = r1, o.n_keep = 1;
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_FORMAT);
    CHECK(has("rows_bad.csv:4:23:") && has("\"x7\"") && has("column \"b\""));
    size_t r2[2] = {4, 6}; /* rows 4..5: the short line */
    o.keep = r2;
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_FORMAT);
    CHECK(has("rows_bad.csv:6: expected 3 fields"));
    size_t r3[4] = {0, 2, 3, 4}; /* around both: read, unparsed rows skipped */
    o.keep = r3, o.n_keep = 2;
    CHECK_OK(sn_csv_read(&t, p, &o));
    CHECK(t.n_rows == 3 && t.n_total == 6 && t.row[2] == 3 && t.data[4] == 7 && t.line[2] == 5);
    sn_table_free(&t);
    /* the index read checks field counts (not values) on every row */
    memset(&o, 0, sizeof o);
    o.index_only = 1;
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_FORMAT);
    CHECK(has("rows_bad.csv:6: expected 3 fields"));
    /* and the dates and their order */
    p = write_text("rows_bad2.csv", "Date Time,a\n01.01.2009 00:00:00,1\n01.01.2009 00:10:00,2\n01.01.2009 00:05:00,3\n"
                                    "01.01.2009 00:30:00,4\n");
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_FORMAT);
    CHECK(has("rows_bad2.csv:4:1:") && has("goes back"));
    memset(&o, 0, sizeof o);
    size_t r4[2] = {3, 4};
    o.keep = r4, o.n_keep = 1;
    CHECK_OK(sn_csv_read(&t, p, &o)); /* the order is the index read's to check */
    CHECK(t.n_rows == 1 && t.row[0] == 3 && t.data[0] == 4);
    sn_table_free(&t);
    p = write_text("rows_bad3.csv", "Date Time,a\n01.01.2009 00:00:00,1\n01.13.2009 00:10:00,2\n");
    memset(&o, 0, sizeof o);
    o.index_only = 1;
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_FORMAT);
    CHECK(has("rows_bad3.csv:3:1:"));
}

TEST(csv_rows_bad_requests_are_refused) {
    const char *p = write_text("rows_ok.csv", "Date Time,a\n01.01.2009 00:00:00,1\n01.01.2009 00:10:00,2\n");
    CHECK(p);
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    sn_table t;
    size_t r[4] = {1, 2, 0, 1};
    o.keep = r, o.n_keep = 2; /* not ascending */
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_ARG);
    o.n_keep = 1;
    o.missing = SN_MISSING_FFILL;
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_ARG && has("forward-fill"));
    o.missing = SN_MISSING_ERROR;
    o.id_column = "a";
    CHECK(sn_csv_read(&t, p, &o) == SN_ERR_ARG && has("keep_series_start"));
    o.id_column = NULL;
    size_t far[2] = {5, 9}; /* beyond the file: nothing kept, not an error */
    o.keep = far;
    CHECK_OK(sn_csv_read(&t, p, &o));
    CHECK(t.n_rows == 0 && t.n_total == 2 && t.n_cols == 1);
    sn_table_free(&t);
}

/* Fewer rows kept than the file has series (fuzz find: the regrouping's
 * per-series cursor was sized by rows; an overflow that make asan shows). */
TEST(csv_rows_keep_fewer_rows_than_series) {
    const char *p = write_text("rows_few.csv", "id,Date Time,v\na,1000,1\nb,1000,2\nc,1000,3\na,2000,4\nb,2000,5\n");
    CHECK(p);
    sn_csv_opts o;
    memset(&o, 0, sizeof o);
    o.id_column = "id";
    o.index_only = 1;
    sn_table ix, t;
    CHECK_OK(sn_csv_read(&ix, p, &o));
    CHECK(ix.n_series == 3 && ix.series_start[1] == 2 && ix.series_start[2] == 4);
    o.index_only = 0;
    o.keep_series_start = ix.series_start, o.keep_n_series = ix.n_series;
    size_t r[2] = {3, 4}; /* table row 3: series b's second row, line 6 */
    o.keep = r, o.n_keep = 1;
    CHECK_OK(sn_csv_read(&t, p, &o));
    CHECK(t.n_rows == 1 && t.row[0] == 3 && t.data[0] == 5 && t.line[0] == 6 && t.n_series == 3 &&
          t.series_start[1] == 0 && t.series_start[2] == 1 && t.series_start[3] == 1);
    sn_table_free(&t);
    sn_table_free(&ix);
}
