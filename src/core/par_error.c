/* Worker failures carried to the calling thread (core/par_error.h). */
#include "core/par_error.h"

#include <stdio.h>
#include <string.h>

void sn_par_error_init(sn_par_error *e) {
    atomic_flag_clear(&e->lock);
    e->index = SIZE_MAX;
    e->st = SN_OK;
    e->msg[0] = '\0';
}

void sn_par_error_note(sn_par_error *e, size_t index, sn_status st) {
    const char *m = sn_error_last();
    while (atomic_flag_test_and_set_explicit(&e->lock, memory_order_acquire)) {
    }
    if (index < e->index) {
        e->index = index;
        e->st = st;
        snprintf(e->msg, sizeof e->msg, "%s", m && m[0] ? m : sn_status_str(st));
    }
    atomic_flag_clear_explicit(&e->lock, memory_order_release);
}

int sn_par_error_any(const sn_par_error *e) { return e->index != SIZE_MAX; }

sn_status sn_par_error_raise(const sn_par_error *e) {
    if (e->index == SIZE_MAX) return SN_OK;
    return sn_error(e->st, "%s", e->msg);
}
