// SPDX-License-Identifier: MIT
// RTL tests: every command type against a reference of the same arithmetic,
// through the C API (register page, rings, doorbell), plus the MMU, error
// handling, reset and counters. Every job runs with a cycle bound, so a hang
// fails a test instead of blocking it. Usage: test_rtl [--dtb FILE]
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "rtl_harness.h"
#include "rtl_lower.h"
#include "compiler/qnpu_compiler.h"
#include "rtl_ref.h"
#ifdef QNPU_HAVE_CPU_KERNELS
#include "qnpu_cpu.h"
#endif

#define MAX_CYCLES 20000000ull

static const char *dtb_path;
static struct qnpu_hw_params g_params;
static uint32_t rng_state = 0x1234567;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static int rr(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

static void fill(int8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (int8_t)rnd();
}

static int setup(void **state)
{
	struct rh *h = calloc(1, sizeof(*h));
	if (!h || rh_init(h, &g_params, 96))
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	rh_fini(*state);
	free(*state);
	return 0;
}

/* Random requantization: multipliers in [2^30, 2^31), shifts mostly
 * realistic, sometimes extreme. */
static void rand_quant(int n, int32_t *mult, int32_t *shift, int32_t *bias)
{
	for (int i = 0; i < n; i++) {
		mult[i] = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		int k = rr(0, 9);
		shift[i] = k == 0 ? rr(-31, -20) : k == 1 ? rr(0, 6) : rr(-12, -4);
		if (bias)
			bias[i] = (int32_t)(rnd() % 200001) - 100000;
	}
}

static void rand_act(struct ref_conv *p)
{
	int k = rr(0, 3);
	p->act_min = k == 1 ? rr(-128, 0) : -128;
	p->act_max = k == 2 ? rr(0, 127) : 127;
	if (k == 3) {
		p->act_min = rr(-20, 10);
		p->act_max = p->act_min + rr(0, 30);
	}
}

static int rand_zp(void)
{
	int k = rr(0, 5);
	return k == 0 ? -128 : k == 1 ? 127 : rr(-128, 127);
}

static int out_dim(int in, int k, int s, int d, int pad_total)
{
	return (in + pad_total - ((k - 1) * d + 1)) / s + 1;
}

/* At most want input channels, fewer if a CONV's weights of kk taps would
 * not fit WBUF: rtl_lower loads an output-channel tile's kk * ic weight
 * words at once (small-SRAM configurations). */
static int fit_ic(const struct rh *h, int kk, int want)
{
	int max = (int)(h->p.wbuf_bytes / h->p.cols) / kk;

	return want < max ? want : max;
}

#ifdef QNPU_HAVE_CPU_KERNELS
static void cpu_conv(const struct ref_conv *p, int op, const int8_t *in, const int8_t *f,
		     int8_t *out)
{
	struct qnpu_conv_params c = {
		.stride_h = p->sh, .stride_w = p->sw, .dilation_h = p->dh, .dilation_w = p->dw,
		.pad_h = p->pad_t, .pad_w = p->pad_l, .depth_multiplier = p->dm,
		.input_offset = p->in_off, .output_offset = p->out_zp,
		.act_min = p->act_min, .act_max = p->act_max, .mult = p->mult, .shift = p->shift};
	struct qnpu_shape4 is = {1, p->ih, p->iw, p->ic}, os = {1, p->oh, p->ow, p->oc};
	if (op == QNPU_OP_CONV) {
		struct qnpu_shape4 fs = {p->oc, p->kh, p->kw, p->ic};
		qnpu_cpu_conv2d(&c, &is, in, &fs, f, p->bias, &os, out);
	} else {
		struct qnpu_shape4 fs = {1, p->kh, p->kw, p->oc};
		qnpu_cpu_depthwise_conv2d(&c, &is, in, &fs, f, p->bias, &os, out);
	}
}
#endif

/* Run one layer on the device and compare with the reference. */
static void run_layer(struct rh *h, int op, struct ref_conv *p, int max_band, int ic_chunks)
{
	int oc = (op == QNPU_OP_MAXPOOL || op == QNPU_OP_AVGPOOL) ? p->ic : p->oc;
	size_t in_n = (size_t)p->ih * p->iw * p->ic, out_n = (size_t)p->oh * p->ow * oc;
	size_t f_n = op == QNPU_OP_CONV ? (size_t)p->oc * p->kh * p->kw * p->ic :
		     (size_t)p->kh * p->kw * p->oc;
	int8_t *in, *f = NULL, *out;
	uint64_t in_va = rh_alloc(h, in_n, 0, (void **)&in);
	uint64_t out_va = rh_alloc(h, out_n, 1, (void **)&out);
	uint64_t f_va = 0;
	fill(in, in_n);
	memset(out, 0x5a, out_n);
	if (op == QNPU_OP_CONV || op == QNPU_OP_DWCONV) {
		f_va = rh_alloc(h, f_n, 0, (void **)&f);
		fill(f, f_n);
	}
	int8_t *ref = malloc(out_n);
	if (op == QNPU_OP_CONV)
		ref_conv(p, in, f, ref);
	else if (op == QNPU_OP_DWCONV)
		ref_dwconv(p, in, f, ref);
	else
		ref_pool(p, op == QNPU_OP_AVGPOOL, in, ref);

	struct emit e;
	emit_init(&e);
	assert_int_equal(lower_layer(h, &e, op, p, in_va, f_va, out_va, max_band, ic_chunks), 0);
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, e.c, e.n, MAX_CYCLES, &cqe), 0);
	if (cqe.status)
		print_error("status %u at command %u of %d\n", cqe.status, cqe.err_cmd, e.n);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	if (getenv("QNPU_VERBOSE"))
		print_message("op %#x %dx%dx%d -> %dx%dx%d k%dx%d s%d,%d: %d cmds, %llu cycles, %llu MACs\n",
			      op, p->ih, p->iw, p->ic, p->oh, p->ow, oc, p->kh, p->kw, p->sh, p->sw, e.n,
			      (unsigned long long)cqe.cycles, (unsigned long long)cqe.macs);
	size_t bad = 0;
	for (size_t i = 0; i < out_n; i++)
		if (out[i] != ref[i] && bad++ < 5)
			print_error("op %#x out[%zu] = %d, expected %d\n", op, i, out[i], ref[i]);
	assert_int_equal(bad, 0);

	/* counters */
	uint64_t macs = 0, in_bytes = 0, out_bytes = 0;
	if (op == QNPU_OP_CONV)
		macs = (uint64_t)p->oh * p->ow * p->oc * p->kh * p->kw * p->ic;
	else if (op == QNPU_OP_DWCONV)
		macs = (uint64_t)p->oh * p->ow * p->oc * p->kh * p->kw;
	assert_int_equal(cqe.macs, macs);
	for (int i = 0; i < e.n; i++) {
		uint32_t opc = e.c[i].w[QNPU_CMD_OPCODE_WORD] & QNPU_CMD_OPCODE_MASK;
		uint64_t bytes = (uint64_t)((e.c[i].w[QNPU_CMD_ROW_BYTES_WORD] &
					     QNPU_CMD_ROW_BYTES_MASK) >> QNPU_CMD_ROW_BYTES_SHIFT) *
				 ((e.c[i].w[QNPU_CMD_ROWS_WORD] & QNPU_CMD_ROWS_MASK) >>
				  QNPU_CMD_ROWS_SHIFT);
		if (opc == QNPU_OP_LOAD)
			in_bytes += bytes;
		else if (opc == QNPU_OP_STORE)
			out_bytes += bytes;
	}
	assert_int_equal(cqe.dma_in, in_bytes);
	assert_int_equal(cqe.dma_out, out_bytes);
	assert_int_equal(cqe.cmd_bytes, (uint64_t)e.n * QNPU_CMD_BYTES);
	assert_true(cqe.busy <= cqe.cycles);
	assert_true(cqe.compute_cycles <= cqe.busy);

#ifdef QNPU_HAVE_CPU_KERNELS
	/* the reference agrees with the CPU backend's TFLite kernels */
	int8_t *cpu = malloc(out_n);
	if (op == QNPU_OP_CONV || op == QNPU_OP_DWCONV) {
		cpu_conv(p, op, in, f, cpu);
		assert_memory_equal(cpu, ref, out_n);
	}
	if (op == QNPU_OP_CONV && p->ih == 1 && p->kh == 1 && p->kw == 1 && p->sw == 1 &&
	    p->pad_l == 0 && p->ow == p->iw) {
		struct qnpu_fc_params fc = {.input_offset = p->in_off, .output_offset = p->out_zp,
					 .act_min = p->act_min, .act_max = p->act_max,
					 .per_channel = 1, .mult = p->mult, .shift = p->shift};
		qnpu_cpu_fully_connected(&fc, p->iw, p->ic, p->oc, in, f, p->bias, cpu);
		assert_memory_equal(cpu, ref, out_n);
	}
	if (op == QNPU_OP_MAXPOOL || op == QNPU_OP_AVGPOOL) {
		struct qnpu_pool_params pp = {.stride_h = p->sh, .stride_w = p->sw,
					   .filter_h = p->kh, .filter_w = p->kw,
					   .pad_h = p->pad_t, .pad_w = p->pad_l,
					   .act_min = p->act_min, .act_max = p->act_max};
		struct qnpu_shape4 is = {1, p->ih, p->iw, p->ic}, os = {1, p->oh, p->ow, p->ic};
		if (op == QNPU_OP_MAXPOOL)
			qnpu_cpu_max_pool(&pp, &is, in, &os, cpu);
		else
			qnpu_cpu_avg_pool(&pp, &is, in, &os, cpu);
		assert_memory_equal(cpu, ref, out_n);
	}
	free(cpu);
#endif
	free(ref);
	emit_free(&e);
}

static void rand_geometry(struct ref_conv *p, int kmax, int smax, int dil)
{
	p->kh = rr(1, kmax);
	p->kw = rr(1, kmax);
	p->sh = rr(1, smax);
	p->sw = rr(1, smax);
	p->dh = dil ? rr(1, 2) : 1;
	p->dw = dil ? rr(1, 2) : 1;
	int ekh = (p->kh - 1) * p->dh + 1, ekw = (p->kw - 1) * p->dw + 1;
	p->ih = rr(ekh, ekh + 14);
	p->iw = rr(ekw, ekw + 14);
	if (rr(0, 1)) {
		/* SAME, possibly asymmetric */
		p->oh = (p->ih + p->sh - 1) / p->sh;
		p->ow = (p->iw + p->sw - 1) / p->sw;
		int ph = (p->oh - 1) * p->sh + ekh - p->ih, pw = (p->ow - 1) * p->sw + ekw - p->iw;
		p->pad_t = ph > 0 ? ph / 2 : 0;
		p->pad_l = pw > 0 ? pw / 2 : 0;
	} else if (rr(0, 1)) {
		p->pad_t = p->pad_l = 0;
		p->oh = out_dim(p->ih, p->kh, p->sh, p->dh, 0);
		p->ow = out_dim(p->iw, p->kw, p->sw, p->dw, 0);
	} else {
		p->pad_t = rr(0, p->kh - 1);
		p->pad_l = rr(0, p->kw - 1);
		p->oh = out_dim(p->ih, p->kh, p->sh, p->dh, p->pad_t + rr(0, p->kh - 1));
		p->ow = out_dim(p->iw, p->kw, p->sw, p->dw, p->pad_l + rr(0, p->kw - 1));
	}
}

