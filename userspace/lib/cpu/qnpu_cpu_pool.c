// SPDX-License-Identifier: MIT
/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, as TFLite Micro's
 * reference_integer_ops::AveragePool / MaxPool: the window is clipped to the
 * image and padding is never counted.
 */
#include "qnpu_cpu.h"

static inline int32_t qnpu_imax(int32_t a, int32_t b)
{
	return a > b ? a : b;
}

static inline int32_t qnpu_imin(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

/* Window bounds for one output coordinate, clipped to [0, size). */
static inline void qnpu_pool_window(int32_t o, int32_t stride, int32_t pad,
				    int32_t filter, int32_t size,
				    int32_t *origin, int32_t *start,
				    int32_t *end)
{
	*origin = o * stride - pad;
	*start = qnpu_imax(0, -*origin);
	*end = qnpu_imin(filter, size - *origin);
}

/* Average of rows [y_lo, y_hi) x columns [x_lo, x_hi) of one image. */
static void qnpu_avg_pixel(const struct qnpu_pool_params *p,
			   const struct qnpu_shape4 *is, const int8_t *img,
			   int32_t y_lo, int32_t y_hi, int32_t x_lo,
			   int32_t x_hi, int8_t *o)
{
	const int32_t depth = is->c;
	const int32_t count = qnpu_imax(0, y_hi - y_lo) *
			      qnpu_imax(0, x_hi - x_lo);
	int32_t c, y, x;

	for (c = 0; c < depth; c++) {
		int32_t acc = 0;

		for (y = y_lo; y < y_hi; y++)
			for (x = x_lo; x < x_hi; x++)
				acc += img[((size_t)y * is->w + x) * depth + c];
		/* TFLite fails the op on an empty window; write clamped 0. */
		if (count == 0)
			acc = 0;
		/* Round half away from zero, C division truncating. */
		else if (acc > 0)
			acc = (acc + count / 2) / count;
		else
			acc = (acc - count / 2) / count;
		acc = qnpu_imax(acc, p->act_min);
		acc = qnpu_imin(acc, p->act_max);
		o[c] = (int8_t)acc;
	}
}

/* Max of rows [y_lo, y_hi) x columns [x_lo, x_hi), channels innermost. */
static void qnpu_max_pixel(const struct qnpu_pool_params *p,
			   const struct qnpu_shape4 *is, const int8_t *img,
			   int32_t y_lo, int32_t y_hi, int32_t x_lo,
			   int32_t x_hi, int8_t *o)
{
	const int32_t depth = is->c;
	int32_t c, y, x;

	for (c = 0; c < depth; c++)
		o[c] = -128;
	for (y = y_lo; y < y_hi; y++) {
		for (x = x_lo; x < x_hi; x++) {
			const int8_t *ip = img + ((size_t)y * is->w + x) *
					   depth;

			for (c = 0; c < depth; c++)
				o[c] = ip[c] > o[c] ? ip[c] : o[c];
		}
	}
	for (c = 0; c < depth; c++) {
		int32_t v = o[c];

		v = qnpu_imax(v, p->act_min);
		v = qnpu_imin(v, p->act_max);
		o[c] = (int8_t)v;
	}
}

typedef void (*qnpu_pool_pixel_fn)(const struct qnpu_pool_params *p,
				   const struct qnpu_shape4 *is,
				   const int8_t *img, int32_t y_lo,
				   int32_t y_hi, int32_t x_lo, int32_t x_hi,
				   int8_t *o);

/* The window walk both pools share; @pixel reduces one output pixel. */
static inline void qnpu_pool(const struct qnpu_pool_params *p,
			     const struct qnpu_shape4 *is, const int8_t *in,
			     const struct qnpu_shape4 *os, int8_t *out,
			     qnpu_pool_pixel_fn pixel)
{
	const int32_t depth = os->c;
	int32_t b, oy, ox;

	if (is->c != os->c || is->n != os->n)
		return;
	for (b = 0; b < os->n; b++) {
		for (oy = 0; oy < os->h; oy++) {
			int32_t y0, ys, ye;

			qnpu_pool_window(oy, p->stride_h, p->pad_h, p->filter_h,
					 is->h, &y0, &ys, &ye);
			for (ox = 0; ox < os->w; ox++) {
				int8_t *o = out + (((size_t)b * os->h + oy) *
						   os->w + ox) * depth;
				int32_t x0, xs, xe;

				qnpu_pool_window(ox, p->stride_w, p->pad_w,
						 p->filter_w, is->w, &x0, &xs,
						 &xe);
				pixel(p, is, in + (size_t)b * is->h * is->w *
				      depth, y0 + ys, y0 + ye, x0 + xs,
				      x0 + xe, o);
			}
		}
	}
}

void qnpu_cpu_avg_pool(const struct qnpu_pool_params *p,
		       const struct qnpu_shape4 *is, const int8_t *in,
		       const struct qnpu_shape4 *os, int8_t *out)
{
	qnpu_pool(p, is, in, os, out, qnpu_avg_pixel);
}

void qnpu_cpu_max_pool(const struct qnpu_pool_params *p,
		       const struct qnpu_shape4 *is, const int8_t *in,
		       const struct qnpu_shape4 *os, int8_t *out)
{
	qnpu_pool(p, is, in, os, out, qnpu_max_pixel);
}
