/* Shared helper for the libFuzzer harnesses: readers that take a path get
 * the fuzz input through a per-process temp file. */
#ifndef SEQNN_FUZZ_COMMON_H
#define SEQNN_FUZZ_COMMON_H
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline const char *fuzz_write_tmp(const uint8_t *data, size_t size, const char *suffix) {
    static char path[256];
    snprintf(path, sizeof path, "/tmp/seqnn-fuzz-%ld%s", (long)getpid(), suffix);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (size && fwrite(data, 1, size, fp) != size) abort();
    fclose(fp);
    return path;
}
#endif