static void test_conv_random(void **state)
{
	struct rh *h = *state;
	for (int it = 0; it < 12; it++) {
		struct ref_conv p = {0};
		int32_t mult[80], shift[80], bias[80];
		rand_geometry(&p, 5, 3, it % 3 == 2);
		p.ic = rr(1, fit_ic(h, p.kh * p.kw, 40));
		p.oc = rr(1, 2 * h->p.cols + 5);
		p.in_off = -rand_zp();
		p.out_zp = rand_zp();
		rand_act(&p);
		rand_quant(p.oc, mult, shift, bias);
		p.mult = mult;
		p.shift = shift;
		p.bias = it % 4 == 3 ? NULL : bias;
		run_layer(h, QNPU_OP_CONV, &p, rr(0, 1) ? 0 : rr(1, 3), rr(1, 3));
	}
}

/* Bands of one row, several IC chunks and channel tiles: tile borders. */
static void test_conv_tiled(void **state)
{
	struct rh *h = *state;
	struct ref_conv p = {0};
	int32_t mult[128], shift[128], bias[128];
	p.ih = p.iw = 17;
	p.ic = fit_ic(h, 9, 19);
	if (p.ic < 3) {
		print_message("skipped: WBUF holds %d input channels of 3x3 weights, "
			      "fewer than the 3 IC chunks\n", p.ic);
		skip();
	}
	p.oc = h->p.cols * 2 + 3;
	p.kh = p.kw = 3;
	p.sh = p.sw = 2;
	p.dh = p.dw = 1;
	p.oh = p.ow = 9;
	p.pad_t = p.pad_l = 1;
	p.in_off = 128;
	p.out_zp = -128;
	p.act_min = -128;
	p.act_max = 127;
	rand_quant(p.oc, mult, shift, bias);
	p.mult = mult;
	p.shift = shift;
	p.bias = bias;
	run_layer(h, QNPU_OP_CONV, &p, 1, 3);
}

/* FULLY_CONNECTED: a 1x1 convolution over a 1 x batches "image". */
static void test_fc(void **state)
{
	struct rh *h = *state;
	for (int it = 0; it < 4; it++) {
		struct ref_conv p = {0};
		int32_t mult[300], shift[300], bias[300];
		int batches = it == 0 ? 1 : rr(1, 20);
		p.ih = p.oh = 1;
		p.iw = p.ow = batches;
		p.ic = it == 1 ? fit_ic(h, 1, 640) : rr(1, fit_ic(h, 1, 300));
		p.oc = rr(1, 130);
		p.kh = p.kw = p.sh = p.sw = p.dh = p.dw = 1;
		p.in_off = -rand_zp();
		p.out_zp = rand_zp();
		rand_act(&p);
		rand_quant(p.oc, mult, shift, bias);
		/* FC is per-tensor: one multiplier broadcast to every channel */
		for (int i = 1; i < p.oc; i++) {
			mult[i] = mult[0];
			shift[i] = shift[0];
		}
		p.mult = mult;
		p.shift = shift;
		p.bias = bias;
		run_layer(h, QNPU_OP_CONV, &p, 0, rr(1, 2));
	}
}

static void test_dwconv_random(void **state)
{
	struct rh *h = *state;
	for (int it = 0; it < 10; it++) {
		struct ref_conv p = {0};
		int32_t mult[512], shift[512], bias[512];
		rand_geometry(&p, 5, 2, it % 4 == 3);
		p.ic = rr(1, 2 * h->p.cols + 3);
		p.dm = it % 3 == 0 ? rr(2, 4) : 1;
		p.oc = p.ic * p.dm;
		p.in_off = -rand_zp();
		p.out_zp = rand_zp();
		rand_act(&p);
		rand_quant(p.oc, mult, shift, bias);
		p.mult = mult;
		p.shift = shift;
		p.bias = bias;
		run_layer(h, QNPU_OP_DWCONV, &p, rr(0, 1) ? 0 : rr(1, 3), 1);
	}
}

static void expect_status(struct rh *h, struct rh_cmd *c, int n, uint32_t status,
			  uint32_t err_cmd);

/* What the compiler's cost model (qnpu_cost.c) predicts for a stream on h. */
static uint64_t cost_cycles(struct rh *h, const struct rh_cmd *c, int n)
{
	struct qnpu_npu_target t = {
		.rows = h->p.rows, .cols = h->p.cols,
		.abuf_bytes = h->p.abuf_bytes, .wbuf_bytes = h->p.wbuf_bytes,
		.pbuf_bytes = h->p.pbuf_bytes, .obuf_bytes = h->p.obuf_bytes,
		.dma_bytes = h->p.dma_bytes, .queue_depth = h->p.queue_depth,
		.mem_latency_cycles = h->p.mem_latency_cycles,
		.mem_bytes_per_cycle = h->p.mem_bytes_per_cycle,
		.mem_outstanding = h->p.mem_outstanding,
		.version_minor = QNPU_VERSION_MINOR,
	};
	uint64_t din, dout;

	return qnpu_npu_stream_cycles(&t, (const struct qnpu_cmd *)c, (size_t)n, &din, &dout);
}

/*
 * The packed vector mode: pixels of fewer than C channels dense in ABUF,
 * column groups computing several pixels per array row (COL_GROUPS).
 */
static void run_packed(struct rh *h, int op, struct ref_conv *p, int groups, int max_band)
{
	const int C = h->p.cols, CW = C / groups;
	int oc = op == QNPU_OP_DWCONV ? p->oc : p->ic;
	size_t in_n = (size_t)p->ih * p->iw * p->ic, out_n = (size_t)p->oh * p->ow * oc;
	size_t f_n = (size_t)p->kh * p->kw * p->oc;
	size_t raw_n = (size_t)((oc + CW - 1) / CW) * ((size_t)p->oh * p->ow / groups + p->oh + 1) * C;
	int8_t *in, *f = NULL, *raw;
	uint64_t in_va = rh_alloc(h, in_n, 0, (void **)&in);
	uint64_t raw_va = rh_alloc(h, raw_n, 1, (void **)&raw);
	uint64_t f_va = 0;
	fill(in, in_n);
	if (op == QNPU_OP_DWCONV) {
		f_va = rh_alloc(h, f_n, 0, (void **)&f);
		fill(f, f_n);
	}
	int8_t *ref = malloc(out_n), *out = malloc(out_n);
	if (op == QNPU_OP_DWCONV)
		ref_dwconv(p, in, f, ref);
	else
		ref_pool(p, op == QNPU_OP_AVGPOOL, in, ref);
	struct emit e;
	int band = 0;
	emit_init(&e);
	assert_int_equal(lower_layer_packed(h, &e, op, p, in_va, f_va, raw_va, max_band, groups,
					    &band), 0);
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, e.c, e.n, MAX_CYCLES, &cqe), 0);
	if (cqe.status)
		print_error("status %u at command %u of %d\n", cqe.status, cqe.err_cmd, e.n);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	/* the raw OBUF words back to NHWC */
	size_t o = 0;
	for (int oy0 = 0; oy0 < p->oh; oy0 += band) {
		int bh = p->oh - oy0 < band ? p->oh - oy0 : band, npx = bh * p->ow;
		for (int oc0 = 0; oc0 < oc; oc0 += CW) {
			for (int j = 0; j < npx; j++)
				for (int cw = 0; cw < CW && oc0 + cw < oc; cw++)
					out[((size_t)oy0 * p->ow + j) * oc + oc0 + cw] =
						raw[o + (size_t)(j / groups) * C + (j % groups) * CW + cw];
			o += (size_t)(npx + groups - 1) / groups * C;
		}
	}
	assert_true(o <= raw_n);
	size_t bad = 0;
	for (size_t i = 0; i < out_n; i++)
		if (out[i] != ref[i] && bad++ < 5)
			print_error("packed op %#x groups %d out[%zu] = %d, expected %d\n", op, groups, i,
				    out[i], ref[i]);
	assert_int_equal(bad, 0);
	if (op == QNPU_OP_DWCONV)
		assert_int_equal(cqe.macs, (uint64_t)p->oh * p->ow * p->oc * p->kh * p->kw);
	/* the cost model predicts it exactly (the PPU drains ceil(NPIX / groups) rows) */
	assert_int_equal(cost_cycles(h, e.c, e.n), cqe.cycles);
	free(ref);
	free(out);
	emit_free(&e);
}

static void test_packed_random(void **state)
{
	struct rh *h = *state;
	const int C = h->p.cols;
	for (int it = 0; it < 18; it++) {
		struct ref_conv p = {0};
		int32_t mult[512], shift[512], bias[512];
		int op = it % 6 == 4 ? QNPU_OP_MAXPOOL : it % 6 == 5 ? QNPU_OP_AVGPOOL :
			 QNPU_OP_DWCONV;
		int groups = op == QNPU_OP_AVGPOOL ? 1 : 1 << (it % 2);
		rand_geometry(&p, 5, 2, op == QNPU_OP_DWCONV && it % 4 == 3);
		if (op != QNPU_OP_DWCONV)
			p.dh = p.dw = 1;
		/* channels dividing C: 1, 2, ... C */
		p.ic = 1 << rr(0, __builtin_ctz((unsigned)C));
		p.dm = op == QNPU_OP_DWCONV && it % 2 ? rr(2, 8) : 1;
		p.oc = p.ic * p.dm;
		p.in_off = -rand_zp();
		p.out_zp = rand_zp();
		rand_act(&p);
		rand_quant(p.oc, mult, shift, bias);
		p.mult = mult;
		p.shift = shift;
		p.bias = bias;
		run_packed(h, op, &p, groups, rr(0, 1) ? 0 : rr(1, 3));
	}
}

/* Person detection's first layer: 1 channel, depth multiplier 8, 2 groups. */
static void test_packed_dm8(void **state)
{
	struct rh *h = *state;
	struct ref_conv p = {0};
	int32_t mult[8], shift[8], bias[8];
	p.ih = p.iw = 23;
	p.ic = 1;
	p.dm = 8;
	p.oc = 8;
	p.kh = p.kw = 3;
	p.sh = p.sw = 2;
	p.dh = p.dw = 1;
	p.oh = p.ow = 12;
	p.pad_t = p.pad_l = 1;
	p.in_off = 128;
	p.out_zp = -128;
	p.act_min = -128;
	p.act_max = 127;
	rand_quant(p.oc, mult, shift, bias);
	p.mult = mult;
	p.shift = shift;
	p.bias = bias;
	run_packed(h, QNPU_OP_DWCONV, &p, h->p.cols >= 16 ? 2 : 1,
		   0);
}

