/* libFuzzer: the CSV reader on arbitrary bytes (plain text, and through the
 * stream reader gzip / xz / zip: the corpus seeds each). */
#include "fuzz_common.h"
#include "seqnn.h"
#include "seqnn/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = fuzz_write_tmp(data, size, ".csv");
    sn_table t;
    sn_csv_opts o = {0};
    o.missing = size % 2 ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    if (sn_csv_read(&t, p, &o) == SN_OK) {
        sn_time_report r;
        if (t.time) sn_table_time_report(&t, &r);
        sn_table_free(&t);
    }
    /* series ids: the second header field as the id column (a forecasting --id-column) */
    o.id_column = size % 3 ? "id" : "store";
    if (sn_csv_read(&t, p, &o) == SN_OK) {
        sn_time_report r;
        if (t.time) sn_table_time_report(&t, &r);
        for (int i = 0; i < t.n_series; i++)
            if (t.series_start[i] > t.series_start[i + 1]) abort();
        sn_table_free(&t);
    }
    return 0;
}
