/* sn_table operations: freeing, column lookup by name, column copies,
 * feature selection, and the regularity report of the time column. The
 * reader that fills a table is csv.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "data/csv_internal.h"

static int name_eq_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* ---------------------------------------------------------------------
 * sn_table
 * --------------------------------------------------------------------- */
void sn_table_free(sn_table *t) {
    if (!t) return;
    if (t->col_names)
        for (int j = 0; j < t->n_cols; j++) free(t->col_names[j]);
    free(t->col_names);
    free(t->data);
    free(t->time);
    free(t->time_name);
    free(t->line);
    free(t->path);
    if (t->series_names)
        for (int i = 0; i < t->n_series; i++) free(t->series_names[i]);
    free(t->series_names);
    free(t->series_start);
    free(t->series_column);
    free(t->row);
    memset(t, 0, sizeof *t);
}

sn_status sn_table_names_error(sn_status st, char *const *names, int n, const char *what, const char *name) {
    char list[700];
    size_t o = 0;
    list[0] = 0;
    for (int j = 0; j < n && o < sizeof list - 8; j++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"", j ? ", " : "", names[j]);
    if (o >= sizeof list - 8) snprintf(list + sizeof list - 8, 8, "...");
    return sn_error(st, "%s \"%s\" (columns: %s)", what, name, list);
}

/* Name lookup over an array of names; see sn_table_col_index. Returns index,
 * -1 for no match, -2 for ambiguous. */
int sn_table_find_name(char *const *names, int n, const char *name) {
    for (int j = 0; j < n; j++)
        if (names[j] && !strcmp(names[j], name)) return j;
    int hit = -1;
    for (int j = 0; j < n; j++)
        if (names[j] && name_eq_ci(names[j], name)) {
            if (hit >= 0) return -2;
            hit = j;
        }
    if (hit >= 0) return hit;
    size_t ln = strlen(name);
    for (int j = 0; j < n; j++) {
        if (!names[j]) continue;
        const char *paren = strstr(names[j], " (");
        size_t k = paren ? (size_t)(paren - names[j]) : strlen(names[j]);
        if (k != ln) continue;
        size_t i = 0;
        while (i < k && tolower((unsigned char)names[j][i]) == tolower((unsigned char)name[i])) i++;
        if (i == k) {
            if (hit >= 0) return -2;
            hit = j;
        }
    }
    return hit;
}

sn_status sn_table_col_index(const sn_table *t, const char *name, int *idx) {
    if (!t || !name || !idx) return sn_error(SN_ERR_ARG, "sn_table_col_index: NULL argument");
    int j = sn_table_find_name(t->col_names, t->n_cols, name);
    if (j == -2) return sn_table_names_error(SN_ERR_ARG, t->col_names, t->n_cols, "ambiguous column name", name);
    if (j < 0) return sn_table_names_error(SN_ERR_ARG, t->col_names, t->n_cols, "no column named", name);
    *idx = j;
    return SN_OK;
}

sn_status sn_table_column_f32(const sn_table *t, int col, float *out) {
    if (!t || !out || !t->data) return sn_error(SN_ERR_ARG, "sn_table_column_f32: NULL argument");
    if (col < 0 || col >= t->n_cols)
        return sn_error(SN_ERR_ARG, "column index %d out of range [0,%d)", col, t->n_cols);
    for (size_t i = 0; i < t->n_rows; i++) out[i] = (float)t->data[i * (size_t)t->n_cols + (size_t)col];
    return SN_OK;
}

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = sn_malloc(n, 1);
    if (d) memcpy(d, s, n);
    return d;
}

