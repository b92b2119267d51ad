// SPDX-License-Identifier: MIT
/*
 * ONNX operators on the simulated NPU (PPU_FP mode, the INT8/NHWC layout
 * of compiler/qnpu_onnx_npu.c) against the CPU's ONNX Runtime kernels:
 * random QLinearConv (group 1 and depthwise, strides, asymmetric pads),
 * QLinearMatMul, global average and max pools, with UINT8 or INT8 graph
 * inputs and outputs (RELAYOUT copies), per-tensor and per-channel
 * weights, fused clamps, and multipliers chosen to hit the rounding's
 * edges: powers of two (exact .5 ties), accumulators beyond 2^24 (the
 * int32 -> float32 rounding), and tiny or large ones (saturation).
 * Outputs must be identical and the operator must have run on the NPU.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qnpu.h"
#include "ir/qnpu_ir.h"
#include "qnpu_runtime.h"

#define QNPU_UNIT_SEED 0x0ee14u
#include "qnpu_unit.h"

enum kind { CONV, DW, MATMUL, GAP, MAXPOOL };
enum mmode { M_RANDOM, M_POW2, M_BIGACC, M_EXTREME };

struct spec {
	enum kind kind;
	int c, h, w, m, kh, kw, sh, sw, pad[4];
	int x_u8, y_u8, per_channel, mode, clamp;
	uint32_t seed;
};

static float frand(float lo, float hi)
{
	return lo + (hi - lo) * (float)(xorshift() % 1000000) / 1000000.0f;
}

static int add_tensor(struct qnpu_ir_graph *g, enum qnpu_dtype dt, int rank,
		      const int32_t *shape)
{
	struct qnpu_ir_tensor *t = &g->tensors[g->ntensors];
	int i;

	memset(t, 0, sizeof(*t));
	t->name = "t";
	t->dtype = dt;
	t->rank = rank;
	t->count = 1;
	for (i = 0; i < rank; i++) {
		t->shape[i] = shape[i];
		t->count *= (size_t)shape[i];
	}
	t->bytes = t->count * qnpu_dtype_size(dt);
	return g->ntensors++;
}

static void quant(struct qnpu_ir_tensor *t, int n, const float *s,
		  const int32_t *z)
{
	t->nq = n;
	t->scale = malloc((size_t)n * sizeof(float));
	t->zero_point = malloc((size_t)n * sizeof(int32_t));
	memcpy(t->scale, s, (size_t)n * sizeof(float));
	memcpy(t->zero_point, z, (size_t)n * sizeof(int32_t));
}

/* Scales for the mode: x_scale * w_scale[c] / y_scale. */
static float wscale(const struct spec *sp)
{
	switch (sp->mode) {
	case M_POW2:
		return ldexpf(1.0f, -rnd(2, 9));	/* ties at .5 */
	case M_BIGACC:
		return frand(1e-7f, 4e-7f);
	case M_EXTREME:
		return rnd(0, 1) ? frand(1e-9f, 1e-8f) : frand(0.5f, 4.0f);
	}
	return frand(0.0005f, 0.02f);
}

static struct qnpu_ir_graph *build(const struct spec *sp, uint8_t **blob)
{
	struct qnpu_ir_graph *g = calloc(1, sizeof(*g));
	enum qnpu_dtype xt = sp->x_u8 ? QNPU_DTYPE_UINT8 : QNPU_DTYPE_INT8;
	enum qnpu_dtype yt = sp->y_u8 ? QNPU_DTYPE_UINT8 : QNPU_DTYPE_INT8;
	struct qnpu_ir_op *op;
	int32_t xs[4] = { 1, sp->c, sp->h, sp->w }, ws[4], ys[4], bs[1];
	float xsc = sp->mode == M_POW2 || sp->mode == M_BIGACC ? 1.0f :
		    frand(0.01f, 0.1f), ysc = sp->mode == M_POW2 ||
		    sp->mode == M_BIGACC ? 1.0f : frand(0.05f, 0.5f);
	int32_t xz = sp->mode == M_BIGACC ? (sp->x_u8 ? 0 : -128) :
		     sp->x_u8 ? rnd(0, 255) : rnd(-128, 127);
	int32_t yz = sp->y_u8 ? rnd(0, 255) : rnd(-128, 127);
	int nout = sp->kind == CONV || sp->kind == MATMUL ? sp->m : sp->c;
	float wsc[256];
	int32_t wz[256] = { 0 };
	int x, w = -1, b = -1, y, i, nw, rank = 4;
	size_t k, wcount = 0, used = 0;

