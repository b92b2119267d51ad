// SPDX-License-Identifier: MIT
/*
 * An imported ONNX graph made fit for the NPU, exactly (run once, before
 * partitioning, on NPU devices only):
 *  - A UINT8 activation (scale s, zero point z) is the INT8 tensor
 *    (s, z - 128) with every byte's bit 7 flipped, and every quantized
 *    ONNX operator gives the same results on either. Activations that
 *    only quantized operators touch become INT8 (the NPU's MACs are
 *    INT8 x INT8); a UINT8 graph input or output the NPU reads or writes
 *    gets a RELAYOUT (flip) on the CPU.
 *  - The NPU keeps activations NHWC; ONNX's are NCHW. A 4-D activation
 *    that only layout-aware operators touch (QLinearConv, global average
 *    pool, max pool, per-tensor (de)quantization) is stored NHWC and those
 *    operators are told so (opt.onnx.nhwc); shapes stay ONNX's. A graph
 *    input or output gets a RELAYOUT (transpose) on the CPU. Tensors with
 *    one channel or one pixel are the same bytes in both layouts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "util/qnpu_util.h"

/* Operators the NPU may take (qnpu_compile.c lowers them). */
static bool npu_op(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op)
{
	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_QLINEAR_AVG_POOL:
		return true;
	case QNPU_ONNX_MAX_POOL:
		return g->tensors[op->in[0]].dtype != QNPU_DTYPE_FLOAT32;
	}
	return false;
}

static bool touches(const struct qnpu_ir_op *op, int t, bool *as_in)
{
	int i;

	for (i = 0; i < op->nin; i++)
		if (op->in[i] == t) {
			*as_in = true;
			return true;
		}
	for (i = 0; i < op->nout; i++)
		if (op->out[i] == t) {
			*as_in = false;
			return true;
		}
	return false;
}

/* A new activation like tensor @li (its quantization copied). */
static int new_tensor(struct qnpu_ir_graph *g, int li)
{
	struct qnpu_ir_tensor copy = g->tensors[li], *like = &copy;
	struct qnpu_ir_tensor *n = realloc(g->tensors, ((size_t)g->ntensors + 1) *
					   sizeof(*n));
	struct qnpu_ir_tensor *t;

	if (!n)
		return qnpu_err(-ENOMEM, "out of memory");
	g->tensors = n;
	t = &g->tensors[g->ntensors];
	*t = *like;
	t->is_input = t->is_output = false;
	t->const_data = NULL;
	t->owns_data = false;
	t->scale = NULL;
	t->zero_point = NULL;
	t->nq = 0;
	if (like->nq) {
		t->scale = malloc((size_t)like->nq * sizeof(float));
		t->zero_point = malloc((size_t)like->nq * sizeof(int32_t));
		if (!t->scale || !t->zero_point)
			return qnpu_err(-ENOMEM, "out of memory");
		memcpy(t->scale, like->scale, (size_t)like->nq * sizeof(float));
		memcpy(t->zero_point, like->zero_point,
		       (size_t)like->nq * sizeof(int32_t));
		t->nq = like->nq;
	}
	return g->ntensors++;
}

/* A RELAYOUT from @from to @to inserted at operator index @at. */
static int insert_relayout(struct qnpu_ir_graph *g, int at, int from, int to)
{
	struct qnpu_ir_op *n = realloc(g->ops, ((size_t)g->nops + 1) * sizeof(*n));
	struct qnpu_ir_op *op;
	int i;

	if (!n)
		return qnpu_err(-ENOMEM, "out of memory");
	g->ops = n;
	memmove(&g->ops[at + 1], &g->ops[at],
		(size_t)(g->nops - at) * sizeof(*n));
	g->nops++;
	for (i = 0; i < g->nops; i++)
		g->ops[i].index = i;
	op = &g->ops[at];
	memset(op, 0, sizeof(*op));
	op->index = at;
	op->builtin = QNPU_ONNX_RELAYOUT;
	op->rounding = QNPU_ROUND_ONNX;
	op->nin = op->nout = 1;
	op->in = malloc(sizeof(int32_t));
	op->out = malloc(sizeof(int32_t));
	if (!op->in || !op->out)
		return qnpu_err(-ENOMEM, "out of memory");
	op->in[0] = from;
	op->out[0] = to;
	return 0;
}

static bool trivial(const struct qnpu_ir_tensor *t)
{
	return t->rank != 4 || t->shape[1] == 1 ||
	       (t->shape[2] == 1 && t->shape[3] == 1);
}

