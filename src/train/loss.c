/* Losses and metrics with Keras 3 formulas (docs/keras-semantics.md §8).
 *
 * Layout everywhere: y_pred (rows, n), y_true (rows, n) or, for the sparse
 * kinds, (rows, 1) class ids stored as floats; weight (rows) or NULL. rows is
 * B, or B*T for sequence outputs whose mask becomes the weight.
 *
 * Reduction ("sum_over_batch_size" with a mask, keras/src/losses/loss.py
 * apply_mask + reduce_values): loss = Σ_r w_r·ℓ_r / Σ_r w_r. Keras adds
 * backend.epsilon() (1e-7) to the count of valid entries; that changes the
 * result by 1e-7/valid relative and is left out here.
 *
 * All arithmetic is in double; only the clip bounds are float32 values
 * (Keras clips float32 tensors: 1 - 1e-7 rounds to 0.99999988f).
 *
 * Clipping gradients follow tf.clip_by_value / torch.clamp: the gradient
 * passes where lo <= x <= hi and is 0 where the clip is active.
 *
 * Crossentropy on probabilities follows the JAX / torch backends of Keras 3
 * (keras/src/backend/jax/nn.py): BCE uses log(p) and log(1-p) of the clipped
 * p with no extra epsilon inside the log (the TF backend adds one, changing
 * values by ~1e-7 relative away from the clip); CCE and SCCE first
 * renormalise each row (p / Σp), then clip to [1e-7, 1-1e-7], then take
 * -Σ y·log. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/train.h"

#define SN_BCE_LO 1e-7f
#define SN_BCE_HI (1.0f - 1e-7f)

/* ---- names ---- */

/* Lower-cases and drops '_' so "mean_squared_error" and "MeanSquaredError"
 * compare equal. Returns 0 when s does not fit the buffer. */
static int name_norm(const char *s, char *out, size_t cap) {
    size_t k = 0;
    for (; *s; s++) {
        if (*s == '_' || *s == '-') continue;
        if (k + 1 >= cap) return 0;
        out[k++] = (char)tolower((unsigned char)*s);
    }
    out[k] = 0;
    return 1;
}

typedef struct { const char *alias; int kind; } name_alias;

static const name_alias loss_aliases[] = {
    {"mse", SN_LOSS_MSE},
    {"meansquarederror", SN_LOSS_MSE},
    {"mae", SN_LOSS_MAE},
    {"meanabsoluteerror", SN_LOSS_MAE},
    {"binarycrossentropy", SN_LOSS_BCE},
    {"bce", SN_LOSS_BCE},
    {"binarycrossentropyfromlogits", SN_LOSS_BCE_LOGITS},
    {"bcelogits", SN_LOSS_BCE_LOGITS},
    {"bcefromlogits", SN_LOSS_BCE_LOGITS},
    {"categoricalcrossentropy", SN_LOSS_CCE},
    {"cce", SN_LOSS_CCE},
    {"sparsecategoricalcrossentropy", SN_LOSS_SCCE},
    {"scce", SN_LOSS_SCCE},
    {"pinball", SN_LOSS_PINBALL},
    {"quantile", SN_LOSS_PINBALL},
};

static const name_alias metric_aliases[] = {
    {"mae", SN_METRIC_MAE},
    {"meanabsoluteerror", SN_METRIC_MAE},
    {"mse", SN_METRIC_MSE},
    {"meansquarederror", SN_METRIC_MSE},
    {"binaryaccuracy", SN_METRIC_BINARY_ACCURACY},
    {"accuracy", SN_METRIC_ACCURACY},
    {"acc", SN_METRIC_ACCURACY},
    {"categoricalaccuracy", SN_METRIC_CATEGORICAL_ACCURACY},
    {"sparsecategoricalaccuracy", SN_METRIC_SPARSE_CATEGORICAL_ACCURACY},
};

static int alias_find(const name_alias *tab, size_t n, const char *s, int *kind) {
    char buf[64];
    if (!s || !name_norm(s, buf, sizeof buf)) return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i].alias, buf) == 0) {
            *kind = tab[i].kind;
            return 1;
        }
    return 0;
}

/* Accepts the Keras function names, their short forms and the class names
 * (case and '_' ignored). Returns SN_OK or SN_ERR_PARSE naming the choices. */
