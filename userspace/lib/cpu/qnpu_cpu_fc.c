// SPDX-License-Identifier: MIT
/*
 * FULLY_CONNECTED, as TFLite Micro's reference_integer_ops::FullyConnected
 * (per tensor) and FullyConnectedPerChannel.
 */
#include "qnpu_cpu.h"

/*
 * CalculateOpDataFullyConnected(). Per channel: double(in) * double(w) /
 * double(out). Per tensor it goes through GetQuantizedConvolutionMultipler,
 * which multiplies the two scales in *float* before widening to double.
 */
void qnpu_cpu_fc_multipliers(float in_scale, const float *w_scale,
			     int nscales, float out_scale, int32_t *mult,
			     int32_t *shift)
{
	int i, s;

	if (nscales <= 1) {
		const float prod = in_scale * w_scale[0];

		qnpu_quantize_multiplier((double)prod / (double)out_scale,
					 &mult[0], &s);
		shift[0] = s;
		return;
	}
	for (i = 0; i < nscales; i++) {
		const double eff = (double)in_scale * (double)w_scale[i] /
				   (double)out_scale;

		qnpu_quantize_multiplier(eff, &mult[i], &s);
		shift[i] = s;
	}
}

static inline int8_t qnpu_fc_out(int32_t acc, int32_t mult, int32_t shift,
				 int32_t out_off, int32_t lo, int32_t hi)
{
	acc = qnpu_wrap_add(qnpu_mul_by_quantized_multiplier(acc, mult, shift),
			    out_off);
	acc = acc > lo ? acc : lo;
	acc = acc < hi ? acc : hi;
	return (int8_t)acc;
}

void qnpu_cpu_fully_connected(const struct qnpu_cpu_fc *p, int32_t batches,
			      int32_t accum_depth, int32_t out_depth,
			      const int8_t *in, const int8_t *filter,
			      const int32_t *bias, int8_t *out)
{
	const int32_t in_off = p->input_offset;
	/* The per-channel kernel ignores the filter offset (symmetric). */
	const int32_t f_off = p->per_channel ? 0 : p->filter_offset;
	int32_t b, oc, d;

	for (b = 0; b < batches; b++) {
		const int8_t *x = in + (size_t)b * accum_depth;

		for (oc = 0; oc < out_depth; oc++) {
			const int8_t *w = filter + (size_t)oc * accum_depth;
			const int ch = p->per_channel ? oc : 0;
			int32_t acc = 0;

			for (d = 0; d < accum_depth; d++)
				acc = qnpu_wrap_add(acc, ((int32_t)w[d] + f_off) *
						    ((int32_t)x[d] + in_off));
			if (bias)
				acc = qnpu_wrap_add(acc, bias[oc]);
			out[(size_t)b * out_depth + oc] =
				qnpu_fc_out(acc, p->mult[ch], p->shift[ch],
					    p->output_offset, p->act_min,
					    p->act_max);
		}
	}
}
