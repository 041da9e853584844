/* Layer features Keras files need beyond the seed's: Reshape (with -1),
 * and Bidirectional with its own backward_layer (another configuration
 * than the forward layer's). Shapes, errors, gradients (finite differences,
 * h = 3e-3 as in test_layers_basic.c, 2e-2 tolerance: a wrong gradient is
 * O(1)), and that the backward layer really is its own. */
#include <stdlib.h>

#include "layer_check.h"
#include "seqnn.h"
#include "test.h"

static double gc(const char *spec, sn_shape in, int B) {
    lc_layer t;
    if (lc_create(&t, spec, &in, B, 5) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        lc_free(&t);
        return 2.0;
    }
    sn_rng r;
    sn_rng_seed(&r, 9);
    for (size_t i = 0; i < t.L->n_params; i++) t.w[i] += (float)(0.3 * sn_rng_normal(&r));
    size_t nx = (size_t)B * sn_shape_phys(&in);
    float *x = malloc((nx + 1) * sizeof *x);
    lc_random_input(x, nx, &r, 0);
    double e = lc_gradcheck(&t, x, NULL, 0, 3e-3);
    free(x);
    lc_free(&t);
    return e;
}

TEST(layer_reshape) {
    sn_model_opts o = {1, {12, 0, 0}, 0, 1};
    sn_model *m = NULL;
    CHECK_OK(sn_model_init(&m, "reshape((4, -1)), lstm(2), dense(1)", &o));
    int d[3];
    CHECK(!strcmp(sn_model_spec(m), "reshape((4, -1)), lstm(2), dense(1)"));
    sn_model_free(m);
    CHECK_OK(sn_model_init(&m, "reshape((3, 4)), reshape((12,)), dense(2)", &o));
    CHECK(sn_model_output_shape(m, d) == 1 && d[0] == 2);
    sn_model_free(m);
    CHECK(sn_model_init(&m, "reshape((5, -1))", &o) == SN_ERR_SHAPE && strstr(sn_error_last(), "cannot reshape"));
    CHECK(sn_model_init(&m, "reshape((-1, -1))", &o) == SN_ERR_PARSE && strstr(sn_error_last(), "at most one"));
    CHECK(sn_model_init(&m, "reshape()", &o) == SN_ERR_PARSE);
    sn_shape in = {1, {12, 0, 0}, SN_REP_DENSE}, in2 = {2, {4, 3, 0}, SN_REP_DENSE};
    CHECK(gc("reshape((4, 3))", in, 2) < 2e-2);
    CHECK(gc("reshape((-1,))", in2, 2) < 2e-2);
}

/* The backward half computes with its own configuration: a Bidirectional
 * whose backward_layer differs must give what the two halves give alone. */
TEST(layer_bidirectional_backward_layer) {
    sn_shape in = {2, {4, 2, 0}, SN_REP_DENSE};
    const char *spec = "bidirectional(gru(3, return_sequences=true), backward_layer=gru(3, return_sequences=true, "
                       "go_backwards=true, activation=relu, reset_after=false), merge_mode=sum)";
    CHECK(gc(spec, in, 2) < 2e-2);
    CHECK(gc("bidirectional(lstm(2), backward_layer=simplernn(2, go_backwards=true))", in, 3) < 2e-2);
    sn_model_opts o = {2, {4, 2, 0}, 0, 3};
    sn_model *m = NULL, *f = NULL, *b = NULL;
    CHECK_OK(sn_model_init(&m, "bidirectional(gru(3), backward_layer=gru(3, go_backwards=true, activation=relu, "
                               "reset_after=false))", &o));
    CHECK(strstr(sn_model_spec(m), "backward_layer=gru(3, activation=relu, reset_after=false, go_backwards=true)"));
    CHECK_OK(sn_model_init(&f, "gru(3)", &o));
    CHECK_OK(sn_model_init(&b, "gru(3, go_backwards=true, activation=relu, reset_after=false)", &o));
    static const char *const t[] = {"kernel", "recurrent_kernel", "bias"};
    for (int k = 0; k < 3; k++) {
        char nf[64], nb[64];
        size_t n1, n2, n3, n4;
        snprintf(nf, sizeof nf, "forward_gru/%s", t[k]);
        snprintf(nb, sizeof nb, "backward_gru/%s", t[k]);
        float *src = sn_model_tensor(m, "bidirectional", nf, &n1), *dst = sn_model_tensor(f, "gru", t[k], &n2);
        CHECK(src && dst && n1 == n2);
        memcpy(dst, src, n1 * sizeof(float));
        src = sn_model_tensor(m, "bidirectional", nb, &n3), dst = sn_model_tensor(b, "gru", t[k], &n4);
        CHECK(src && dst && n3 == n4);
        memcpy(dst, src, n3 * sizeof(float));
    }
    float x[2 * 8], y[2 * 6], yf[2 * 3], yb[2 * 3];
    for (int i = 0; i < 16; i++) x[i] = (float)((i * 5) % 7) / 7.0f - 0.4f;
    sn_dataset d;
    CHECK_OK(sn_dataset_from_arrays(&d, x, NULL, 2, 8, 0));
    CHECK_OK(sn_model_predict(m, &d, 2, y));
    CHECK_OK(sn_model_predict(f, &d, 2, yf));
    CHECK_OK(sn_model_predict(b, &d, 2, yb));
    sn_dataset_free(&d);
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 3; j++) {
            CHECK(y[r * 6 + j] == yf[r * 3 + j]);
            CHECK(y[r * 6 + 3 + j] == yb[r * 3 + j]);
        }
    sn_model_free(m), sn_model_free(f), sn_model_free(b);
    CHECK(sn_model_init(&m, "bidirectional(gru(3), backward_layer=gru(3))", &o) == SN_ERR_PARSE &&
          strstr(sn_error_last(), "read the other way"));
    CHECK(sn_model_init(&m, "bidirectional(gru(3), backward_layer=gru(4, go_backwards=true))", &o) == SN_ERR_PARSE &&
          strstr(sn_error_last(), "units"));
}