sn_status sn_table_select(sn_table *out, const sn_table *in, const char *const *names, int n_names) {
    if (!out || !in || !names || n_names <= 0 || out == in)
        return sn_error(SN_ERR_ARG, "sn_table_select: NULL argument, no names, or out == in");
    int *idx = sn_malloc((size_t)n_names, sizeof *idx);
    if (!idx) return SN_ERR_NOMEM;
    sn_status st;
    for (int k = 0; k < n_names; k++)
        if ((st = sn_table_col_index(in, names[k], &idx[k])) != SN_OK) {
            free(idx);
            return st;
        }
    sn_table t;
    memset(&t, 0, sizeof t);
    t.n_rows = in->n_rows;
    t.n_cols = n_names;
    t.col_names = sn_calloc((size_t)n_names, sizeof *t.col_names);
    t.data = sn_malloc(in->n_rows ? in->n_rows * (size_t)n_names : 1, sizeof *t.data);
    t.path = dup_str(in->path);
    t.line = in->line ? sn_malloc(in->n_rows ? in->n_rows : 1, sizeof *t.line) : NULL;
    t.time = in->time ? sn_malloc(in->n_rows ? in->n_rows : 1, sizeof *t.time) : NULL;
    t.time_name = dup_str(in->time_name);
    int bad = !t.col_names || !t.data || (in->path && !t.path) || (in->line && !t.line) ||
              (in->time && !t.time) || (in->time_name && !t.time_name);
    for (int k = 0; !bad && k < n_names; k++) bad = !(t.col_names[k] = dup_str(in->col_names[idx[k]]));
    if (bad) {
        free(idx);
        sn_table_free(&t);
        return SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < in->n_rows; i++)
        for (int k = 0; k < n_names; k++)
            t.data[i * (size_t)n_names + (size_t)k] = in->data[i * (size_t)in->n_cols + (size_t)idx[k]];
    if (in->line) memcpy(t.line, in->line, in->n_rows * sizeof *t.line);
    if (in->time) memcpy(t.time, in->time, in->n_rows * sizeof *t.time);
    free(idx);
    *out = t;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Time report
 * --------------------------------------------------------------------- */
static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

sn_status sn_table_time_report(const sn_table *t, sn_time_report *rep) {
    if (!t || !rep) return sn_error(SN_ERR_ARG, "sn_table_time_report: NULL argument");
    memset(rep, 0, sizeof *rep);
    if (!t->time) return sn_error(SN_ERR_ARG, "%s: the table has no date column", t->path ? t->path : "table");
    if (t->n_rows < 2)
        return sn_error(SN_ERR_ARG, "%s: %zu row(s): no time step to report", t->path ? t->path : "table",
                        t->n_rows);
    int64_t *d = sn_malloc(t->n_rows - 1, sizeof *d);
    size_t *ln = sn_malloc(t->n_rows - 1, sizeof *ln);
    if (!d || !ln) {
        free(d);
        free(ln);
        return SN_ERR_NOMEM;
    }
    /* Steps within each series (one series without an id column). */
    size_t ns = 0;
    int nser = t->series_start ? t->n_series : 1;
    for (int s = 0; s < nser; s++) {
        size_t b = t->series_start ? t->series_start[s] : 0, e = t->series_start ? t->series_start[s + 1] : t->n_rows;
        for (size_t i = b + 1; i < e; i++) {
            d[ns] = t->time[i] - t->time[i - 1];
            ln[ns++] = t->line ? t->line[i] : i + 1;
        }
    }
    if (ns == 0) {
        free(d);
        free(ln);
        return sn_error(SN_ERR_ARG, "%s: no series has two rows: no time step to report", t->path ? t->path : "table");
    }
    rep->n_steps = ns;
    rep->min_step = rep->max_step = d[0];
    for (size_t i = 0; i < ns; i++) {
        rep->min_step = SN_MIN(rep->min_step, d[i]);
        rep->max_step = SN_MAX(rep->max_step, d[i]);
    }
    int64_t *sorted = sn_malloc(ns, sizeof *sorted);
    if (!sorted) {
        free(d);
        free(ln);
        return SN_ERR_NOMEM;
    }
    memcpy(sorted, d, ns * sizeof *d);
    qsort(sorted, ns, sizeof *sorted, cmp_i64);
    rep->median_step = sorted[(ns - 1) / 2];
    free(sorted);
    for (size_t i = 0; i < ns; i++) {
        size_t line = ln[i];
        if (d[i] < 0) {
            if (!rep->n_backwards++) rep->first_backwards_line = line;
        } else if (d[i] == 0) {
            if (!rep->n_duplicate++) rep->first_duplicate_line = line;
        } else if (d[i] != rep->median_step) {
            if (!rep->n_irregular++) rep->first_irregular_line = line;
        }
    }
    free(d);
    free(ln);
    return SN_OK;
}
