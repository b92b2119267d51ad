// SPDX-License-Identifier: MIT
/*
 * Per-operator requantization parameters: each operator is checked
 * against what TFLite's kernels accept and its parameters (multipliers,
 * offsets, activation range, geometry) are computed once, into the IR op.
 * The CPU backend runs from them and the NPU compiler lowers them, so the
 * two paths cannot disagree. May include: ir/, quant/, util/.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/qnpu_ir.h"
#include "quant/qnpu_onnx_params.h"
#include "quant/qnpu_op_params.h"
#include "util/qnpu_util.h"

#define op_fail(op, ...) qnpu_op_error(op, __VA_ARGS__)

static int qnpu_op_error(const struct qnpu_ir_op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int qnpu_op_error(const struct qnpu_ir_op *op, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return qnpu_err(-EINVAL, "operator %d (%s): %s", op->index,
			qnpu_ir_op_name(op->builtin), msg);
}

static int want_tensor(const struct qnpu_ir_op *op,
		       const struct qnpu_ir_tensor *t, const char *role,
		       enum qnpu_dtype dtype, int rank, bool quantized)
{
	int i;

	if (!t)
		return op_fail(op, "%s tensor is missing", role);
	if (t->dtype != dtype)
		return op_fail(op, "%s is %s, expected %s", role,
			       qnpu_ir_tflite_type_name((int)t->dtype),
			       qnpu_dtype_name(dtype));
	if (rank >= 0 && t->rank != rank)
		return op_fail(op, "%s has rank %d, expected %d", role,
			       t->rank, rank);
	if (quantized && t->nq < 1)
		return op_fail(op, "%s has no quantization parameters", role);
	for (i = 0; quantized && i < t->nq; i++) {
		if (!isfinite(t->scale[i]) || t->scale[i] <= 0)
			return op_fail(op, "%s scale %g is not a positive number",
				       role, (double)t->scale[i]);
		if (dtype == QNPU_DTYPE_INT8 &&
		    (t->zero_point[i] < -128 || t->zero_point[i] > 127))
			return op_fail(op, "%s zero point %d is outside int8",
				       role, t->zero_point[i]);
	}
	return 0;
}

/*
 * Requantization shifts outside [-31, 30] come only from absurd scales;
 * TFLite's arithmetic is undefined there, so refuse the model.
 */
static int check_shifts(const struct qnpu_ir_op *op, const int32_t *shift,
			int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (shift[i] < -31 || shift[i] > 30)
			return op_fail(op, "requantization shift %d (channel %d) is out of range: scales are implausible",
				       shift[i], i);
	return 0;
}

static struct qnpu_shape4 shape4(const struct qnpu_ir_tensor *t)
{
	struct qnpu_shape4 s = { 1, 1, 1, 1 };
	int32_t d[4] = { 1, 1, 1, 1 };
	int i;

	/* Right-align: [c] -> 1x1x1xc, [h,w,c] -> 1xhxwxc. */
	for (i = 0; i < t->rank && i < 4; i++)
		d[4 - t->rank + i] = t->shape[i];
	s.n = d[0];
	s.h = d[1];
	s.w = d[2];
	s.c = d[3];
	return s;
}

/* TFLite's ComputeOutSize / ComputePaddingWithOffset. */
static int conv_geometry(int padding, int in, int filter, int stride,
			 int dilation, int *out, int *pad)
{
	int eff = (filter - 1) * dilation + 1;
	int total;

	if (padding == QNPU_PAD_SAME)
		*out = (in + stride - 1) / stride;
	else if (padding == QNPU_PAD_VALID)
		*out = in >= eff ? (in - eff + stride) / stride : 0;
	else
		return -EINVAL;
	total = (*out - 1) * stride + eff - in;
	*pad = total > 0 ? total / 2 : 0;
	return 0;
}

static int act_range(const struct qnpu_ir_op *op, int act,
		     const struct qnpu_ir_tensor *out, int32_t *lo,
		     int32_t *hi)
{
	if (qnpu_act_range(act, out->scale[0], out->zero_point[0], lo, hi))
		return op_fail(op, "fused activation %d is not supported", act);
	return 0;
}

/*
 * Per-channel multipliers and shifts trail the struct in one allocation,
 * so that the IR frees an operator's parameters with a plain free().
 */
