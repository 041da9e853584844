/* Internal layout of sn_model shared by src/model and src/fit. */
#ifndef SEQNN_MODEL_IMPL_H
#define SEQNN_MODEL_IMPL_H

#include "layers/layer.h"
#include "seqnn/model.h"

typedef struct sn_meta {
    char key[64];
    void *data;
    size_t n;
} sn_meta;

struct sn_model {
    int n_layers;
    sn_layer **layers;
    sn_shape in_shape;
    uint64_t seed;
    char *spec;                 /* canonical spec text */

    float *params, *grads;      /* (n_params) 64-byte aligned */
    size_t n_params;
    sn_param_segment *seg;      /* trainable segments */
    int n_seg;

    sn_rng rng;                 /* dropout RNG (training) */

    /* compile */
    int compiled;
    sn_optimizer opt;
    sn_loss_kind loss;
    sn_metric_kind metrics[4];
    int n_metrics;
    double quantiles[SN_MODEL_MAX_QUANTILES]; /* SN_LOSS_PINBALL levels (n_quantiles of them) */
    int n_quantiles;

    /* arena planned for `planned_B` rows */
    int planned_B;
    void *arena;
    float **act;                /* (n_layers+1) activations; act[0] = input */
    const uint8_t **mask;       /* (n_layers+1) mask of each activation (NULL = none) */
    uint8_t **mask_buf;         /* (n_layers) buffers for SN_MASK_OWN layers */
    float **cache;              /* (n_layers) */
    float *scratch;
    float *dbuf[2];             /* ping-pong activation gradients */
    float *ytrue;               /* (B, out numel) */
    float *rowweight;           /* (B*T) loss weights from the output mask */

    sn_meta *meta;
    int n_meta;

    /* training state (checkpoint / resume) */
    int epoch_done;             /* epochs completed */
};

/* Plans (or re-plans) the arena for B rows. */
sn_status sn_model_plan(sn_model *m, int B);
/* Runs every layer forward on act[0] (or the CSR xs) for B rows. */
void sn_model_forward(sn_model *m, int B, const sn_csr *xs, int training);
/* Backward from dbuf holding dL/dy of the last layer; grads are zeroed here. */
void sn_model_backward(sn_model *m, int B, const sn_csr *xs, float *dy_last);
/* The same, calling after(user, i) when layer i's parameter gradients are complete. */
void sn_model_backward_hook(sn_model *m, int B, const sn_csr *xs, float *dy_last, void (*after)(void *user, int layer),
                            void *user);
/* Checks the input batch: finite values, ids in range for embedding/onehot. */
sn_status sn_model_check_input(const sn_model *m, int B, const sn_csr *xs);
/* The compiled loss of the last forward pass (sn_loss_eval, or
 * sn_loss_pinball with the model's quantile levels). */
double sn_model_loss_eval(const sn_model *m, const float *pred, const float *ytrue, const float *rw, size_t rows,
                          size_t width, float *grad);

/* Rows and width the loss sees: (B*T, C) for sequence outputs, else (B, numel). */
void sn_model_loss_layout(const sn_model *m, int B, size_t *rows, size_t *width);
/* Builds from a parsed spec (used by create and load). */
sn_status sn_model_build_from_spec(sn_model **out, const char *spec, const sn_model_opts *o, int init_weights);

/* ---- run.c: helpers shared by evaluate / predict and the training loop ---- */
/* Sets key to v in l (adds it when absent; ignored when l is full). */
void sn_logs_set(sn_logs *l, const char *key, double v);
/* Checks that dataset d fits the model: not empty, input width and
 * representation, target width when need_y. Errors name `what` ("training"). */
sn_status sn_model_check_dataset(const sn_model *m, const sn_dataset *d, const char *what, int need_y);
/* Fills samples idx[0..B) into act[0] / ytrue; *has_csr = 1 and *csr set for
 * a sparse input; then sn_model_check_input. */
sn_status sn_model_load_batch(sn_model *m, const sn_dataset *d, const size_t *idx, int B, sn_csr *csr, int *has_csr);
/* Loss row weights (B*T) from the output mask of a sequence output, or NULL. */
const float *sn_model_row_weights(sn_model *m, int B);
/* Per-sample loss weights of the batch just loaded from a dataset with
 * sample_weights (in rowweight) and the factor Σw / B that makes the loss
 * Keras's sum_over_batch_size. */
const float *sn_model_sample_weights(sn_model *m, int B, double *scale);
/* Fresh epoch accumulators for the compiled metrics (acc has n_metrics used). */
void sn_model_metrics_init(const sn_model *m, sn_metric_acc acc[4]);
/* Log key of compiled metric i ("mae", "accuracy"). */
const char *sn_model_metric_key(const sn_model *m, int i);

#endif
