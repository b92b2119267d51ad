// SPDX-License-Identifier: MIT
/*
 * CONV_2D against a naive re-computation written differently: the input is
 * first copied into an explicitly padded, dilation-free buffer filled with
 * the zero point (so padding contributes exactly zero), and accumulated in
 * int64. Also checked against float math within the rounding bound.
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

#define QNPU_UNIT_SEED 0xC0FFEEu
#include "qnpu_unit.h"

static void fill(int8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (int8_t)xorshift();
}

static void run_case(int with_bias, int per_tensor, int act)
{
	struct qnpu_shape4 is, fs, os;
	struct qnpu_conv_params p;
	int32_t kh = rnd(1, 4), kw = rnd(1, 4), sh = rnd(1, 2), sw = rnd(1, 2);
	int32_t dh = rnd(1, 2), dw = rnd(1, 2), ph, pw, groups = rnd(1, 2);
	int32_t ekh, ekw, ph_total, pw_total, izp = rnd(-128, 127);
	int32_t ozp = rnd(-20, 20), *bias, *mult, *shift, oc, b, y, x;
	int32_t ph2, pw2, bpw, bph;
	float in_scale = 0.01f + rnd(0, 100) / 1000.0f, out_scale;
	float wsc[64];
	int8_t *in, *f, *out, *padded;
	size_t i;

	is.n = rnd(1, 3);
	is.h = rnd(1, 9);
	is.w = rnd(1, 9);
	fs.c = rnd(1, 5);
	is.c = fs.c * groups;
	fs.n = groups * rnd(1, 4);
	fs.h = kh;
	fs.w = kw;
	ekh = dh * (kh - 1) + 1;
	ekw = dw * (kw - 1) + 1;
	/* SAME-like padding (maybe bigger than needed) or VALID. */
	ph = rnd(0, ekh - 1);
	pw = rnd(0, ekw - 1);
	ph_total = is.h + ph;
	pw_total = is.w + pw;
	if (ph_total < ekh || pw_total < ekw) {
		ph = ekh;
		pw = ekw;
		ph_total = is.h + ph;
		pw_total = is.w + pw;
	}
	os.n = is.n;
	os.h = (ph_total - ekh) / sh + 1;
	os.w = (pw_total - ekw) / sw + 1;
	os.c = fs.n;
	out_scale = in_scale * 40.0f;

	in = malloc((size_t)is.n * is.h * is.w * is.c);
	f = malloc((size_t)fs.n * fs.h * fs.w * fs.c);
	out = malloc((size_t)os.n * os.h * os.w * os.c);
	bias = malloc(sizeof(int32_t) * os.c);
	mult = malloc(sizeof(int32_t) * os.c);
	shift = malloc(sizeof(int32_t) * os.c);
	fill(in, (size_t)is.n * is.h * is.w * is.c);
	fill(f, (size_t)fs.n * fs.h * fs.w * fs.c);
	for (i = 0; i < (size_t)os.c; i++) {
		bias[i] = rnd(-3000, 3000);
		wsc[i] = 0.002f + rnd(0, 1000) / 100000.0f;
	}
	qnpu_conv_multipliers(in_scale, wsc, per_tensor ? 1 : os.c,
				  out_scale, os.c, mult, shift);

	memset(&p, 0, sizeof(p));
	p.stride_h = sh;
	p.stride_w = sw;
	p.dilation_h = dh;
	p.dilation_w = dw;
	p.pad_h = ph;
	p.pad_w = pw;
	p.input_offset = -izp;
	p.output_offset = ozp;
	assert_int_equal(qnpu_act_range(act, out_scale, ozp, &p.act_min,
					    &p.act_max), 0);
	p.mult = mult;
	p.shift = shift;
	qnpu_cpu_conv2d(&p, &is, in, &fs, f, with_bias ? bias : NULL, &os,
			out);

	/* Padded copy, big enough for every window position. */
	bph = ph + (os.h - 1) * sh + ekh + 1;
	bpw = pw + (os.w - 1) * sw + ekw + 1;
	ph2 = bph + is.h;
	pw2 = bpw + is.w;
	padded = malloc((size_t)is.n * ph2 * pw2 * is.c);
	memset(padded, (int8_t)izp, (size_t)is.n * ph2 * pw2 * is.c);
	for (b = 0; b < is.n; b++)
		for (y = 0; y < is.h; y++)
			memcpy(padded + (((size_t)b * ph2 + y + ph) * pw2 +
					 pw) * is.c,
			       in + (((size_t)b * is.h + y) * is.w) * is.c,
			       (size_t)is.w * is.c);

	for (b = 0; b < os.n; b++) {
		for (y = 0; y < os.h; y++) {
			for (x = 0; x < os.w; x++) {
				for (oc = 0; oc < os.c; oc++) {
					int32_t g = oc / (os.c / groups);
					int64_t acc = 0;
					double real;
					int32_t ky, kx, c, v;

					for (ky = 0; ky < kh; ky++)
					for (kx = 0; kx < kw; kx++)
					for (c = 0; c < fs.c; c++) {
						int32_t iy = y * sh + ky * dh;
						int32_t ix = x * sw + kx * dw;
						int8_t iv = padded[(((size_t)b * ph2 +
							iy) * pw2 + ix) * is.c +
							g * fs.c + c];
						int8_t fv = f[(((size_t)oc * kh +
							ky) * kw + kx) * fs.c + c];

						acc += (int64_t)fv * (iv - izp);
					}
					if (with_bias)
						acc += bias[oc];
					real = (double)acc * in_scale *
					       wsc[per_tensor ? 0 : oc] /
					       out_scale + ozp;
					v = qnpu_mul_by_quantized_multiplier(
						(int32_t)acc, mult[oc], shift[oc]) +
					    ozp;
					v = v < p.act_min ? p.act_min : v;
					v = v > p.act_max ? p.act_max : v;
					assert_int_equal(out[(((size_t)b * os.h +
						y) * os.w + x) * os.c + oc], v);
					real = fmin(fmax(real, p.act_min),
						    p.act_max);
					assert_true(fabs(real - v) <= 1.0);
				}
			}
		}
	}
	free(padded);
	free(in);
	free(f);
	free(out);
	free(bias);
	free(mult);
	free(shift);
}

static void test_conv_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 400; i++)
		run_case(i % 3 != 0, i % 5 == 0, i % 4 == 3 ? 3 : i % 4);
}

static void test_conv_multipliers(void **state)
{
	const float w[3] = { 0.5f, 0.25f, 0.003f };
	int32_t m[3], s[3], m1;
	int s1;
	int i;

	(void)state;
	/* One scale broadcasts to every channel. */
	qnpu_conv_multipliers(0.1f, w, 1, 0.2f, 3, m, s);
	for (i = 0; i < 3; i++) {
		qnpu_quantize_multiplier(
			(double)0.1f * (double)0.5f / (double)0.2f, &m1,
			&s1);
		assert_int_equal(m[i], m1);
		assert_int_equal(s[i], s1);
	}
	qnpu_conv_multipliers(0.1f, w, 3, 0.2f, 3, m, s);
	for (i = 0; i < 3; i++) {
		qnpu_quantize_multiplier(
			(double)0.1f * (double)w[i] / (double)0.2f, &m1,
			&s1);
		assert_int_equal(m[i], m1);
		assert_int_equal(s[i], s1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_multipliers),
		cmocka_unit_test(test_conv_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
