/* Sequential models: build from a spec, summary, compile, fit / evaluate /
 * predict, callbacks, history, save / load (one self-describing versioned
 * file written atomically).
 *
 * Threads. An sn_model is NOT safe to share between threads: every call
 * that runs it (fit, evaluate, predict) writes the model's activation arena,
 * RNG streams and, in fit, its weights and optimizer state, and may re-plan
 * (reallocate) the arena. Use one model from one thread at a time, or guard
 * it with your own lock — that includes the read-only accessors (summary,
 * sn_model_tensor, save) while another thread runs the model. Distinct
 * models may be used from distinct threads at the same time; each call
 * spreads its own work over up to sn_threads_get() threads and returns with
 * them idle. Error messages are per thread (sn_error_last). The process-wide
 * settings (sn_threads_set, sn_gemm_set_backend, sn_denormals_set,
 * sn_log_set) must not change while any seqnn call runs; the log callback
 * may be called from any thread that calls seqnn. An sn_history or
 * sn_logs belongs to the caller and must not be read while a fit writes it. */
#ifndef SEQNN_MODEL_H
#define SEQNN_MODEL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "seqnn/comm.h"
#include "seqnn/core.h"
#include "seqnn/dataset.h"
#include "seqnn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_model sn_model;

typedef struct sn_model_opts {
    int input_rank;      /* 1: (C) or (T,) of ids; 2: (T,C) */
    int input_shape[3];  /* without the batch */
    int input_sparse;    /* 1: CSR bag-of-words input of width input_shape[0] */
    uint64_t seed;       /* weight initialisation and dropout RNG */
} sn_model_opts;

/* Builds a Sequential model from spec text ("lstm(16), dense(1)") on the
 * given input shape and initialises its weights (Keras defaults) from
 * o->seed. Errors (unknown layer or argument, shapes that do not fit) quote
 * the spec text; *out is NULL then. Free with sn_model_free. */
SN_API sn_status sn_model_init(sn_model **out, const char *spec, const sn_model_opts *o);
SN_API void sn_model_free(sn_model *m);

/* Parameter counts (Keras's: non-trainable = frozen tensors and BatchNorm statistics). */
SN_API size_t sn_model_param_count(const sn_model *m, size_t *trainable, size_t *non_trainable);
/* Canonical spec text of the model (every layer's non-default arguments). Owned by the model. */
SN_API const char *sn_model_spec(const sn_model *m);
SN_API int sn_model_n_layers(const sn_model *m);
/* Floats per sample of the model output. */
SN_API size_t sn_model_output_numel(const sn_model *m);
SN_API size_t sn_model_input_numel(const sn_model *m);
/* Shapes without the batch: dims[0..rank) filled (the rest 0), rank returned
 * (input: 1 for (C) or (T,) token ids, 2 for (T, C); output: 1 or 2). */
SN_API int sn_model_input_shape(const sn_model *m, int dims[3]);
SN_API int sn_model_output_shape(const sn_model *m, int dims[3]);

typedef enum sn_summary_style { SN_SUMMARY_KERAS3 = 0, SN_SUMMARY_KERAS2 = 1 } sn_summary_style;
/* The model.summary() table as text (malloc'd; the caller frees). Keras 3's
 * box table (76 wide) or tf.keras 2's plain 65-wide layout. NULL on OOM. */
SN_API char *sn_model_summary(const sn_model *m, sn_summary_style style);

/* Looks up a parameter tensor by layer name and tensor name (e.g.
 * "embedding", "embeddings"); returns a pointer into the model's buffer and
 * its element count, or NULL with sn_error_last set. The pointer stays valid
 * until the model is freed. */
SN_API float *sn_model_tensor(sn_model *m, const char *layer, const char *tensor, size_t *numel);
/* Freezes (0) or unfreezes (1) a layer by name. */
SN_API sn_status sn_model_set_trainable(sn_model *m, const char *layer, int trainable);
/* Name of layer i (0-based) and of its Keras class. */
SN_API const char *sn_model_layer_name(const sn_model *m, int i);
SN_API const char *sn_model_layer_kind(const sn_model *m, int i);

