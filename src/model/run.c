/* Compiling a model and running it over a dataset: batch loading and input
 * checks, evaluate and predict (inference mode), and the helpers the
 * training loop (src/fit) shares: dataset checks, loss row weights, metric
 * accumulators, logs. */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"

/* The value logged under key, NAN when l holds no such key. */
double sn_logs_get(const sn_logs *l, const char *key) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->key[i], key)) return l->val[i];
    return NAN;
}

/* Sets key to v: overwrites an existing entry, else appends one (the key
 * cut to 31 bytes); a full l (SN_LOGS_MAX entries) drops new keys. */
void sn_logs_set(sn_logs *l, const char *key, double v) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->key[i], key)) {
            l->val[i] = v;
            return;
        }
    if (l->n >= SN_LOGS_MAX) return;
    snprintf(l->key[l->n], sizeof l->key[0], "%s", key);
    l->val[l->n++] = v;
}

/* Keras compile(): sets the optimizer (fresh slots mirroring the parameter
 * buffer, iteration count 0), the loss and up to 4 metrics (copied). A
 * model may be compiled again; that resets the optimizer state. On error
 * the model keeps its previous compile (or stays uncompiled). Errors:
 * SN_ERR_ARG (NULL, more than 4 metrics, a configuration sn_optimizer_init
 * rejects), SN_ERR_SHAPE, SN_ERR_NOMEM. */
sn_status sn_model_compile(sn_model *m, const sn_optimizer_cfg *opt, sn_loss_kind loss, const sn_metric_kind *metrics,
                           int n_metrics) {
    if (!m || !opt) return sn_error(SN_ERR_ARG, "sn_model_compile: NULL argument");
    if (n_metrics < 0 || n_metrics > 4) return sn_error(SN_ERR_ARG, "at most 4 metrics, got %d", n_metrics);
    size_t rows, width;
    sn_model_loss_layout(m, 1, &rows, &width);
    if ((loss == SN_LOSS_BCE || loss == SN_LOSS_BCE_LOGITS) && width < 1)
        return sn_error(SN_ERR_SHAPE, "binary crossentropy needs an output");
    sn_optimizer fresh;
    sn_status st = sn_optimizer_init(&fresh, opt, m->n_params);
    if (st) return st; /* the previous compile stays in force */
    sn_optimizer_free(&m->opt);
    m->opt = fresh;
    m->loss = loss;
    m->n_quantiles = 1;
    m->quantiles[0] = 0.5;
    m->n_metrics = n_metrics;
    for (int i = 0; i < n_metrics; i++) m->metrics[i] = metrics[i];
    m->compiled = 1;
    return SN_OK;
}

sn_status sn_model_set_quantiles(sn_model *m, const double *tau, int n) {
    if (!m || !tau) return sn_error(SN_ERR_ARG, "sn_model_set_quantiles: NULL argument");
    if (!m->compiled || m->loss != SN_LOSS_PINBALL)
        return sn_error(SN_ERR_STATE, "quantile levels need a model compiled with the pinball loss");
    if (n < 1 || n > SN_MODEL_MAX_QUANTILES)
        return sn_error(SN_ERR_ARG, "%d quantile levels: give 1 to %d", n, SN_MODEL_MAX_QUANTILES);
    for (int i = 0; i < n; i++)
        if (!(tau[i] > 0 && tau[i] < 1)) return sn_error(SN_ERR_ARG, "quantile level %g is not in (0, 1)", tau[i]);
    for (int i = 0; i < n; i++) m->quantiles[i] = tau[i];
    m->n_quantiles = n;
    return SN_OK;
}

double sn_model_loss_eval(const sn_model *m, const float *pred, const float *ytrue, const float *rw, size_t rows,
                          size_t width, float *grad) {
    if (m->loss == SN_LOSS_PINBALL)
        return sn_loss_pinball(pred, ytrue, rw, rows, width, m->quantiles, m->n_quantiles, grad);
    return sn_loss_eval(m->loss, pred, ytrue, rw, rows, width, grad);
}

/* Log key of compiled metric i: the name the user asked for and Keras
 * prints ("mae", "accuracy"), not the resolved kind. Static string. */
const char *sn_model_metric_key(const sn_model *m, int i) { return sn_metric_name(m->metrics[i]); }

/* "accuracy" means binary, categorical or sparse categorical accuracy
 * depending on the loss and output width, as Keras decides at compile. */
static sn_metric_kind resolved_metric(const sn_model *m, int i) {
    size_t rows, width;
    sn_model_loss_layout(m, 1, &rows, &width);
    return sn_metric_resolve(m->metrics[i], m->loss, width);
}

/* Fills samples idx[0..B) of d into the arena: inputs into act[0], targets
 * into ytrue (B <= the planned batch). For a sparse-input model the
 * dataset's CSR batch is described by *csr and *has_csr = 1 (the arrays
 * belong to the dataset and stay valid until its next fill). Then checks the
 * batch (sn_model_check_input). Errors: the dataset's, SN_ERR_ARG when a
 * sparse model gets a dense batch, those of sn_model_check_input. */
