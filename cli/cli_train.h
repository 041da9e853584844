/* What the training commands (forecast, classify) share: their common
 * options, defined once (name, type, range, field; the help text where the
 * commands differ), and the run of one model (fit with a best-on-validation
 * checkpoint and resume file, reload the best, evaluate, history). */
#ifndef SEQNN_CLI_TRAIN_H
#define SEQNN_CLI_TRAIN_H

#include "cli.h"

/* The options every training command takes. */
typedef struct cli_train {
    const char *model;   /* --model NAME|SPEC|@file */
    const char *models;  /* --models a,b (with --all) */
    const char *out;     /* --out DIR */
    int all, epochs, batch, patience, resume, no_plots, quiet;
    uint64_t seed;
    sn_optimizer_cfg opt; /* from CLI_OPTIMIZER_OPTS */
} cli_train;

#define CLI_TRAIN_MODEL(t, help) CLI_STR("model", &(t)->model, NULL, help)
#define CLI_TRAIN_ALL(t) CLI_FLAG("all", &(t)->all, "run every preset and print the seed-style table")
#define CLI_TRAIN_MODELS(t, help) CLI_STR("models", &(t)->models, NULL, help)
#define CLI_TRAIN_EPOCHS(t, def, help) CLI_INT("epochs", &(t)->epochs, def, 1, 100000, help)
#define CLI_TRAIN_BATCH(t, def, help) CLI_INT("batch-size", &(t)->batch, def, 1, 1 << 20, help)
#define CLI_TRAIN_PATIENCE(t) \
    CLI_INT("patience", &(t)->patience, -1, -1, 100000, "early stopping patience on val_loss (default off)")
#define CLI_TRAIN_SEED(t, def, help) CLI_U64("seed", &(t)->seed, def, 0, 0x7fffffffL, help)
#define CLI_TRAIN_OUT(t, dir) CLI_STR("out", &(t)->out, dir, "output directory (default " dir ")")
#define CLI_TRAIN_RESUME(t) CLI_FLAG("resume", &(t)->resume, "continue an interrupted run from its .resume file")
#define CLI_TRAIN_NO_PLOTS(t, help) CLI_FLAG("no-plots", &(t)->no_plots, help)
#define CLI_TRAIN_QUIET(t) CLI_FLAG("quiet", &(t)->quiet, "no per-epoch progress")

/* Parses argv[2..] into opts (whose typed entries fill t and the command's
 * own variables). Returns 0 after printing the usage for --help, 2 after
 * printing why for an unknown option, a bad value, or neither --model nor
 * --all; -1 when the command should go on. The optimizer options are read
 * by the caller (cli_optimizer), after its own checks. */
int cli_train_parse(int argc, char **argv, cli_opt *opts, const char *cmd, const char *synopsis, cli_train *t);

/* Creates t->out (and parents); prints "seqnn CMD: cannot create output
 * directory" and returns 1 on failure, else 0. */
int cli_train_mkout(const cli_train *t, const char *cmd);

/* What the run of one model gives. */
typedef struct cli_fit_result {
    double val, test;    /* `metric` of the best checkpoint on validation / test */
    double seconds;      /* training wall time */
    int epochs_run, best_epoch;
} cli_fit_result;

/* Trains the compiled model m on train for t->epochs, validating on val:
 * best-on-val_loss checkpoint <out>/<name>.seqnn, resume state
 * <out>/<name>.resume (continued with t->resume), early stopping after
 * t->patience epochs, the progress bar unless t->quiet, stopping cleanly
 * on SIGINT / SIGTERM. Then reloads the best checkpoint into *best and
 * evaluates `metric` (a sn_logs key, e.g. "mae") on val and test. *h keeps
 * the history (free it with sn_history_free, also on failure; *best too).
 * On failure prints "seqnn: <context>: <message>" (with resume_hint, also
 * how to resume an interrupted run) and returns 1; else 0. */
int cli_fit_best(sn_model *m, const cli_train *t, const char *name, const sn_dataset *train, const sn_dataset *val,
                 const sn_dataset *test, const char *metric, int resume_hint, sn_model **best, sn_history *h,
                 cli_fit_result *r);

/* Writes <out>/<name>.history.csv (and .history.json when json). */
void cli_write_history(const cli_train *t, const char *name, const sn_history *h, int json);

/* Column `col` of the history (h->epochs values, malloc'd, free it), or NULL. */
double *cli_history_column(const sn_history *h, const char *col);

#endif
