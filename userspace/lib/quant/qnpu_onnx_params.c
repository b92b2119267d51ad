// SPDX-License-Identifier: MIT
/*
 * The ONNX operators' parameters: geometry from the IR, and the
 * requantization as ONNX Runtime prepares it. Its QLinearConv and QGemm
 * compute the output scale per channel as float32 x_scale * w_scale[c] /
 * y_scale (left to right, in float); QLinearGlobalAveragePool as x_scale
 * / (y_scale * float(H * W)); QLinearAdd the ratios a_scale / y_scale and
 * b_scale / y_scale. Relu / Clip folded into an operator narrow its
 * output range to their quantized bounds.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/qnpu_onnx_params.h"
#include "quant/qnpu_op_params.h"
#include "util/qnpu_util.h"

static int fail(const struct qnpu_ir_op *op, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return qnpu_err(-EINVAL, "operator %d (%s): %s", op->index,
			qnpu_ir_op_name(op->builtin), msg);
}

static void range(int type, int32_t *lo, int32_t *hi)
{
	*lo = type == QNPU_DTYPE_UINT8 ? 0 : -128;
	*hi = type == QNPU_DTYPE_UINT8 ? 255 : 127;
}

static int32_t zp0(const struct qnpu_ir_tensor *t)
{
	return t->nq ? t->zero_point[0] : 0;
}

static void operand(struct qnpu_onnx_operand *o, const struct qnpu_ir_tensor *t)
{
	memset(o, 0, sizeof(*o));
	o->type = (int)t->dtype;
	o->scale = t->nq ? t->scale[0] : 1.0f;
	o->zp = zp0(t);
	if (t->nq > 1) {
		o->scales = t->scale;
		o->zps = t->zero_point;
	}
}

/* QuantizeLinear of a float bound, as the fused Relu/Clip's range. */
static int32_t qbound(float v, const struct qnpu_onnx_operand *y, int32_t lo,
		      int32_t hi)
{
	float f = v / y->scale;

	if (f < (float)(lo - y->zp))
		return lo;
	if (f > (float)(hi - y->zp))
		return hi;
	return (int32_t)nearbyintf(f) + y->zp;
}

static void out_range(struct qnpu_onnx_params *p, const struct qnpu_ir_op *op)
{
	range(p->y.type, &p->qmin, &p->qmax);
	p->lo = op->opt.onnx.lo;
	p->hi = op->opt.onnx.hi;
	if (p->y.type != QNPU_DTYPE_UINT8 && p->y.type != QNPU_DTYPE_INT8)
		return;
	if (isfinite(p->lo))
		p->qmin = qbound(p->lo, &p->y, p->qmin, p->qmax);
	if (isfinite(p->hi))
		p->qmax = qbound(p->hi, &p->y, p->qmin, p->qmax);
}

/* Zero points given as constant tensors (ConvInteger, MatMulInteger). */
static int operand_zps(const struct qnpu_ir_op *op,
		       const struct qnpu_ir_tensor *t,
		       struct qnpu_onnx_operand *o, int32_t *store, size_t max)
{
	size_t i;

	o->zp = 0;
	o->zps = NULL;
	if (!t)
		return 0;
	if (!t->const_data || t->dtype != (enum qnpu_dtype)o->type ||
	    (t->count != 1 && t->count != max))
		return fail(op, "zero point '%s' must be a constant of the input's type, one or one per channel",
			    t->name);
	for (i = 0; i < t->count; i++)
		store[i] = t->dtype == QNPU_DTYPE_UINT8 ? t->const_data[i] :
			   (int8_t)t->const_data[i];
	o->zp = store[0];
	if (t->count > 1)
		o->zps = store;
	return 0;
}

/*
 * ConvInteger / MatMulInteger: the zero points of x (input 2, one) and of
 * the weights (input 3, one or @nw), into @zs.
 */
static int int_zps(struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		   struct qnpu_onnx_params *p, int32_t *zs, size_t nw)
{
	int r = operand_zps(op, qnpu_ir_in(g, op, 2), &p->x, zs, 1);

	return r ? r : operand_zps(op, qnpu_ir_in(g, op, 3), &p->wq, zs + 1,
				   nw);
}

