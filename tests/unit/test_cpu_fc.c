// SPDX-License-Identifier: MIT
/*
 * FULLY_CONNECTED against a naive int64 re-computation, per tensor (with
 * a filter offset) and per channel (which ignores it), and the prepare's
 * float-versus-double products.
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

#define QNPU_UNIT_SEED 0xFCFCu
#include "qnpu_unit.h"

static void run_case(int per_channel, int with_bias, int act)
{
	int32_t batches = rnd(1, 4), depth = rnd(1, 300), od = rnd(1, 40);
	int32_t izp = rnd(-128, 127), fzp = per_channel ? 0 : rnd(-3, 3);
	int32_t ozp = rnd(-20, 20), *bias, mult[64], shift[64], b, o, d;
	float in_scale = 0.01f + rnd(0, 100) / 1000.0f, out_scale;
	float wsc[64];
	struct qnpu_fc_params p;
	int8_t *in, *f, *out;
	size_t i;

	in = malloc((size_t)batches * depth);
	f = malloc((size_t)od * depth);
	out = malloc((size_t)batches * od);
	bias = malloc(sizeof(int32_t) * od);
	for (i = 0; i < (size_t)batches * depth; i++)
		in[i] = (int8_t)xorshift();
	for (i = 0; i < (size_t)od * depth; i++)
		f[i] = (int8_t)rnd(-124, 124);
	for (i = 0; i < (size_t)od; i++) {
		bias[i] = rnd(-5000, 5000);
		wsc[i] = 0.001f + rnd(0, 1000) / 200000.0f;
	}
	out_scale = in_scale * 0.004f * sqrtf((float)depth) * 30.0f;
	qnpu_fc_multipliers(in_scale, wsc, per_channel ? od : 1,
				out_scale, mult, shift);
	memset(&p, 0, sizeof(p));
	p.input_offset = -izp;
	p.filter_offset = -fzp;
	p.output_offset = ozp;
	p.per_channel = per_channel;
	p.mult = mult;
	p.shift = shift;
	assert_int_equal(qnpu_act_range(act, out_scale, ozp, &p.act_min,
					    &p.act_max), 0);
	/* A filter offset must not leak into the per-channel kernel. */
	if (per_channel)
		p.filter_offset = 7;
	qnpu_cpu_fully_connected(&p, batches, depth, od, in, f,
				 with_bias ? bias : NULL, out);

	for (b = 0; b < batches; b++) {
		for (o = 0; o < od; o++) {
			int64_t acc = with_bias ? bias[o] : 0;
			int ch = per_channel ? o : 0;
			int32_t v;
			double real;

			for (d = 0; d < depth; d++)
				acc += (int64_t)(f[o * depth + d] - fzp) *
				       (in[b * depth + d] - izp);
			v = qnpu_mul_by_quantized_multiplier((int32_t)acc,
							     mult[ch],
							     shift[ch]) + ozp;
			v = v < p.act_min ? p.act_min :
			    (v > p.act_max ? p.act_max : v);
			assert_int_equal(out[b * od + o], v);
			real = (double)acc * in_scale * wsc[ch] / out_scale +
			       ozp;
			real = fmin(fmax(real, p.act_min), p.act_max);
			assert_true(fabs(real - v) <= 1.0);
		}
	}
	free(in);
	free(f);
	free(out);
	free(bias);
}

static void test_fc_per_tensor(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		run_case(0, i % 3 != 0, i % 4);
}

static void test_fc_per_channel(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		run_case(1, i % 3 != 0, i % 4);
}

static void test_fc_multipliers(void **state)
{
	int32_t m[4], s[4], want_m;
	int want_s, i, differ = 0;

	(void)state;
	/* Per tensor: float product, then double division. */
	for (i = 0; i < 2000; i++) {
		float a = (float)xorshift() / 4e9f + 1e-3f;
		float w = (float)xorshift() / 4e11f + 1e-5f;
		float o = (float)xorshift() / 4e8f + 1e-2f;
		float prod = a * w;
		int32_t md;
		int sd;

		qnpu_fc_multipliers(a, &w, 1, o, m, s);
		qnpu_quantize_multiplier((double)prod / (double)o, &want_m,
					 &want_s);
		assert_int_equal(m[0], want_m);
		assert_int_equal(s[0], want_s);
		qnpu_quantize_multiplier((double)a * (double)w / (double)o,
					 &md, &sd);
		differ += md != want_m;
	}
	/* The two formulas really differ, so the test can tell them apart. */
	assert_true(differ > 0);

	/* Per channel: all in double. */
	{
		const float w[4] = { 0.1f, 0.2f, 0.3f, 0.4f };

		qnpu_fc_multipliers(0.7f, w, 4, 0.9f, m, s);
		for (i = 0; i < 4; i++) {
			qnpu_quantize_multiplier((double)0.7f * (double)w[i] /
						 (double)0.9f, &want_m,
						 &want_s);
			assert_int_equal(m[i], want_m);
			assert_int_equal(s[i], want_s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fc_multipliers),
		cmocka_unit_test(test_fc_per_tensor),
		cmocka_unit_test(test_fc_per_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