int sn_loss_parse(const char *s, sn_loss_kind *out) {
    int k;
    if (!alias_find(loss_aliases, sizeof loss_aliases / sizeof *loss_aliases, s, &k))
        return sn_error(SN_ERR_PARSE,
                        "unknown loss '%s' (expected mse, mae, binary_crossentropy, "
                        "binary_crossentropy_from_logits, categorical_crossentropy, "
                        "sparse_categorical_crossentropy)",
                        s ? s : "(null)");
    *out = (sn_loss_kind)k;
    return SN_OK;
}

/* Canonical name; sn_loss_parse(sn_loss_name(k)) == k. */
const char *sn_loss_name(sn_loss_kind k) {
    switch (k) {
    case SN_LOSS_MSE: return "mean_squared_error";
    case SN_LOSS_MAE: return "mean_absolute_error";
    case SN_LOSS_BCE: return "binary_crossentropy";
    case SN_LOSS_BCE_LOGITS: return "binary_crossentropy_from_logits";
    case SN_LOSS_CCE: return "categorical_crossentropy";
    case SN_LOSS_SCCE: return "sparse_categorical_crossentropy";
    case SN_LOSS_PINBALL: return "pinball";
    }
    return "unknown";
}

int sn_metric_parse(const char *s, sn_metric_kind *out) {
    int k;
    if (!alias_find(metric_aliases, sizeof metric_aliases / sizeof *metric_aliases, s, &k))
        return sn_error(SN_ERR_PARSE,
                        "unknown metric '%s' (expected mae, mse, accuracy, binary_accuracy, "
                        "categorical_accuracy, sparse_categorical_accuracy)",
                        s ? s : "(null)");
    *out = (sn_metric_kind)k;
    return SN_OK;
}