static void mults(struct qnpu_onnx_params *p, float *m, int32_t n)
{
	int32_t i;

	for (i = 0; i < n; i++) {
		float ws = p->wq.scales ? p->wq.scales[i] : p->wq.scale;

		m[i] = p->x.scale * ws / p->y.scale;
	}
	p->mult = m;
	p->nmult = p->wq.scales ? n : 1;
}

/* N, C, H, W of a 4-D activation (its shape is ONNX's, NCHW). */
static void nchw_dims(const struct qnpu_ir_op *op,
		      const struct qnpu_ir_tensor *t, int32_t *n, int32_t *c,
		      int32_t *h, int32_t *w)
{
	(void)op;	/* shapes stay NCHW; nhwc changes the memory order only */
	*n = t->shape[0];
	*c = t->shape[1];
	*h = t->shape[2];
	*w = t->shape[3];
}

static int prep_conv(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		     struct qnpu_onnx_params *p, float *m, int32_t *zs)
{
	int32_t k;

	const struct qnpu_ir_tensor *x = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *b = op->builtin == QNPU_ONNX_CONV_INTEGER ?
					 NULL : qnpu_ir_in(g, op, 2);
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);

	if (!x || !w || x->rank != 4 || w->rank != 4 || y->rank != 4 ||
	    !w->const_data)
		return fail(op, "needs a 4-D input and a constant 4-D weight");
	nchw_dims(op, x, &p->n, &p->c, &p->h, &p->w);
	nchw_dims(op, y, &k, &p->m, &p->oh, &p->ow);
	p->kh = w->shape[2];
	p->kw = w->shape[3];
	if (w->shape[0] != p->m)
		return fail(op, "%d weights for %d output channels", w->shape[0], p->m);
	p->group = op->opt.onnx.group;
	p->stride_h = op->opt.onnx.stride[0];
	p->stride_w = op->opt.onnx.stride[1];
	p->dil_h = op->opt.onnx.dilation[0];
	p->dil_w = op->opt.onnx.dilation[1];
	p->pad_t = op->opt.onnx.pad[0];
	p->pad_l = op->opt.onnx.pad[1];
	p->nhwc = op->opt.onnx.nhwc;
	if (p->group < 1 || p->c % p->group || p->m % p->group ||
	    w->shape[1] * p->group != p->c)
		return fail(op, "group %d does not fit the shapes", p->group);
	if (b && (b->count != (size_t)p->m ||
		  b->dtype != (op->builtin == QNPU_ONNX_CONV ?
			       QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_INT32)))
		return fail(op, "bias must hold one value per output channel");
	operand(&p->x, x);
	operand(&p->wq, w);
	operand(&p->y, y);
	if (op->builtin == QNPU_ONNX_CONV) {
		p->lo = op->opt.onnx.lo;
		p->hi = op->opt.onnx.hi;
		return 0;
	}
	if (op->builtin == QNPU_ONNX_CONV_INTEGER)
		return int_zps(g, op, p, zs, (size_t)p->m);
	if ((p->wq.zps && (w->qdim != 0)) || !x->nq || !w->nq || !y->nq)
		return fail(op, "needs per-tensor input/output and per-tensor or axis-0 weight quantization");
	mults(p, m, p->m);
	out_range(p, op);
	return 0;
}