sn_status sn_model_load_batch(sn_model *m, const sn_dataset *d, const size_t *idx, int B, sn_csr *csr, int *has_csr) {
    sn_batch b;
    memset(&b, 0, sizeof b);
    b.B = B;
    b.x = m->act[0];
    b.y = m->ytrue;
    b.sw = d->sample_weights ? m->rowweight : NULL; /* one row per sample: checked by sn_model_check_dataset */
    sn_status st = d->fill(d->ctx, idx, B, &b);
    if (st) return st;
    *has_csr = 0;
    if (m->in_shape.rep == SN_REP_SPARSE) {
        if (!b.sp_row_ptr || !b.sp_col || !b.sp_val)
            return sn_error(SN_ERR_ARG, "the model takes a sparse input but the dataset gave a dense batch");
        csr->rows = B;
        csr->row_ptr = b.sp_row_ptr;
        csr->col = b.sp_col;
        csr->val = b.sp_val;
        *has_csr = 1;
    }
    return sn_model_check_input(m, B, *has_csr ? csr : NULL);
}

/* Checks before a pass that d fits the model: non-empty, input values per
 * sample equal to the model's input, dense / sparse as the model, and with
 * need_y targets per sample equal to what the loss reads (SCCE: one class id
 * per output row). Errors: SN_ERR_ARG, SN_ERR_SHAPE, each starting with
 * `what` ("training", "validation", ...). */
sn_status sn_model_check_dataset(const sn_model *m, const sn_dataset *d, const char *what, int need_y) {
    if (!d || !d->fill || d->n == 0) return sn_error(SN_ERR_ARG, "%s dataset is empty", what);
    if (d->x_numel != sn_model_input_numel(m))
        return sn_error(SN_ERR_SHAPE, "%s samples have %zu input values but the model takes %zu", what, d->x_numel,
                        sn_model_input_numel(m));
    if ((m->in_shape.rep == SN_REP_SPARSE) != (d->sparse != 0))
        return sn_error(SN_ERR_SHAPE, "%s dataset is %s but the model input is %s", what, d->sparse ? "sparse" : "dense",
                        m->in_shape.rep == SN_REP_SPARSE ? "sparse" : "dense");
    if (need_y) {
        size_t rows, width;
        sn_model_loss_layout(m, 1, &rows, &width);
        size_t want = m->loss == SN_LOSS_SCCE ? rows : rows * width;
        if (d->y_numel != want)
            return sn_error(SN_ERR_SHAPE, "%s targets have %zu values per sample but the model output needs %zu", what,
                            d->y_numel, want);
        if (d->sample_weights && rows != 1)
            return sn_error(SN_ERR_SHAPE, "%s dataset has sample weights but the model gives %zu output rows per sample "
                            "(weights need one)", what, rows);
    }
    return SN_OK;
}

/* Keras sample_weight for a training batch: the dataset wrote w (B) into
 * rowweight (sn_model_load_batch); the loss over those weights is
 * Σ w ℓ / Σ w (sn_loss_eval), so *scale = Σ w / B turns it into Keras's
 * sum_over_batch_size Σ w ℓ / B. Returns rowweight. */
const float *sn_model_sample_weights(sn_model *m, int B, double *scale) {
    double s = 0;
    for (int i = 0; i < B; i++) s += m->rowweight[i];
    *scale = B > 0 ? s / B : 1.0;
    return m->rowweight;
}

/* Loss row weights for the last forward pass of B rows: for a sequence
 * output (T, C) carrying a mask, rowweight (B*T) = 1 at valid steps and 0 at
 * masked ones (points into the arena); NULL when every row counts. */
const float *sn_model_row_weights(sn_model *m, int B) {
    const sn_shape *o = &m->layers[m->n_layers - 1]->out;
    const uint8_t *mk = m->mask[m->n_layers];
    if (o->rank != 2 || !mk) return NULL;
    size_t n = (size_t)B * (size_t)o->d[0];
    for (size_t i = 0; i < n; i++) m->rowweight[i] = mk[i] ? 1.0f : 0.0f;
    return m->rowweight;
}

/* Fresh accumulators acc[0..n_metrics) for an epoch or an evaluation: each
 * metric resolved as Keras resolves "accuracy" for this loss and output
 * width, thresholded at 0 for a logits loss. */
void sn_model_metrics_init(const sn_model *m, sn_metric_acc acc[4]) {
    for (int i = 0; i < m->n_metrics; i++) {
        acc[i].kind = resolved_metric(m, i);
        acc[i].logits = m->loss == SN_LOSS_BCE_LOGITS;
        sn_metric_reset(&acc[i]);
    }
}