/* Sets the optimizer, loss and metrics (up to 4). Resets the optimizer state. */
SN_API sn_status sn_model_compile(sn_model *m, const sn_optimizer_cfg *opt, sn_loss_kind loss, const sn_metric_kind *metrics,
                           int n_metrics);

/* Quantile levels of a model compiled with SN_LOSS_PINBALL: output column j
 * is trained as the tau[j % n] quantile (sn_loss_pinball). Compiling with
 * SN_LOSS_PINBALL sets the single level 0.5; call this after compile. The
 * levels are saved with the optimizer state. Errors: SN_ERR_STATE when the
 * model is not compiled with SN_LOSS_PINBALL, SN_ERR_ARG for n outside
 * 1..SN_MODEL_MAX_QUANTILES or a level outside (0, 1). */
#define SN_MODEL_MAX_QUANTILES 16
SN_API sn_status sn_model_set_quantiles(sn_model *m, const double *tau, int n);

/* Named scalar values of one epoch ("loss", "mae", "val_loss", "val_mae"). */
#define SN_LOGS_MAX 10
typedef struct sn_logs {
    int n;
    char key[SN_LOGS_MAX][32];
    double val[SN_LOGS_MAX];
} sn_logs;
/* Value for key, or NAN when absent. */
SN_API double sn_logs_get(const sn_logs *l, const char *key);

/* Per-epoch history (Keras History.history). */
typedef struct sn_history {
    int epochs;               /* rows filled */
    int cap;
    int n_keys;
    char key[SN_LOGS_MAX][32];
    double *val;              /* (cap, SN_LOGS_MAX) row-major */
    double *seconds;          /* (cap) wall time per epoch */
} sn_history;
SN_API void sn_history_free(sn_history *h);
/* Writes "epoch,loss,mae,..." CSV or {"loss":[...],...} JSON, atomically. */
SN_API sn_status sn_history_write_csv(const sn_history *h, const char *path);
SN_API sn_status sn_history_write_json(const sn_history *h, const char *path);
/* Column `key` as an array of h->epochs values (NULL if absent). Points into h. */
SN_API const double *sn_history_column(const sn_history *h, const char *key, double *tmp /*(epochs)*/);

/* Progress of a running epoch, for a front end's progress bar. */
typedef struct sn_progress {
    int epoch, epochs;        /* 1-based epoch of epochs */
    int step, steps;          /* 1-based step of steps */
    double elapsed;           /* seconds since the epoch began */
    sn_logs logs;             /* running (sample-weighted) means since the epoch began */
    int done;                 /* 1 on the epoch's final report (val_ values included) */
} sn_progress;
typedef void (*sn_progress_fn)(const sn_progress *p, void *user);

typedef struct sn_fit_opts {
    int epochs;               /* default 1 */
    int batch_size;           /* default 32 */
    int shuffle;              /* reshuffle the training samples each epoch (default 1) */
    uint64_t seed;            /* shuffling seed */
    /* Chunked (data-parallel) training, docs/distributed.md: chunks > 0 cuts
     * every batch of batch_size rows (a multiple of chunks) into `chunks`
     * chunks whose gradients are summed exactly, each with its own dropout
     * streams, the training samples into `chunks` fixed shards, one per
     * chunk position; the trained model is then bit-identical for any
     * number of ranks of comm and any thread count. 0 (default): the
     * classic single-process loop. comm: the group (NULL: this process
     * alone); only its rank 0 writes files. */
    int chunks;
    const sn_comm *comm;
    const sn_dataset *val;    /* validation data or NULL */
    /* ModelCheckpoint: saved at epoch end (only on improvement with save_best_only). */
    const char *checkpoint_path;
    const char *checkpoint_monitor; /* default "val_loss" ("loss" without val) */
    int save_best_only;
    /* EarlyStopping: patience < 0 disables. */
    int early_stopping_patience;
    const char *early_stopping_monitor;
    double early_stopping_min_delta;
    int restore_best_weights;
    /* TerminateOnNaN is always on: NaN/Inf loss stops with SN_ERR_NUMERIC
     * naming epoch and step; the last checkpoint on disk stays as it was. */
    /* Crash-safe resume: a state file written (atomically) after every epoch,
     * holding weights, optimizer slots, RNG, epoch and history. */
    const char *resume_path;
    int resume;               /* 1: continue from resume_path if it exists */
    volatile sig_atomic_t *stop_flag; /* set by a signal handler: finish the step, save, return SN_ERR_INTERRUPTED
                                         (the only field fit reads while it runs; the rest are read at the start) */
    sn_progress_fn progress;
    void *user;
} sn_fit_opts;

