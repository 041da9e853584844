/* TextVectorization: standardization, split, n-grams, adapt ordering,
 * index layouts, output modes, serialization, Porter stemmer. Expected
 * values are computed by hand from Keras's documented behaviour
 * (docs/keras-semantics.md §13). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "seqnn/text.h"
#include "test.h"

/* ---- helpers ---- */

typedef struct toklist {
    char tok[32][64];
    int n;
} toklist;

static void collect(const char *t, size_t len, void *user) {
    toklist *l = user;
    if (l->n < 32 && len < 64) {
        memcpy(l->tok[l->n], t, len);
        l->tok[l->n][len] = 0;
    }
    l->n++;
}

static sn_vectorizer *make(sn_output_mode mode, int max_tokens, int ngrams, int L) {
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.output_mode = mode;
    o.max_tokens = max_tokens;
    o.ngrams = ngrams;
    o.output_sequence_length = L;
    sn_vectorizer *v = NULL;
    if (sn_vectorizer_init(&v, &o) != SN_OK) return NULL;
    return v;
}

static int std_is(sn_vectorizer *v, const char *in, const char *want) {
    char *s = NULL;
    if (sn_vectorizer_standardize(v, in, &s) != SN_OK) return 0;
    int ok = strcmp(s, want) == 0;
    if (!ok) fprintf(stderr, "    standardize(\"%s\") = \"%s\", want \"%s\"\n", in, s, want);
    free(s);
    return ok;
}

static const char *const ADAPT3[] = {"b a c", "a b d", "c"};

/* ---- standardization ---- */

