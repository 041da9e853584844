/* Word-vector tables: word index, word2vec text / binary and GloVe loaders
 * (gzip through zlib), atomic savers, Embedding-weight export, cosine
 * neighbours and 3CosAdd analogies. The trainer lives in word2vec.c.
 *
 * Loader safety: the header's N and D are checked against the file size
 * before anything is allocated (a value needs at least 2 bytes in text and 4
 * in binary; a gzip stream inflates at most ~1032x), and the arrays grow with
 * the records actually read, so a forged header cannot make us allocate. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/wordvec.h"
#include "core/internal.h"
#include "core/strtab.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/stream.h"

/* ------------------------------------------------------------------ */
/* Table and hash index                                                */
/* ------------------------------------------------------------------ */

/* The index: the library's string table (core/strtab.h); word ids are rows. */
static long find_len(const sn_wordvec *wv, const char *word, size_t len) {
    if (!wv || !wv->index || !word) return -1;
    return (long)sn_strtab_find((const sn_strtab *)wv->index, word, len);
}

long sn_wordvec_find(const sn_wordvec *wv, const char *word) {
    return word ? find_len(wv, word, strlen(word)) : -1;
}

const float *sn_wordvec_get(const sn_wordvec *wv, const char *word) {
    long r = sn_wordvec_find(wv, word);
    return r < 0 ? NULL : wv->vecs + (size_t)r * (size_t)wv->dim;
}

void sn_wordvec_free(sn_wordvec *wv) {
    if (!wv) return;
    for (size_t i = 0; i < wv->n; i++) free(wv->words[i]);
    free(wv->words);
    free(wv->vecs);
    if (wv->index) sn_strtab_free(wv->index);
    free(wv->index);
    free(wv);
}

/* A growing table: cap rows allocated in words / vecs. */
typedef struct builder {
    sn_wordvec *wv;
    size_t cap;
} builder;

static sn_status builder_init(builder *b, int dim, size_t cap0) {
    b->wv = sn_calloc(1, sizeof *b->wv);
    if (!b->wv) return SN_ERR_NOMEM;
    b->wv->dim = dim;
    b->cap = cap0 ? cap0 : 16;
    b->wv->words = sn_malloc(b->cap, sizeof(char *));
    b->wv->vecs = sn_malloc(b->cap, (size_t)dim * sizeof(float));
    if (!b->wv->words || !b->wv->vecs) return SN_ERR_NOMEM;
    sn_strtab *t = sn_malloc(1, sizeof *t);
    if (!t) return SN_ERR_NOMEM;
    sn_status st = sn_strtab_init(t, b->cap);
    if (st != SN_OK) {
        free(t);
        return st;
    }
    b->wv->index = t;
    return SN_OK;
}

/* First capacity of a loader's table: at most `want` rows, 1024 rows, or
 * 16 MB of vectors, whichever is least; it then doubles with the records
 * actually read, so memory stays within ~2x of the data seen. */
static size_t initial_cap(size_t want, unsigned long long D) {
    size_t by_mem = (size_t)((16u << 20) / (D * sizeof(float)));
    size_t c = SN_MIN(want, (size_t)1024);
    c = SN_MIN(c, by_mem);
    return c ? c : 1;
}

/* Appends word (len bytes) with vector vec (D). Returns 1 when added, 0 for a
 * duplicate (table unchanged), SN_ERR_NOMEM on failure. */
static int builder_push(builder *b, const char *word, size_t len, const float *vec) {
    sn_wordvec *wv = b->wv;
    sn_strtab *t = wv->index;
    if (sn_strtab_find(t, word, len) >= 0) return 0;
    if (wv->n == b->cap) {
        size_t nc = b->cap * 2;
        char **w = sn_realloc(wv->words, nc, sizeof *w);
        if (!w) return SN_ERR_NOMEM;
        wv->words = w;
        float *v = sn_realloc(wv->vecs, nc, (size_t)wv->dim * sizeof(float));
        if (!v) return SN_ERR_NOMEM;
        wv->vecs = v;
        b->cap = nc;
    }
    char *copy = sn_malloc(len + 1, 1);
    if (!copy) return SN_ERR_NOMEM;
    memcpy(copy, word, len);
    copy[len] = '\0';
    wv->words[wv->n] = copy;
    memcpy(wv->vecs + wv->n * (size_t)wv->dim, vec, (size_t)wv->dim * sizeof(float));
    int fresh;
    if (sn_strtab_put(t, word, len, &fresh) < 0) return SN_ERR_NOMEM;
    SN_ASSERT(fresh && t->n == wv->n + 1);
    wv->n++;
    return 1;
}

