// SPDX-License-Identifier: MIT
/*
 * The fast CPU paths (AVX2, AVX-512 VNNI) against the scalar reference
 * kernels, byte for byte, at 1, 2 and 3 threads, on random shapes chosen
 * to hit every tail: channels not a multiple of the vector width (1..40
 * around 4, 8, 16), 1-pixel maps, stride 2 on odd sizes, dilation,
 * padding, depth multipliers, FC with a filter offset, several batches.
 * Convolution inputs come both small (the u8 path: real activations) and
 * uniformly random or at the saturation bound (the exact int16 path on
 * AVX2). The reference kernels are checked by test_cpu_conv.c & co. A path
 * this CPU lacks is skipped with the reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qnpu_cpu.h"

#define QNPU_UNIT_SEED 0x5EEDF00Du
#include "qnpu_unit.h"

#define CASES 60

static struct qnpu_cpu_pool *pools[4];	/* by thread count; [1] is NULL */

/* Input data: uniform, small (u8 path), or pairs at the u8 bound. */
enum { DATA_UNIFORM, DATA_SMALL, DATA_EDGE, DATA_KINDS };

static void fill(int8_t *p, size_t n, int kind, int32_t zp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (kind) {
		case DATA_SMALL:	/* a ReLU output: near the zero point */
			p[i] = (int8_t)(zp + rnd(0, 40) < 127 ? zp + rnd(0, 40) :
					127);
			break;
		case DATA_EDGE:	/* x + 128 around 129: pair sums near 258 */
			p[i] = (int8_t)rnd(-2, 4);
			break;
		default:
			p[i] = (int8_t)xorshift();
		}
	}
}

static int32_t *requant(int n, float in_scale, float out_scale,
			int32_t **shift)
{
	int32_t *mult = malloc(sizeof(int32_t) * (size_t)n);
	float *wsc = malloc(sizeof(float) * (size_t)n);
	int i;

	*shift = malloc(sizeof(int32_t) * (size_t)n);
	assert_non_null(mult);
	assert_non_null(wsc);
	assert_non_null(*shift);
	for (i = 0; i < n; i++)
		wsc[i] = 0.0005f + rnd(0, 1000) / 50000.0f;
	qnpu_conv_multipliers(in_scale, wsc, n, out_scale, n, mult, *shift);
	free(wsc);
	return mult;
}

static void skip_unless(int isa)
{
	if (!qnpu_cpu_isa_supported(isa)) {
		print_message("SKIP: %s: this CPU lacks it (the path is built, not run)\n",
			      qnpu_cpu_isa_name(isa));
		skip();
	}
}

/* Run @l at 1, 2 and 3 threads; each must equal @ref. */
static void check_layer(struct qnpu_cpu_layer *l, const int8_t *in,
			const int8_t *ref, size_t out_bytes, const char *what)
{
	void *scratch = aligned_alloc(64, qnpu_cpu_layer_scratch(l) + 64);
	int8_t *out = malloc(out_bytes + 1);
	int t;

	assert_non_null(scratch);
	assert_non_null(out);
	for (t = 1; t <= 3; t++) {
		memset(out, 0x5a, out_bytes);
		qnpu_cpu_layer_run(l, pools[t], in, out, scratch);
		if (memcmp(out, ref, out_bytes)) {
			size_t k = 0;

			while (out[k] == ref[k])
				k++;
			fail_msg("%s, %d threads: byte %zu is %d, reference %d",
				 what, t, k, out[k], ref[k]);
		}
	}
	free(scratch);
	free(out);
}

