/* Word2Vec: skip-gram with negative sampling (Mikolov, Sutskever, Chen,
 * Corrado, Dean 2013, "Distributed Representations of Words and Phrases and
 * their Compositionality"), following the original word2vec.c:
 *  - vocabulary by count (min_count, max_vocab), sorted by decreasing count;
 *  - subsampling of frequent words: keep a token of count c among N corpus
 *    tokens with p = (sqrt(c / (t N)) + 1) * t N / c  (t = sample);
 *  - dynamic window: per center word b ~ U{0..window-1}, context distance
 *    <= window - b;
 *  - for each (center w, context u) pair the *context* row syn0[u] predicts
 *    w (label 1) and `negative` words drawn from unigram^0.75 (label 0):
 *      f = syn0[u] . syn1neg[t];  g = (label - sigmoid(f)) * alpha
 *      neu1e += g syn1neg[t];  syn1neg[t] += g syn0[u];  then syn0[u] += neu1e
 *  - alpha decays linearly with the words processed over all epochs,
 *    floored at alpha0 * 1e-4; the shared counter is refreshed every 10000
 *    words per thread, as in the original;
 *  - Hogwild: threads update syn0 / syn1neg without locks.
 * Departures from word2vec.c, for speed: negatives come from an exact alias
 * table instead of a 1e8-entry lookup table, and subsampling keep scores are
 * precomputed per word; the LCG random stream is the original's.
 * Sentences are the documents, cut into 1000-token pieces
 * (MAX_SENTENCE_LENGTH of word2vec.c). Out-of-vocabulary tokens are removed
 * before windowing, as in the original. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/wordvec.h"
#include "core/internal.h"
#include "core/strtab.h"
#include "text/tokenize.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define W2V_MAX_SENTENCE 1000
#define W2V_EXP_TABLE 1000
#define W2V_MAX_EXP 6

void sn_word2vec_opts_default(sn_word2vec_opts *o) {
    memset(o, 0, sizeof *o);
    o->dim = 100;
    o->window = 5;
    o->negative = 5;
    o->min_count = 5;
    o->sample = 1e-3;
    o->epochs = 5;
    o->alpha = 0.025f;
    o->threads = 0;
    o->seed = 1;
    o->max_vocab = 0;
    o->exact_sigmoid = 0;
    o->tokenizer = NULL;
    o->tokenizer_user = NULL;
}

/* ------------------------------------------------------------------ */
/* Tokenizer                                                           */
/* ------------------------------------------------------------------ */

static int is_ascii_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* The library's one standardizer and splitter (text/tokenize.h) with the
 * rules of the Word2Vec IMDB recipes: "<br />" -> ' ', ASCII lowercase, the
 * 32 ASCII punctuation characters deleted, split on ASCII whitespace. */
sn_status sn_word2vec_tokenize(const char *text, sn_word2vec_token_fn emit, void *emit_user, void *tok_user) {
    (void)tok_user;
    if (!text || !emit) return sn_error(SN_ERR_ARG, "sn_word2vec_tokenize: NULL text or emit");
    static const sn_tok_rules rules = {1, 0, 1, SN_TOK_BR_EXACT, SN_SPLIT_WHITESPACE};
    size_t n = strlen(text);
    char *std = sn_malloc(n + 1, 1);
    if (!std) return SN_ERR_NOMEM;
    size_t m = sn_tok_standardize(&rules, text, n, std), pos = 0, b, len;
    sn_status st = SN_OK;
    while (st == SN_OK && sn_tok_next(&rules, std, m, &pos, &b, &len)) {
        if (len > SN_WORDVEC_MAX_LINE) len = SN_WORDVEC_MAX_LINE; /* cut overlong tokens */
        if (b + len == pos && pos < m) pos++; /* the separator becomes the NUL: step over it */
        std[b + len] = '\0';
        if (emit(std + b, len, emit_user))
            st = sn_error(SN_ERR_INTERRUPTED, "sn_word2vec_tokenize: stopped by the token callback");
    }
    free(std);
    return st;
}

/* ------------------------------------------------------------------ */
/* Counting pass: a hash of distinct tokens and the corpus as ids       */
/* ------------------------------------------------------------------ */

