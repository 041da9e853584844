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

static void *worker_run(void *arg) {
    worker *wk = arg;
    shared *sh = wk->sh;
    const sn_word2vec_opts *o = sh->o;
    const int D = sh->D;
    const int window = o->window, negative = o->negative, exact = o->exact_sigmoid;
    const float alpha_min = sh->alpha0 * 1e-4f;
    const uint64_t total = (uint64_t)o->epochs * sh->train_words + 1;
    float *syn0 = sh->syn0, *syn1 = sh->syn1;
    float *neu1e = wk->neu1e;
    uint32_t sen[W2V_MAX_SENTENCE];
    uint64_t next_random = wk->next_random;
    uint64_t word_count = 0, last_word_count = 0;
    float alpha = wk->alpha;
    double loss = 0;
    uint64_t pairs = 0;
    const float exp_scale = (float)W2V_EXP_TABLE / W2V_MAX_EXP / 2;

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
            uint32_t word = sen[pos];
            next_random = next_random * 25214903917ULL + 11;
            int b = (int)(next_random % (uint64_t)window);
            for (int a = b; a < window * 2 + 1 - b; a++) {
                if (a == window) continue;
                int c = pos - window + a;
                if (c < 0 || c >= len) continue;
                float *l1 = syn0 + (size_t)sen[c] * D;
                for (int j = 0; j < D; j++) neu1e[j] = 0;
                for (int d = 0; d <= negative; d++) {
                    uint32_t target;
                    float label;
                    if (d == 0) {
                        target = word;
                        label = 1;
                    } else {
                        /* Bucket from the LCG's top 32 bits (multiply-
                         * shift), then a second draw against its prob. */
                        next_random = next_random * 25214903917ULL + 11;
                        const w2v_alias *al = &sh->alias[((next_random >> 32) * (uint64_t)sh->V) >> 32];
                        next_random = next_random * 25214903917ULL + 11;
                        target = (uint32_t)(next_random >> 32) < al->prob ? (uint32_t)(al - sh->alias) : al->alias;
                        if (target == word) continue;
                        label = 0;
                    }
                    float *l2 = syn1 + (size_t)target * D;
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
                    loss -= ls;
#pragma omp simd
                    for (int j = 0; j < D; j++) neu1e[j] += g * l2[j];
#pragma omp simd
                    for (int j = 0; j < D; j++) l2[j] += g * l1[j];
                }
#pragma omp simd
                for (int j = 0; j < D; j++) l1[j] += neu1e[j];
                pairs++;
            }
        }
    }
    atomic_fetch_add(&sh->word_count_actual, word_count - last_word_count);
    wk->next_random = next_random;
    wk->alpha = alpha;
    wk->loss = loss;
    wk->pairs = pairs;
    return NULL;
}

