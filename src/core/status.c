/* Status strings, the thread-local error message, the log sink. */
#include "seqnn/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sn_status_str(sn_status s) {
    switch (s) {
    case SN_OK: return "ok";
    case SN_ERR_ARG: return "invalid argument";
    case SN_ERR_SHAPE: return "shape mismatch";
    case SN_ERR_NOMEM: return "out of memory";
    case SN_ERR_IO: return "I/O error";
    case SN_ERR_FORMAT: return "malformed file";
    case SN_ERR_PARSE: return "parse error";
    case SN_ERR_NUMERIC: return "NaN or Inf";
    case SN_ERR_STATE: return "invalid state";
    case SN_ERR_INTERRUPTED: return "interrupted";
    case SN_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}

static _Thread_local char g_errmsg[1024];

const char *sn_error_last(void) { return g_errmsg; }

sn_status sn_error(sn_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_errmsg, sizeof g_errmsg, fmt, ap);
    va_end(ap);
    return s;
}

sn_status sn_error_prefix(sn_status s, const char *fmt, ...) {
    char pre[512], old[sizeof g_errmsg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, g_errmsg, sizeof old);
    snprintf(g_errmsg, sizeof g_errmsg, "%.500s: %.500s", pre, old);
    return s;
}

static sn_log_fn g_log_fn;
static void *g_log_user;

void sn_log_set(sn_log_fn fn, void *user) {
    g_log_fn = fn;
    g_log_user = user;
}

void sn_log(sn_log_level level, const char *fmt, ...) {
    if (!g_log_fn) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_log_fn(level, buf, g_log_user);
}

