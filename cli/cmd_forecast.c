/* seqnn forecast: train and compare forecasters on a CSV series.
 *
 * On the bundled Jena file (no --data) the defaults are the seed's protocol:
 * raw target, the value 24 h after 120 h of hourly inputs, 50/25/25 split
 * with look-back windows inside each split, RMSprop / MSE / MAE and a
 * best-on-validation checkpoint; `--all` runs the seed's presets and writes
 * the seed-style table. On any --data the target is standardised with the
 * training statistics (`--target-scale standard`), as every forecasting
 * library does. Multi-step (--steps all), several targets, baselines, ETS,
 * DLinear, channel independence, quantile heads and conformal intervals,
 * several series (--id-column): docs/forecasting.md. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

typedef struct fc_cli {
    cli_train t;
    fc_opts o;
    int quick;
} fc_cli;

/* The protocol line: the seed's wording for one target at the horizon. */
static void print_protocol(const fc_data *d) {
    char sbuf[32], a[32], b[32];
    sn_duration_format(d->sampling_s, sbuf, sizeof sbuf);
    long delay = (long)(d->lay.lookback - 1) * d->lay.sampling + d->ws.last;
    if (!d->steps_all && d->K == 1)
        printf("protocol: %d steps of %s in, target \"%s\" %s after the last step (delay %ld rows); ", d->lay.lookback,
               sbuf, d->tab.col_names[d->tcol[0]], d->o.horizon, delay);
    else
        printf("protocol: %d steps of %s in, %d target(s) (\"%s\"%s) at %d step(s) %s..%s after the last step; ",
               d->lay.lookback, sbuf, d->K, d->tab.col_names[d->tcol[0]], d->K > 1 ? ", ..." : "", d->lay.n_steps,
               sn_duration_format(d->ws.first * d->step_s, a, sizeof a),
               sn_duration_format(d->ws.last * d->step_s, b, sizeof b));
    printf("windows train %zu / val %zu / test %zu\n", d->w[0].n, d->w[1].n, d->w[2].n);
    printf("target scale: %s%s; split %s%s; season %ld rows\n", sn_fc_scale_name(d->scale),
           d->o.bundled && !d->o.scale ? " (the seed's protocol on the bundled data)" : "", d->o.split,
           d->o.split_context ? " with context before each border" : "", d->season);
}

/* Runs one model, prints its line, writes its outputs, appends to res. */
static int run_one(fc_data *d, const fc_cli *c, const fc_preset *p, const char *spec, int epochs, double naive,
                   fc_result *res, int *n) {
    fc_result r;
    int rc = fc_run_model(d, p, spec, epochs, &c->t, 1, NULL, &r);
    if (rc) {
        fc_result_free(&r);
        return rc;
    }
    fc_report_line(d, &r, naive);
    fc_write_model_outputs(d, &r, c->t.out, !c->t.no_plots);
    res[(*n)++] = r;
    return 0;
}

/* --all: the seed's presets (or the --models subset, any preset; "all" for
 * every one); else the one preset or spec. */
static int run_models(fc_data *d, const fc_cli *c, fc_result *res, int *n, int cap) {
    fc_result naive;
    if (fc_run_model(d, fc_preset_find("naive"), NULL, 0, &c->t, 0, NULL, &naive)) {
        fc_result_free(&naive);
        return 1;
    }
    const double nt = naive.test.mae;
    fc_result_free(&naive);
    int rc = 0;
    if (c->t.all) {
        int every = c->t.models && !strcmp(c->t.models, "all");
        if (c->t.models && !every) {
            char *list = strdup(c->t.models), *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
                if (!fc_preset_find(tok)) {
                    fprintf(stderr, "seqnn forecast: --models: unknown preset '%s'\n", tok);
                    rc = 2;
                }
            free(list);
        }
        for (int i = 0; fc_preset_at(i) && !rc && *n < cap; i++) {
            const fc_preset *p = fc_preset_at(i);
            if (c->t.models ? !(every || cli_in_list(c->t.models, p->name)) : !p->seed_table) continue;
            int ep = c->t.epochs ? c->t.epochs : (c->quick ? 2 : p->epochs);
            rc = run_one(d, c, p, NULL, ep, nt, res, n);
        }
        return rc;
    }
    const fc_preset *p = fc_preset_find(c->t.model);
    char *spec = NULL;
    if (!p && !(spec = cli_read_spec(c->t.model))) return 1;
    int ep = c->t.epochs ? c->t.epochs : (p ? p->epochs : 10);
    rc = run_one(d, c, p, spec, ep, nt, res, n);
    free(spec);
    return rc;
}

