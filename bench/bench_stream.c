/* Streaming latency (make bench): microseconds per sn_stream_step, p50 and
 * p99 over many steps, for 1 row and 64 rows, one thread:
 *   lstm32     lstm(32), dense(1) on 14 features (the Jena shape)
 *   gru32x2    gru(32, return_sequences=true), gru(32), dense(1) on 14
 *   bilstm32   the IMDB BiLSTM's per-step cell work: a bidirectional layer
 *              cannot stream (its backward half reads the sequence from the
 *              end), so this steps its two LSTM(32) cells over the
 *              Embedding(20000, 256) output — two one-direction streams per
 *              step — the time a step of the whole-sequence layer costs.
 * Output lines: "case rows p50_us p99_us" (bench/run.sh joins them with
 * bench/torch_stream.py's). Usage: bench_stream [steps] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqnn.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static sn_model *make(const char *spec, int rank, int d0, int d1) {
    sn_model_opts o = {rank, {d0, d1, 0}, 0, 1};
    sn_model *m = NULL;
    if (sn_model_init(&m, spec, &o) != SN_OK) {
        fprintf(stderr, "bench_stream: %s: %s\n", spec, sn_error_last());
        exit(1);
    }
    return m;
}

/* Times `steps` steps of streams s[0..ns) (all stepped each step) for R rows. */
static void run(const char *name, sn_stream **s, int ns, int R, int steps, int ids, int vocab) {
    size_t in = sn_stream_input_numel(s[0]), out = sn_stream_output_numel(s[0]);
    float *x = malloc((size_t)R * in * sizeof *x), *y = malloc((size_t)R * out * sizeof *y);
    double *t = malloc((size_t)steps * sizeof *t);
    for (int k = 0; k < 50 + steps; k++) {
        for (size_t i = 0; i < (size_t)R * in; i++)
            x[i] = ids ? (float)(1 + (unsigned)(k * 31 + i * 7) % (unsigned)(vocab - 1)) : (float)((k + i) % 17) / 17.0f - 0.5f;
        double t0 = sn_time_now();
        for (int j = 0; j < ns; j++)
            if (sn_stream_step(s[j], NULL, R, x, y) != SN_OK) {
                fprintf(stderr, "bench_stream: %s\n", sn_error_last());
                exit(1);
            }
        double dt = sn_time_now() - t0;
        if (k >= 50) t[k - 50] = dt * 1e6; /* after 50 warm-up steps */
    }
    qsort(t, (size_t)steps, sizeof *t, cmp);
    printf("%s %d %.2f %.2f\n", name, R, t[steps / 2], t[(size_t)(steps * 0.99)]);
    free(x), free(y), free(t);
}

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 2000;
    if (steps < 100) steps = 100;
    sn_threads_set(1);
    sn_model *lstm = make("lstm(32), dense(1)", 2, 120, 14);
    sn_model *gru = make("gru(32, return_sequences=true), gru(32), dense(1)", 2, 120, 14);
    sn_model *cell = make("embedding(20000, 256), lstm(32, return_sequences=true)", 1, 600, 0);
    static const int rows[2] = {1, 64};
    for (int r = 0; r < 2; r++) {
        int R = rows[r], n = R == 1 ? steps : steps / 4;
        sn_stream *s[2];
        if (sn_stream_init(&s[0], lstm, R)) return 1;
        run("lstm32", s, 1, R, n, 0, 0);
        sn_stream_free(s[0]);
        if (sn_stream_init(&s[0], gru, R)) return 1;
        run("gru32x2", s, 1, R, n, 0, 0);
        sn_stream_free(s[0]);
        if (sn_stream_init(&s[0], cell, R) || sn_stream_init(&s[1], cell, R)) return 1;
        run("bilstm32", s, 2, R, n, 1, 20000);
        sn_stream_free(s[0]);
        sn_stream_free(s[1]);
    }
    sn_model_free(lstm), sn_model_free(gru), sn_model_free(cell);
    return 0;
}
