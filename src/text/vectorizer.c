/* TextVectorization with Keras semantics (docs/keras-semantics.md §13).
 *
 * Pipeline per text: [strip "<br />"] -> lowercase (ASCII, or a small UTF-8
 * table) -> delete the 32 ASCII punctuation bytes -> split (whitespace runs /
 * code points / none) -> [Porter stem] -> n-grams of widths 1..N (unigrams
 * first, each width in text order, words joined by one space).
 *
 * Vocabulary and adapt counts: the library's string table (core/strtab.h),
 * whose entries carry a count and two free words (here: document frequency
 * and the last document counted). */
#include <math.h>
#include <string.h>
#include "core/buf.h"
#include "core/internal.h"
#include "core/par_error.h"
#include "core/strtab.h"
#include "text/tokenize.h"
#include "text/vectorizer_internal.h"
#include "seqnn/text.h"

#define UNK SN_VEC_UNK
#define MAX_NGRAMS 16

/* ---------------------------------------------------------------------
 * The vectorizer
 * --------------------------------------------------------------------- */

void sn_vectorizer_opts_default(sn_vectorizer_opts *o) {
    memset(o, 0, sizeof *o);
    o->standardize = SN_STANDARDIZE_LOWER_AND_STRIP_PUNCTUATION;
    o->split = SN_SPLIT_WHITESPACE;
    o->ngrams = 1;
    o->output_mode = SN_OUTPUT_INT;
}

sn_status sn_vectorizer_check_opts(const sn_vectorizer_opts *o) {
    if ((unsigned)o->standardize > SN_STANDARDIZE_NONE)
        return sn_error(SN_ERR_ARG, "vectorizer: invalid standardize %d", (int)o->standardize);
    if ((unsigned)o->split > SN_SPLIT_NONE) return sn_error(SN_ERR_ARG, "vectorizer: invalid split %d", (int)o->split);
    if ((unsigned)o->output_mode > SN_OUTPUT_TF_IDF)
        return sn_error(SN_ERR_ARG, "vectorizer: invalid output_mode %d", (int)o->output_mode);
    if (o->ngrams < 1 || o->ngrams > MAX_NGRAMS)
        return sn_error(SN_ERR_ARG, "vectorizer: ngrams must be in [1, %d], got %d", MAX_NGRAMS, o->ngrams);
    if (o->ngrams > 1 && o->split == SN_SPLIT_NONE)
        return sn_error(SN_ERR_ARG, "vectorizer: ngrams > 1 needs a split");
    int specials = o->output_mode == SN_OUTPUT_INT ? 2 : 1;
    if (o->max_tokens < 0 || (o->max_tokens > 0 && o->max_tokens <= specials))
        return sn_error(SN_ERR_ARG, "vectorizer: max_tokens must be 0 (unbounded) or > %d in this output mode, got %d",
                        specials, o->max_tokens);
    if (o->max_tokens > (1 << 24))
        return sn_error(SN_ERR_ARG, "vectorizer: max_tokens %d above 2^24 (ids must be exact as floats)", o->max_tokens);
    if (o->output_sequence_length < 0 || o->output_sequence_length > (1 << 24))
        return sn_error(SN_ERR_ARG, "vectorizer: output_sequence_length must be in [0, 2^24], got %d",
                        o->output_sequence_length);
    if (o->output_sequence_length > 0 && o->output_mode != SN_OUTPUT_INT)
        return sn_error(SN_ERR_ARG, "vectorizer: output_sequence_length is only valid in int mode");
    if (o->pad_to_max_tokens && (o->output_mode == SN_OUTPUT_INT || o->max_tokens == 0))
        return sn_error(SN_ERR_ARG, "vectorizer: pad_to_max_tokens needs a bag output mode and max_tokens");
    if ((unsigned)o->pad_to_max_tokens > 1 || (unsigned)o->strip_html > 1 || (unsigned)o->stem > 1 ||
        (unsigned)o->utf8_lower > 1)
        return sn_error(SN_ERR_ARG, "vectorizer: flags pad_to_max_tokens, strip_html, stem, utf8_lower must be 0 or 1");
    return SN_OK;
}