static void conv_case(int isa, int k)
{
	struct qnpu_shape4 is, fs, os;
	struct qnpu_conv_params p = { 0 };
	struct qnpu_cpu_layer *l;
	const int data = k % DATA_KINDS;
	int32_t kh, kw, ekh, ekw, izp, *mult, *shift, *bias;
	int8_t *in, *f, *ref;
	size_t in_n, f_n, out_n, i;
	char what[256];

	/* Every fourth case a 1x1 (GEMM), some 1-pixel maps, odd sizes. */
	kh = k % 4 == 0 ? 1 : rnd(1, 5);
	kw = k % 4 == 0 ? 1 : rnd(1, 5);
	p.stride_h = rnd(1, 2);
	p.stride_w = rnd(1, 2);
	p.dilation_h = k % 7 == 3 ? 2 : 1;
	p.dilation_w = k % 5 == 2 ? 2 : 1;
	is.n = rnd(1, 2);
	is.h = k % 6 == 1 ? 1 : rnd(1, 11);
	is.w = k % 6 == 1 ? 1 : rnd(1, 11);
	is.c = rnd(1, 40);
	fs.n = rnd(1, 40);
	fs.h = kh;
	fs.w = kw;
	fs.c = is.c;
	ekh = p.dilation_h * (kh - 1) + 1;
	ekw = p.dilation_w * (kw - 1) + 1;
	p.pad_h = rnd(0, ekh - 1);
	p.pad_w = rnd(0, ekw - 1);
	if (is.h + 2 * p.pad_h < ekh)
		p.pad_h = ekh;
	if (is.w + 2 * p.pad_w < ekw)
		p.pad_w = ekw;
	os.n = is.n;
	os.h = (is.h + 2 * p.pad_h - ekh) / p.stride_h + 1;
	os.w = (is.w + 2 * p.pad_w - ekw) / p.stride_w + 1;
	os.c = fs.n;
	izp = data == DATA_EDGE ? 0 : rnd(-128, 127);
	if (data == DATA_SMALL)
		izp = rnd(-128, -60);
	p.input_offset = -izp;
	p.output_offset = rnd(-30, 30);
	assert_int_equal(qnpu_act_range(k % 3, 0.05f, p.output_offset,
					&p.act_min, &p.act_max), 0);
	mult = requant(os.c, 0.02f, 0.05f + rnd(0, 50) / 100.0f, &shift);
	p.mult = mult;
	p.shift = shift;
	in_n = (size_t)is.n * is.h * is.w * is.c;
	f_n = (size_t)fs.n * kh * kw * fs.c;
	out_n = (size_t)os.n * os.h * os.w * os.c;
	in = malloc(in_n);
	f = malloc(f_n);
	ref = malloc(out_n);
	bias = malloc(sizeof(int32_t) * (size_t)os.c);
	assert_non_null(in);
	assert_non_null(f);
	assert_non_null(ref);
	assert_non_null(bias);
	fill(in, in_n, data, izp);
	fill(f, f_n, DATA_UNIFORM, 0);
	/* Some weights at -128 and 127: the largest products there are. */
	for (i = 0; i < f_n; i += 7)
		f[i] = i % 2 ? 127 : -128;
	for (i = 0; i < (size_t)os.c; i++)
		bias[i] = rnd(-20000, 20000);
	qnpu_cpu_conv2d(&p, &is, in, &fs, f, k % 9 ? bias : NULL, &os, ref);
	assert_int_equal(qnpu_cpu_conv_create(isa, &p, &is, &fs, f,
					      k % 9 ? bias : NULL, &os, &l), 0);
	snprintf(what, sizeof(what),
		 "%s conv case %d: in %dx%dx%dx%d k %dx%d s %d,%d d %d,%d pad %d,%d out c %d data %d",
		 qnpu_cpu_isa_name(isa), k, is.n, is.h, is.w, is.c, kh, kw,
		 p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_h,
		 p.pad_w, os.c, data);
	check_layer(l, in, ref, out_n, what);
	qnpu_cpu_layer_destroy(l);
	free(in);
	free(f);
	free(ref);
	free(bias);
	free(mult);
	free(shift);
}

