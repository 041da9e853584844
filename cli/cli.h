/* Shared pieces of the seqnn command-line tool: option parsing, the log
 * sink, the Keras-style progress bar, model-spec presets. The CLI prints;
 * the library returns codes. */
#ifndef SEQNN_CLI_H
#define SEQNN_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "seqnn.h"

#define SN_MIN_SZ(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))

/* Kinds of typed option (cli_opt.type): cli_apply converts the text into *dst. */
typedef enum cli_type {
    CLI_T_NONE = 0, /* untyped: read it with cli_get / cli_flag */
    CLI_T_FLAG,     /* int: 1 when given, else 0 */
    CLI_T_STR,      /* const char *: the text, else sdef */
    CLI_T_INT,      /* int in [lo, hi], else def */
    CLI_T_U64,      /* uint64_t in [lo, hi], else def */
    CLI_T_SIZE,     /* size_t in [lo, hi], else def */
    CLI_T_DOUBLE    /* double in [lo, hi], else def */
} cli_type;

/* Simple long-option parser: --name value, --name=value, --flag. A typed
 * option also names the variable it fills, its range and its default, so
 * an option is one line of a command's table: CLI_INT("epochs", &o.epochs,
 * 10, 1, 100000, "epochs (default 10)"). The default is not range-checked
 * (0 may mean "not given"). */
typedef struct cli_opt {
    const char *name;   /* without dashes */
    int takes_value;
    const char *help;
    const char *value;  /* filled: the value, or "1" for a flag given, NULL if absent */
    cli_type type;      /* CLI_T_NONE for an untyped option */
    void *dst;          /* typed: the variable to fill */
    double def, lo, hi; /* typed numbers: default and inclusive range */
    const char *sdef;   /* CLI_T_STR: default */
} cli_opt;

/* An untyped option (read with cli_get / cli_flag), taking a value or not. */
#define CLI_RAW(name, takes_value, help) {name, takes_value, help, NULL, CLI_T_NONE, NULL, 0, 0, 0, NULL}
#define CLI_FLAG(name, dst, help) {name, 0, help, NULL, CLI_T_FLAG, (int *)(dst), 0, 0, 0, NULL}
#define CLI_STR(name, dst, sdef, help) {name, 1, help, NULL, CLI_T_STR, (const char **)(dst), 0, 0, 0, sdef}
#define CLI_INT(name, dst, def, lo, hi, help) {name, 1, help, NULL, CLI_T_INT, (int *)(dst), def, lo, hi, NULL}
#define CLI_U64(name, dst, def, lo, hi, help) {name, 1, help, NULL, CLI_T_U64, (uint64_t *)(dst), def, lo, hi, NULL}
#define CLI_SIZE(name, dst, def, lo, hi, help) {name, 1, help, NULL, CLI_T_SIZE, (size_t *)(dst), def, lo, hi, NULL}
#define CLI_DOUBLE(name, dst, def, lo, hi, help) {name, 1, help, NULL, CLI_T_DOUBLE, (double *)(dst), def, lo, hi, NULL}
#define CLI_HELP {"help", 0, "show this help", NULL, CLI_T_NONE, NULL, 0, 0, 0, NULL}
#define CLI_END {NULL, 0, NULL, NULL, CLI_T_NONE, NULL, 0, 0, 0, NULL}

/* Parses argv[first..argc) into opts (terminated by name == NULL). Unknown
 * options and missing values print a message naming them and return -1. */
int cli_parse(int argc, char **argv, int first, cli_opt *opts, const char *cmd);
/* Fills every typed option's variable, in table order, from its value or
 * its default. A value that is not a number in range prints
 * "seqnn: --NAME must be an integer in [lo, hi], got 'V'" (or "a number")
 * and returns -1. */
int cli_apply(const cli_opt *opts);
/* 1 when "a,b,c" (a comma-separated list) holds name. */
int cli_in_list(const char *list, const char *name);

/* The value of option `name` after cli_parse ("1" for a flag given), or
 * NULL when absent or unknown. Points into argv. */
