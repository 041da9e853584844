/* seqnn classify / predict end to end on the committed three-class corpus
 * (tests/fixtures/corpus, written by tests/gen_corpus_fixtures.py): CSV ->
 * train -> predict round trips with the class names from the model file,
 * --out probabilities, folds with their summary columns, multi-label, the
 * cnn preset, errors naming file:line, and the seed's reference column
 * only on the seed's data. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

static char g_out[1 << 17];

static int read_all(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = 0;
    fclose(f);
    return 1;
}

/* Accuracy of the predictions in an --out CSV (input,label,p...) against
 * the labels of topics.jsonl (same order); also checks each row's
 * probabilities sum to 1 within the 6 printed decimals (3 classes: 3 roundings of 5e-7). */
static double out_accuracy(const char *csv, int *rows_ok) {
    static char buf[1 << 16], ref[1 << 16];
    if (!read_all(csv, buf, sizeof buf) || !read_all(sn_test_path("corpus/topics.jsonl"), ref, sizeof ref)) return -1;
    char *line = strchr(buf, '\n'), *r = ref;
    int n = 0, ok = 0;
    *rows_ok = 1;
    while (line && line[1]) {
        line++;
        char *lab = strstr(line, "\",\"") + 3, *end = strchr(lab, '"');
        double p[3];
        if (sscanf(end + 2, "%lf,%lf,%lf", &p[0], &p[1], &p[2]) != 3 || fabs(p[0] + p[1] + p[2] - 1) > 2e-6) *rows_ok = 0;
        char *want = strstr(r, "\"label\": \"") + 10;
        ok += !strncmp(want, lab, (size_t)(end - lab)) && want[end - lab] == '"';
        r = strchr(want, '\n');
        n++;
        line = strchr(line, '\n');
    }
    return n == 120 ? (double)ok / n : -1;
}

TEST(classify_cli_csv_train_predict_round_trip) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[4096], out[512], csv[600];
    snprintf(out, sizeof out, "%s/clr", sn_test_tmpdir());
    const char *models[] = {"nb", "logreg"};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "classify --data %s --model %s --out %s --quiet --no-plots",
                 sn_test_path("corpus/topics.csv"), models[i], out);
        CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
        CHECK(strstr(g_out, "3 classes food/sport/tech") && strstr(g_out, "stratified"));
        CHECK(strstr(g_out, "macro-F1") && strstr(g_out, "confusion matrix") && !strstr(g_out, "seed (Keras)"));
        /* a text made only of one class's words gets that class, by name */
        snprintf(args, sizeof args, "predict --model %s/%s.seqnn --text \"goal goal match team league\" --top-k 3", out,
                 models[i]);
        CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
        CHECK_MSG(strstr(g_out, "rank\tprobability\tlabel\tinput\n1\t") && strstr(g_out, "\tsport\t--text\n2\t"), "%s", g_out);
        /* every class's probability for a JSONL file of texts: the 120 training-set labels are mostly reproduced */
        snprintf(csv, sizeof csv, "%s/probs.csv", out);
        snprintf(args, sizeof args, "predict --model %s/%s.seqnn --data %s --out %s", out, models[i],
                 sn_test_path("corpus/topics.jsonl"), csv);
        CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
        int rows_ok = 0;
        double acc = out_accuracy(csv, &rows_ok);
        CHECK_MSG(acc > 0.8 && rows_ok, "%s: accuracy %.3f of the --out labels, rows ok %d", models[i], acc, rows_ok);
        char head[256];
        CHECK(read_all(csv, head, 40) && !strncmp(head, "input,label,\"food\",\"sport\",\"tech\"\n", 34));
    }
    /* a binary model keeps one sigmoid and prints the predicted label's probability */
    snprintf(args, sizeof args, "classify --data %s --model nb --out %s/imdb --quiet --no-plots", sn_test_path("imdb_small"),
             out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "ROC-AUC") && strstr(g_out, "aclImdb layout"));
    snprintf(args, sizeof args, "predict --model %s/imdb/nb.seqnn --text \"an awful boring waste\" --top-k 2", out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "\tneg\t--text") && strstr(g_out, "\tpos\t--text"));
}

