/* Small helpers the Keras reader and writer share (keras_internal.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/keras_internal.h"

sn_status kx_cat(char *buf, size_t n, const char *fmt, ...) {
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n - len) return sn_error(SN_ERR_FORMAT, "layer configuration too long");
    return SN_OK;
}

void kx_num(char *buf, size_t n, double v) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* re.sub("(.)([A-Z][a-z]+)", r"\1_\2"), re.sub("([a-z])([A-Z])", r"\1_\2"), lower(). */
void kx_snake(const char *cls, char *out, size_t n) {
    char a[160];
    size_t k = 0, len = strlen(cls);
    for (size_t i = 0; i < len && k + 2 < sizeof a; i++) {
        char c = cls[i];
        if (i > 0 && c >= 'A' && c <= 'Z' && i + 1 < len && cls[i + 1] >= 'a' && cls[i + 1] <= 'z') a[k++] = '_';
        a[k++] = c;
    }
    a[k] = 0;
    size_t j = 0;
    for (size_t i = 0; a[i] && j + 2 < n; i++) {
        char c = a[i];
        if (i > 0 && a[i - 1] >= 'a' && a[i - 1] <= 'z' && c >= 'A' && c <= 'Z') out[j++] = '_';
        out[j++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[j] = 0;
}

