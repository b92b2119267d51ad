// SPDX-License-Identifier: MIT
/*
 * ADD: the prepare against CalculateOpDataAdd's formulas, the element-wise
 * kernel against float math within one LSB, and broadcasting against the
 * element-wise kernel on explicitly expanded inputs.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qnpu_cpu.h"

#define QNPU_UNIT_SEED 0xADDu
#include "qnpu_unit.h"

static void test_add_prepare(void **state)
{
	struct qnpu_add_params p;
	int32_t m;
	int s;

	(void)state;
	/* Equal scales: each input multiplier is exactly 1/2. */
	qnpu_add_prepare(&p, 0.1f, 3, 0.1f, -4, 0.2f, 5, -128, 127);
	assert_int_equal(p.left_shift, 20);
	assert_int_equal(p.in1_offset, -3);
	assert_int_equal(p.in2_offset, 4);
	assert_int_equal(p.out_offset, 5);
	assert_int_equal(p.in1_mult, 1 << 30);
	assert_int_equal(p.in1_shift, 0);
	assert_int_equal(p.in2_mult, 1 << 30);
	assert_int_equal(p.in2_shift, 0);
	qnpu_quantize_multiplier(2 * (double)0.1f / ((1 << 20) *
				 (double)0.2f), &m, &s);
	assert_int_equal(p.out_mult, m);
	assert_int_equal(p.out_shift, s);
	/* Unequal: the smaller input gets a multiplier below 1/2. */
	qnpu_add_prepare(&p, 0.05f, 0, 0.2f, 0, 0.3f, 0, -128, 127);
	qnpu_quantize_multiplier((double)0.05f / (2 * (double)0.2f), &m, &s);
	assert_int_equal(p.in1_mult, m);
	assert_int_equal(p.in1_shift, s);
	assert_true(p.in1_shift < 0);
}

/* AddFunc spelled out with the (separately tested) primitives. */
static int8_t ref_add(const struct qnpu_add_params *p, int8_t x, int8_t y)
{
	int32_t a = (x + p->in1_offset) * (1 << p->left_shift);
	int32_t b = (y + p->in2_offset) * (1 << p->left_shift);
	int32_t v;

	a = qnpu_rounding_divide_by_pot(
		qnpu_saturating_rounding_doubling_high_mul(a, p->in1_mult),
		-p->in1_shift);
	b = qnpu_rounding_divide_by_pot(
		qnpu_saturating_rounding_doubling_high_mul(b, p->in2_mult),
		-p->in2_shift);
	v = qnpu_rounding_divide_by_pot(
		qnpu_saturating_rounding_doubling_high_mul(a + b, p->out_mult),
		-p->out_shift) + p->out_offset;
	v = v < p->act_min ? p->act_min : v;
	v = v > p->act_max ? p->act_max : v;
	return (int8_t)v;
}

static void test_add_elementwise(void **state)
{
	struct qnpu_add_params p;
	int8_t a[256], b[256], out[256];
	int t, i;

	(void)state;
	for (t = 0; t < 300; t++) {
		float s1 = 0.01f + rnd(0, 1000) / 5000.0f;
		float s2 = 0.01f + rnd(0, 1000) / 5000.0f;
		float so = (s1 + s2) * (0.5f + rnd(0, 100) / 100.0f);
		int32_t z1 = rnd(-128, 127), z2 = rnd(-128, 127);
		int32_t zo = rnd(-128, 127), lo, hi;

		assert_int_equal(qnpu_act_range(t % 2, so, zo, &lo, &hi),
				 0);
		qnpu_add_prepare(&p, s1, z1, s2, z2, so, zo, lo, hi);
		for (i = 0; i < 256; i++) {
			a[i] = (int8_t)xorshift();
			b[i] = (int8_t)xorshift();
		}
		qnpu_cpu_add(&p, 256, a, b, out);
		for (i = 0; i < 256; i++) {
			double real = ((a[i] - z1) * (double)s1 +
				       (b[i] - z2) * (double)s2) / so + zo;

			real = fmin(fmax(real, lo), hi);
			assert_true(fabs(real - out[i]) <= 1.0);
			assert_int_equal(out[i], ref_add(&p, a[i], b[i]));
		}
	}
}