sn_status sn_vectorizer_init(sn_vectorizer **out, const sn_vectorizer_opts *opts) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_vectorizer_init: NULL output");
    *out = NULL;
    sn_vectorizer_opts d;
    sn_vectorizer_opts_default(&d);
    if (!opts) opts = &d;
    sn_status st = sn_vectorizer_check_opts(opts);
    if (st != SN_OK) return st;
    sn_vectorizer *v = sn_calloc(1, sizeof *v);
    if (!v) return SN_ERR_NOMEM;
    v->o = *opts;
    *out = v;
    return SN_OK;
}

const sn_vectorizer_opts *sn_vectorizer_get_opts(const sn_vectorizer *v) { return v ? &v->o : NULL; }

void sn_vectorizer_free(sn_vectorizer *v) {
    if (!v) return;
    sn_strtab_free(&v->vocab);
    free(v->idf);
    free(v);
}

static int n_special(const sn_vectorizer *v) { return v->o.output_mode == SN_OUTPUT_INT ? 2 : 1; }

size_t sn_vectorizer_vocab_size(const sn_vectorizer *v) { return v ? v->vocab.n + (size_t)n_special(v) : 0; }

size_t sn_vectorizer_output_width(const sn_vectorizer *v) {
    if (!v) return 0;
    if (v->o.output_mode == SN_OUTPUT_INT) return (size_t)v->o.output_sequence_length;
    if (v->o.pad_to_max_tokens) return (size_t)v->o.max_tokens;
    return sn_vectorizer_vocab_size(v);
}

const char *sn_vectorizer_token(const sn_vectorizer *v, size_t i) {
    if (!v) return NULL;
    size_t sp = (size_t)n_special(v);
    if (sp == 2 && i == 0) return "";
    if (i == sp - 1) return UNK;
    if (i < sp || i - sp >= v->vocab.n) return NULL;
    return v->vocab.arena.p + v->vocab.e[i - sp].off;
}

static int32_t lookup_n(const sn_vectorizer *v, const char *s, size_t n) {
    int64_t id = sn_strtab_find_h(&v->vocab, s, n, sn_strtab_hash(s, n));
    if (id < 0) return n_special(v) - 1; /* OOV */
    return (int32_t)id + n_special(v);
}

int32_t sn_vectorizer_lookup(const sn_vectorizer *v, const char *token) {
    if (!v || !token) return 0;
    if (v->o.output_mode == SN_OUTPUT_INT && token[0] == 0) return 0; /* the mask token */
    return lookup_n(v, token, strlen(token));
}

float sn_vectorizer_idf(const sn_vectorizer *v, size_t i) {
    if (!v || !v->idf) return 0.0f;
    if (i == 0) return v->oov_idf; /* tf_idf is a bag mode: 0 = OOV */
    if (i - 1 >= v->vocab.n) return 0.0f;
    return v->idf[i - 1];
}

uint64_t sn_vectorizer_token_count(const sn_vectorizer *v, size_t i) {
    if (!v) return 0;
    size_t ns = (size_t)n_special(v);
    if (i < ns || i - ns >= v->vocab.n) return 0;
    return v->vocab.e[i - ns].count;
}

/* ---------------------------------------------------------------------
 * Standardization
 * --------------------------------------------------------------------- */