	g->tensors = calloc(8, sizeof(*g->tensors));
	g->ops = calloc(1, sizeof(*g->ops));
	g->inputs = calloc(1, sizeof(int32_t));
	g->outputs = calloc(1, sizeof(int32_t));
	*blob = calloc(1, 1 << 20);
	if (sp->kind == MATMUL) {
		xs[0] = sp->h;		/* M rows */
		xs[1] = sp->c;		/* K */
		rank = 2;
	}
	x = add_tensor(g, xt, rank, xs);
	quant(&g->tensors[x], 1, &xsc, &xz);
	g->tensors[x].is_input = true;
	op = &g->ops[0];
	op->in = calloc(3, sizeof(int32_t));
	op->out = calloc(1, sizeof(int32_t));
	op->in[1] = op->in[2] = -1;
	op->rounding = QNPU_ROUND_ONNX;
	op->opt.onnx.lo = -INFINITY;
	op->opt.onnx.hi = INFINITY;
	op->opt.onnx.stride[0] = sp->sh;
	op->opt.onnx.stride[1] = sp->sw;
	op->opt.onnx.dilation[0] = op->opt.onnx.dilation[1] = 1;
	op->opt.onnx.kernel[0] = sp->kh;
	op->opt.onnx.kernel[1] = sp->kw;
	memcpy(op->opt.onnx.pad, sp->pad, sizeof(sp->pad));
	if (sp->clamp) {
		op->opt.onnx.lo = frand(-2, 0.5f);
		op->opt.onnx.hi = op->opt.onnx.lo + frand(0.5f, 20);
	}
	ys[0] = 1;
	ys[1] = nout;
	ys[2] = (sp->h + sp->pad[0] + sp->pad[2] - sp->kh) / sp->sh + 1;
	ys[3] = (sp->w + sp->pad[1] + sp->pad[3] - sp->kw) / sp->sw + 1;
	switch (sp->kind) {
	case CONV:
	case DW:
		op->builtin = QNPU_ONNX_QLINEAR_CONV;
		op->nin = 3;
		op->opt.onnx.group = sp->kind == DW ? sp->c : 1;
		ws[0] = nout;
		ws[1] = sp->kind == DW ? 1 : sp->c;
		ws[2] = sp->kh;
		ws[3] = sp->kw;
		w = add_tensor(g, QNPU_DTYPE_INT8, 4, ws);
		break;
	case MATMUL:
		op->builtin = QNPU_ONNX_QLINEAR_MATMUL;
		op->nin = 3;
		op->opt.onnx.trans_b = rnd(0, 1);
		ws[0] = op->opt.onnx.trans_b ? nout : sp->c;
		ws[1] = op->opt.onnx.trans_b ? sp->c : nout;
		w = add_tensor(g, QNPU_DTYPE_INT8, 2, ws);
		ys[0] = sp->h;
		ys[1] = nout;
		break;
	case GAP:
		op->builtin = QNPU_ONNX_QLINEAR_AVG_POOL;
		op->nin = 1;
		op->opt.onnx.kernel[0] = sp->h;
		op->opt.onnx.kernel[1] = sp->w;
		ys[2] = ys[3] = 1;
		break;
	case MAXPOOL:
		op->builtin = QNPU_ONNX_MAX_POOL;
		op->nin = 1;
		ysc = xsc;
		yz = xz;
		yt = xt;
		op->opt.onnx.lo = -INFINITY;
		op->opt.onnx.hi = INFINITY;
		break;
	}
	op->nout = 1;
	op->in[0] = x;
	if (w >= 0) {
		struct qnpu_ir_tensor *wt = &g->tensors[w];
		uint8_t *d = *blob + used;

		nw = sp->per_channel ? nout : 1;
		for (i = 0; i < nw; i++)
			wsc[i] = wscale(sp);
		quant(wt, nw, wsc, wz);
		wt->qdim = sp->kind == MATMUL ? (op->opt.onnx.trans_b ? 0 : 1) : 0;
		for (k = 0; k < wt->count; k++)
			d[k] = (uint8_t)(int8_t)(sp->mode == M_BIGACC ?
				(rnd(0, 1) ? 127 : 120) : rnd(-127, 127));
		wt->const_data = d;
		used += (wt->bytes + 15) & ~(size_t)15;
		wcount = wt->count;
		op->in[1] = w;
		bs[0] = nout;
		b = add_tensor(g, QNPU_DTYPE_INT32, 1, bs);
		d = *blob + used;
		for (i = 0; i < nout; i++) {
			int32_t v = rnd(-20000, 20000);

			memcpy(d + 4 * i, &v, 4);
		}
		g->tensors[b].const_data = d;
		op->in[2] = b;
	}
	(void)wcount;
	y = add_tensor(g, yt, sp->kind == MATMUL ? 2 : 4, ys);
	quant(&g->tensors[y], 1, &ysc, &yz);
	g->tensors[y].is_output = true;
	op->out[0] = y;
	g->nops = 1;
	g->ninputs = g->noutputs = 1;
	g->inputs[0] = x;
	g->outputs[0] = y;
	return g;
}