TEST(text_standardize_keras_default) {
    sn_vectorizer *v = make(SN_OUTPUT_INT, 0, 1, 0);
    CHECK(v);
    /* punctuation deleted, not replaced: "don't" -> "dont", "<br />" -> "br" */
    CHECK(std_is(v, "Hello, World! Don't<br />stop.", "hello world dontbr stop"));
    CHECK(std_is(v, "a<br />b", "abr b"));
    CHECK(std_is(v, "a,b-c.d", "abcd"));
    CHECK(std_is(v, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", ""));
    /* unicode punctuation survives; non-ASCII letters are not lowercased */
    CHECK(std_is(v, "Caf\xc3\x89 \xe2\x80\x94 \xc2\xabOK\xc2\xbb", "caf\xc3\x89 \xe2\x80\x94 \xc2\xabok\xc2\xbb"));
    /* invalid UTF-8 passes through byte for byte */
    CHECK(std_is(v, "\xff\xc3" "A\xe2\x82", "\xff\xc3" "a\xe2\x82"));
    CHECK(std_is(v, "", ""));
    sn_vectorizer_free(v);
}

TEST(text_standardize_modes_and_extensions) {
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    sn_vectorizer *v;
    o.standardize = SN_STANDARDIZE_LOWER;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK(std_is(v, "Don't STOP!", "don't stop!"));
    sn_vectorizer_free(v);
    o.standardize = SN_STANDARDIZE_STRIP_PUNCTUATION;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK(std_is(v, "Don't STOP!", "Dont STOP"));
    sn_vectorizer_free(v);
    o.standardize = SN_STANDARDIZE_NONE;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK(std_is(v, "Don't STOP!", "Don't STOP!"));
    sn_vectorizer_free(v);
    /* strip_html: "<br />" becomes a space before punctuation is stripped */
    sn_vectorizer_opts_default(&o);
    o.strip_html = 1;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK(std_is(v, "a<br />b", "a b"));
    CHECK(std_is(v, "Great.<br /><br />Bad<BR/>x<br>y", "great  bad x y"));
    CHECK(std_is(v, "<b>bold</b>", "bboldb"));
    sn_vectorizer_free(v);
    /* UTF-8-aware lowercasing: Latin-1, Latin Ext-A, Greek, Cyrillic */
    sn_vectorizer_opts_default(&o);
    o.utf8_lower = 1;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK(std_is(v, "\xc3\x89" "COLE \xc3\x97", "\xc3\xa9" "cole \xc3\x97"));      /* École, × unchanged */
    CHECK(std_is(v, "\xc5\x81\xc3\xb3" "d\xc5\xba \xc5\xb8", "\xc5\x82\xc3\xb3" "d\xc5\xba \xc3\xbf")); /* Łódź Ÿ */
    CHECK(std_is(v, "\xce\x91\xce\x92\xce\x93 \xce\x86", "\xce\xb1\xce\xb2\xce\xb3 \xce\xac"));       /* ΑΒΓ Ά */
    CHECK(std_is(v, "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 \xd0\x81",
                 "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd1\x91")); /* ПРИВЕТ Ё */
    CHECK(std_is(v, "\xc3" "A\xff\xc3", "\xc3" "a\xff\xc3")); /* invalid sequences pass through */
    sn_vectorizer_free(v);
}

/* ---- split, n-grams, stemming ---- */

TEST(text_split_whitespace_character_and_ngrams) {
    sn_vectorizer *v = make(SN_OUTPUT_INT, 0, 1, 0);
    CHECK(v);
    toklist l = {0};
    CHECK_OK(sn_vectorizer_tokenize(v, "  The\tcat \n\n sat  ", collect, &l));
    CHECK(l.n == 3 && !strcmp(l.tok[0], "the") && !strcmp(l.tok[1], "cat") && !strcmp(l.tok[2], "sat"));
    memset(&l, 0, sizeof l);
    CHECK_OK(sn_vectorizer_tokenize(v, " \t\n ", collect, &l));
    CHECK(l.n == 0);
    sn_vectorizer_free(v);

    v = make(SN_OUTPUT_INT, 0, 2, 0);
    memset(&l, 0, sizeof l);
    CHECK_OK(sn_vectorizer_tokenize(v, "the cat sat", collect, &l));
    CHECK(l.n == 5);
    const char *want2[] = {"the", "cat", "sat", "the cat", "cat sat"};
    for (int i = 0; i < 5; i++) CHECK_MSG(!strcmp(l.tok[i], want2[i]), "token %d = '%s'", i, l.tok[i]);
    memset(&l, 0, sizeof l);
    CHECK_OK(sn_vectorizer_tokenize(v, "hello", collect, &l)); /* no padding: no bigram */
    CHECK(l.n == 1 && !strcmp(l.tok[0], "hello"));
    sn_vectorizer_free(v);

    v = make(SN_OUTPUT_INT, 0, 3, 0);
    memset(&l, 0, sizeof l);
    CHECK_OK(sn_vectorizer_tokenize(v, "the cat sat", collect, &l));
    CHECK(l.n == 6 && !strcmp(l.tok[5], "the cat sat"));
    sn_vectorizer_free(v);

    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.split = SN_SPLIT_CHARACTER;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    memset(&l, 0, sizeof l);
    CHECK_OK(sn_vectorizer_tokenize(v, "A\xc3\xb1 b\xff", collect, &l));
    CHECK(l.n == 5);
    CHECK(!strcmp(l.tok[0], "a") && !strcmp(l.tok[1], "\xc3\xb1") && !strcmp(l.tok[2], " ") &&
          !strcmp(l.tok[3], "b") && !strcmp(l.tok[4], "\xff"));
    sn_vectorizer_free(v);
}

TEST(text_porter_stemmer_paper_examples) {
    static const char *pairs[][2] = {
        {"caresses", "caress"}, {"ponies", "poni"}, {"ties", "ti"}, {"caress", "caress"}, {"cats", "cat"},
        {"feed", "feed"}, {"agreed", "agre"}, {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"},
        {"sing", "sing"}, {"conflated", "conflat"}, {"troubled", "troubl"}, {"sized", "size"}, {"hopping", "hop"},
        {"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"}, {"failing", "fail"},
        {"filing", "file"}, {"happy", "happi"}, {"sky", "sky"}, {"relational", "relat"},
        {"conditional", "condit"}, {"rational", "ration"}, {"valenci", "valenc"}, {"digitizer", "digit"},
        {"conformabli", "conform"}, {"radicalli", "radic"}, {"differentli", "differ"}, {"vileli", "vile"},
        {"analogousli", "analog"}, {"vietnamization", "vietnam"}, {"predication", "predic"},
        {"operator", "oper"}, {"feudalism", "feudal"}, {"decisiveness", "decis"}, {"hopefulness", "hope"},
        {"callousness", "callous"}, {"formaliti", "formal"}, {"sensitiviti", "sensit"},
        {"sensibiliti", "sensibl"}, {"triplicate", "triplic"}, {"formative", "form"}, {"formalize", "formal"},
        {"electriciti", "electr"}, {"electrical", "electr"}, {"hopeful", "hope"}, {"goodness", "good"},
        {"revival", "reviv"}, {"allowance", "allow"}, {"inference", "infer"}, {"airliner", "airlin"},
        {"gyroscopic", "gyroscop"}, {"adjustable", "adjust"}, {"defensible", "defens"}, {"irritant", "irrit"},
        {"replacement", "replac"}, {"adjustment", "adjust"}, {"dependent", "depend"}, {"adoption", "adopt"},
        {"homologou", "homolog"}, {"communism", "commun"}, {"activate", "activ"}, {"angulariti", "angular"},
        {"homologous", "homolog"}, {"effective", "effect"}, {"bowdlerize", "bowdler"}, {"probate", "probat"},
        {"rate", "rate"}, {"cease", "ceas"}, {"controll", "control"}, {"roll", "roll"},
        {"generalizations", "gener"}, {"oscillators", "oscil"}, {"is", "is"}, {"a", "a"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char w[64];
        strcpy(w, pairs[i][0]);
        size_t n = sn_porter_stem(w, strlen(w));
        w[n] = 0;
        CHECK_MSG(!strcmp(w, pairs[i][1]), "stem(%s) = %s, want %s", pairs[i][0], w, pairs[i][1]);
    }
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.stem = 1;
    o.ngrams = 2;
    sn_vectorizer *v;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    toklist l = {0};
    CHECK_OK(sn_vectorizer_tokenize(v, "Caresses, ponies RUNNING caf\xc3\xa9s 42s", collect, &l));
    CHECK(l.n == 9);
    CHECK(!strcmp(l.tok[0], "caress") && !strcmp(l.tok[1], "poni") && !strcmp(l.tok[2], "run"));
    CHECK(!strcmp(l.tok[3], "caf\xc3\xa9s") && !strcmp(l.tok[4], "42s")); /* only [a-z]+ words are stemmed */
    CHECK(!strcmp(l.tok[5], "caress poni"));
    sn_vectorizer_free(v);
}

/* ---- adapt and index layouts ---- */

TEST(text_adapt_ordering_ties_bytes_descending) {
    sn_vectorizer *v = make(SN_OUTPUT_INT, 0, 1, 0);
    CHECK(v);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    /* counts a=2 b=2 c=2 d=1: ties by bytes descending -> c, b, a, then d */
    CHECK(sn_vectorizer_vocab_size(v) == 6);
    const char *want[] = {"", "[UNK]", "c", "b", "a", "d"};
    for (int i = 0; i < 6; i++) CHECK_MSG(!strcmp(sn_vectorizer_token(v, (size_t)i), want[i]), "index %d", i);
    CHECK(sn_vectorizer_token(v, 6) == NULL);
    CHECK(sn_vectorizer_lookup(v, "a") == 4);
    CHECK(sn_vectorizer_lookup(v, "zzz") == 1); /* OOV */
    CHECK(sn_vectorizer_lookup(v, "") == 0);    /* mask */
    /* a longer token with a common prefix is "larger": "ab" before "a" */
    const char *t2[] = {"a ab b b b"};
    CHECK_OK(sn_vectorizer_adapt(v, t2, 1));
    CHECK(!strcmp(sn_vectorizer_token(v, 2), "b") && !strcmp(sn_vectorizer_token(v, 3), "ab") &&
          !strcmp(sn_vectorizer_token(v, 4), "a"));
    /* frequency dominates bytes */
    const char *t3[] = {"a a a z"};
    CHECK_OK(sn_vectorizer_adapt(v, t3, 1));
    CHECK(!strcmp(sn_vectorizer_token(v, 2), "a") && !strcmp(sn_vectorizer_token(v, 3), "z"));
    sn_vectorizer_free(v);
}

TEST(text_adapt_max_tokens_in_both_layouts) {
    /* int: max_tokens 4 = mask + OOV + 2 learned */
    sn_vectorizer *v = make(SN_OUTPUT_INT, 4, 1, 0);
    CHECK(v);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    CHECK(sn_vectorizer_vocab_size(v) == 4);
    CHECK(!strcmp(sn_vectorizer_token(v, 2), "c") && !strcmp(sn_vectorizer_token(v, 3), "b"));
    CHECK(sn_vectorizer_lookup(v, "a") == 1);
    sn_vectorizer_free(v);
    /* multi_hot: max_tokens 4 = OOV + 3 learned, OOV at 0 */
    v = make(SN_OUTPUT_MULTI_HOT, 4, 1, 0);
    CHECK(v);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    CHECK(sn_vectorizer_vocab_size(v) == 4);
    CHECK(!strcmp(sn_vectorizer_token(v, 0), "[UNK]") && !strcmp(sn_vectorizer_token(v, 1), "c") &&
          !strcmp(sn_vectorizer_token(v, 3), "a"));
    CHECK(sn_vectorizer_lookup(v, "d") == 0);
    CHECK(sn_vectorizer_lookup(v, "c") == 1);
    sn_vectorizer_free(v);
    /* invalid: max_tokens too small for the special slots */
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.max_tokens = 2;
    CHECK(sn_vectorizer_init(&v, &o) == SN_ERR_ARG);
    o.max_tokens = 0;
    o.ngrams = 0;
    CHECK(sn_vectorizer_init(&v, &o) == SN_ERR_ARG);
}

/* ---- outputs ---- */

TEST(text_encode_int_padding_truncation_empty) {
    sn_vectorizer *v = make(SN_OUTPUT_INT, 0, 1, 5);
    CHECK(v);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    float ids[5];
    CHECK_OK(sn_vectorizer_encode_int(v, "C d zz, a!", ids));
    const float want[5] = {2, 5, 1, 4, 0}; /* c d [UNK] a <pad> */
    for (int i = 0; i < 5; i++) CHECK_CLOSE(ids[i], want[i], 0, 0);
    CHECK_OK(sn_vectorizer_encode_int(v, "a b c d a b c", ids)); /* first 5 kept */
    const float want2[5] = {4, 3, 2, 5, 4};
    for (int i = 0; i < 5; i++) CHECK_CLOSE(ids[i], want2[i], 0, 0);
    CHECK_OK(sn_vectorizer_encode_int(v, "", ids));
    for (int i = 0; i < 5; i++) CHECK(ids[i] == 0);
    CHECK_OK(sn_vectorizer_encode_int(v, "?!.", ids));
    for (int i = 0; i < 5; i++) CHECK(ids[i] == 0);
    int32_t raw[2];
    size_t n;
    CHECK_OK(sn_vectorizer_encode_ids(v, "a b c d a b c", raw, 2, &n));
    CHECK(n == 7 && raw[0] == 4 && raw[1] == 3);
    size_t nnz;
    CHECK(sn_vectorizer_encode_sparse(v, "a", raw, ids, 2, &nnz) == SN_ERR_STATE);
    sn_vectorizer_free(v);
    /* encode_int needs a sequence length */
    v = make(SN_OUTPUT_INT, 0, 1, 0);
    CHECK(sn_vectorizer_encode_int(v, "a", ids) == SN_ERR_STATE);
    sn_vectorizer_free(v);
}

TEST(text_encode_multi_hot_and_count) {
    sn_vectorizer *v = make(SN_OUTPUT_MULTI_HOT, 0, 1, 0);
    CHECK(v);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3)); /* [UNK] c b a d */
    CHECK(sn_vectorizer_output_width(v) == 5);
    float d[5];
    CHECK_OK(sn_vectorizer_encode_dense(v, "a a zz q c", d));
    const float mh[5] = {1, 1, 0, 1, 0};
    for (int i = 0; i < 5; i++) CHECK_CLOSE(d[i], mh[i], 0, 0);
    CHECK_OK(sn_vectorizer_encode_dense(v, "", d));
    for (int i = 0; i < 5; i++) CHECK(d[i] == 0);
    sn_vectorizer_free(v);

    v = make(SN_OUTPUT_COUNT, 0, 1, 0);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    int32_t idx[8];
    float val[8];
    size_t nnz = 0;
    CHECK_OK(sn_vectorizer_encode_sparse(v, "a a zz q c", idx, val, 8, &nnz));
    CHECK(nnz == 3);
    CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 3); /* sorted indices */
    CHECK(val[0] == 2 && val[1] == 1 && val[2] == 2);
    CHECK(sn_vectorizer_encode_sparse(v, "a a zz q c", idx, val, 2, &nnz) == SN_ERR_SHAPE);
    CHECK(nnz == 3);
    CHECK_OK(sn_vectorizer_encode_sparse(v, "", idx, val, 0, &nnz));
    CHECK(nnz == 0);
    sn_vectorizer_free(v);
}

TEST(text_encode_tf_idf_by_hand) {
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.output_mode = SN_OUTPUT_TF_IDF;
    o.max_tokens = 8;
    o.pad_to_max_tokens = 1;
    sn_vectorizer *v;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    /* N = 3 docs; df: a=2 b=2 c=2 d=1; idf = ln(1 + N / (1 + df)) */
    double ia = log(1.0 + 3.0 / 3.0), id = log(1.0 + 3.0 / 2.0);
    double ioov = (3 * ia + id) / 4; /* mean of the learned idfs */
    CHECK(sn_vectorizer_output_width(v) == 8);
    CHECK_CLOSE(sn_vectorizer_idf(v, 4), id, 1e-6, 0);
    CHECK_CLOSE(sn_vectorizer_idf(v, 0), ioov, 1e-6, 0);
    float d[8];
    CHECK_OK(sn_vectorizer_encode_dense(v, "a a zz q c d", d));
    /* [UNK]=2 oov, c=1, b=0, a=2, d=1, pads 0 */
    const double want[8] = {2 * ioov, ia, 0, 2 * ia, id, 0, 0, 0};
    for (int i = 0; i < 8; i++) CHECK_CLOSE(d[i], want[i], 1e-6, 1e-6);
    sn_vectorizer_free(v);
    /* pad_to_max_tokens requires a bag mode with max_tokens */
    o.max_tokens = 0;
    CHECK(sn_vectorizer_init(&v, &o) == SN_ERR_ARG);
}

TEST(text_set_vocabulary_validates) {
    sn_vectorizer *v = make(SN_OUTPUT_INT, 5, 1, 0);
    const char *ok[] = {"x", "y", "z"};
    CHECK_OK(sn_vectorizer_set_vocabulary(v, ok, 3, NULL));
    CHECK(sn_vectorizer_lookup(v, "y") == 3);
    const char *dup[] = {"x", "x"};
    CHECK(sn_vectorizer_set_vocabulary(v, dup, 2, NULL) == SN_ERR_ARG);
    const char *unk[] = {"[UNK]"};
    CHECK(sn_vectorizer_set_vocabulary(v, unk, 1, NULL) == SN_ERR_ARG);
    const char *many[] = {"a", "b", "c", "d"};
    CHECK(sn_vectorizer_set_vocabulary(v, many, 4, NULL) == SN_ERR_ARG); /* 4 + 2 > 5 */
    CHECK(sn_vectorizer_lookup(v, "y") == 3); /* failed calls leave it unchanged */
    sn_vectorizer_free(v);
}

/* ---- serialization ---- */

static void put_u32(unsigned char *p, uint32_t x) {
    p[0] = (unsigned char)x;
    p[1] = (unsigned char)(x >> 8);
    p[2] = (unsigned char)(x >> 16);
    p[3] = (unsigned char)(x >> 24);
}

static void fix_crc(unsigned char *p, size_t len) { put_u32(p + len - 4, (uint32_t)crc32(0L, p, (uInt)(len - 4))); }

TEST(text_vectorizer_blob_round_trip_and_corruption) {
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.output_mode = SN_OUTPUT_TF_IDF;
    o.ngrams = 2;
    o.stem = 1;
    o.strip_html = 1;
    o.max_tokens = 20;
    o.pad_to_max_tokens = 1;
    sn_vectorizer *v, *w = NULL;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    const char *docs[] = {"The cats were running<br />home", "A cat runs; cats run.", "Caf\xc3\xa9 cats"};
    CHECK_OK(sn_vectorizer_adapt(v, docs, 3));
    void *buf;
    size_t len;
    CHECK_OK(sn_vectorizer_save_blob(v, &buf, &len));
    CHECK_OK(sn_vectorizer_load_blob(&w, buf, len));
    CHECK(memcmp(sn_vectorizer_get_opts(v), sn_vectorizer_get_opts(w), sizeof o) == 0);
    CHECK(sn_vectorizer_vocab_size(v) == sn_vectorizer_vocab_size(w));
    for (size_t i = 0; i < sn_vectorizer_vocab_size(v); i++) {
        CHECK(!strcmp(sn_vectorizer_token(v, i), sn_vectorizer_token(w, i)));
        CHECK(sn_vectorizer_idf(v, i) == sn_vectorizer_idf(w, i));
    }
    float a[20], b[20];
    CHECK_OK(sn_vectorizer_encode_dense(v, "cats running home, caf\xc3\xa9 new", a));
    CHECK_OK(sn_vectorizer_encode_dense(w, "cats running home, caf\xc3\xa9 new", b));
    CHECK(memcmp(a, b, sizeof a) == 0);
    sn_vectorizer_free(w);

    unsigned char *c = malloc(len);
    /* every single-byte corruption and every truncation is rejected */
    for (size_t i = 0; i < len; i++) {
        memcpy(c, buf, len);
        c[i] ^= 0x5a;
        w = NULL;
        CHECK_MSG(sn_vectorizer_load_blob(&w, c, len) == SN_ERR_FORMAT, "flip at %zu accepted", i);
        CHECK(w == NULL);
    }
    for (size_t l = 0; l < len; l++) CHECK(sn_vectorizer_load_blob(&w, buf, l) == SN_ERR_FORMAT);
    /* a consistent checksum over absurd fields: n_tokens huge, a token length huge, bad enum */
    size_t off_nt = 4 + 4 + 4 + 4 * 10;
    memcpy(c, buf, len);
    put_u32(c + off_nt, 0xfffffff0u);
    fix_crc(c, len);
    CHECK(sn_vectorizer_load_blob(&w, c, len) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "n_tokens") != NULL);
    memcpy(c, buf, len);
    put_u32(c + off_nt + 4, 0x7fffffffu);
    fix_crc(c, len);
    CHECK(sn_vectorizer_load_blob(&w, c, len) == SN_ERR_FORMAT);
    memcpy(c, buf, len);
    put_u32(c + 12 + 4, 99); /* standardize */
    fix_crc(c, len);
    CHECK(sn_vectorizer_load_blob(&w, c, len) == SN_ERR_FORMAT);
    memcpy(c, buf, len);
    put_u32(c + 4, 2); /* version */
    fix_crc(c, len);
    CHECK(sn_vectorizer_load_blob(&w, c, len) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "version") != NULL);
    free(c);
    free(buf);
    sn_vectorizer_free(v);

    /* an int-mode vectorizer without idf also round-trips */
    v = make(SN_OUTPUT_INT, 0, 1, 7);
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    CHECK_OK(sn_vectorizer_save_blob(v, &buf, &len));
    CHECK_OK(sn_vectorizer_load_blob(&w, buf, len));
    float x[7], y[7];
    CHECK_OK(sn_vectorizer_encode_int(v, "d c b a q", x));
    CHECK_OK(sn_vectorizer_encode_int(w, "d c b a q", y));
    CHECK(memcmp(x, y, sizeof x) == 0);
    free(buf);
    sn_vectorizer_free(v);
    sn_vectorizer_free(w);
}

