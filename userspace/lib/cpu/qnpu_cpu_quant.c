// SPDX-License-Identifier: MIT
/*
 * QUANTIZE and DEQUANTIZE kernels, as TFLite Micro's reference ops.
 */
#include <math.h>

#include "qnpu_cpu.h"

/*
 * reference_ops::AffineQuantize: the op keeps the scale as a double, but
 * divides in float, then TfLiteRound(float) = roundf (halves away from
 * zero), then adds the zero point in int32 and clamps.
 */
void qnpu_cpu_quantize_f32(const float *in, size_t n, float scale,
			   int32_t zero_point, int8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const float r = roundf(in[i] / scale);
		int32_t q;

		/*
		 * TFLite's float->int32 cast is UB out of range; saturate
		 * (NaN goes low) so that only the clamp below decides.
		 */
		if (r >= 65536.0f)
			q = 65536;
		else if (r > -65536.0f)
			q = (int32_t)r;
		else
			q = -65536;
		q += zero_point;
		out[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
	}
}

/*
 * reference_ops::Dequantize: the double scale is cast back to float and
 * multiplies the int32 difference in float.
 */
void qnpu_cpu_dequantize_i8(const int8_t *in, size_t n, float scale,
			    int32_t zero_point, float *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = scale * (float)((int32_t)in[i] - zero_point);
}

/* reference_ops::Requantize<int8_t, int8_t> (no fast path for int8->int8). */
void qnpu_cpu_requantize_i8(const struct qnpu_requant_params *p, size_t n,
			    const int8_t *in, int8_t *out)
{
	const int32_t mult = p->mult, shift = p->shift;
	const int32_t izp = p->in_zero_point, ozp = p->out_zero_point;
	size_t i;

	for (i = 0; i < n; i++) {
		int32_t v = qnpu_wrap_add(qnpu_mul_by_quantized_multiplier(
						in[i] - izp, mult, shift), ozp);

		out[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
	}
}