typedef struct counter {
    sn_strtab words;   /* distinct tokens (core/strtab.h); entry count = occurrences */
    uint32_t *corpus;  /* (n_tok) ids in document order */
    size_t n_tok, tok_cap;
    size_t *doc_end;   /* (n_docs) end offset of each document in corpus */
    sn_status err;
} counter;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need) nc *= 2;
    void *q = sn_realloc(*p, nc, elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static int counter_emit(const char *tok, size_t len, void *user) {
    counter *c = user;
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++)
        if (is_ascii_space((unsigned char)tok[i]) || tok[i] == '\0') {
            c->err = sn_error(SN_ERR_ARG, "sn_word2vec_train: the tokenizer emitted a token with whitespace: '%.60s'", tok);
            return 1;
        }
    int fresh;
    int64_t id = sn_strtab_put(&c->words, tok, len, &fresh);
    if (id < 0) {
        c->err = SN_ERR_NOMEM;
        return 1;
    }
    c->words.e[id].count++;
    if (grow((void **)&c->corpus, &c->tok_cap, c->n_tok + 1, sizeof *c->corpus)) {
        c->err = SN_ERR_NOMEM;
        return 1;
    }
    c->corpus[c->n_tok++] = (uint32_t)id;
    return 0;
}

static void counter_free(counter *c) {
    sn_strtab_free(&c->words);
    free(c->corpus);
    free(c->doc_end);
}

typedef struct vrank {
    uint64_t count;
    const char *word;
    uint32_t old_id;
} vrank;

static int vrank_cmp(const void *pa, const void *pb) {
    const vrank *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(a->word, b->word);
}

/* ------------------------------------------------------------------ */
/* Training                                                            */
/* ------------------------------------------------------------------ */

/* One bucket of Walker's alias method (Vose's construction): draw a bucket i
 * uniformly, keep i when a 32-bit uniform is below prob, else take alias.
 * Exact unigram^0.75 sampling in V * 8 bytes, which stays in cache, where
 * word2vec.c's 1e8-entry table costs a cache miss per negative sample
 * (profiled: half of the training time with a 6 MB table). */
typedef struct w2v_alias {
    uint32_t prob;  /* P(keep i) * 2^32, saturated */
    uint32_t alias;
} w2v_alias;

typedef struct shared {
    const sn_word2vec_opts *o;
    int D;
    size_t V;
    float *syn0, *syn1; /* (V, D) each */
    const double *keep;     /* (V) subsampling keep score (sqrt(c/tN) + 1) tN / c */
    const w2v_alias *alias; /* (V) unigram^0.75 alias table */
    const float *exp_table;    /* (W2V_EXP_TABLE + 1) sigmoid over [-MAX_EXP, MAX_EXP] */
    const float *logsig_table; /* (W2V_EXP_TABLE + 1) log sigmoid, for the loss */
    const uint32_t *corpus;    /* (n_tok) ids after filtering */
    const size_t *sent;        /* (n_sent + 1) sentence starts */
    uint64_t train_words;      /* corpus tokens per epoch */
    _Atomic uint64_t word_count_actual;
    float alpha0;
} shared;

typedef struct worker {
    shared *sh;
    size_t s_begin, s_end; /* sentence slice */
    uint64_t next_random;  /* word2vec.c's LCG state, carried across epochs */
    float alpha;
    double loss;
    uint64_t pairs;
    float *neu1e;          /* (D) scratch: the context row's accumulated update */
} worker;

static inline float log_sigmoid_exact(float f) { return f >= 0 ? -log1pf(expf(-f)) : f - log1pf(expf(f)); }

/* One (center word, context row l1) pair: the positive target and
 * `negative` alias draws, each updating syn1neg[target] and the context's
 * accumulated update neu1e (D); then syn0[context] += neu1e. Returns the
 * advanced LCG state; adds -log sigmoid(+-f) of each target to *loss in
 * target order. */
