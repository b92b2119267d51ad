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

void qnpu_cpu_avg_pool(const struct qnpu_cpu_pool *p,
		       const struct qnpu_cpu_shape *is, const int8_t *in,
		       const struct qnpu_cpu_shape *os, int8_t *out)
{
	const int32_t depth = os->c;
	int32_t b, oy, ox, c, fy, fx;

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
				int32_t x0, xs, xe, count;

				qnpu_pool_window(ox, p->stride_w, p->pad_w,
						 p->filter_w, is->w, &x0, &xs,
						 &xe);
				count = qnpu_imax(0, ye - ys) *
					qnpu_imax(0, xe - xs);
				for (c = 0; c < depth; c++) {
					int32_t acc = 0;

					for (fy = ys; fy < ye; fy++)
						for (fx = xs; fx < xe; fx++)
							acc += in[(((size_t)b * is->h +
								    y0 + fy) * is->w +
								   x0 + fx) * depth + c];
					/*
					 * TFLite fails the op on an empty
					 * window; we write the clamped zero.
					 */
					if (count == 0)
						acc = 0;
					/* Round half away from zero. */
					else if (acc > 0)
						acc = (acc + count / 2) / count;
					else
						acc = (acc - count / 2) / count;
					acc = qnpu_imax(acc, p->act_min);
					acc = qnpu_imin(acc, p->act_max);
					o[c] = (int8_t)acc;
				}
			}
		}
	}
}

void qnpu_cpu_max_pool(const struct qnpu_cpu_pool *p,
		       const struct qnpu_cpu_shape *is, const int8_t *in,
		       const struct qnpu_cpu_shape *os, int8_t *out)
{
	const int32_t depth = os->c;
	int32_t b, oy, ox, c, fy, fx;

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
				for (c = 0; c < depth; c++)
					o[c] = -128;
				/* Channel-innermost so the max vectorizes. */
				for (fy = ys; fy < ye; fy++) {
					for (fx = xs; fx < xe; fx++) {
						const int8_t *ip = in +
							(((size_t)b * is->h + y0 + fy) *
							 is->w + x0 + fx) * depth;

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
		}
	}
}