/* Graph inputs and outputs an NPU operator reads or writes: a copy. */
static int split_io(struct qnpu_ir_graph *g)
{
	int k, i, j, r;

	for (k = 0; k < g->ninputs + g->noutputs; k++) {
		bool in = k < g->ninputs, as_in, npu = false;
		int t = in ? g->inputs[k] : g->outputs[k - g->ninputs], nt;

		if (g->tensors[t].dtype != QNPU_DTYPE_UINT8 &&
		    g->tensors[t].dtype != QNPU_DTYPE_INT8)
			continue;
		if (g->tensors[t].dtype == QNPU_DTYPE_INT8 && trivial(&g->tensors[t]))
			continue;
		for (i = 0; i < g->nops; i++)
			if (touches(&g->ops[i], t, &as_in) && npu_op(g, &g->ops[i]))
				npu = true;
		if (!npu)
			continue;
		nt = new_tensor(g, t);
		if (nt < 0)
			return nt;
		/* everyone but the copy uses the new tensor */
		for (i = 0; i < g->nops; i++) {
			for (j = 0; j < g->ops[i].nin; j++)
				if (g->ops[i].in[j] == t)
					g->ops[i].in[j] = nt;
			for (j = 0; j < g->ops[i].nout; j++)
				if (g->ops[i].out[j] == t)
					g->ops[i].out[j] = nt;
		}
		r = in ? insert_relayout(g, 0, t, nt) :
			 insert_relayout(g, g->nops, nt, t);
		if (r)
			return r;
	}
	return 0;
}

/* May tensor @t become INT8 as far as operator @op is concerned? */
static bool int8_ok(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		    int t, bool as_in)
{
	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_QLINEAR_ADD:
		return !as_in || op->in[0] == t || op->in[1] == t;
	case QNPU_ONNX_QLINEAR_AVG_POOL:
	case QNPU_ONNX_MAX_POOL:
	case QNPU_ONNX_RESHAPE:
	case QNPU_ONNX_RELAYOUT:
		return true;
	case QNPU_ONNX_QUANTIZE:
		return !as_in && (op->in[2] < 0 || g->tensors[op->in[2]].const_data);
	case QNPU_ONNX_DEQUANTIZE:
		return as_in && op->in[0] == t &&
		       (op->in[2] < 0 || g->tensors[op->in[2]].const_data);
	}
	return false;
}

/* The zero-point input of a (de)quantization, as INT8 z - 128. */
static int zp_to_int8(struct qnpu_ir_graph *g, struct qnpu_ir_op *op)
{
	struct qnpu_ir_tensor *z;
	int8_t *d;
	size_t i;
	int nt;

	nt = new_tensor(g, op->in[1]);
	if (nt < 0)
		return nt;
	z = &g->tensors[nt];
	z->dtype = QNPU_DTYPE_INT8;
	z->bytes = z->count;
	d = malloc(z->count + 1);
	if (!d)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < z->count; i++)
		d[i] = (int8_t)((op->in[2] >= 0 ?
				 g->tensors[op->in[2]].const_data[i] : 0) - 128);
	z->const_data = (const uint8_t *)d;
	z->owns_data = true;
	op->in[2] = nt;
	return 0;
}

static int to_int8(struct qnpu_ir_graph *g)
{
	int t, i, r;
	bool as_in;

	for (t = 0; t < g->ntensors; t++) {
		struct qnpu_ir_tensor *tt = &g->tensors[t];
		bool ok = tt->dtype == QNPU_DTYPE_UINT8 && !tt->const_data &&
			  !tt->is_input && !tt->is_output;

		for (i = 0; ok && i < g->nops; i++)
			if (touches(&g->ops[i], t, &as_in))
				ok = int8_ok(g, &g->ops[i], t, as_in);
		if (!ok)
			continue;
		tt->dtype = QNPU_DTYPE_INT8;
		for (i = 0; i < tt->nq; i++)
			tt->zero_point[i] -= 128;
		for (i = 0; i < g->nops; i++) {
			struct qnpu_ir_op *op = &g->ops[i];

			if (!touches(op, t, &as_in))
				continue;
			if (op->builtin == QNPU_ONNX_QUANTIZE ||
			    op->builtin == QNPU_ONNX_DEQUANTIZE) {
				r = zp_to_int8(g, op);
				if (r)
					return r;
			}
			if (op->builtin == QNPU_ONNX_RELAYOUT)
				op->opt.onnx.flip =
					g->tensors[op->in[0]].dtype !=
					g->tensors[op->out[0]].dtype;
		}
	}
	return 0;
}

/*
 * UINT8 weights as the NPU's INT8 ones, where that is exact: zero point
 * 128 (flip bit 7, zero point 0), or zero point 0 and no value above 127.
 */