/* Shrinks the arrays to n rows and hands the table over. */
static sn_wordvec *builder_finish(builder *b) {
    sn_wordvec *wv = b->wv;
    b->wv = NULL;
    if (wv->n && wv->n < b->cap) {
        char **w = realloc(wv->words, wv->n * sizeof *w);
        if (w) wv->words = w;
        float *v = realloc(wv->vecs, wv->n * (size_t)wv->dim * sizeof(float));
        if (v) wv->vecs = v;
    }
    return wv;
}

static int has_space(const char *w) {
    for (; *w; w++)
        if (*w == ' ' || *w == '\t' || *w == '\n' || *w == '\r' || *w == '\v' || *w == '\f') return 1;
    return 0;
}

sn_status sn_wordvec_from_arrays(sn_wordvec **out, const char *const *words, const float *vecs, size_t n, int D) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: out is NULL");
    *out = NULL;
    if (!words || !vecs) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: NULL words or vecs");
    if (n == 0 || D <= 0) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: need n > 0 and D > 0, got n=%zu D=%d", n, D);
    for (size_t i = 0; i < n; i++) {
        if (!words[i] || !words[i][0]) return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: word %zu is NULL or empty", i);
        if (has_space(words[i]))
            return sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: word %zu ('%.60s') contains whitespace", i, words[i]);
    }
    for (size_t i = 0; i < n * (size_t)D; i++)
        if (!isfinite(vecs[i]))
            return sn_error(SN_ERR_NUMERIC, "sn_wordvec_from_arrays: vector of '%.60s' has a non-finite value at %zu",
                            words[i / (size_t)D], i % (size_t)D);
    builder b;
    sn_status st = builder_init(&b, D, n);
    for (size_t i = 0; st == SN_OK && i < n; i++) {
        int r = builder_push(&b, words[i], strlen(words[i]), vecs + i * (size_t)D);
        if (r < 0) st = (sn_status)r;
        else if (r == 0) st = sn_error(SN_ERR_ARG, "sn_wordvec_from_arrays: duplicate word '%.60s' at %zu", words[i], i);
    }
    if (st != SN_OK) {
        sn_wordvec_free(b.wv);
        return st;
    }
    *out = builder_finish(&b);
    return SN_OK;
}

/* ------------------------------------------------------------------ */
/* Reading: the library's one stream reader (data/stream.h)            */
/* ------------------------------------------------------------------ */

/* A stream and its current line (NUL-terminated, CR/LF stripped). */
typedef struct reader {
    sn_stream s;
    char *line;
    size_t line_len;
} reader;

static sn_status rd_open(reader *r, const char *path) {
    memset(r, 0, sizeof *r);
    sn_stream_opts o = {0, NULL, SN_WORDVEC_MAX_LINE};
    return sn_stream_open(&r->s, path, &o);
}

static void rd_close(reader *r) { sn_stream_close(&r->s); }

/* Next line into r->line. *got = 1 for a line, 0 at end of file. Lines over
 * SN_WORDVEC_MAX_LINE bytes are an error naming the line. */
static sn_status rd_getline(reader *r, int *got) { return sn_stream_getline(&r->s, &r->line, &r->line_len, got); }

/* ------------------------------------------------------------------ */
/* Parsing helpers                                                     */
/* ------------------------------------------------------------------ */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

static int line_is_blank(const char *s) {
    for (; *s; s++)
        if (!is_blank(*s)) return 0;
    return 1;
}

/* Parses "N D" (two positive decimal integers, nothing else). */
static int parse_header(const char *s, unsigned long long *n, unsigned long long *d) {
    const char *p = s;
    while (is_blank(*p)) p++;
    if (*p < '0' || *p > '9') return 0;
    errno = 0;
    char *e;
    *n = strtoull(p, &e, 10);
    if (errno || e == p || !is_blank(*e)) return 0;
    p = e;
    while (is_blank(*p)) p++;
    if (*p < '0' || *p > '9') return 0;
    *d = strtoull(p, &e, 10);
    if (errno || e == p) return 0;
    p = e;
    while (is_blank(*p)) p++;
    return *p == '\0';
}

