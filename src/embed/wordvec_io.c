/* Word-vector files: word2vec text / binary and GloVe loaders (any
 * compression, through data's stream reader) and the atomic saver.
 *
 * Loader safety: the header's N and D are checked against the file size
 * before anything is allocated (a value needs at least 2 bytes in text and 4
 * in binary; a gzip stream inflates at most ~1032x), and the arrays grow with
 * the records actually read, so a forged header cannot make us allocate. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/wordvec.h"
#include "core/internal.h"
#include "embed/wordvec_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "data/stream.h"

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

/* First capacity of a loader's table: at most `want` rows, 1024 rows, or
 * 16 MB of vectors, whichever is least; it then doubles with the records
 * actually read, so memory stays within ~2x of the data seen. */
static size_t initial_cap(size_t want, unsigned long long D) {
    size_t by_mem = (size_t)((16u << 20) / (D * sizeof(float)));
    size_t c = SN_MIN(want, (size_t)1024);
    c = SN_MIN(c, by_mem);
    return c ? c : 1;
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
    sn_wv_builder b = {0};
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
            if ((st = sn_wv_builder_init(&b, (int)D, initial_cap(want, D))) != SN_OK) goto fail;
        }
        if (vals.n != D) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu: expected %llu values after the word '%.*s' (%s), found %zu", r->s.path,
                          r->s.lineno, D, (int)SN_MIN(wlen, 60), w, header ? "from the header" : "as on the first line",
                          vals.n);
            goto fail;
        }
        int pr = sn_wv_builder_push(&b, w, wlen, vals.v);
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
    *out = sn_wv_builder_finish(&b);
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

/* " (uncompressed)" after a byte offset into decoded data, else "". */
static const char *off_note(const reader *r) { return sn_stream_is_compressed(&r->s) ? " (uncompressed)" : ""; }

/* The word of binary record rec (0-based) into word (NUL-terminated):
 * leading whitespace skipped, ended by a space that must be followed by the
 * vector. The end of the file before the word is an error naming the
 * header's N; D only appears in messages. */
static sn_status read_binary_word(reader *r, size_t rec, unsigned long long N, unsigned long long D, sn_buf *word) {
    sn_status st = SN_OK;
    int c;
    do c = sn_stream_getc(&r->s, &st);
    while (c == '\n' || c == '\r' || c == '\t' || c == ' ');
    if (st != SN_OK) return st;
    uint64_t start = sn_stream_offset(&r->s) - 1;
    if (c < 0)
        return sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: file ends after %zu records, the header announces %llu",
                        r->s.path, (unsigned long long)sn_stream_offset(&r->s), off_note(r), rec, N);
    word->n = 0;
    while (c >= 0 && c != ' ') {
        if (c == 0 || c == '\n')
            return sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: record %zu: %s byte inside the word", r->s.path,
                            (unsigned long long)(sn_stream_offset(&r->s) - 1), off_note(r), rec + 1,
                            c ? "newline" : "NUL");
        if (word->n >= SN_WORDVEC_MAX_LINE)
            return sn_error(SN_ERR_FORMAT, "%s: byte offset %llu%s: record %zu: word longer than %u bytes", r->s.path,
                            (unsigned long long)start, off_note(r), rec + 1, (unsigned)SN_WORDVEC_MAX_LINE);
        if ((st = sn_buf_putc(word, (char)c)) != SN_OK) return st;
        c = sn_stream_getc(&r->s, &st);
    }
    if (st != SN_OK) return st;
    sn_buf_cstr(word); /* at least one byte was put, which left room for the NUL */
    if (c < 0)
        return sn_error(SN_ERR_FORMAT,
                        "%s: byte offset %llu%s: truncated record %zu: word '%.*s' not followed by a space and %llu floats",
                        r->s.path, (unsigned long long)start, off_note(r), rec + 1, (int)SN_MIN(word->n, 60), word->p, D);
    return SN_OK;
}

/* The D little-endian floats of record rec (word named in messages), each finite. */
static sn_status read_binary_vector(reader *r, size_t rec, const char *word, size_t D, float *vec) {
    sn_status st = SN_OK;
    uint64_t vstart = sn_stream_offset(&r->s);
    size_t nb = sn_stream_get(&r->s, vec, D * 4, &st);
    if (st != SN_OK) return st;
    if (nb < D * 4)
        return sn_error(SN_ERR_FORMAT,
                        "%s: byte offset %llu%s: truncated record %zu ('%.60s'): expected %zu bytes of vector, found %zu",
                        r->s.path, (unsigned long long)vstart, off_note(r), rec + 1, word, D * 4, nb);
    if (!host_is_le()) bswap32_n(vec, D);
    for (size_t j = 0; j < D; j++)
        if (!isfinite(vec[j]))
            return sn_error(SN_ERR_NUMERIC, "%s: byte offset %llu%s: record %zu ('%.60s'): value %zu is %s", r->s.path,
                            (unsigned long long)(vstart + 4 * j), off_note(r), rec + 1, word, j + 1,
                            isnan(vec[j]) ? "NaN" : "Inf");
    return SN_OK;
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
    sn_wv_builder b = {0};
    sn_buf word = {0};
    float *vec = sn_malloc((size_t)D, sizeof *vec);
    st = vec ? sn_wv_builder_init(&b, (int)D, initial_cap(want, D)) : SN_ERR_NOMEM;
    for (size_t rec = 0; st == SN_OK && rec < want; rec++) {
        if ((st = read_binary_word(r, rec, N, D, &word)) != SN_OK) break;
        if ((st = read_binary_vector(r, rec, word.p, (size_t)D, vec)) != SN_OK) break;
        int pr = sn_wv_builder_push(&b, word.p, word.n, vec);
        if (pr < 0) st = (sn_status)pr;
        else if (pr == 0) warn_dup(r, word.p, word.n, 1);
    }
    sn_buf_free(&word);
    free(vec);
    if (st != SN_OK) {
        sn_wordvec_free(b.wv);
        return st;
    }
    *out = sn_wv_builder_finish(&b);
    return SN_OK;
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
        if (!wv->words[i][0] || sn_wv_has_space(wv->words[i]))
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
