/* sn_dataset_window: a dataset of n samples holding [lo, hi) fills those
 * from its inner dataset, refuses any other naming it, and may hold none. */
#include <string.h>

#include "seqnn.h"
#include "test.h"

TEST(dataset_window_maps_its_range_and_refuses_the_rest) {
    float x[6 * 2], y[6];
    for (int i = 0; i < 6; i++) {
        x[2 * i] = (float)(10 + i);
        x[2 * i + 1] = (float)(20 + i);
        y[i] = (float)i;
    }
    sn_dataset inner, w;
    /* this process holds samples [4, 10) of 12 */
    CHECK(sn_dataset_from_arrays(&inner, x, y, 6, 2, 1) == SN_OK);
    CHECK(sn_dataset_window(&w, &inner, 12, 4) == SN_OK);
    CHECK(w.n == 12 && w.x_numel == 2 && w.y_numel == 1 && inner.ctx == NULL);
    float bx[3 * 2], by[3];
    sn_batch b;
    memset(&b, 0, sizeof b);
    b.x = bx;
    b.y = by;
    size_t idx[3] = {9, 4, 6};
    CHECK(w.fill(w.ctx, idx, 3, &b) == SN_OK);
    CHECK(bx[0] == 15 && bx[1] == 25 && bx[2] == 10 && bx[4] == 12 && by[0] == 5 && by[1] == 0 && by[2] == 2);
    size_t out[2] = {5, 10};
    CHECK(w.fill(w.ctx, out, 2, &b) == SN_ERR_STATE);
    CHECK(strstr(sn_error_last(), "sample 10") != NULL);
    size_t below[1] = {3};
    CHECK(w.fill(w.ctx, below, 1, &b) == SN_ERR_STATE);
    sn_dataset_free(&w);
    /* a range beyond n, and a window that holds nothing */
    CHECK(sn_dataset_from_arrays(&inner, x, y, 6, 2, 1) == SN_OK);
    CHECK(sn_dataset_window(&w, &inner, 8, 4) == SN_ERR_ARG);
    sn_dataset_free(&inner);
    sn_dataset none;
    memset(&none, 0, sizeof none);
    none.x_numel = 2;
    none.y_numel = 1;
    CHECK(sn_dataset_window(&w, &none, 12, 12) == SN_OK);
    CHECK(w.n == 12 && w.x_numel == 2);
    CHECK(w.fill(w.ctx, idx, 1, &b) == SN_ERR_STATE);
    sn_dataset_free(&w);
}
