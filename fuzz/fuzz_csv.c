/* libFuzzer: the CSV reader on arbitrary bytes (plain text, and through the
 * stream reader gzip / xz / zip: the corpus seeds each). */
#include "fuzz_common.h"
#include "seqnn.h"
#include "seqnn/data.h"
#include <string.h>

/* A file the full reader takes (missing values refused) must give the same
 * rows through the index read and a partial read of two ranges picked from
 * the input's size (the reading of one rank's share under MPI). */
static void check_partial(const char *p, const sn_csv_opts *o0, const sn_table *full, size_t size) {
    if (o0->missing != SN_MISSING_ERROR || full->n_rows == 0) return;
    sn_csv_opts o = *o0;
    sn_table ix, part;
    o.index_only = 1;
    if (sn_csv_read(&ix, p, &o) != SN_OK || ix.n_rows != full->n_rows || ix.data) abort();
    size_t n = full->n_rows, a = size % n, b = a + 1 + size / 7 % (n - a), r[4] = {a, b, 0, 0};
    int nk = 1;
    if (b + 1 < n) r[2] = b + 1, r[3] = n, nk = 2;
    o.index_only = 0;
    o.keep = r, o.n_keep = nk;
    o.keep_series_start = ix.series_start, o.keep_n_series = ix.n_series;
    if (sn_csv_read(&part, p, &o) != SN_OK) abort();
    size_t j = 0;
    for (int k = 0; k < nk; k++)
        for (size_t g = r[2 * k]; g < r[2 * k + 1]; g++, j++)
            if (j >= part.n_rows || part.row[j] != g || part.line[j] != full->line[g] ||
                memcmp(part.data + j * (size_t)full->n_cols, full->data + g * (size_t)full->n_cols,
                       (size_t)full->n_cols * sizeof(double)))
                abort();
    if (j != part.n_rows) abort();
    sn_table_free(&part);
    sn_table_free(&ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = fuzz_write_tmp(data, size, ".csv");
    sn_table t;
    sn_csv_opts o = {0};
    o.missing = size % 2 ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    if (sn_csv_read(&t, p, &o) == SN_OK) {
        sn_time_report r;
        if (t.time) sn_table_time_report(&t, &r);
        check_partial(p, &o, &t, size);
        sn_table_free(&t);
    }
    /* series ids: the second header field as the id column (a forecasting --id-column) */
    o.id_column = size % 3 ? "id" : "store";
    if (sn_csv_read(&t, p, &o) == SN_OK) {
        sn_time_report r;
        if (t.time) sn_table_time_report(&t, &r);
        for (int i = 0; i < t.n_series; i++)
            if (t.series_start[i] > t.series_start[i + 1]) abort();
        check_partial(p, &o, &t, size);
        sn_table_free(&t);
    }
    return 0;
}
