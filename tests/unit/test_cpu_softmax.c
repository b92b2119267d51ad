// SPDX-License-Identifier: MIT
/*
 * SOFTMAX: the prepare against PreprocessSoftmaxScaling /
 * CalculateInputRadius, the kernel against float math (within 1 LSB of
 * 1/256), and bit-exactly against the TFLite Micro per-layer golden dumps
 * of ../shared/models when they are present (QNPU_MODELS overrides).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qnpu_cpu.h"

#define QNPU_UNIT_SEED 0x50F7u
#include "qnpu_unit.h"

static void test_softmax_prepare(void **state)
{
	struct qnpu_softmax_params p;

	(void)state;
	/* beta * scale * 2^26 = 2^22: multiplier 1/2, shift 23. */
	assert_int_equal(qnpu_softmax_prepare(&p, 1.0f, 1.0f / 16, -128),
			 0);
	assert_int_equal(p.input_multiplier, 1 << 30);
	assert_int_equal(p.input_left_shift, 23);
	/* floor(31 * 2^26 / 2^23) = 248. */
	assert_int_equal(p.diff_min, -248);
	assert_int_equal(qnpu_softmax_prepare(&p, 1.0f, 0.1f, -128), 0);
	assert_int_equal(p.input_left_shift, 23);
	assert_int_equal(p.diff_min, -248);
	/* Huge scales are capped at 2^31 - 1; radius floor(0.97) = 0. */
	assert_int_equal(qnpu_softmax_prepare(&p, 1.0f, 1000.0f, -128),
			 0);
	assert_int_equal(p.input_left_shift, 31);
	assert_int_equal(p.input_multiplier, INT32_MAX);
	assert_int_equal(p.diff_min, 0);
	assert_int_equal(qnpu_softmax_prepare(&p, 1.0f, 0.1f, 0),
			 -EINVAL);
}

static void test_softmax_shapes(void **state)
{
	const int8_t in[] = { 5, 5, 5, 5, 7, -100, 127, -128 };
	struct qnpu_softmax_params p;
	int8_t out[8];

	(void)state;
	assert_int_equal(qnpu_softmax_prepare(&p, 1.0f, 1.0f / 16, -128),
			 0);
	/* Four equal logits: 0.25 -> 64 - 128. */
	qnpu_cpu_softmax(&p, 1, 4, in, out);
	assert_int_equal(out[0], -64);
	assert_int_equal(out[3], -64);
	/* One logit: 1.0 saturates at 127. */
	qnpu_cpu_softmax(&p, 1, 1, in + 4, out);
	assert_int_equal(out[0], 127);
	/* A difference below diff_min (-255 < -248) gives exactly -128. */
	qnpu_cpu_softmax(&p, 1, 2, in + 6, out);
	assert_int_equal(out[0], 127);
	assert_int_equal(out[1], -128);
}

static void test_softmax_float(void **state)
{
	struct qnpu_softmax_params p;
	int8_t in[64 * 8], out[64 * 8];
	int t, i, r;

	(void)state;
	for (t = 0; t < 200; t++) {
		float scale = 0.01f + (xorshift() % 1000) / 2000.0f;
		float beta = (t % 3) ? 1.0f : 0.5f + (xorshift() % 100) / 50.0f;
		int depth = 1 + xorshift() % 64, rows = 1 + xorshift() % 8;

		assert_int_equal(qnpu_softmax_prepare(&p, beta, scale,
							  -128), 0);
		for (i = 0; i < depth * rows; i++)
			in[i] = (int8_t)xorshift();
		qnpu_cpu_softmax(&p, rows, depth, in, out);
		for (r = 0; r < rows; r++) {
			const int8_t *x = in + r * depth;
			double sum = 0, mx = -1e9;

			for (i = 0; i < depth; i++)
				mx = fmax(mx, x[i]);
			for (i = 0; i < depth; i++)
				sum += exp(beta * scale * (x[i] - mx));
			for (i = 0; i < depth; i++) {
				double want = exp(beta * scale * (x[i] - mx)) /
					      sum * 256.0 - 128.0;

				want = fmin(fmax(want, -128.0), 127.0);
				assert_true(fabs(want - out[r * depth + i]) <=
					    1.0);
			}
		}
	}
}

static long read_file(const char *path, int8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

/* Softmax layers of the golden dumps: input file, its scale, output file. */
static const struct {
	const char *dir, *in, *out;
	float in_scale;
	int depth;
} goldens[] = {
	{ "tflm_micro_speech/layers_yes_features",
	  "op002_FULLY_CONNECTED_t6.bin", "op003_SOFTMAX_t9.bin", 0, 4 },
	{ "mlperf_tiny_ic_resnet8/layers_ic_sample0",
	  "op014_FULLY_CONNECTED_t36.bin", "op015_SOFTMAX_t37.bin", 0, 10 },
	{ "mlperf_tiny_kws_dscnn/layers_kws_sample0",
	  "op011_FULLY_CONNECTED_t33.bin", "op012_SOFTMAX_t34.bin", 0, 12 },
	{ "tflm_person_detect/layers_person",
	  "op029_RESHAPE_t31.bin", "op030_SOFTMAX_t87.bin", 0, 2 },
};

/* Scale of the tensor in file `name`, from the dump's index.tsv. */
static int index_scale(const char *dir, const char *name, float *scale)
{
	char path[512], line[2048];
	FILE *f;
	int ok = -1;

	snprintf(path, sizeof(path), "%s/golden/%s/index.tsv", models_dir(),
		 dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fields[9], *s = line;
		int n = 0;

		while (n < 9 && (fields[n] = strsep(&s, "\t\n")))
			n++;
		if (n == 9 && !strcmp(fields[8], name)) {
			*scale = strtof(fields[6], NULL);
			ok = 0;
		}
	}
	fclose(f);
	return ok;
}

static void test_softmax_golden(void **state)
{
	int8_t in[64], want[64], out[64];
	struct qnpu_softmax_params p;
	char path[512];
	unsigned int g, found = 0;

	(void)state;
	for (g = 0; g < sizeof(goldens) / sizeof(goldens[0]); g++) {
		float scale = 0;

		snprintf(path, sizeof(path), "%s/golden/%s", models_dir(),
			 goldens[g].dir);
		if (access(path, F_OK))
			continue;
		/* Present dump: its index must name the input tensor. */
		assert_int_equal(index_scale(goldens[g].dir, goldens[g].in,
					     &scale), 0);
		snprintf(path, sizeof(path), "%s/golden/%s/%s", models_dir(),
			 goldens[g].dir, goldens[g].in);
		assert_int_equal(read_file(path, in, sizeof(in)),
				 goldens[g].depth);
		snprintf(path, sizeof(path), "%s/golden/%s/%s", models_dir(),
			 goldens[g].dir, goldens[g].out);
		assert_int_equal(read_file(path, want, sizeof(want)),
				 goldens[g].depth);
		assert_int_equal(qnpu_softmax_prepare(&p, 1.0f, scale,
							  -128), 0);
		qnpu_cpu_softmax(&p, 1, goldens[g].depth, in, out);
		assert_memory_equal(out, want, goldens[g].depth);
		found++;
	}
	if (!found)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_softmax_prepare),
		cmocka_unit_test(test_softmax_shapes),
		cmocka_unit_test(test_softmax_float),
		cmocka_unit_test(test_softmax_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