sn_status sn_vectorizer_standardize(const sn_vectorizer *v, const char *text, char **out) {
    if (!v || !text || !out) return sn_error(SN_ERR_ARG, "sn_vectorizer_standardize: NULL argument");
    size_t n = strlen(text);
    char *s = sn_malloc(n + 1, 1);
    if (!s) return SN_ERR_NOMEM;
    sn_tok_rules r = sn_tok_rules_of(&v->o);
    sn_tok_standardize(&r, text, n, s);
    *out = s;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Tokenization: standardize, split, stem, n-grams
 * --------------------------------------------------------------------- */

typedef struct scratch {
    sn_buf std;    /* the standardized text */
    size_t *ts;    /* token starts in std */
    size_t *tl;    /* token lengths */
    size_t tcap;
    sn_buf ng;     /* n-gram join buffer */
    int32_t *ids;  /* encode: ids of all n-grams */
    size_t ids_cap;
} scratch;

static void scratch_free(scratch *s) {
    sn_buf_free(&s->std);
    free(s->ts);
    free(s->tl);
    sn_buf_free(&s->ng);
    free(s->ids);
    memset(s, 0, sizeof *s);
}

typedef void (*tok_fn)(const char *tok, size_t len, void *user);

static int is_az_word(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

/* The n-grams of widths 2..N over the nt tokens (b + ts[t], tl[t]), each
 * width in text order, words joined by one space. */
static sn_status emit_ngrams(const sn_vectorizer_opts *o, const char *b, scratch *s, size_t nt, tok_fn fn, void *user) {
    for (int w = 2; w <= o->ngrams; w++) {
        for (size_t t = 0; t + (size_t)w <= nt; t++) {
            s->ng.n = 0;
            for (int k = 0; k < w; k++) {
                sn_status st = k ? sn_buf_putc(&s->ng, ' ') : SN_OK;
                if (st == SN_OK) st = sn_buf_append(&s->ng, b + s->ts[t + (size_t)k], s->tl[t + (size_t)k]);
                if (st != SN_OK) return st;
            }
            fn(s->ng.p, s->ng.n, user);
        }
    }
    return SN_OK;
}

/* Tokenizes text and calls fn for every n-gram in output order: the
 * standardized tokens (stemmed on request), then the wider n-grams. */
static sn_status tokenize(const sn_vectorizer_opts *o, const char *text, scratch *s, tok_fn fn, void *user) {
    size_t n = strlen(text);
    s->std.n = 0;
    sn_status st = sn_buf_reserve(&s->std, n);
    if (st != SN_OK) return st;
    sn_tok_rules r = sn_tok_rules_of(o);
    size_t m = sn_tok_standardize(&r, text, n, s->std.p);
    /* split: tokens are at most m (one per byte) */
    if (m + 1 > s->tcap) {
        size_t *a = sn_realloc(s->ts, m + 1, sizeof *a);
        if (!a) return SN_ERR_NOMEM;
        s->ts = a;
        a = sn_realloc(s->tl, m + 1, sizeof *a);
        if (!a) return SN_ERR_NOMEM;
        s->tl = a;
        s->tcap = m + 1;
    }
    size_t nt = 0;
    char *b = s->std.p;
    for (size_t pos = 0; sn_tok_next(&r, b, m, &pos, &s->ts[nt], &s->tl[nt]);) nt++;
    if (o->stem)
        for (size_t t = 0; t < nt; t++)
            if (is_az_word(b + s->ts[t], s->tl[t])) s->tl[t] = sn_porter_stem(b + s->ts[t], s->tl[t]);
    for (size_t t = 0; t < nt; t++) fn(b + s->ts[t], s->tl[t], user);
    return emit_ngrams(o, b, s, nt, fn, user);
}

sn_status sn_vectorizer_tokenize(const sn_vectorizer *v, const char *text,
                                 void (*fn)(const char *tok, size_t len, void *user), void *user) {
    if (!v || !text || !fn) return sn_error(SN_ERR_ARG, "sn_vectorizer_tokenize: NULL argument");
    scratch s = {0};
    sn_status st = tokenize(&v->o, text, &s, fn, user);
    scratch_free(&s);
    return st;
}

/* ---------------------------------------------------------------------
 * Vocabulary: adapt / set
 * --------------------------------------------------------------------- */

/* Adapt counts in `nparts` disjoint hash partitions: part p owns the tokens
 * whose hash has (h >> 40) % nparts == p. Each thread tokenizes every text
 * but only counts its own tokens, so no merge is needed and the result is
 * the same for any thread count (the final order is a total order). */

static void adapt_tok(const char *tok, size_t len, void *user) {
    adapt_ctx *a = user;
    if (a->st != SN_OK) return;
    uint64_t h = sn_strtab_hash(tok, len);
    if (a->nparts > 1 && (int)((h >> 40) % (uint64_t)a->nparts) != a->part) return;
    int fresh;
    int64_t id = sn_strtab_put_h(&a->t, tok, len, h, &fresh);
    if (id < 0) {
        a->st = SN_ERR_NOMEM;
        return;
    }
    sn_strtab_ent *e = &a->t.e[id];
    e->count++;
    if (e->aux[1] != a->doc) { /* aux[0]: documents holding the token, aux[1]: the last one */
        e->aux[1] = a->doc;
        e->aux[0]++;
    }
}

/* count descending, then token bytes descending (Python bytes order). */
int sn_vec_cmp_item(const void *pa, const void *pb) {
    const sort_item *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    size_t m = SN_MIN(a->len, b->len);
    int c = memcmp(a->s, b->s, m);
    if (c) return c > 0 ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return 0;
}

sn_status sn_vectorizer_install_vocab(sn_vectorizer *v, const char *const *tokens, const uint32_t *lens, size_t n,
                                      const float *idf, int have_oov_idf, float oov_idf) {
    size_t limit = v->o.max_tokens ? (size_t)v->o.max_tokens - (size_t)n_special(v) : SIZE_MAX;
    if (n > limit)
        return sn_error(SN_ERR_ARG, "vectorizer: %zu tokens exceed max_tokens %d minus %d special slots", n,
                        v->o.max_tokens, n_special(v));
    if (n >= (1u << 24))
        return sn_error(SN_ERR_ARG, "vectorizer: %zu tokens; ids must stay below 2^24 to be exact as floats", n);
    sn_strtab t;
    sn_status st = sn_strtab_init(&t, n);
    if (st != SN_OK) return st;
    float *nidf = NULL;
    if (v->o.output_mode == SN_OUTPUT_TF_IDF) {
        nidf = sn_malloc(SN_MAX(n, 1), sizeof *nidf);
        if (!nidf) st = SN_ERR_NOMEM;
    }
    double sum = 0;
    for (size_t i = 0; i < n && st == SN_OK; i++) {
        size_t len = lens[i];
        if (len == 0) st = sn_error(SN_ERR_ARG, "vectorizer: token %zu is empty", i);
        else if (len == 5 && memcmp(tokens[i], UNK, 5) == 0)
            st = sn_error(SN_ERR_ARG, "vectorizer: token %zu is the OOV token " UNK, i);
        else if (memchr(tokens[i], 0, len))
            st = sn_error(SN_ERR_ARG, "vectorizer: token %zu contains a NUL byte", i);
        if (st != SN_OK) break;
        int fresh;
        int64_t id = sn_strtab_put(&t, tokens[i], len, &fresh);
        if (id < 0) st = SN_ERR_NOMEM;
        else if (!fresh)
            st = sn_error(SN_ERR_ARG, "vectorizer: token %zu ('%.*s') is a duplicate", i, (int)SN_MIN(len, 40),
                          tokens[i]);
        if (st == SN_OK && nidf) {
            float w = idf ? idf[i] : 0.0f;
            if (!isfinite(w)) st = sn_error(SN_ERR_ARG, "vectorizer: idf of token %zu is not finite", i);
            nidf[i] = w;
            sum += w;
        }
    }
    if (st != SN_OK) {
        sn_strtab_free(&t);
        free(nidf);
        return st;
    }
    sn_strtab_free(&v->vocab);
    free(v->idf);
    v->vocab = t;
    v->idf = nidf;
    v->oov_idf = have_oov_idf ? oov_idf : (n ? (float)(sum / (double)n) : 0.0f);
    return SN_OK;
}

sn_status sn_vectorizer_set_vocabulary(sn_vectorizer *v, const char *const *tokens, size_t n, const float *idf) {
    if (!v || (n && !tokens)) return sn_error(SN_ERR_ARG, "sn_vectorizer_set_vocabulary: NULL argument");
    if (v->o.output_mode == SN_OUTPUT_TF_IDF && n && !idf)
        return sn_error(SN_ERR_ARG, "sn_vectorizer_set_vocabulary: tf_idf mode needs idf weights");
    uint32_t *lens = sn_malloc(SN_MAX(n, 1), sizeof *lens);
    if (!lens) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    for (size_t i = 0; i < n; i++) {
        if (!tokens[i]) {
            st = sn_error(SN_ERR_ARG, "sn_vectorizer_set_vocabulary: token %zu is NULL", i);
            break;
        }
        size_t l = strlen(tokens[i]);
        lens[i] = l > 0xffffffffu ? 0xffffffffu : (uint32_t)l;
    }
    if (st == SN_OK) st = sn_vectorizer_install_vocab(v, tokens, lens, n, idf, 0, 0.0f);
    free(lens);
    return st;
}

/* Counting: T threads each tokenize every text and count the tokens of
 * their own partition into parts[p].t. */
sn_status sn_vec_count_parts(const sn_vectorizer *v, const char *const *texts, size_t n, adapt_ctx *parts, int T) {
    sn_status st = SN_OK;
    for (int p = 0; p < T; p++) {
        parts[p].part = p;
        parts[p].nparts = T;
        parts[p].st = sn_strtab_init(&parts[p].t, (size_t)(1 << 16) / (size_t)T);
        if (parts[p].st != SN_OK) st = parts[p].st;
    }
    if (st != SN_OK) return st;
    sn_par_error pe; /* a worker's message is thread-local: carried back by pe */
    sn_par_error_init(&pe);
#pragma omp parallel num_threads(T)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static, 1)
        for (int p = 0; p < T; p++) {
            adapt_ctx *a = &parts[p];
            scratch s = {0};
            for (size_t d = 0; d < n && a->st == SN_OK; d++) {
                a->doc = (uint32_t)d + 1;
                sn_status ts = tokenize(&v->o, texts[d], &s, adapt_tok, a);
                if (ts != SN_OK) a->st = ts;
            }
            if (a->st != SN_OK) sn_par_error_note(&pe, (size_t)p, a->st);
            scratch_free(&s);
        }
        sn_fp_leave(fp);
    }
    if (sn_par_error_any(&pe)) return sn_error_prefix(sn_par_error_raise(&pe), "sn_vectorizer_adapt");
    return SN_OK;
}

/* Only the top `limit` tokens survive: the largest count c such that at
 * least `limit` tokens have a count >= c, so that only those are sorted
 * (the long tail of count-1 n-grams never reaches qsort). */
uint64_t sn_vec_floor(const int64_t *hist, size_t limit) {
    size_t above = 0;
    uint64_t c = SN_VEC_HIST - 1;
    for (;; c--) {
        above += (size_t)hist[c];
        if (above >= limit || c == 0) break;
    }
    return c;
}

void sn_vec_hist_add(const sn_strtab *t, int64_t *hist) {
    for (size_t i = 0; i < t->n; i++) hist[SN_MIN(t->e[i].count, (uint64_t)SN_VEC_HIST - 1)]++;
}

static sn_status count_floor(const adapt_ctx *parts, int T, size_t limit, uint64_t *floor_count) {
    int64_t *hist = sn_calloc(SN_VEC_HIST, sizeof *hist);
    if (!hist) return SN_ERR_NOMEM;
    for (int p = 0; p < T; p++) sn_vec_hist_add(&parts[p].t, hist);
    *floor_count = sn_vec_floor(hist, limit);
    free(hist);
    return SN_OK;
}

/* The counted tokens with a count >= floor_count (never the mask "" nor the
 * OOV token) into items (total capacity), sorted; returns how many. */
static size_t collect_items(const adapt_ctx *parts, int T, uint64_t floor_count, sort_item *items) {
    size_t m = 0;
    for (int p = 0; p < T; p++) {
        const sn_strtab *t = &parts[p].t;
        for (size_t i = 0; i < t->n; i++) {
            const sn_strtab_ent *e = &t->e[i];
            const char *tok = sn_strtab_key(t, i);
            if (e->len == 0 || (e->len == 5 && memcmp(tok, UNK, 5) == 0)) continue;
            if (e->count < floor_count) continue;
            items[m].count = e->count;
            items[m].s = tok;
            items[m].len = e->len;
            items[m].df = e->aux[0];
            m++;
        }
    }
    if (m > 1) qsort(items, m, sizeof *items, sn_vec_cmp_item);
    return m;
}

/* Installs the first m sorted items as the vocabulary, with idf =
 * ln(1 + N_docs / (1 + df)) (Keras's IndexLookup) over n documents. */
sn_status sn_vec_install_items(sn_vectorizer *v, const sort_item *items, size_t m, size_t n) {
    const char **toks = sn_malloc(SN_MAX(m, 1), sizeof *toks);
    uint32_t *lens = sn_malloc(SN_MAX(m, 1), sizeof *lens);
    float *idf = sn_malloc(SN_MAX(m, 1), sizeof *idf);
    sn_status st = toks && lens && idf ? SN_OK : SN_ERR_NOMEM;
    if (st == SN_OK) {
        for (size_t i = 0; i < m; i++) {
            toks[i] = items[i].s;
            lens[i] = items[i].len;
            idf[i] = (float)log(1.0 + (double)n / (1.0 + (double)items[i].df));
        }
        st = sn_vectorizer_install_vocab(v, toks, lens, m, idf, 0, 0.0f);
        /* the adapt counts ride along in the entries' user field (sn_vectorizer_token_count) */
        for (size_t i = 0; st == SN_OK && i < m; i++) v->vocab.e[i].count = items[i].count;
    }
    free(toks);
    free(lens);
    free(idf);
    return st;
}

static sn_status sn_vectorizer_adapt_work(sn_vectorizer *v, const char *const *texts, size_t n) {
    if (!v || (n && !texts)) return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt: NULL argument");
    if (n >= 0xffffffffu) return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt: too many texts (%zu)", n);
    for (size_t d = 0; d < n; d++)
        if (!texts[d]) return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt: text %zu is NULL", d);
    int T = sn_vec_adapt_threads(n);
    adapt_ctx *parts = sn_calloc((size_t)T, sizeof *parts);
    if (!parts) return SN_ERR_NOMEM;
    sn_status st = sn_vec_count_parts(v, texts, n, parts, T);
    size_t total = 0;
    for (int p = 0; p < T; p++) total += parts[p].t.n;
    size_t limit = v->o.max_tokens ? (size_t)v->o.max_tokens - (size_t)n_special(v) : SIZE_MAX;
    uint64_t floor_count = 0;
    if (st == SN_OK && limit < total) st = count_floor(parts, T, limit, &floor_count);
    sort_item *items = NULL;
    if (st == SN_OK && !(items = sn_malloc(SN_MAX(total, 1), sizeof *items))) st = SN_ERR_NOMEM;
    if (st == SN_OK) st = sn_vec_install_items(v, items, SN_MIN(collect_items(parts, T, floor_count, items), limit), n);
    free(items);
    for (int p = 0; p < T; p++) sn_strtab_free(&parts[p].t);
    free(parts);
    return st;
}

sn_status sn_vectorizer_adapt(sn_vectorizer *v, const char *const *texts, size_t n) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_vectorizer_adapt_work(v, texts, n);
    sn_fp_leave(fp);
    return st;
}

