// SPDX-License-Identifier: MIT
/*
 * DEPTHWISE_CONV_2D, as reference_integer_ops::DepthwiseConvPerChannel of
 * TFLite Micro. Output channel oc = ic * depth_multiplier + m.
 */
#include "qnpu_cpu.h"

void qnpu_cpu_depthwise_conv2d(const struct qnpu_cpu_conv *p,
			       const struct qnpu_cpu_shape *is,
			       const int8_t *in,
			       const struct qnpu_cpu_shape *fs,
			       const int8_t *filter,
			       const int32_t *bias,
			       const struct qnpu_cpu_shape *os, int8_t *out)
{
	const int32_t in_h = is->h, in_w = is->w, in_c = is->c;
	const int32_t f_h = fs->h, f_w = fs->w;
	const int32_t out_h = os->h, out_w = os->w, out_c = os->c;
	const int32_t dm = p->depth_multiplier;
	const int32_t input_offset = p->input_offset;
	const int32_t output_offset = p->output_offset;
	const int32_t act_min = p->act_min, act_max = p->act_max;
	int32_t b, oy, ox, ic, m;

	/* Filter and output channels must both be in_c * dm. */
	if (dm <= 0 || out_c != in_c * dm || fs->c != out_c)
		return;

	for (b = 0; b < os->n; b++) {
		for (oy = 0; oy < out_h; oy++) {
			const int32_t iy0 = oy * p->stride_h - p->pad_h;

			for (ox = 0; ox < out_w; ox++) {
				const int32_t ix0 = ox * p->stride_w - p->pad_w;
				int8_t *o = out + (((size_t)b * out_h + oy) *
						   out_w + ox) * out_c;

				for (ic = 0; ic < in_c; ic++) {
					for (m = 0; m < dm; m++) {
						const int32_t oc = ic * dm + m;
						int32_t acc = 0, fy, fx;

						for (fy = 0; fy < f_h; fy++) {
							const int32_t iy = iy0 +
								p->dilation_h * fy;

							if (iy < 0 || iy >= in_h)
								continue;
							for (fx = 0; fx < f_w; fx++) {
								const int32_t ix = ix0 +
									p->dilation_w * fx;
								int32_t iv, fv;

								if (ix < 0 || ix >= in_w)
									continue;
								iv = in[(((size_t)b * in_h + iy) *
									 in_w + ix) * in_c + ic];
								fv = filter[((size_t)fy * f_w +
									     fx) * out_c + oc];
								acc += fv * (iv + input_offset);
							}
						}
						if (bias)
							acc += bias[oc];
						acc = qnpu_mul_by_quantized_multiplier(
							acc, p->mult[oc], p->shift[oc]);
						acc += output_offset;
						acc = acc > act_min ? acc : act_min;
						acc = acc < act_max ? acc : act_max;
						o[oc] = (int8_t)acc;
					}
				}
			}
		}
	}
}
