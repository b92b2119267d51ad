// SPDX-License-Identifier: MIT
/*
 * Fixed-point helpers and (de)quantization, following TensorFlow Lite
 * Micro's reference arithmetic (double rounding) literally: every cast,
 * float-vs-double product and int64 intermediate matters for bit-exactness.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "cpu/qnpu_cpu.h"

/*
 * QuantizeMultiplier() of tensorflow/lite/kernels/internal/
 * quantization_util.cc (non-emulated float, double rounding build).
 */
void qnpu_quantize_multiplier(double real, int32_t *mult, int *shift)
{
	int64_t q_fixed;
	double q;

	/* TFLite aborts on non-finite input; we flush to zero instead. */
	if (real == 0. || !isfinite(real)) {
		*mult = 0;
		*shift = 0;
		return;
	}
	q = frexp(real, shift);
	/* TfLiteRound(double) is std::round: halves away from zero. */
	q_fixed = (int64_t)round(q * (double)(1LL << 31));
	if (q_fixed == (1LL << 31)) {
		q_fixed /= 2;
		++*shift;
	}
	/* Shifts below -31 would shift every bit out: flush to zero. */
	if (*shift < -31) {
		*shift = 0;
		q_fixed = 0;
	}
	*mult = (int32_t)q_fixed;
}

/* gemmlowp::SaturatingRoundingDoublingHighMul for int32. */
int32_t qnpu_saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
	int64_t ab = (int64_t)a * (int64_t)b;
	int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));

	if (a == b && a == INT32_MIN)
		return INT32_MAX;
	/*
	 * Truncating division with the negative nudge 1 - 2^30 equals
	 * floor(ab / 2^31 + 1/2): ties round up for both signs (-1.5 -> -1),
	 * unlike RoundingDivideByPOT, which rounds them away from zero.
	 */
	return (int32_t)((ab + nudge) / (1LL << 31));
}

/* gemmlowp::RoundingDivideByPOT: round half away from zero. */
int32_t qnpu_rounding_divide_by_pot(int32_t x, int exponent)
{
	const int32_t mask = (int32_t)((1LL << exponent) - 1);
	const int32_t remainder = x & mask;
	const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);

	return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier(int32_t, ...), TFLite common.cc. */
int32_t qnpu_mul_by_quantized_multiplier(int32_t x, int32_t mult, int shift)
{
	/*
	 * QuantizeMultiplier() only yields shifts in [-31, 31] for sane
	 * scales; clamp others so no shift count is ever undefined.
	 */
	const int s = shift < -31 ? -31 : (shift > 31 ? 31 : shift);
	const int left_shift = s > 0 ? s : 0;
	const int right_shift = s > 0 ? 0 : -s;
	/* x * (1 << left_shift) in int32: wraps like TFLite on real targets. */
	const int32_t shifted = (int32_t)((uint32_t)x << left_shift);

	return qnpu_rounding_divide_by_pot(
		qnpu_saturating_rounding_doubling_high_mul(shifted, mult),
		right_shift);
}

/* Quantize() helper of kernel_util.cc: float division, float round. */
static int qnpu_act_quantize(float scale, int32_t zero_point, float f,
			     int32_t *q)
{
	const float tmp = roundf(f / scale);

	if (!(tmp >= (float)INT32_MIN && tmp <= (float)INT32_MAX))
		return -EINVAL;
	*q = zero_point + (int32_t)tmp;
	return 0;
}

/* CalculateActivationRangeQuantized() for int8 outputs. */
int qnpu_cpu_act_range(int activation, float scale, int32_t zero_point,
		       int32_t *act_min, int32_t *act_max)
{
	const int32_t qmin = -128, qmax = 127;
	int32_t lo = qmin, hi = qmax, q;

	switch (activation) {
	case 0:
		break;
	case 1:	/* relu */
		if (qnpu_act_quantize(scale, zero_point, 0.0f, &q))
			return -EINVAL;
		lo = q > qmin ? q : qmin;
		break;
	case 2:	/* relu_n1_to_1 */
		if (qnpu_act_quantize(scale, zero_point, -1.0f, &q))
			return -EINVAL;
		lo = q > qmin ? q : qmin;
		if (qnpu_act_quantize(scale, zero_point, 1.0f, &q))
			return -EINVAL;
		hi = q < qmax ? q : qmax;
		break;
	case 3:	/* relu6 */
		if (qnpu_act_quantize(scale, zero_point, 0.0f, &q))
			return -EINVAL;
		lo = q > qmin ? q : qmin;
		if (qnpu_act_quantize(scale, zero_point, 6.0f, &q))
			return -EINVAL;
		hi = q < qmax ? q : qmax;
		break;
	default:
		return -EINVAL;
	}
	*act_min = lo;
	*act_max = hi;
	return 0;
}

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

/* PrepareQuantizeReference(): in_scale / out_scale in double. */
void qnpu_cpu_requantize_prepare(struct qnpu_cpu_requant *p, float in_scale,
				 int32_t in_zp, float out_scale,
				 int32_t out_zp)
{
	int shift;

	qnpu_quantize_multiplier((double)in_scale / (double)out_scale,
				 &p->mult, &shift);
	p->shift = shift;
	p->in_zero_point = in_zp;
	p->out_zero_point = out_zp;
}

/* reference_ops::Requantize<int8_t, int8_t> (no fast path for int8->int8). */
void qnpu_cpu_requantize_i8(const struct qnpu_cpu_requant *p, size_t n,
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