static int alloc_channels(struct qnpu_ir_op *op, struct qnpu_op_params **c,
			  int n)
{
	struct qnpu_op_params *p;

	p = realloc(*c, sizeof(*p) + 2 * (size_t)n * sizeof(int32_t));
	if (!p)
		return qnpu_err(-ENOMEM, "out of memory");
	p->mult = p->chan;
	p->shift = p->chan + n;
	memset(p->chan, 0, 2 * (size_t)n * sizeof(int32_t));
	*c = p;
	op->params = p;
	return 0;
}

/* Float32 activations select the float kernels. */
static bool is_float(const struct qnpu_ir_tensor *t)
{
	return t && t->dtype == QNPU_DTYPE_FLOAT32;
}

/* TFLite's CalculateActivationRange<float>: NONE, RELU, RELU_N1_TO_1, RELU6. */
static int act_range_f32(struct qnpu_ir_op *op, struct qnpu_op_params *c,
			 int act)
{
	static const float lo[] = { -FLT_MAX, 0.0f, -1.0f, 0.0f };
	static const float hi[] = { FLT_MAX, FLT_MAX, 1.0f, 6.0f };

	c->is_float = true;
	if (act < 0 || act > 3)
		return op_fail(op, "fused activation %d is not supported", act);
	c->act_min = lo[act];
	c->act_max = hi[act];
	return 0;
}

/*
 * A constant CONV_2D filter is re-laid out once ([kh][kw][ic][oc], after
 * the struct, freed with it) so that the kernel vectorizes over output
 * channels; a filter computed at run time is read as it is.
 */
static int finish_conv_f32(struct qnpu_ir_op *op,
			   struct qnpu_op_params *c,
			   const struct qnpu_ir_tensor *w, bool dw)
{
	struct qnpu_op_params *n;
	size_t taps, oc, t;
	float *wt;
	int r;

	if ((r = act_range_f32(op, c, op->opt.conv.act)))
		return r;
	if (dw || !w->const_data || !w->count)
		return 0;
	n = realloc(c, sizeof(*n) + w->count * sizeof(float));
	if (!n)
		return qnpu_err(-ENOMEM, "out of memory");
	op->params = n;
	wt = (float *)(void *)n->chan;
	taps = w->count / (size_t)n->fs.n;
	for (oc = 0; oc < (size_t)n->fs.n; oc++)
		for (t = 0; t < taps; t++)
			memcpy(&wt[t * n->fs.n + oc], w->const_data +
			       (oc * taps + t) * sizeof(float), sizeof(float));
	n->filter_t = wt;
	return 0;
}

static int prepare_conv(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
			struct qnpu_op_params *c)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *b = qnpu_ir_in(g, op, 2);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	bool dw = op->builtin == QNPU_TFL_DEPTHWISE_CONV_2D;
	bool f = is_float(in);
	enum qnpu_dtype dt = f ? QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_INT8;
	struct qnpu_conv_params *p = &c->p.conv;
	int oh, ow, oc, r;

	if ((r = want_tensor(op, in, "input", dt, 4, !f)) ||
	    (r = want_tensor(op, w, "filter", dt, 4, !f)) ||
	    (r = want_tensor(op, out, "output", dt, 4, !f)))
		return r;
	c->is = shape4(in);
	c->fs = shape4(w);
	c->os = shape4(out);
	oc = dw ? c->fs.c : c->fs.n;
	if (b && (r = want_tensor(op, b, "bias", f ? QNPU_DTYPE_FLOAT32 :
				  QNPU_DTYPE_INT32, -1, false)))
		return r;
	if (b && (int64_t)b->count != oc)
		return op_fail(op, "bias has %zu elements for %d channels",
			       b->count, oc);
	if (!f && w->nq != 1 && w->nq != oc)
		return op_fail(op, "filter has %d scales for %d channels",
			       w->nq, oc);
	if (op->opt.conv.stride_w < 1 || op->opt.conv.stride_h < 1 ||
	    op->opt.conv.dilation_w < 1 || op->opt.conv.dilation_h < 1)
		return op_fail(op, "stride %dx%d / dilation %dx%d must be >= 1",
			       op->opt.conv.stride_h, op->opt.conv.stride_w,
			       op->opt.conv.dilation_h,
			       op->opt.conv.dilation_w);
	if (dw) {
		if (c->fs.n != 1 || c->is.c < 1 || oc % c->is.c)
			return op_fail(op, "filter %dx%dx%dx%d does not fit %d input channels",
				       c->fs.n, c->fs.h, c->fs.w, c->fs.c,
				       c->is.c);
		p->depth_multiplier = oc / c->is.c;
		if (op->opt.conv.depth_multiplier &&
		    op->opt.conv.depth_multiplier != p->depth_multiplier)
			return op_fail(op, "depth multiplier %d, but shapes say %d",
				       op->opt.conv.depth_multiplier,
				       p->depth_multiplier);
	} else if (c->fs.c != c->is.c) {
		return op_fail(op, "filter has %d input channels, input has %d",
			       c->fs.c, c->is.c);
	}
	p->stride_h = op->opt.conv.stride_h;
	p->stride_w = op->opt.conv.stride_w;
	p->dilation_h = op->opt.conv.dilation_h;
	p->dilation_w = op->opt.conv.dilation_w;
	if (conv_geometry(op->opt.conv.padding, c->is.h, c->fs.h, p->stride_h,
			  p->dilation_h, &oh, &p->pad_h) ||
	    conv_geometry(op->opt.conv.padding, c->is.w, c->fs.w, p->stride_w,
			  p->dilation_w, &ow, &p->pad_w))
		return op_fail(op, "unknown padding %d", op->opt.conv.padding);
	if (c->os.n != c->is.n || c->os.h != oh || c->os.w != ow ||
	    c->os.c != oc)
		return op_fail(op, "output is %dx%dx%dx%d, expected %dx%dx%dx%d",
			       c->os.n, c->os.h, c->os.w, c->os.c, c->is.n,
			       oh, ow, oc);
	if (f)
		return finish_conv_f32(op, c, w, dw);
	if ((r = act_range(op, op->opt.conv.act, out, &p->act_min,
			   &p->act_max)) ||
	    (r = alloc_channels(op, &c, oc)))
		return r;
	p = &c->p.conv;
	qnpu_conv_multipliers(in->scale[0], w->scale, w->nq,
				  out->scale[0], oc, c->mult, c->shift);
	if ((r = check_shifts(op, c->shift, oc)))
		return r;
	p->mult = c->mult;
	p->shift = c->shift;
	p->input_offset = -in->zero_point[0];
	p->output_offset = out->zero_point[0];
	return 0;
}

