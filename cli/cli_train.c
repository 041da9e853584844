/* The training commands' shared options and model run (cli_train.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli_train.h"
#include "cli_dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_train_parse(int argc, char **argv, cli_opt *opts, const char *cmd, const char *synopsis, cli_train *t) {
    if (cli_parse(argc, argv, 2, opts, cmd)) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, cmd, synopsis);
        return 0;
    }
    if (!cli_flag(opts, "all") && !cli_get(opts, "model")) {
        fprintf(stderr, "seqnn %s: give --model NAME|SPEC or --all (see seqnn %s --help)\n", cmd, cmd);
        return 2;
    }
    if (cli_apply(opts)) return 2;
    /* t is filled by the typed entries of opts. Under MPI rank 0 alone
     * writes: the other ranks draw no plots. */
    if (!cli_is_root()) t->no_plots = 1;
    return -1;
}

int cli_train_mkout(const cli_train *t, const char *cmd) {
    if (!cli_mkdirs(t->out)) return 0;
    fprintf(stderr, "seqnn %s: cannot create output directory '%s'\n", cmd, t->out);
    return 1;
}

double *cli_history_column(const sn_history *h, const char *col) {
    double *v = malloc((size_t)(h->epochs > 0 ? h->epochs : 1) * sizeof *v);
    const double *c = v ? sn_history_column(h, col, v) : NULL;
    if (!c) {
        free(v);
        return NULL;
    }
    if (c != v) memcpy(v, c, (size_t)h->epochs * sizeof *v);
    return v;
}

/* Epoch (1-based) of the lowest val_loss, 0 when there is none. */
static int best_epoch(const sn_history *h) {
    double *col = cli_history_column(h, "val_loss"), bestv = INFINITY;
    int best = 0;
    for (int e = 0; col && e < h->epochs; e++)
        if (col[e] < bestv) {
            bestv = col[e];
            best = e + 1;
        }
    free(col);
    return best;
}

/* A failure every rank of a chunked run saw alike: rank 0 prints it. */
static int best_failed(sn_status st, const char *context) {
    cli_dist_agreed = cli_comm != NULL;
    return cli_is_root() ? cli_fail(st, context) : 1;
}

int cli_fit_best(sn_model *m, const cli_train *t, const char *name, const sn_dataset *train, const sn_dataset *val,
                 const sn_dataset *test, const char *metric, int resume_hint, sn_model **best, sn_history *h,
                 cli_fit_result *r) {
    char ck[4096], rs[4096];
    snprintf(ck, sizeof ck, "%s/%s.seqnn", t->out, name);
    snprintf(rs, sizeof rs, "%s/%s.resume", t->out, name);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = t->epochs;
    fo.batch_size = t->batch;
    fo.seed = t->seed;
    fo.val = val;
    fo.checkpoint_path = ck;
    fo.checkpoint_monitor = "val_loss";
    fo.save_best_only = 1;
    fo.early_stopping_patience = t->patience;
    fo.resume_path = rs;
    fo.resume = t->resume;
    fo.stop_flag = &cli_stop_flag;
    fo.chunks = cli_fit_chunks(t->batch);
    fo.comm = cli_comm;
    cli_progress pg;
    cli_progress_init(&pg, t->quiet);
    fo.progress = cli_is_root() ? cli_progress_cb : NULL;
    fo.user = &pg;
    if (cli_comm && cli_is_root() && fo.chunks < cli_comm->size)
        fprintf(stderr, "warning: %d ranks but %d chunks per batch: ranks %d and up compute nothing (--chunks)\n",
                cli_comm->size, fo.chunks, fo.chunks);
    double t0 = sn_time_now();
    sn_status st = sn_model_fit(m, train, &fo, h);
    r->seconds = sn_time_now() - t0;
    if (st) {
        cli_dist_agreed = cli_comm != NULL; /* chunked fit fails on every rank alike; rank 0 says why */
        if (!cli_is_root()) return 1;
        if (st == SN_ERR_INTERRUPTED && resume_hint)
            fprintf(stderr, "seqnn: %s\nseqnn: rerun with --resume to continue from %s\n", sn_error_last(), rs);
        return cli_fail(st, name);
    }
    r->epochs_run = h->epochs;
    /* every rank reads the checkpoint rank 0 wrote (a shared file system) */
    st = sn_comm_agree(cli_comm, sn_model_load(best, ck));
    if (st) return best_failed(st, "reloading the best checkpoint");
    sn_logs vl, tl;
    if (fo.chunks > 0) { /* the same numbers on any number of ranks */
        st = sn_model_evaluate_chunked(*best, val, t->batch, cli_comm, &vl);
        if (!st) st = sn_model_evaluate_chunked(*best, test, t->batch, cli_comm, &tl);
    } else if (!(st = sn_model_evaluate(*best, val, t->batch, &vl))) {
        st = sn_model_evaluate(*best, test, t->batch, &tl);
    }
    if (st) return best_failed(st, "evaluation");
    r->val = sn_logs_get(&vl, metric);
    r->test = sn_logs_get(&tl, metric);
    r->best_epoch = best_epoch(h);
    return 0;
}

void cli_write_history(const cli_train *t, const char *name, const sn_history *h, int json) {
    if (!cli_is_root()) return; /* MPI: rank 0 writes */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.history.csv", t->out, name);
    sn_history_write_csv(h, path);
    if (!json) return;
    snprintf(path, sizeof path, "%s/%s.history.json", t->out, name);
    sn_history_write_json(h, path);
}