/* The new fields, each out of range or in a combination it does not have. */
static void test_packed_fields(void **state)
{
	struct rh *h = *state;
	const uint32_t R = h->p.rows, C = h->p.cols;
	uint64_t va = rh_alloc(h, 64, 0, NULL);
	struct rh_cmd c[2], *k = &c[1];
	rh_load(&c[0], QNPU_BUF_ABUF, va, 0, 64, 1, 0, 0);
	memset(k, 0, sizeof(*k));
	RH_SET(k, OPCODE, QNPU_OP_MAXPOOL);
	RH_SET(k, PACKED, 1);
	RH_SET(k, NPIX, 1);
	RH_SET(k, NCOLS, 2);
	RH_SET(k, KH, 1);
	RH_SET(k, KW, 1);
	RH_SET(k, STRIDE_H, 1);
	RH_SET(k, STRIDE_W, 1);
	RH_SET(k, DIL_H, 1);
	RH_SET(k, DIL_W, 1);
	RH_SET(k, IC, 1);
	RH_SET(k, OUT_W, 1);
	RH_SET(k, IN_H, 1);
	RH_SET(k, IN_W, 1);
	RH_SET(k, A_ADDR, C - 2);	/* the last two bytes of word 0 */
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	RH_SET(k, A_ADDR, C - 1);	/* two columns past the word's end */
	expect_status(h, c, 2, QNPU_STATUS_ALIGN, 1);
	RH_SET(k, A_ADDR, 0);
	/* groups: two at most */
	for (uint32_t g = 2; g < 8; g++) {
		RH_SET(k, COL_GROUPS, g);
		expect_status(h, c, 2, g == 2 ? QNPU_STATUS_OK : QNPU_STATUS_BAD_FIELD,
			      g == 2 ? 0 : 1);
	}
	/* NPIX up to R per group, NCOLS up to C per group */
	RH_SET(k, COL_GROUPS, 2);
	RH_SET(k, IN_W, 2 * R + 1);
	RH_SET(k, OUT_W, 2 * R + 1);
	RH_SET(k, NPIX, 2 * R);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	if (2 * R + 1 <= 255) {
		RH_SET(k, NPIX, 2 * R + 1);
		expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	}
	RH_SET(k, NPIX, 1);
	RH_SET(k, NCOLS, C / 2);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	RH_SET(k, NCOLS, C / 2 + 1);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, NCOLS, 1);
	/* groups need PACKED, and not AVGPOOL */
	RH_SET(k, PACKED, 0);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, PACKED, 1);
	RH_SET(k, OPCODE, QNPU_OP_AVGPOOL);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, COL_GROUPS, 0);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	/* PACKED is for vector operations only */
	RH_SET(k, OPCODE, QNPU_OP_CONV);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, OPCODE, QNPU_OP_ADD);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	/* groups do not take a fused residual */
	RH_SET(k, OPCODE, QNPU_OP_DWCONV);
	RH_SET(k, COL_GROUPS, 2);
	RH_SET(k, DRAIN, 1);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	RH_SET(k, RES, 1);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, RES, 0);
	/* the PPU writes ceil(NPIX / groups) rows: the last one must be in OBUF */
	RH_SET(k, NPIX, 2 * R);
	RH_SET(k, O_STRIDE, 1);
	RH_SET(k, O_ADDR, h->p.obuf_bytes / C - R);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	RH_SET(k, O_ADDR, h->p.obuf_bytes / C - R + 1);
	expect_status(h, c, 2, QNPU_STATUS_SRAM_RANGE, 1);
}

/*
 * A fused residual ADD (RES): CONV or DWCONV whose PPU adds a residual
 * tensor with TFLite's int8 ADD arithmetic; the reference is the layer
 * followed by ADD.
 */
static void test_res_random(void **state)
{
	struct rh *h = *state;
	for (int it = 0; it < 12; it++) {
		int op = it % 3 == 2 ? QNPU_OP_DWCONV : QNPU_OP_CONV;
		struct ref_conv p = {0};
		struct ref_add a;
		int32_t mult[512], shift[512], bias[512];
		rand_geometry(&p, 3, 2, 0);
		p.ic = rr(1, op == QNPU_OP_CONV ? fit_ic(h, p.kh * p.kw, 2 * h->p.cols + 3) :
					       2 * (int)h->p.cols + 3);
		p.dm = 1;
		p.oc = op == QNPU_OP_DWCONV ? p.ic : rr(1, 2 * h->p.cols + 5);
		p.in_off = -rand_zp();
		p.out_zp = rand_zp();
		rand_act(&p);
		rand_quant(p.oc, mult, shift, bias);
		p.mult = mult;
		p.shift = shift;
		p.bias = bias;
		a.off_a = -p.out_zp;
		a.off_b = -rand_zp();
		a.lshift = 20;
		a.mult_a = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		a.mult_b = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		a.shift_a = -rr(0, 3);
		a.shift_b = -rr(0, 3);
		a.mult_o = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		a.shift_o = -rr(15, 22);
		a.out_zp = rand_zp();
		a.act_min = rr(0, 3) ? -128 : rr(-128, 0);
		a.act_max = rr(0, 3) ? 127 : rr(0, 127);

		size_t in_n = (size_t)p.ih * p.iw * p.ic, out_n = (size_t)p.oh * p.ow * p.oc;
		size_t f_n = op == QNPU_OP_CONV ? (size_t)p.oc * p.kh * p.kw * p.ic :
			     (size_t)p.kh * p.kw * p.oc;
		int8_t *in, *f, *r, *out, *conv = malloc(out_n), *ref = malloc(out_n);
		uint64_t in_va = rh_alloc(h, in_n, 0, (void **)&in);
		uint64_t f_va = rh_alloc(h, f_n, 0, (void **)&f);
		uint64_t r_va = rh_alloc(h, out_n, 0, (void **)&r);
		uint64_t out_va = rh_alloc(h, out_n, 1, (void **)&out);
		fill(in, in_n);
		fill(f, f_n);
		fill(r, out_n);
		memset(out, 0x5a, out_n);
		if (op == QNPU_OP_CONV)
			ref_conv(&p, in, f, conv);
		else
			ref_dwconv(&p, in, f, conv);
		ref_add(&a, (int)out_n, conv, r, ref);

		struct emit e;
		emit_init(&e);
		assert_int_equal(lower_layer_res(h, &e, op, &p, in_va, f_va, out_va,
						 rr(0, 1) ? 0 : rr(1, 3),
						 op == QNPU_OP_CONV ? rr(1, 2) : 1, &a, r_va), 0);
		struct rh_cqe cqe;
		assert_int_equal(rh_run(h, e.c, e.n, MAX_CYCLES, &cqe), 0);
		if (cqe.status)
			print_error("status %u at command %u of %d\n", cqe.status, cqe.err_cmd, e.n);
		assert_int_equal(cqe.status, QNPU_STATUS_OK);
		size_t bad = 0;
		for (size_t i = 0; i < out_n; i++)
			if (out[i] != ref[i] && bad++ < 5)
				print_error("res op %#x out[%zu] = %d, expected %d\n", op, i,
					    out[i], ref[i]);
		assert_int_equal(bad, 0);
		/* the compiler's cost model (qnpu_cost.c) predicts the RTL exactly */
		assert_int_equal(cost_cycles(h, e.c, e.n), cqe.cycles);
		/* the residual step is no MAC */
		assert_int_equal(cqe.macs, (uint64_t)p.oh * p.ow * p.oc * p.kh * p.kw *
					   (op == QNPU_OP_CONV ? p.ic : 1));
		emit_free(&e);
		free(conv);
		free(ref);
	}
}

static void test_pool_random(void **state)
{
	struct rh *h = *state;
	for (int it = 0; it < 12; it++) {
		struct ref_conv p = {0};
		rand_geometry(&p, 4, 3, 0);
		p.ic = p.oc = rr(1, 2 * h->p.cols + 3);
		p.dh = p.dw = p.dm = 1;
		rand_act(&p);
		run_layer(h, it & 1 ? QNPU_OP_AVGPOOL : QNPU_OP_MAXPOOL, &p, rr(0, 1) ? 0 : 2, 1);
	}
}

static void test_add_random(void **state)
{
	struct rh *h = *state;
	for (int it = 0; it < 6; it++) {
		int n = it == 0 ? 40000 : rr(1, 3000);
		struct ref_add p;
		p.off_a = -rand_zp();
		p.off_b = -rand_zp();
		p.lshift = 20;
		p.mult_a = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		p.mult_b = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		p.shift_a = -rr(0, 3);
		p.shift_b = -rr(0, 3);
		p.mult_o = (int32_t)(0x40000000u + (rnd() & 0x3fffffff));
		p.shift_o = -rr(15, 22);
		p.out_zp = rand_zp();
		p.act_min = rr(0, 3) ? -128 : rr(-128, 0);
		p.act_max = rr(0, 3) ? 127 : rr(0, 127);
		int8_t *a, *b, *out, *ref = malloc(n);
		uint64_t va = rh_alloc(h, n, 0, (void **)&a), vb = rh_alloc(h, n, 0, (void **)&b);
		uint64_t vo = rh_alloc(h, n, 1, (void **)&out);
		fill(a, n);
		fill(b, n);
		ref_add(&p, n, a, b, ref);
#ifdef QNPU_HAVE_CPU_KERNELS
		{
			struct qnpu_add_params c = {
				.left_shift = p.lshift, .in1_offset = p.off_a, .in1_mult = p.mult_a,
				.in1_shift = p.shift_a, .in2_offset = p.off_b, .in2_mult = p.mult_b,
				.in2_shift = p.shift_b, .out_offset = p.out_zp, .out_mult = p.mult_o,
				.out_shift = p.shift_o, .act_min = p.act_min, .act_max = p.act_max};
			int8_t *cpu = malloc(n);
			qnpu_cpu_add(&c, n, a, b, cpu);
			assert_memory_equal(cpu, ref, n);
			free(cpu);
		}
#endif
		struct emit e;
		emit_init(&e);
		assert_int_equal(lower_add(h, &e, &p, n, va, vb, vo), 0);
		struct rh_cqe cqe;
		assert_int_equal(rh_run(h, e.c, e.n, MAX_CYCLES, &cqe), 0);
		if (cqe.status)
			print_error("status %u at command %u of %d\n", cqe.status, cqe.err_cmd, e.n);
		assert_int_equal(cqe.status, QNPU_STATUS_OK);
		assert_memory_equal(out, ref, n);
		assert_int_equal(cqe.macs, 0);
		assert_int_equal(cqe.dma_out, (uint64_t)n);
		emit_free(&e);
		free(ref);
	}
}

/* The fixed-point helpers against hand-checked TFLite values. */
static void test_ref_mbqm(void **state)
{
	(void)state;
	assert_int_equal(ref_mbqm(100, 1 << 30, 0), 50);
	assert_int_equal(ref_mbqm(-3, 1 << 30, -1), -1);	/* -0.75 rounds to -1 */
	assert_int_equal(ref_mbqm(5, 1 << 30, 0), 3);		/* 2.5 away from zero */
	assert_int_equal(ref_mbqm(INT32_MIN, INT32_MIN, 0), INT32_MAX);
	assert_int_equal(ref_mbqm(1 << 20, 0x7fffffff, 3), 8388608);
}

/* ---- MMU ---- */

static struct rh_cmd copy_cmds[3];

/* LOAD src -> ABUF, CONV-free copy through OBUF is not possible, so use a
 * 1x1 max pool (identity) to move bytes ABUF -> OBUF, then STORE. */
static int make_copy(struct rh *h, uint64_t src, uint64_t dst, int n)
{
	const int C = h->p.cols;
	rh_load(&copy_cmds[0], QNPU_BUF_ABUF, src, 0, n, 1, 0, 0);
	RH_SET(&copy_cmds[0], PUSH_NEXT, 1);
	struct rh_cmd *c = &copy_cmds[1];
	memset(c, 0, sizeof(*c));
	RH_SET(c, OPCODE, QNPU_OP_MAXPOOL);
	RH_SET(c, POP_PREV, 1);
	RH_SET(c, PUSH_NEXT, 1);
	RH_SET(c, ACC_CLEAR, 1);
	RH_SET(c, DRAIN, 1);
	RH_SET(c, PIX_STRIDE, C);
	RH_SET(c, IN_H, 1);
	RH_SET(c, IN_W, 65535);
	RH_SET(c, OUT_W, 65535);
	RH_SET(c, NPIX, (n + C - 1) / C);
	RH_SET(c, NCOLS, C);
	RH_SET(c, KH, 1);
	RH_SET(c, KW, 1);
	RH_SET(c, STRIDE_H, 1);
	RH_SET(c, STRIDE_W, 1);
	RH_SET(c, DIL_H, 1);
	RH_SET(c, DIL_W, 1);
	RH_SET(c, ACT_MIN, -128);
	RH_SET(c, ACT_MAX, 127);
	RH_SET(c, O_STRIDE, 1);
	rh_store(&copy_cmds[2], dst, 0, n, 1, 0, 0);
	RH_SET(&copy_cmds[2], POP_PREV, 1);
	return 3;
}

