/* Internal to src/plot: the one path from a drawing function to a file. */
#ifndef SEQNN_PLOT_INTERNAL_H
#define SEQNN_PLOT_INTERNAL_H

#include <cairo.h>

#include "seqnn/core.h"

/* Draws the figure on cr (W x H device pixels); returns SN_OK or why not. */
typedef sn_status (*plot_draw_fn)(cairo_t *cr, int W, int H, void *ctx);

/* Renders draw(cr, W, H, ctx) on a PNG (RGB24) or SVG (px units) surface,
 * encodes it into memory and writes it to path with sn_file_write_atomic
 * (temp file, fsync, rename: a failure leaves no partial or changed file).
 * A cairo failure names path and cairo's own words (SN_ERR_NOMEM / SN_ERR_IO). */
sn_status plot_render(const char *path, int svg, int W, int H, plot_draw_fn draw, void *ctx);

#endif
