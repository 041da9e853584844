/* seqnn summary: the Keras model.summary() table from a spec or a model file. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_summary(int argc, char **argv) {
    cli_opt opts[] = {
        CLI_RAW("model", 1, "model spec text, @file with the spec, or a saved .seqnn model file"),
        CLI_RAW("input-shape", 1, "input shape without the batch, e.g. 120,14 (not needed for a model file)"),
        CLI_RAW("sparse", 0, "the input is a sparse bag-of-words vector (width = input shape)"),
        CLI_RAW("keras2", 0, "print the tf.keras 2 layout (the book's) instead of Keras 3's"),
        CLI_RAW("help", 0, "show this help"),
        CLI_END};
    if (cli_parse(argc, argv, 2, opts, "summary")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "summary", "--input-shape 120,14 --model \"lstm(16), dense(1)\"");
        return 0;
    }
    const char *marg = cli_get(opts, "model");
    if (!marg) {
        fprintf(stderr, "seqnn summary: --model is required\n");
        return 2;
    }
    sn_model *m = NULL;
    sn_status st;
    FILE *probe = marg[0] != '@' ? fopen(marg, "rb") : NULL;
    char magic[8] = {0};
    int is_file = probe && fread(magic, 1, 8, probe) == 8 && !memcmp(magic, "SNMODEL", 7);
    if (probe) fclose(probe);
    if (is_file) {
        st = sn_model_load(&m, marg);
        if (st) return cli_fail(st, NULL);
    } else {
        const char *shape = cli_get(opts, "input-shape");
        if (!shape) {
            fprintf(stderr, "seqnn summary: --input-shape is required with a spec (e.g. --input-shape 120,14)\n");
            return 2;
        }
        sn_model_opts mo;
        memset(&mo, 0, sizeof mo);
        mo.input_rank = cli_parse_shape(shape, mo.input_shape, 3);
        if (mo.input_rank < 0) {
            fprintf(stderr, "seqnn summary: bad --input-shape '%s' (expected positive integers like 120,14)\n", shape);
            return 2;
        }
        mo.input_sparse = cli_flag(opts, "sparse");
        char *spec = cli_read_spec(marg);
        if (!spec) return 1;
        st = sn_model_init(&m, spec, &mo);
        free(spec);
        if (st) return cli_fail(st, NULL);
    }
    char *s = sn_model_summary(m, cli_flag(opts, "keras2") ? SN_SUMMARY_KERAS2 : SN_SUMMARY_KERAS3);
    if (s) fputs(s, stdout);
    free(s);
    sn_model_free(m);
    return s ? 0 : 1;
}