/* After what a test did to the device, a copy of @n bytes @vs -> @vd
 * still runs cleanly; then the device goes. */
static void copy_clean_fini(struct rh *h, uint64_t vs, uint64_t vd,
			    const int8_t *s, int8_t *d, int n)
{
	struct rh_cqe cqe;

	memset(d, 0, (size_t)n);
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, vs, vd, n), MAX_CYCLES, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	assert_memory_equal(s, d, (size_t)n);
	rh_fini(h);
	free(h);
}

static void test_copy_ok(void **state)
{
	struct rh *h = *state;
	int8_t *s, *d;
	int n = h->p.cols * 3 + 5;
	uint64_t vs = rh_alloc(h, n, 0, (void **)&s), vd = rh_alloc(h, n, 1, (void **)&d);
	fill(s, n);
	struct rh_cqe cqe;
	int irqs = h->irqs;
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, vs, vd, n), 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	assert_int_equal(cqe.job_id, h->job_id);
	assert_memory_equal(s, d, n);
	assert_int_equal(h->irqs, irqs + 1);
	assert_int_equal(qnpu_hw_irq_level(h->hw), 0);
}

/* SRAM contents do not survive a job: a job that computes on ABUF without
 * loading it reads zeros, not the previous job's data. */
static void test_sram_no_leak(void **state)
{
	struct rh *h = *state;
	int8_t *s, *d;
	int n = h->p.cols * 2;
	uint64_t vs = rh_alloc(h, n, 0, (void **)&s), vd = rh_alloc(h, n, 1, (void **)&d);
	memset(s, 0x77, n);
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, vs, vd, n), 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	assert_int_equal((uint8_t)d[0], 0x77);
	memset(d, 0x11, n);
	make_copy(h, vs, vd, n);
	RH_SET(&copy_cmds[1], POP_PREV, 0); /* no LOAD: compute on what ABUF holds */
	assert_int_equal(rh_run(h, &copy_cmds[1], 2, 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(d[i], 0);
}

static void test_mmu_unmapped_read(void **state)
{
	struct rh *h = *state;
	int8_t *s, *d;
	uint64_t vs = rh_alloc(h, 4096, 0, (void **)&s), vd = rh_alloc(h, 64, 1, (void **)&d);
	memset(d, 0x33, 64);
	rh_set_pte(h, vs, 0, 0);
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, vs + 16, vd, 64), 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_FAULT);
	assert_int_equal(cqe.err_cmd, 0);
	assert_int_equal(cqe.fault_va, vs + 16);
	assert_int_equal((cqe.fault_info & QNPU_FAULT_INFO_REASON_MASK) >> QNPU_FAULT_INFO_REASON_SHIFT,
			 QNPU_FAULT_UNMAPPED);
	assert_int_equal(cqe.fault_info & QNPU_FAULT_INFO_WRITE_MASK, 0);
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_FAULT_VA_LO), (uint32_t)(vs + 16));
	for (int i = 0; i < 64; i++)
		assert_int_equal((uint8_t)d[i], 0x33);
}

static void test_mmu_unmapped_write(void **state)
{
	struct rh *h = *state;
	int8_t *s, *d;
	uint64_t vs = rh_alloc(h, 64, 0, (void **)&s), vd = rh_alloc(h, 8192, 1, (void **)&d);
	memset(d, 0x44, 8192);
	/* a burst across two pages whose second page is unmapped: nothing of
	 * it may be written */
	rh_set_pte(h, vd + 4096, 0, 0);
	uint64_t w0 = h->mem_writes;
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, vs, vd + 4096 - 20, 64), 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_FAULT);
	assert_int_equal(cqe.err_cmd, 2);
	assert_int_equal(cqe.fault_va, vd + 4096);
	assert_int_equal((cqe.fault_info & QNPU_FAULT_INFO_REASON_MASK) >> QNPU_FAULT_INFO_REASON_SHIFT,
			 QNPU_FAULT_UNMAPPED);
	assert_true(cqe.fault_info & QNPU_FAULT_INFO_WRITE_MASK);
	assert_int_equal(h->mem_writes, w0);
	for (int i = 0; i < 4096; i++)
		assert_int_equal((uint8_t)d[i], 0x44);
}

static void test_mmu_readonly_write(void **state)
{
	struct rh *h = *state;
	int8_t *s, *d;
	uint64_t vs = rh_alloc(h, 64, 0, (void **)&s), vd = rh_alloc(h, 64, 0, (void **)&d);
	memset(d, 0x55, 64);
	uint64_t w0 = h->mem_writes;
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, vs, vd, 64), 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_FAULT);
	assert_int_equal(cqe.fault_va, vd);
	assert_int_equal((cqe.fault_info & QNPU_FAULT_INFO_REASON_MASK) >> QNPU_FAULT_INFO_REASON_SHIFT,
			 QNPU_FAULT_READONLY);
	assert_int_equal(h->mem_writes, w0);
	for (int i = 0; i < 64; i++)
		assert_int_equal((uint8_t)d[i], 0x55);
	/* the device still works */
	test_copy_ok(state);
}

static void test_mmu_va_range(void **state)
{
	struct rh *h = *state;
	int8_t *d;
	uint64_t vd = rh_alloc(h, 64, 1, (void **)&d);
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, copy_cmds, make_copy(h, 1ull << 39, vd, 64), 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_FAULT);
	assert_int_equal((cqe.fault_info & QNPU_FAULT_INFO_REASON_MASK) >> QNPU_FAULT_INFO_REASON_SHIFT,
			 QNPU_FAULT_VA_RANGE);
}

/* ---- malformed commands ---- */

static void expect_status(struct rh *h, struct rh_cmd *c, int n, uint32_t status, uint32_t err_cmd)
{
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, c, n, 200000, &cqe), 0);
	assert_int_equal(cqe.status, status);
	assert_int_equal(cqe.err_cmd, err_cmd);
	assert_true(qnpu_hw_is_idle(h->hw));
}

static void test_bad_opcode(void **state)
{
	struct rh *h = *state;
	struct rh_cmd c[3];
	uint64_t va = rh_alloc(h, 64, 0, NULL);
	rh_load(&c[0], QNPU_BUF_ABUF, va, 0, 64, 1, 0, 0);
	memset(&c[1], 0, sizeof(c[1]));
	RH_SET(&c[1], OPCODE, 0x7e);
	rh_load(&c[2], QNPU_BUF_ABUF, va, 0, 64, 1, 0, 0);
	expect_status(h, c, 3, QNPU_STATUS_BAD_OPCODE, 1);
}

static void test_bad_fields(void **state)
{
	struct rh *h = *state;
	uint64_t va = rh_alloc(h, 64, 0, NULL);
	struct rh_cmd c[2];
	/* token flag that the engine cannot have */
	rh_load(&c[0], QNPU_BUF_ABUF, va, 0, 64, 1, 0, 0);
	RH_SET(&c[0], POP_PREV, 1);
	expect_status(h, c, 1, QNPU_STATUS_BAD_FIELD, 0);
	/* zero rows */
	rh_load(&c[0], QNPU_BUF_WBUF, va, 0, 64, 0, 0, 0);
	expect_status(h, c, 1, QNPU_STATUS_BAD_FIELD, 0);
	/* unknown buffer */
	rh_load(&c[0], 7, va, 0, 64, 1, 0, 0);
	expect_status(h, c, 1, QNPU_STATUS_BAD_FIELD, 0);
	/* loads and stores that end exactly at the last word are fine */
	for (int b = QNPU_BUF_ABUF; b <= QNPU_BUF_PBUF; b++) {
		uint32_t bytes = b == QNPU_BUF_ABUF ? h->p.abuf_bytes :
				 b == QNPU_BUF_WBUF ? h->p.wbuf_bytes : h->p.pbuf_bytes;
		rh_load(&c[0], b, va, 0, 64, 1, bytes / h->p.cols - 64 / h->p.cols, 0);
		expect_status(h, c, 1, QNPU_STATUS_OK, 0);
	}
	rh_store(&c[0], va, 0, h->p.cols, 2, h->p.obuf_bytes / h->p.cols - 2, 1);
	{
		uint64_t wva = rh_alloc(h, 64, 1, NULL);
		RH_SET(&c[0], DRAM_LO, (uint32_t)wva);
		RH_SET(&c[0], DRAM_HI, (uint32_t)(wva >> 32));
		RH_SET(&c[0], DRAM_STRIDE, h->p.cols);
		expect_status(h, c, 1, QNPU_STATUS_OK, 0);
	}
	/* load past the end of PBUF */
	rh_load(&c[0], QNPU_BUF_PBUF, va, 0, 64, 1, h->p.pbuf_bytes / h->p.cols - 1, 0);
	expect_status(h, c, 1, QNPU_STATUS_SRAM_RANGE, 0);
	/* store past the end of OBUF */
	rh_store(&c[0], va, 0, 64, 2, h->p.obuf_bytes / h->p.cols - 1, 1);
	expect_status(h, c, 1, QNPU_STATUS_SRAM_RANGE, 0);
	/* conv with npix > rows */
	struct rh_cmd *k = &c[1];
	rh_load(&c[0], QNPU_BUF_ABUF, va, 0, 64, 1, 0, 0);
	memset(k, 0, sizeof(*k));
	RH_SET(k, OPCODE, QNPU_OP_CONV);
	RH_SET(k, NPIX, h->p.rows + 1);
	RH_SET(k, NCOLS, 1);
	RH_SET(k, KH, 1);
	RH_SET(k, KW, 1);
	RH_SET(k, STRIDE_H, 1);
	RH_SET(k, STRIDE_W, 1);
	RH_SET(k, DIL_H, 1);
	RH_SET(k, DIL_W, 1);
	RH_SET(k, IC, 1);
	RH_SET(k, OUT_W, 1);
	RH_SET(k, IN_H, 1);
	RH_SET(k, IN_W, 1);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	/* conv reading ABUF out of range */
	RH_SET(k, NPIX, 1);
	RH_SET(k, A_ADDR, h->p.abuf_bytes - 1);
	RH_SET(k, IC, 2);
	expect_status(h, c, 2, QNPU_STATUS_SRAM_RANGE, 1);
	/* vector mode with a misaligned address */
	RH_SET(k, OPCODE, QNPU_OP_MAXPOOL);
	RH_SET(k, A_ADDR, 3);
	expect_status(h, c, 2, QNPU_STATUS_ALIGN, 1);
	/* descriptor with no commands */
	rh_submit(h, rh_put_cmds(h, c, 1), 0, 0);
	assert_int_equal(qnpu_hw_run_until_idle(h->hw, 1000), 0);
	struct rh_cqe cqe;
	assert_int_equal(rh_reap(h, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_BAD_DESC);
}

static void test_deadlock(void **state)
{
	struct rh *h = *state;
	struct rh_cmd c[2];
	memset(c, 0, sizeof(c));
	/* a compute waiting for a load token that no load will give */
	RH_SET(&c[0], OPCODE, QNPU_OP_SYNC);
	RH_SET(&c[0], POP_PREV, 1);
	expect_status(h, c, 1, QNPU_STATUS_DEADLOCK, 0);
	/* a store waiting for compute, compute waiting for the store */
	rh_store(&c[0], 0, 0, 1, 1, 0, 0);
	RH_SET(&c[0], POP_PREV, 1);
	memset(&c[1], 0, sizeof(c[1]));
	RH_SET(&c[1], OPCODE, QNPU_OP_SYNC);
	RH_SET(&c[1], POP_NEXT, 1);
	RH_SET(&c[1], PUSH_NEXT, 1);
	expect_status(h, c, 2, QNPU_STATUS_DEADLOCK, 0);
}

static void test_token_overflow(void **state)
{
	struct rh *h = *state;
	struct rh_cmd c[300];
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 300; i++) {
		RH_SET(&c[i], OPCODE, QNPU_OP_SYNC);
		RH_SET(&c[i], PUSH_NEXT, 1);
	}
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, c, 300, 100000, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_TOKEN_OVERFLOW);
}