/* Growable float scratch for one line's values. */
typedef struct fvec {
    float *v;
    size_t n, cap;
} fvec;

static sn_status fvec_push(fvec *f, float x) {
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 256;
        float *v = sn_realloc(f->v, nc, sizeof *v);
        if (!v) return SN_ERR_NOMEM;
        f->v = v;
        f->cap = nc;
    }
    f->v[f->n++] = x;
    return SN_OK;
}

/* Splits a text record "word v1 ... vk": word / wlen point into line, values
 * go to vals (count in vals->n). Errors name path:line and the value's
 * 1-based position. A NaN, Inf or out-of-range value is SN_ERR_NUMERIC. */
static sn_status parse_text_record(const reader *r, char *line, const char **word, size_t *wlen, fvec *vals) {
    char *p = line;
    while (is_blank(*p)) p++;
    *word = p;
    while (*p && !is_blank(*p)) p++;
    *wlen = (size_t)(p - *word);
    vals->n = 0;
    for (;;) {
        while (is_blank(*p)) p++;
        if (!*p) break;
        char *e;
        errno = 0;
        float x = strtof(p, &e);
        if (e == p || (*e && !is_blank(*e))) {
            char *te = p;
            while (*te && !is_blank(*te)) te++;
            return sn_error(SN_ERR_FORMAT, "%s:%zu: value %zu of '%.*s' is not a number: '%.*s'", r->s.path, r->s.lineno,
                            vals->n + 1, (int)SN_MIN(*wlen, 60), *word, (int)SN_MIN((size_t)(te - p), 40), p);
        }
        if (!isfinite(x) || (errno == ERANGE && fabsf(x) > 1.0f))
            return sn_error(SN_ERR_NUMERIC, "%s:%zu: value %zu of '%.*s' is not finite (or beyond float range): '%.*s'",
                            r->s.path, r->s.lineno, vals->n + 1, (int)SN_MIN(*wlen, 60), *word,
                            (int)SN_MIN((size_t)(e - p), 40), p);
        sn_status st = fvec_push(vals, x);
        if (st != SN_OK) return st;
        p = e;
    }
    return SN_OK;
}

/* Rejects a header whose claimed content cannot fit in the file: each of the
 * N records needs at least min_per_value * D + min_extra bytes. gzip inflates
 * at most 1032:1, which bounds compressed files. Done before any allocation. */
static sn_status check_header(const reader *r, unsigned long long N, unsigned long long D, double min_per_value,
                              double min_extra) {
    if (N == 0 || D == 0)
        return sn_error(SN_ERR_FORMAT, "%s:1: header claims %llu words of dimension %llu; both must be > 0", r->s.path, N, D);
    if (D > (unsigned long long)(SN_WORDVEC_MAX_LINE / 2))
        return sn_error(SN_ERR_FORMAT, "%s:1: header dimension %llu is absurd (a line holds at most %u bytes)", r->s.path,
                        D, (unsigned)SN_WORDVEC_MAX_LINE);
    double need = (double)N * ((double)D * min_per_value + min_extra);
    double have = (double)sn_stream_size_bound(&r->s);
    if (need > have)
        return sn_error(SN_ERR_FORMAT,
                        "%s:1: header claims %llu words x %llu values (%.3g values), which needs at least %.3g bytes, "
                        "but the file %s only %llu bytes",
                        r->s.path, N, D, (double)N * (double)D, need,
                        r->s.codec == SN_CODEC_GZIP ? "(gzip, inflating at most 1032x) has" : "has",
                        (unsigned long long)r->s.file_size);
    return SN_OK;
}

/* ------------------------------------------------------------------ */
/* Loaders                                                             */
/* ------------------------------------------------------------------ */

static void warn_dup(const reader *r, const char *w, size_t len, int binary) {
    if (binary)
        sn_log(SN_LOG_WARN, "%s: byte offset %llu: duplicate word '%.*s' ignored (first vector kept)", r->s.path,
               (unsigned long long)sn_stream_offset(&r->s), (int)SN_MIN(len, 60), w);
    else
        sn_log(SN_LOG_WARN, "%s:%zu: duplicate word '%.*s' ignored (first vector kept)", r->s.path, r->s.lineno,
               (int)SN_MIN(len, 60), w);
}

