/* libFuzzer: the CSV / TSV / JSONL corpus readers on arbitrary bytes. The
 * first byte picks the options (format, header, multi-label, encoding,
 * columns), the rest is the file. A corpus that loads must be consistent
 * (lengths, labels, label sets) and survive the stratified split, the fold
 * assignment and the class weights. In UTF-8, the same bytes as a file
 * must also index (index_only) to the same documents (unless they hold a
 * NUL byte or start like a compressed file, which an index refuses), and reading every
 * document of the index back (sn_text_table_read, in two ranges) must give
 * the whole parse's texts. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "seqnn.h"
#include "seqnn/data.h"

/* The index of the same bytes, as a file, read back: the whole parse's corpus. */
static void check_index(const sn_text_corpus *c, const uint8_t *p, size_t n, const sn_text_table_opts *o) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_corpus_index_%ld.csv", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return;
    int ok = fwrite(p, 1, n, f) == n;
    if (fclose(f) || !ok) return;
    sn_text_table_opts io = *o;
    io.index_only = 1;
    sn_text_corpus x;
    sn_status st = sn_text_load_table(&x, path, &io);
    /* NUL bytes, or a compressed file's magic (a file is sniffed, a buffer is not): read whole only */
    if (st == SN_ERR_UNSUPPORTED && (memchr(p, 0, n) || sn_file_compressed(NULL, p, n) == 1)) {
        unlink(path);
        return;
    }
    if (st != SN_OK) abort(); /* what parses whole indexes */
    if (x.n != c->n || x.n_classes != c->n_classes || !x.spans) abort();
    size_t mid = x.n / 2;
    if (sn_text_table_read(&x, mid, x.n, path, &io) != SN_OK || sn_text_table_read(&x, 0, mid, path, &io) != SN_OK)
        abort();
    for (size_t i = 0; i < x.n; i++)
        if (x.labels[i] != c->labels[i] || x.lengths[i] != c->lengths[i] || strcmp(x.texts[i], c->texts[i]) ||
            strcmp(strrchr(x.paths[i], ':'), strrchr(c->paths[i], ':'))) /* the same line; the file names differ */
            abort();
    sn_text_corpus_free(&x);
    unlink(path);
}

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
    if (o.encoding == SN_TEXT_ENC_UTF8) check_index(&c, data + 1, size - 1, &o);
    if (!c.label_sets) sn_text_class_weights(&c);
    sn_text_corpus_free(&c);
    return 0;
}
