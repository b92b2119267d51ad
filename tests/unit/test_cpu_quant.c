// SPDX-License-Identifier: MIT
/*
 * Fixed-point helpers against their mathematical definitions, computed in
 * long double (64-bit mantissa: every product of two int32 is exact).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "qnpu_cpu.h"

#define QNPU_UNIT_SEED 0x12345678u
#include "qnpu_unit.h"

/* Round half away from zero of an exactly representable quotient. */
static long double round_away(long double v)
{
	return roundl(v);
}

static int32_t ref_srdhm(int32_t a, int32_t b)
{
	long double v;

	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	/*
	 * The nudge 1 - 2^30 plus truncating division makes negative ties
	 * round toward +inf too: this is floor(ab / 2^31 + 1/2).
	 */
	v = floorl((long double)a * (long double)b / 2147483648.0L + 0.5L);
	return (int32_t)v;
}

static int32_t ref_rdbpot(int32_t x, int e)
{
	return (int32_t)round_away((long double)x / ldexpl(1.0L, e));
}

static void test_srdhm_edges(void **state)
{
	(void)state;
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 INT32_MIN, INT32_MIN), INT32_MAX);
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 INT32_MIN, INT32_MAX), -INT32_MAX);
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 INT32_MAX, INT32_MAX), INT32_MAX - 1);
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(0, 5), 0);
	/* Ties round up: 0.5 -> 1, -0.5 -> 0, -1.5 -> -1. */
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 1, 1 << 30), 1);
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 -1, 1 << 30), 0);
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 -3, 1 << 30), -1);
	/* 0.25 rounds to zero either sign. */
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 1, 1 << 29), 0);
	assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
				 -1, 1 << 29), 0);
}

static void test_srdhm_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		int32_t a = (int32_t)xorshift(), b = (int32_t)xorshift();

		if (i & 1)
			a >>= xorshift() % 31;
		assert_int_equal(qnpu_saturating_rounding_doubling_high_mul(
					 a, b), ref_srdhm(a, b));
	}
}

static void test_rdbpot(void **state)
{
	int e, i;

	(void)state;
	/* Ties go away from zero, for both signs. */
	assert_int_equal(qnpu_rounding_divide_by_pot(3, 1), 2);
	assert_int_equal(qnpu_rounding_divide_by_pot(-3, 1), -2);
	assert_int_equal(qnpu_rounding_divide_by_pot(-5, 1), -3);
	assert_int_equal(qnpu_rounding_divide_by_pot(-6, 2), -2);
	assert_int_equal(qnpu_rounding_divide_by_pot(-5, 2), -1);
	assert_int_equal(qnpu_rounding_divide_by_pot(-2, 2), -1);
	assert_int_equal(qnpu_rounding_divide_by_pot(2, 2), 1);
	assert_int_equal(qnpu_rounding_divide_by_pot(-1, 1), -1);
	assert_int_equal(qnpu_rounding_divide_by_pot(1, 1), 1);
	assert_int_equal(qnpu_rounding_divide_by_pot(INT32_MIN, 31), -1);
	assert_int_equal(qnpu_rounding_divide_by_pot(INT32_MAX, 31), 1);
	assert_int_equal(qnpu_rounding_divide_by_pot(INT32_MAX, 0),
			 INT32_MAX);
	for (e = 0; e <= 31; e++) {
		for (i = 0; i < 5000; i++) {
			int32_t x = (int32_t)xorshift();

			if (i < 4)
				x = (int32_t[]){ INT32_MIN, INT32_MAX, -1,
						 0 }[i];
			assert_int_equal(qnpu_rounding_divide_by_pot(x, e),
					 ref_rdbpot(x, e));
		}
	}
}

/* Double rounding by definition: round(x 2^l m / 2^31), then / 2^r. */
static int32_t ref_mbqm(int32_t x, int32_t m, int shift)
{
	int l = shift > 0 ? shift : 0, r = shift > 0 ? 0 : -shift;
	int32_t xs = (int32_t)((uint32_t)x << l);

	return ref_rdbpot(ref_srdhm(xs, m), r);
}

