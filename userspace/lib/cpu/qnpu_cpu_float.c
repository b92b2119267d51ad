// SPDX-License-Identifier: MIT
/*
 * Float32 ADD, AVERAGE_POOL_2D, MAX_POOL_2D, SOFTMAX and the float side of
 * DEQUANTIZE, as TFLite's reference_ops (float).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "qnpu_cpu.h"

static inline float qnpu_clampf(float v, float lo, float hi)
{
	v = v < lo ? lo : v;
	return v > hi ? hi : v;
}

void qnpu_cpu_add_f32(float act_min, float act_max, size_t n, const float *a,
		      const float *b, float *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = qnpu_clampf(a[i] + b[i], act_min, act_max);
}

void qnpu_cpu_add_broadcast_f32(float act_min, float act_max,
				const struct qnpu_shape4 *as, const float *a,
				const struct qnpu_shape4 *bs, const float *b,
				const struct qnpu_shape4 *os, float *out)
{
	struct qnpu_bcast it;
	size_t i;

	if (qnpu_bcast_begin(&it, as, bs, os))
		return;
	for (i = 0; i < it.count; i++, qnpu_bcast_next(&it))
		out[i] = qnpu_clampf(a[it.a] + b[it.b], act_min, act_max);
}

static inline int32_t qnpu_imax(int32_t a, int32_t b)
{
	return a > b ? a : b;
}

static inline int32_t qnpu_imin(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

/*
 * reference_ops::AveragePool / MaxPool (float): the window is clipped to
 * the image; the average divides the float sum (rows, then columns) by the
 * number of in-bounds elements.
 */
static void qnpu_pool_f32(const struct qnpu_pool_params *p, float act_min,
			  float act_max, const struct qnpu_shape4 *is,
			  const float *in, const struct qnpu_shape4 *os,
			  float *out, int is_max)
{
	const int32_t depth = os->c;
	int32_t b, oy, ox, y, x, c;

	if (is->c != os->c || is->n != os->n)
		return;
	for (b = 0; b < os->n; b++) {
		const float *img = in + (size_t)b * is->h * is->w * depth;

		for (oy = 0; oy < os->h; oy++) {
			const int32_t y0 = oy * p->stride_h - p->pad_h;
			const int32_t ys = qnpu_imax(0, -y0);
			const int32_t ye = qnpu_imin(p->filter_h, is->h - y0);

			for (ox = 0; ox < os->w; ox++) {
				const int32_t x0 = ox * p->stride_w - p->pad_w;
				const int32_t xs = qnpu_imax(0, -x0);
				const int32_t xe = qnpu_imin(p->filter_w,
							     is->w - x0);
				const int32_t count = qnpu_imax(0, ye - ys) *
						      qnpu_imax(0, xe - xs);
				float *o = out + (((size_t)b * os->h + oy) *
						  os->w + ox) * depth;

				for (c = 0; c < depth; c++) {
					float v = is_max ? -FLT_MAX : 0.0f;

					for (y = y0 + ys; y < y0 + ye; y++)
						for (x = x0 + xs; x < x0 + xe; x++) {
							float e = img[((size_t)y * is->w + x) *
								      depth + c];

							if (is_max)
								v = e > v ? e : v;
							else
								v += e;
						}
					/* TFLite fails an empty window; write 0. */
					if (!is_max)
						v = count ? v / (float)count : 0.0f;
					o[c] = qnpu_clampf(v, act_min, act_max);
				}
			}
		}
	}
}

void qnpu_cpu_avg_pool_f32(const struct qnpu_pool_params *p, float act_min,
			   float act_max, const struct qnpu_shape4 *is,
			   const float *in, const struct qnpu_shape4 *os,
			   float *out)
{
	qnpu_pool_f32(p, act_min, act_max, is, in, os, out, 0);
}

void qnpu_cpu_max_pool_f32(const struct qnpu_pool_params *p, float act_min,
			   float act_max, const struct qnpu_shape4 *is,
			   const float *in, const struct qnpu_shape4 *os,
			   float *out)
{
	qnpu_pool_f32(p, act_min, act_max, is, in, os, out, 1);
}

/* reference_ops::Softmax (float): max subtracted, expf, one division. */
void qnpu_cpu_softmax_f32(float beta, int32_t outer, int32_t depth,
			  const float *in, float *out)
{
	int32_t i, c;

	for (i = 0; i < outer; i++) {
		const float *x = in + (size_t)i * depth;
		float *y = out + (size_t)i * depth;
		float max = -FLT_MAX, sum = 0.0f;

		for (c = 0; c < depth; c++)
			max = x[c] > max ? x[c] : max;
		for (c = 0; c < depth; c++) {
			y[c] = expf((x[c] - max) * beta);
			sum += y[c];
		}
		for (c = 0; c < depth; c++)
			y[c] = y[c] / sum;
	}
}

/*
 * reference_ops::Dequantize / PerChannelDequantize: (q - zero point) in
 * int32, times the scale in float. A product of a float and a small
 * integer rounds once either way, so this equals float(double(s) * q).
 */
void qnpu_cpu_dequantize_i8_axis(const int8_t *in, size_t outer,
				 size_t axis, size_t inner, const float *scale,
				 const int32_t *zero_point, float *out)
{
	size_t o, a, i;

	for (o = 0; o < outer; o++)
		for (a = 0; a < axis; a++) {
			const float s = scale[a];
			const int32_t zp = zero_point[a];

			for (i = 0; i < inner; i++, in++, out++)
				*out = s * (float)((int32_t)*in - zp);
		}
}

float qnpu_f16_to_f32(uint16_t h)
{
	const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	const uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
	uint32_t bits;
	float f;

	if (e == 0x1f) {		/* inf, NaN */
		bits = sign | 0x7f800000u | (m << 13);
	} else if (e) {			/* normal */
		bits = sign | ((e + 112) << 23) | (m << 13);
	} else {			/* zero, subnormal: m * 2^-24 */
		f = ldexpf((float)m, -24);
		return sign ? -f : f;
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

void qnpu_cpu_dequantize_f16(const uint16_t *in, size_t n, float *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = qnpu_f16_to_f32(in[i]);
}
