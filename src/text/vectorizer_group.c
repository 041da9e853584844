/* sn_vectorizer_adapt_group: adapt over texts spread across the ranks of a
 * group (docs/distributed.md, "Reading only a rank's share").
 *
 * The vocabulary adapt builds is a function of the multiset of (token,
 * occurrences, documents holding it) over all texts: the top-max_tokens
 * floor comes from the histogram of the counts, the order is a total order
 * (count descending, then bytes), idf needs the document frequency and the
 * number of texts. All of these are integer sums over disjoint parts of the
 * texts, so they can be formed exactly on any number of ranks:
 *   1. each rank counts its own texts (as adapt does, in thread partitions);
 *   2. every token goes to the rank its hash names (an all-to-all), which
 *      adds the counts and document counts it receives;
 *   3. the count histograms are summed (int64) and give every rank the
 *      same floor;
 *   4. each rank sends the tokens it owns above the floor to all (an
 *      all-gather); every rank sorts them, keeps the first max_tokens and
 *      installs them with idf over the texts of all ranks.
 * The result equals sn_vectorizer_adapt over all the texts in one process,
 * token for token and bit for bit (tests/test_vectorizer_group.c). A rank
 * holds its own counts, the share of the distinct tokens it owns and the
 * final candidates, never the whole corpus's table at once. */
#include <string.h>

#include "seqnn/comm.h"
#include "text/vectorizer_internal.h"

/* A token on the wire: count (8 bytes), documents (4), length (4), bytes. */
#define REC_HEAD 16

static size_t put_rec(char *o, uint64_t count, uint32_t df, const char *s, uint32_t len) {
    memcpy(o, &count, 8);
    memcpy(o + 8, &df, 4);
    memcpy(o + 12, &len, 4);
    memcpy(o + REC_HEAD, s, len);
    return REC_HEAD + len;
}

/* The next record of [*p, end), or 0 when none is left (or it is cut). */
static int get_rec(const char **p, const char *end, uint64_t *count, uint32_t *df, const char **s, uint32_t *len) {
    if ((size_t)(end - *p) < REC_HEAD) return 0;
    memcpy(count, *p, 8);
    memcpy(df, *p + 8, 4);
    memcpy(len, *p + 12, 4);
    if ((size_t)(end - *p) - REC_HEAD < *len) return 0;
    *s = *p + REC_HEAD;
    *p += REC_HEAD + *len;
    return 1;
}

/* The rank that owns a token (hash bits the thread partitions do not use). */
static int owner(uint64_t h, int size) { return (int)((h >> 8) % (uint64_t)size); }

/* Collective status: SN_OK on every rank when all passed SN_OK. A rank that
 * failed keeps its own message; the others name the failure as elsewhere. */
static sn_status agree(const sn_comm *c, sn_status st) {
    int32_t v = st != SN_OK;
    sn_status cs = c->max_i32(c->ctx, &v, 1);
    if (cs) return cs;
    if (st) return st;
    return v ? sn_error(SN_ERR_STATE, "sn_vectorizer_adapt_group: another rank failed") : SN_OK;
}

/* Step 1's message: the local counts as records grouped by owner rank,
 * cnt[r] bytes for rank r. */
static sn_status pack_owners(const adapt_ctx *parts, int T, int R, char **send, size_t *cnt) {
    size_t *off = sn_calloc((size_t)R + 1, sizeof *off);
    if (!off) return SN_ERR_NOMEM;
    for (int p = 0; p < T; p++)
        for (size_t i = 0; i < parts[p].t.n; i++) cnt[owner(parts[p].t.e[i].hash, R)] += REC_HEAD + parts[p].t.e[i].len;
    for (int r = 0; r < R; r++) off[r + 1] = off[r] + cnt[r];
    if (!(*send = sn_malloc(SN_MAX(off[R], 1), 1))) {
        free(off);
        return SN_ERR_NOMEM;
    }
    for (int p = 0; p < T; p++)
        for (size_t i = 0; i < parts[p].t.n; i++) {
            const sn_strtab_ent *e = &parts[p].t.e[i];
            int r = owner(e->hash, R);
            off[r] += put_rec(*send + off[r], e->count, e->aux[0], sn_strtab_key(&parts[p].t, i), e->len);
        }
    free(off);
    return SN_OK;
}

/* Step 2: the records a rank received, added into its table *own. */
static sn_status merge_owned(const char *q, const char *end, sn_strtab *own) {
    uint64_t count;
    uint32_t df, len;
    const char *s;
    while (get_rec(&q, end, &count, &df, &s, &len)) {
        int fresh;
        int64_t id = sn_strtab_put(own, s, len, &fresh);
        if (id < 0) return SN_ERR_NOMEM;
        own->e[id].count += count;
        own->e[id].aux[0] += df;
    }
    return SN_OK;
}

/* Step 4's message: the owned tokens at or above the floor. */
static sn_status pack_candidates(const sn_strtab *own, uint64_t floor_count, char **mine, size_t *n) {
    size_t bytes = 0, p = 0;
    for (size_t i = 0; i < own->n; i++)
        if (own->e[i].count >= floor_count) bytes += REC_HEAD + own->e[i].len;
    if (!(*mine = sn_malloc(SN_MAX(bytes, 1), 1))) return SN_ERR_NOMEM;
    for (size_t i = 0; i < own->n; i++) {
        const sn_strtab_ent *e = &own->e[i];
        if (e->count >= floor_count) p += put_rec(*mine + p, e->count, e->aux[0], sn_strtab_key(own, i), e->len);
    }
    *n = p;
    return SN_OK;
}

