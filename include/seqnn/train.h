/* Losses, metrics and optimizers with Keras 3 formulas and defaults
 * (docs/keras-semantics.md §7, §8).
 *
 * Threads: the loss and metric functions keep no state (errors go to the
 * calling thread's sn_error_last): safe from any thread for distinct outputs. An sn_optimizer or sn_metric_acc is
 * plain caller-owned state: one thread at a time per object;
 * sn_optimizer_step spreads its loops over up to sn_threads_get() threads. */
#ifndef SEQNN_TRAIN_H
#define SEQNN_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_loss_kind {
    SN_LOSS_MSE = 0,
    SN_LOSS_MAE,
    SN_LOSS_BCE,          /* binary crossentropy on probabilities (clipped to [1e-7, 1-1e-7]) */
    SN_LOSS_BCE_LOGITS,   /* binary crossentropy on logits, numerically stable */
    SN_LOSS_CCE,          /* categorical crossentropy on probabilities, one-hot targets */
    SN_LOSS_SCCE,         /* sparse categorical crossentropy: integer class targets (B,1) or (B,T,1) */
    SN_LOSS_PINBALL = 6   /* pinball (quantile) loss, levels from sn_model_set_quantiles; see sn_loss_pinball */
} sn_loss_kind;

typedef enum sn_metric_kind {
    SN_METRIC_MAE = 0,
    SN_METRIC_MSE,
    SN_METRIC_BINARY_ACCURACY,      /* y_pred > 0.5 (strict), or > 0 for logits losses */
    SN_METRIC_ACCURACY,             /* "accuracy": binary when the output width is 1, else argmax */
    SN_METRIC_CATEGORICAL_ACCURACY, /* argmax(y_pred) == argmax(y_true) */
    SN_METRIC_SPARSE_CATEGORICAL_ACCURACY
} sn_metric_kind;

/* Parses "mse" | "mean_squared_error" | "mae" | "binary_crossentropy" | ... */
SN_API int sn_loss_parse(const char *s, sn_loss_kind *out);
SN_API const char *sn_loss_name(sn_loss_kind k);
SN_API int sn_metric_parse(const char *s, sn_metric_kind *out);
SN_API const char *sn_metric_name(sn_metric_kind k);
/* 1 when larger is better (accuracy), 0 when smaller is better (loss, mae). */
SN_API int sn_metric_higher_is_better(const char *log_key);

/* Loss over a batch.
 * y_pred, y_true: (rows, n) where rows = B (or B*T for sequence outputs) and n
 * the last dimension (for SCCE y_true is (rows, 1) of class ids).
 * weight: (rows) per-row weights (the mask of sequence outputs, 0/1), or NULL.
 * Returns the Keras "sum_over_batch_size" reduction: sum of per-row losses
 * (each the mean over the last axis; for CCE/SCCE the crossentropy over the n
 * classes) / sum of weights (rows when NULL; 0 when the weights sum to 0).
 * Rows with weight 0 are skipped entirely (their values may be garbage).
 * If grad is non-NULL it receives dLoss/dy_pred (rows, n), overwritten.
 * An SCCE class id outside [0, n) or not an integer makes the result NaN and
 * sets sn_error_last() naming the row. */
SN_API double sn_loss_eval(sn_loss_kind k, const float *y_pred, const float *y_true, const float *weight, size_t rows,
                    size_t n, float *grad);

/* Pinball (quantile) loss, the mean over the n columns of
 *   rho_tau(u) = max(tau u, (tau - 1) u),  u = y_true - y_pred,
 * column j using level tau[j % n_tau] (so a (steps, targets, Q) output with
 * each target repeated Q times pairs column q of every group with tau[q]);
 * tau NULL or n_tau 0 means 0.5 everywhere (half the MAE). Reduction and
 * weights as sn_loss_eval. grad (rows, n) receives
 *   d/dy_pred = w_r / (n sum w) * { 1 - tau (y_pred > y_true), -tau (y_pred < y_true),
 *                                   1/2 - tau at a tie (the mean of both one-sided slopes) }.
 * A level outside (0, 1) gives NaN with sn_error_last set.
 * Reference: Koenker & Bassett (1978); the quantile loss of neuralforecast / GluonTS. */
SN_API double sn_loss_pinball(const float *y_pred, const float *y_true, const float *weight, size_t rows, size_t n,
                              const double *tau, int n_tau, float *grad);

