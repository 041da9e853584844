/* The activations Keras files name besides relu / tanh / sigmoid / softmax:
 * hard_sigmoid (Keras 3: relu6(x + 3) / 6), hard_sigmoid_keras2 (Keras 1/2:
 * clip(0.2x + 0.5, 0, 1)), softsign, softplus, elu, selu — their values
 * against the float64 formulas, and their gradients (finite differences)
 * in Dense and as activation / recurrent_activation of the cells. */
#include <math.h>
#include <stdlib.h>

#include "layer_check.h"
#include "test.h"

static double ref(const char *a, double x) {
    if (!strcmp(a, "hard_sigmoid")) return fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
    if (!strcmp(a, "hard_sigmoid_keras2")) return fmin(fmax(0.2 * x + 0.5, 0.0), 1.0);
    if (!strcmp(a, "softsign")) return x / (1 + fabs(x));
    if (!strcmp(a, "softplus")) return log1p(exp(x));
    if (!strcmp(a, "elu")) return x > 0 ? x : expm1(x);
    /* selu, Keras's constants */
    return 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * expm1(x));
}

static const char *const g_new[] = {"hard_sigmoid", "hard_sigmoid_keras2", "softsign", "softplus", "elu", "selu"};

/* Each value within 4 float32 roundings (of the value, or of 1 where the
 * value is below 1: the inputs of the rounded operations are O(1)) of the
 * float64 formula: libm's expm1f / log1pf / expf are within 1 ulp, and the
 * formulas add at most 3 roundings (softplus: exp, log1p, add; selu:
 * expm1, two products; hard_sigmoid_keras2: the product with 0.2f, the add). */
TEST(activations_keras_values) {
    for (size_t k = 0; k < sizeof g_new / sizeof *g_new; k++) {
        sn_act a;
        CHECK(sn_act_parse(g_new[k], &a));
        CHECK(!strcmp(sn_act_name(a), g_new[k]));
        enum { N = 241 };
        float y[N];
        for (int i = 0; i < N; i++) y[i] = (float)(-12.0 + 0.1 * i);
        sn_act_forward(a, y, 1, N);
        for (int i = 0; i < N; i++) {
            double x = (double)(float)(-12.0 + 0.1 * i), r = ref(g_new[k], x);
            CHECK_MSG(fabs(y[i] - r) <= 4 * ldexp(1.0, -24) * fmax(fabs(r), 1.0),
                      "%s(%g) = %.9g, want %.9g", g_new[k], x, y[i], r);
        }
    }
    /* the two hard sigmoids differ where the issue says they do */
    float a3 = 1.0f, a2 = 1.0f;
    sn_act_forward(SN_ACT_HARD_SIGMOID, &a3, 1, 1);
    sn_act_forward(SN_ACT_HARD_SIGMOID_KERAS2, &a2, 1, 1);
    CHECK(fabsf(a3 - 4.0f / 6.0f) < 1e-7f && fabsf(a2 - 0.7f) < 1e-7f);
}

/* scale: input scale; the piecewise-linear hard sigmoids get small inputs so
 * that no pre-activation sits within a difference step of a kink (there the
 * central difference is not the derivative). */
static double gc_one(const char *spec, sn_shape in, int B, double scale) {
    lc_layer t;
    if (lc_create(&t, spec, &in, B, 7) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        lc_free(&t);
        return 2.0;
    }
    sn_rng r;
    sn_rng_seed(&r, 3);
    for (size_t i = 0; i < t.L->n_params; i++) t.w[i] += (float)(0.3 * sn_rng_normal(&r));
    size_t nx = (size_t)B * sn_shape_phys(&in);
    float *x = malloc((nx + 1) * sizeof *x);
    lc_random_input(x, nx, &r, 0);
    for (size_t i = 0; i < nx; i++) x[i] = (float)(x[i] * scale);
    double e = lc_gradcheck_measured(&t, x, NULL, 0, 3e-3);
    free(x);
    lc_free(&t);
    return e;
}

/* Central differences in float32 with h = 3e-3 (as tests/test_layers_basic.c),
 * judged against the rounding noise and truncation error the check measures
 * (lc_gradcheck_measured): the noise of a float32 GRU's loss depends on the
 * GEMM kernel's summation order, so no fixed relative bound holds on every
 * OpenBLAS core (2e-2 did on Haswell, not on Prescott). */
TEST(activations_keras_gradients) {
    sn_shape vec = {1, {5, 0, 0}, SN_REP_DENSE}, seq = {2, {4, 3, 0}, SN_REP_DENSE};
    char spec[160];
    for (size_t k = 0; k < sizeof g_new / sizeof *g_new; k++) {
        const char *a = g_new[k], *b = g_new[(k + 1) % 6];
        double sc = k < 2 || (k + 1) % 6 < 2 ? 0.2 : 1.0;
        snprintf(spec, sizeof spec, "dense(4, activation=%s)", a);
        CHECK_MSG(gc_one(spec, vec, 3, sc) < 1, "%s", spec);
        snprintf(spec, sizeof spec, "activation(%s)", a);
        CHECK_MSG(gc_one(spec, seq, 2, sc) < 1, "%s", spec);
        snprintf(spec, sizeof spec, "lstm(3, activation=%s, recurrent_activation=%s, return_sequences=true)", a, b);
        CHECK_MSG(gc_one(spec, seq, 2, sc) < 1, "%s", spec);
        snprintf(spec, sizeof spec, "gru(3, activation=%s, recurrent_activation=%s)", a, b);
        CHECK_MSG(gc_one(spec, seq, 2, sc) < 1, "%s", spec);
        snprintf(spec, sizeof spec, "gru(3, reset_after=false, activation=%s, recurrent_activation=%s)", b, a);
        CHECK_MSG(gc_one(spec, seq, 2, sc) < 1, "%s", spec);
        snprintf(spec, sizeof spec, "simplernn(3, activation=%s)", a);
        CHECK_MSG(gc_one(spec, seq, 2, sc) < 1, "%s", spec);
    }
}
