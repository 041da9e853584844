/* Benchmark: loading a full-size Jena CSV (420,551 rows x 15 columns, 10-minute
 * steps, ~43 MB) with sn_csv_read, plain and gzip, against a strtod-per-field
 * loop over the same bytes.
 *
 * The 2009-2016 file is not available here, so one is synthesized: the rows
 * of the 2024 roof extract (../shared/data/jena_roof_20240609-20241020_SUBSTITUTE.csv.gz)
 * tiled with consecutive 10-minute dates from 01.01.2009 00:10:00, written
 * in the original format ("%.2f", dd.mm.yyyy HH:MM:SS, quoted header).
 *
 * Build and run from the repository root:
 *   make build/libseqnn.a
 *   gcc -O2 -std=c11 -Iinclude -Isrc bench/csv_load.c build/libseqnn.a -o build/csv_load \
 *       -fopenmp -lopenblas -lz -larchive -lcairo -lm -lpthread
 *   build/csv_load [/tmp/jena_synth.csv] [repeats]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "seqnn/core.h"
#include "seqnn/data.h"

#define ROWS 420551

static int synthesize(const char *path, const char *gzpath) {
    const char *src = getenv("SEQNN_SHARED_DATA") ? NULL : "../shared/data/jena_roof_20240609-20241020_SUBSTITUTE.csv.gz";
    char buf[4096];
    if (!src) {
        snprintf(buf, sizeof buf, "%s/jena_roof_20240609-20241020_SUBSTITUTE.csv.gz", getenv("SEQNN_SHARED_DATA"));
        src = buf;
    }
    sn_table t;
    if (sn_csv_read(&t, src, NULL) != SN_OK) {
        fprintf(stderr, "cannot read the extract: %s\n", sn_error_last());
        return 1;
    }
    FILE *fp = fopen(path, "wb");
    gzFile gz = gzopen(gzpath, "wb6");
    if (!fp || !gz) {
        fprintf(stderr, "cannot create %s / %s\n", path, gzpath);
        return 1;
    }
    char line[1024];
    int o = snprintf(line, sizeof line, "\"Date Time\"");
    for (int c = 0; c < t.n_cols; c++) o += snprintf(line + o, sizeof line - (size_t)o, ",\"%s\"", t.col_names[c]);
    o += snprintf(line + o, sizeof line - (size_t)o, "\n");
    fwrite(line, 1, (size_t)o, fp);
    gzwrite(gz, line, (unsigned)o);
    int64_t t0 = 1230768600; /* 2009-01-01 00:10:00 */
    for (size_t i = 0; i < ROWS; i++) {
        char ts[32];
        sn_time_format(t0 + (int64_t)i * 600, ts, sizeof ts); /* yyyy-mm-dd HH:MM:SS */
        o = snprintf(line, sizeof line, "%.2s.%.2s.%.4s %s", ts + 8, ts + 5, ts, ts + 11);
        const double *row = t.data + (i % t.n_rows) * (size_t)t.n_cols;
        for (int c = 0; c < t.n_cols; c++) o += snprintf(line + o, sizeof line - (size_t)o, ",%.2f", row[c]);
        line[o++] = '\n';
        fwrite(line, 1, (size_t)o, fp);
        gzwrite(gz, line, (unsigned)o);
    }
    fclose(fp);
    gzclose(gz);
    sn_table_free(&t);
    return 0;
}

/* Reference: fields split by hand, every value through strtod. */
static double strtod_baseline(const char *path, size_t *n_vals) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    double t0 = sn_time_now();
    if (fread(b, 1, (size_t)sz, fp) != (size_t)sz) return -1;
    b[sz] = 0;
    fclose(fp);
    double sum = 0;
    size_t n = 0;
    char *p = strchr(b, '\n') + 1;
    while (*p) {
        p = strchr(p, ',') + 1; /* skip date */
        for (;;) {
            char *e;
            sum += strtod(p, &e);
            n++;
            p = e;
            if (*p == ',') p++;
            else break;
        }
        if (*p == '\n') p++;
    }
    double dt = sn_time_now() - t0;
    free(b);
    *n_vals = n + (sum == 12345.678); /* keep sum alive */
    return dt;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/tmp/jena_synth.csv";
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    char gzpath[1024];
    snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    if (access(path, R_OK) != 0 || access(gzpath, R_OK) != 0) {
        double t0 = sn_time_now();
        if (synthesize(path, gzpath)) return 1;
        printf("synthesized %s and %s in %.2f s\n", path, gzpath, sn_time_now() - t0);
    }
    const char *paths[2] = {path, gzpath};
    for (int k = 0; k < 2; k++) {
        double best = 1e30, best_cpu = 1e30;
        sn_table t;
        for (int r = 0; r < reps; r++) {
            double t0 = sn_time_now();
            clock_t c0 = clock();
            if (sn_csv_read(&t, paths[k], NULL) != SN_OK) {
                fprintf(stderr, "%s\n", sn_error_last());
                return 1;
            }
            double dt = sn_time_now() - t0, dc = (double)(clock() - c0) / CLOCKS_PER_SEC;
            if (dt < best) best = dt;
            if (dc < best_cpu) best_cpu = dc;
            if (r + 1 < reps) sn_table_free(&t);
        }
        printf("sn_csv_read %-28s %zu rows x %d cols: best of %d: wall %.3f s, CPU %.3f s\n", paths[k], t.n_rows,
               t.n_cols, reps, best, best_cpu);
        sn_table_free(&t);
    }
    size_t nv = 0;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double dt = strtod_baseline(path, &nv);
        if (dt < best) best = dt;
    }
    printf("strtod-per-field baseline (numbers only, no dates/checks): %zu values, best %.3f s\n", nv, best);
    return 0;
}