/* Text formats. header != 0: word2vec text (first line "N D"), else GloVe. */
static sn_status load_text(reader *r, int header, size_t max_words, sn_wordvec **out) {
    int got;
    sn_status st;
    unsigned long long N = 0, D = 0;
    builder b = {0};
    fvec vals = {0};
    size_t records = 0;
    if (header) {
        do {
            if ((st = rd_getline(r, &got)) != SN_OK) return st;
        } while (got && line_is_blank(r->line));
        if (!got) return sn_error(SN_ERR_FORMAT, "%s: empty file (expected a header line \"N D\")", r->s.path);
        if (!parse_header(r->line, &N, &D))
            return sn_error(SN_ERR_FORMAT, "%s:%zu: expected a header \"<words> <dimension>\", got '%.60s'", r->s.path,
                            r->s.lineno, r->line);
        /* Text: a value needs a separator and a digit; a word a byte and a newline. */
        if ((st = check_header(r, N, D, 2.0, 2.0)) != SN_OK) return st;
    }
    size_t want = header ? (size_t)N : SIZE_MAX;
    if (max_words && max_words < want) want = max_words;
    for (;;) {
        if ((st = rd_getline(r, &got)) != SN_OK) goto fail;
        if (!got) break;
        if (line_is_blank(r->line)) continue;
        if (records == want) {
            if (header && want == N) {
                st = sn_error(SN_ERR_FORMAT, "%s:%zu: more records than the %llu the header announces", r->s.path,
                              r->s.lineno, N);
                goto fail;
            }
            break; /* max_words reached */
        }
        const char *w;
        size_t wlen;
        if ((st = parse_text_record(r, r->line, &w, &wlen, &vals)) != SN_OK) goto fail;
        if (!b.wv) {
            if (!header) {
                if (vals.n == 0) {
                    st = sn_error(SN_ERR_FORMAT, "%s:%zu: expected a word followed by its values, got only '%.60s'",
                                  r->s.path, r->s.lineno, w);
                    goto fail;
                }
                D = vals.n;
            }
            if ((st = builder_init(&b, (int)D, initial_cap(want, D))) != SN_OK) goto fail;
        }
        if (vals.n != D) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu: expected %llu values after the word '%.*s' (%s), found %zu", r->s.path,
                          r->s.lineno, D, (int)SN_MIN(wlen, 60), w, header ? "from the header" : "as on the first line",
                          vals.n);
            goto fail;
        }
        int pr = builder_push(&b, w, wlen, vals.v);
        if (pr < 0) {
            st = (sn_status)pr;
            goto fail;
        }
        if (pr == 0) warn_dup(r, w, wlen, 0);
        records++;
    }
    if (records == 0) {
        st = sn_error(SN_ERR_FORMAT, "%s: %s", r->s.path, header ? "no records after the header" : "empty file (no vectors)");
        goto fail;
    }
    if (header && records < want) {
        st = sn_error(SN_ERR_FORMAT, "%s:%zu: file ends after %zu records, the header announces %llu", r->s.path,
                      r->s.lineno, records, N);
        goto fail;
    }
    free(vals.v);
    *out = builder_finish(&b);
    return SN_OK;
fail:
    free(vals.v);
    if (b.wv) sn_wordvec_free(b.wv);
    return st;
}

static int host_is_le(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void bswap32_n(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, v + i, 4);
        u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
        memcpy(v + i, &u, 4);
    }
}