/* Canonical name, also the Keras log key when the metric was given by it. */
const char *sn_metric_name(sn_metric_kind k) {
    switch (k) {
    case SN_METRIC_MAE: return "mae";
    case SN_METRIC_MSE: return "mse";
    case SN_METRIC_BINARY_ACCURACY: return "binary_accuracy";
    case SN_METRIC_ACCURACY: return "accuracy";
    case SN_METRIC_CATEGORICAL_ACCURACY: return "categorical_accuracy";
    case SN_METRIC_SPARSE_CATEGORICAL_ACCURACY: return "sparse_categorical_accuracy";
    }
    return "unknown";
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Keras EarlyStopping / ModelCheckpoint mode "auto": a key ending in "acc",
 * "accuracy" or "auc" (after an optional "val_") is maximised, anything else
 * ("loss", "mae", ...) minimised. */
int sn_metric_higher_is_better(const char *log_key) {
    if (!log_key) return 0;
    if (strncmp(log_key, "val_", 4) == 0) log_key += 4;
    return ends_with(log_key, "acc") || ends_with(log_key, "accuracy") || ends_with(log_key, "auc");
}

/* ---- losses ---- */

static double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* Categorical crossentropy of one row against target distribution t (n), or
 * a one-hot at class `cls` when t is NULL. q = p/Σp, c = clip(q, lo, hi),
 * ℓ = -Σ t_j log c_j. With gj = dℓ/dq_j = -t_j/c_j (0 where clipped) and
 * dq_j/dp_k = (δ_jk - q_j)/Σp:  dℓ/dp_k = (g_k - Σ_j g_j q_j) / Σp.
 * g (n) receives dℓ/dp times `scale` when non-NULL. */
static double cce_row(const float *p, const float *t, size_t cls, size_t n, double scale, float *g) {
    double S = 0;
    for (size_t j = 0; j < n; j++) S += p[j];
    double loss = 0, gq = 0;
    for (size_t j = 0; j < n; j++) {
        double tj = t ? (double)t[j] : (j == cls ? 1.0 : 0.0);
        if (tj == 0) continue; /* 0·log c = 0 and no gradient */
        double q = p[j] / S;
        double c = q < SN_BCE_LO ? SN_BCE_LO : q > SN_BCE_HI ? SN_BCE_HI : q;
        loss -= tj * log(c);
        if (q >= SN_BCE_LO && q <= SN_BCE_HI) gq += (-tj / c) * q;
    }
    if (g) {
        for (size_t j = 0; j < n; j++) {
            double tj = t ? (double)t[j] : (j == cls ? 1.0 : 0.0);
            double q = p[j] / S, gj = 0;
            if (tj != 0 && q >= SN_BCE_LO && q <= SN_BCE_HI) gj = -tj / q;
            g[j] = (float)(scale * (gj - gq) / S);
        }
    }
    return loss;
}

double sn_loss_eval(sn_loss_kind k, const float *y_pred, const float *y_true, const float *weight, size_t rows,
                    size_t n, float *grad) {
    if (k == SN_LOSS_PINBALL) return sn_loss_pinball(y_pred, y_true, weight, rows, n, NULL, 0, grad);
    if (grad && rows > 0 && n > 0) memset(grad, 0, rows * n * sizeof *grad);
    if (rows == 0 || n == 0) return 0.0;
    double W = 0;
    if (weight)
        for (size_t r = 0; r < rows; r++) W += weight[r];
    else
        W = (double)rows;
    if (W == 0) return 0.0; /* divide_no_nan: an all-masked batch adds nothing */

    double total = 0;
    int bad = 0;
    for (size_t r = 0; r < rows; r++) {
        double w = weight ? (double)weight[r] : 1.0;
        if (w == 0) continue;
        const float *p = y_pred + r * n;
        float *g = grad ? grad + r * n : NULL;
        double row = 0;
        double gs = w / W / (double)n; /* d(loss)/d(elementwise term) for mean-over-n losses */
        switch (k) {
        case SN_LOSS_MSE: {
            const float *y = y_true + r * n;
            for (size_t j = 0; j < n; j++) {
                double d = (double)p[j] - (double)y[j];
                row += d * d;
                if (g) g[j] = (float)(gs * 2.0 * d);
            }
            row /= (double)n;
            break;
        }
        case SN_LOSS_MAE: {
            const float *y = y_true + r * n;
            for (size_t j = 0; j < n; j++) {
                double d = (double)p[j] - (double)y[j];
                row += fabs(d);
                /* sign(d), 0 at d == 0 like torch.sign / tf.abs' gradient */
                if (g) g[j] = (float)(gs * (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0));
            }
            row /= (double)n;
            break;
        }
        case SN_LOSS_BCE: {
            const float *y = y_true + r * n;
            for (size_t j = 0; j < n; j++) {
                float pf = p[j];
                float cf = pf < SN_BCE_LO ? SN_BCE_LO : pf > SN_BCE_HI ? SN_BCE_HI : pf;
                double c = cf, t = y[j];
                row -= t * log(c) + (1.0 - t) * log(1.0 - c);
                if (g) {
                    int pass = pf >= SN_BCE_LO && pf <= SN_BCE_HI;
                    g[j] = pass ? (float)(gs * (-t / c + (1.0 - t) / (1.0 - c))) : 0.0f;
                }
            }
            row /= (double)n;
            break;
        }
        case SN_LOSS_BCE_LOGITS: {
            const float *y = y_true + r * n;
            for (size_t j = 0; j < n; j++) {
                /* -[y log σ(x) + (1-y) log σ(-x)] = max(x,0) - x·y + log1p(exp(-|x|)) */
                double x = p[j], t = y[j];
                row += (x > 0 ? x : 0.0) - x * t + log1p(exp(-fabs(x)));
                if (g) g[j] = (float)(gs * (sigmoid(x) - t));
            }
            row /= (double)n;
            break;
        }
        case SN_LOSS_CCE:
            row = cce_row(p, y_true + r * n, 0, n, w / W, g);
            break;
        case SN_LOSS_SCCE: {
            double c = y_true[r];
            if (!(c >= 0 && c < (double)n && c == floor(c))) {
                if (!bad) sn_error(SN_ERR_ARG, "sparse_categorical_crossentropy: row %zu: class id %g not an "
                                               "integer in [0, %zu)", r, c, n);
                bad = 1;
                continue;
            }
            row = cce_row(p, NULL, (size_t)c, n, w / W, g);
            break;
        }
        default:
            if (!bad) sn_error(SN_ERR_ARG, "unknown loss kind %d", (int)k);
            return NAN;
        }
        total += w * row;
    }
    return bad ? NAN : total / W;
}

/* ---- pinball (quantile) loss ---- */

double sn_loss_pinball(const float *y_pred, const float *y_true, const float *weight, size_t rows, size_t n,
                       const double *tau, int n_tau, float *grad) {
    if (grad && rows > 0 && n > 0) memset(grad, 0, rows * n * sizeof *grad);
    if (rows == 0 || n == 0) return 0.0;
    for (int q = 0; tau && q < n_tau; q++)
        if (!(tau[q] > 0 && tau[q] < 1)) {
            sn_error(SN_ERR_ARG, "pinball loss: quantile level %g is not in (0, 1)", tau[q]);
            return NAN;
        }
    double W = 0;
    if (weight)
        for (size_t r = 0; r < rows; r++) W += weight[r];
    else
        W = (double)rows;
    if (W == 0) return 0.0;
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        double w = weight ? (double)weight[r] : 1.0;
        if (w == 0) continue;
        const float *p = y_pred + r * n, *y = y_true + r * n;
        float *g = grad ? grad + r * n : NULL;
        const double gs = w / W / (double)n;
        double row = 0;
        for (size_t j = 0; j < n; j++) {
            const double t = tau && n_tau > 0 ? tau[j % (size_t)n_tau] : 0.5;
            const double u = (double)y[j] - (double)p[j];
            row += u >= 0 ? t * u : (t - 1) * u;
            if (g) g[j] = (float)(gs * (u < 0 ? 1 - t : u > 0 ? -t : 0.5 - t));
        }
        total += w * row / (double)n;
    }
    return total / W;
}