static int prepare_fc(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		      struct qnpu_op_params *c)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *b = qnpu_ir_in(g, op, 2);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	struct qnpu_fc_params *p = &c->p.fc;
	bool f = is_float(in);
	enum qnpu_dtype dt = f ? QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_INT8;
	int r;

	if ((r = want_tensor(op, in, "input", dt, -1, !f)) ||
	    (r = want_tensor(op, w, "weights", dt, 2, !f)) ||
	    (r = want_tensor(op, out, "output", dt, -1, !f)))
		return r;
	if (op->opt.fc.weights_format)
		return op_fail(op, "shuffled weights format is not supported");
	c->out_depth = w->shape[0];
	c->accum = w->shape[1];
	if (c->accum < 1 || in->count % (size_t)c->accum)
		return op_fail(op, "input of %zu elements is not a multiple of the weights' depth %d",
			       in->count, c->accum);
	c->batches = (int32_t)(in->count / (size_t)c->accum);
	if (out->count != (size_t)c->batches * (size_t)c->out_depth)
		return op_fail(op, "output has %zu elements, expected %d x %d",
			       out->count, c->batches, c->out_depth);
	if (b && (r = want_tensor(op, b, "bias", f ? QNPU_DTYPE_FLOAT32 :
				  QNPU_DTYPE_INT32, -1, false)))
		return r;
	if (b && (int64_t)b->count != c->out_depth)
		return op_fail(op, "bias has %zu elements for %d outputs",
			       b->count, c->out_depth);
	if (f)
		return act_range_f32(op, c, op->opt.fc.act);
	if (w->nq != 1 && w->nq != c->out_depth)
		return op_fail(op, "weights have %d scales for %d outputs",
			       w->nq, c->out_depth);
	if ((r = act_range(op, op->opt.fc.act, out, &p->act_min,
			   &p->act_max)) ||
	    (r = alloc_channels(op, &c, w->nq)))
		return r;
	p = &c->p.fc;
	qnpu_fc_multipliers(in->scale[0], w->scale, w->nq, out->scale[0],
				c->mult, c->shift);
	if ((r = check_shifts(op, c->shift, w->nq)))
		return r;
	p->per_channel = w->nq > 1;
	p->mult = c->mult;
	p->shift = c->shift;
	p->input_offset = -in->zero_point[0];
	p->filter_offset = -w->zero_point[0];
	p->output_offset = out->zero_point[0];
	return 0;
}