static sn_status load_binary(reader *r, size_t max_words, sn_wordvec **out) {
    int got;
    unsigned long long N, D;
    sn_status st = SN_OK;
    if ((st = rd_getline(r, &got)) != SN_OK) return st;
    if (!got) return sn_error(SN_ERR_FORMAT, "%s: empty file (expected a header line \"N D\")", r->s.path);
    if (!parse_header(r->line, &N, &D))
        return sn_error(SN_ERR_FORMAT, "%s:1: expected a binary word2vec header \"<words> <dimension>\", got '%.60s'",
                        r->s.path, r->line);
    /* Binary: a record is >= 1 word byte, a space and 4*D bytes. */
    if ((st = check_header(r, N, D, 4.0, 2.0)) != SN_OK) return st;
    size_t want = (size_t)N;
    if (max_words && max_words < want) want = max_words;
    builder b;
    char *word = NULL;
    float *vec = NULL;
    size_t wcap = 256;
    if ((st = builder_init(&b, (int)D, initial_cap(want, D))) != SN_OK) goto fail;
    word = sn_malloc(wcap, 1);
    vec = sn_malloc((size_t)D, sizeof *vec);
    if (!word || !vec) {
        st = SN_ERR_NOMEM;
        goto fail;
    }
    for (size_t rec = 0; rec < want; rec++) {
        int c;
        do c = sn_stream_getc(&r->s, &st);
        while (c == '\n' || c == '\r' || c == '\t' || c == ' ');
        if (st != SN_OK) goto fail;
        uint64_t start = sn_stream_offset(&r->s) - 1;
        if (c < 0) {
            st = sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: file ends after %zu records, the header announces %llu",
                          r->s.path, (unsigned long long)sn_stream_offset(&r->s), sn_stream_is_compressed(&r->s) ? " (uncompressed)" : "", rec, N);
            goto fail;
        }
        size_t wl = 0;
        while (c >= 0 && c != ' ') {
            if (c == 0 || c == '\n') {
                st = sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: record %zu: %s byte inside the word", r->s.path,
                              (unsigned long long)(sn_stream_offset(&r->s) - 1), sn_stream_is_compressed(&r->s) ? " (uncompressed)" : "", rec + 1,
                              c ? "newline" : "NUL");
                goto fail;
            }
            if (wl + 1 >= wcap) {
                if (wcap > SN_WORDVEC_MAX_LINE) {
                    st = sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: record %zu: word longer than %u bytes", r->s.path,
                                  (unsigned long long)start, sn_stream_is_compressed(&r->s) ? " (uncompressed)" : "", rec + 1,
                                  (unsigned)SN_WORDVEC_MAX_LINE);
                    goto fail;
                }
                char *nw = sn_realloc(word, wcap * 2, 1);
                if (!nw) {
                    st = SN_ERR_NOMEM;
                    goto fail;
                }
                word = nw;
                wcap *= 2;
            }
            word[wl++] = (char)c;
            c = sn_stream_getc(&r->s, &st);
        }
        if (st != SN_OK) goto fail;
        if (c < 0) {
            st = sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: truncated record %zu: word '%.*s' not followed by a space and %llu floats",
                          r->s.path, (unsigned long long)start, sn_stream_is_compressed(&r->s) ? " (uncompressed)" : "", rec + 1,
                          (int)SN_MIN(wl, 60), word, D);
            goto fail;
        }
        word[wl] = '\0';
        uint64_t vstart = sn_stream_offset(&r->s);
        size_t nb = sn_stream_get(&r->s, vec, (size_t)D * 4, &st);
        if (st != SN_OK) goto fail;
        if (nb < (size_t)D * 4) {
            st = sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: truncated record %zu ('%.60s'): expected %llu bytes of vector, found %zu",
                          r->s.path, (unsigned long long)vstart, sn_stream_is_compressed(&r->s) ? " (uncompressed)" : "", rec + 1, word,
                          D * 4, nb);
            goto fail;
        }
        if (!host_is_le()) bswap32_n(vec, (size_t)D);
        for (size_t j = 0; j < (size_t)D; j++)
            if (!isfinite(vec[j])) {
                st = sn_error(SN_ERR_NUMERIC, "%s: byte offset %llu%s: record %zu ('%.60s'): value %zu is %s", r->s.path,
                              (unsigned long long)(vstart + 4 * j), sn_stream_is_compressed(&r->s) ? " (uncompressed)" : "", rec + 1,
                              word, j + 1, isnan(vec[j]) ? "NaN" : "Inf");
                goto fail;
            }
        int pr = builder_push(&b, word, wl, vec);
        if (pr < 0) {
            st = (sn_status)pr;
            goto fail;
        }
        if (pr == 0) warn_dup(r, word, wl, 1);
    }
    free(word);
    free(vec);
    *out = builder_finish(&b);
    return SN_OK;
fail:
    free(word);
    free(vec);
    sn_wordvec_free(b.wv);
    return st;
}