static void test_add_broadcast(void **state)
{
	struct qnpu_add_params p;
	int t;

	(void)state;
	qnpu_add_prepare(&p, 0.07f, 3, 0.11f, -9, 0.15f, 2, -100, 120);
	for (t = 0; t < 300; t++) {
		struct qnpu_shape4 os, as, bs;
		int8_t *a, *b, *ea, *eb, *out, *want;
		size_t n, na, nb, i;
		int32_t k, y, x, c;

		os.n = rnd(1, 3);
		os.h = rnd(1, 5);
		os.w = rnd(1, 5);
		os.c = rnd(1, 7);
		as = os;
		bs = os;
		/* Each dimension of each input may broadcast. */
		if (xorshift() & 1) as.n = 1;
		if (xorshift() & 1) as.h = 1;
		if (xorshift() & 1) as.w = 1;
		if (xorshift() & 1) as.c = 1;
		if (xorshift() & 1) bs.n = 1;
		if (xorshift() & 1) bs.h = 1;
		if (xorshift() & 1) bs.w = 1;
		if (xorshift() & 1) bs.c = 1;
		n = (size_t)os.n * os.h * os.w * os.c;
		na = (size_t)as.n * as.h * as.w * as.c;
		nb = (size_t)bs.n * bs.h * bs.w * bs.c;
		a = malloc(na);
		b = malloc(nb);
		ea = malloc(n);
		eb = malloc(n);
		out = malloc(n);
		want = malloc(n);
		for (i = 0; i < na; i++)
			a[i] = (int8_t)xorshift();
		for (i = 0; i < nb; i++)
			b[i] = (int8_t)xorshift();
		i = 0;
		for (k = 0; k < os.n; k++)
		for (y = 0; y < os.h; y++)
		for (x = 0; x < os.w; x++)
		for (c = 0; c < os.c; c++, i++) {
			ea[i] = a[(((k % as.n) * as.h + y % as.h) * as.w +
				   x % as.w) * as.c + c % as.c];
			eb[i] = b[(((k % bs.n) * bs.h + y % bs.h) * bs.w +
				   x % bs.w) * bs.c + c % bs.c];
		}
		qnpu_cpu_add(&p, n, ea, eb, want);
		qnpu_cpu_add_broadcast(&p, &as, a, &bs, b, &os, out);
		assert_memory_equal(out, want, n);
		free(a);
		free(b);
		free(ea);
		free(eb);
		free(out);
		free(want);
	}
}

/* resnet8's residual ADD layers (RELU), bit-exact with TFLite Micro. */
static void test_add_golden(void **state)
{
	static const int ops[3][3] = { { 3, 0, 2 }, { 7, 5, 6 },
				       { 11, 9, 10 } };
	static const char dir[] = "mlperf_tiny_ic_resnet8/layers_ic_sample0";
	static int8_t a[16384], b[16384], want[16384], out[16384];
	struct qnpu_add_params p;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		float sa, sb, so;
		int32_t za, zb, zo, lo, hi;
		size_t n;

		n = golden_layer(dir, ops[i][0], want, sizeof(want), &so, &zo);
		if (!n)
			skip();
		assert_int_equal(golden_layer(dir, ops[i][1], a, sizeof(a), &sa,
					      &za), n);
		assert_int_equal(golden_layer(dir, ops[i][2], b, sizeof(b), &sb,
					      &zb), n);
		assert_int_equal(qnpu_act_range(1, so, zo, &lo, &hi), 0);
		qnpu_add_prepare(&p, sa, za, sb, zb, so, zo, lo, hi);
		qnpu_cpu_add(&p, n, a, b, out);
		assert_memory_equal(out, want, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_prepare),
		cmocka_unit_test(test_add_elementwise),
		cmocka_unit_test(test_add_broadcast),
		cmocka_unit_test(test_add_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