static int weights_to_int8(struct qnpu_ir_graph *g)
{
	int i, k, nt;
	size_t j;

	for (i = 0; i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i];
		const struct qnpu_ir_tensor *w;
		bool flip = true, same = true;
		uint8_t *d;

		if ((op->builtin != QNPU_ONNX_QLINEAR_CONV &&
		     op->builtin != QNPU_ONNX_QLINEAR_MATMUL) || op->in[1] < 0)
			continue;
		w = &g->tensors[op->in[1]];
		if (w->dtype != QNPU_DTYPE_UINT8 || !w->const_data || !w->nq)
			continue;
		for (k = 0; k < w->nq; k++) {
			flip &= w->zero_point[k] == 128;
			same &= w->zero_point[k] == 0;
		}
		for (j = 0; same && j < w->count; j++)
			same = w->const_data[j] < 128;
		if (!flip && !same)
			continue;
		nt = new_tensor(g, op->in[1]);
		if (nt < 0)
			return nt;
		d = malloc(g->tensors[nt].bytes + 1);
		if (!d)
			return qnpu_err(-ENOMEM, "out of memory");
		for (j = 0; j < g->tensors[nt].count; j++)
			d[j] = g->tensors[op->in[1]].const_data[j] ^ (flip ? 0x80 : 0);
		g->tensors[nt].const_data = d;
		g->tensors[nt].owns_data = true;
		g->tensors[nt].dtype = QNPU_DTYPE_INT8;
		for (k = 0; k < g->tensors[nt].nq; k++)
			g->tensors[nt].zero_point[k] = 0;
		op->in[1] = nt;
	}
	return 0;
}

/* Whether @op may run with NHWC activations. */
static bool layout_aware(const struct qnpu_ir_graph *g,
			 const struct qnpu_ir_op *op)
{
	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_QLINEAR_AVG_POOL:
	case QNPU_ONNX_MAX_POOL:
	case QNPU_ONNX_RELAYOUT:
		return g->tensors[op->in[0]].dtype != QNPU_DTYPE_FLOAT32;
	case QNPU_ONNX_QUANTIZE:
	case QNPU_ONNX_DEQUANTIZE:
		return op->in[1] >= 0 && g->tensors[op->in[1]].count == 1;
	}
	return false;
}

static int to_nhwc(struct qnpu_ir_graph *g)
{
	bool *cand = calloc((size_t)g->ntensors + 1, sizeof(*cand));
	bool *ok = calloc((size_t)g->nops + 1, sizeof(*ok));
	bool changed = true;
	int t, i, j;

	if (!cand || !ok) {
		free(cand);
		free(ok);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	for (t = 0; t < g->ntensors; t++)
		cand[t] = !trivial(&g->tensors[t]) && !g->tensors[t].const_data &&
			  !g->tensors[t].is_input && !g->tensors[t].is_output;
	for (i = 0; i < g->nops; i++)
		ok[i] = layout_aware(g, &g->ops[i]);
	while (changed) {
		changed = false;
		for (i = 0; i < g->nops; i++) {
			const struct qnpu_ir_op *op = &g->ops[i];

			for (j = 0; j < op->nin + op->nout; j++) {
				t = j < op->nin ? op->in[j] : op->out[j - op->nin];
				if (t < 0 || trivial(&g->tensors[t]) ||
				    g->tensors[t].const_data)
					continue;
				/* a RELAYOUT's graph-side tensor stays NCHW */
				if (op->builtin == QNPU_ONNX_RELAYOUT &&
				    (g->tensors[t].is_input || g->tensors[t].is_output))
					continue;
				if (ok[i] && !cand[t]) {
					ok[i] = false;
					changed = true;
				}
				if (!ok[i] && cand[t]) {
					cand[t] = false;
					changed = true;
				}
			}
		}
	}
	for (i = 0; i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i];

		if (op->builtin == QNPU_ONNX_RELAYOUT) {
			t = g->tensors[op->in[0]].is_input ? op->out[0] : op->in[0];
			op->opt.onnx.nhwc = ok[i] && cand[t] ?
					    (g->tensors[op->in[0]].is_input ? 1 : 2) : 0;
		} else if (ok[i]) {
			op->opt.onnx.nhwc = 1;
		}
	}
	free(cand);
	free(ok);
	return 0;
}

int qnpu_onnx_npu_layout(struct qnpu_ir_graph *g)
{
	int i, r;
	bool onnx = false;

	for (i = 0; i < g->nops; i++)
		onnx |= g->ops[i].builtin >= QNPU_ONNX_BASE;
	if (!onnx || g->npu_layout)
		return 0;
	g->npu_layout = true;
	r = split_io(g);
	if (!r)
		r = to_int8(g);
	if (!r)
		r = weights_to_int8(g);
	if (!r)
		r = to_nhwc(g);
	return r;
}
