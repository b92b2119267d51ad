// SPDX-License-Identifier: MIT
/*
 * FULLY_CONNECTED, as TFLite Micro's reference_integer_ops::FullyConnected
 * (per tensor) and FullyConnectedPerChannel.
 */
#include "qnpu_cpu.h"

static inline int8_t qnpu_fc_out(int32_t acc, int32_t mult, int32_t shift,
				 int32_t out_off, int32_t lo, int32_t hi)
{
	acc = qnpu_wrap_add(qnpu_mul_by_quantized_multiplier(acc, mult, shift),
			    out_off);
	acc = acc > lo ? acc : lo;
	acc = acc < hi ? acc : hi;
	return (int8_t)acc;
}

void qnpu_cpu_fully_connected(const struct qnpu_fc_params *p, int32_t batches,
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
