/* Replays every input in tests/fixtures/fuzz_regressions through the reader
 * its name starts with (spec-, csv-, model-, wordvec-, vectorizer-; keras-:
 * the Keras importer on the file, as fuzz_keras_zip reaches it;
 * keras_config-: the config translation, as fuzz_keras_config does): each
 * crash the fuzzers found must now give a clean status, and the sanitizer
 * build (make asan) checks there is no memory error on the way. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdlib.h>

#include "interop/keras_internal.h"
#include "seqnn.h"
#include "seqnn/data.h"
#include "seqnn/text.h"
#include "seqnn/wordvec.h"
#include "test.h"

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, fp);
    b[*n] = 0;
    fclose(fp);
    return b;
}

TEST(fuzz_regressions_replay_cleanly) {
    const char *dir = sn_test_path("fuzz_regressions");
    char dbuf[4096];
    snprintf(dbuf, sizeof dbuf, "%s", dir);
    DIR *d = opendir(dbuf);
    CHECK(d);
    struct dirent *e;
    int replayed = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dbuf, e->d_name);
        size_t n;
        unsigned char *b = slurp(path, &n);
        CHECK(b);
        if (!strncmp(e->d_name, "spec-", 5)) {
            sn_model_opts o = {0};
            o.input_rank = 2;
            o.input_shape[0] = 12;
            o.input_shape[1] = 3;
            sn_model *m = NULL;
            if (sn_model_init(&m, (const char *)b, &o) == SN_OK) sn_model_free(m);
        } else if (!strncmp(e->d_name, "csv-", 4)) {
            sn_table t;
            if (sn_csv_read(&t, path, NULL) == SN_OK) sn_table_free(&t);
        } else if (!strncmp(e->d_name, "model-", 6)) {
            sn_model *m = NULL;
            if (sn_model_load(&m, path) == SN_OK) sn_model_free(m);
        } else if (!strncmp(e->d_name, "wordvec-", 8)) {
            sn_wordvec *w = NULL;
            if (sn_wordvec_load(&w, path, SN_WORDVEC_AUTO, 0) == SN_OK) sn_wordvec_free(w);
        } else if (!strncmp(e->d_name, "keras_config-", 13)) {
            sn_json_doc jd;
            sn_json_opts jo;
            sn_json_opts_default(&jo);
            jo.allow_nonfinite = 1;
            if (sn_json_parse(&jd, (const char *)b, n, &jo) == SN_OK) {
                kx_model km;
                if (kx_translate(&km, jd.root, NULL, NULL, e->d_name) == SN_OK) kx_model_free(&km);
                sn_json_free(&jd);
            }
        } else if (!strncmp(e->d_name, "keras-", 6)) {
            sn_keras_import_opts o;
            sn_keras_import_opts_default(&o);
            o.max_bytes = 1 << 20;
            o.max_params = 1 << 18;
            sn_model *m = NULL;
            if (sn_keras_import(&m, path, &o) == SN_OK) sn_model_free(m);
        } else if (!strncmp(e->d_name, "vectorizer-", 11)) {
            sn_vectorizer *v = NULL;
            if (sn_vectorizer_load_blob(&v, b, n) == SN_OK) sn_vectorizer_free(v);
        }
        free(b);
        replayed++;
    }
    closedir(d);
    CHECK(replayed >= 1);
}