/* ---------------------------------------------------------------------
 * Encoding
 * --------------------------------------------------------------------- */

typedef struct enc_ctx {
    const sn_vectorizer *v;
    scratch *s;
    size_t n;
    sn_status st;
} enc_ctx;

static void enc_tok(const char *tok, size_t len, void *user) {
    enc_ctx *e = user;
    if (e->st != SN_OK) return;
    scratch *s = e->s;
    if (e->n == s->ids_cap) {
        size_t nc = s->ids_cap ? 2 * s->ids_cap : 256;
        int32_t *p = sn_realloc(s->ids, nc, sizeof *p);
        if (!p) {
            e->st = SN_ERR_NOMEM;
            return;
        }
        s->ids = p;
        s->ids_cap = nc;
    }
    s->ids[e->n++] = lookup_n(e->v, tok, len);
}

/* All ids of text into s->ids; returns the count in *n. */
static sn_status encode_all(const sn_vectorizer *v, const char *text, scratch *s, size_t *n) {
    enc_ctx e = {v, s, 0, SN_OK};
    sn_status st = tokenize(&v->o, text, s, enc_tok, &e);
    if (st == SN_OK) st = e.st;
    *n = e.n;
    return st;
}

static sn_status sn_vectorizer_encode_ids_work(const sn_vectorizer *v, const char *text, int32_t *ids, size_t cap,
                                               size_t *n) {
    if (!v || !text || !n || (cap && !ids)) return sn_error(SN_ERR_ARG, "sn_vectorizer_encode_ids: NULL argument");
    scratch s = {0};
    size_t m = 0;
    sn_status st = encode_all(v, text, &s, &m);
    if (st == SN_OK) {
        if (cap) memcpy(ids, s.ids, SN_MIN(cap, m) * sizeof *ids);
        *n = m;
    }
    scratch_free(&s);
    return st;
}