TEST(classify_cli_folds_multilabel_cnn_and_errors) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[4096], out[512], buf[1 << 14];
    snprintf(out, sizeof out, "%s/clf", sn_test_tmpdir());
    snprintf(args, sizeof args, "classify --data %s --folds 3 --all --models nb,logreg --out %s --quiet --no-plots",
             sn_test_path("corpus/topics.tsv"), out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    char path[600];
    snprintf(path, sizeof path, "%s/results.csv", out);
    CHECK(read_all(path, buf, sizeof buf));
    CHECK(strstr(buf, "test_acc,test_macro_f1") && strstr(buf, "cv_acc_mean,cv_acc_sd,cv_macro_f1_mean"));
    CHECK(strstr(buf, "\nnb,3,") && strstr(buf, "\nlogreg,mean,"));
    snprintf(path, sizeof path, "%s/nb_fold2_confusion.csv", out);
    CHECK(read_all(path, buf, sizeof buf) && strstr(buf, "true\\predicted,\"food\",\"sport\",\"tech\""));
    /* multi-label: one sigmoid per class, the label set printed */
    snprintf(args, sizeof args, "classify --data %s --label-column tags --multi-label --label-delimiter \"|\" --model nb "
             "--out %s --quiet --no-plots", sn_test_path("corpus/tags.csv"), out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "(multi-label)") && strstr(g_out, "dense(3, activation=sigmoid)") && strstr(g_out, "exact-set"));
    snprintf(args, sizeof args, "predict --model %s/nb.seqnn --text \"goal goal team pasta soup bread\"", out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK_MSG(strstr(g_out, "\tfood,sport\t--text") || strstr(g_out, "\tsport,food\t--text"), "%s", g_out);
    /* the cnn preset on K classes: softmax head, auto length in the header */
    snprintf(args, sizeof args, "classify --data %s --model cnn --epochs 2 --out %s --quiet --no-plots",
             sn_test_path("corpus/topics.jsonl"), out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "parallelconv1d(100, kernel_sizes=(3, 4, 5), activation=relu)") &&
          strstr(g_out, "dense(3, activation=softmax)") && strstr(g_out, "(auto: the 95th percentile"));
    /* errors name file:line and exit 1 */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.csv", sn_test_tmpdir());
    FILE *f = fopen(bad, "w");
    CHECK(f);
    fputs("text,label\nfine,a\nalso fine,b\n\"never closed,a\n", f);
    fclose(f);
    snprintf(args, sizeof args, "classify --data %s --model nb --out %s --quiet", bad, out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "bad.csv:4: quoted field opened at column 1"));
    snprintf(args, sizeof args, "classify --data %s --model nb --folds 3 --test-split 0.2 --out %s", bad, out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 2);
    snprintf(args, sizeof args, "classify --data %s --text-column body --model nb --out %s", sn_test_path("corpus/topics.csv"),
             out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "no text column \"body\" (columns: \"id\", \"text\", \"label\")"));
}

