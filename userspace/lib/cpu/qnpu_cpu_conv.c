// SPDX-License-Identifier: MIT
/*
 * CONV_2D, as reference_integer_ops::ConvPerChannel of TFLite Micro.
 */
#include "qnpu_cpu.h"

/*
 * PopulateConvolutionQuantizationParams(): the per-channel product is done
 * in double (unlike the legacy uint8 scalar path, which multiplies floats).
 */
void qnpu_cpu_conv_multipliers(float in_scale, const float *w_scale,
			       int nscales, float out_scale, int channels,
			       int32_t *mult, int32_t *shift)
{
	int i;

	for (i = 0; i < channels; i++) {
		const double ws = (double)(nscales > 1 ? w_scale[i] : w_scale[0]);
		const double eff = (double)in_scale * ws / (double)out_scale;
		int s;

		qnpu_quantize_multiplier(eff, &mult[i], &s);
		shift[i] = s;
	}
}

static inline int32_t qnpu_max_i32(int32_t a, int32_t b)
{
	return a > b ? a : b;
}

static inline int32_t qnpu_min_i32(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

/*
 * Filter is [out_c][kh][kw][in_c / groups]. Grouped convolution is handled
 * as TFLite does (groups = input depth / filter depth).
 */
void qnpu_cpu_conv2d(const struct qnpu_cpu_conv *p,
		     const struct qnpu_cpu_shape *is, const int8_t *in,
		     const struct qnpu_cpu_shape *fs, const int8_t *filter,
		     const int32_t *bias,
		     const struct qnpu_cpu_shape *os, int8_t *out)
{
	const int32_t in_h = is->h, in_w = is->w, in_c = is->c;
	const int32_t f_h = fs->h, f_w = fs->w, f_c = fs->c;
	const int32_t out_h = os->h, out_w = os->w, out_c = os->c;
	const int32_t input_offset = p->input_offset;
	const int32_t output_offset = p->output_offset;
	const int32_t act_min = p->act_min, act_max = p->act_max;
	const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
	int32_t groups, per_group, b, oy, ox, oc;

	if (f_c <= 0 || in_c % f_c || out_c <= 0)
		return;
	groups = in_c / f_c;
	if (out_c % groups)
		return;
	per_group = out_c / groups;

	for (b = 0; b < os->n; b++) {
		for (oy = 0; oy < out_h; oy++) {
			const int32_t iy0 = oy * p->stride_h - p->pad_h;

			for (ox = 0; ox < out_w; ox++) {
				const int32_t ix0 = ox * p->stride_w - p->pad_w;
				int8_t *o = out + (((size_t)b * out_h + oy) *
						   out_w + ox) * out_c;

				for (oc = 0; oc < out_c; oc++) {
					const int32_t g = oc / per_group;
					int32_t acc = 0, fy, fx;

					for (fy = 0; fy < f_h; fy++) {
						const int32_t iy = iy0 + dil_h * fy;

						if (iy < 0 || iy >= in_h)
							continue;
						for (fx = 0; fx < f_w; fx++) {
							const int32_t ix = ix0 + dil_w * fx;
							const int8_t *ip, *fp;
							int32_t c;

							/* Padding contributes nothing. */
							if (ix < 0 || ix >= in_w)
								continue;
							ip = in + (((size_t)b * in_h + iy) *
								   in_w + ix) * in_c +
							     (size_t)g * f_c;
							fp = filter + (((size_t)oc * f_h + fy) *
								       f_w + fx) * f_c;
							/*
							 * int32 accumulator as TFLite: exact
							 * for depths up to 2^16 products.
							 */
							for (c = 0; c < f_c; c++)
								acc += (int32_t)fp[c] *
								       ((int32_t)ip[c] +
									input_offset);
						}
					}
					if (bias)
						acc += bias[oc];
					acc = qnpu_mul_by_quantized_multiplier(
						acc, p->mult[oc], p->shift[oc]);
					acc += output_offset;
					acc = qnpu_max_i32(acc, act_min);
					acc = qnpu_min_i32(acc, act_max);
					o[oc] = (int8_t)acc;
				}
			}
		}
	}
}