static void dw_case(int isa, int k)
{
	struct qnpu_shape4 is, fs, os;
	struct qnpu_conv_params p = { 0 };
	struct qnpu_cpu_layer *l;
	int32_t ekh, ekw, izp, *mult, *shift, *bias;
	int8_t *in, *f, *ref;
	size_t in_n, f_n, out_n, i;
	char what[256];

	p.depth_multiplier = k % 4 == 1 ? rnd(2, 3) : 1;
	p.stride_h = rnd(1, 2);
	p.stride_w = rnd(1, 2);
	p.dilation_h = k % 5 == 2 ? 2 : 1;
	p.dilation_w = k % 7 == 3 ? 2 : 1;
	is.n = rnd(1, 2);
	is.h = k % 6 == 1 ? 1 : rnd(1, 12);
	is.w = k % 6 == 1 ? 1 : rnd(1, 12);
	is.c = rnd(1, 27);
	if (k % 10 == 9) {	/* person_detect's first layer: 1 -> 8, 16 */
		is.c = 1;
		p.depth_multiplier = 8 * rnd(1, 2);
	}
	fs.n = 1;
	fs.h = rnd(1, 5);
	fs.w = rnd(1, 5);
	fs.c = is.c * p.depth_multiplier;
	ekh = p.dilation_h * (fs.h - 1) + 1;
	ekw = p.dilation_w * (fs.w - 1) + 1;
	p.pad_h = rnd(0, ekh - 1);
	p.pad_w = rnd(0, ekw - 1);
	if (is.h + 2 * p.pad_h < ekh)
		p.pad_h = ekh;
	if (is.w + 2 * p.pad_w < ekw)
		p.pad_w = ekw;
	os.n = is.n;
	os.h = (is.h + 2 * p.pad_h - ekh) / p.stride_h + 1;
	os.w = (is.w + 2 * p.pad_w - ekw) / p.stride_w + 1;
	os.c = fs.c;
	izp = rnd(-128, 127);
	p.input_offset = -izp;
	p.output_offset = rnd(-30, 30);
	assert_int_equal(qnpu_act_range(k % 4 == 3 ? 3 : k % 2, 0.05f,
					p.output_offset, &p.act_min,
					&p.act_max), 0);
	mult = requant(os.c, 0.02f, 0.02f + rnd(0, 50) / 100.0f, &shift);
	p.mult = mult;
	p.shift = shift;
	in_n = (size_t)is.n * is.h * is.w * is.c;
	f_n = (size_t)fs.h * fs.w * fs.c;
	out_n = (size_t)os.n * os.h * os.w * os.c;
	in = malloc(in_n);
	f = malloc(f_n);
	ref = malloc(out_n);
	bias = malloc(sizeof(int32_t) * (size_t)os.c);
	assert_non_null(in);
	assert_non_null(f);
	assert_non_null(ref);
	assert_non_null(bias);
	fill(in, in_n, DATA_UNIFORM, 0);
	fill(f, f_n, DATA_UNIFORM, 0);
	for (i = 0; i < (size_t)os.c; i++)
		bias[i] = rnd(-5000, 5000);
	qnpu_cpu_depthwise_conv2d(&p, &is, in, &fs, f, k % 5 ? bias : NULL,
				  &os, ref);
	assert_int_equal(qnpu_cpu_dwconv_create(isa, &p, &is, &fs, f,
						k % 5 ? bias : NULL, &os, &l),
			 0);
	snprintf(what, sizeof(what),
		 "%s depthwise case %d: in %dx%dx%dx%d dm %d k %dx%d s %d,%d d %d,%d pad %d,%d",
		 qnpu_cpu_isa_name(isa), k, is.n, is.h, is.w, is.c,
		 p.depth_multiplier, fs.h, fs.w, p.stride_h, p.stride_w,
		 p.dilation_h, p.dilation_w, p.pad_h, p.pad_w);
	check_layer(l, in, ref, out_n, what);
	qnpu_cpu_layer_destroy(l);
	free(in);
	free(f);
	free(ref);
	free(bias);
	free(mult);
	free(shift);
}