static uint64_t train_pair(const shared *sh, uint32_t word, float *l1, float *neu1e, float alpha, uint64_t next_random,
                           double *loss) {
    const int D = sh->D, negative = sh->o->negative, exact = sh->o->exact_sigmoid;
    const float exp_scale = (float)W2V_EXP_TABLE / W2V_MAX_EXP / 2;
    for (int j = 0; j < D; j++) neu1e[j] = 0;
    for (int d = 0; d <= negative; d++) {
        uint32_t target;
        float label;
        if (d == 0) {
            target = word;
            label = 1;
        } else {
            /* Bucket from the LCG's top 32 bits (multiply-shift), then a
             * second draw against its prob. */
            next_random = next_random * 25214903917ULL + 11;
            const w2v_alias *al = &sh->alias[((next_random >> 32) * (uint64_t)sh->V) >> 32];
            next_random = next_random * 25214903917ULL + 11;
            target = (uint32_t)(next_random >> 32) < al->prob ? (uint32_t)(al - sh->alias) : al->alias;
            if (target == word) continue;
            label = 0;
        }
        float *l2 = sh->syn1 + (size_t)target * D;
        float f = 0;
#pragma omp simd reduction(+ : f)
        for (int j = 0; j < D; j++) f += l1[j] * l2[j];
        float g, ls; /* ls: log sigmoid of the signed score, for the loss */
        float sf = label > 0 ? f : -f;
        if (exact) {
            g = (label - 1.0f / (1.0f + expf(-f))) * alpha;
            ls = log_sigmoid_exact(sf);
        } else {
            if (f > W2V_MAX_EXP) g = (label - 1) * alpha;
            else if (f < -W2V_MAX_EXP) g = (label - 0) * alpha;
            else g = (label - sh->exp_table[(int)((f + W2V_MAX_EXP) * exp_scale)]) * alpha;
            if (sf > W2V_MAX_EXP) ls = 0;
            else if (sf < -W2V_MAX_EXP) ls = sf;
            else ls = sh->logsig_table[(int)((sf + W2V_MAX_EXP) * exp_scale)];
        }
        *loss -= ls;
#pragma omp simd
        for (int j = 0; j < D; j++) neu1e[j] += g * l2[j];
#pragma omp simd
        for (int j = 0; j < D; j++) l2[j] += g * l1[j];
    }
#pragma omp simd
    for (int j = 0; j < D; j++) l1[j] += neu1e[j];
    return next_random;
}

/* One thread's share of an epoch: its sentence slice, subsampled, every
 * center word with its dynamic window (word2vec.c's TrainModelThread). */
static void *worker_run(void *arg) {
    sn_fp_state fp = sn_fp_enter(); /* every thread that computes for seqnn (core/internal.h) */
    worker *wk = arg;
    shared *sh = wk->sh;
    const sn_word2vec_opts *o = sh->o;
    const int window = o->window;
    const float alpha_min = sh->alpha0 * 1e-4f;
    const uint64_t total = (uint64_t)o->epochs * sh->train_words + 1;
    uint32_t sen[W2V_MAX_SENTENCE];
    uint64_t next_random = wk->next_random;
    uint64_t word_count = 0, last_word_count = 0;
    float alpha = wk->alpha;
    double loss = 0;
    uint64_t pairs = 0;

    for (size_t s = wk->s_begin; s < wk->s_end; s++) {
        /* Refresh the shared progress and alpha every 10000 words. */
        if (word_count - last_word_count > 10000) {
            uint64_t done = atomic_fetch_add(&sh->word_count_actual, word_count - last_word_count) +
                            (word_count - last_word_count);
            last_word_count = word_count;
            alpha = sh->alpha0 * (float)(1.0 - (double)done / (double)total);
            if (alpha < alpha_min) alpha = alpha_min;
        }
        /* Subsample the sentence. */
        int len = 0;
        for (size_t t = sh->sent[s]; t < sh->sent[s + 1]; t++) {
            uint32_t w = sh->corpus[t];
            word_count++;
            if (o->sample > 0) {
                next_random = next_random * 25214903917ULL + 11;
                if (sh->keep[w] < (double)(next_random & 0xFFFF) / 65536.0) continue;
            }
            sen[len++] = w;
        }
        for (int pos = 0; pos < len; pos++) {
            next_random = next_random * 25214903917ULL + 11;
            int b = (int)(next_random % (uint64_t)window);
            for (int a = b; a < window * 2 + 1 - b; a++) {
                int c = pos - window + a;
                if (a == window || c < 0 || c >= len) continue;
                float *l1 = sh->syn0 + (size_t)sen[c] * sh->D;
                next_random = train_pair(sh, sen[pos], l1, wk->neu1e, alpha, next_random, &loss);
                pairs++;
            }
        }
    }
    atomic_fetch_add(&sh->word_count_actual, word_count - last_word_count);
    wk->next_random = next_random;
    wk->alpha = alpha;
    wk->loss = loss;
    wk->pairs = pairs;
    sn_fp_leave(fp);
    return NULL;
}

