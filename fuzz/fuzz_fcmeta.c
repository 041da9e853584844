/* libFuzzer: the forecasting metadata a model file carries (cli/forecast_meta.c,
 * read by `seqnn predict` from untrusted model files). Whatever decodes must
 * encode to a blob that decodes and encodes to the same bytes again (abort
 * otherwise, so the fuzzer reports it). */
#include "../cli/forecast_meta.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fc_meta m, m2;
    char err[256];
    if (fc_meta_decode(&m, data, size, err, sizeof err)) return 0;
    void *b1 = NULL, *b2 = NULL;
    size_t n1, n2;
    if (fc_meta_encode(&m, &b1, &n1)) abort();
    if (fc_meta_decode(&m2, b1, n1, err, sizeof err)) abort();
    if (fc_meta_encode(&m2, &b2, &n2) || n1 != n2 || memcmp(b1, b2, n1)) abort();
    free(b1);
    free(b2);
    fc_meta_free(&m);
    fc_meta_free(&m2);
    return 0;
}