static int prep_matmul(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		       struct qnpu_onnx_params *p, float *m, int32_t *zs)
{
	const struct qnpu_ir_tensor *a = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *b = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *c = op->builtin != QNPU_ONNX_MATMUL_INTEGER ?
					 qnpu_ir_in(g, op, 2) : NULL;
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);
	int i;

	if (!a || !b || a->rank < 2 || b->rank < 2 || y->rank != a->rank)
		return fail(op, "needs two matrices");
	p->trans_a = op->opt.onnx.trans_a;
	p->trans_b = op->opt.onnx.trans_b;
	p->mm = y->shape[y->rank - 2];
	p->nn = y->shape[y->rank - 1];
	p->kk = a->shape[a->rank - (p->trans_a ? 2 : 1)];
	p->batch = 1;
	for (i = 0; i < a->rank - 2; i++)
		p->batch *= a->shape[i];
	p->a_batched = p->batch > 1;
	p->b_batched = b->rank > 2;
	if (b->shape[b->rank - (p->trans_b ? 1 : 2)] != p->kk ||
	    b->shape[b->rank - (p->trans_b ? 2 : 1)] != p->nn ||
	    (size_t)p->batch * p->mm * p->kk != a->count)
		return fail(op, "the matrices do not multiply");
	p->alpha = op->builtin == QNPU_ONNX_GEMM ? op->opt.onnx.alpha : 1;
	p->beta = op->builtin == QNPU_ONNX_GEMM ? op->opt.onnx.beta : 1;
	if (c) {
		if (c->count == (size_t)p->nn) {
			p->bias_rs = 0;
			p->bias_cs = 1;
		} else if (c->count == 1) {
			p->bias_rs = p->bias_cs = 0;
		} else if (c->count == (size_t)p->mm * p->nn && p->batch == 1) {
			p->bias_rs = (size_t)p->nn;
			p->bias_cs = 1;
		} else {
			return fail(op, "bias of %zu values", c->count);
		}
		if (c->dtype != (op->builtin == QNPU_ONNX_GEMM ?
				 QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_INT32))
			return fail(op, "bias type");
	}
	operand(&p->x, a);
	operand(&p->wq, b);
	operand(&p->y, y);
	if (op->builtin == QNPU_ONNX_GEMM) {
		p->lo = op->opt.onnx.lo;
		p->hi = op->opt.onnx.hi;
		return 0;
	}
	if (op->builtin == QNPU_ONNX_MATMUL_INTEGER)
		return int_zps(g, op, p, zs, (size_t)p->nn);
	if (!a->nq || !b->nq || !y->nq || a->nq > 1 || y->nq > 1 ||
	    (b->nq > 1 && (b->nq != p->nn ||
			   b->qdim != b->rank - (p->trans_b ? 2 : 1))))
		return fail(op, "needs per-tensor A and Y, per-tensor or per-column B");
	mults(p, m, p->nn);
	out_range(p, op);
	return 0;
}

/* NumPy broadcast strides of a and b over the output. */
static int bcast(struct qnpu_onnx_params *p, const struct qnpu_ir_op *op,
		 const struct qnpu_ir_tensor *a, const struct qnpu_ir_tensor *b,
		 const struct qnpu_ir_tensor *y)
{
	size_t sa = 1, sb = 1;
	int d;

	p->rank = y->rank;
	p->count = y->count;
	for (d = y->rank - 1; d >= 0; d--) {
		int ia = d - (y->rank - a->rank), ib = d - (y->rank - b->rank);
		int32_t da = ia >= 0 ? a->shape[ia] : 1;
		int32_t db = ib >= 0 ? b->shape[ib] : 1;

		if ((da != y->shape[d] && da != 1) || (db != y->shape[d] && db != 1))
			return fail(op, "inputs do not broadcast to the output");
		p->out_shape[d] = (size_t)y->shape[d];
		p->a_stride[d] = da == 1 ? 0 : sa;
		p->b_stride[d] = db == 1 ? 0 : sb;
		sa *= (size_t)da;
		sb *= (size_t)db;
	}
	return 0;
}