/* Everything sn_word2vec_train allocates, released by w2v_free. */
typedef struct w2v {
    sn_word2vec_opts o;
    counter c;
    size_t V;              /* vocabulary size */
    uint64_t *counts;      /* (V) */
    const char **words;    /* (V) into c.words' arena */
    size_t *sent;          /* (n_sent + 1) sentence starts in c.corpus */
    size_t n_sent;
    uint64_t train_words;  /* corpus tokens after filtering */
    w2v_alias *alias;      /* (V) */
    double *keep;          /* (V) */
    float *exp_table;      /* (2 (W2V_EXP_TABLE + 1)) sigmoid, then log sigmoid */
    float *syn0, *syn1;    /* (V, D) */
    int T;
    worker *wk;            /* (T) */
    shared sh;
} w2v;

static void w2v_free(w2v *m) {
    counter_free(&m->c);
    free(m->counts);
    free(m->words);
    free(m->sent);
    free(m->alias);
    free(m->keep);
    free(m->exp_table);
    free(m->syn0);
    free(m->syn1);
    for (int t = 0; m->wk && t < m->T; t++) free(m->wk[t].neu1e);
    free(m->wk);
}

static sn_status check_opts(const sn_word2vec_opts *o) {
    if (o->dim <= 0 || o->dim > 100000) return sn_error(SN_ERR_ARG, "sn_word2vec_train: dim must be in 1..100000, got %d", o->dim);
    if (o->window <= 0 || o->window > 1000) return sn_error(SN_ERR_ARG, "sn_word2vec_train: window must be in 1..1000, got %d", o->window);
    if (o->negative <= 0 || o->negative > 1000)
        return sn_error(SN_ERR_ARG, "sn_word2vec_train: negative must be in 1..1000 (hierarchical softmax is not implemented), got %d", o->negative);
    if (o->min_count < 0) return sn_error(SN_ERR_ARG, "sn_word2vec_train: min_count must be >= 0, got %d", o->min_count);
    if (!(o->sample >= 0) || !isfinite(o->sample)) return sn_error(SN_ERR_ARG, "sn_word2vec_train: sample must be >= 0, got %g", o->sample);
    if (o->epochs <= 0) return sn_error(SN_ERR_ARG, "sn_word2vec_train: epochs must be > 0, got %d", o->epochs);
    if (!(o->alpha > 0) || !isfinite(o->alpha)) return sn_error(SN_ERR_ARG, "sn_word2vec_train: alpha must be > 0, got %g", (double)o->alpha);
    if (o->threads < 0) return sn_error(SN_ERR_ARG, "sn_word2vec_train: threads must be >= 0, got %d", o->threads);
    return SN_OK;
}

/* Counting pass: every text tokenized once, the corpus kept as ids. */
static sn_status count_corpus(w2v *m, const char *const *texts, size_t n_texts) {
    counter *c = &m->c;
    sn_word2vec_tokenizer_fn tokenize = m->o.tokenizer ? m->o.tokenizer : sn_word2vec_tokenize;
    if (sn_strtab_init(&c->words, 512) != SN_OK || !(c->doc_end = sn_malloc(n_texts ? n_texts : 1, sizeof *c->doc_end)))
        return SN_ERR_NOMEM;
    for (size_t i = 0; i < n_texts; i++) {
        if (!texts[i]) return sn_error(SN_ERR_ARG, "sn_word2vec_train: text %zu is NULL", i);
        sn_status st = tokenize(texts[i], counter_emit, c, m->o.tokenizer_user);
        if (c->err != SN_OK) st = c->err;
        if (st != SN_OK) return sn_error_prefix(st, "text %zu", i);
        c->doc_end[i] = c->n_tok;
    }
    return SN_OK;
}

