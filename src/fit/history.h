/* History rows (internal; the public part is in seqnn/model.h). */
#ifndef SEQNN_FIT_HISTORY_H
#define SEQNN_FIT_HISTORY_H

#include "core/internal.h"
#include "seqnn/model.h"

/* Appends one epoch: the first row fixes the keys (those of l); later rows
 * store l's value for each of those keys (NAN when absent) and `secs`.
 * Errors: SN_ERR_NOMEM (h unchanged). */
sn_status sn_history_add(sn_history *h, const sn_logs *l, double secs);

#endif
