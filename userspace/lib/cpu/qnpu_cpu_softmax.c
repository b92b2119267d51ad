// SPDX-License-Identifier: MIT
/*
 * SOFTMAX int8 -> int8, as TFLite's reference_ops::Softmax with gemmlowp
 * fixed point: input differences in Q5.26, exp() in Q0.31, the sum in
 * Q12.19, the reciprocal by Newton-Raphson in Q2.29.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "qnpu_cpu.h"

#define QNPU_SCALED_DIFF_INT_BITS	5
#define QNPU_ACCUM_INT_BITS		12

static inline int32_t qnpu_srdhm(int32_t a, int32_t b)
{
	return qnpu_saturating_rounding_doubling_high_mul(a, b);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0. */
static inline int32_t qnpu_sat_shl(int32_t x, int e)
{
	const int32_t threshold = (int32_t)((1U << (31 - e)) - 1);

	if (x > threshold)
		return INT32_MAX;
	if (x < -threshold)
		return INT32_MIN;
	return (int32_t)((uint32_t)x << e);
}

/* exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31. */
static int32_t qnpu_exp_quarter(int32_t a)
{
	const int32_t constant_term = 1895147668;	/* exp(-1/8) */
	const int32_t constant_1_over_3 = 715827883;
	const int32_t x = a + (1 << 28);		/* a + 1/8 */
	const int32_t x2 = qnpu_srdhm(x, x);
	const int32_t x3 = qnpu_srdhm(x2, x);
	const int32_t x4 = qnpu_srdhm(x2, x2);
	const int32_t x4_over_4 = qnpu_rounding_divide_by_pot(x4, 2);
	const int32_t poly = qnpu_rounding_divide_by_pot(
		qnpu_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);

	return constant_term + qnpu_srdhm(constant_term, x + poly);
}

/* gemmlowp exp_on_negative_values for Q5.26 input, Q0.31 result. */
static int32_t qnpu_exp_on_negative_values(int32_t a)
{
	static const int32_t mults[7] = {
		1672461947,	/* exp(-1/4) */
		1302514674,	/* exp(-1/2) */
		790015084,	/* exp(-1) */
		290630308,	/* exp(-2) */
		39332535,	/* exp(-4) */
		720401,		/* exp(-8) */
		242,		/* exp(-16) */
	};
	const int frac_bits = 31 - QNPU_SCALED_DIFF_INT_BITS;
	const int32_t one_quarter = 1 << (frac_bits - 2);
	const int32_t mask = one_quarter - 1;
	const int32_t a_mod = (a & mask) - one_quarter;
	/* Rescale<0> from Q5.26: a saturating left shift by 5. */
	int32_t result = qnpu_exp_quarter(
		qnpu_sat_shl(a_mod, QNPU_SCALED_DIFF_INT_BITS));
	const int32_t remainder = a_mod - a;
	int i;

	/* Barrel shifter over exponents -2..+4 (all below 5 int bits). */
	for (i = 0; i < 7; i++)
		if (remainder & (1 << (frac_bits - 2 + i)))
			result = qnpu_srdhm(result, mults[i]);
	return a == 0 ? INT32_MAX : result;
}