sn_status sn_vectorizer_encode_ids(const sn_vectorizer *v, const char *text, int32_t *ids, size_t cap, size_t *n) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_vectorizer_encode_ids_work(v, text, ids, cap, n);
    sn_fp_leave(fp);
    return st;
}

static sn_status sn_vectorizer_encode_int_work(const sn_vectorizer *v, const char *text, float *ids) {
    if (!v || !text || !ids) return sn_error(SN_ERR_ARG, "sn_vectorizer_encode_int: NULL argument");
    if (v->o.output_mode != SN_OUTPUT_INT || v->o.output_sequence_length <= 0)
        return sn_error(SN_ERR_STATE, "sn_vectorizer_encode_int: needs int mode with output_sequence_length > 0");
    scratch s = {0};
    size_t m = 0, L = (size_t)v->o.output_sequence_length;
    sn_status st = encode_all(v, text, &s, &m);
    if (st == SN_OK)
        for (size_t i = 0; i < L; i++) ids[i] = i < m ? (float)s.ids[i] : 0.0f;
    scratch_free(&s);
    return st;
}

sn_status sn_vectorizer_encode_int(const sn_vectorizer *v, const char *text, float *ids) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_vectorizer_encode_int_work(v, text, ids);
    sn_fp_leave(fp);
    return st;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static sn_status sn_vectorizer_encode_sparse_work(const sn_vectorizer *v, const char *text, int32_t *idx, float *val,
                                                  size_t cap, size_t *nnz) {
    if (!v || !text || !nnz || (cap && (!idx || !val)))
        return sn_error(SN_ERR_ARG, "sn_vectorizer_encode_sparse: NULL argument");
    if (v->o.output_mode == SN_OUTPUT_INT)
        return sn_error(SN_ERR_STATE, "sn_vectorizer_encode_sparse: the vectorizer is in int mode");
    scratch s = {0};
    size_t m = 0;
    sn_status st = encode_all(v, text, &s, &m);
    if (st == SN_OK) {
        if (m > 1) qsort(s.ids, m, sizeof *s.ids, cmp_i32);
        size_t k = 0;
        for (size_t i = 0; i < m; i++) k += i == 0 || s.ids[i] != s.ids[i - 1];
        *nnz = k;
        if (k > cap) {
            st = sn_error(SN_ERR_SHAPE, "sn_vectorizer_encode_sparse: %zu non-zeros, capacity %zu", k, cap);
        } else {
            size_t o = 0;
            for (size_t i = 0; i < m;) {
                size_t j = i;
                while (j < m && s.ids[j] == s.ids[i]) j++;
                float c = (float)(j - i), x;
                switch (v->o.output_mode) {
                case SN_OUTPUT_MULTI_HOT: x = 1.0f; break;
                case SN_OUTPUT_COUNT: x = c; break;
                default: x = c * sn_vectorizer_idf(v, (size_t)s.ids[i]); break;
                }
                idx[o] = s.ids[i];
                val[o] = x;
                o++;
                i = j;
            }
        }
    }
    scratch_free(&s);
    return st;
}

