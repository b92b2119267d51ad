// SPDX-License-Identifier: MIT
/*
 * DEPTHWISE_CONV_2D against a naive re-computation written differently:
 * the window walks absolute input coordinates and tests bounds per tap,
 * accumulating in int64; plus a float-math bound.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qnpu_cpu.h"

#define QNPU_UNIT_SEED 0xD3E9u
#include "qnpu_unit.h"

static void run_case(int dm, int with_bias, int act)
{
	struct qnpu_shape4 is, fs, os;
	struct qnpu_conv_params p;
	int32_t izp = rnd(-128, 127), ozp = rnd(-10, 10);
	int32_t *bias, *mult, *shift, b, y, x, c, m;
	float in_scale = 0.02f + rnd(0, 50) / 1000.0f, out_scale, wsc[64];
	int8_t *in, *f, *out;
	size_t nin, nf, nout, i;

	memset(&p, 0, sizeof(p));
	is.n = rnd(1, 3);
	is.h = rnd(1, 10);
	is.w = rnd(1, 10);
	is.c = rnd(1, 6);
	fs.n = 1;
	fs.h = rnd(1, 4);
	fs.w = rnd(1, 4);
	fs.c = is.c * dm;
	p.stride_h = rnd(1, 2);
	p.stride_w = rnd(1, 2);
	p.dilation_h = rnd(1, 2);
	p.dilation_w = rnd(1, 2);
	p.pad_h = rnd(0, p.dilation_h * (fs.h - 1));
	p.pad_w = rnd(0, p.dilation_w * (fs.w - 1));
	p.depth_multiplier = dm;
	os.n = is.n;
	os.c = fs.c;
	/* Output extent chosen freely: windows may hang off both edges. */
	os.h = rnd(1, (is.h + p.pad_h) / p.stride_h + 1);
	os.w = rnd(1, (is.w + p.pad_w) / p.stride_w + 1);
	out_scale = in_scale * 20.0f;
	nin = (size_t)is.n * is.h * is.w * is.c;
	nf = (size_t)fs.h * fs.w * fs.c;
	nout = (size_t)os.n * os.h * os.w * os.c;
	in = malloc(nin);
	f = malloc(nf);
	out = malloc(nout);
	bias = malloc(sizeof(int32_t) * os.c);
	mult = malloc(sizeof(int32_t) * os.c);
	shift = malloc(sizeof(int32_t) * os.c);
	for (i = 0; i < nin; i++)
		in[i] = (int8_t)xorshift();
	for (i = 0; i < nf; i++)
		f[i] = (int8_t)rnd(-127, 127);
	for (i = 0; i < (size_t)os.c; i++) {
		bias[i] = rnd(-2000, 2000);
		wsc[i] = 0.003f + rnd(0, 1000) / 100000.0f;
	}
	qnpu_conv_multipliers(in_scale, wsc, os.c, out_scale, os.c, mult,
				  shift);
	p.input_offset = -izp;
	p.output_offset = ozp;
	assert_int_equal(qnpu_act_range(act, out_scale, ozp, &p.act_min,
					    &p.act_max), 0);
	p.mult = mult;
	p.shift = shift;
	qnpu_cpu_depthwise_conv2d(&p, &is, in, &fs, f,
				  with_bias ? bias : NULL, &os, out);

	for (b = 0; b < os.n; b++)
	for (y = 0; y < os.h; y++)
	for (x = 0; x < os.w; x++)
	for (c = 0; c < is.c; c++)
	for (m = 0; m < dm; m++) {
		int32_t oc = c * dm + m, v, ky, kx;
		int64_t acc = with_bias ? bias[oc] : 0;
		double real;

		for (ky = 0; ky < fs.h; ky++) {
			for (kx = 0; kx < fs.w; kx++) {
				int32_t iy = y * p.stride_h - p.pad_h +
					     ky * p.dilation_h;
				int32_t ix = x * p.stride_w - p.pad_w +
					     kx * p.dilation_w;

				if (iy >= 0 && iy < is.h && ix >= 0 &&
				    ix < is.w)
					acc += (int64_t)f[(ky * fs.w + kx) *
							  fs.c + oc] *
					       (in[((b * is.h + iy) * is.w +
						    ix) * is.c + c] - izp);
			}
		}
		v = qnpu_mul_by_quantized_multiplier((int32_t)acc, mult[oc],
						     shift[oc]) + ozp;
		v = v < p.act_min ? p.act_min : (v > p.act_max ? p.act_max : v);
		assert_int_equal(out[((b * os.h + y) * os.w + x) * os.c + oc],
				 v);
		real = (double)acc * in_scale * wsc[oc] / out_scale + ozp;
		real = fmin(fmax(real, p.act_min), p.act_max);
		assert_true(fabs(real - v) <= 1.0);
	}
	free(in);
	free(f);
	free(out);
	free(bias);
	free(mult);
	free(shift);
}

static void test_dwconv_dm1(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		run_case(1, i % 4 != 0, i % 4);
}

static void test_dwconv_dm2(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		run_case(2, i % 3 != 0, i % 4 == 2 ? 3 : i % 4);
}

static void test_dwconv_dm3(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		run_case(3, 1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwconv_dm1),
		cmocka_unit_test(test_dwconv_dm2),
		cmocka_unit_test(test_dwconv_dm3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
