/* Shared by the table-corpus readers (table_load.c: options, JSON Lines,
 * labels and class ids; table_csv.c: CSV / TSV records); private to
 * src/text. */
#ifndef SEQNN_TEXT_TABLE_INTERNAL_H
#define SEQNN_TEXT_TABLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "core/strtab.h"
#include "seqnn/text.h"

#define SN_TB_MAX_TEXT_COLS 16

/* The documents collected so far; labels are ids into a string table until
 * the class order is known. */
typedef struct sn_tb {
    const char *name;       /* file name for messages (borrowed) */
    size_t n, cap;
    char **texts;           /* (cap) owned */
    char **paths;           /* (cap) "<name>:<line>" */
    size_t *lengths;        /* (cap) */
    size_t *lab_start;      /* (cap + 1) document i's labels: lab[lab_start[i] .. lab_start[i + 1]) */
    int32_t *lab;           /* (lab_cap) label-table ids */
    size_t n_lab, lab_cap;
    sn_strtab labels;       /* distinct label strings */
    /* index_only (sn_text_table_opts): texts are not kept; the parser sets
     * span_off / span_len (bytes of the buffer) before each commit */
    int index_only;
    uint64_t *spans;        /* (2 cap) */
    uint64_t span_off, span_len;
} sn_tb;

void sn_tb_free(sn_tb *t);
/* Starts a document (room for it; its label list begins here). */
sn_status sn_tb_begin(sn_tb *t);
/* Adds the label(s) of the current document from s[0..n): trimmed, split on
 * delim when given (empty parts dropped). No label at all is SN_ERR_FORMAT
 * "<name>:<line>: empty label (<col>)". */
sn_status sn_tb_add_labels(sn_tb *t, const char *s, size_t n, const char *delim, size_t line, const char *col);
/* Ends the current document with `text` (malloc'd, len bytes + NUL; taken
 * over, also on failure) read at `line`. */
sn_status sn_tb_commit(sn_tb *t, char *text, size_t len, size_t line);
/* Resolves the comma-separated column list `spec` (header names first, then
 * 0-based indexes below n_names) into idx (max); names may be NULL (no
 * header). Unknown names are SN_ERR_ARG listing the columns. */
sn_status sn_tb_resolve(sn_tb *t, char *const *names, int n_names, const char *spec, const char *what, int *idx,
                        int max, int *n_out);
/* CSV (delim ',') or TSV (delim '\t') records of buf[0..len) into t. */
sn_status sn_tb_parse_delimited(sn_tb *t, const char *buf, size_t len, char delim, const sn_text_table_opts *o);
/* The texts of documents [lo, hi) of index c from the CSV / TSV buffer
 * buf[0..len) it was made from (sn_text_table_read). */
sn_status sn_tb_read_delimited(sn_text_corpus *c, size_t lo, size_t hi, const char *buf, size_t len, char delim,
                               const sn_text_table_opts *o, const char *name);
/* The line a document of an index starts on, from its path "<name>:<line>". */
size_t sn_tb_doc_line(const sn_text_corpus *c, size_t i);
/* Replaces document i's text by text[0..n) (a copy, NUL bytes as ' '). */
sn_status sn_tb_set_text(sn_text_corpus *c, size_t i, const char *text, size_t n);

/* encoding.c: SN_OK for valid UTF-8, else SN_ERR_FORMAT "name:L:C: invalid
 * UTF-8 byte 0xXX ..." (name NULL: "line L, column C: ..."). */
sn_status sn_text_check_utf8(const char *in, size_t len, const char *name);

#endif