static void run_on(const char *device, const struct spec *sp, uint8_t *out,
		   size_t *len, bool *on_npu, char *note)
{
	struct qnpu_device *dev;
	struct qnpu_model *m;
	struct qnpu_tensor_info ti;
	struct qnpu_op_stats st;
	struct qnpu_ir_graph *g;
	uint32_t keep = rng;
	uint8_t *blob, *x;
	int i;
	size_t k;

	rng = sp->seed;		/* the same graph and input on both */
	assert_int_equal(qnpu_device_open(device, &dev), 0);
	g = build(sp, &blob);
	if (qnpu_model_from_graph(dev, g, blob, 0, &m))
		fail_msg("%s: %s", device, qnpu_last_error());
	qnpu_model_input_info(m, 0, &ti);
	x = malloc(ti.bytes);
	for (k = 0; k < ti.bytes; k++)
		x[k] = sp->mode == M_BIGACC ? (uint8_t)(sp->x_u8 ? 255 : 127) -
		       (uint8_t)rnd(0, 3) : (uint8_t)xorshift();
	assert_int_equal(qnpu_model_set_input(m, 0, x, ti.bytes), 0);
	free(x);
	if (qnpu_model_run(m))
		fail_msg("%s: %s", device, qnpu_last_error());
	qnpu_model_output_info(m, 0, &ti);
	*len = ti.bytes;
	assert_int_equal(qnpu_model_get_output(m, 0, out, ti.bytes), 0);
	*on_npu = false;
	note[0] = 0;
	for (i = 0; i < qnpu_model_num_ops(m); i++) {
		struct qnpu_op_info oi;

		qnpu_model_op_info(m, i, &oi);
		qnpu_model_op_stats(m, i, &st);
		if (strcmp(oi.name, "ONNX_RELAYOUT")) {
			*on_npu = oi.target == QNPU_TARGET_NPU && st.cycles;
			snprintf(note, 160, "%s", st.note ? st.note : "");
		}
	}
	qnpu_model_free(m);	/* frees blob too */
	qnpu_device_close(dev);
	rng = keep;
}