/* gemmlowp RoundingHalfSum for int32. */
static inline int32_t qnpu_rounding_half_sum(int32_t a, int32_t b)
{
	const int64_t sum = (int64_t)a + b;
	const int64_t sign = sum >= 0 ? 1 : -1;

	return (int32_t)((sum + sign) / 2);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in and out. */
static int32_t qnpu_one_over_one_plus_x(int32_t a)
{
	const int32_t half_denom = qnpu_rounding_half_sum(a, INT32_MAX);
	const int32_t c48_17 = 1515870810;	/* Q2.29 */
	const int32_t cneg32_17 = -1010580540;	/* Q2.29 */
	const int32_t one_q2 = 1 << 29;
	int32_t x = c48_17 + qnpu_srdhm(half_denom, cneg32_17);
	int i;

	for (i = 0; i < 3; i++) {
		const int32_t hdx = qnpu_srdhm(half_denom, x);
		const int32_t one_minus = one_q2 - hdx;

		/* Q2 * Q2 = Q4; Rescale<2> is a saturating shift by 2. */
		x = x + qnpu_sat_shl(qnpu_srdhm(x, one_minus), 2);
	}
	/* ExactMulByPot<-1> keeps the raw value (Q1), Rescale<0> shifts 1. */
	return qnpu_sat_shl(x, 1);
}

/* GetReciprocal() of TFLite common.h. */
static int32_t qnpu_get_reciprocal(int32_t x, int x_int_digits,
				   int *num_bits_over_unit)
{
	const int headroom_plus_one = x ? __builtin_clz((uint32_t)x) : 32;
	int32_t shifted_sum_minus_one;

	*num_bits_over_unit = x_int_digits - headroom_plus_one;
	/* A zero x (a wrapped sum) must not become a shift by 32. */
	shifted_sum_minus_one = (int32_t)((headroom_plus_one < 32 ?
					   (uint32_t)x << headroom_plus_one :
					   0U) - (1U << 31));
	return qnpu_one_over_one_plus_x(shifted_sum_minus_one);
}

static inline int32_t qnpu_softmax_rescale(const struct qnpu_softmax_params *p,
					   int32_t diff)
{
	/* MultiplyByQuantizedMultiplierGreaterThanOne, no rounding shift. */
	const int32_t shifted = (int32_t)((uint32_t)diff <<
					  p->input_left_shift);

	return qnpu_srdhm(shifted, p->input_multiplier);
}

void qnpu_cpu_softmax(const struct qnpu_softmax_params *p, int32_t outer,
		      int32_t depth, const int8_t *in, int8_t *out)
{
	int32_t i, c;

	/* The row maximum always contributes exp(0), so sums are nonzero. */
	if (depth <= 0)
		return;
	for (i = 0; i < outer; i++) {
		const int8_t *x = in + (size_t)i * depth;
		int8_t *y = out + (size_t)i * depth;
		int32_t max_in_row = -128, scale;
		/* Q12.19 holds 4096 ones; past that wrap (not UB) as TFLite. */
		uint32_t sum = 0;
		int bits_over_unit, exponent;

		for (c = 0; c < depth; c++)
			max_in_row = x[c] > max_in_row ? x[c] : max_in_row;

		for (c = 0; c < depth; c++) {
			const int32_t diff = x[c] - max_in_row;

			if (diff >= p->diff_min) {
				const int32_t e = qnpu_exp_on_negative_values(
					qnpu_softmax_rescale(p, diff));

				/* Rescale<12> of Q0.31: divide by 2^12. */
				sum += (uint32_t)qnpu_rounding_divide_by_pot(e,
							QNPU_ACCUM_INT_BITS);
			}
		}

		scale = qnpu_get_reciprocal((int32_t)sum, QNPU_ACCUM_INT_BITS,
					    &bits_over_unit);
		exponent = bits_over_unit + 31 - 8;
		/* TFLite checks 0 <= exponent <= 31; only a zero sum fails. */
		if (exponent < 0 || exponent > 31) {
			for (c = 0; c < depth; c++)
				y[c] = -128;
			continue;
		}

		for (c = 0; c < depth; c++) {
			const int32_t diff = x[c] - max_in_row;
			int32_t v;

			if (diff < p->diff_min) {
				y[c] = -128;
				continue;
			}
			v = qnpu_exp_on_negative_values(
				qnpu_softmax_rescale(p, diff));
			v = qnpu_rounding_divide_by_pot(qnpu_srdhm(scale, v),
							exponent);
			/* Output zero point is the int8 minimum, -128. */
			v += -128;
			v = v > 127 ? 127 : v;
			v = v < -128 ? -128 : v;
			y[c] = (int8_t)v;
		}
	}
}
