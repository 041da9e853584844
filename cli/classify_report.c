/* seqnn classify: metrics of one run and the results table (classify.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "seqnn/plot.h"

/* Prints the per-class table and the confusion matrix of m. */
static void print_metrics(const sn_class_metrics *m, const sn_text_corpus *c, int multi) {
    int K = m->K;
    printf("test metrics (%zu documents): %saccuracy %.2f%%, macro-F1 %.4f, weighted F1 %.4f", m->n,
           multi ? "exact-set " : "", 100 * m->accuracy, m->macro_f1, m->weighted_f1);
    if (!isnan(m->roc_auc)) printf(", ROC-AUC %.4f", m->roc_auc);
    printf("\n  %-20s %9s %9s %9s %9s\n", "class", "precision", "recall", "F1", "support");
    for (int k = 0; k < K && k < 50; k++)
        printf("  %-20.20s %9.4f %9.4f %9.4f %9lld\n", c->class_names[k], m->precision[k], m->recall[k], m->f1[k],
               (long long)m->support[k]);
    if (K > 50) printf("  ... (%d classes; all of them in the confusion CSV)\n", K);
    if (multi || K > 20) return;
    printf("confusion matrix (rows: true class, columns: predicted):\n  %-12s", "");
    for (int p = 0; p < K; p++) printf(" %8.8s", c->class_names[p]);
    printf("\n");
    for (int t = 0; t < K; t++) {
        printf("  %-12.12s", c->class_names[t]);
        for (int p = 0; p < K; p++) printf(" %8lld", (long long)m->confusion[(size_t)t * K + p]);
        printf("\n");
    }
}

/* <out>/<file>_confusion.csv: the K x K counts (single label) or each
 * label's tn, fp, fn, tp (multi-label). */
static int write_confusion(const sn_class_metrics *m, const sn_text_corpus *c, int multi, const char *path) {
    if (!cli_is_root()) return 0; /* MPI: rank 0 writes */
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return cli_fail(SN_ERR_NOMEM, path);
    if (multi) {
        fprintf(f, "class,tn,fp,fn,tp\n");
        for (int k = 0; k < m->K; k++)
            fprintf(f, "\"%s\",%lld,%lld,%lld,%lld\n", c->class_names[k], (long long)m->confusion[k * 4],
                    (long long)m->confusion[k * 4 + 1], (long long)m->confusion[k * 4 + 2], (long long)m->confusion[k * 4 + 3]);
    } else {
        fprintf(f, "true\\predicted");
        for (int p = 0; p < m->K; p++) fprintf(f, ",\"%s\"", c->class_names[p]);
        fprintf(f, "\n");
        for (int t = 0; t < m->K; t++) {
            fprintf(f, "\"%s\"", c->class_names[t]);
            for (int p = 0; p < m->K; p++) fprintf(f, ",%lld", (long long)m->confusion[(size_t)t * m->K + p]);
            fprintf(f, "\n");
        }
    }
    fclose(f);
    sn_status st = sn_file_write_atomic(path, buf, n);
    free(buf);
    return st ? cli_fail(st, NULL) : 0;
}