/* Fills *o with the default fit options (epochs 1, batch 32, shuffle,
 * early stopping off: patience -1). */
SN_API void sn_fit_opts_default(sn_fit_opts *o);

/* Trains on `train` (targets y_numel must equal the model output). On a
 * NaN/Inf loss returns SN_ERR_NUMERIC with epoch and step in the message.
 * `hist` (may be NULL) receives the per-epoch logs. */
SN_API sn_status sn_model_fit(sn_model *m, const sn_dataset *train, const sn_fit_opts *o, sn_history *hist);
/* Loss and metrics over a dataset (inference mode). */
SN_API sn_status sn_model_evaluate(sn_model *m, const sn_dataset *data, int batch_size, sn_logs *out);
/* Predictions (n, output_numel) for every sample of `data` (targets unused). */
SN_API sn_status sn_model_predict(sn_model *m, const sn_dataset *data, int batch_size, float *out);

/* Chunked data parallelism (docs/distributed.md). The training samples
 * [*lo, *hi) rank `rank` of `size` reads in chunked training with these
 * settings (its chunk positions' shards); the others it never fills.
 * SN_ERR_ARG for chunks <= 0, a batch_size that is not a multiple of chunks,
 * or a rank outside [0, size). */
SN_API sn_status sn_fit_shard(size_t n, int batch_size, int chunks, int rank, int size, size_t *lo, size_t *hi);
/* The samples [*lo, *hi) rank `rank` of `size` reads in
 * sn_model_evaluate_chunked over n samples in batches of batch_size. */
SN_API void sn_model_eval_shard(size_t n, int batch_size, int rank, int size, size_t *lo, size_t *hi);
/* Evaluation whose logs are the same on any number of ranks of comm (NULL:
 * this process alone): batches of batch_size spread over the ranks, each
 * batch's sums gathered and added in batch order; every rank gets the
 * logs. May differ from sn_model_evaluate in the last bits. Collective;
 * a rank's failure is returned on every rank, naming the rank. */
SN_API sn_status sn_model_evaluate_chunked(sn_model *m, const sn_dataset *data, int batch_size, const sn_comm *comm,
                                           sn_logs *out);

/* ---- Save / load: one self-describing file (magic "SNMODEL\0", version,
 * sections for the architecture spec and input, named weight tensors,
 * optimizer state, RNG, metadata blobs, each with a CRC-32; layout in
 * docs/format.md). Written to a temp file, fsynced, renamed. ---- */
SN_API sn_status sn_model_save(const sn_model *m, const char *path);
/* Loads a model file; errors name the file and the offset / section. */
SN_API sn_status sn_model_load(sn_model **out, const char *path);
/* Metadata blobs stored with the model (normalisation, vocabulary, windowing):
 * set copies the bytes; get returns a pointer owned by the model or NULL. */
SN_API sn_status sn_model_set_meta(sn_model *m, const char *key, const void *data, size_t n);
SN_API const void *sn_model_get_meta(const sn_model *m, const char *key, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