/* Vocabulary: count >= min_count, by count desc (ties by bytes), at most
 * max_vocab; then the corpus filtered in place to vocabulary ids and cut
 * into sentences of at most W2V_MAX_SENTENCE tokens. */
static sn_status build_vocab(w2v *m, size_t n_texts) {
    counter *c = &m->c;
    size_t nw = c->words.n;
    vrank *rank = sn_malloc(nw ? nw : 1, sizeof *rank);
    int32_t *remap = sn_malloc(nw ? nw : 1, sizeof *remap);
    sn_status st = rank && remap ? SN_OK : SN_ERR_NOMEM;
    size_t V = 0;
    for (size_t i = 0; st == SN_OK && i < nw; i++) {
        remap[i] = -1;
        if (c->words.e[i].count >= (uint64_t)m->o.min_count)
            rank[V++] = (vrank){c->words.e[i].count, sn_strtab_key(&c->words, i), (uint32_t)i};
    }
    if (st == SN_OK) qsort(rank, V, sizeof *rank, vrank_cmp);
    if (m->o.max_vocab && V > m->o.max_vocab) V = m->o.max_vocab;
    if (st == SN_OK && V == 0)
        st = sn_error(SN_ERR_STATE, "sn_word2vec_train: empty vocabulary: %zu distinct tokens in %zu texts, none seen >= min_count=%d times",
                      nw, n_texts, m->o.min_count);
    m->V = V;
    size_t n_sent_cap = n_texts + c->n_tok / W2V_MAX_SENTENCE + 2;
    if (st == SN_OK) {
        m->counts = sn_malloc(V, sizeof *m->counts);
        m->words = sn_malloc(V, sizeof *m->words);
        m->sent = sn_malloc(n_sent_cap, sizeof *m->sent);
        if (!m->counts || !m->words || !m->sent) st = SN_ERR_NOMEM;
    }
    for (size_t v = 0; st == SN_OK && v < V; v++) {
        remap[rank[v].old_id] = (int32_t)v;
        m->counts[v] = rank[v].count;
        m->words[v] = rank[v].word;
    }
    if (st == SN_OK) {
        size_t w_pos = 0, r_pos = 0, n_sent = 0;
        for (size_t i = 0; i < n_texts; i++) {
            size_t start = w_pos;
            for (; r_pos < c->doc_end[i]; r_pos++) {
                int32_t id = remap[c->corpus[r_pos]];
                if (id >= 0) c->corpus[w_pos++] = (uint32_t)id;
            }
            for (size_t s = start; s < w_pos; s += W2V_MAX_SENTENCE) m->sent[n_sent++] = s;
        }
        m->sent[n_sent] = w_pos;
        m->n_sent = n_sent;
        m->train_words = w_pos;
    }
    free(rank);
    free(remap);
    return st;
}

/* Walker's alias table for unigram^0.75 (Vose's construction: scaled[i] =
 * V p_i; pair each under-full bucket with an over-full one that tops it up). */
