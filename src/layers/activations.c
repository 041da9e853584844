/* Activations applied by Dense, Conv1D and Activation layers: linear, relu,
 * tanh, sigmoid, softmax, hard_sigmoid (Keras 3), hard_sigmoid_keras2,
 * softsign, softplus, elu, selu (forward from the input, backward through
 * the output), and their names in a spec. Declared in layer.h. The recurrent
 * cells use their own vectorized versions (layers/rnn/rnn_math.h). */
#include "layers/layer.h"

#include <math.h>
#include <string.h>

static const char *const g_act_names[] = {"linear",   "relu",     "tanh", "sigmoid", "softmax", "hard_sigmoid",
                                          "hard_sigmoid_keras2", "softsign", "softplus", "elu", "selu"};
#define N_ACTS (int)(sizeof g_act_names / sizeof *g_act_names)

int sn_act_parse(const char *s, sn_act *out) {
    for (int i = 0; i < N_ACTS; i++)
        if (!strcmp(s, g_act_names[i])) {
            *out = (sn_act)i;
            return 1;
        }
    if (!strcmp(s, "none")) {
        *out = SN_ACT_LINEAR;
        return 1;
    }
    return 0;
}

const char *sn_act_name(sn_act a) { return g_act_names[a]; }

static inline float sigmoidf(float x) {
    /* Stable for large |x|: exp of a non-positive argument only. */
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

void sn_act_forward(sn_act a, float *y, size_t rows, size_t n) {
    size_t total = rows * n;
    switch (a) {
    case SN_ACT_LINEAR: return;
    case SN_ACT_RELU:
        /* Branch-free (a data-dependent branch mispredicts on half the
         * elements): keep the bits where y > 0, else +0 (NaN and -0 give +0). */
        for (size_t i = 0; i < total; i++) {
            uint32_t b;
            memcpy(&b, &y[i], 4);
            b &= -(uint32_t)(y[i] > 0.0f);
            memcpy(&y[i], &b, 4);
        }
        return;
    case SN_ACT_TANH:
        for (size_t i = 0; i < total; i++) y[i] = tanhf(y[i]);
        return;
    case SN_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++) y[i] = sigmoidf(y[i]);
        return;
    case SN_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            float *v = y + r * n, mx = v[0];
            for (size_t j = 1; j < n; j++) mx = v[j] > mx ? v[j] : mx;
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                v[j] = expf(v[j] - mx);
                s += v[j];
            }
            for (size_t j = 0; j < n; j++) v[j] = (float)(v[j] / s);
        }
        return;
    default:
        for (size_t i = 0; i < total; i++) y[i] = sn_act_elem(a, y[i]);
        return;
    }
}

void sn_act_backward(sn_act a, float *dz, const float *y, const float *dy, size_t rows, size_t n) {
    size_t total = rows * n;
    switch (a) {
    case SN_ACT_LINEAR:
        if (dz != dy) memcpy(dz, dy, total * sizeof(float));
        return;
    case SN_ACT_RELU:
        for (size_t i = 0; i < total; i++) {
            uint32_t b;
            memcpy(&b, &dy[i], 4);
            b &= -(uint32_t)(y[i] > 0.0f);
            memcpy(&dz[i], &b, 4);
        }
        return;
    case SN_ACT_TANH:
        for (size_t i = 0; i < total; i++) dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        return;
    case SN_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++) dz[i] = dy[i] * y[i] * (1.0f - y[i]);
        return;
    case SN_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            const float *yr = y + r * n, *dr = dy + r * n;
            double s = 0;
            for (size_t j = 0; j < n; j++) s += (double)yr[j] * dr[j];
            for (size_t j = 0; j < n; j++) dz[r * n + j] = yr[j] * (float)(dr[j] - s);
        }
        return;
    default:
        for (size_t i = 0; i < total; i++) dz[i] = dy[i] * sn_act_elem_d(a, y[i]);
        return;
    }
}