static int prepare_add(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		       struct qnpu_op_params *c)
{
	const struct qnpu_ir_tensor *a = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *b = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	bool f = is_float(a);
	enum qnpu_dtype dt = f ? QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_INT8;
	int32_t lo, hi;
	int r;

	if ((r = want_tensor(op, a, "input 0", dt, -1, !f)) ||
	    (r = want_tensor(op, b, "input 1", dt, -1, !f)) ||
	    (r = want_tensor(op, out, "output", dt, -1, !f)))
		return r;
	if (a->rank > 4 || b->rank > 4 || out->rank > 4)
		return op_fail(op, "broadcast beyond rank 4 is not supported");
	c->is = shape4(a);
	c->bs = shape4(b);
	c->os = shape4(out);
	c->broadcast = a->count != out->count || b->count != out->count;
	if (c->broadcast) {
		const int32_t *da = &c->is.n, *db = &c->bs.n, *dout = &c->os.n;
		int i;

		for (i = 0; i < 4; i++) {
			int32_t want = da[i] > db[i] ? da[i] : db[i];

			if ((da[i] != 1 && da[i] != want) ||
			    (db[i] != 1 && db[i] != want) || dout[i] != want)
				return op_fail(op, "inputs do not broadcast to the output shape");
		}
	}
	if (f)
		return act_range_f32(op, c, op->opt.add.act);
	if ((r = act_range(op, op->opt.add.act, out, &lo, &hi)))
		return r;
	qnpu_add_prepare(&c->p.add, a->scale[0], a->zero_point[0],
			     b->scale[0], b->zero_point[0], out->scale[0],
			     out->zero_point[0], lo, hi);
	return check_shifts(op, (int32_t[]){ c->p.add.in1_shift,
					     c->p.add.in2_shift,
					     c->p.add.out_shift }, 3);
}

static int prepare_pool(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
			struct qnpu_op_params *c)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	struct qnpu_pool_params *p = &c->p.pool;
	bool f = is_float(in);
	enum qnpu_dtype dt = f ? QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_INT8;
	int oh, ow, r;

	if ((r = want_tensor(op, in, "input", dt, 4, !f)) ||
	    (r = want_tensor(op, out, "output", dt, 4, !f)))
		return r;
	p->stride_h = op->opt.pool.stride_h;
	p->stride_w = op->opt.pool.stride_w;
	p->filter_h = op->opt.pool.filter_h;
	p->filter_w = op->opt.pool.filter_w;
	if (p->stride_h < 1 || p->stride_w < 1 || p->filter_h < 1 ||
	    p->filter_w < 1)
		return op_fail(op, "filter %dx%d / stride %dx%d must be >= 1",
			       p->filter_h, p->filter_w, p->stride_h,
			       p->stride_w);
	c->is = shape4(in);
	c->os = shape4(out);
	if (conv_geometry(op->opt.pool.padding, c->is.h, p->filter_h,
			  p->stride_h, 1, &oh, &p->pad_h) ||
	    conv_geometry(op->opt.pool.padding, c->is.w, p->filter_w,
			  p->stride_w, 1, &ow, &p->pad_w))
		return op_fail(op, "unknown padding %d", op->opt.pool.padding);
	if (c->os.n != c->is.n || c->os.h != oh || c->os.w != ow ||
	    c->os.c != c->is.c)
		return op_fail(op, "output is %dx%dx%dx%d, expected %dx%dx%dx%d",
			       c->os.n, c->os.h, c->os.w, c->os.c, c->is.n,
			       oh, ow, c->is.c);
	if (f)
		return act_range_f32(op, c, op->opt.pool.act);
	return act_range(op, op->opt.pool.act, out, &p->act_min, &p->act_max);
}

static int prepare_softmax(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
			   struct qnpu_op_params *c)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	bool f = is_float(in);
	int r;

	if (f && ((r = want_tensor(op, out, "output", QNPU_DTYPE_FLOAT32, -1,
				   false))))
		return r;
	if (!f && ((r = want_tensor(op, in, "input", QNPU_DTYPE_INT8, -1,
				    true)) ||
		   (r = want_tensor(op, out, "output", QNPU_DTYPE_INT8, -1,
				    true))))
		return r;
	if (in->rank < 1 || out->count != in->count)
		return op_fail(op, "output shape differs from input shape");
	if (f) {
		c->is_float = true;
		c->out_depth = in->shape[in->rank - 1];
		c->batches = c->out_depth ?
			(int32_t)(in->count / (size_t)c->out_depth) : 0;
		if (!isfinite(op->opt.softmax.beta))
			return op_fail(op, "beta %g is not a number",
				       (double)op->opt.softmax.beta);
		return 0;
	}
	if (out->zero_point[0] != -128 || out->scale[0] != 1.0f / 256)
		return op_fail(op, "int8 output must have scale 1/256 and zero point -128");
	c->out_depth = in->shape[in->rank - 1];
	c->batches = c->out_depth ? (int32_t)(in->count / (size_t)c->out_depth) : 0;
	if (qnpu_softmax_prepare(&c->p.softmax, op->opt.softmax.beta,
				     in->scale[0], out->zero_point[0]))
		return op_fail(op, "beta %g with input scale %g is out of range",
			       (double)op->opt.softmax.beta,
			       (double)in->scale[0]);
	return 0;
}

