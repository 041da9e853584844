/* Helpers shared by the CSV reader (csv.c), the table operations (table.c)
 * and the date code (datetime.c); private to src/data. */
#ifndef SEQNN_DATA_CSV_INTERNAL_H
#define SEQNN_DATA_CSV_INTERNAL_H

#include <stdint.h>
#include "seqnn/data.h"

/* Parses the date [p, e) (surrounding spaces ignored) in format fmt (not
 * SN_DATE_AUTO) into seconds since the epoch; returns 1, or 0 when the text
 * is not exactly such a date (calendar-checked: 31.02. is refused). */
int sn_date_parse(const char *p, const char *e, sn_date_format fmt, int64_t *out);

/* "dd.mm.yyyy HH:MM:SS" and so on, for messages. */
const char *sn_date_format_name(sn_date_format f);

/* Index of `name` among names[0..n) by the rules of sn_table_col_index:
 * the index, -1 for no match, -2 when ambiguous. */
int sn_table_find_name(char *const *names, int n, const char *name);

/* Sets the message `<what> "<name>" (columns: "a", "b", ...)` and returns st. */
sn_status sn_table_names_error(sn_status st, char *const *names, int n, const char *what, const char *name);

/* csv_num.c: 1 when [b, e) is exactly a decimal number (strtod's value into
 * *out, bit for bit); sn_csv_is_inf_text: 1 for "inf" / "infinity" (any
 * case, signed), which are refused as not finite. */
int sn_csv_parse_number(const char *b, const char *e, double *out);
int sn_csv_is_inf_text(const char *b, const char *e);

#endif
