// SPDX-License-Identifier: MIT
/*
 * CONV_2D, as reference_integer_ops::ConvPerChannel of TFLite Micro.
 */
#include "qnpu_cpu.h"

static inline int32_t qnpu_max_i32(int32_t a, int32_t b)
{
	return a > b ? a : b;
}

static inline int32_t qnpu_min_i32(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

/* int32 accumulator as TFLite: exact for up to 2^16 products per output. */
static inline int32_t qnpu_dot(const int8_t *x, const int8_t *w, int32_t n,
			       int32_t x_off)
{
	int32_t acc = 0, i;

	for (i = 0; i < n; i++)
		acc = qnpu_wrap_add(acc, (int32_t)w[i] * ((int32_t)x[i] + x_off));
	return acc;
}

/*
 * All output channels of one output pixel. `in` points at the batch's
 * image; taps that fall into the padding are skipped, as in TFLite.
 */
static void qnpu_conv_pixel(const struct qnpu_conv_params *p,
			    const struct qnpu_shape4 *is, const int8_t *in,
			    const struct qnpu_shape4 *fs,
			    const int8_t *filter, const int32_t *bias,
			    int32_t iy0, int32_t ix0, int32_t out_c,
			    int32_t per_group, int8_t *o)
{
	const int32_t f_c = fs->c;
	int32_t oc, fy, fx;

	for (oc = 0; oc < out_c; oc++) {
		const int8_t *ig = in + (size_t)(oc / per_group) * f_c;
		const int8_t *fo = filter + (size_t)oc * fs->h * fs->w * f_c;
		int32_t acc = 0;

		for (fy = 0; fy < fs->h; fy++) {
			const int32_t iy = iy0 + p->dilation_h * fy;
			const int8_t *irow, *frow;

			if (iy < 0 || iy >= is->h)
				continue;
			irow = ig + (size_t)iy * is->w * is->c;
			frow = fo + (size_t)fy * fs->w * f_c;
			for (fx = 0; fx < fs->w; fx++) {
				const int32_t ix = ix0 + p->dilation_w * fx;

				if (ix < 0 || ix >= is->w)
					continue;
				acc = qnpu_wrap_add(acc, qnpu_dot(irow + (size_t)ix * is->c,
						frow + (size_t)fx * f_c, f_c,
						p->input_offset));
			}
		}
		if (bias)
			acc = qnpu_wrap_add(acc, bias[oc]);
		acc = qnpu_mul_by_quantized_multiplier(acc, p->mult[oc],
						       p->shift[oc]);
		acc = qnpu_wrap_add(acc, p->output_offset);
		acc = qnpu_max_i32(acc, p->act_min);
		acc = qnpu_min_i32(acc, p->act_max);
		o[oc] = (int8_t)acc;
	}
}

/*
 * Filter is [out_c][kh][kw][in_c / groups]. Grouped convolution is handled
 * as TFLite does (groups = input depth / filter depth).
 */
void qnpu_cpu_conv2d(const struct qnpu_conv_params *p,
		     const struct qnpu_shape4 *is, const int8_t *in,
		     const struct qnpu_shape4 *fs, const int8_t *filter,
		     const int32_t *bias,
		     const struct qnpu_shape4 *os, int8_t *out)
{
	const size_t in_image = (size_t)is->h * is->w * is->c;
	int32_t groups, per_group, b, oy, ox;

	/* Reject shapes that TFLite's DCHECKs would reject. */
	if (fs->c <= 0 || is->c % fs->c || os->c <= 0 || fs->n != os->c ||
	    is->n != os->n)
		return;
	groups = is->c / fs->c;
	if (os->c % groups)
		return;
	per_group = os->c / groups;

	for (b = 0; b < os->n; b++) {
		for (oy = 0; oy < os->h; oy++) {
			for (ox = 0; ox < os->w; ox++) {
				int8_t *o = out + (((size_t)b * os->h + oy) *
						   os->w + ox) * os->c;

				qnpu_conv_pixel(p, is, in + b * in_image, fs,
						filter, bias,
						oy * p->stride_h - p->pad_h,
						ox * p->stride_w - p->pad_w,
						os->c, per_group, o);
			}
		}
	}
}
