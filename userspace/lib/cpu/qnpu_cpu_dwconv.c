// SPDX-License-Identifier: MIT
/*
 * DEPTHWISE_CONV_2D, as reference_integer_ops::DepthwiseConvPerChannel of
 * TFLite Micro. Output channel oc = ic * depth_multiplier + m.
 */
#include "qnpu_cpu.h"

/*
 * One output channel of one output pixel; `in` points at the batch's
 * image, taps in the padding are skipped as in TFLite.
 */
static inline int32_t qnpu_dw_acc(const struct qnpu_conv_params *p,
				  const struct qnpu_shape4 *is,
				  const int8_t *in,
				  const struct qnpu_shape4 *fs,
				  const int8_t *filter, int32_t iy0,
				  int32_t ix0, int32_t ic, int32_t oc)
{
	int32_t acc = 0, fy, fx;

	for (fy = 0; fy < fs->h; fy++) {
		const int32_t iy = iy0 + p->dilation_h * fy;

		if (iy < 0 || iy >= is->h)
			continue;
		for (fx = 0; fx < fs->w; fx++) {
			const int32_t ix = ix0 + p->dilation_w * fx;
			int32_t iv, fv;

			if (ix < 0 || ix >= is->w)
				continue;
			iv = in[((size_t)iy * is->w + ix) * is->c + ic];
			fv = filter[((size_t)fy * fs->w + fx) * fs->c + oc];
			acc = qnpu_wrap_add(acc, fv * (iv + p->input_offset));
		}
	}
	return acc;
}

static inline void qnpu_dw_out(const struct qnpu_conv_params *p,
			       const struct qnpu_shape4 *is,
			       const int8_t *in,
			       const struct qnpu_shape4 *fs,
			       const int8_t *filter, const int32_t *bias,
			       int32_t iy0, int32_t ix0, int32_t ic,
			       int32_t oc, int8_t *o)
{
	int32_t acc = qnpu_dw_acc(p, is, in, fs, filter, iy0, ix0, ic, oc);

	if (bias)
		acc = qnpu_wrap_add(acc, bias[oc]);
	acc = qnpu_mul_by_quantized_multiplier(acc, p->mult[oc],
					       p->shift[oc]);
	acc = qnpu_wrap_add(acc, p->output_offset);
	acc = acc > p->act_min ? acc : p->act_min;
	acc = acc < p->act_max ? acc : p->act_max;
	o[oc] = (int8_t)acc;
}

void qnpu_cpu_depthwise_conv2d(const struct qnpu_conv_params *p,
			       const struct qnpu_shape4 *is,
			       const int8_t *in,
			       const struct qnpu_shape4 *fs,
			       const int8_t *filter,
			       const int32_t *bias,
			       const struct qnpu_shape4 *os, int8_t *out)
{
	const size_t in_image = (size_t)is->h * is->w * is->c;
	const int32_t dm = p->depth_multiplier;
	int32_t b, oy, ox, ic, m;

	/* Filter and output channels must both be in_c * dm. */
	if (dm <= 0 || os->c != is->c * dm || fs->c != os->c ||
	    is->n != os->n)
		return;

	for (b = 0; b < os->n; b++) {
		const int8_t *ib = in + b * in_image;

		for (oy = 0; oy < os->h; oy++) {
			const int32_t iy0 = oy * p->stride_h - p->pad_h;

			for (ox = 0; ox < os->w; ox++) {
				const int32_t ix0 = ox * p->stride_w - p->pad_w;
				int8_t *o = out + (((size_t)b * os->h + oy) *
						   os->w + ox) * os->c;

				for (ic = 0; ic < is->c; ic++)
					for (m = 0; m < dm; m++)
						qnpu_dw_out(p, is, ib, fs,
							    filter, bias,
							    iy0, ix0, ic,
							    ic * dm + m, o);
			}
		}
	}
}