int cl_report(const cl_data *d, const float *probs, size_t width, const cl_opts *o, const char *name, const char *tag,
              cl_result *res) {
    const sn_text_corpus *c = &d->test;
    size_t n = c->n, K = (size_t)c->n_classes;
    sn_class_metrics m;
    sn_status st;
    int multi = d->task == CL_MULTILABEL;
    if (multi) {
        uint8_t *yp = malloc(n * K);
        if (!yp) return cli_fail(SN_ERR_NOMEM, "metrics");
        for (size_t i = 0; i < n * K; i++) yp[i] = probs[i] > 0.5f;
        st = sn_multilabel_metrics_compute(&m, c->label_sets, yp, n, (int)K);
        free(yp);
    } else {
        int32_t *yp = malloc(n * sizeof *yp);
        if (!yp) return cli_fail(SN_ERR_NOMEM, "metrics");
        for (size_t i = 0; i < n; i++) {
            const float *p = probs + i * width;
            size_t best = 0;
            for (size_t k = 1; k < width; k++)
                if (p[k] > p[best]) best = k;
            yp[i] = width == 1 ? p[0] > 0.5f : (int32_t)best; /* Keras: binary accuracy is p > 0.5 */
        }
        st = sn_class_metrics_compute(&m, c->labels, yp, n, (int)K, width == 1 ? probs : NULL);
        free(yp);
    }
    if (st) return cli_fail(st, "metrics");
    print_metrics(&m, c, multi);
    res->test_acc = 100 * m.accuracy;
    res->macro_f1 = m.macro_f1;
    res->weighted_f1 = m.weighted_f1;
    res->roc_auc = m.roc_auc;
    char path[4096], title[256];
    snprintf(path, sizeof path, "%s/%s%s_confusion.csv", o->t.out, name, tag);
    int rc = write_confusion(&m, c, multi, path);
    if (!rc && !multi && !o->t.no_plots) {
        snprintf(path, sizeof path, "%s/%s%s_confusion.png", o->t.out, name, tag);
        snprintf(title, sizeof title, "%s%s: confusion matrix (test, %zu documents)", name, tag, n);
        if ((st = sn_plot_confusion(path, m.confusion, (int)K, (const char *const *)c->class_names, title)))
            rc = cli_fail(st, "plot");
    }
    sn_class_metrics_free(&m);
    return rc;
}

/* Mean and sample standard deviation of the runs of `name` (a column picked by col). */
static int runs_of(const cl_result *r, int n, const char *name, double (*col)(const cl_result *), double *mean,
                   double *sd) {
    double s = 0, ss = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].name, name)) {
            s += col(&r[i]);
            k++;
        }
    *mean = k ? s / k : NAN;
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].name, name)) ss += (col(&r[i]) - *mean) * (col(&r[i]) - *mean);
    *sd = k > 1 ? sqrt(ss / (k - 1)) : 0;
    return k;
}
static double col_acc(const cl_result *r) { return r->test_acc; }
static double col_f1(const cl_result *r) { return r->macro_f1; }
static double col_time(const cl_result *r) { return r->seconds; }

/* Writes one table row to stdout, the markdown and the CSV. */
static void table_row(FILE *fm, FILE *fc, const cl_result *r, int show_seed) {
    char sk[32] = "-", ep[32] = "-", auc[32] = "";
    if (show_seed && !isnan(r->seed_acc)) snprintf(sk, sizeof sk, "%.1f%%", r->seed_acc);
    if (r->epochs_run) snprintf(ep, sizeof ep, "%d (%d)", r->epochs_run, r->best_epoch);
    if (!isnan(r->roc_auc)) snprintf(auc, sizeof auc, "%.6f", r->roc_auc);
    printf("%-24s %-10s %10zu %8s %8.2f%% %8.2f%% %8.4f %12s %9.1fs\n", r->name, r->run, r->params, ep, r->val_acc,
           r->test_acc, r->macro_f1, show_seed ? sk : "", r->seconds);
    fprintf(fm, "| %s | %s | %zu | %s | %.2f%% | %.2f%% | %.4f |%s%s%s %.1f s |\n", r->name, r->run[0] ? r->run : "-",
            r->params, ep, r->val_acc, r->test_acc, r->macro_f1, show_seed ? " " : "", show_seed ? sk : "",
            show_seed ? " |" : "", r->seconds);
    fprintf(fc, "%s,%d,%llu,%zu,%d,%d,%.6f,%.6f,%.6f,%.6f,%s,%s,%.3f,,,,\n", r->name, r->fold, (unsigned long long)r->seed,
            r->params, r->epochs_run, r->best_epoch, r->val_acc, r->test_acc, r->macro_f1, r->weighted_f1, auc,
            show_seed && !isnan(r->seed_acc) ? sk : "", r->seconds);
}