/* Random bytes (invalid UTF-8, NUL-free) through every pipeline option:
 * no crash, ids in range, sparse indices sorted and in range. */
TEST(text_random_bytes_never_crash) {
    sn_rng r;
    sn_rng_seed(&r, 1234);
    const char *docs[] = {"a b c", "\xc3\x89t\xc3\xa9 caf\xc3\xa9", "running cats"};
    for (int cfg = 0; cfg < 8; cfg++) {
        sn_vectorizer_opts o;
        sn_vectorizer_opts_default(&o);
        o.standardize = (sn_standardize)(cfg % 4);
        o.split = cfg & 4 ? SN_SPLIT_CHARACTER : SN_SPLIT_WHITESPACE;
        o.ngrams = 3;
        o.utf8_lower = 1;
        o.strip_html = 1;
        o.stem = 1;
        o.output_mode = cfg & 1 ? SN_OUTPUT_TF_IDF : SN_OUTPUT_INT;
        o.output_sequence_length = cfg & 1 ? 0 : 16;
        sn_vectorizer *v;
        CHECK_OK(sn_vectorizer_init(&v, &o));
        CHECK_OK(sn_vectorizer_adapt(v, docs, 3));
        size_t V = sn_vectorizer_vocab_size(v);
        char text[80];
        int32_t idx[512];
        float val[512], ids[16];
        for (int it = 0; it < 300; it++) {
            int n = (int)sn_rng_below(&r, 79);
            for (int i = 0; i < n; i++) {
                static const char pool[] = "aB <br />\xc3\x89\xce\x91\xd0\x9f\xff\xe2\x80\x94\xf0\x9f\x98\x80.,'s";
                text[i] = (char)(sn_rng_below(&r, 4) ? pool[sn_rng_below(&r, sizeof pool - 1)]
                                                     : (char)(1 + sn_rng_below(&r, 255)));
            }
            text[n] = 0;
            size_t nnz;
            if (o.output_mode == SN_OUTPUT_INT) {
                CHECK_OK(sn_vectorizer_encode_int(v, text, ids));
                for (int i = 0; i < 16; i++) CHECK(ids[i] >= 0 && ids[i] < (float)V);
            } else {
                CHECK_OK(sn_vectorizer_encode_sparse(v, text, idx, val, 512, &nnz));
                for (size_t i = 0; i < nnz; i++) {
                    CHECK(idx[i] >= 0 && (size_t)idx[i] < V && val[i] > 0);
                    if (i) CHECK(idx[i] > idx[i - 1]);
                }
            }
        }
        /* the vectorizer can also learn from random bytes */
        CHECK_OK(sn_vectorizer_adapt(v, (const char *const[]){text, "x"}, 2));
        sn_vectorizer_free(v);
    }
}

