/* Monotonic clock and atomic file writes. */
#define _GNU_SOURCE /* O_DIRECTORY, O_CLOEXEC */
#include "seqnn/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double sn_time_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Per-process counter of temporary files: with the pid it makes every
 * call's temporary name unique, whatever thread calls. */
static atomic_ulong g_tmp_seq;

/* Opens a fresh temporary file next to `path` (O_EXCL: never one another
 * call or an earlier crashed process left). */
static int open_tmp(const char *path, char *tmp, size_t n) {
    for (int tries = 0; tries < 100; tries++) {
        unsigned long seq = atomic_fetch_add(&g_tmp_seq, 1);
        if (snprintf(tmp, n, "%s.tmp.%ld.%lu", path, (long)getpid(), seq) >= (int)n) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

/* fsync of the directory holding `path`, so that the rename survives a
 * crash. File systems that cannot sync a directory (EINVAL) count as done. */
static int sync_parent_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e == EINVAL) rc = 0;
    errno = e;
    return rc;
}

sn_status sn_file_write_atomic(const char *path, const void *data, size_t n) {
    if (!path || (!data && n)) return sn_error(SN_ERR_ARG, "sn_file_write_atomic: NULL argument");
    char tmp[4096];
    int fd = open_tmp(path, tmp, sizeof tmp);
    if (fd < 0) {
        if (errno == ENAMETOOLONG) return sn_error(SN_ERR_ARG, "%s: path too long", path);
        return sn_error(SN_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    }
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return sn_error(SN_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return sn_error(SN_ERR_IO, "%s: fsync failed: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return sn_error(SN_ERR_IO, "%s: close failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sn_error(SN_ERR_IO, "%s: rename to %s failed: %s", tmp, path, strerror(e));
    }
    if (sync_parent_dir(path) != 0)
        return sn_error(SN_ERR_IO, "%s: written, but syncing its directory failed (the new file may not survive a "
                        "crash): %s", path, strerror(errno));
    return SN_OK;
}