sn_status sn_vectorizer_encode_sparse(const sn_vectorizer *v, const char *text, int32_t *idx, float *val, size_t cap,
                                      size_t *nnz) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_vectorizer_encode_sparse_work(v, text, idx, val, cap, nnz);
    sn_fp_leave(fp);
    return st;
}

static sn_status sn_vectorizer_encode_dense_work(const sn_vectorizer *v, const char *text, float *out) {
    if (!v || !text || !out) return sn_error(SN_ERR_ARG, "sn_vectorizer_encode_dense: NULL argument");
    size_t W = sn_vectorizer_output_width(v), nnz = 0;
    if (v->o.output_mode == SN_OUTPUT_INT)
        return sn_error(SN_ERR_STATE, "sn_vectorizer_encode_dense: the vectorizer is in int mode");
    int32_t *idx = sn_malloc(W, sizeof *idx);
    float *val = sn_malloc(W, sizeof *val);
    sn_status st = idx && val ? SN_OK : SN_ERR_NOMEM;
    if (st == SN_OK) st = sn_vectorizer_encode_sparse(v, text, idx, val, W, &nnz);
    if (st == SN_OK) {
        memset(out, 0, W * sizeof *out);
        for (size_t i = 0; i < nnz; i++) out[idx[i]] = val[i];
    }
    free(idx);
    free(val);
    return st;
}

sn_status sn_vectorizer_encode_dense(const sn_vectorizer *v, const char *text, float *out) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_vectorizer_encode_dense_work(v, text, out);
    sn_fp_leave(fp);
    return st;
}