static void test_mbqm(void **state)
{
	int i;

	(void)state;
	/* 0.5 on +-3: the high mul rounds the tie up, 2 and -1. */
	assert_int_equal(qnpu_mul_by_quantized_multiplier(3, 1 << 30, 0), 2);
	assert_int_equal(qnpu_mul_by_quantized_multiplier(-3, 1 << 30, 0),
			 -1);
	/* 0.5 as 2^30 * 2^-1 on -3: exact high mul, then -1.5 -> -2. */
	assert_int_equal(qnpu_mul_by_quantized_multiplier(-3, 1 << 30, -1),
			 -1);
	assert_int_equal(qnpu_mul_by_quantized_multiplier(-6, 1 << 30, -1),
			 -2);
	/* Multiplier 0.75 * 2^2 = 3. */
	assert_int_equal(qnpu_mul_by_quantized_multiplier(
				 100, 3 << 29, 2), 300);
	/* Shift -31: (2^31 - 2) / 2^31 rounds to one. */
	assert_int_equal(qnpu_mul_by_quantized_multiplier(
				 INT32_MAX, INT32_MAX, -31), 1);
	assert_int_equal(qnpu_mul_by_quantized_multiplier(
				 1 << 29, 1 << 30, -31), 0);
	for (i = 0; i < 200000; i++) {
		int32_t x = (int32_t)xorshift() >> (xorshift() % 32);
		int32_t m = (int32_t)(xorshift() >> 1) | (1 << 30);
		int shift = (int)(xorshift() % 40) - 31;

		/* Keep left shifts within what the model data can reach. */
		if (shift > 0)
			x >>= shift;
		assert_int_equal(qnpu_mul_by_quantized_multiplier(x, m, shift),
				 ref_mbqm(x, m, shift));
	}
}

static void check_round_trip(double real)
{
	int32_t m;
	int s;
	long double back;

	qnpu_quantize_multiplier(real, &m, &s);
	back = (long double)m * ldexpl(1.0L, s - 31);
	assert_true(m >= (1 << 30) || m <= -(1 << 30));
	assert_true(fabsl(back - real) <= fabsl((long double)real) *
					   ldexpl(1.0L, -30));
}

static void test_quantize_multiplier(void **state)
{
	int32_t m;
	int s, i;

	(void)state;
	qnpu_quantize_multiplier(0.0, &m, &s);
	assert_int_equal(m, 0);
	assert_int_equal(s, 0);
	qnpu_quantize_multiplier(0.5, &m, &s);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, 0);
	qnpu_quantize_multiplier(1.0, &m, &s);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, 1);
	qnpu_quantize_multiplier(-0.5, &m, &s);
	assert_int_equal(m, -(1 << 30));
	assert_int_equal(s, 0);
	/* q rounds up to exactly 2^31: halved, shift incremented. */
	qnpu_quantize_multiplier(1.0 - ldexp(1.0, -40), &m, &s);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, 1);
	/* Below 2^-32 the shift would be < -31: flushed to zero. */
	qnpu_quantize_multiplier(ldexp(1.0, -33), &m, &s);
	assert_int_equal(m, 0);
	assert_int_equal(s, 0);
	qnpu_quantize_multiplier(ldexp(1.0, -32), &m, &s);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, -31);
	/* Scales > 1 give positive (left) shifts. */
	qnpu_quantize_multiplier(3.0, &m, &s);
	assert_int_equal(m, 3 << 29);
	assert_int_equal(s, 2);
	for (i = 0; i < 20000; i++) {
		double e = (double)(xorshift() % 4000) / 100.0 - 30.0;

		check_round_trip(pow(2.0, e) * (1.0 + xorshift() / 4e10));
	}
}