static sn_status build_alias(w2v *m) {
    size_t V = m->V;
    m->alias = sn_malloc(V, sizeof *m->alias);
    double *scaled = sn_malloc(V, sizeof *scaled);
    size_t *small = sn_malloc(V, sizeof *small), *large = sn_malloc(V, sizeof *large);
    sn_status st = m->alias && scaled && small && large ? SN_OK : SN_ERR_NOMEM;
    if (st == SN_OK) {
        w2v_alias *alias = m->alias;
        double pow_sum = 0;
        for (size_t v = 0; v < V; v++) pow_sum += pow((double)m->counts[v], 0.75);
        size_t ns = 0, nl = 0;
        for (size_t v = 0; v < V; v++) {
            scaled[v] = pow((double)m->counts[v], 0.75) / pow_sum * (double)V;
            if (scaled[v] < 1.0) small[ns++] = v;
            else large[nl++] = v;
        }
        while (ns && nl) {
            size_t sm = small[--ns], lg = large[nl - 1];
            double pr = scaled[sm] * 4294967296.0;
            alias[sm].prob = pr >= 4294967295.0 ? UINT32_MAX : (uint32_t)pr;
            alias[sm].alias = (uint32_t)lg;
            scaled[lg] -= 1.0 - scaled[sm];
            if (scaled[lg] < 1.0) {
                nl--;
                small[ns++] = lg;
            }
        }
        /* Left-overs are full buckets (up to rounding). */
        while (nl) {
            size_t v = large[--nl];
            alias[v] = (w2v_alias){UINT32_MAX, (uint32_t)v};
        }
        while (ns) {
            size_t v = small[--ns];
            alias[v] = (w2v_alias){UINT32_MAX, (uint32_t)v};
        }
    }
    free(scaled);
    free(small);
    free(large);
    return st;
}

/* Subsampling keep scores, the sigmoid / log-sigmoid tables and the
 * weights: syn0 uniform in (-0.5/D, 0.5/D) from the seed, syn1neg zero. */
static sn_status build_tables(w2v *m) {
    size_t V = m->V, D = (size_t)m->o.dim;
    /* W2V_EXP_TABLE + 1 entries each: x = +MAX_EXP exactly maps to index
     * W2V_EXP_TABLE (word2vec.c allocates the same spare entry). */
    m->exp_table = sn_malloc(2 * (W2V_EXP_TABLE + 1), sizeof *m->exp_table);
    m->syn0 = sn_aligned_calloc(V * D, sizeof *m->syn0);
    m->syn1 = sn_aligned_calloc(V * D, sizeof *m->syn1);
    m->keep = sn_malloc(V, sizeof *m->keep);
    if (!m->exp_table || !m->syn0 || !m->syn1 || !m->keep) return SN_ERR_NOMEM;
    for (size_t v = 0; v < V && m->o.sample > 0; v++) {
        double tn = m->o.sample * (double)(m->train_words ? m->train_words : 1), cn = (double)m->counts[v];
        m->keep[v] = (sqrt(cn / tn) + 1) * tn / cn;
    }
    for (int i = 0; i <= W2V_EXP_TABLE; i++) {
        double x = ((double)i / W2V_EXP_TABLE * 2 - 1) * W2V_MAX_EXP;
        m->exp_table[i] = (float)(1.0 / (1.0 + exp(-x)));
        m->exp_table[W2V_EXP_TABLE + 1 + i] = (float)(x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)));
    }
    sn_rng rng;
    sn_rng_seed(&rng, m->o.seed);
    for (size_t i = 0; i < V * D; i++) m->syn0[i] = (sn_rng_uniform(&rng) - 0.5f) / (float)m->o.dim;
    return SN_OK;
}

/* Threads: contiguous sentence slices balanced by tokens, each with its own
 * LCG seed drawn from the seed. */
static sn_status setup_workers(w2v *m) {
    int T = m->o.threads ? m->o.threads : sn_threads_get();
    if (T < 1) T = 1;
    if ((size_t)T > m->n_sent && m->n_sent > 0) T = (int)m->n_sent;
    m->T = T;
    m->wk = sn_calloc((size_t)T, sizeof *m->wk);
    if (!m->wk) return SN_ERR_NOMEM;
    shared *sh = &m->sh;
    *sh = (shared){.o = &m->o, .D = m->o.dim, .V = m->V, .syn0 = m->syn0, .syn1 = m->syn1, .keep = m->keep,
                   .alias = m->alias, .exp_table = m->exp_table, .logsig_table = m->exp_table + W2V_EXP_TABLE + 1,
                   .corpus = m->c.corpus, .sent = m->sent, .train_words = m->train_words ? m->train_words : 1,
                   .alpha0 = m->o.alpha};
    atomic_init(&sh->word_count_actual, 0);
    sn_rng rng;
    sn_rng_seed(&rng, m->o.seed ^ 0x5eed5eed5eedULL);
    sn_status st = SN_OK;
    size_t s = 0;
    for (int t = 0; t < T; t++) {
        worker *w = &m->wk[t];
        w->sh = sh;
        w->s_begin = s;
        uint64_t goal = m->train_words * (uint64_t)(t + 1) / (uint64_t)T;
        while (s < m->n_sent && (t == T - 1 || m->sent[s] < goal)) s++;
        w->s_end = t == T - 1 ? m->n_sent : s;
        s = w->s_end;
        w->next_random = sn_rng_u64(&rng);
        w->alpha = m->o.alpha;
        if (!(w->neu1e = sn_malloc((size_t)m->o.dim, sizeof(float)))) st = SN_ERR_NOMEM;
    }
    return st;
}