static void fc_case(int isa, int k)
{
	struct qnpu_fc_params p = { 0 };
	struct qnpu_cpu_layer *l;
	const int32_t batches = k % 3 == 0 ? 1 : rnd(1, 6);
	const int32_t accum = rnd(1, 70), depth = rnd(1, 40);
	int32_t *mult, *shift, *bias;
	int8_t *in, *f, *ref;
	char what[160];
	int i;

	p.per_channel = k % 2;
	p.input_offset = rnd(-127, 128);
	p.filter_offset = p.per_channel || k % 4 == 0 ? 0 : rnd(-127, 128);
	p.output_offset = rnd(-30, 30);
	assert_int_equal(qnpu_act_range(k % 4 == 1, 0.05f, p.output_offset,
					&p.act_min, &p.act_max), 0);
	mult = requant(depth, 0.02f, 0.05f + rnd(0, 50) / 100.0f, &shift);
	p.mult = mult;
	p.shift = shift;
	in = malloc((size_t)batches * accum);
	f = malloc((size_t)depth * accum);
	ref = malloc((size_t)batches * depth);
	bias = malloc(sizeof(int32_t) * (size_t)depth);
	assert_non_null(in);
	assert_non_null(f);
	assert_non_null(ref);
	assert_non_null(bias);
	fill(in, (size_t)batches * accum, k % 2 ? DATA_UNIFORM : DATA_SMALL,
	     -p.input_offset);
	fill(f, (size_t)depth * accum, DATA_UNIFORM, 0);
	for (i = 0; i < depth; i++)
		bias[i] = rnd(-20000, 20000);
	qnpu_cpu_fully_connected(&p, batches, accum, depth, in, f,
				 k % 5 ? bias : NULL, ref);
	assert_int_equal(qnpu_cpu_fc_create(isa, &p, batches, accum, depth, f,
					    k % 5 ? bias : NULL, &l), 0);
	snprintf(what, sizeof(what),
		 "%s FC case %d: %d x %d -> %d, per channel %d, filter offset %d",
		 qnpu_cpu_isa_name(isa), k, batches, accum, depth,
		 p.per_channel, p.filter_offset);
	check_layer(l, in, ref, (size_t)batches * depth, what);
	qnpu_cpu_layer_destroy(l);
	free(in);
	free(f);
	free(ref);
	free(bias);
	free(mult);
	free(shift);
}

static void add_case(int k)
{
	static const size_t sizes[] = { 1, 7, 8, 9, 31, 33, 4095, 4096, 4097,
					12291, 70001 };
	const size_t n = sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];
	struct qnpu_add_params p;
	int8_t *a = malloc(n), *b = malloc(n), *ref = malloc(n),
	       *out = malloc(n), *table;
	int32_t lo, hi;
	int t;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(ref);
	assert_non_null(out);
	fill(a, n, DATA_UNIFORM, 0);
	fill(b, n, DATA_UNIFORM, 0);
	lo = k % 3 == 1 ? rnd(-128, 0) : -128;
	hi = k % 3 == 2 ? rnd(0, 127) : 127;
	qnpu_add_prepare(&p, 0.01f + rnd(0, 100) / 1000.f, rnd(-128, 127),
			 0.01f + rnd(0, 100) / 1000.f, rnd(-128, 127),
			 0.02f + rnd(0, 100) / 1000.f, rnd(-128, 127), lo, hi);
	qnpu_cpu_add(&p, n, a, b, ref);
	table = qnpu_cpu_add_table(&p);
	assert_non_null(table);
	for (t = 1; t <= 3; t++) {
		memset(out, 0x5a, n);
		qnpu_cpu_add_lut(pools[t], table, n, a, b, out);
		if (memcmp(out, ref, n))
			fail_msg("ADD table case %d (%zu elements), %d threads differs",
				 k, n, t);
	}
	free(table);
	free(a);
	free(b);
	free(ref);
	free(out);
}