static void test_act_range(void **state)
{
	int32_t lo, hi;

	(void)state;
	assert_int_equal(qnpu_act_range(0, 0.1f, -5, &lo, &hi), 0);
	assert_int_equal(lo, -128);
	assert_int_equal(hi, 127);
	assert_int_equal(qnpu_act_range(1, 0.1f, -5, &lo, &hi), 0);
	assert_int_equal(lo, -5);
	assert_int_equal(hi, 127);
	assert_int_equal(qnpu_act_range(3, 0.1f, -5, &lo, &hi), 0);
	assert_int_equal(lo, -5);
	assert_int_equal(hi, 55);
	assert_int_equal(qnpu_act_range(2, 0.1f, -5, &lo, &hi), 0);
	assert_int_equal(lo, -15);
	assert_int_equal(hi, 5);
	/* relu6 above the int8 range clamps to qmax. */
	assert_int_equal(qnpu_act_range(3, 0.01f, 0, &lo, &hi), 0);
	assert_int_equal(hi, 127);
	/* relu with a zero point below qmin clamps to qmin. */
	assert_int_equal(qnpu_act_range(1, 1.0f, -200, &lo, &hi), 0);
	assert_int_equal(lo, -128);
	assert_int_equal(qnpu_act_range(4, 0.1f, 0, &lo, &hi), -EINVAL);
	assert_int_equal(qnpu_act_range(6, 0.1f, 0, &lo, &hi), -EINVAL);
}

static void test_quantize_f32(void **state)
{
	const float in[] = { 0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.49f, -2.51f,
			     1000.0f, -1000.0f, 0.25f, -0.25f };
	const int8_t want[] = { 3, 4, 2, 5, 1, 5, 0, 127, -128, 3, 3 };
	int8_t out[11];

	(void)state;
	qnpu_cpu_quantize_f32(in, 11, 1.0f, 3, out);
	assert_memory_equal(out, want, sizeof(want));
	/* Non-finite input saturates instead of hitting a UB cast. */
	{
		const float odd[3] = { INFINITY, -INFINITY, NAN };

		qnpu_cpu_quantize_f32(odd, 3, 0.5f, 0, out);
		assert_int_equal(out[0], 127);
		assert_int_equal(out[1], -128);
		assert_int_equal(out[2], -128);
	}
}

static void test_dequantize(void **state)
{
	const int8_t in[] = { -128, -1, 0, 7, 127 };
	float out[5];
	int i;

	(void)state;
	qnpu_cpu_dequantize_i8(in, 5, 0.125f, 7, out);
	for (i = 0; i < 5; i++)
		assert_true(out[i] == 0.125f * (float)(in[i] - 7));
}

static void test_requantize(void **state)
{
	struct qnpu_requant_params p;
	int8_t in[256], out[256];
	int i, t;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (int8_t)(i - 128);
	for (t = 0; t < 200; t++) {
		float si = 0.001f + (xorshift() % 10000) / 1000.0f;
		float so = 0.001f + (xorshift() % 10000) / 1000.0f;
		int32_t zi = (int32_t)(xorshift() % 256) - 128;
		int32_t zo = (int32_t)(xorshift() % 256) - 128;

		qnpu_requantize_prepare(&p, si, zi, so, zo);
		qnpu_cpu_requantize_i8(&p, 256, in, out);
		for (i = 0; i < 256; i++) {
			long double real = (long double)(in[i] - zi) * si / so;
			long double want = roundl(real) + zo;

			want = want < -128 ? -128 : (want > 127 ? 127 : want);
			/* Double rounding may differ by one from real math. */
			assert_true(fabsl(out[i] - want) <= 1);
			assert_int_equal(out[i],
					 (int8_t)fmax(-128, fmin(127,
					 ref_mbqm(in[i] - zi, p.mult, p.shift) +
					 zo)));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srdhm_edges),
		cmocka_unit_test(test_srdhm_random),
		cmocka_unit_test(test_rdbpot),
		cmocka_unit_test(test_mbqm),
		cmocka_unit_test(test_quantize_multiplier),
		cmocka_unit_test(test_act_range),
		cmocka_unit_test(test_quantize_f32),
		cmocka_unit_test(test_dequantize),
		cmocka_unit_test(test_requantize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
