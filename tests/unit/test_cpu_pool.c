// SPDX-License-Identifier: MIT
/*
 * AVERAGE_POOL_2D and MAX_POOL_2D against naive re-computations that walk
 * the unclipped window and skip taps outside the image; the average is
 * rounded with lround() on the exact quotient (half away from zero).
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

#define QNPU_UNIT_SEED 0x9001u
#include "qnpu_unit.h"

static void run_case(int is_max)
{
	struct qnpu_shape4 is, os;
	struct qnpu_pool_params p;
	int8_t *in, *out;
	int32_t b, y, x, c, ky, kx;
	size_t nin, nout, i;

	is.n = rnd(1, 3);
	is.h = rnd(1, 12);
	is.w = rnd(1, 12);
	is.c = rnd(1, 20);
	p.filter_h = rnd(1, 4);
	p.filter_w = rnd(1, 4);
	p.stride_h = rnd(1, 3);
	p.stride_w = rnd(1, 3);
	/* TFLite SAME padding never exceeds filter - 1. */
	p.pad_h = rnd(0, p.filter_h - 1);
	p.pad_w = rnd(0, p.filter_w - 1);
	p.act_min = (xorshift() & 1) ? -128 : rnd(-128, 0);
	p.act_max = (xorshift() & 1) ? 127 : rnd(1, 127);
	os.n = is.n;
	os.c = is.c;
	/* Every window keeps at least one pixel inside the image. */
	os.h = (is.h + p.pad_h - 1) / p.stride_h + 1;
	os.w = (is.w + p.pad_w - 1) / p.stride_w + 1;
	nin = (size_t)is.n * is.h * is.w * is.c;
	nout = (size_t)os.n * os.h * os.w * os.c;
	in = malloc(nin);
	out = malloc(nout);
	for (i = 0; i < nin; i++)
		in[i] = (int8_t)xorshift();
	if (is_max)
		qnpu_cpu_max_pool(&p, &is, in, &os, out);
	else
		qnpu_cpu_avg_pool(&p, &is, in, &os, out);

	for (b = 0; b < os.n; b++)
	for (y = 0; y < os.h; y++)
	for (x = 0; x < os.w; x++)
	for (c = 0; c < os.c; c++) {
		int32_t sum = 0, count = 0, mx = INT32_MIN, v;

		for (ky = 0; ky < p.filter_h; ky++) {
			for (kx = 0; kx < p.filter_w; kx++) {
				int32_t iy = y * p.stride_h - p.pad_h + ky;
				int32_t ix = x * p.stride_w - p.pad_w + kx;
				int8_t e;

				if (iy < 0 || iy >= is.h || ix < 0 ||
				    ix >= is.w)
					continue;
				e = in[((b * is.h + iy) * is.w + ix) * is.c +
				       c];
				sum += e;
				count++;
				mx = e > mx ? e : mx;
			}
		}
		assert_true(count > 0);
		v = is_max ? mx : (int32_t)lround((double)sum / count);
		v = v < p.act_min ? p.act_min : (v > p.act_max ? p.act_max : v);
		assert_int_equal(out[((b * os.h + y) * os.w + x) * os.c + c],
				 v);
	}
	free(in);
	free(out);
}

static void test_avg_pool(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 500; i++)
		run_case(0);
}

static void test_max_pool(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 500; i++)
		run_case(1);
}

/* Negative ties round away from zero: (-3 + -4) / 2 = -3.5 -> -4. */
static void test_avg_pool_ties(void **state)
{
	const int8_t in[4] = { -3, -4, 3, 4 };
	struct qnpu_shape4 is = { 1, 1, 4, 1 }, os = { 1, 1, 2, 1 };
	struct qnpu_pool_params p = {
		.stride_h = 1, .stride_w = 2, .filter_h = 1, .filter_w = 2,
		.act_min = -128, .act_max = 127,
	};
	int8_t out[2];

	(void)state;
	qnpu_cpu_avg_pool(&p, &is, in, &os, out);
	assert_int_equal(out[0], -4);
	assert_int_equal(out[1], 4);
}

/* The models' AVERAGE_POOL_2D layers, bit-exact with TFLite Micro. */
static void test_avg_pool_golden(void **state)
{
	static const struct {
		const char *dir;
		int op, h, w, c, fh, fw, sh, sw;
	} g[] = {
		{ "mlperf_tiny_ic_resnet8/layers_ic_sample0", 12, 8, 8, 64,
		  8, 8, 8, 8 },
		{ "tflm_person_detect/layers_person", 27, 3, 3, 256, 3, 3,
		  2, 2 },
		{ "mlperf_tiny_kws_dscnn/layers_kws_sample0", 9, 25, 5, 64,
		  25, 5, 25, 5 },
	};
	static int8_t in[8192], want[256], out[256];
	unsigned int i, found = 0;

	(void)state;
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct qnpu_shape4 is = { 1, g[i].h, g[i].w, g[i].c };
		struct qnpu_shape4 os = { 1, 1, 1, g[i].c };
		struct qnpu_pool_params p = {
			.stride_h = g[i].sh, .stride_w = g[i].sw,
			.filter_h = g[i].fh, .filter_w = g[i].fw,
			.act_min = -128, .act_max = 127,
		};
		float s;
		int32_t zp;

		if (!golden_layer(g[i].dir, g[i].op - 1, in, sizeof(in), &s,
				  &zp))
			continue;
		assert_int_equal(golden_layer(g[i].dir, g[i].op, want,
					      sizeof(want), &s, &zp), g[i].c);
		qnpu_cpu_avg_pool(&p, &is, in, &os, out);
		assert_memory_equal(out, want, g[i].c);
		found++;
	}
	if (!found)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_avg_pool_ties),
		cmocka_unit_test(test_avg_pool),
		cmocka_unit_test(test_max_pool),
		cmocka_unit_test(test_avg_pool_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