const char *cli_get(const cli_opt *opts, const char *name);
/* 1 when option `name` was given. */
int cli_flag(const cli_opt *opts, const char *name);
/* Option `name` as an integer / a number in [lo, hi] into *out, def when
 * absent; a bad value prints "seqnn: --NAME must be ..." and returns -1. */
int cli_int(const cli_opt *opts, const char *name, long def, long lo, long hi, long *out);
int cli_double(const cli_opt *opts, const char *name, double def, double lo, double hi, double *out);
/* Prints "usage: seqnn CMD SYNOPSIS" and one line per option to stdout. */
void cli_usage(const cli_opt *opts, const char *cmd, const char *synopsis);

/* Optimizer from the shared options --optimizer, --lr, --clipnorm,
 * --clipvalue, --global-clipnorm, --keras2-rmsprop (Keras defaults for the
 * rest); prints and returns -1 on a bad value. */
int cli_optimizer(const cli_opt *opts, sn_opt_kind def, sn_optimizer_cfg *out);
#define CLI_OPTIMIZER_OPTS                                                                                   \
    CLI_RAW("optimizer", 1, "rmsprop (default, as the seed) | adam | sgd"),                                     \
    CLI_RAW("lr", 1, "learning rate (default: the optimizer's Keras default)"),                                 \
    CLI_RAW("clipnorm", 1, "clip each gradient tensor to this norm"),                                           \
    CLI_RAW("clipvalue", 1, "clip each gradient element to [-v, v]"),                                           \
    CLI_RAW("global-clipnorm", 1, "clip all gradients to this global norm"),                                    \
    CLI_RAW("keras2-rmsprop", 0, "RMSprop with epsilon outside the sqrt (tf.keras <= 2.10, the book's TF)")

/* Prints "seqnn: <context>: <sn_error_last()>" to stderr and returns 1. */
int cli_fail(sn_status st, const char *context);

/* Installs the stderr log sink (level >= min). */
void cli_install_log(int verbose);

/* Keras-style progress reporting for sn_fit_opts.progress (user = cli_progress*). */
typedef struct cli_progress {
    int tty;            /* redraw a bar in place */
    int quiet;          /* print nothing */
    int header_epoch;   /* last epoch whose "Epoch i/N" header was printed */
    double last_draw;   /* elapsed time of the last in-place redraw (redraws at most 20 per second) */
    FILE *out;
} cli_progress;
/* A Keras-style reporter on stdout: the bar redrawn in place on a terminal,
 * one line per epoch otherwise; quiet prints nothing. */
void cli_progress_init(cli_progress *p, int quiet);
/* The sn_fit_opts.progress callback; user is a cli_progress. */
void cli_progress_cb(const sn_progress *pr, void *user);

/* Reads a model spec: "@file" reads the file, else the text itself. Returns
 * malloc'd text or NULL (message printed). */
char *cli_read_spec(const char *arg);

/* Parses "120,14" into shape; returns rank or -1. */
int cli_parse_shape(const char *s, int *shape, int max);

/* Signal handling: SIGINT / SIGTERM set this flag; training finishes its step. */
extern volatile sig_atomic_t cli_stop_flag;
/* Installs the SIGINT / SIGTERM handlers that set cli_stop_flag. */
void cli_install_signals(void);

/* Creates a directory (and parents) if needed; 0 on success. */
int cli_mkdirs(const char *path);

/* One row of a seed-style results table (forecast MAE or classify accuracy). */
typedef struct cli_row {
    const char *name;
    size_t params;
    int epochs, best_epoch;
    double val, test;   /* metric values (MAE, or accuracy in %) */
    double seed_ref;    /* the seed's Keras test value, NaN when it printed none */
    double seconds;     /* training wall time */
} cli_row;

/* Prints the table and writes <out>/results.md (with `preamble` above it)
 * and <out>/results.csv atomically. metric: "MAE" or "acc"; percent appends
 * '%' to values. Returns 0, or 1 after printing the error. */
int cli_write_results(const char *out, const char *preamble, const char *metric, int percent, const cli_row *r, int n);

/* The subcommands: argv[1] is the command's name, options follow. Each
 * prints its results to stdout and its errors to stderr and returns the exit
 * status: 0 done, 1 failed (the message names the file / value), 2 usage. */
int cmd_summary(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_vectorize(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
