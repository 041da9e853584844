/* libFuzzer: the CSV / TSV / JSONL corpus readers on arbitrary bytes. The
 * first byte picks the options (format, header, multi-label, encoding,
 * columns), the rest is the file. A corpus that loads must be consistent
 * (lengths, labels, label sets) and survive the stratified split, the fold
 * assignment and the class weights. */
#include <string.h>
#include "fuzz_common.h"
#include "seqnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t b = data[0];
    sn_text_table_opts o;
    sn_text_table_opts_default(&o);
    static const sn_text_format fmts[4] = {SN_TEXT_FORMAT_CSV, SN_TEXT_FORMAT_TSV, SN_TEXT_FORMAT_JSONL, SN_TEXT_FORMAT_CSV};
    o.format = fmts[b & 3];
    o.no_header = (b >> 2) & 1;
    o.label_delimiter = (b >> 3) & 1 ? "|" : NULL;
    o.encoding = (sn_text_encoding)(((b >> 4) & 3) % 3);
    static const char *const cols[4][2] = {{NULL, NULL}, {"0,1", "2"}, {"title,text", "tags"}, {"1", "0"}};
    o.text_columns = cols[(b >> 6) & 3][0];
    o.label_column = cols[(b >> 6) & 3][1];
    sn_text_corpus c;
    if (sn_text_parse_table(&c, (const char *)data + 1, size - 1, "fuzz.csv", &o) != SN_OK) return 0;
    for (size_t i = 0; i < c.n; i++) {
        if (strlen(c.texts[i]) != c.lengths[i] || c.labels[i] < 0 || c.labels[i] >= c.n_classes) abort();
        if (c.label_sets && !c.label_sets[i * (size_t)c.n_classes + (size_t)c.labels[i]]) abort();
    }
    sn_text_corpus tr, te;
    if (c.n >= 2 && sn_text_split_stratified(&c, 0.3, 1, &tr, &te) == SN_OK) {
        if (tr.n + te.n != c.n) abort();
        sn_text_corpus_free(&tr);
        sn_text_corpus_free(&te);
    }
    int *fold = malloc((c.n + 1) * sizeof *fold);
    if (fold && c.n >= 3 && sn_text_folds(&c, 3, 2, fold) == SN_OK)
        for (size_t i = 0; i < c.n; i++)
            if (fold[i] < 0 || fold[i] > 2) abort();
    free(fold);
    if (!c.label_sets) sn_text_class_weights(&c);
    sn_text_corpus_free(&c);
    return 0;
}