/* AUTO: header "N D" -> word2vec; then text if the next line is a word and
 * exactly D numbers, else binary. No header -> GloVe. */
static sn_status detect_format(const char *path, sn_wordvec_format *fmt) {
    reader r;
    sn_status st = rd_open(&r, path);
    int got = 0;
    if (st == SN_OK) do st = rd_getline(&r, &got);
        while (st == SN_OK && got && line_is_blank(r.line));
    if (st == SN_OK && !got) st = sn_error(SN_ERR_FORMAT, "%s: empty file", path);
    if (st != SN_OK) {
        rd_close(&r);
        return st;
    }
    unsigned long long N, D;
    if (!parse_header(r.line, &N, &D)) {
        *fmt = SN_WORDVEC_GLOVE;
        rd_close(&r);
        return SN_OK;
    }
    *fmt = SN_WORDVEC_W2V_TEXT;
    /* A binary record rarely holds a '\n' within 1 MB; a too-long or
     * unparsable "line" means binary. */
    st = rd_getline(&r, &got);
    if (st != SN_OK) {
        *fmt = SN_WORDVEC_W2V_BINARY;
    } else if (got) {
        const char *w;
        size_t wl;
        fvec vals = {0};
        int binary = strlen(r.line) != r.line_len;
        if (!binary) {
            sn_status pst = parse_text_record(&r, r.line, &w, &wl, &vals);
            binary = pst == SN_ERR_FORMAT || (pst == SN_OK && vals.n != D);
        }
        free(vals.v);
        if (binary) *fmt = SN_WORDVEC_W2V_BINARY;
    }
    rd_close(&r);
    return SN_OK;
}

sn_status sn_wordvec_load(sn_wordvec **out, const char *path, sn_wordvec_format fmt, size_t max_words) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_wordvec_load: out is NULL");
    *out = NULL;
    if (!path) return sn_error(SN_ERR_ARG, "sn_wordvec_load: path is NULL");
    if (fmt < SN_WORDVEC_AUTO || fmt > SN_WORDVEC_GLOVE)
        return sn_error(SN_ERR_ARG, "sn_wordvec_load: unknown format %d", (int)fmt);
    sn_status st;
    if (fmt == SN_WORDVEC_AUTO && (st = detect_format(path, &fmt)) != SN_OK) return st;
    reader r;
    st = rd_open(&r, path);
    if (st == SN_OK) {
        if (fmt == SN_WORDVEC_W2V_BINARY) st = load_binary(&r, max_words, out);
        else st = load_text(&r, fmt == SN_WORDVEC_W2V_TEXT, max_words, out);
    }
    rd_close(&r);
    return st;
}

