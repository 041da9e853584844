/* Keras import against committed fixtures (tests/gen_keras_fixtures.py:
 * Keras 3 archives and legacy HDF5 layouts written with h5py, outputs from
 * an independent float64 NumPy implementation of Keras inference).
 *
 * Tolerance 1e-5 (absolute, on outputs of magnitude <= ~3): weights and
 * inputs are float32-exact in both computations, so the difference is
 * seqnn's float32 rounding alone; with at most ~10 products per sum, a
 * handful of layers and <= 7 recurrent steps (each contracting, |tanh'| <=
 * 1), the accumulated relative error stays within ~50 float32 ulps
 * (50 x 6e-8 = 3e-6), under 1e-5. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

#define KDIR "tests/fixtures/keras/"

/* Predicts the model on x (n, numel) into a malloc'd (n, out) array. */
static float *predict_all(sn_model *m, const float *x, size_t n) {
    size_t in = sn_model_input_numel(m), out = sn_model_output_numel(m);
    float *y = calloc(n * out, sizeof *y);
    sn_dataset d;
    if (sn_dataset_from_arrays(&d, x, NULL, n, in, 0) != SN_OK) {
        free(y);
        return NULL;
    }
    sn_status st = sn_model_predict(m, &d, 2, y);
    sn_dataset_free(&d);
    if (st) {
        fprintf(stderr, "    predict: %s\n", sn_error_last());
        free(y);
        return NULL;
    }
    return y;
}

/* Imports KDIR<model>, predicts KDIR<io>_x.npy, compares with <io>_y.npy. */
static int check_case(const char *model, const char *weights, const char *io, double tol) {
    char p[256], px[256], py[256], pw[256];
    snprintf(p, sizeof p, KDIR "%s", model);
    snprintf(px, sizeof px, KDIR "%s_x.npy", io);
    snprintf(py, sizeof py, KDIR "%s_y.npy", io);
    sn_keras_import_opts o;
    sn_keras_import_opts_default(&o);
    if (weights) {
        snprintf(pw, sizeof pw, KDIR "%s", weights);
        o.weights_path = pw;
    }
    sn_model *m = NULL;
    sn_npy x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    int ok = 0;
    if (sn_keras_import(&m, p, &o) != SN_OK) {
        fprintf(stderr, "    import %s: %s\n", model, sn_error_last());
    } else if (sn_npy_read(&x, px, NULL) != SN_OK || sn_npy_read(&y, py, NULL) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", io, sn_error_last());
    } else {
        size_t n = (size_t)x.shape[0];
        float *out = predict_all(m, x.f32, n);
        if (out && y.numel == n * sn_model_output_numel(m)) {
            double worst = 0;
            for (size_t i = 0; i < y.numel; i++) worst = fmax(worst, fabs((double)out[i] - y.f32[i]));
            ok = worst <= tol;
            if (!ok) fprintf(stderr, "    %s: max abs error %.3g > %.3g\n", model, worst, tol);
        } else if (out) {
            fprintf(stderr, "    %s: %zu outputs, reference has %zu\n", model, n * sn_model_output_numel(m), y.numel);
        }
        free(out);
    }
    sn_npy_free(&x);
    sn_npy_free(&y);
    sn_model_free(m);
    return ok;
}

#define CASE(name) CHECK(check_case(name ".keras", NULL, name, 1e-5))

TEST(keras_import_dense) {
    CASE("dense");
}
TEST(keras_import_seq_dense) {
    CASE("seq_dense");
}
TEST(keras_import_conv) {
    CASE("conv");
    CASE("conv_dilated");
}
TEST(keras_import_norm) {
    CASE("norm");
}
TEST(keras_import_simplernn) {
    CASE("simplernn");
}
TEST(keras_import_lstm) {
    CASE("lstm");
}
TEST(keras_import_gru) {
    CASE("gru");
}
TEST(keras_import_bidirectional) {
    CASE("bidirectional");
}
TEST(keras_import_embedding_masked) {
    CASE("embedding_masked");
    CASE("embedding_bidi_masked");
}
TEST(keras_import_masking) {
    CASE("masking");
}
TEST(keras_import_functional) {
    CASE("functional");
}
/* softsign, softplus, elu, selu, hard_sigmoid (Keras 3's) in Dense and as
 * cell activations of LSTM / GRU / SimpleRNN. */