sn_status sn_word2vec_train(sn_wordvec **out, const char *const *texts, size_t n_texts, const sn_word2vec_opts *opts,
                            sn_word2vec_progress_fn cb, void *user) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_word2vec_train: out is NULL");
    *out = NULL;
    if (!texts && n_texts) return sn_error(SN_ERR_ARG, "sn_word2vec_train: texts is NULL");
    sn_word2vec_opts o;
    if (opts) o = *opts;
    else sn_word2vec_opts_default(&o);
    if (o.dim <= 0 || o.dim > 100000) return sn_error(SN_ERR_ARG, "sn_word2vec_train: dim must be in 1..100000, got %d", o.dim);
    if (o.window <= 0 || o.window > 1000) return sn_error(SN_ERR_ARG, "sn_word2vec_train: window must be in 1..1000, got %d", o.window);
    if (o.negative <= 0 || o.negative > 1000)
        return sn_error(SN_ERR_ARG, "sn_word2vec_train: negative must be in 1..1000 (hierarchical softmax is not implemented), got %d", o.negative);
    if (o.min_count < 0) return sn_error(SN_ERR_ARG, "sn_word2vec_train: min_count must be >= 0, got %d", o.min_count);
    if (!(o.sample >= 0) || !isfinite(o.sample)) return sn_error(SN_ERR_ARG, "sn_word2vec_train: sample must be >= 0, got %g", o.sample);
    if (o.epochs <= 0) return sn_error(SN_ERR_ARG, "sn_word2vec_train: epochs must be > 0, got %d", o.epochs);
    if (!(o.alpha > 0) || !isfinite(o.alpha)) return sn_error(SN_ERR_ARG, "sn_word2vec_train: alpha must be > 0, got %g", (double)o.alpha);
    if (o.threads < 0) return sn_error(SN_ERR_ARG, "sn_word2vec_train: threads must be >= 0, got %d", o.threads);
    int T = o.threads ? o.threads : sn_threads_get();
    if (T < 1) T = 1;
    sn_word2vec_tokenizer_fn tokenize = o.tokenizer ? o.tokenizer : sn_word2vec_tokenize;

    /* ---- Count tokens and keep the corpus as ids. ---- */
    counter c;
    memset(&c, 0, sizeof c);
    sn_status st = SN_OK;
    shared sh;
    memset(&sh, 0, sizeof sh);
    vrank *rank = NULL;
    int32_t *remap = NULL;
    w2v_alias *alias = NULL;
    uint64_t *counts = NULL;
    float *syn0 = NULL, *syn1 = NULL, *exp_table = NULL;
    double *keep = NULL;
    size_t *sent = NULL;
    const char **words = NULL;
    worker *wk = NULL;
    pthread_t *tid = NULL;

    if (sn_strtab_init(&c.words, 512) != SN_OK || !(c.doc_end = sn_malloc(n_texts ? n_texts : 1, sizeof *c.doc_end))) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_texts; i++) {
        if (!texts[i]) {
            st = sn_error(SN_ERR_ARG, "sn_word2vec_train: text %zu is NULL", i);
            goto done;
        }
        st = tokenize(texts[i], counter_emit, &c, o.tokenizer_user);
        if (c.err != SN_OK) st = c.err;
        if (st != SN_OK) {
            sn_error_prefix(st, "text %zu", i);
            goto done;
        }
        c.doc_end[i] = c.n_tok;
    }

    /* ---- Vocabulary: count >= min_count, by count desc, at most max_vocab. ---- */
    rank = sn_malloc(c.words.n ? c.words.n : 1, sizeof *rank);
    remap = sn_malloc(c.words.n ? c.words.n : 1, sizeof *remap);
    if (!rank || !remap) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    size_t V = 0;
    for (size_t i = 0; i < c.words.n; i++) {
        remap[i] = -1;
        if (c.words.e[i].count >= (uint64_t)o.min_count) {
            rank[V].count = c.words.e[i].count;
            rank[V].word = sn_strtab_key(&c.words, i);
            rank[V].old_id = (uint32_t)i;
            V++;
        }
    }
    qsort(rank, V, sizeof *rank, vrank_cmp);
    if (o.max_vocab && V > o.max_vocab) V = o.max_vocab;
    if (V == 0) {
        st = sn_error(SN_ERR_STATE, "sn_word2vec_train: empty vocabulary: %zu distinct tokens in %zu texts, none seen >= min_count=%d times",
                      c.words.n, n_texts, o.min_count);
        goto done;
    }
    counts = sn_malloc(V, sizeof *counts);
    words = sn_malloc(V, sizeof *words);
    if (!counts || !words) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    for (size_t v = 0; v < V; v++) {
        remap[rank[v].old_id] = (int32_t)v;
        counts[v] = rank[v].count;
        words[v] = rank[v].word;
    }

    /* ---- Filter the corpus in place and cut sentences. ---- */
    size_t n_sent_cap = n_texts + c.n_tok / W2V_MAX_SENTENCE + 2, n_sent = 0;
    sent = sn_malloc(n_sent_cap, sizeof *sent);
    if (!sent) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    size_t w_pos = 0, r_pos = 0;
    for (size_t i = 0; i < n_texts; i++) {
        size_t start = w_pos;
        for (; r_pos < c.doc_end[i]; r_pos++) {
            int32_t id = remap[c.corpus[r_pos]];
            if (id >= 0) c.corpus[w_pos++] = (uint32_t)id;
        }
        for (size_t s = start; s < w_pos; s += W2V_MAX_SENTENCE) sent[n_sent++] = s;
    }
    sent[n_sent] = w_pos;
    uint64_t train_words = w_pos;

    /* ---- Tables: unigram^0.75 for negatives, sigmoid and log sigmoid. ---- */
    alias = sn_malloc(V, sizeof *alias);
    double *scaled = sn_malloc(V, sizeof *scaled);
    size_t *small = sn_malloc(V, sizeof *small), *large = sn_malloc(V, sizeof *large);
    /* W2V_EXP_TABLE + 1 entries each: x = +MAX_EXP exactly maps to index
     * W2V_EXP_TABLE (word2vec.c allocates the same spare entry). */
    exp_table = sn_malloc(2 * (W2V_EXP_TABLE + 1), sizeof *exp_table);
    size_t D = (size_t)o.dim;
    syn0 = sn_aligned_calloc(V * D, sizeof *syn0);
    syn1 = sn_aligned_calloc(V * D, sizeof *syn1);
    if (!alias || !scaled || !small || !large || !exp_table || !syn0 || !syn1) {
        free(scaled);
        free(small);
        free(large);
        st = SN_ERR_NOMEM;
        goto done;
    }
    {
        double pow_sum = 0;
        for (size_t v = 0; v < V; v++) pow_sum += pow((double)counts[v], 0.75);
        /* Vose: scaled[i] = V p_i; pair each under-full bucket with an
         * over-full one that tops it up. */
        size_t ns = 0, nl = 0;
        for (size_t v = 0; v < V; v++) {
            scaled[v] = pow((double)counts[v], 0.75) / pow_sum * (double)V;
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
            alias[v].prob = UINT32_MAX;
            alias[v].alias = (uint32_t)v;
        }
        while (ns) {
            size_t v = small[--ns];
            alias[v].prob = UINT32_MAX;
            alias[v].alias = (uint32_t)v;
        }
    }
    free(scaled);
    free(small);
    free(large);
    keep = sn_malloc(V, sizeof *keep);
    if (!keep) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    for (size_t v = 0; v < V && o.sample > 0; v++) {
        double tn = o.sample * (double)(train_words ? train_words : 1), cn = (double)counts[v];
        keep[v] = (sqrt(cn / tn) + 1) * tn / cn;
    }
    for (int i = 0; i <= W2V_EXP_TABLE; i++) {
        double x = ((double)i / W2V_EXP_TABLE * 2 - 1) * W2V_MAX_EXP;
        exp_table[i] = (float)(1.0 / (1.0 + exp(-x)));
        exp_table[W2V_EXP_TABLE + 1 + i] = (float)(x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)));
    }
    {
        sn_rng rng;
        sn_rng_seed(&rng, o.seed);
        for (size_t i = 0; i < V * D; i++) syn0[i] = (sn_rng_uniform(&rng) - 0.5f) / (float)o.dim;
    }

    /* ---- Threads: contiguous sentence slices balanced by tokens. ---- */
    if ((size_t)T > n_sent && n_sent > 0) T = (int)n_sent;
    wk = sn_calloc((size_t)T, sizeof *wk);
    tid = sn_calloc((size_t)T, sizeof *tid);
    if (!wk || !tid) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    sh.o = &o;
    sh.D = o.dim;
    sh.V = V;
    sh.syn0 = syn0;
    sh.syn1 = syn1;
    sh.keep = keep;
    sh.alias = alias;
    sh.exp_table = exp_table;
    sh.logsig_table = exp_table + W2V_EXP_TABLE + 1;
    sh.corpus = c.corpus;
    sh.sent = sent;
    sh.train_words = train_words ? train_words : 1;
    sh.alpha0 = o.alpha;
    atomic_init(&sh.word_count_actual, 0);
    {
        sn_rng rng;
        sn_rng_seed(&rng, o.seed ^ 0x5eed5eed5eedULL);
        size_t s = 0;
        for (int t = 0; t < T; t++) {
            wk[t].sh = &sh;
            wk[t].s_begin = s;
            uint64_t goal = train_words * (uint64_t)(t + 1) / (uint64_t)T;
            while (s < n_sent && (t == T - 1 || sent[s] < goal)) s++;
            wk[t].s_end = t == T - 1 ? n_sent : s;
            s = wk[t].s_end;
            wk[t].next_random = sn_rng_u64(&rng);
            wk[t].alpha = o.alpha;
            if (!(wk[t].neu1e = sn_malloc(D, sizeof(float)))) st = SN_ERR_NOMEM;
        }
        if (st != SN_OK) goto done;
    }
    for (int ep = 1; ep <= o.epochs; ep++) {
        double t0 = sn_time_now();
        int started = 0;
        for (int t = 1; t < T; t++) {
            if (pthread_create(&tid[t], NULL, worker_run, &wk[t]) != 0) break;
            started = t;
        }
        if (started != T - 1) {
            for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
            st = sn_error(SN_ERR_NOMEM, "sn_word2vec_train: cannot start %d threads", T);
            goto done;
        }
        worker_run(&wk[0]);
        for (int t = 1; t < T; t++) pthread_join(tid[t], NULL);
        double loss = 0;
        uint64_t pairs = 0;
        float alpha = o.alpha;
        for (int t = 0; t < T; t++) {
            loss += wk[t].loss;
            pairs += wk[t].pairs;
            if (wk[t].alpha < alpha) alpha = wk[t].alpha;
        }
        double dt = sn_time_now() - t0;
        if (cb && cb(ep, o.epochs, alpha, pairs ? loss / (double)pairs : 0.0,
                     dt > 0 ? (double)train_words / dt : 0.0, user)) {
            st = sn_error(SN_ERR_INTERRUPTED, "sn_word2vec_train: stopped by the progress callback after epoch %d of %d", ep,
                          o.epochs);
            goto done;
        }
    }
    st = sn_wordvec_from_arrays(out, words, syn0, V, o.dim);
    if (st != SN_OK) sn_error_prefix(st, "sn_word2vec_train");

done:
    counter_free(&c);
    free(rank);
    free(remap);
    free(alias);
    free(counts);
    free(keep);
    free(exp_table);
    free(syn0);
    free(syn1);
    free(sent);
    free(words);
    for (int t = 0; wk && t < T; t++) free(wk[t].neu1e);
    free(wk);
    free(tid);
    return st;
}