/* Random mutations of a blob with a recomputed checksum: every load either
 * succeeds or reports SN_ERR_FORMAT; never crashes (run under ASan). */
TEST(text_blob_mutations_with_valid_checksum) {
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.output_mode = SN_OUTPUT_TF_IDF;
    o.ngrams = 2;
    sn_vectorizer *v;
    CHECK_OK(sn_vectorizer_init(&v, &o));
    CHECK_OK(sn_vectorizer_adapt(v, ADAPT3, 3));
    void *buf;
    size_t len;
    CHECK_OK(sn_vectorizer_save_blob(v, &buf, &len));
    unsigned char *c = malloc(len);
    sn_rng r;
    sn_rng_seed(&r, 99);
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(c, buf, len);
        int k = 1 + (int)sn_rng_below(&r, 3);
        for (int j = 0; j < k; j++) c[sn_rng_below(&r, len - 4)] = (unsigned char)sn_rng_below(&r, 256);
        fix_crc(c, len);
        sn_vectorizer *w = NULL;
        sn_status st = sn_vectorizer_load_blob(&w, c, len);
        CHECK(st == SN_OK || st == SN_ERR_FORMAT);
        if (st == SN_OK) {
            ok++;
            float d[64];
            if (sn_vectorizer_output_width(w) <= 64 && sn_vectorizer_get_opts(w)->output_mode != SN_OUTPUT_INT)
                CHECK_OK(sn_vectorizer_encode_dense(w, "a b zz", d));
        }
        sn_vectorizer_free(w);
    }
    CHECK(ok < 3000);
    free(c);
    free(buf);
    sn_vectorizer_free(v);
}