/* One epoch on T threads (the caller's thread is worker 0), then the
 * progress callback with the epoch's mean loss per pair. */
static sn_status run_epoch(w2v *m, int ep, sn_word2vec_progress_fn cb, void *user) {
    const int T = m->T;
    pthread_t tid[64];
    pthread_t *tids = T <= 64 ? tid : sn_calloc((size_t)T, sizeof *tids);
    if (!tids) return SN_ERR_NOMEM;
    double t0 = sn_time_now();
    int started = 0;
    for (int t = 1; t < T; t++) {
        if (pthread_create(&tids[t], NULL, worker_run, &m->wk[t]) != 0) break;
        started = t;
    }
    sn_status st = SN_OK;
    if (started != T - 1) {
        st = sn_error(SN_ERR_NOMEM, "sn_word2vec_train: cannot start %d threads", T);
    } else {
        worker_run(&m->wk[0]);
    }
    for (int t = 1; t <= started; t++) pthread_join(tids[t], NULL);
    if (tids != tid) free(tids);
    if (st != SN_OK) return st;
    double loss = 0;
    uint64_t pairs = 0;
    float alpha = m->o.alpha;
    for (int t = 0; t < T; t++) {
        loss += m->wk[t].loss;
        pairs += m->wk[t].pairs;
        if (m->wk[t].alpha < alpha) alpha = m->wk[t].alpha;
    }
    double dt = sn_time_now() - t0;
    if (cb && cb(ep, m->o.epochs, alpha, pairs ? loss / (double)pairs : 0.0,
                 dt > 0 ? (double)m->train_words / dt : 0.0, user))
        return sn_error(SN_ERR_INTERRUPTED, "sn_word2vec_train: stopped by the progress callback after epoch %d of %d", ep,
                        m->o.epochs);
    return SN_OK;
}

static sn_status sn_word2vec_train_work(sn_wordvec **out, const char *const *texts, size_t n_texts,
                                        const sn_word2vec_opts *opts, sn_word2vec_progress_fn cb, void *user) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_word2vec_train: out is NULL");
    *out = NULL;
    if (!texts && n_texts) return sn_error(SN_ERR_ARG, "sn_word2vec_train: texts is NULL");
    w2v m;
    memset(&m, 0, sizeof m);
    if (opts) m.o = *opts;
    else sn_word2vec_opts_default(&m.o);
    sn_status st = check_opts(&m.o);
    if (st == SN_OK) st = count_corpus(&m, texts, n_texts);
    if (st == SN_OK) st = build_vocab(&m, n_texts);
    if (st == SN_OK) st = build_alias(&m);
    if (st == SN_OK) st = build_tables(&m);
    if (st == SN_OK) st = setup_workers(&m);
    for (int ep = 1; st == SN_OK && ep <= m.o.epochs; ep++) st = run_epoch(&m, ep, cb, user);
    if (st == SN_OK && (st = sn_wordvec_from_arrays(out, m.words, m.syn0, m.V, m.o.dim)) != SN_OK)
        sn_error_prefix(st, "sn_word2vec_train");
    w2v_free(&m);
    return st;
}

sn_status sn_word2vec_train(sn_wordvec **out, const char *const *texts, size_t n_texts, const sn_word2vec_opts *opts,
                            sn_word2vec_progress_fn cb, void *user) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_word2vec_train_work(out, texts, n_texts, opts, cb, user);
    sn_fp_leave(fp);
    return st;
}
