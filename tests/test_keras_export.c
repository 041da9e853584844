/* Keras 3 export: an exported archive imports back to the same model file
 * byte for byte (architecture, names, trainable flags, weights, seed, RNG
 * streams, metadata blobs); the same model exports to the same bytes; what
 * Keras lacks is refused with nothing written. Also the layer name= spec
 * argument the importer relies on. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"


static unsigned char *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = b ? fread(b, 1, (size_t)len, fp) : 0;
    fclose(fp);
    return b;
}

/* Drops the OPTM section (optimizer state, which Keras archives from seqnn
 * do not carry) from a model file image in place (docs/format.md: 16-byte
 * header with the section count at 12; sections tag(4) len(u64) payload crc(4)). */
static size_t strip_optm(unsigned char *b, size_t n) {
    if (n < 16 || memcmp(b, "SNMODEL", 8)) return n;
    size_t o = 16, w = 16;
    uint32_t cnt = b[12] | b[13] << 8 | (uint32_t)b[14] << 16 | (uint32_t)b[15] << 24, kept = 0;
    for (uint32_t i = 0; i < cnt && o + 12 <= n; i++) {
        uint64_t len = 0;
        for (int k = 7; k >= 0; k--) len = len << 8 | b[o + 4 + k];
        size_t total = 12 + (size_t)len + 4;
        if (o + total > n) return n;
        if (memcmp(b + o, "OPTM", 4)) {
            memmove(b + w, b + o, total);
            w += total;
            kept++;
        }
        o += total;
    }
    b[12] = (unsigned char)kept, b[13] = (unsigned char)(kept >> 8), b[14] = b[15] = 0;
    return w;
}

static int same_files(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    if (x) na = strip_optm(x, na);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static void tmp_path(char *buf, size_t n, const char *tag) {
    snprintf(buf, n, "/tmp/seqnn-test-kx-%ld-%s", (long)getpid(), tag);
}

/* save(m) == save(import(export(m))), but for the optimizer state. */
static int round_trip(sn_model *m, const char *tag) {
    char a[256], k[256], b[256], k2[256];
    tmp_path(a, sizeof a, "a.seqnn");
    tmp_path(k, sizeof k, "m.keras");
    tmp_path(k2, sizeof k2, "m2.keras");
    tmp_path(b, sizeof b, "b.seqnn");
    sn_keras_export_opts eo = {"2024-06-11@12:00:00"};
    sn_model *m2 = NULL;
    int ok = sn_model_save(m, a) == SN_OK && sn_keras_export(m, k, &eo) == SN_OK &&
             sn_keras_import(&m2, k, NULL) == SN_OK && sn_model_save(m2, b) == SN_OK;
    if (!ok) fprintf(stderr, "    %s: %s\n", tag, sn_error_last());
    if (ok && !same_files(a, b)) {
        fprintf(stderr, "    %s: the model file after export + import differs\n", tag);
        ok = 0;
    }
    /* deterministic: the same model (and its re-import) exports to the same bytes */
    if (ok && (sn_keras_export(m2, k2, &eo) != SN_OK || !same_files(k, k2))) {
        fprintf(stderr, "    %s: exporting the re-imported model gives other bytes\n", tag);
        ok = 0;
    }
    sn_model_free(m2);
    unlink(a), unlink(b), unlink(k), unlink(k2);
    return ok;
}

static int trip_spec(const char *spec, int rank, int d0, int d1, const char *tag) {
    sn_model_opts o = {rank, {d0, d1, 0}, 0, 7};
    sn_model *m = NULL;
    if (sn_model_init(&m, spec, &o) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", tag, sn_error_last());
        return 0;
    }
    int ok = round_trip(m, tag);
    sn_model_free(m);
    return ok;
}

TEST(keras_export_round_trip_layers) {
    CHECK(trip_spec("dense(5, activation=relu, use_bias=false), dense(3, activation=softmax, kernel_initializer=he_uniform)", 1, 6, 0, "dense"));
    CHECK(trip_spec("conv1d(4, 3, padding=same, activation=relu), maxpooling1d(2), conv1d(3, 2, strides=2, padding=causal),"
                    " conv1d(2, 2, dilation_rate=2), globalaveragepooling1d(), dense(1)", 2, 16, 3, "conv"));
    CHECK(trip_spec("maxpooling1d(3, strides=2, padding=same), globalmaxpooling1d(), dense(2)", 2, 9, 2, "pool"));
    CHECK(trip_spec("batchnormalization(momentum=0.9, epsilon=0.01, center=false), layernormalization(scale=false), flatten(), "
                    "dropout(0.25, seed=3), activation(tanh), dense(1)", 2, 5, 4, "norm"));
    CHECK(trip_spec("masking(mask_value=-1), simplernn(4, return_sequences=true, go_backwards=true), lstm(3, unit_forget_bias=false,"
                    " dropout=0.1, recurrent_dropout=0.2, return_sequences=true), gru(2, reset_after=false, activation=relu), dense(1)",
                    2, 6, 3, "rnn"));
    CHECK(trip_spec("bidirectional(lstm(3, return_sequences=true)), bidirectional(gru(2, return_sequences=true), merge_mode=sum),"
                    " bidirectional(simplernn(2), merge_mode=ave), dense(1)", 2, 5, 3, "bidi"));
    CHECK(trip_spec("embedding(50, 8, mask_zero=true), bidirectional(lstm(4), merge_mode=mul), dense(1, activation=sigmoid)",
                    1, 12, 0, "embedding"));
    CHECK(trip_spec("reshape((4, -1)), lstm(2), dense(1)", 1, 12, 0, "reshape"));
    CHECK(trip_spec("bidirectional(gru(3, return_sequences=true), backward_layer=gru(3, return_sequences=true, "
                    "go_backwards=true, activation=relu, reset_after=false), merge_mode=sum), flatten(), dense(1)", 2, 4, 2,
                    "backward_layer"));
    CHECK(trip_spec("embedding(30, 4, trainable=false, embeddings_initializer=glorot_uniform), gru(3), dense(1)", 1, 6, 0,
                    "frozen embedding"));
}

/* A trained-looking model: frozen layer, a layer-owned RNG stream that has
 * advanced, metadata blobs, custom names, and imported fixtures. */
TEST(keras_export_round_trip_state) {
    sn_model_opts o = {2, {6, 3, 0}, 0, 99};
    sn_model *m = NULL;
    CHECK_OK(sn_model_init(&m, "lstm(4, name=encoder, return_sequences=true), dropout(0.5, seed=11), gru(3), "
                               "dense(1, name=\"head.out\")", &o));
    CHECK_OK(sn_model_set_trainable(m, "encoder", 0));
    CHECK_OK(sn_model_set_meta(m, "norm", "\x01\x02\x03\x00\xff", 5));
    CHECK_OK(sn_model_set_meta(m, "vocab", "a\nbb\nccc", 8));
    /* a training pass moves the model RNG and the dropout layer's own stream */
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_ADAM);
    CHECK_OK(sn_model_compile(m, &oc, SN_LOSS_MSE, NULL, 0));
    float x[4 * 18], y[4];
    for (int i = 0; i < 4 * 18; i++) x[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < 4; i++) y[i] = (float)i;
    sn_dataset d;
    CHECK_OK(sn_dataset_from_arrays(&d, x, y, 4, 18, 1));
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.batch_size = 2;
    CHECK_OK(sn_model_fit(m, &d, &fo, NULL));
    sn_dataset_free(&d);
    /* the optimizer state is not exported: compare against the model without it */
    char p[256];
    tmp_path(p, sizeof p, "state.seqnn");
    sn_model *plain = NULL;
    CHECK_OK(sn_model_save(m, p));
    sn_model_free(m);
    CHECK_OK(sn_model_load(&plain, p));
    unlink(p);
    CHECK(round_trip(plain, "state") || (sn_model_free(plain), 0));
    sn_model_free(plain);
    static const char *fixtures[] = {"lstm", "gru", "bidirectional", "conv", "norm", "embedding_masked", "masking",
                                     "functional", "activations", "reshape", "bidirectional_backward_layer"};
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        char f[256];
        snprintf(f, sizeof f, "tests/fixtures/keras/%s.keras", fixtures[i]);
        sn_model *k = NULL;
        CHECK_OK(sn_keras_import(&k, f, NULL));
        int ok = round_trip(k, fixtures[i]);
        sn_model_free(k);
        CHECK(ok);
    }
}

