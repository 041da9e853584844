/* seqnn export: a seqnn model as a Keras 3 archive (--keras) or as one
 * standalone C99 file (--c, with its header; --int8 for int8 weights). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_export(int argc, char **argv);

int cmd_export(int argc, char **argv) {
    cli_opt opts[] = {
        CLI_RAW("keras", 1, "the seqnn model file to export as a Keras 3 .keras archive"),
        CLI_RAW("c", 1, "the seqnn model file to export as standalone C (model.c + model.h)"),
        CLI_RAW("out", 1, "output path (also -o): model.keras, or model.c (the header goes beside it as model.h)"),
        CLI_RAW("int8", 0, "with --c: int8 weights with one scale per output channel"),
        CLI_RAW("prefix", 1, "with --c: prefix of the generated C names (default: the output file's base name)"),
        CLI_RAW("help", 0, "show this help"),
        CLI_END};
    const char *out = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return 1;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i >= 2 && !strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else rest[n++] = argv[i];
    }
    int bad = cli_parse(n, rest, 2, opts, "export");
    free(rest);
    if (bad) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "export", "--keras model.seqnn -o model.keras   |   --c model.seqnn -o model.c [--int8]");
        return 0;
    }
    if (!out) out = cli_get(opts, "out");
    const char *k = cli_get(opts, "keras"), *c = cli_get(opts, "c");
    if ((k != NULL) == (c != NULL) || !out) {
        fprintf(stderr, "seqnn export: give one of --keras MODEL or --c MODEL, and -o OUT\n");
        return 2;
    }
    if (k && (cli_flag(opts, "int8") || cli_get(opts, "prefix"))) {
        fprintf(stderr, "seqnn export: --int8 and --prefix go with --c\n");
        return 2;
    }
    sn_model *m = NULL;
    sn_status st = sn_model_load(&m, k ? k : c);
    if (st) return cli_fail(st, NULL);
    if (k) {
        st = sn_keras_export(m, out, NULL);
    } else {
        sn_cexport_opts o;
        sn_cexport_opts_default(&o);
        o.int8 = cli_flag(opts, "int8");
        o.prefix = cli_get(opts, "prefix");
        st = sn_cexport(m, out, &o);
    }
    sn_model_free(m);
    if (st) return cli_fail(st, NULL);
    fprintf(stderr, "seqnn export: %s -> %s\n", k ? k : c, out);
    return 0;
}