static int prep_pool(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		     struct qnpu_onnx_params *p, float *m)
{
	const struct qnpu_ir_tensor *x = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);

	int32_t k, oc;

	if (!x || x->rank != 4 || y->rank != 4)
		return fail(op, "needs a 4-D input");
	nchw_dims(op, x, &p->n, &p->c, &p->h, &p->w);
	nchw_dims(op, y, &k, &oc, &p->oh, &p->ow);
	p->nhwc = op->opt.onnx.nhwc;
	p->kh = op->opt.onnx.kernel[0];
	p->kw = op->opt.onnx.kernel[1];
	p->stride_h = op->opt.onnx.stride[0];
	p->stride_w = op->opt.onnx.stride[1];
	p->dil_h = op->opt.onnx.dilation[0];
	p->dil_w = op->opt.onnx.dilation[1];
	p->pad_t = op->opt.onnx.pad[0];
	p->pad_l = op->opt.onnx.pad[1];
	p->count_include_pad = op->opt.onnx.count_include_pad ? 1 : 0;
	if (p->kh < 1 || p->kw < 1 || p->stride_h < 1 || p->stride_w < 1 ||
	    k != p->n || oc != p->c)
		return fail(op, "bad window");
	operand(&p->x, x);
	operand(&p->y, y);
	p->lo = op->opt.onnx.lo;
	p->hi = op->opt.onnx.hi;
	if (op->builtin == QNPU_ONNX_MAX_POOL)
		return x->dtype == y->dtype ? 0 : fail(op, "types differ");
	if (op->builtin == QNPU_ONNX_QLINEAR_AVG_POOL) {
		if (!x->nq || !y->nq)
			return fail(op, "needs quantized input and output");
		m[0] = p->x.scale / (p->y.scale * (float)(p->h * p->w));
		p->mult = m;
		p->nmult = 1;
		out_range(p, op);
	}
	return 0;
}

/* [outer][axis][inner] around axis @ax of @t (per tensor: axis 1). */
static void split(struct qnpu_onnx_params *p, const struct qnpu_ir_tensor *t,
		  int ax, bool per_axis)
{
	int i;

	p->outer = 1;
	p->inner = 1;
	p->axis = 1;
	p->count = t->count;
	if (!per_axis) {
		p->outer = t->count;
		return;
	}
	for (i = 0; i < t->rank; i++) {
		if (i < ax)
			p->outer *= (size_t)t->shape[i];
		else if (i > ax)
			p->inner *= (size_t)t->shape[i];
		else
			p->axis = (size_t)t->shape[i];
	}
}

static int prep_qdq(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		    struct qnpu_onnx_params *p)
{
	const struct qnpu_ir_tensor *x = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *s = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *z = qnpu_ir_in(g, op, 2);
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);
	const struct qnpu_ir_tensor *q = op->builtin == QNPU_ONNX_QUANTIZE ? y : x;

	if (!x || !s || s->dtype != QNPU_DTYPE_FLOAT32 || !s->count ||
	    x->count != y->count || (z && (z->count != s->count ||
					   z->dtype != q->dtype)))
		return fail(op, "scale and zero point do not fit");
	if (s->count > 1 && (op->opt.onnx.axis < 0 ||
			     op->opt.onnx.axis >= x->rank ||
			     (size_t)x->shape[op->opt.onnx.axis] != s->count))
		return fail(op, "%zu scales do not fit the axis", s->count);
	split(p, x, op->opt.onnx.axis, s->count > 1);
	p->x.type = (int)x->dtype;
	p->y.type = (int)y->dtype;
	range(q->dtype, &p->qmin, &p->qmax);
	return 0;
}

static size_t onnx_esize_ok(const struct qnpu_ir_tensor *t)
{
	return t->dtype == QNPU_DTYPE_UINT8 || t->dtype == QNPU_DTYPE_INT8 ? 1 : 0;
}

static int kfn(int fn)
{
	switch (fn) {
	case QNPU_ONNX_FN_ADD: return QNPU_ONNX_K_ADD;
	case QNPU_ONNX_FN_SUB: return QNPU_ONNX_K_SUB;
	case QNPU_ONNX_FN_MUL: return QNPU_ONNX_K_MUL;
	case QNPU_ONNX_FN_DIV: return QNPU_ONNX_K_DIV;
	case QNPU_ONNX_FN_MIN: return QNPU_ONNX_K_MIN;
	case QNPU_ONNX_FN_MAX: return QNPU_ONNX_K_MAX;
	case QNPU_ONNX_FN_ROUND: return QNPU_ONNX_K_ROUND;
	}
	return QNPU_ONNX_K_CLIP;
}

