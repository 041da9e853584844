/* Minimal program against the installed library: build the seed's LSTM,
 * print its summary, train it briefly on a synthetic sine series, save it.
 *   cc train_lstm.c $(pkg-config --cflags --libs --static seqnn) -o train_lstm */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <seqnn.h>

int main(void) {
    enum { N = 512, T = 24 };
    float *x = malloc(sizeof(float) * N * T), *y = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) {
        for (int t = 0; t < T; t++) x[i * T + t] = sinf(0.3f * (float)(i + t));
        y[i] = sinf(0.3f * (float)(i + T)); /* next value */
    }
    sn_model_opts mo = {.input_rank = 2, .input_shape = {T, 1}, .seed = 1};
    sn_model *m;
    if (sn_model_init(&m, "lstm(16), dense(1)", &mo)) {
        fprintf(stderr, "%s\n", sn_error_last());
        return 1;
    }
    char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
    fputs(s, stdout);
    free(s);
    sn_optimizer_cfg opt;
    sn_optimizer_cfg_default(&opt, SN_OPT_ADAM);
    opt.lr = 0.01;
    sn_metric_kind mae = SN_METRIC_MAE;
    sn_model_compile(m, &opt, SN_LOSS_MSE, &mae, 1);
    sn_dataset ds;
    sn_dataset_from_arrays(&ds, x, y, N, T, 1);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 20;
    sn_history h = {0};
    sn_status st = sn_model_fit(m, &ds, &fo, &h);
    if (st) {
        fprintf(stderr, "fit: %s\n", sn_error_last());
        return 1;
    }
    printf("mae: epoch 1 %.4f -> epoch %d %.4f\n", h.val[1], h.epochs, h.val[(size_t)(h.epochs - 1) * SN_LOGS_MAX + 1]);
    st = sn_model_save(m, "sine_lstm.seqnn");
    sn_history_free(&h);
    sn_dataset_free(&ds);
    sn_model_free(m);
    free(x);
    free(y);
    return st ? 1 : 0;
}