/* ------------------------------------------------------------------ */
/* Saver                                                               */
/* ------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static sn_status gz_put(gzFile gz, const char *tmp, const void *p, size_t n) {
    if (n && gzwrite(gz, p, (unsigned)n) != (int)n) {
        int zerr;
        const char *m = gzerror(gz, &zerr);
        return sn_error(SN_ERR_IO, "%s: write failed: %s", tmp, zerr == Z_ERRNO ? strerror(errno) : m);
    }
    return SN_OK;
}

sn_status sn_wordvec_save(const sn_wordvec *wv, const char *path, int binary) {
    if (!wv || !path) return sn_error(SN_ERR_ARG, "sn_wordvec_save: NULL table or path");
    if (wv->dim <= 0 || (wv->n && (!wv->words || !wv->vecs)))
        return sn_error(SN_ERR_ARG, "sn_wordvec_save: malformed table");
    for (size_t i = 0; i < wv->n; i++)
        if (!wv->words[i][0] || has_space(wv->words[i]))
            return sn_error(SN_ERR_ARG, "%s: word %zu ('%.60s') is empty or holds whitespace; the format cannot store it",
                            path, i, wv->words[i]);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return sn_error(SN_ERR_ARG, "%s: path too long", path);
    gzFile gz = gzopen(tmp, ends_with(path, ".gz") ? "wb6" : "wbT");
    if (!gz) return sn_error(SN_ERR_IO, "%s: cannot create: %s", tmp, errno ? strerror(errno) : "zlib failure");
    size_t D = (size_t)wv->dim;
    size_t cap = 64 + D * 18;
    char *buf = sn_malloc(cap, 1);
    float *le = sn_malloc(D, sizeof *le);
    sn_status st = (buf && le) ? SN_OK : SN_ERR_NOMEM;
    if (st == SN_OK) {
        int k = snprintf(buf, cap, "%zu %d\n", wv->n, wv->dim);
        st = gz_put(gz, tmp, buf, (size_t)k);
    }
    for (size_t i = 0; st == SN_OK && i < wv->n; i++) {
        const float *v = wv->vecs + i * D;
        st = gz_put(gz, tmp, wv->words[i], strlen(wv->words[i]));
        if (st != SN_OK) break;
        if (binary) {
            memcpy(le, v, D * sizeof *le);
            if (!host_is_le()) bswap32_n(le, D);
            st = gz_put(gz, tmp, " ", 1);
            if (st == SN_OK) st = gz_put(gz, tmp, le, D * 4);
            if (st == SN_OK) st = gz_put(gz, tmp, "\n", 1);
        } else {
            size_t len = 0;
            for (size_t j = 0; j < D; j++) len += (size_t)snprintf(buf + len, cap - len, " %.9g", (double)v[j]);
            buf[len++] = '\n';
            st = gz_put(gz, tmp, buf, len);
        }
    }
    free(buf);
    free(le);
    int zc = gzclose(gz);
    if (st == SN_OK && zc != Z_OK) st = sn_error(SN_ERR_IO, "%s: close failed (zlib %d): %s", tmp, zc, strerror(errno));
    if (st == SN_OK) {
        int fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) st = sn_error(SN_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
    }
    if (st == SN_OK && rename(tmp, path) != 0)
        st = sn_error(SN_ERR_IO, "%s: rename to %s failed: %s", tmp, path, strerror(errno));
    if (st != SN_OK) unlink(tmp);
    return st;
}

/* ------------------------------------------------------------------ */
/* Embedding weight                                                    */
/* ------------------------------------------------------------------ */

sn_status sn_wordvec_to_matrix(const sn_wordvec *wv, const char *const *vocab, size_t V, int D, float *out,
                               sn_wordvec_missing missing, sn_rng *rng, size_t *found) {
    if (found) *found = 0;
    if (!wv || !vocab || !out) return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: NULL table, vocabulary or output");
    if (V == 0) return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: empty vocabulary (V = 0)");
    if (D != wv->dim)
        return sn_error(SN_ERR_SHAPE, "sn_wordvec_to_matrix: Embedding dimension D=%d differs from the vectors' dimension %d",
                        D, wv->dim);
    if (missing != SN_WORDVEC_MISSING_ZERO && missing != SN_WORDVEC_MISSING_UNIFORM)
        return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: unknown missing-row policy %d", (int)missing);
    if (missing == SN_WORDVEC_MISSING_UNIFORM && !rng)
        return sn_error(SN_ERR_ARG, "sn_wordvec_to_matrix: uniform init of missing rows needs an rng");
    char *low = NULL;
    size_t low_cap = 0, nfound = 0;
    for (size_t i = 0; i < V; i++) {
        float *row = out + i * (size_t)D;
        const char *w = vocab[i];
        if (!w || !w[0] || strcmp(w, "[UNK]") == 0) {
            memset(row, 0, (size_t)D * sizeof *row);
            continue;
        }
        size_t len = strlen(w);
        long r = find_len(wv, w, len);
        if (r < 0) {
            int has_upper = 0;
            for (size_t j = 0; j < len; j++) has_upper |= (w[j] >= 'A' && w[j] <= 'Z');
            if (has_upper) {
                if (len + 1 > low_cap) {
                    char *nl = sn_realloc(low, len + 1, 1);
                    if (!nl) {
                        free(low);
                        return SN_ERR_NOMEM;
                    }
                    low = nl;
                    low_cap = len + 1;
                }
                for (size_t j = 0; j < len; j++)
                    low[j] = (w[j] >= 'A' && w[j] <= 'Z') ? (char)(w[j] - 'A' + 'a') : w[j];
                low[len] = '\0';
                r = find_len(wv, low, len);
            }
        }
        if (r >= 0) {
            memcpy(row, wv->vecs + (size_t)r * (size_t)D, (size_t)D * sizeof *row);
            nfound++;
        } else if (missing == SN_WORDVEC_MISSING_UNIFORM) {
            for (int j = 0; j < D; j++) row[j] = -0.05f + 0.1f * sn_rng_uniform(rng);
        } else {
            memset(row, 0, (size_t)D * sizeof *row);
        }
    }
    free(low);
    if (found) *found = nfound;
    return SN_OK;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

/* Scores every row by cos(row, q) (q need not be unit), skipping rows in
 * excl (n_excl), keeping the best k in out sorted by score desc, row asc. */
static void top_k(const sn_wordvec *wv, const float *q, const size_t *excl, int n_excl, int k, sn_wordvec_hit *out,
                  int *n_out) {
    size_t D = (size_t)wv->dim;
    double qn = 0;
    for (size_t j = 0; j < D; j++) qn += (double)q[j] * q[j];
    qn = sqrt(qn);
    int n = 0;
    for (size_t r = 0; r < wv->n; r++) {
        int skip = 0;
        for (int e = 0; e < n_excl; e++) skip |= excl[e] == r;
        if (skip) continue;
        const float *v = wv->vecs + r * D;
        double dot = 0, vn = 0;
        for (size_t j = 0; j < D; j++) {
            dot += (double)v[j] * q[j];
            vn += (double)v[j] * v[j];
        }
        double den = sqrt(vn) * qn;
        float s = den > 0 ? (float)(dot / den) : 0.0f;
        if (n == k && !(s > out[n - 1].score)) continue;
        int pos = n < k ? n++ : k - 1;
        while (pos > 0 && s > out[pos - 1].score) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos].word = wv->words[r];
        out[pos].row = r;
        out[pos].score = s;
    }
    *n_out = n;
}