/* A long job, interrupted by a reset; the device then runs the next job. */
static void test_reset_mid_job(void **state)
{
	struct rh *h = *state;
	struct ref_conv p = {.ih = 20, .iw = 20, .ic = fit_ic(h, 9, 32), .oh = 20, .ow = 20,
			     .oc = 32, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
			     .pad_t = 1, .pad_l = 1, .act_min = -128, .act_max = 127};
	int32_t mult[32], shift[32];
	rand_quant(32, mult, shift, NULL);
	p.mult = mult;
	p.shift = shift;
	uint64_t in = rh_alloc(h, 20 * 20 * p.ic, 0, NULL), out = rh_alloc(h, 20 * 20 * 32, 1, NULL);
	uint64_t f = rh_alloc(h, 32 * 9 * p.ic, 0, NULL);
	struct emit e;
	emit_init(&e);
	assert_int_equal(lower_layer(h, &e, QNPU_OP_CONV, &p, in, f, out, 0, 1), 0);
	rh_submit(h, rh_put_cmds(h, e.c, e.n), e.n, 0);
	qnpu_hw_step(h->hw, 3000);
	assert_false(qnpu_hw_is_idle(h->hw));
	uint32_t req = qnpu_hw_reg_read32(h->hw, QNPU_REG_RESET_REQ) + 1;
	qnpu_hw_reg_write32(h->hw, QNPU_REG_RESET_REQ, req);
	qnpu_hw_doorbell(h->hw);
	assert_true(qnpu_hw_is_idle(h->hw));
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_RESET_ACK), req);
	struct rh_cqe cqe;
	assert_int_equal(rh_reap(h, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_ABORTED);
	assert_int_equal(cqe.job_id, h->job_id);
	emit_free(&e);
	test_copy_ok(state);
}

/* A reset requested from the poll hook ends a long job inside
 * run_until_idle, as a co-simulation server receiving a doorbell would. */
static int poll_calls;
static void poll_reset(void *ctx)
{
	struct rh *h = ctx;
	if (++poll_calls == 3) {
		qnpu_hw_reg_write32(h->hw, QNPU_REG_RESET_REQ,
				    qnpu_hw_reg_read32(h->hw, QNPU_REG_RESET_ACK) + 1);
		qnpu_hw_doorbell(h->hw);
	}
}

static void test_poll_reset(void **state)
{
	struct rh *h = *state;
	struct rh_cmd c[64];
	uint64_t va = rh_alloc(h, h->p.abuf_bytes, 0, NULL);
	for (int i = 0; i < 64; i++)
		rh_load(&c[i], QNPU_BUF_ABUF, va, 4096, 4096, h->p.abuf_bytes / 4096, 0, 4096 / h->p.cols);
	poll_calls = 0;
	qnpu_hw_set_poll(h->hw, poll_reset, h, 1000);
	rh_submit(h, rh_put_cmds(h, c, 64), 64, 0);
	assert_int_equal(qnpu_hw_run_until_idle(h->hw, 10000000), 0);
	assert_int_equal(poll_calls, 3);
	struct rh_cqe cqe;
	assert_int_equal(rh_reap(h, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_ABORTED);
	assert_int_equal(cqe.cycles, 3000);
	qnpu_hw_set_poll(h->hw, NULL, NULL, 0);
	test_copy_ok(state);
}

/* Random command streams: every job ends (by itself or by the watchdog)
 * with a defined status, and the device keeps working. */
static void test_random_streams(void **state)
{
	struct rh *h = *state;
	static const uint8_t ops[] = {QNPU_OP_LOAD, QNPU_OP_STORE, QNPU_OP_CONV, QNPU_OP_DWCONV,
				      QNPU_OP_MAXPOOL, QNPU_OP_AVGPOOL, QNPU_OP_ADD,
				      QNPU_OP_SYNC, 0x00, 0x33};
	uint64_t buf = rh_alloc(h, 65536, 1, NULL);
	int seen[16] = {0};
	for (int j = 0; j < 150; j++) {
		struct rh_cmd c[8];
		int n = rr(1, 8);
		for (int i = 0; i < n; i++) {
			for (int w = 0; w < 16; w++)
				c[i].w[w] = rnd();
			/* small fields most of the time, so that some commands run */
			if (rr(0, 2)) {
				for (int w = 1; w < 16; w++)
					c[i].w[w] &= 0x00ff00ffu;
				c[i].w[QNPU_CMD_ROWS_WORD] &= 0x0003003fu;
				c[i].w[QNPU_CMD_KH_WORD] &= 0x0303ffffu;
			}
			if (rr(0, 1)) {
				uint64_t va = buf + (rnd() % 60000);
				RH_SET(&c[i], DRAM_LO, (uint32_t)va);
				RH_SET(&c[i], DRAM_HI, (uint32_t)(va >> 32));
			}
			/* mostly known opcodes, mostly no tokens, valid buffer ids */
			c[i].w[0] &= rr(0, 3) ? 0x00330000u : 0xffffff00u;
			RH_SET(&c[i], OPCODE, ops[rr(0, 20) ? rr(0, 7) : rr(8, 9)]);
		}
		rh_submit(h, rh_put_cmds(h, c, n), n, 64);
		assert_int_equal(qnpu_hw_run_until_idle(h->hw, 64 * 1024 + 10000), 0);
		struct rh_cqe cqe;
		assert_int_equal(rh_reap(h, &cqe), 0);
		assert_true(cqe.status <= QNPU_STATUS_BAD_DESC);
		assert_true(cqe.status != QNPU_STATUS_ABORTED && cqe.status != QNPU_STATUS_BAD_DESC);
		seen[cqe.status]++;
	}
	int kinds = 0;
	for (int i = 0; i <= QNPU_STATUS_TIMEOUT; i++) {
		if (getenv("QNPU_VERBOSE"))
			print_message("status %d: %d jobs\n", i, seen[i]);
		kinds += seen[i] > 0;
	}
	assert_true(kinds >= 3);
	test_copy_ok(state);
}

static void test_watchdog(void **state)
{
	struct rh *h = *state;
	struct ref_conv p = {.ih = 16, .iw = 16, .ic = fit_ic(h, 9, 32), .oh = 16, .ow = 16,
			     .oc = 32, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
			     .pad_t = 1, .pad_l = 1, .act_min = -128, .act_max = 127};
	int32_t mult[32], shift[32];
	rand_quant(32, mult, shift, NULL);
	p.mult = mult;
	p.shift = shift;
	uint64_t in = rh_alloc(h, 16 * 16 * p.ic, 0, NULL), out = rh_alloc(h, 16 * 16 * 32, 1, NULL);
	uint64_t f = rh_alloc(h, 32 * 9 * p.ic, 0, NULL);
	struct emit e;
	emit_init(&e);
	assert_int_equal(lower_layer(h, &e, QNPU_OP_CONV, &p, in, f, out, 0, 1), 0);
	rh_submit(h, rh_put_cmds(h, e.c, e.n), e.n, 1);
	assert_int_equal(qnpu_hw_run_until_idle(h->hw, 100000), 0);
	struct rh_cqe cqe;
	assert_int_equal(rh_reap(h, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_TIMEOUT);
	assert_int_equal(cqe.cycles, 1024);
	emit_free(&e);
}

/* Several jobs queued with one doorbell complete in order. */
static void test_ring_many(void **state)
{
	struct rh *h = *state;
	int8_t *s[5], *d[5];
	uint64_t cv[5];
	int n = h->p.rows * h->p.cols < 100 ? h->p.rows * h->p.cols : 100;
	for (int j = 0; j < 5; j++) {
		uint64_t vs = rh_alloc(h, n, 0, (void **)&s[j]), vd = rh_alloc(h, n, 1, (void **)&d[j]);
		fill(s[j], n);
		cv[j] = rh_put_cmds(h, copy_cmds, make_copy(h, vs, vd, n));
	}
	uint32_t first = h->job_id + 1;
	struct qnpu_hw *hw = h->hw;
	uint32_t tail = qnpu_hw_reg_read32(hw, QNPU_REG_SQ_TAIL);
	for (int j = 0; j < 5; j++) {
		uint32_t off = QNPU_SQ_OFFSET + ((tail + j) % QNPU_SQ_ENTRIES) * QNPU_SQE_BYTES;
		qnpu_hw_reg_write64(hw, off + QNPU_SQE_PT_ROOT, h->pt_root);
		qnpu_hw_reg_write64(hw, off + QNPU_SQE_CMD_VA, cv[j]);
		qnpu_hw_reg_write32(hw, off + QNPU_SQE_CMD_COUNT, 3);
		qnpu_hw_reg_write32(hw, off + QNPU_SQE_JOB_ID, ++h->job_id);
		qnpu_hw_reg_write32(hw, off + QNPU_SQE_MAX_CYCLES, 0);
		qnpu_hw_reg_write32(hw, off + QNPU_SQE_FLAGS, 0);
	}
	/* nothing happens before the doorbell */
	qnpu_hw_reg_write32(hw, QNPU_REG_SQ_TAIL, tail + 5);
	qnpu_hw_step(hw, 100);
	assert_int_equal(qnpu_hw_reg_read32(hw, QNPU_REG_SQ_HEAD), tail);
	qnpu_hw_doorbell(hw);
	assert_int_equal(qnpu_hw_run_until_idle(hw, 1000000), 0);
	for (int j = 0; j < 5; j++) {
		struct rh_cqe cqe;
		assert_int_equal(rh_reap(h, &cqe), 0);
		assert_int_equal(cqe.job_id, first + j);
		assert_int_equal(cqe.status, 0);
		assert_memory_equal(s[j], d[j], n);
	}
	qnpu_hw_reg_write32(hw, QNPU_REG_IRQ_ACK, qnpu_hw_reg_read32(hw, QNPU_REG_IRQ_COUNT));
	qnpu_hw_doorbell(hw);
	assert_int_equal(qnpu_hw_irq_level(hw), 0);
}

/* A tail more than a ring ahead is refused and flagged. */
static void test_ring_overflow(void **state)
{
	struct rh *h = *state;
	struct qnpu_hw *hw = h->hw;
	uint32_t head = qnpu_hw_reg_read32(hw, QNPU_REG_SQ_HEAD);
	qnpu_hw_reg_write32(hw, QNPU_REG_SQ_TAIL, head + QNPU_SQ_ENTRIES + 1);
	qnpu_hw_doorbell(hw);
	assert_true(qnpu_hw_reg_read32(hw, QNPU_REG_STATUS) & QNPU_STATUS_RING_ERR_MASK);
	assert_true(qnpu_hw_is_idle(hw));
	assert_int_equal(qnpu_hw_reg_read32(hw, QNPU_REG_SQ_HEAD), head);
	qnpu_hw_reg_write32(hw, QNPU_REG_SQ_TAIL, head);
	qnpu_hw_doorbell(hw);
	assert_false(qnpu_hw_reg_read32(hw, QNPU_REG_STATUS) & QNPU_STATUS_RING_ERR_MASK);
	test_copy_ok(state);
}

/* The register page can live in caller memory (co-simulation shared
 * memory): the device initialises it and works through it. */
static void test_attach_regs(void **state)
{
	struct rh *h = *state;
	static uint32_t page[1024];
	memset(page, 0xa5, sizeof(page));
	qnpu_hw_attach_regs(h->hw, page);
	assert_ptr_equal(qnpu_hw_regs(h->hw), page);
	assert_int_equal(page[QNPU_REG_MAGIC / 4], QNPU_MAGIC);
	assert_int_equal(page[QNPU_REG_SQ_HEAD / 4], 0);
	assert_int_equal(page[QNPU_REG_CQ_TAIL / 4], 0);
	page[QNPU_REG_CTRL / 4] = QNPU_CTRL_IRQ_EN_MASK;
	test_copy_ok(state);
	assert_int_equal(page[QNPU_REG_TOTAL_JOBS / 4], 1);
	qnpu_hw_attach_regs(h->hw, NULL);
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_MAGIC), QNPU_MAGIC);
}

