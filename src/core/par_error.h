/* Errors raised in parallel workers, carried back to the calling thread
 * (core/par_error.c), private to the library.
 *
 * sn_error_last() is thread-local: a message set by an OpenMP worker (or any
 * other thread) is invisible to the thread that called into the library, so
 * "out of memory" or a bare status string was all a caller ever saw. A
 * region instead notes each failure with the index of the item it was
 * working on; the failure with the smallest index wins (so the report does
 * not depend on the schedule or the thread count), and after the region the
 * calling thread re-raises it, message and status:
 *
 *     sn_par_error pe;
 *     sn_par_error_init(&pe);
 *     #pragma omp parallel for
 *     for (i = 0; i < n; i++)
 *         if ((st = work(i)) != SN_OK) sn_par_error_note(&pe, i, st);
 *     if (sn_par_error_any(&pe)) return sn_par_error_raise(&pe);
 *
 * The note takes a spin lock of its own (no named OpenMP critical section,
 * which would export a symbol from the shared library), so it works from
 * OpenMP workers and plain threads alike. */
#ifndef SEQNN_CORE_PAR_ERROR_H
#define SEQNN_CORE_PAR_ERROR_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

typedef struct sn_par_error {
    atomic_flag lock;
    size_t index;   /* item of the failure kept; SIZE_MAX: none yet */
    sn_status st;   /* its status */
    char msg[1024]; /* its message (the worker's sn_error_last()) */
} sn_par_error;

/* No failure yet. */
void sn_par_error_init(sn_par_error *e);

/* From any thread: records the failure `st` of item `index` with the
 * calling thread's current sn_error_last() message (the status string when
 * the message is empty), unless a failure of a smaller index is already
 * kept. */
void sn_par_error_note(sn_par_error *e, size_t index, sn_status st);

/* 1 once a failure was noted. Read after the region (no worker running). */
int sn_par_error_any(const sn_par_error *e);

/* On the calling thread, after the region: SN_OK when nothing failed, else
 * sets the kept message for sn_error_last() and returns the kept status. */
sn_status sn_par_error_raise(const sn_par_error *e);

#endif
