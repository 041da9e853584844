/* Training state kept across a crash / interruption (internal); the resume
 * file that holds it is described in docs/format.md. */
#ifndef SEQNN_TRAIN_STATE_H
#define SEQNN_TRAIN_STATE_H

#include "model/model_impl.h"

typedef struct sn_train_state {
    int epoch_done;          /* completed epochs */
    double best_ckpt;        /* ModelCheckpoint best monitored value */
    int have_best_ckpt;
    double best_es;          /* EarlyStopping best value */
    int have_best_es;
    int wait;                /* EarlyStopping epochs without improvement */
    /* Mid-epoch state (an interrupted epoch epoch_done+1): steps finished and
     * the running sums of its loss / metrics. step_done == 0 at epoch ends. */
    int step_done;
    double ltot, lcnt, elapsed;
    double mtotal[4], mcount[4];
    /* The run's batch size and chunks (0: unchunked): the sample order and
     * the steps of an epoch depend on both, so an interrupted epoch resumes
     * only with the same. have_mode is 0 for a file written before they
     * were stored. */
    int batch_size, chunks, have_mode;
    int missing;             /* set by load when the file does not exist */
} sn_train_state;

void sn_train_state_init(sn_train_state *ts);
/* Writes model + optimizer + RNG + ts + history (+ best weights) atomically. */
sn_status sn_train_state_save(const sn_model *m, const char *path, const sn_train_state *ts, const sn_history *h,
                              const float *best_w);
/* Restores into an existing model with the same architecture. A missing file
 * returns SN_ERR_IO with ts->missing = 1. */
sn_status sn_train_state_load(sn_model *m, const char *path, sn_train_state *ts, sn_history *h, float *best_w);

#endif