static void test_id_regs(void **state)
{
	struct rh *h = *state;
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_MAGIC), QNPU_MAGIC);
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_HW_ROWS), g_params.rows);
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_HW_COLS), g_params.cols);
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_ABUF_BYTES), g_params.abuf_bytes);
	assert_int_equal(qnpu_hw_reg_read32(h->hw, QNPU_REG_CMD_BYTES), 64);
}

/*
 * The memory system's model (docs/codesign.md) as seen through the RTL's
 * request/response DMA interface: one LOAD or STORE of `rows` one-word
 * rows, on a device with the given memory; the job's cycles.
 */
static uint64_t dma_job_cycles(int store, uint32_t rows, uint32_t lat, uint32_t bw,
			       uint32_t outstanding)
{
	struct qnpu_hw_params p = g_params;
	struct rh *h = calloc(1, sizeof(*h));
	struct rh_cqe cqe;
	struct rh_cmd c = {{0}};
	uint32_t C = g_params.cols;
	uint64_t va;
	void *host;

	p.mem_latency_cycles = lat;
	p.mem_bytes_per_cycle = bw;
	p.mem_outstanding = outstanding;
	assert_non_null(h);
	assert_int_equal(rh_init(h, &p, 16), 0);
	va = rh_alloc(h, (size_t)rows * C, 1, &host);
	if (store)
		rh_store(&c, va, C, C, rows, 0, 1);
	else
		rh_load(&c, QNPU_BUF_ABUF, va, C, C, rows, 0, 1);
	assert_int_equal(rh_run(h, &c, 1, MAX_CYCLES, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	assert_int_equal(store ? cqe.dma_out : cqe.dma_in, (uint64_t)rows * C);
	rh_fini(h);
	free(h);
	return cqe.cycles;
}

/* What each memory parameter costs, by the model's own rules: a row per
 * port beat (a word every P = C / dma_bytes cycles) on ideal memory; C /
 * bandwidth cycles per word when that is slower than the port; latency
 * paid once per command when requests may run ahead; with N outstanding
 * one-word rows, N rows per latency + 2 cycles (request, data, slot freed)
 * while the port's N beats fit in that time. The differences between 64
 * and 32 rows cancel the fixed costs. */
static void test_memory_model(void **state)
{
	(void)state;
	const uint32_t C = g_params.cols, D = g_params.dma_bytes, P = C / D, N = 4;
	/* latency long enough that N rows' beats do not pace the slots */
	const uint32_t L = 50 > N * P ? 50 : N * P;
	for (int st = 0; st < 2; st++) {
		uint64_t ideal32 = dma_job_cycles(st, 32, 0, 0, 0);
		assert_int_equal(dma_job_cycles(st, 64, 0, 0, 0) - ideal32, 32 * P);
		/* bandwidth below the port's (needs a port of 4 B/cycle or more):
		 * half of it, a word every 2P cycles */
		if (D >= 4) {
			assert_int_equal(dma_job_cycles(st, 64, 0, D / 2, 0) -
					 dma_job_cycles(st, 32, 0, D / 2, 0), 32 * 2 * P);
			/* a quarter: every 4P */
			assert_int_equal(dma_job_cycles(st, 64, 0, D / 4, 0) -
					 dma_job_cycles(st, 32, 0, D / 4, 0), 32 * 4 * P);
		} else {
			print_message("dma_bytes %u < 4: no bandwidth below the port's to test\n",
				      D);
		}
		if (st)	/* writes are posted: no latency */
			assert_int_equal(dma_job_cycles(st, 32, L, 0, 0), ideal32);
		else	/* latency once, requests run ahead */
			assert_int_equal(dma_job_cycles(st, 32, L, 0, 0) - ideal32, L);
	}
	assert_int_equal(dma_job_cycles(0, 64, L, 0, N) - dma_job_cycles(0, 32, L, 0, N),
			 32 / N * (L + 2));
}

/* The device of the tests with memory latency lat (the shipped bandwidth
 * and outstanding limit), its own harness. */
static struct rh *lat_dev(uint32_t lat)
{
	struct qnpu_hw_params p = g_params;
	struct rh *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	p.mem_latency_cycles = lat;
	assert_int_equal(rh_init(h, &p, 16), 0);
	return h;
}

/*
 * k back-to-back LOADs of r rows each into consecutive ABUF words (the
 * last with rows of C - 3 bytes, whose word tails must read zero), copied
 * out through an identity pool and a STORE: the bytes, the counters and
 * the cost model's cycles; returns the job's cycles.
 */
static uint64_t run_loads(uint32_t lat, int k, int r)
{
	struct rh *h = lat_dev(lat);
	const int C = (int)h->p.cols, n = r * k * C;
	struct rh_cmd c[8 + 2];
	struct rh_cqe cqe;
	int8_t *s, *d;
	uint64_t vs = rh_alloc(h, n, 0, (void **)&s), vd = rh_alloc(h, n, 1, (void **)&d);
	uint64_t bytes = 0;

	/* the pool drains at most one pixel per array row */
	assert_true(k >= 1 && k <= 8 && r * k <= (int)h->p.rows);
	fill(s, n);
	make_copy(h, vs, vd, n);
	for (int i = 0; i < k; i++) {
		int rb = i == k - 1 ? C - 3 : C;

		rh_load(&c[i], QNPU_BUF_ABUF, vs + (uint64_t)(r * i * C), C, rb, r, r * i, 1);
		bytes += r * (uint64_t)rb;
	}
	RH_SET(&c[k - 1], PUSH_NEXT, 1);
	c[k] = copy_cmds[1];
	c[k + 1] = copy_cmds[2];
	assert_int_equal(rh_run(h, c, k + 2, MAX_CYCLES, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	for (int i = 0; i < n; i++) {
		int tail = i >= r * (k - 1) * C && i % C >= C - 3;

		assert_int_equal(d[i], tail ? 0 : s[i]);
	}
	assert_int_equal(cqe.dma_in, bytes);
	assert_int_equal(cqe.load_cycles, (uint64_t)(r * k));	/* one beat per row */
	assert_int_equal(cost_cycles(h, c, k + 2), cqe.cycles);
	rh_fini(h);
	free(h);
	return cqe.cycles;
}

/* A LOAD's check and requests overlap the earlier LOADs' data: the engine
 * holds four, so up to four back-to-back LOADs pay the memory latency
 * once, not once each (each run checks the cost model's cycles exactly). */
static void test_load_overlap(void **state)
{
	const uint32_t L = 100;

	(void)state;
	for (int k = 1; k <= 4; k++)
		assert_int_equal(run_loads(L, k, 2) - run_loads(0, k, 2), L);
}

/* The queue's bound: one-row LOADs, the fifth taken only once the first
 * has its data, so five to eight pay the latency twice, less the few
 * issue cycles it overlaps (and their data, through the ring of waiting
 * LOADs, land where they belong). */
static void test_load_queue_bound(void **state)
{
	const uint32_t L = 100;

	(void)state;
	for (int k = 1; k <= 8; k++) {
		uint64_t d = run_loads(L, k, 1) - run_loads(0, k, 1);

		if (k <= 4)
			assert_int_equal(d, L);
		else
			assert_true(d > 3 * L / 2 && d <= 2 * L);
	}
}

/*
 * A fault in LOAD k / 2 of k back-to-back LOADs (the second of two, the
 * third of four; the LOADs before it 4 rows in all, each after it 2): it
 * names that command, comes before the first LOAD's data (so they were in
 * flight together), the LOADs after it request nothing (DMA_IN counts
 * requested bursts: the 4 rows before and the faulting row), no beat
 * reaches SRAM and nothing is written to memory; the next job runs
 * cleanly.
 */
static void load_fault(int k)
{
	const uint32_t L = 400;
	struct rh *h = lat_dev(L);
	const int C = (int)h->p.cols, bad = k / 2, n = 2 * k * C;
	struct rh_cmd c[4 + 2];
	struct rh_cqe cqe;
	int8_t *s, *d;
	uint64_t vs = rh_alloc(h, n, 0, (void **)&s), vd = rh_alloc(h, n, 1, (void **)&d);
	uint64_t vb = rh_alloc(h, 4096, 0, NULL);

	assert_true(k == 2 || k == 4);
	fill(s, n);
	memset(d, 0x33, n);
	rh_set_pte(h, vb, 0, 0);
	make_copy(h, vs, vd, n);
	for (int i = 0; i < bad; i++)
		rh_load(&c[i], QNPU_BUF_ABUF, vs + (uint64_t)(i * 4 / bad * C), C, C, 4 / bad,
			i * 4 / bad, 1);
	rh_load(&c[bad], QNPU_BUF_ABUF, vb + 32 * bad, C, C, 2, 4, 1);
	for (int i = bad + 1; i < k; i++)
		rh_load(&c[i], QNPU_BUF_ABUF, vs + (uint64_t)(2 * i * C), C, C, 2, 2 * i, 1);
	RH_SET(&c[k - 1], PUSH_NEXT, 1);
	c[k] = copy_cmds[1];
	c[k + 1] = copy_cmds[2];
	assert_int_equal(rh_run(h, c, k + 2, MAX_CYCLES, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_FAULT);
	assert_int_equal(cqe.err_cmd, bad);
	assert_int_equal(cqe.fault_va, vb + 32 * bad);
	assert_true(cqe.cycles < L);
	assert_int_equal(cqe.dma_in, 5 * (uint64_t)C);
	assert_int_equal(cqe.load_cycles, 0);
	for (int i = 0; i < n; i++)
		assert_int_equal((uint8_t)d[i], 0x33);
	copy_clean_fini(h, vs, vd, s, d, n);
}

/* Four queued LOADs: the engine's whole queue. */
static void test_load_queue_fault(void **state)
{
	(void)state;
	load_fault(4);
}

/* Two overlapped LOADs. */
static void test_load_overlap_fault(void **state)
{
	(void)state;
	load_fault(2);
}

/*
 * A reset while k LOADs of 8 / k rows each are in flight, into ABUF and
 * WBUF in turn (all have requested their rows, DMA_IN says so, and no data
 * is back), aborts the job; the next job runs cleanly.
 */
static void load_reset(int k)
{
	const uint32_t L = 400;
	struct rh *h = lat_dev(L);
	const int C = (int)h->p.cols, r = 8 / k;
	struct rh_cmd c[4];
	struct rh_cqe cqe;
	int8_t *s, *d;
	uint64_t vs = rh_alloc(h, 8 * C, 0, (void **)&s), vd = rh_alloc(h, 8 * C, 1, (void **)&d);

	assert_true(k == 2 || k == 4);
	fill(s, 8 * C);
	for (int i = 0; i < k; i++)
		rh_load(&c[i], i & 1 ? QNPU_BUF_WBUF : QNPU_BUF_ABUF, vs + (uint64_t)(r * i * C),
			C, C, r, r * i, 1);
	rh_submit(h, rh_put_cmds(h, c, k), k, 0);
	qnpu_hw_step(h->hw, L / 2);
	assert_false(qnpu_hw_is_idle(h->hw));
	uint32_t req = qnpu_hw_reg_read32(h->hw, QNPU_REG_RESET_REQ) + 1;
	qnpu_hw_reg_write32(h->hw, QNPU_REG_RESET_REQ, req);
	qnpu_hw_doorbell(h->hw);
	assert_true(qnpu_hw_is_idle(h->hw));
	assert_int_equal(rh_reap(h, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_ABORTED);
	assert_int_equal(cqe.dma_in, 8 * (uint64_t)C);
	assert_int_equal(cqe.load_cycles, 0);
	copy_clean_fini(h, vs, vd, s, d, 8 * C);
}

static void test_load_queue_reset(void **state)
{
	(void)state;
	load_reset(4);
}

static void test_load_overlap_reset(void **state)
{
	(void)state;
	load_reset(2);
}

/* Parameters out of their documented range, or inconsistent with each
 * other, are refused in one line naming the property (docs/codesign.md). */
static void test_create_invalid(void **state)
{
	(void)state;
	static const struct {
		size_t off;
		uint32_t val;
		const char *prop;
	} bad[] = {
		{offsetof(struct qnpu_hw_params, rows), 12, "qnpu,mac-rows"},
		{offsetof(struct qnpu_hw_params, rows), 128, "qnpu,mac-rows"},
		{offsetof(struct qnpu_hw_params, cols), 2, "qnpu,mac-cols"},
		{offsetof(struct qnpu_hw_params, abuf_bytes), 3000, "qnpu,abuf-bytes"},
		{offsetof(struct qnpu_hw_params, wbuf_bytes), 512, "qnpu,wbuf-bytes"},
		{offsetof(struct qnpu_hw_params, pbuf_bytes), 128, "qnpu,pbuf-bytes"},
		{offsetof(struct qnpu_hw_params, obuf_bytes), 1u << 30, "qnpu,obuf-bytes"},
		{offsetof(struct qnpu_hw_params, dma_bytes), 3, "qnpu,dma-bytes-per-cycle"},
		{offsetof(struct qnpu_hw_params, dma_bytes), 64, "qnpu,dma-bytes-per-cycle"},
		{offsetof(struct qnpu_hw_params, queue_depth), 1, "qnpu,queue-depth"},
		{offsetof(struct qnpu_hw_params, mem_latency_cycles), 20000, "qnpu,mem-latency-cycles"},
		{offsetof(struct qnpu_hw_params, mem_bytes_per_cycle), 5000, "qnpu,mem-bytes-per-cycle"},
		{offsetof(struct qnpu_hw_params, mem_outstanding), 2000, "qnpu,mem-outstanding"},
	};
	struct qnpu_hw_mem_ops ops = {(void *)1, (void *)1, NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qnpu_hw_params p = g_params;
		struct qnpu_hw *hw = NULL;
		char err[200] = "";
		if (bad[i].off == offsetof(struct qnpu_hw_params, dma_bytes) && bad[i].val > 8)
			p.cols = 8;	/* wider than a word */
		*(uint32_t *)((char *)&p + bad[i].off) = bad[i].val;
		assert_int_equal(qnpu_hw_create(&p, &ops, &hw, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, bad[i].prop));
		assert_null(strchr(err, '\n'));
	}
	struct qnpu_hw_params p;
	char err[200] = "";
	assert_int_equal(qnpu_hw_params_from_dtb("junk", 4, NULL, &p, err, sizeof(err)), -EINVAL);
}

/* A DTB with an inconsistent value is refused with a message naming the
 * property; the matching one creates a device with its memory system. */
static void test_create_from_dtb(void **state)
{
	(void)state;
	static char buf[4096];
	struct qnpu_hw_mem_ops ops = {(void *)1, (void *)1, NULL};
	struct qnpu_hw *hw = NULL;
	char err[200] = "";
	for (int bad = 0; bad < 2; bad++) {
		assert_int_equal(fdt_create_empty_tree(buf, sizeof(buf)), 0);
		int n = fdt_add_subnode(buf, 0, "npu@40000000");
		assert_true(n >= 0);
		assert_int_equal(fdt_setprop_string(buf, n, "compatible", "qnpu,npu-1.0"), 0);
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,mac-rows", g_params.rows), 0);
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,mac-cols", g_params.cols), 0);
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,abuf-bytes", g_params.abuf_bytes), 0);
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,wbuf-bytes", g_params.wbuf_bytes), 0);
		/* not a whole number of words */
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,pbuf-bytes",
						 bad ? 12 * 4 * g_params.cols + 4 : g_params.pbuf_bytes), 0);
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,obuf-bytes", g_params.obuf_bytes), 0);
		assert_int_equal(fdt_setprop_u32(buf, n, "qnpu,mem-latency-cycles", 37), 0);
		int ret = qnpu_hw_create_from_dtb(buf, sizeof(buf), NULL, &ops, &hw, err, sizeof(err));
		if (bad) {
			assert_int_equal(ret, -EINVAL);
			assert_non_null(strstr(err, "qnpu,pbuf-bytes"));
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(qnpu_hw_reg_read32(hw, QNPU_REG_WBUF_BYTES), g_params.wbuf_bytes);
			assert_int_equal(qnpu_hw_get_params(hw)->mem_latency_cycles, 37);
			/* absent: ideal memory, a DMA port as wide as a word */
			assert_int_equal(qnpu_hw_get_params(hw)->mem_outstanding, 0);
			assert_int_equal(qnpu_hw_get_params(hw)->dma_bytes, g_params.cols);
			qnpu_hw_destroy(hw);
		}
	}
	/* a node without the parameters */
	assert_int_equal(fdt_create_empty_tree(buf, sizeof(buf)), 0);
	int n = fdt_add_subnode(buf, 0, "npu");
	assert_int_equal(fdt_setprop_string(buf, n, "compatible", "qnpu,npu-1.0"), 0);
	assert_int_equal(qnpu_hw_create_from_dtb(buf, sizeof(buf), NULL, &ops, &hw, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "qnpu,mac-rows"));
}

static int load_params(int argc, char **argv)
{
	qnpu_hw_default_params(&g_params);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dtb") && i + 1 < argc)
			dtb_path = argv[++i];
	}
	if (getenv("QNPU_SEED"))
		rng_state = (uint32_t)strtoul(getenv("QNPU_SEED"), NULL, 0);
	if (!dtb_path)
		return 0;
	FILE *f = fopen(dtb_path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", dtb_path);
		return -1;
	}
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	char err[256];
	if (qnpu_hw_params_from_dtb(buf, n, NULL, &g_params, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/*
 * On-chip handoff (DRAIN_ABUF, PPU_WAIT): a DWCONV drains its tiles into
 * ABUF, one word per pixel (unused columns zero, as a LOAD leaves a row's
 * tail), and a 1x1 CONV reads them there with IC = C, so the zero bytes
 * count; its first command waits for the PPU. Without PPU_WAIT
 * (@no_wait) a single-tile layer reads words not yet written.
 */
static int run_handoff(struct rh *h, int no_wait, int oh, int ow, int ch, int oc2)
{
	const int R = h->p.rows, C = h->p.cols;
	const int npx = oh * ow, hbase = h->p.abuf_bytes / C - npx;
	struct ref_conv d = {0}, q = {0};
	int32_t m1[256], s1[256], b1[256], m2[256], s2[256], b2[256];
	int8_t *in, *f1, *f2, *out, *p1, *p2;

	d.ih = oh; d.iw = ow; d.ic = ch; d.oc = ch; d.dm = 1;
	d.kh = d.kw = 3; d.sh = d.sw = d.dh = d.dw = 1; d.pad_t = d.pad_l = 1;
	d.oh = oh; d.ow = ow;
	d.in_off = -rand_zp(); d.out_zp = rand_zp(); rand_act(&d);
	rand_quant(ch, m1, s1, b1);
	d.mult = m1; d.shift = s1; d.bias = b1;
	q.ih = oh; q.iw = ow; q.ic = C; q.oc = oc2; q.dm = 1;
	q.kh = q.kw = 1; q.sh = q.sw = q.dh = q.dw = 1; q.oh = oh; q.ow = ow;
	q.in_off = -rand_zp(); q.out_zp = rand_zp(); rand_act(&q);
	rand_quant(oc2, m2, s2, b2);
	q.mult = m2; q.shift = s2; q.bias = b2;
	if (no_wait) {
		/* a narrow clamp (4..30 after a random requantization) can give
		 * the same bytes whichever rows were read: full range */
		d.act_min = q.act_min = -128;
		d.act_max = q.act_max = 127;
	}

	size_t in_n = (size_t)npx * ch, mid_n = (size_t)npx * C, out_n = (size_t)npx * oc2;
	uint64_t in_va = rh_alloc(h, in_n, 0, (void **)&in);
	uint64_t f1_va = rh_alloc(h, 9u * C, 0, (void **)&f1);
	uint64_t f2_va = rh_alloc(h, (size_t)C * C, 0, (void **)&f2);
	uint64_t p1_va = rh_alloc(h, 12u * C, 0, (void **)&p1);
	uint64_t p2_va = rh_alloc(h, 12u * C, 0, (void **)&p2);
	uint64_t out_va = rh_alloc(h, out_n, 1, (void **)&out);
	int8_t *f1r = malloc(9u * ch), *f2r = malloc((size_t)oc2 * C);
	int8_t *mid = malloc(mid_n), *mid_c = malloc((size_t)npx * ch), *ref = malloc(out_n);
	fill(in, in_n);
	fill(f1r, 9u * ch);
	fill(f2r, (size_t)oc2 * C);
	/* WBUF words: byte c = output channel c's weight of the step */
	for (int t = 0; t < 9; t++)
		for (int c = 0; c < ch; c++)
			f1[t * C + c] = f1r[t * ch + c];
	for (int i = 0; i < C; i++)
		for (int c = 0; c < oc2; c++)
			f2[i * C + c] = f2r[c * C + i];
	for (int c = 0; c < C; c++) {
		((int32_t *)p1)[c] = c < ch ? b1[c] : 0;
		((int32_t *)p1)[C + c] = c < ch ? m1[c] : 0x40000000;
		((int32_t *)p1)[2 * C + c] = c < ch ? s1[c] : 0;
		((int32_t *)p2)[c] = c < oc2 ? b2[c] : 0;
		((int32_t *)p2)[C + c] = c < oc2 ? m2[c] : 0x40000000;
		((int32_t *)p2)[2 * C + c] = c < oc2 ? s2[c] : 0;
	}
	ref_dwconv(&d, in, f1r, mid_c);
	memset(mid, 0, mid_n);
	for (int px = 0; px < npx; px++)
		memcpy(&mid[(size_t)px * C], &mid_c[(size_t)px * ch], (size_t)ch);
	ref_conv(&q, mid, f2r, ref);
	memset(out, 0x5a, out_n);

	struct emit e;
	emit_init(&e);
	rh_load(emit_new(&e), QNPU_BUF_ABUF, in_va, ch, ch, npx, 0, 1);
	rh_load(emit_new(&e), QNPU_BUF_WBUF, f1_va, 0, 9 * C, 1, 0, 0);
	rh_load(emit_new(&e), QNPU_BUF_WBUF, f2_va, 0, C * C, 1, 9, 0);
	rh_load(emit_new(&e), QNPU_BUF_PBUF, p1_va, 0, 12 * C, 1, 0, 0);
	rh_load(emit_new(&e), QNPU_BUF_PBUF, p2_va, 0, 12 * C, 1, 12, 0);
	RH_SET(&e.c[e.n - 1], PUSH_NEXT, 1);
	for (int pass = 0; pass < 2; pass++) {
		for (int p0 = 0; p0 < npx; p0 += R) {
			struct rh_cmd *k = emit_new(&e);
			int n = npx - p0 < R ? npx - p0 : R;
			RH_SET(k, OPCODE, pass ? QNPU_OP_CONV : QNPU_OP_DWCONV);
			RH_SET(k, ACC_CLEAR, 1);
			RH_SET(k, DRAIN, 1);
			RH_SET(k, DRAIN_ABUF, !pass);
			RH_SET(k, POP_PREV, !pass && p0 == 0);
			RH_SET(k, PPU_WAIT, pass && p0 == 0 && !no_wait);
			RH_SET(k, PUSH_NEXT, pass && p0 + n == npx);
			RH_SET(k, A_ADDR, pass ? hbase * C : 0);
			RH_SET(k, PIX_STRIDE, C);
			RH_SET(k, ROW_STRIDE, ow * C);
			RH_SET(k, IN_H, oh);
			RH_SET(k, IN_W, ow);
			RH_SET(k, OUT_W, ow);
			RH_SET(k, PIX0, p0);
			RH_SET(k, NPIX, n);
			RH_SET(k, NCOLS, pass ? oc2 : ch);
			RH_SET(k, KH, pass ? 1 : 3);
			RH_SET(k, KW, pass ? 1 : 3);
			RH_SET(k, STRIDE_H, 1);
			RH_SET(k, STRIDE_W, 1);
			RH_SET(k, DIL_H, 1);
			RH_SET(k, DIL_W, 1);
			RH_SET(k, PAD_T, pass ? 0 : 1);
			RH_SET(k, PAD_L, pass ? 0 : 1);
			RH_SET(k, IC, pass ? C : 1);
			RH_SET(k, W_ADDR, pass ? 9 : 0);
			RH_SET(k, P_ADDR, pass ? 12 : 0);
			RH_SET(k, O_ADDR, pass ? p0 : hbase + p0);
			RH_SET(k, O_STRIDE, 1);
			RH_SET(k, IN_OFF, pass ? q.in_off : d.in_off);
			RH_SET(k, OUT_ZP, pass ? q.out_zp : d.out_zp);
			RH_SET(k, ACT_MIN, pass ? q.act_min : d.act_min);
			RH_SET(k, ACT_MAX, pass ? q.act_max : d.act_max);
		}
	}
	rh_store(emit_new(&e), out_va, oc2, oc2, npx, 0, 1);
	RH_SET(&e.c[e.n - 1], POP_PREV, 1);
	struct rh_cqe cqe;
	assert_int_equal(rh_run(h, e.c, e.n, MAX_CYCLES, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	size_t bad = 0;
	for (size_t i = 0; i < out_n; i++)
		if (out[i] != ref[i] && bad++ < 5 && !no_wait)
			print_error("handoff %dx%dx%d->%d out[%zu] = %d, expected %d\n", oh, ow, ch,
				    oc2, i, out[i], ref[i]);
	if (!no_wait) {
		/* the cost model predicts the wait exactly; the wait is PPU stall */
		assert_int_equal(cost_cycles(h, e.c, e.n), cqe.cycles);
		assert_true(cqe.stall_ppu > 0);
		/* nothing went through memory in between */
		assert_int_equal(cqe.dma_out, out_n);
	}
	emit_free(&e);
	free(f1r);
	free(f2r);
	free(mid);
	free(mid_c);
	free(ref);
	return (int)bad;
}

static void test_handoff_random(void **state)
{
	struct rh *h = *state;
	const int R = h->p.rows, C = h->p.cols, obuf_words = h->p.obuf_bytes / C;
	for (int it = 0; it < 8; it++) {
		/* pass 2's OBUF holds a word per pixel */
		int oh = rr(1, 6), ow = rr(1, 2 * R < obuf_words / oh ? 2 * R : obuf_words / oh);
		assert_int_equal(run_handoff(h, 0, oh, ow, rr(1, C), rr(1, C)), 0);
	}
	/* one full tile: without the wait the CONV reads rows not yet drained */
	assert_int_equal(run_handoff(h, 0, 1, R, C / 2, C), 0);
	assert_true(run_handoff(h, 1, 1, R, C / 2, C) > 0);
}

/* DRAIN_ABUF and PPU_WAIT field checks. */
static void test_handoff_fields(void **state)
{
	struct rh *h = *state;
	const int C = h->p.cols, aw = h->p.abuf_bytes / C, R = h->p.rows;
	uint64_t va = rh_alloc(h, 64, 0, NULL);
	struct rh_cmd c[2], *k = &c[1];
	rh_load(&c[0], QNPU_BUF_ABUF, va, 0, 64, 1, 0, 0);
	memset(k, 0, sizeof(*k));
	RH_SET(k, OPCODE, QNPU_OP_MAXPOOL);
	RH_SET(k, ACC_CLEAR, 1);
	RH_SET(k, DRAIN, 1);
	RH_SET(k, DRAIN_ABUF, 1);
	RH_SET(k, NPIX, R);
	RH_SET(k, NCOLS, C);
	RH_SET(k, KH, 1);
	RH_SET(k, KW, 1);
	RH_SET(k, STRIDE_H, 1);
	RH_SET(k, STRIDE_W, 1);
	RH_SET(k, DIL_H, 1);
	RH_SET(k, DIL_W, 1);
	RH_SET(k, OUT_W, R);
	RH_SET(k, IN_H, 1);
	RH_SET(k, IN_W, R);
	RH_SET(k, PIX_STRIDE, C);
	/* the last rows end at ABUF's last word, past OBUF's size */
	RH_SET(k, O_ADDR, aw - R);
	RH_SET(k, O_STRIDE, 1);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	RH_SET(k, O_ADDR, aw - R + 1);
	expect_status(h, c, 2, QNPU_STATUS_SRAM_RANGE, 1);
	RH_SET(k, O_ADDR, 0);
	/* DRAIN_ABUF without DRAIN, or with a token for a STORE */
	RH_SET(k, DRAIN, 0);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, DRAIN, 1);
	RH_SET(k, PUSH_NEXT, 1);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, PUSH_NEXT, 0);
	/* PPU_WAIT with nothing to wait for passes */
	RH_SET(k, PPU_WAIT, 1);
	expect_status(h, c, 2, QNPU_STATUS_OK, 0);
	/* a SYNC takes neither */
	memset(k, 0, sizeof(*k));
	RH_SET(k, OPCODE, QNPU_OP_SYNC);
	RH_SET(k, PPU_WAIT, 1);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
	RH_SET(k, PPU_WAIT, 0);
	RH_SET(k, DRAIN_ABUF, 1);
	expect_status(h, c, 2, QNPU_STATUS_BAD_FIELD, 1);
}

/*
 * DRAIN_ABUF tiles of one step each: the PPU is still writing the previous
 * tile when the next one ends, so each waits in the handoff state and
 * hands over from there. 1x1 MAXPOOLs copy the input into ABUF (NCOLS
 * < C: the other bytes zero), then, after PPU_WAIT, out through OBUF.
 */
static void test_handoff_busy(void **state)
{
	struct rh *h = *state;
	const int R = h->p.rows, C = h->p.cols, T = 4, n = T * R, nc = C - 3;
	int8_t *in, *out;
	uint64_t in_va = rh_alloc(h, (size_t)n * C, 0, (void **)&in);
	uint64_t out_va = rh_alloc(h, (size_t)n * C, 1, (void **)&out);
	struct emit e;
	struct rh_cqe cqe;

	fill(in, (size_t)n * C);
	emit_init(&e);
	rh_load(emit_new(&e), QNPU_BUF_ABUF, in_va, C, C, n, 0, 1);
	RH_SET(&e.c[0], PUSH_NEXT, 1);
	for (int pass = 0; pass < 2; pass++) {
		for (int t = 0; t < T; t++) {
			struct rh_cmd *k = emit_new(&e);
			RH_SET(k, OPCODE, QNPU_OP_MAXPOOL);
			RH_SET(k, ACC_CLEAR, 1);
			RH_SET(k, DRAIN, 1);
			RH_SET(k, DRAIN_ABUF, !pass);
			RH_SET(k, POP_PREV, !pass && t == 0);
			RH_SET(k, PPU_WAIT, pass && t == 0);
			RH_SET(k, PUSH_NEXT, pass && t == T - 1);
			RH_SET(k, A_ADDR, pass ? n * C : 0);
			RH_SET(k, PIX_STRIDE, C);
			RH_SET(k, IN_H, 1);
			RH_SET(k, IN_W, n);
			RH_SET(k, OUT_W, n);
			RH_SET(k, PIX0, t * R);
			RH_SET(k, NPIX, R);
			RH_SET(k, NCOLS, pass ? C : nc);
			RH_SET(k, KH, 1);
			RH_SET(k, KW, 1);
			RH_SET(k, STRIDE_H, 1);
			RH_SET(k, STRIDE_W, 1);
			RH_SET(k, DIL_H, 1);
			RH_SET(k, DIL_W, 1);
			RH_SET(k, ACT_MIN, -128);
			RH_SET(k, ACT_MAX, 127);
			RH_SET(k, O_ADDR, pass ? t * R : n + t * R);
			RH_SET(k, O_STRIDE, 1);
		}
	}
	rh_store(emit_new(&e), out_va, C, C, n, 0, 1);
	RH_SET(&e.c[e.n - 1], POP_PREV, 1);
	assert_int_equal(rh_run(h, e.c, e.n, MAX_CYCLES, &cqe), 0);
	assert_int_equal(cqe.status, QNPU_STATUS_OK);
	for (int i = 0; i < n * C; i++)
		assert_int_equal(out[i], i % C < nc ? in[i] : 0);
	/* the one-step tiles waited for the PPU; the model predicts it */
	assert_true(cqe.stall_ppu > 0);
	assert_int_equal(cost_cycles(h, e.c, e.n), cqe.cycles);
	emit_free(&e);
}

int main(int argc, char **argv)
{
	if (load_params(argc, argv))
		return 1;
	printf("# test_rtl: %ux%u array, seed %#x\n", g_params.rows, g_params.cols, rng_state);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_mbqm),
		cmocka_unit_test_setup_teardown(test_id_regs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_regs, setup, teardown),
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_memory_model),
		cmocka_unit_test(test_create_from_dtb),
		cmocka_unit_test_setup_teardown(test_copy_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conv_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conv_tiled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dwconv_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_dm8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_res_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sram_no_leak, setup, teardown),
		cmocka_unit_test(test_load_overlap),
		cmocka_unit_test(test_load_queue_bound),
		cmocka_unit_test(test_load_queue_fault),
		cmocka_unit_test(test_load_queue_reset),
		cmocka_unit_test(test_load_overlap_fault),
		cmocka_unit_test(test_load_overlap_reset),
		cmocka_unit_test_setup_teardown(test_mmu_unmapped_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_unmapped_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_readonly_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_va_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_opcode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_mid_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_overflow, setup, teardown),
	};
	return cmocka_run_group_tests_name("rtl", tests, NULL, NULL);
}
