/* Shared CLI helpers: options, log sink, progress bar, signals. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cli_dist.h"

#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_parse(int argc, char **argv, int first, cli_opt *opts, const char *cmd) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "seqnn %s: unexpected argument '%s' (options start with --)\n", cmd, a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        cli_opt *o = NULL;
        for (cli_opt *p = opts; p->name; p++)
            if (strlen(p->name) == nl && !strncmp(p->name, a, nl)) o = p;
        if (!o) {
            fprintf(stderr, "seqnn %s: unknown option '--%.*s' (see seqnn %s --help)\n", cmd, (int)nl, a, cmd);
            return -1;
        }
        if (o->takes_value) {
            if (eq)
                o->value = eq + 1;
            else if (i + 1 < argc)
                o->value = argv[++i];
            else {
                fprintf(stderr, "seqnn %s: option '--%s' needs a value\n", cmd, o->name);
                return -1;
            }
        } else {
            if (eq) {
                fprintf(stderr, "seqnn %s: option '--%s' takes no value\n", cmd, o->name);
                return -1;
            }
            o->value = "1";
        }
    }
    return 0;
}

const char *cli_get(const cli_opt *opts, const char *name) {
    for (const cli_opt *p = opts; p->name; p++)
        if (!strcmp(p->name, name)) return p->value;
    return NULL;
}

int cli_flag(const cli_opt *opts, const char *name) { return cli_get(opts, name) != NULL; }

int cli_int(const cli_opt *opts, const char *name, long def, long lo, long hi, long *out) {
    const char *v = cli_get(opts, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "seqnn: --%s must be an integer in [%ld, %ld], got '%s'\n", name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_double(const cli_opt *opts, const char *name, double def, double lo, double hi, double *out) {
    const char *v = cli_get(opts, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < lo || x > hi) {
        fprintf(stderr, "seqnn: --%s must be a number in [%g, %g], got '%s'\n", name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_apply(const cli_opt *opts) {
    for (const cli_opt *p = opts; p->name; p++) {
        long x;
        double d;
        switch (p->type) {
        case CLI_T_NONE: break;
        case CLI_T_FLAG: *(int *)p->dst = p->value != NULL; break;
        case CLI_T_STR: *(const char **)p->dst = p->value ? p->value : p->sdef; break;
        case CLI_T_INT:
        case CLI_T_U64:
        case CLI_T_SIZE:
            if (cli_int(opts, p->name, (long)p->def, (long)p->lo, (long)p->hi, &x)) return -1;
            if (p->type == CLI_T_INT) *(int *)p->dst = (int)x;
            else if (p->type == CLI_T_U64) *(uint64_t *)p->dst = (uint64_t)x;
            else *(size_t *)p->dst = (size_t)x;
            break;
        case CLI_T_DOUBLE:
            if (cli_double(opts, p->name, p->def, p->lo, p->hi, &d)) return -1;
            *(double *)p->dst = d;
            break;
        }
    }
    return 0;
}

int cli_in_list(const char *list, const char *name) {
    char buf[512], key[80];
    snprintf(buf, sizeof buf, ",%s,", list);
    snprintf(key, sizeof key, ",%s,", name);
    return strstr(buf, key) != NULL;
}

void cli_usage(const cli_opt *opts, const char *cmd, const char *synopsis) {
    printf("usage: seqnn %s %s\n\noptions:\n", cmd, synopsis);
    for (const cli_opt *p = opts; p->name; p++)
        printf("  --%-22s %s\n", p->takes_value ? p->name : p->name, p->help ? p->help : "");
}

int cli_fail(sn_status st, const char *context) {
    const char *msg = sn_error_last();
    char who[32] = "seqnn";
    if (cli_rank > 0) snprintf(who, sizeof who, "seqnn [rank %d]", cli_rank); /* MPI: which rank says it */
    if (context)
        fprintf(stderr, "%s: %s: %s\n", who, context, msg[0] ? msg : sn_status_str(st));
    else
        fprintf(stderr, "%s: %s\n", who, msg[0] ? msg : sn_status_str(st));
    return 1;
}

static int g_log_min = SN_LOG_INFO;
static void log_sink(sn_log_level level, const char *msg, void *user) {
    (void)user;
    if ((int)level < g_log_min) return;
    fprintf(stderr, "%s%s\n", level == SN_LOG_WARN ? "warning: " : "", msg);
}