/* ---- metrics ---- */

sn_metric_kind sn_metric_resolve(sn_metric_kind k, sn_loss_kind loss, size_t n) {
    if (k != SN_METRIC_ACCURACY) return k;
    if (n == 1) return SN_METRIC_BINARY_ACCURACY;
    if (loss == SN_LOSS_SCCE) return SN_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    return SN_METRIC_CATEGORICAL_ACCURACY;
}

void sn_metric_reset(sn_metric_acc *m) {
    m->total = 0;
    m->count = 0;
}

/* First index of the maximum (numpy / Keras argmax). */
static size_t argmax(const float *x, size_t n) {
    size_t best = 0;
    for (size_t j = 1; j < n; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

void sn_metric_update(sn_metric_acc *m, const float *y_pred, const float *y_true, const float *weight, size_t rows,
                      size_t n) {
    if (n == 0) return;
    sn_metric_kind k = m->kind;
    if (k == SN_METRIC_ACCURACY) k = n == 1 ? SN_METRIC_BINARY_ACCURACY : SN_METRIC_CATEGORICAL_ACCURACY;
    /* BinaryAccuracy: positive iff ŷ > threshold, strictly; σ(x) > 0.5 iff x > 0. */
    const float thr = m->logits ? 0.0f : 0.5f;
    for (size_t r = 0; r < rows; r++) {
        double w = weight ? (double)weight[r] : 1.0;
        if (w == 0) continue;
        const float *p = y_pred + r * n;
        double v = 0;
        switch (k) {
        case SN_METRIC_MAE:
            for (size_t j = 0; j < n; j++) v += fabs((double)p[j] - (double)y_true[r * n + j]);
            v /= (double)n;
            break;
        case SN_METRIC_MSE:
            for (size_t j = 0; j < n; j++) {
                double d = (double)p[j] - (double)y_true[r * n + j];
                v += d * d;
            }
            v /= (double)n;
            break;
        case SN_METRIC_BINARY_ACCURACY:
            for (size_t j = 0; j < n; j++) v += (p[j] > thr ? 1.0f : 0.0f) == y_true[r * n + j];
            v /= (double)n;
            break;
        case SN_METRIC_CATEGORICAL_ACCURACY:
            v = argmax(p, n) == argmax(y_true + r * n, n);
            break;
        case SN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
            v = (float)argmax(p, n) == y_true[r];
            break;
        default:
            v = 0;
            break;
        }
        m->total += v * w;
        m->count += w;
    }
}

double sn_metric_result(const sn_metric_acc *m) {
    return m->count != 0 ? m->total / m->count : 0.0;
}
