/* History (Keras History.history): one row of logs per epoch, and its CSV
 * and JSON writers. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "fit/history.h"

/* Frees the rows and empties *h (ready for reuse); NULL is a no-op. */
void sn_history_free(sn_history *h) {
    if (!h) return;
    free(h->val);
    free(h->seconds);
    memset(h, 0, sizeof *h);
}

/* Appends one epoch (contract in history.h); rows grow by doubling. */
sn_status sn_history_add(sn_history *h, const sn_logs *l, double secs) {
    if (h->epochs == h->cap) {
        int nc = h->cap ? h->cap * 2 : 16;
        double *nv = sn_realloc(h->val, (size_t)nc * SN_LOGS_MAX, sizeof(double));
        if (!nv) return SN_ERR_NOMEM;
        h->val = nv;
        double *ns = sn_realloc(h->seconds, (size_t)nc, sizeof(double));
        if (!ns) return SN_ERR_NOMEM;
        h->seconds = ns;
        h->cap = nc;
    }
    if (h->n_keys == 0) {
        h->n_keys = l->n;
        for (int i = 0; i < l->n; i++) memcpy(h->key[i], l->key[i], sizeof h->key[0]);
    }
    for (int k = 0; k < h->n_keys; k++) h->val[(size_t)h->epochs * SN_LOGS_MAX + k] = sn_logs_get(l, h->key[k]);
    h->seconds[h->epochs] = secs;
    h->epochs++;
    return SN_OK;
}

/* Copies the column of key into tmp (h->epochs doubles, caller-owned) and
 * returns tmp, or NULL when the history has no such key. */
const double *sn_history_column(const sn_history *h, const char *key, double *tmp) {
    for (int k = 0; k < h->n_keys; k++)
        if (!strcmp(h->key[k], key)) {
            for (int e = 0; e < h->epochs; e++) tmp[e] = h->val[(size_t)e * SN_LOGS_MAX + k];
            return tmp;
        }
    return NULL;
}

/* Growable text buffer for the CSV / JSON writers. */
typedef struct tbuf {
    char *s;
    size_t n, cap;
} tbuf;

static int tb_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tb_printf(tbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return -1;
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return 0;
        }
        size_t nc = (b->cap + (size_t)k + 64) * 2;
        char *ns = realloc(b->s, nc);
        if (!ns) return -1;
        b->s = ns;
        b->cap = nc;
    }
}

/* Writes "epoch,<keys>,seconds" and one line per epoch (values with 9
 * significant digits, seconds with 3 decimals) to path, atomically. Errors:
 * SN_ERR_NOMEM, SN_ERR_IO naming the file. */
sn_status sn_history_write_csv(const sn_history *h, const char *path) {
    tbuf b = {0};
    int bad = tb_printf(&b, "epoch");
    for (int k = 0; k < h->n_keys; k++) bad |= tb_printf(&b, ",%s", h->key[k]);
    bad |= tb_printf(&b, ",seconds\n");
    for (int e = 0; e < h->epochs; e++) {
        bad |= tb_printf(&b, "%d", e + 1);
        for (int k = 0; k < h->n_keys; k++) bad |= tb_printf(&b, ",%.9g", h->val[(size_t)e * SN_LOGS_MAX + k]);
        bad |= tb_printf(&b, ",%.3f\n", h->seconds[e]);
    }
    sn_status st = bad ? sn_error(SN_ERR_NOMEM, "out of memory writing %s", path) : sn_file_write_atomic(path, b.s, b.n);
    free(b.s);
    return st;
}

/* Writes {"<key>": [values per epoch], ..., "seconds": [...]} to path,
 * atomically; non-finite values are written as null (JSON has no NaN).
 * Errors: SN_ERR_NOMEM, SN_ERR_IO naming the file. */
sn_status sn_history_write_json(const sn_history *h, const char *path) {
    tbuf b = {0};
    int bad = tb_printf(&b, "{");
    for (int k = 0; k <= h->n_keys; k++) {
        bad |= tb_printf(&b, "%s\n  \"%s\": [", k ? "," : "", k < h->n_keys ? h->key[k] : "seconds");
        for (int e = 0; e < h->epochs; e++) {
            double v = k < h->n_keys ? h->val[(size_t)e * SN_LOGS_MAX + k] : h->seconds[e];
            if (isfinite(v))
                bad |= tb_printf(&b, "%s%.9g", e ? ", " : "", v);
            else
                bad |= tb_printf(&b, "%snull", e ? ", " : "");
        }
        bad |= tb_printf(&b, "]");
    }
    bad |= tb_printf(&b, "\n}\n");
    sn_status st = bad ? sn_error(SN_ERR_NOMEM, "out of memory writing %s", path) : sn_file_write_atomic(path, b.s, b.n);
    free(b.s);
    return st;
}