static void pool_case(int isa, int k)
{
	struct qnpu_pool_params p = { 0 };
	struct qnpu_shape4 is, os;
	int8_t *in, *ref, *out;
	size_t in_n, out_n;
	int t, avg = k % 2;

	p.filter_h = rnd(1, 5);
	p.filter_w = rnd(1, 5);
	p.stride_h = rnd(1, 2);
	p.stride_w = rnd(1, 2);
	is.n = rnd(1, 2);
	is.h = k % 5 == 1 ? 1 : rnd(1, 11);
	is.w = k % 5 == 1 ? 1 : rnd(1, 11);
	is.c = rnd(1, 40);
	p.pad_h = rnd(0, p.filter_h - 1);
	p.pad_w = rnd(0, p.filter_w - 1);
	os.n = is.n;
	os.h = (is.h + 2 * p.pad_h - p.filter_h) / p.stride_h + 1;
	os.w = (is.w + 2 * p.pad_w - p.filter_w) / p.stride_w + 1;
	if (os.h < 1 || os.w < 1) {
		p.pad_h = p.filter_h - 1;
		p.pad_w = p.filter_w - 1;
		os.h = (is.h + 2 * p.pad_h - p.filter_h) / p.stride_h + 1;
		os.w = (is.w + 2 * p.pad_w - p.filter_w) / p.stride_w + 1;
	}
	os.c = is.c;
	p.act_min = k % 3 == 1 ? rnd(-128, 0) : -128;
	p.act_max = k % 3 == 2 ? rnd(0, 127) : 127;
	in_n = (size_t)is.n * is.h * is.w * is.c;
	out_n = (size_t)os.n * os.h * os.w * os.c;
	in = malloc(in_n);
	ref = malloc(out_n);
	out = malloc(out_n);
	assert_non_null(in);
	assert_non_null(ref);
	assert_non_null(out);
	fill(in, in_n, DATA_UNIFORM, 0);
	if (avg)
		qnpu_cpu_avg_pool(&p, &is, in, &os, ref);
	else
		qnpu_cpu_max_pool(&p, &is, in, &os, ref);
	for (t = 1; t <= 3; t++) {
		memset(out, 0x5a, out_n);
		if (avg)
			qnpu_cpu_avg_pool_isa(isa, pools[t], &p, &is, in, &os,
					      out);
		else
			qnpu_cpu_max_pool_isa(isa, pools[t], &p, &is, in, &os,
					      out);
		if (memcmp(out, ref, out_n))
			fail_msg("%s %s pool case %d (%dx%dx%dx%d, f %dx%d s %d,%d pad %d,%d), %d threads differs",
				 qnpu_cpu_isa_name(isa), avg ? "avg" : "max", k,
				 is.n, is.h, is.w, is.c, p.filter_h, p.filter_w,
				 p.stride_h, p.stride_w, p.pad_h, p.pad_w, t);
	}
	free(in);
	free(ref);
	free(out);
}

#define PATH_TESTS(isa, tag)                                              \
	static void test_conv_##tag(void **state)                         \
	{                                                                 \
		int k;                                                    \
		(void)state;                                              \
		skip_unless(isa);                                         \
		for (k = 0; k < CASES; k++)                               \
			conv_case(isa, k);                                \
	}                                                                 \
	static void test_dwconv_##tag(void **state)                       \
	{                                                                 \
		int k;                                                    \
		(void)state;                                              \
		skip_unless(isa);                                         \
		for (k = 0; k < CASES; k++)                               \
			dw_case(isa, k);                                  \
	}                                                                 \
	static void test_fc_##tag(void **state)                           \
	{                                                                 \
		int k;                                                    \
		(void)state;                                              \
		skip_unless(isa);                                         \
		for (k = 0; k < CASES; k++)                               \
			fc_case(isa, k);                                  \
	}                                                                 \
	static void test_pools_##tag(void **state)                        \
	{                                                                 \
		int k;                                                    \
		(void)state;                                              \
		skip_unless(isa);                                         \
		for (k = 0; k < CASES; k++)                               \
			pool_case(isa, k);                                \
	}

PATH_TESTS(QNPU_CPU_AVX2, avx2)
PATH_TESTS(QNPU_CPU_AVX512VNNI, avx512vnni)

/* The fast paths' ADD: a table of the reference, any length, threads. */
static void test_add_table(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < 22; k++)
		add_case(k);
}