TEST(keras_import_activations) {
    CASE("activations");
}
TEST(keras_import_reshape) {
    CASE("reshape");
}
/* Bidirectional(GRU) whose backward_layer is a relu, reset-before GRU. */
TEST(keras_import_bidirectional_backward_layer) {
    CASE("bidirectional_backward_layer");
}

TEST(keras_import_legacy_layouts) {
    CHECK(check_case("legacy_k21.h5", NULL, "legacy_k21", 1e-5));
    CHECK(check_case("legacy_k22.json", "legacy_k22_weights.h5", "legacy_k21", 1e-5));
    CHECK(check_case("legacy_tfkeras.h5", NULL, "legacy_tfkeras", 1e-5));
    CHECK(check_case("legacy_k3.h5", NULL, "legacy_k3", 1e-5));
}

/* Layer names, classes and per-layer parameter counts survive the import;
 * the counts are the element counts of the file's weight arrays (the
 * fixture generator's shapes: LSTM(5) on C=3: 4*5*(3+5+1) = 180, LSTM(4)
 * on 5: 4*4*(5+4+1) = 160, Dense(1) on 4: 5). */
TEST(keras_import_names_and_counts) {
    sn_model *m = NULL;
    CHECK_OK(sn_keras_import(&m, KDIR "lstm.keras", NULL));
    CHECK(sn_model_n_layers(m) == 3);
    CHECK(!strcmp(sn_model_layer_name(m, 0), "l1") && !strcmp(sn_model_layer_kind(m, 0), "LSTM"));
    CHECK(!strcmp(sn_model_layer_name(m, 2), "out") && !strcmp(sn_model_layer_kind(m, 2), "Dense"));
    size_t n;
    CHECK(sn_model_tensor(m, "l1", "kernel", &n) && n == 3 * 20);
    CHECK(sn_model_param_count(m, NULL, NULL) == 180 + 160 + 5);
    char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
    CHECK(s && strstr(s, "l1 (LSTM)") && strstr(s, "180") && strstr(s, "160") && strstr(s, "Total params: 345"));
    free(s);
    sn_model_free(m);
}

/* Each refused file: the right status, a message naming the cause, and no
 * model (the CLI test checks that no output file appears). */
static void refused(const char *file, const char *weights, sn_status want, const char *needle, int *ok) {
    sn_keras_import_opts o;
    sn_keras_import_opts_default(&o);
    char pw[256];
    if (weights) {
        snprintf(pw, sizeof pw, KDIR "%s", weights);
        o.weights_path = pw;
    }
    char p[256];
    snprintf(p, sizeof p, KDIR "%s", file);
    sn_model *m = (sn_model *)&o; /* must come back NULL */
    sn_status st = sn_keras_import(&m, p, &o);
    if (st != want || m != NULL || !strstr(sn_error_last(), needle)) {
        fprintf(stderr, "    %s: status %s (want %s), message '%s' (want '%s')\n", file, sn_status_str(st),
                sn_status_str(want), sn_error_last(), needle);
        *ok = 0;
    }
}

TEST(keras_import_refusals) {
    int ok = 1;
    refused("bad_unknown_layer.keras", NULL, SN_ERR_UNSUPPORTED, "layer 'noisy' is a GaussianNoise", &ok);
    refused("bad_branching.keras", NULL, SN_ERR_UNSUPPORTED, "branching", &ok);
    refused("bad_truncated.keras", NULL, SN_ERR_FORMAT, "bad_truncated.keras", &ok);
    refused("bad_truncated.h5", NULL, SN_ERR_FORMAT, "bad_truncated.h5", &ok);
    refused("bad_corrupt.h5", NULL, SN_ERR_FORMAT, "bad_corrupt.h5", &ok);
    refused("bad_weights_not_h5.keras", NULL, SN_ERR_FORMAT, "model.weights.h5", &ok);
    refused("bad_weight_shape.keras", NULL, SN_ERR_FORMAT, "has shape (5, 3), kernel needs (4, 3)", &ok);
    refused("legacy_k22_weights.h5", NULL, SN_ERR_FORMAT, "--config", &ok);
    refused("legacy_k22.json", NULL, SN_ERR_ARG, "holds no weights", &ok);
    CHECK(ok);
}