/* Step 4: every rank's candidates sorted, the first `limit` installed. */
static sn_status install_from(sn_vectorizer *v, const char *all, size_t tot, size_t limit, size_t n_total) {
    /* each record is at least REC_HEAD bytes: tot / REC_HEAD bounds the items */
    sort_item *items = sn_malloc(SN_MAX(tot / REC_HEAD, 1), sizeof *items);
    if (!items) return SN_ERR_NOMEM;
    const char *q = all, *end = all + tot;
    size_t m = 0;
    sort_item it;
    while (get_rec(&q, end, &it.count, &it.df, &it.s, &it.len)) {
        /* the mask "" and the OOV token are never learned (as in adapt) */
        if (it.len == 0 || (it.len == 5 && !memcmp(it.s, SN_VEC_UNK, 5))) continue;
        items[m++] = it;
    }
    if (m > 1) qsort(items, m, sizeof *items, sn_vec_cmp_item);
    sn_status st = sn_vec_install_items(v, items, SN_MIN(m, limit), n_total);
    free(items);
    return st;
}

/* The steps, with the ranks agreeing on success before every collective
 * (so that all of them call the same ones) and once at the end. */
static sn_status adapt_group_work(sn_vectorizer *v, const char *const *texts, size_t n, size_t n_total,
                                  const sn_comm *c) {
    const int R = c->size, T = sn_vec_adapt_threads(n);
    adapt_ctx *parts = sn_calloc((size_t)T, sizeof *parts);
    size_t *cnt = sn_calloc((size_t)R, sizeof *cnt), *rc = sn_calloc((size_t)R, sizeof *rc);
    int64_t *hist = sn_calloc(SN_VEC_HIST + 1, sizeof *hist);
    char *send = NULL, *recv = NULL, *mine = NULL, *all = NULL;
    sn_strtab own;
    int own_ok = sn_strtab_init(&own, 1 << 12) == SN_OK;
    sn_status st = parts && cnt && rc && hist && own_ok ? SN_OK : SN_ERR_NOMEM;
    if (!st) st = sn_vec_count_parts(v, texts, n, parts, T);
    if (!st) st = pack_owners(parts, T, R, &send, cnt);
    for (int p = 0; parts && p < T; p++) sn_strtab_free(&parts[p].t);
    if ((st = agree(c, st))) goto out;
    void *rb = NULL;
    st = c->exchange(c->ctx, send, cnt, &rb, rc);
    recv = rb;
    size_t tot = 0;
    for (int r = 0; r < R; r++) tot += rc[r];
    if (!st) st = merge_owned(recv, recv + tot, &own);
    free(recv);
    recv = NULL;
    if (!st) {
        sn_vec_hist_add(&own, hist);
        hist[SN_VEC_HIST] = (int64_t)own.n; /* distinct tokens */
    }
    if ((st = agree(c, st)) || (st = c->sum_i64(c->ctx, hist, SN_VEC_HIST + 1))) goto out;
    /* step 3: the floor from the summed histogram, as adapt finds it */
    size_t limit = v->o.max_tokens ? (size_t)v->o.max_tokens - (size_t)(v->o.output_mode == SN_OUTPUT_INT ? 2 : 1)
                                   : SIZE_MAX;
    uint64_t floor_count = limit < (size_t)hist[SN_VEC_HIST] ? sn_vec_floor(hist, limit) : 0;
    size_t n_mine = 0;
    st = pack_candidates(&own, floor_count, &mine, &n_mine);
    if ((st = agree(c, st))) goto out;
    void *ab = NULL;
    st = c->gather_bytes(c->ctx, mine, n_mine, &ab, cnt);
    all = ab;
    tot = 0;
    for (int r = 0; r < R; r++) tot += cnt[r];
    if (!st) st = install_from(v, all, tot, limit, n_total);
    st = agree(c, st);
out:
    free(parts);
    free(cnt);
    free(rc);
    free(hist);
    free(send);
    free(mine);
    free(all);
    if (own_ok) sn_strtab_free(&own);
    return st;
}

sn_status sn_vectorizer_adapt_group(sn_vectorizer *v, const char *const *texts, size_t n, size_t n_total,
                                    const sn_comm *comm) {
    if (!comm || comm->size == 1) {
        if (n != n_total)
            return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt_group: %zu texts of %zu on a single rank", n, n_total);
        return sn_vectorizer_adapt(v, texts, n);
    }
    if (!v || (n && !texts)) return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt_group: NULL argument");
    if (n_total >= 0xffffffffu) return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt_group: too many texts (%zu)", n_total);
    if (!comm->exchange || !comm->gather_bytes)
        return sn_error(SN_ERR_ARG, "sn_vectorizer_adapt_group: the group has no byte exchange");
    sn_status st = SN_OK;
    for (size_t d = 0; d < n && !st; d++)
        if (!texts[d]) st = sn_error(SN_ERR_ARG, "sn_vectorizer_adapt_group: text %zu is NULL", d);
    sn_fp_state fp = sn_fp_enter();
    if (st) st = agree(comm, st); /* the first agreement: every rank stops there */
    else st = adapt_group_work(v, texts, n, n_total, comm);
    sn_fp_leave(fp);
    return st;
}