TEST(keras_export_refusals) {
    char k[256];
    tmp_path(k, sizeof k, "refused.keras");
    unlink(k);
    sn_model_opts o = {1, {8, 0, 0}, 0, 1};
    sn_model *m = NULL;
    CHECK_OK(sn_model_init(&m, "onehot(20), lstm(3), dense(1)", &o));
    CHECK(sn_keras_export(m, k, NULL) == SN_ERR_UNSUPPORTED && strstr(sn_error_last(), "OneHot"));
    sn_model_free(m);
    sn_model_opts os = {1, {100, 0, 0}, 1, 1};
    CHECK_OK(sn_model_init(&m, "dense(2)", &os));
    CHECK(sn_keras_export(m, k, NULL) == SN_ERR_UNSUPPORTED && strstr(sn_error_last(), "sparse"));
    sn_model_free(m);
    struct stat sb;
    CHECK(stat(k, &sb) != 0); /* nothing written */
}

/* name= on any layer: kept in the canonical spec, the file and the summary;
 * duplicates and unusable characters refused. */
TEST(model_layer_names) {
    sn_model_opts o = {2, {5, 3, 0}, 0, 1};
    sn_model *m = NULL;
    CHECK_OK(sn_model_init(&m, "lstm(4, name=enc), dense(1)", &o));
    CHECK(!strcmp(sn_model_layer_name(m, 0), "enc") && !strcmp(sn_model_layer_name(m, 1), "dense"));
    CHECK(!strcmp(sn_model_spec(m), "lstm(4, name=\"enc\"), dense(1)"));
    char p[256];
    tmp_path(p, sizeof p, "names.seqnn");
    CHECK_OK(sn_model_save(m, p));
    sn_model_free(m);
    CHECK_OK(sn_model_load(&m, p));
    unlink(p);
    CHECK(!strcmp(sn_model_layer_name(m, 0), "enc"));
    sn_model_free(m);
    CHECK(sn_model_init(&m, "dense(3, name=a), dense(1, name=a)", &o) == SN_ERR_PARSE && strstr(sn_error_last(), "both named 'a'"));
    CHECK(sn_model_init(&m, "dense(3, name=dense_1), dense(1), dense(1)", &o) == SN_ERR_PARSE);
    CHECK(sn_model_init(&m, "dense(3, name=\"a b\")", &o) == SN_ERR_PARSE && strstr(sn_error_last(), "printable"));
    CHECK(m == NULL);
}