static int prepare(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		   struct qnpu_onnx_params *p, float *m, int32_t *zs)
{
	const struct qnpu_ir_tensor *x = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *b = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);
	int r;

	if (!x || !y)
		return fail(op, "input or output tensor is missing");
	p->lo = -INFINITY;
	p->hi = INFINITY;
	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_CONV_INTEGER:
	case QNPU_ONNX_CONV:
		return prep_conv(g, op, p, m, zs);
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_MATMUL_INTEGER:
	case QNPU_ONNX_GEMM:
		return prep_matmul(g, op, p, m, zs);
	case QNPU_ONNX_QLINEAR_ADD:
		if (!b || !x->nq || !b->nq || !y->nq)
			return fail(op, "needs quantized inputs and output");
		operand(&p->x, x);
		operand(&p->b, b);
		operand(&p->y, y);
		p->ratio_a = p->x.scale / p->y.scale;
		p->ratio_b = p->b.scale / p->y.scale;
		out_range(p, op);
		return bcast(p, op, x, b, y);
	case QNPU_ONNX_QLINEAR_AVG_POOL:
	case QNPU_ONNX_AVG_POOL:
	case QNPU_ONNX_MAX_POOL:
		return prep_pool(g, op, p, m);
	case QNPU_ONNX_QUANTIZE:
	case QNPU_ONNX_DEQUANTIZE:
		return prep_qdq(g, op, p);
	case QNPU_ONNX_DYNAMIC_QUANTIZE:
		p->count = x->count;
		return op->nout == 3 ? 0 : fail(op, "needs three outputs");
	case QNPU_ONNX_RESHAPE:
		return x->bytes == y->bytes && x->dtype == y->dtype ? 0 :
		       fail(op, "input and output sizes differ");
	case QNPU_ONNX_SOFTMAX:
		p->axis = (size_t)x->shape[x->rank - 1];
		p->outer = x->count / (p->axis ? p->axis : 1);
		return x->rank && p->axis ? 0 : fail(op, "empty input");
	case QNPU_ONNX_BINARY:
		if (!b)
			return fail(op, "needs two inputs");
		p->fn = kfn(op->opt.onnx.fn);
		r = bcast(p, op, x, b, y);
		return r;
	case QNPU_ONNX_UNARY:
	case QNPU_ONNX_REDUCE:
		p->fn = kfn(op->opt.onnx.fn);
		p->lo = op->opt.onnx.lo;
		p->hi = op->opt.onnx.hi;
		p->count = x->count;
		return x->count ? 0 : fail(op, "empty input");
	case QNPU_ONNX_RELAYOUT:
		p->count = x->count;
		p->relayout = op->opt.onnx.nhwc;
		p->flip = op->opt.onnx.flip;
		if (x->bytes != y->bytes || (p->relayout && x->rank != 4) ||
		    onnx_esize_ok(x) != 1)
			return fail(op, "relayouts 4-D byte tensors only");
		if (p->relayout) {
			const struct qnpu_ir_tensor *t = p->relayout == 1 ? x : y;

			p->n = t->shape[0];
			p->c = t->shape[1];
			p->h = t->shape[2];
			p->w = t->shape[3];
		}
		return 0;
	case QNPU_ONNX_CAST:
		p->count = x->count;
		p->x.type = (int)x->dtype;
		p->y.type = (int)y->dtype;
		return 0;
	}
	return fail(op, "not supported on the CPU");
}

int qnpu_onnx_params_prepare(struct qnpu_ir_graph *g, struct qnpu_ir_op *op)
{
	size_t extra = 0;
	struct qnpu_op_params *c;
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);
	float *m;
	int32_t *zs;

	/* Room for one multiplier and zero point per output channel. */
	if (y && y->rank >= 2)
		extra = (size_t)y->shape[y->rank == 4 ? 1 : y->rank - 1];
	extra += 2;
	c = calloc(1, sizeof(*c) + extra * (sizeof(float) + sizeof(int32_t)));
	if (!c)
		return qnpu_err(-ENOMEM, "out of memory");
	free(op->params);
	op->params = c;
	m = (float *)(void *)c->chan;
	zs = (int32_t *)(void *)(m + extra);
	if (op->nout < 1 || !y)
		return fail(op, "has no output tensor");
	return prepare(g, op, &c->p.onnx, m, zs);
}