void cli_install_log(int verbose) {
    g_log_min = verbose ? SN_LOG_DEBUG : SN_LOG_INFO;
    sn_log_set(log_sink, NULL);
}

void cli_progress_init(cli_progress *p, int quiet) {
    p->out = stdout;
    p->tty = isatty(fileno(stdout));
    p->quiet = quiet;
    p->header_epoch = 0;
    p->last_draw = 0;
}

/* Keras formats values with %.4f when |v| > 1e-3, else %.4e. */
static void fmt_val(char *buf, size_t n, double v) {
    if (fabs(v) > 1e-3 || v == 0)
        snprintf(buf, n, "%.4f", v);
    else
        snprintf(buf, n, "%.4e", v);
}

static void fmt_logs(char *buf, size_t n, const sn_logs *l) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < l->n && k < n; i++) {
        char v[32];
        fmt_val(v, sizeof v, l->val[i]);
        k += (size_t)snprintf(buf + k, n - k, " - %s: %s", l->key[i], v);
    }
}

void cli_progress_cb(const sn_progress *pr, void *user) {
    cli_progress *p = user;
    if (p->quiet) return;
    char logs[512];
    fmt_logs(logs, sizeof logs, &pr->logs);
    double per_step = pr->step ? pr->elapsed / pr->step : 0;
    /* "Epoch i/N" once per epoch (Keras prints it only when epochs > 1): at the
     * first report on a terminal, with the final line otherwise. */
    if (pr->epochs > 1 && p->header_epoch != pr->epoch && (p->tty || pr->done)) {
        fprintf(p->out, "Epoch %d/%d\n", pr->epoch, pr->epochs);
        p->header_epoch = pr->epoch;
    }
    if (pr->done) {
        char unit[32];
        if (per_step >= 1)
            snprintf(unit, sizeof unit, "%.0fs/step", per_step);
        else
            snprintf(unit, sizeof unit, "%.0fms/step", per_step * 1000);
        fprintf(p->out, "%s%d/%d ━━━━━━━━━━━━━━━━━━━━ %.0fs %s%s\n", p->tty ? "\r\033[K" : "", pr->steps, pr->steps,
                floor(pr->elapsed), unit, logs);
        fflush(p->out);
        return;
    }
    if (!p->tty) return;
    if (pr->step > 1 && pr->elapsed - p->last_draw < 0.05) return;
    p->last_draw = pr->step > 1 ? pr->elapsed : 0;
    /* In-place bar: 20 cells, ETA from the mean step time so far. */
    int filled = (int)(20.0 * pr->step / pr->steps);
    char bar[128] = {0};
    size_t k = 0;
    for (int i = 0; i < 20; i++) k += (size_t)sprintf(bar + k, "%s", i < filled ? "━" : "\033[2m━\033[0m");
    double eta = per_step * (pr->steps - pr->step);
    fprintf(p->out, "\r\033[K%d/%d %s %.0fs %.0fms/step%s", pr->step, pr->steps, bar, ceil(eta), per_step * 1000,
            logs);
    fflush(p->out);
}

char *cli_read_spec(const char *arg) {
    if (!arg) return NULL;
    if (arg[0] != '@') return strdup(arg);
    FILE *fp = fopen(arg + 1, "rb");
    if (!fp) {
        fprintf(stderr, "seqnn: cannot open model spec file '%s': %s\n", arg + 1, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    int c;
    while (s && (c = fgetc(fp)) != EOF) {
        if (n + 2 > cap) {
            if (cap > (1u << 20)) {
                fprintf(stderr, "seqnn: model spec file '%s' is larger than 1 MiB\n", arg + 1);
                free(s);
                s = NULL;
                break;
            }
            char *ns = realloc(s, cap *= 2);
            if (!ns) {
                free(s);
                s = NULL;
                break;
            }
            s = ns;
        }
        s[n++] = (char)c;
    }
    fclose(fp);
    if (s) s[n] = 0;
    return s;
}

int cli_parse_shape(const char *s, int *shape, int max) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0 || v > (1 << 26) || n >= max) return -1;
        shape[n++] = (int)v;
        p = end;
        if (*p == ',') p++;
        else if (*p) return -1;
    }
    return n ? n : -1;
}

volatile sig_atomic_t cli_stop_flag;
static void on_signal(int sig) {
    (void)sig;
    cli_stop_flag = 1;
}

void cli_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_mkdirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

