/* seqnn import: a Keras model (.keras, legacy .h5, or JSON + weights .h5)
 * into a seqnn model file. Nothing is written unless the whole import
 * succeeds (the model file is written atomically). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_import(int argc, char **argv);

/* Splits the command's arguments: "-o X" is the output, a bare word that is
 * not an option's value is FILE; the options go to rest (for cli_parse).
 * Returns the count in rest, or -1 after printing an error. */
static int split_args(int argc, char **argv, const cli_opt *opts, char **rest, const char **file, const char **out) {
    int n = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") && i + 1 < argc) {
            *out = argv[++i];
        } else if (!strncmp(a, "--", 2)) {
            rest[n++] = argv[i];
            size_t nl = strcspn(a + 2, "=");
            for (const cli_opt *p = opts; p->name; p++)
                if (strlen(p->name) == nl && !strncmp(p->name, a + 2, nl) && p->takes_value && !a[2 + nl] && i + 1 < argc)
                    rest[n++] = argv[++i];
        } else if (!*file) {
            *file = a;
        } else {
            fprintf(stderr, "seqnn import: one FILE only ('%s' and '%s')\n", *file, a);
            return -1;
        }
    }
    return n;
}

int cmd_import(int argc, char **argv) {
    cli_opt opts[] = {
        CLI_RAW("out", 1, "the seqnn model file to write (also -o)"),
        CLI_RAW("config", 1, "JSON architecture (model.to_json()) of a weights-only HDF5 (with --weights)"),
        CLI_RAW("weights", 1, "weights-only HDF5 (model.save_weights) for --config"),
        CLI_RAW("input-shape", 1, "input shape without the batch (e.g. 100 or 120,14) where the file leaves it open (None)"),
        CLI_RAW("summary", 0, "print the imported model's summary"),
        CLI_RAW("help", 0, "show this help"),
        CLI_END};
    char **rest = calloc((size_t)argc + 2, sizeof *rest);
    if (!rest) return 1;
    const char *file = NULL, *out = NULL;
    rest[0] = argv[0];
    rest[1] = argv[1];
    int n = split_args(argc, argv, opts, rest + 2, &file, &out);
    int bad = n < 0 || cli_parse(n + 2, rest, 2, opts, "import");
    free(rest);
    if (bad) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "import", "FILE.keras|FILE.h5 -o model.seqnn   |   --config F.json --weights F.h5 -o model.seqnn");
        return 0;
    }
    if (!out) out = cli_get(opts, "out");
    const char *cfg = cli_get(opts, "config"), *w = cli_get(opts, "weights");
    if ((cfg != NULL) != (w != NULL)) {
        fprintf(stderr, "seqnn import: --config and --weights go together\n");
        return 2;
    }
    if (cfg && file) {
        fprintf(stderr, "seqnn import: give either FILE or --config/--weights, not both\n");
        return 2;
    }
    if (!cfg && !file) {
        fprintf(stderr, "seqnn import: which file? (seqnn import FILE -o model.seqnn; see --help)\n");
        return 2;
    }
    if (!out) {
        fprintf(stderr, "seqnn import: -o model.seqnn is required\n");
        return 2;
    }
    sn_keras_import_opts o;
    sn_keras_import_opts_default(&o);
    o.weights_path = w;
    const char *shape = cli_get(opts, "input-shape");
    if (shape) {
        o.input_rank = cli_parse_shape(shape, o.input_shape, 2);
        if (o.input_rank < 0) {
            fprintf(stderr, "seqnn import: bad --input-shape '%s' (positive integers like 100 or 120,14)\n", shape);
            return 2;
        }
    }
    sn_model *m = NULL;
    sn_status st = sn_keras_import(&m, cfg ? cfg : file, &o);
    if (st) return cli_fail(st, NULL);
    st = sn_model_save(m, out);
    if (st) {
        sn_model_free(m);
        return cli_fail(st, NULL);
    }
    size_t tr, nt, total = sn_model_param_count(m, &tr, &nt);
    fprintf(stderr, "seqnn import: %s -> %s: %d layers, %zu parameters (%zu trainable)\n", cfg ? cfg : file, out,
            sn_model_n_layers(m), total, tr);
    fflush(stderr);
    if (cli_flag(opts, "summary")) {
        char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
        if (s) printf("%s\n", s);
        free(s);
    }
    sn_model_free(m);
    return 0;
}