/* Runs the model in inference mode over `data` in order, batch by batch, and
 * calls `each` after every forward pass (outputs in act[n_layers], targets in
 * ytrue). Shared by evaluate and predict. */
typedef void (*batch_fn)(sn_model *m, size_t first, int nb, void *user);
static sn_status infer_batches(sn_model *m, const sn_dataset *data, int batch_size, const char *what, batch_fn each,
                               void *user) {
    if (batch_size <= 0) return sn_error(SN_ERR_ARG, "batch size must be > 0, got %d", batch_size);
    int B = (int)SN_MIN((size_t)batch_size, data->n);
    sn_status st = sn_model_plan(m, B);
    if (st) return st;
    size_t *idx = sn_malloc((size_t)B, sizeof(size_t));
    if (!idx) return SN_ERR_NOMEM;
    for (size_t s = 0; s < data->n; s += (size_t)B) {
        int nb = (int)SN_MIN((size_t)B, data->n - s);
        for (int i = 0; i < nb; i++) idx[i] = s + (size_t)i;
        sn_csr csr;
        int has;
        if ((st = sn_model_load_batch(m, data, idx, nb, &csr, &has))) {
            free(idx);
            return sn_error_prefix(st, "%s batch at sample %zu", what, s);
        }
        sn_model_forward(m, nb, has ? &csr : NULL, 0);
        each(m, s, nb, user);
    }
    free(idx);
    return SN_OK;
}

typedef struct eval_acc {
    sn_metric_acc acc[4];
    double ltot, lcnt;
} eval_acc;

static void eval_batch(sn_model *m, size_t first, int nb, void *user) {
    (void)first;
    eval_acc *e = user;
    size_t rows, width;
    sn_model_loss_layout(m, nb, &rows, &width);
    const float *rw = sn_model_row_weights(m, nb);
    double l = sn_model_loss_eval(m, m->act[m->n_layers], m->ytrue, rw, rows, width, NULL);
    e->ltot += l * nb;
    e->lcnt += nb;
    for (int i = 0; i < m->n_metrics; i++) sn_metric_update(&e->acc[i], m->act[m->n_layers], m->ytrue, rw, rows, width);
}

/* Keras evaluate(): loss and compiled metrics over every sample of data in
 * inference mode, in order, batch_size rows at a time (the last batch may
 * be shorter). *out gets "loss" (the sample-weighted mean of the batch
 * losses) and each metric under its key. Errors: SN_ERR_ARG, SN_ERR_STATE
 * (not compiled), the dataset checks, a batch's error naming its first
 * sample. Re-plans the arena when batch_size exceeds the planned batch.
 * Runs with denormals flushed (core/internal.h); the caller's mode is
 * restored on return. */
sn_status sn_model_evaluate(sn_model *m, const sn_dataset *data, int batch_size, sn_logs *out) {
    if (!m || !out) return sn_error(SN_ERR_ARG, "sn_model_evaluate: NULL argument");
    if (!m->compiled) return sn_error(SN_ERR_STATE, "model is not compiled");
    sn_status st = sn_model_check_dataset(m, data, "evaluation", 1);
    if (st) return st;
    eval_acc e = {0};
    sn_model_metrics_init(m, e.acc);
    sn_fp_state fp = sn_fp_enter();
    st = infer_batches(m, data, batch_size, "evaluation", eval_batch, &e);
    sn_fp_leave(fp);
    if (st) return st;
    memset(out, 0, sizeof *out);
    sn_logs_set(out, "loss", e.ltot / e.lcnt);
    for (int i = 0; i < m->n_metrics; i++) sn_logs_set(out, sn_model_metric_key(m, i), sn_metric_result(&e.acc[i]));
    return SN_OK;
}

typedef struct pred_out {
    float *out;
    size_t on;
} pred_out;

static void pred_batch(sn_model *m, size_t first, int nb, void *user) {
    pred_out *p = user;
    memcpy(p->out + first * p->on, m->act[m->n_layers], (size_t)nb * p->on * sizeof(float));
}

/* Keras predict(): the model's outputs for every sample of data in
 * inference mode, in order, into out (data->n * sn_model_output_numel(m)
 * floats, caller-owned). Targets the dataset fills are ignored. Errors:
 * SN_ERR_ARG, the dataset checks, a batch's error naming its first sample.
 * Runs with denormals flushed; the caller's mode is restored on return. */
sn_status sn_model_predict(sn_model *m, const sn_dataset *data, int batch_size, float *out) {
    if (!m || !out) return sn_error(SN_ERR_ARG, "sn_model_predict: NULL argument");
    sn_status st = sn_model_check_dataset(m, data, "prediction", 0);
    if (st) return st;
    /* The dataset may write targets into ytrue; they are not used. */
    pred_out p = {out, sn_model_output_numel(m)};
    sn_fp_state fp = sn_fp_enter();
    st = infer_batches(m, data, batch_size, "prediction", pred_batch, &p);
    sn_fp_leave(fp);
    return st;
}