static sn_status lookup(const sn_wordvec *wv, const char *w, const char *what, size_t *row) {
    if (!w) return sn_error(SN_ERR_ARG, "%s: word is NULL", what);
    long r = sn_wordvec_find(wv, w);
    if (r < 0) return sn_error(SN_ERR_ARG, "%s: unknown word '%.80s'", what, w);
    *row = (size_t)r;
    return SN_OK;
}

sn_status sn_wordvec_similar(const sn_wordvec *wv, const char *word, int k, sn_wordvec_hit *out, int *n_out) {
    if (n_out) *n_out = 0;
    if (!wv || !out || !n_out) return sn_error(SN_ERR_ARG, "sn_wordvec_similar: NULL argument");
    if (k <= 0) return sn_error(SN_ERR_ARG, "sn_wordvec_similar: k must be > 0, got %d", k);
    size_t r = 0;
    sn_status st = lookup(wv, word, "sn_wordvec_similar", &r);
    if (st != SN_OK) return st;
    top_k(wv, wv->vecs + r * (size_t)wv->dim, &r, 1, k, out, n_out);
    return SN_OK;
}

sn_status sn_wordvec_analogy(const sn_wordvec *wv, const char *a, const char *b, const char *c, int k,
                             sn_wordvec_hit *out, int *n_out) {
    if (n_out) *n_out = 0;
    if (!wv || !out || !n_out) return sn_error(SN_ERR_ARG, "sn_wordvec_analogy: NULL argument");
    if (k <= 0) return sn_error(SN_ERR_ARG, "sn_wordvec_analogy: k must be > 0, got %d", k);
    size_t rows[3] = {0, 0, 0};
    const char *ws[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        sn_status st = lookup(wv, ws[i], "sn_wordvec_analogy", &rows[i]);
        if (st != SN_OK) return st;
    }
    size_t D = (size_t)wv->dim;
    float *q = sn_calloc(D, sizeof *q);
    if (!q) return SN_ERR_NOMEM;
    static const float sign[3] = {-1.0f, 1.0f, 1.0f}; /* b - a + c */
    for (int i = 0; i < 3; i++) {
        const float *v = wv->vecs + rows[i] * D;
        double nn = 0;
        for (size_t j = 0; j < D; j++) nn += (double)v[j] * v[j];
        if (nn <= 0) continue; /* a zero vector contributes nothing */
        float s = sign[i] / (float)sqrt(nn);
        for (size_t j = 0; j < D; j++) q[j] += s * v[j];
    }
    top_k(wv, q, rows, 3, k, out, n_out);
    free(q);
    return SN_OK;
}