/*
 * DEQUANTIZE: int8 with one scale or one per index of its axis (constant
 * weights), or float16 (constants of a float16-weight model) to float32.
 */
static int prepare_dequant(struct qnpu_ir_op *op, struct qnpu_op_params *c,
			   const struct qnpu_ir_tensor *in,
			   const struct qnpu_ir_tensor *out)
{
	int i, r;

	if ((r = want_tensor(op, out, "output", QNPU_DTYPE_FLOAT32, -1,
			     false)))
		return r;
	c->is_float = true;
	if ((int)in->dtype == QNPU_IR_DTYPE_FLOAT16)
		return 0;
	if ((r = want_tensor(op, in, "input", QNPU_DTYPE_INT8, -1, true)))
		return r;
	c->outer = in->count;
	c->axis = 1;
	c->inner = 1;
	if (in->nq > 1) {
		c->axis = (size_t)in->shape[in->qdim];
		for (i = in->qdim + 1; i < in->rank; i++)
			c->inner *= (size_t)in->shape[i];
		c->outer = c->axis && c->inner ?
			   in->count / (c->axis * c->inner) : 0;
	}
	return 0;
}

static int prepare_quant(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
			 struct qnpu_op_params *c)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	int r;

	if (!in || !out)
		return op_fail(op, "input or output tensor is missing");
	if (in->count != out->count)
		return op_fail(op, "output shape differs from input shape");
	if (op->builtin == QNPU_TFL_DEQUANTIZE)
		return prepare_dequant(op, c, in, out);
	if ((r = want_tensor(op, out, "output", QNPU_DTYPE_INT8, -1, true)))
		return r;
	if (in->dtype == QNPU_DTYPE_FLOAT32)
		return 0;
	if ((r = want_tensor(op, in, "input", QNPU_DTYPE_INT8, -1, true)))
		return r;
	qnpu_requantize_prepare(&c->p.requant, in->scale[0],
				    in->zero_point[0], out->scale[0],
				    out->zero_point[0]);
	return check_shifts(op, &c->p.requant.shift, 1);
}

static int prepare_reshape(struct qnpu_ir_graph *g, struct qnpu_ir_op *op)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);

	if (!in || !out)
		return op_fail(op, "input or output tensor is missing");
	if (in->dtype != out->dtype || in->bytes != out->bytes || !in->bytes)
		return op_fail(op, "input (%zu bytes) and output (%zu bytes) differ",
			       in->bytes, out->bytes);
	return 0;
}


int qnpu_op_params_prepare(struct qnpu_ir_graph *g, struct qnpu_ir_op *op)
{
	struct qnpu_op_params *c;

	if (op->builtin >= QNPU_ONNX_BASE)
		return qnpu_onnx_params_prepare(g, op);
	c = calloc(1, sizeof(*c));

	if (!c)
		return qnpu_err(-ENOMEM, "out of memory");
	free(op->params);
	op->params = c;
	if (op->nout < 1 || !qnpu_ir_out(g, op, 0))
		return op_fail(op, "has no output tensor");
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		return prepare_conv(g, op, c);
	case QNPU_TFL_FULLY_CONNECTED:
		return prepare_fc(g, op, c);
	case QNPU_TFL_ADD:
		return prepare_add(g, op, c);
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
		return prepare_pool(g, op, c);
	case QNPU_TFL_SOFTMAX:
		return prepare_softmax(g, op, c);
	case QNPU_TFL_QUANTIZE:
	case QNPU_TFL_DEQUANTIZE:
		return prepare_quant(g, op, c);
	case QNPU_TFL_RESHAPE:
		return prepare_reshape(g, op);
	}
	return op_fail(op, "not supported on the CPU");
}

int qnpu_op_params_prepare_all(struct qnpu_ir_graph *g)
{
	int i, r;

	for (i = 0; i < g->nops; i++) {
		r = qnpu_op_params_prepare(g, &g->ops[i]);
		if (r)
			return r;
	}
	return 0;
}