int cli_optimizer(const cli_opt *opts, sn_opt_kind def, sn_optimizer_cfg *out) {
    sn_opt_kind k = def;
    const char *name = cli_get(opts, "optimizer");
    if (name && sn_optimizer_parse(name, &k) != SN_OK) {
        fprintf(stderr, "seqnn: --optimizer must be rmsprop, adam or sgd, got '%s'\n", name);
        return -1;
    }
    sn_optimizer_cfg_default(out, k);
    double lr, cn, cv, gn;
    if (cli_double(opts, "lr", out->lr, 1e-12, 10, &lr) || cli_double(opts, "clipnorm", 0, 0, 1e30, &cn) ||
        cli_double(opts, "clipvalue", 0, 0, 1e30, &cv) || cli_double(opts, "global-clipnorm", 0, 0, 1e30, &gn))
        return -1;
    if ((cn > 0) + (cv > 0) + (gn > 0) > 1) {
        fprintf(stderr, "seqnn: give at most one of --clipnorm, --clipvalue, --global-clipnorm (as Keras)\n");
        return -1;
    }
    out->lr = lr;
    out->clipnorm = cn;
    out->clipvalue = cv;
    out->global_clipnorm = gn;
    out->legacy_rmsprop_eps = cli_flag(opts, "keras2-rmsprop");
    return 0;
}

int cli_write_results(const char *out, const char *preamble, const char *metric, int percent, const cli_row *r, int n) {
    char *md = NULL, *csv = NULL;
    size_t mdn = 0, csvn = 0;
    FILE *fm = open_memstream(&md, &mdn), *fc = open_memstream(&csv, &csvn);
    if (!fm || !fc) {
        if (fm) fclose(fm);
        if (fc) fclose(fc);
        free(md);
        free(csv);
        return cli_fail(sn_error(SN_ERR_NOMEM, "out of memory"), NULL);
    }
    const char *pc = percent ? "%" : "";
    fprintf(fm, "%s\n\n| model | params | epochs (best) | val %s | test %s | seed's Keras test %s | train time |\n", preamble,
            metric, metric, metric);
    fprintf(fm, "|---|---:|---:|---:|---:|---:|---:|\n");
    char lm[32];
    size_t k = 0;
    for (; metric[k] && k + 1 < sizeof lm; k++) lm[k] = (char)tolower((unsigned char)metric[k]);
    lm[k] = 0;
    fprintf(fc, "model,params,epochs,best_epoch,val_%s,test_%s,seed_test_%s,train_seconds\n", lm, lm, lm);
    printf("\n%-24s %10s %8s %9s %9s %12s %10s\n", "model", "params", "epochs", "val", "test", "seed (Keras)", "time");
    for (int i = 0; i < n; i++) {
        char sk[32] = "-";
        if (!isnan(r[i].seed_ref)) snprintf(sk, sizeof sk, percent ? "%.1f%%" : "%.2f", r[i].seed_ref);
        printf("%-24s %10zu %4d (%2d) %8.2f%1s %8.2f%1s %12s %9.1fs\n", r[i].name, r[i].params, r[i].epochs, r[i].best_epoch,
               r[i].val, pc, r[i].test, pc, sk, r[i].seconds);
        fprintf(fm, "| %s | %zu | %d (%d) | %.2f%s | %.2f%s | %s | %.1f s |\n", r[i].name, r[i].params, r[i].epochs,
                r[i].best_epoch, r[i].val, pc, r[i].test, pc, sk, r[i].seconds);
        fprintf(fc, "%s,%zu,%d,%d,%.6f,%.6f,%s,%.3f\n", r[i].name, r[i].params, r[i].epochs, r[i].best_epoch, r[i].val,
                r[i].test, isnan(r[i].seed_ref) ? "" : sk, r[i].seconds);
    }
    fclose(fm);
    fclose(fc);
    char path[4096];
    sn_status st = SN_OK;
    if (cli_is_root()) { /* MPI: rank 0 writes */
        snprintf(path, sizeof path, "%s/results.md", out);
        st = sn_file_write_atomic(path, md, mdn);
        snprintf(path, sizeof path, "%s/results.csv", out);
        if (!st) st = sn_file_write_atomic(path, csv, csvn);
    }
    free(md);
    free(csv);
    if (st) return cli_fail(st, NULL);
    printf("\ntable written to %s/results.md and %s/results.csv\n", out, out);
    return 0;
}
