/* seqnn predict: options and dispatch by the kind of model file — a
 * forecasting model (predict_forecast.c) or a text model (predict_text.c). */
#include <stdio.h>

#include "cli.h"
#include "forecast_meta.h"
#include "predict.h"

int cmd_predict(int argc, char **argv) {
    cli_opt opts[] = {
        CLI_RAW("model", 1, "a model file written by seqnn forecast / classify"),
        CLI_RAW("data", 1, "forecasting: CSV with the model's feature columns; classification: a CSV / TSV / JSONL of texts"),
        CLI_RAW("out", 1, "forecasting: every forecast as CSV; classification: every class's probability as CSV; "
                          "with --npy: the output .npy"),
        CLI_RAW("ffill", 0, "forecasting: forward-fill missing values"),
        CLI_RAW("text", 1, "classification: the text to classify"),
        CLI_RAW("input", 1, "classification: a text file or a folder of .txt files (default: stdin)"),
        CLI_RAW("top-k", 1, "classification: print the K most probable classes of each text (default 1)"),
        CLI_RAW("text-column", 1, "classification with --data: the CSV / TSV / JSONL text column(s) (default text)"),
        CLI_RAW("format", 1, "classification with --data: csv | tsv | jsonl (default: by the file name)"),
        CLI_RAW("no-header", 0, "classification with --data: CSV / TSV without a header row"),
        CLI_RAW("encoding", 1, "classification: utf8 (default) | cp1252 | latin1"),
        CLI_RAW("npy", 1, "a .npy array of model inputs (N, T, C) or (N, T) token ids (no normalisation)"),
        CLI_RAW("stream", 0, "read one time step per stdin line (comma-separated), print one output per line; "
                             "a blank line starts a new sequence"),
        CLI_RAW("help", 0, "show this help"),
        CLI_END};
    if (cli_parse(argc, argv, 2, opts, "predict")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "predict", "--model FILE (--data FILE | --text T | --input PATH | --npy X.npy --out Y.npy | --stream | < text)");
        return 0;
    }
    const char *mp = cli_get(opts, "model");
    if (!mp) {
        fprintf(stderr, "seqnn predict: --model FILE is required\n");
        return 2;
    }
    sn_model *m = NULL;
    sn_status st = sn_model_load(&m, mp);
    if (st) return cli_fail(st, NULL);
    size_t n;
    const void *blob;
    int rc;
    if (cli_get(opts, "npy"))
        rc = cli_predict_npy(m, cli_get(opts, "npy"), cli_get(opts, "out"));
    else if (cli_flag(opts, "stream"))
        rc = cli_predict_stream(m);
    else if ((blob = sn_model_get_meta(m, FC_META_KEY, &n)))
        rc = cli_predict_forecast(m, blob, n, opts);
    else if ((blob = sn_model_get_meta(m, "vectorizer", &n)))
        rc = cli_predict_text(m, blob, n, opts);
    else {
        fprintf(stderr, "seqnn predict: %s holds no forecasting or text metadata (was it written by seqnn forecast / classify?)\n", mp);
        rc = 1;
    }
    sn_model_free(m);
    return rc;
}