/* Metric accumulator: Keras Mean semantics (sample-weighted over the epoch). */
typedef struct sn_metric_acc {
    sn_metric_kind kind;
    int logits;        /* predictions are logits (threshold 0 instead of 0.5) */
    double total, count;
} sn_metric_acc;
/* Resolves SN_METRIC_ACCURACY the way Keras compile() does: binary accuracy
 * when n == 1, sparse categorical when the loss is SCCE (targets are class
 * ids), else categorical. Other kinds are returned unchanged. */
SN_API sn_metric_kind sn_metric_resolve(sn_metric_kind k, sn_loss_kind loss, size_t n);
SN_API void sn_metric_reset(sn_metric_acc *m);
/* Adds a batch: same layout as sn_loss_eval (SPARSE_CATEGORICAL_ACCURACY:
 * y_true (rows, 1) of class ids; an unresolved ACCURACY with n > 1 reads
 * one-hot y_true (rows, n)). Per row value v (mean over the last axis for
 * MAE/MSE/binary accuracy, 0/1 for argmax accuracies) with weight w (1 when
 * NULL): total += v*w, count += w. sn_metric_reset zeroes total and count and
 * keeps kind and logits; sn_metric_result is total/count (0 when count is 0). */
SN_API void sn_metric_update(sn_metric_acc *m, const float *y_pred, const float *y_true, const float *weight, size_t rows,
                      size_t n);
SN_API double sn_metric_result(const sn_metric_acc *m);

typedef enum sn_opt_kind { SN_OPT_SGD = 0, SN_OPT_RMSPROP, SN_OPT_ADAM } sn_opt_kind;

typedef struct sn_optimizer_cfg {
    sn_opt_kind kind;
    double lr;              /* SGD 0.01, RMSprop 1e-3, Adam 1e-3 */
    double momentum;        /* SGD, RMSprop (0) */
    int nesterov;           /* SGD */
    double rho;             /* RMSprop 0.9 */
    int centered;           /* RMSprop */
    double beta1, beta2;    /* Adam 0.9, 0.999 */
    double epsilon;         /* 1e-7 */
    int legacy_rmsprop_eps; /* tf.keras <= 2.10 RMSprop: eps outside the sqrt (the book's TF) */
    double clipnorm;        /* > 0: per-tensor clipping */
    double clipvalue;       /* > 0: elementwise clipping */
    double global_clipnorm; /* > 0: clipping by the global norm */
    double weight_decay;    /* decoupled, 0 = off */
} sn_optimizer_cfg;

/* Fills *c with Keras's defaults for `kind` (lr 1e-3, SGD 1e-2; rho 0.9;
 * betas 0.9 / 0.999; epsilon 1e-7; no clipping). */
SN_API void sn_optimizer_cfg_default(sn_optimizer_cfg *c, sn_opt_kind kind);
/* Parses "rmsprop" | "adam" | "sgd". */
SN_API int sn_optimizer_parse(const char *s, sn_opt_kind *out);
SN_API const char *sn_optimizer_name(sn_opt_kind k);

/* One contiguous run of trainable parameters (a tensor): clipnorm applies per
 * segment, optimizer loops are flat over segments. */
typedef struct sn_param_segment { size_t offset, n; } sn_param_segment;

/* Optimizer state: slots mirror the parameter buffer (n floats each). */
typedef struct sn_optimizer {
    sn_optimizer_cfg cfg;
    size_t n;              /* parameter buffer length */
    float *m;              /* first moment / momentum / RMSprop mean-square (n) */
    float *v;              /* Adam second moment / RMSprop centered mean grad (n) */
    float *u;              /* RMSprop momentum buffer (n); slots a config does not use are NULL */
    int64_t iterations;    /* steps taken (t = iterations + 1 in the update) */
} sn_optimizer;

/* Allocates slots for a buffer of n floats. Validates cfg (lr > 0, rho in
 * [0,1), at most one clipping option, ...). */
SN_API sn_status sn_optimizer_init(sn_optimizer *o, const sn_optimizer_cfg *cfg, size_t n);
SN_API void sn_optimizer_free(sn_optimizer *o);
/* Clips grads (in place) then updates params over the segments; parameters
 * outside segments are untouched. grads (n), params (n). */
SN_API sn_status sn_optimizer_step(sn_optimizer *o, float *params, float *grads, const sn_param_segment *seg, int n_seg);

#ifdef __cplusplus
}
#endif
#endif