/* 1 when preset p (NULL: a spec) is fitted on its windows' rows alone. */
static int on_windows(const fc_preset *p) { return !p || p->spec || (strcmp(p->name, "ets") && strcmp(p->name, "seasonal_naive")); }

/* 1 when every model the command runs is fitted on its windows' rows alone
 * (the selection of run_models), so that under MPI each rank may read only
 * its share of the data. */
static int models_on_windows(const fc_cli *c) {
    if (!c->t.all) return on_windows(fc_preset_find(c->t.model));
    int every = c->t.models && !strcmp(c->t.models, "all");
    for (int i = 0; fc_preset_at(i); i++) {
        const fc_preset *p = fc_preset_at(i);
        int run = c->t.models ? every || cli_in_list(c->t.models, p->name) : p->seed_table;
        if (run && !on_windows(p)) return 0;
    }
    return 1;
}

int cmd_forecast(int argc, char **argv) {
    fc_cli c;
    memset(&c, 0, sizeof c);
    cli_opt opts[] = {
        FC_DATA_OPTS(&c.o),
        CLI_TRAIN_MODEL(&c.t, "preset (naive seasonal_naive mean drift ets linear dlinear dense conv1d simple_rnn lstm "
                              "lstm_dropout gru_stacked bilstm), a spec, or @file"),
        CLI_TRAIN_ALL(&c.t),
        CLI_FLAG("quick", &c.quick, "with --all: 2 epochs per model (a smoke run, not the seed's numbers)"),
        CLI_TRAIN_MODELS(&c.t, "with --all: comma-separated presets (any, or all), default the seed's"),
        CLI_TRAIN_EPOCHS(&c.t, 0, "epochs (default: the seed's, 10 or 50)"),
        CLI_TRAIN_BATCH(&c.t, 256, "batch size (default 256)"),
        CLI_OPTIMIZER_OPTS,
        CLI_TRAIN_PATIENCE(&c.t),
        CLI_TRAIN_SEED(&c.t, 1, "random seed (default 1)"),
        CLI_TRAIN_OUT(&c.t, "out/forecast"),
        CLI_TRAIN_RESUME(&c.t),
        CLI_TRAIN_NO_PLOTS(&c.t, "skip the PNG plots"),
        CLI_TRAIN_QUIET(&c.t),
        CLI_HELP,
        CLI_END};
    int rc = cli_train_parse(argc, argv, opts, "forecast", "[--data FILE] (--model NAME|SPEC | --all) [options]", &c.t);
    if (rc >= 0) return rc;
    if (cli_optimizer(opts, SN_OPT_RMSPROP, &c.t.opt)) return 2;
    if (cli_train_mkout(&c.t, "forecast")) return 1;
    cli_install_signals();
    fc_data d;
    c.o.whole = models_on_windows(&c) ? NULL : "ETS or seasonal_naive reads more than its windows' rows";
    rc = fc_data_load(&d, &c.o, "forecast", 0);
    d.batch = c.t.batch;
    d.chunks = cli_fit_chunks(c.t.batch);
    if (!rc) rc = fc_data_split_borders(&d, "forecast");
    if (!rc) rc = fc_data_windows(&d, c.t.seed, "forecast", c.o.split_context);
    if (!rc) rc = fc_data_stats(&d, "forecast"); /* a rank reading its share reads its rows here */
    if (rc) {
        fc_data_free(&d);
        return rc;
    }
    print_protocol(&d);
    if (!c.t.no_plots) fc_plot_series(&d, c.t.out);
    enum { CAP = 32 };
    fc_result res[CAP];
    int n = 0;
    rc = run_models(&d, &c, res, &n, CAP);
    if (!rc && n) rc = fc_write_results(&d, res, n, c.t.out, c.t.seed);
    for (int i = 0; i < n; i++) fc_result_free(&res[i]);
    fc_data_free(&d);
    return rc;
}