/* Writes s to DIR/name (the test's temporary folder); returns the path. */
static const char *put_file(char *path, size_t n, const char *name, const char *s) {
    snprintf(path, n, "%s/%s", sn_test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    fputs(s, f);
    fclose(f);
    return path;
}

/* The flags one by one: --test-data, --format with --no-header and
 * column indices (and the hint when a table file's name hides its format),
 * --encoding, --class-weight balanced (reported in the header), char_cnn's
 * bounded automatic length and cnn --vectors. */
TEST(classify_cli_input_flags_weights_and_presets) {
    if (access(sn_test_cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    char args[4096], out[512], nh[600], enc[600];
    snprintf(out, sizeof out, "%s/clf2", sn_test_tmpdir());
    char topics[600]; /* sn_test_path's buffer is reused by the next call */
    snprintf(topics, sizeof topics, "%s", sn_test_path("corpus/topics.csv"));
    snprintf(args, sizeof args, "classify --data %s --test-data %s --model nb --out %s --quiet --no-plots", topics,
             sn_test_path("corpus/topics.tsv"), out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "test: 120 documents from ") && strstr(g_out, "test metrics (120 documents)"));
    /* label first, then text; no header; a .txt name */
    char rows[4096] = "";
    const char *words[3][2] = {{"food", "pasta soup bread salad oven"}, {"sport", "goal team match league score"},
                               {"tech", "chip code laptop network software"}};
    for (int i = 0; i < 30; i++)
        snprintf(rows + strlen(rows), sizeof rows - strlen(rows), "%s,\"%s, %d\"\n", words[i % 3][0], words[i % 3][1], i);
    CHECK(put_file(nh, sizeof nh, "noheader.txt", rows));
    snprintf(args, sizeof args, "classify --data %s --no-header --model nb --out %s --quiet --no-plots", nh, out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "give --format csv|tsv|jsonl"));
    /* a missing file is only that */
    snprintf(args, sizeof args, "classify --data %s.missing --model nb --out %s --quiet --no-plots", nh, out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "No such file") && !strstr(g_out, "--format"));
    snprintf(args, sizeof args,
             "classify --data %s --format csv --no-header --label-column 0 --text-column 1 --model nb --out %s --quiet "
             "--no-plots", nh, out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "30 documents, 3 classes food/sport/tech") && strstr(g_out, "accuracy 100.00%"));
    /* cp1252: 0xE9 is é, 0x80 the euro sign */
    CHECK(put_file(enc, sizeof enc, "cp1252.csv",
                   "text,label\ncaf\xe9 cr\xe8me,food\nthe \x80 price,money\nsoup,food\ncosts \x80,money\n"
                   "bread,food\nfee,money\noven,food\nbank,money\npasta,food\ncash,money\n"));
    snprintf(args, sizeof args, "classify --data %s --model nb --out %s --quiet --no-plots", enc, out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 1 && strstr(g_out, "cp1252.csv:2:4: invalid UTF-8 byte 0xE9"));
    snprintf(args, sizeof args, "classify --data %s --encoding cp1252 --model nb --out %s --quiet --no-plots", enc, out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    /* balanced weights n / (K n_c): the split (77 training texts: 28 food, 23 sport, 26 tech) gives 77/84, 77/69, 77/78 */
    snprintf(args, sizeof args, "classify --data %s --model logreg --class-weight balanced --out %s --quiet --no-plots",
             topics, out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK_MSG(strstr(g_out, "77 training") && strstr(g_out, "class weights (balanced, n / (K n_c)): food 0.917 sport 1.116 "
                                                            "tech 0.987"), "%s", g_out);
    snprintf(args, sizeof args, "classify --data %s --model nb --class-weight tilted --out %s", topics, out);
    CHECK(sn_test_cli_run(g_out, sizeof g_out, args) == 2);
    snprintf(args, sizeof args, "classify --data %s --model char_cnn --epochs 1 --out %s --quiet --no-plots", topics, out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "the 95th percentile of the training texts' lengths, at most 1024") && strstr(g_out, "conv1d(128, 7"));
    snprintf(args, sizeof args, "classify --data %s --model cnn --vectors %s --epochs 1 --out %s --quiet --no-plots", topics,
             sn_test_path("wv_small.txt"), out);
    CHECK_MSG(sn_test_cli_run(g_out, sizeof g_out, args) == 0, "%s", g_out);
    CHECK(strstr(g_out, "pretrained embedding: 1 of 45 vocabulary rows found") && strstr(g_out, "embedding(45, 3)"));
}