/* Grouped convolution is not packed: the caller runs the reference. */
static void test_grouped_refused(void **state)
{
	const struct qnpu_shape4 is = { 1, 3, 3, 8 }, fs = { 4, 1, 1, 4 },
				 os = { 1, 3, 3, 4 };
	const int32_t mult[4] = { 1 << 30, 1 << 30, 1 << 30, 1 << 30 };
	const int32_t shift[4] = { 0 };
	const struct qnpu_conv_params p = {
		.stride_h = 1, .stride_w = 1, .dilation_h = 1,
		.dilation_w = 1, .act_min = -128, .act_max = 127,
		.mult = mult, .shift = shift,
	};
	int8_t f[16] = { 0 };
	struct qnpu_cpu_layer *l = (void *)1;

	(void)state;
	assert_int_equal(qnpu_cpu_conv_create(QNPU_CPU_AVX2, &p, &is, &fs, f,
					      NULL, &os, &l), -ENOTSUP);
	assert_null(l);
	/* SCALAR is the reference kernels: nothing to pack. */
	assert_int_equal(qnpu_cpu_conv_create(QNPU_CPU_SCALAR, &p, &is, &fs,
					      f, NULL, &os, &l), -ENOTSUP);
}

/* QNPU_CPU_ISA: a known path or a one-line reason. */
static void test_isa_select(void **state)
{
	char why[160];
	int isa, best = QNPU_CPU_SCALAR;

	(void)state;
	for (isa = 0; isa < QNPU_CPU_NISA; isa++)
		if (qnpu_cpu_isa_supported(isa))
			best = isa;
	unsetenv("QNPU_CPU_ISA");
	assert_int_equal(qnpu_cpu_isa_select(why, sizeof(why)), best);
	setenv("QNPU_CPU_ISA", "scalar", 1);
	assert_int_equal(qnpu_cpu_isa_select(why, sizeof(why)),
			 QNPU_CPU_SCALAR);
	setenv("QNPU_CPU_ISA", "sse9", 1);
	assert_int_equal(qnpu_cpu_isa_select(why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "QNPU_CPU_ISA=sse9: unknown"));
	for (isa = 1; isa < QNPU_CPU_NISA; isa++) {
		setenv("QNPU_CPU_ISA", qnpu_cpu_isa_name(isa), 1);
		if (qnpu_cpu_isa_supported(isa)) {
			assert_int_equal(qnpu_cpu_isa_select(why, sizeof(why)),
					 isa);
		} else {
			assert_int_equal(qnpu_cpu_isa_select(why, sizeof(why)),
					 -ENOTSUP);
			assert_non_null(strstr(why, "this CPU lacks"));
			assert_null(strchr(why, '\n'));
		}
	}
	unsetenv("QNPU_CPU_ISA");
}

/*
 * Many tiny jobs back to back: every task runs exactly once (a claim
 * racing the next job once ran tasks twice, about one run in fifteen).
 */
static void count_tasks(void *ctx, int begin, int end)
{
	int *hits = ctx;
	int i;

	for (i = begin; i < end; i++)
		__atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
}

static void test_pool_jobs(void **state)
{
	int hits[257], j, i, t;

	(void)state;
	for (t = 1; t <= 3; t++) {
		for (j = 0; j < 20000; j++) {
			const int n = 1 + j % 257;

			memset(hits, 0, sizeof(hits));
			qnpu_cpu_pool_run(pools[t], n, count_tasks, hits);
			for (i = 0; i < n; i++)
				assert_int_equal(hits[i], 1);
		}
	}
	assert_int_equal(qnpu_cpu_pool_threads(pools[3]), 3);
	assert_int_equal(qnpu_cpu_pool_create(0, &pools[0]), -EINVAL);
}

static int setup(void **state)
{
	(void)state;
	return qnpu_cpu_pool_create(2, &pools[2]) ||
	       qnpu_cpu_pool_create(3, &pools[3]);
}

static int teardown(void **state)
{
	(void)state;
	qnpu_cpu_pool_destroy(pools[2]);
	qnpu_cpu_pool_destroy(pools[3]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isa_select),
		cmocka_unit_test(test_pool_jobs),
		cmocka_unit_test(test_grouped_refused),
		cmocka_unit_test(test_conv_avx2),
		cmocka_unit_test(test_dwconv_avx2),
		cmocka_unit_test(test_fc_avx2),
		cmocka_unit_test(test_add_table),
		cmocka_unit_test(test_pools_avx2),
		cmocka_unit_test(test_conv_avx512vnni),
		cmocka_unit_test(test_dwconv_avx512vnni),
		cmocka_unit_test(test_fc_avx512vnni),
		cmocka_unit_test(test_pools_avx512vnni),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