static void check(const struct spec *sp)
{
	static uint8_t ref[1 << 20], got[1 << 20];
	const char *dev = getenv("QNPU_TEST_DEVICE") ? getenv("QNPU_TEST_DEVICE") : "sim";
	size_t nref, ngot, i;
	bool npu, npu_ref;
	char note[160], note_ref[160];

	run_on("cpu", sp, ref, &nref, &npu_ref, note_ref);
	run_on(dev, sp, got, &ngot, &npu, note);
	if (!npu)
		fail_msg("seed %u kind %d: not on the NPU: %s", sp->seed, sp->kind, note);
	assert_int_equal(nref, ngot);
	for (i = 0; i < nref; i++)
		if (ref[i] != got[i])
			fail_msg("seed %u kind %d c%d %dx%d m%d k%dx%d s%d mode %d u8 %d/%d pc %d clamp %d: byte %zu: npu %u, cpu %u",
				 sp->seed, sp->kind, sp->c, sp->h, sp->w, sp->m,
				 sp->kh, sp->kw, sp->sh, sp->mode, sp->x_u8,
				 sp->y_u8, sp->per_channel, sp->clamp, i, got[i],
				 ref[i]);
}

static void random_spec(struct spec *sp, enum kind kind, int mode)
{
	memset(sp, 0, sizeof(*sp));
	sp->kind = kind;
	sp->mode = mode;
	sp->seed = xorshift() | 1;
	sp->c = rnd(1, 40);
	sp->h = rnd(1, 12);
	sp->w = rnd(1, 12);
	sp->m = rnd(1, 40);
	sp->kh = rnd(1, sp->h < 3 ? sp->h : 3);
	sp->kw = rnd(1, sp->w < 3 ? sp->w : 3);
	sp->sh = rnd(1, 2);
	sp->sw = rnd(1, 2);
	if (sp->kh > 1 && rnd(0, 1)) {
		sp->pad[0] = rnd(0, sp->kh - 1);
		sp->pad[2] = rnd(0, sp->kh - 1);
	}
	if (sp->kw > 1 && rnd(0, 1)) {
		sp->pad[1] = rnd(0, sp->kw - 1);
		sp->pad[3] = rnd(0, sp->kw - 1);
	}
	sp->x_u8 = rnd(0, 1);
	sp->y_u8 = rnd(0, 1);
	sp->per_channel = rnd(0, 1);
	sp->clamp = rnd(0, 3) == 0;
	if (mode == M_BIGACC) {
		sp->c = 256;
		sp->kh = sp->kw = 3;
		sp->h = sp->w = 4;
		sp->pad[0] = sp->pad[1] = sp->pad[2] = sp->pad[3] = 0;
		sp->clamp = 0;
	}
}

static void test_conv(void **state)
{
	struct spec sp;
	int i;

	(void)state;
	for (i = 0; i < 24; i++) {
		random_spec(&sp, CONV, i % 4);
		check(&sp);
	}
}

static void test_depthwise(void **state)
{
	struct spec sp;
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		random_spec(&sp, DW, i % 4 == 2 ? M_POW2 : i % 4);
		sp.m = sp.c;
		check(&sp);
	}
}

static void test_matmul(void **state)
{
	struct spec sp;
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		random_spec(&sp, MATMUL, i % 4 == 2 ? M_POW2 : i % 4);
		sp.kh = sp.kw = sp.sh = sp.sw = 1;
		memset(sp.pad, 0, sizeof(sp.pad));
		if (sp.mode == M_BIGACC) {
			sp.c = 2304;
			sp.h = 3;
		}
		check(&sp);
	}
}

static void test_pools(void **state)
{
	struct spec sp;
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		random_spec(&sp, i % 2 ? GAP : MAXPOOL, M_RANDOM);
		if (sp.kind == GAP) {
			sp.kh = sp.h;
			sp.kw = sp.w;
			sp.sh = sp.sw = 1;
			memset(sp.pad, 0, sizeof(sp.pad));
		}
		sp.clamp = 0;
		check(&sp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv),
		cmocka_unit_test(test_depthwise),
		cmocka_unit_test(test_matmul),
		cmocka_unit_test(test_pools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
