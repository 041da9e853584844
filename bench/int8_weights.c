/* Writes a copy of a model whose matrices hold what `seqnn export --c
 * --int8` computes with: q · s per output column (interop/cexport.c's
 * quantization; tests/test_export_c.c checks that the int8 C file matches
 * libseqnn on such weights within 1e-5). Used to measure the accuracy cost
 * of --int8 with the ordinary evaluation path (docs/deployment.md).
 *   build/int8_weights IN.seqnn OUT.seqnn */
#include <stdio.h>
#include <stdlib.h>

#include "interop/cexport_internal.h"
#include "model/model_impl.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: int8_weights IN.seqnn OUT.seqnn\n");
        return 2;
    }
    sn_model *m = NULL;
    if (sn_model_load(&m, argv[1]) != SN_OK) {
        fprintf(stderr, "int8_weights: %s\n", sn_error_last());
        return 1;
    }
    size_t done = 0;
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        for (int k = 0; k < L->n_tensors; k++) {
            const sn_tensor_info *t = &L->tensors[k];
            if (!snx_quantized(t->name) || t->rank < 2) continue;
            size_t N = (size_t)t->dims[t->rank - 1], R = t->numel / N;
            float *w = L->w + t->offset, *s = malloc(N * sizeof *s);
            snx_quant_scales(w, R, N, s);
            for (size_t e = 0; e < t->numel; e++) w[e] = (float)snx_quant(w[e], s[e % N]) * s[e % N];
            free(s);
            done += t->numel;
        }
    }
    if (sn_model_save(m, argv[2]) != SN_OK) {
        fprintf(stderr, "int8_weights: %s\n", sn_error_last());
        return 1;
    }
    fprintf(stderr, "int8_weights: %zu of %zu parameters quantized -> %s\n", done, m->n_params, argv[2]);
    sn_model_free(m);
    return 0;
}
