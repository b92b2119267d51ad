// SPDX-License-Identifier: MIT
/*
 * Fixed-point helpers, following TensorFlow Lite Micro's reference
 * arithmetic (double rounding) literally: every cast, float-vs-double
 * product and int64 intermediate matters for bit-exactness.
 */
#include <limits.h>
#include <math.h>

#include "quant/qnpu_fixedpoint.h"

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

