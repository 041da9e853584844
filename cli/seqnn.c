/* seqnn: command-line front end. Each subcommand lives in cli/cmd_*.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "cli.h"
#include "cli_dist.h"

int cmd_import(int argc, char **argv); /* cmd_import.c */
int cmd_export(int argc, char **argv); /* cmd_export.c */

/* fontconfig (used by cairo for plot text) keeps a process-lifetime cache
 * that LeakSanitizer reports at exit; it is not seqnn's memory. Read only by
 * sanitizer builds. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

static void usage(void) {
    printf("seqnn %s — Keras-grade sequence models in C\n\n"
           "usage: seqnn <command> [options]   (seqnn <command> --help for its options)\n\n"
           "commands:\n"
           "  summary    print a model's Keras summary from a spec or a model file\n"
           "  forecast   train / compare forecasters (the seed's, baselines, ETS, DLinear) on a CSV\n"
           "  backtest   walk-forward evaluation of one forecaster over several folds\n"
           "  classify   train / compare the seed's text classifiers on a folder or archive\n"
           "  predict    forecast or classify with a saved model\n"
           "  import     a Keras model (.keras, .h5, or JSON + weights .h5) into a seqnn model file\n"
           "  export     a seqnn model as a Keras 3 .keras archive or as standalone C\n"
           "  vectorize  adapt a TextVectorization and show vocabulary / encodings\n"
           "  embed      train Word2Vec, load word vectors, query similar words and analogies\n"
           "  version    print the version (--verbose: CPU, vector path, denormals, threads, BLAS kernel)\n\n"
           "global: --threads N (or SEQNN_THREADS) sets the thread count; results do not depend on it,\n"
           "        except Word2Vec training (embed --train, and classify's pretrained_bilstm without\n"
           "        --vectors), which runs Hogwild: reproducible only with --threads 1.\n"
           "        --chunks K trains in chunked mode: each batch cut into K chunks summed exactly, the\n"
           "        model bit-identical to `mpirun -np N seqnn ... --chunks K` of the MPI build for any N\n"
           "        (under mpirun K defaults to the largest divisor of the batch up to 8; docs/distributed.md).\n",
           SEQNN_VERSION);
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv) {
    /* OpenMP threads that spin while waiting steal the core the working
     * thread needs whenever the machine is shared (measured: LSTM(16)
     * training at 2 threads, 7,000 samples/s spinning vs 26,000 passive on a
     * loaded 2-core machine). libgomp reads OMP_WAIT_POLICY when it loads, so
     * the only way to default it is to re-execute once with it set; a value
     * the user gives is kept. */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("SEQNN_REEXEC")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        setenv("SEQNN_REEXEC", "1", 1);
        execv("/proc/self/exe", argv); /* returns only on failure: carry on with the default */
    }
    /* --threads may appear anywhere; strip it before dispatch. */
    int k = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            int n = atoi(argv[++i]);
            if (n < 1 || n > 1024) {
                fprintf(stderr, "seqnn: --threads must be in [1, 1024], got '%s'\n", argv[i]);
                return 2;
            }
            sn_threads_set(n);
            continue;
        }
        if (!strcmp(argv[i], "--chunks") && i + 1 < argc) {
            int n = atoi(argv[++i]);
            if (n < 1 || n > 65536) {
                fprintf(stderr, "seqnn: --chunks must be in [1, 65536], got '%s'\n", argv[i]);
                return 2;
            }
            cli_chunks = n;
            continue;
        }
        argv[k++] = argv[i];
    }
    argc = k;
    argv[argc] = NULL;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    sn_threads_get();
    cli_install_log(0);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines reach logs as they happen */
    if (cli_dist_start(&argc, &argv)) return 1; /* MPI build under mpirun: the group of ranks */
    return cli_dist_end(dispatch(argc, argv));
}

/* Runs the subcommand argv[1]; its exit status. */
static int dispatch(int argc, char **argv) {
    const char *c = argv[1];
    if (!strcmp(c, "version") || !strcmp(c, "--version")) return cmd_version(argc, argv);
    if (!strcmp(c, "summary")) return cmd_summary(argc, argv);
    if (!strcmp(c, "forecast")) return cmd_forecast(argc, argv);
    if (!strcmp(c, "backtest")) return cmd_backtest(argc, argv);
    if (!strcmp(c, "classify")) return cmd_classify(argc, argv);
    if (!strcmp(c, "predict")) return cmd_predict(argc, argv);
    if (!strcmp(c, "import")) return cmd_import(argc, argv);
    if (!strcmp(c, "export")) return cmd_export(argc, argv);
    if (!strcmp(c, "vectorize")) return cmd_vectorize(argc, argv);
    if (!strcmp(c, "embed")) return cmd_embed(argc, argv);
    fprintf(stderr, "seqnn: unknown command '%s' (see seqnn --help)\n", c);
    return 2;
}