int cl_write_table(const cl_result *r, int n, const cl_opts *o, const cl_corpus *c, int show_seed) {
    char *md = NULL, *csv = NULL;
    size_t mdn = 0, csvn = 0;
    FILE *fm = open_memstream(&md, &mdn), *fc = open_memstream(&csv, &csvn);
    if (!fm || !fc) return cli_fail(SN_ERR_NOMEM, "results");
    fprintf(fm, "Data: `%s`: %zu documents, %d classes%s; %s; seed %llu\n\n", o->data, c->all.n + (o->folds >= 2 ? 0 : c->test.n),
            c->all.n_classes, c->all.label_sets ? " (multi-label)" : "",
            o->folds >= 2 ? "stratified cross-validation" : "fixed test set", (unsigned long long)o->t.seed);
    fprintf(fm, "| model | run | params | epochs (best) | val acc | test acc | test macro-F1 |%s train time |\n",
            show_seed ? " seed's Keras test acc |" : "");
    fprintf(fm, "|---|---|---:|---:|---:|---:|---:|%s---:|\n", show_seed ? "---:|" : "");
    fprintf(fc, "model,fold,seed,params,epochs,best_epoch,val_acc,test_acc,test_macro_f1,test_weighted_f1,test_roc_auc,"
                "seed_test_acc,train_seconds,cv_acc_mean,cv_acc_sd,cv_macro_f1_mean,cv_macro_f1_sd\n");
    printf("\n%-24s %-10s %10s %8s %9s %9s %8s %12s %10s\n", "model", "run", "params", "epochs", "val", "test", "macro-F1",
           show_seed ? "seed (Keras)" : "", "time");
    for (int i = 0; i < n; i++) table_row(fm, fc, &r[i], show_seed);
    /* mean ± sd over the folds / seeds of each model */
    int summary = 0;
    for (int i = 0; i < n; i++) {
        int first = 1;
        for (int j = 0; j < i; j++) first &= strcmp(r[j].name, r[i].name) != 0;
        double am, as, fm1, fs, tm, ts;
        if (!first || runs_of(r, n, r[i].name, col_acc, &am, &as) < 2) continue;
        int k = runs_of(r, n, r[i].name, col_f1, &fm1, &fs);
        runs_of(r, n, r[i].name, col_time, &tm, &ts);
        if (!summary++) fprintf(fm, "\n| model | runs | test acc (mean ± sd) | test macro-F1 (mean ± sd) | time per run |\n|---|---:|---:|---:|---:|\n");
        printf("%-24s %-10s mean ± sd over %d runs: test acc %.2f ± %.2f %%, macro-F1 %.4f ± %.4f, %.1f s per run\n",
               r[i].name, o->folds >= 2 ? "folds" : "seeds", k, am, as, fm1, fs, tm);
        fprintf(fm, "| %s | %d %s | %.2f ± %.2f %% | %.4f ± %.4f | %.1f s |\n", r[i].name, k, o->folds >= 2 ? "folds" : "seeds",
                am, as, fm1, fs, tm);
        fprintf(fc, "%s,mean,,%zu,,,,%.6f,%.6f,,,,%.3f,%.6f,%.6f,%.6f,%.6f\n", r[i].name, r[i].params, am, fm1, tm, am, as,
                fm1, fs);
    }
    fclose(fm);
    fclose(fc);
    char path[4096];
    snprintf(path, sizeof path, "%s/results.md", o->t.out);
    sn_status st = cli_is_root() ? sn_file_write_atomic(path, md, mdn) : SN_OK; /* MPI: rank 0 writes */
    snprintf(path, sizeof path, "%s/results.csv", o->t.out);
    if (!st && cli_is_root()) st = sn_file_write_atomic(path, csv, csvn);
    free(md);
    free(csv);
    if (st) return cli_fail(st, NULL);
    printf("\ntable written to %s/results.md and %s/results.csv\n", o->t.out, o->t.out);
    return 0;
}
