// SPDX-License-Identifier: MIT
/*
 * The quantizer: a float32 IR graph becomes TFLite's int8 scheme in place,
 * the way TFLite's converter does it, so that with min/max ranges the
 * weights and biases come out equal to the converter's:
 *   - weights symmetric int8, scale = max|w| / 127 and
 *     q = round_half_away(w * (127 / max|w|)), both in float32; per output
 *     channel for CONV_2D (axis 0) and DEPTHWISE_CONV_2D (axis 3), per
 *     tensor for FULLY_CONNECTED (and conv with per_tensor);
 *   - biases int32 at scale input_scale * weight_scale, zero point 0;
 *   - activations asymmetric int8 per tensor from their calibrated range
 *     (GetAsymmetricQuantizationParams); pooling and RESHAPE outputs take
 *     their input's parameters, SOFTMAX's output is 1/256, -128.
 * Tensor names are kept, so the debugger matches float and int8 tensors.
 * May include: ir/, quant/, util/.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/qnpu_ir.h"
#include "quant/qnpu_quant.h"
#include "util/qnpu_util.h"

/* A channel whose weights are all below this is dead: see dead_scale. */
#define QNPU_DEAD_WEIGHT 1e-6f

static int set_q(struct qnpu_ir_tensor *t, int n, int qdim)
{
	free(t->scale);
	free(t->zero_point);
	t->scale = calloc((size_t)n, sizeof(float));
	t->zero_point = calloc((size_t)n, sizeof(int32_t));
	t->nq = n;
	t->qdim = qdim;
	if (!t->scale || !t->zero_point)
		return qnpu_err(-ENOMEM, "out of memory");
	return 0;
}

static int act_params(struct qnpu_ir_tensor *t, float scale, int32_t zp)
{
	int r = set_q(t, 1, 0);

	if (r)
		return r;
	t->scale[0] = scale;
	t->zero_point[0] = zp;
	t->dtype = QNPU_DTYPE_INT8;
	t->bytes = t->count;
	return 0;
}

static int act_from_range(struct qnpu_ir_graph *g, int ti,
			  const struct qnpu_quant_ranges *rg)
{
	float s;
	int32_t zp;

	if (rg->scale && rg->scale[ti] > 0)
		return act_params(&g->tensors[ti], rg->scale[ti], rg->zp[ti]);
	if (!rg->have[ti])
		return qnpu_err(-EINVAL, "tensor %d (%s) has no calibrated range",
				ti, g->tensors[ti].name);
	qnpu_asym_params(rg->lo[ti], rg->hi[ti], &s, &zp);
	return act_params(&g->tensors[ti], s, zp);
}

/*
 * Symmetric int8 weights: @nch channels along @axis (0 = outermost of
 * [nch][inner], 3 = innermost of [outer][nch]), or one scale.
 */
static int quant_weights(struct qnpu_ir_tensor *t, int nch, bool innermost)
{
	const float *w = (const float *)t->const_data;
	size_t n = t->count, k;
	int8_t *q = malloc(n ? n : 1);
	float *m = calloc((size_t)nch, sizeof(float));
	int c, r;

	if (!q || !m) {
		free(q);
		free(m);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	for (k = 0; k < n; k++) {
		c = nch == 1 ? 0 : innermost ? (int)(k % (size_t)nch) :
			(int)(k / (n / (size_t)nch));
		m[c] = fmaxf(m[c], fabsf(w[k]));
	}
	r = set_q(t, nch, innermost ? t->rank - 1 : 0);
	if (r) {
		free(q);
		free(m);
		return r;
	}
	for (c = 0; c < nch; c++)
		/*
		 * A dead channel (all weights ~0, e.g. 1e-16 from folded
		 * batch norm) stores zeros at scale 1/127: no division by a
		 * near-zero scale, and a bias that still fits int32.
		 */
		t->scale[c] = m[c] > QNPU_DEAD_WEIGHT ? m[c] / 127.0f :
			      1.0f / 127.0f;
	for (k = 0; k < n; k++) {
		float inv, v;

		c = nch == 1 ? 0 : innermost ? (int)(k % (size_t)nch) :
			(int)(k / (n / (size_t)nch));
		if (!(m[c] > QNPU_DEAD_WEIGHT)) {
			q[k] = 0;
			continue;
		}
		inv = 127.0f / m[c];
		v = qnpu_round_away(w[k] * inv);
		q[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	free(m);
	if (t->owns_data)
		free((void *)t->const_data);
	t->const_data = (const uint8_t *)q;
	t->owns_data = true;
	t->dtype = QNPU_DTYPE_INT8;
	t->bytes = n;
	return 0;
}

/*
 * Bias correction (Nagel et al., "Data-Free Quantization", 2019): the
 * rounded weights shift each output channel's mean by
 * sum (s * q - w) * E[x]; subtracting that from the float bias gives the
 * int8 layer the float layer's mean output. @wf: the float weights,
 * @w: the quantized tensor, @mean: the input's per-channel means.
 * Conv borders (zero padding) are ignored.
 */
static void mean_shift(const struct qnpu_ir_op *op, const float *wf,
		       const struct qnpu_ir_tensor *w, const double *mean,
		       int in_ch, double *delta, int nout)
{
	size_t k, n = w->count;
	int o, ic;

	memset(delta, 0, (size_t)nout * sizeof(double));
	for (k = 0; k < n; k++) {
		double e;

		if (op->builtin == QNPU_TFL_DEPTHWISE_CONV_2D) {
			o = (int)(k % (size_t)nout);
			ic = o / (nout / in_ch);
		} else {
			o = (int)(k / (n / (size_t)nout));
			ic = (int)(k % (size_t)in_ch);
		}
		e = (double)w->scale[w->nq > 1 ? o : 0] *
		    ((const int8_t *)w->const_data)[k] - wf[k];
		delta[o] += e * mean[ic];
	}
}

static int quant_bias(struct qnpu_ir_tensor *b, float in_scale,
		      const struct qnpu_ir_tensor *w, const double *delta)
{
	const float *f = (const float *)b->const_data;
	size_t n = b->count, k;
	int32_t *q = malloc((n ? n : 1) * sizeof(int32_t));
	int r;

	if (!q)
		return qnpu_err(-ENOMEM, "out of memory");
	r = set_q(b, w->nq > 1 ? (int)n : 1, 0);
	if (r) {
		free(q);
		return r;
	}
	for (k = 0; k < n; k++) {
		float s = in_scale * w->scale[w->nq > 1 ? k : 0];
		float fb = delta ? (float)(f[k] - delta[k]) : f[k];
		double v = roundf(fb / s);

		b->scale[w->nq > 1 ? k : 0] = s;
		q[k] = v > INT32_MAX ? INT32_MAX : v < -INT32_MAX ? -INT32_MAX :
		       (int32_t)v;
	}
	if (b->owns_data)
		free((void *)b->const_data);
	b->const_data = (const uint8_t *)q;
	b->owns_data = true;
	b->dtype = QNPU_DTYPE_INT32;
	b->bytes = n * sizeof(int32_t);
	return 0;
}

static int quant_op(struct qnpu_ir_graph *g, struct qnpu_ir_op *op,
		    const struct qnpu_quant_ranges *rg,
		    const struct qnpu_quantize_opts *o)
{
	struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	struct qnpu_ir_tensor *b = qnpu_ir_in(g, op, 2);
	struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	int r;

	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
	case QNPU_TFL_FULLY_CONNECTED: {
		bool dw = op->builtin == QNPU_TFL_DEPTHWISE_CONV_2D;
		bool fc = op->builtin == QNPU_TFL_FULLY_CONNECTED;
		int nch = fc || o->per_tensor ? 1 : dw ? w->shape[3] : w->shape[0];

		const double *mean = rg->mean ? rg->mean[op->in[0]] : NULL;
		int in_ch = in->rank ? in->shape[in->rank - 1] : 0;
		int nout = fc || !dw ? w->shape[0] : w->shape[3];
		double *delta = NULL;
		float *wf = NULL;

		if (w->dtype != QNPU_DTYPE_FLOAT32)
			return qnpu_err(-EINVAL, "operator %d (%s): filter is %s, expected FLOAT32",
					op->index, qnpu_ir_op_name(op->builtin),
					qnpu_dtype_name(w->dtype));
		/* The float weights, for bias correction. */
		if (mean && b && b->dtype == QNPU_DTYPE_FLOAT32 && in_ch > 0 &&
		    (fc ? w->shape[1] == in_ch :
		     dw ? nout % in_ch == 0 : w->shape[3] == in_ch)) {
			wf = malloc(w->bytes);
			delta = calloc((size_t)nout, sizeof(double));
			if (!wf || !delta) {
				free(wf);
				free(delta);
				return qnpu_err(-ENOMEM, "out of memory");
			}
			memcpy(wf, w->const_data, w->bytes);
		}
		r = quant_weights(w, nch, dw);
		if (!r && delta)
			mean_shift(op, wf, w, mean, in_ch, delta, nout);
		if (!r && b && b->dtype == QNPU_DTYPE_FLOAT32)
			r = quant_bias(b, in->scale[0], w, delta);
		free(wf);
		free(delta);
		return r ? r : act_from_range(g, op->out[0], rg);
	}
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
	case QNPU_TFL_RESHAPE:
		/* TFLite's kernels require equal input and output scales. */
		return act_params(out, in->scale[0], in->zero_point[0]);
	case QNPU_TFL_SOFTMAX:
		return act_params(out, 1.0f / 256, -128);
	case QNPU_TFL_ADD:
		if (w->const_data && w->dtype == QNPU_DTYPE_FLOAT32) {
			/* A constant addend: its own asymmetric range. */
			float lo = 0, hi = 0, s;
			int32_t zp;
			size_t k;
			int8_t *q = malloc(w->count ? w->count : 1);
			const float *f = (const float *)w->const_data;

			if (!q)
				return qnpu_err(-ENOMEM, "out of memory");
			for (k = 0; k < w->count; k++) {
				lo = fminf(lo, f[k]);
				hi = fmaxf(hi, f[k]);
			}
			qnpu_asym_params(lo, hi, &s, &zp);
			for (k = 0; k < w->count; k++) {
				float v = qnpu_round_away(f[k] / s) + (float)zp;

				q[k] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
			}
			if ((r = act_params(w, s, zp))) {
				free(q);
				return r;
			}
			if (w->owns_data)
				free((void *)w->const_data);
			w->const_data = (const uint8_t *)q;
			w->owns_data = true;
		}
		return act_from_range(g, op->out[0], rg);
	}
	return qnpu_err(-ENOTSUP, "operator %d (%s) cannot be quantized",
			op->index, qnpu_ir_op_name(op->builtin));
}

/* Room for one more tensor or operator at the end of the graph's arrays. */
static int grow(struct qnpu_ir_graph *g, int nt, int nops)
{
	struct qnpu_ir_tensor *t;
	struct qnpu_ir_op *o;

	t = realloc(g->tensors, (size_t)(g->ntensors + nt) * sizeof(*t));
	if (!t)
		return qnpu_err(-ENOMEM, "out of memory");
	g->tensors = t;
	memset(t + g->ntensors, 0, (size_t)nt * sizeof(*t));
	o = realloc(g->ops, (size_t)(g->nops + nops) * sizeof(*o));
	if (!o)
		return qnpu_err(-ENOMEM, "out of memory");
	g->ops = o;
	memset(o + g->nops, 0, (size_t)nops * sizeof(*o));
	return 0;
}

static int new_op(struct qnpu_ir_op *op, int builtin, int in, int out)
{
	op->builtin = builtin;
	op->version = 1;
	op->nin = 1;
	op->nout = 1;
	op->in = malloc(sizeof(int32_t));
	op->out = malloc(sizeof(int32_t));
	if (!op->in || !op->out)
		return qnpu_err(-ENOMEM, "out of memory");
	op->in[0] = in;
	op->out[0] = out;
	op->target = QNPU_TARGET_CPU;
	return 0;
}

/*
 * Float I/O: each model input becomes a float32 tensor feeding a QUANTIZE
 * into the int8 tensor (named "<name>_int8"), each output an int8 tensor
 * DEQUANTIZEd into float32, as the converter writes such models.
 */
static int add_float_io(struct qnpu_ir_graph *g, char *names, size_t room)
{
	int nin = g->ninputs, nout = g->noutputs, old = g->nops, i, r;
	struct qnpu_ir_op *ops;
	size_t used = 0;

	if ((r = grow(g, nin + nout, 0)))
		return r;
	ops = calloc((size_t)(old + nin + nout), sizeof(*ops));
	if (!ops)
		return qnpu_err(-ENOMEM, "out of memory");
	memcpy(ops + nin, g->ops, (size_t)old * sizeof(*ops));
	free(g->ops);
	g->ops = ops;
	g->nops = old + nin + nout;
	for (i = 0; i < nin + nout; i++) {
		bool is_in = i < nin;
		int32_t *slot = is_in ? &g->inputs[i] : &g->outputs[i - nin];
		int nt = g->ntensors++;
		struct qnpu_ir_tensor *f = &g->tensors[nt];
		struct qnpu_ir_tensor *q = &g->tensors[*slot];
		int n;

		/* The float tensor keeps the name; the int8 one is renamed. */
		*f = *q;
		f->nq = 0;
		f->scale = NULL;
		f->zero_point = NULL;
		f->dtype = QNPU_DTYPE_FLOAT32;
		f->bytes = f->count * sizeof(float);
		q->is_input = q->is_output = false;
		n = snprintf(names + used, room - used, "%s_int8", f->name);
		if (n < 0 || (size_t)n >= room - used)
			return qnpu_err(-ENOMEM, "no room for tensor names");
		q->name = names + used;
		used += (size_t)n + 1;
		if (is_in)
			r = new_op(&g->ops[i], QNPU_TFL_QUANTIZE, nt, *slot);
		else
			r = new_op(&g->ops[old + i], QNPU_TFL_DEQUANTIZE,
				   *slot, nt);
		if (r)
			return r;
		*slot = nt;
	}
	for (i = 0; i < g->nops; i++)
		g->ops[i].index = i;
	return 0;
}

static bool op_known(int builtin)
{
	switch (builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
	case QNPU_TFL_FULLY_CONNECTED:
	case QNPU_TFL_ADD:
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
	case QNPU_TFL_RESHAPE:
	case QNPU_TFL_SOFTMAX:
		return true;
	}
	return false;
}

static int check_op(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);

	if (!op_known(op->builtin))
		return qnpu_err(-ENOTSUP,
				"operator %d (%s) cannot be quantized: qnpu quantizes CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, AVERAGE_POOL_2D, MAX_POOL_2D, RESHAPE and SOFTMAX",
				op->index, qnpu_ir_op_name(op->builtin));
	if (!in || !out)
		return qnpu_err(-EINVAL, "operator %d (%s) lacks an input or output",
				op->index, qnpu_ir_op_name(op->builtin));
	if (in->dtype != QNPU_DTYPE_FLOAT32 || out->dtype != QNPU_DTYPE_FLOAT32)
		return qnpu_err(-EINVAL,
				"model is not float32: operator %d (%s) reads %s and writes %s (already quantized?)",
				op->index, qnpu_ir_op_name(op->builtin),
				qnpu_dtype_name(in->dtype),
				qnpu_dtype_name(out->dtype));
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		if (in->rank != 4 || out->rank != 4 || !w || w->rank != 4 ||
		    !w->const_data)
			return qnpu_err(-EINVAL,
					"operator %d (%s): expects a 4-D input and constant 4-D filter",
					op->index, qnpu_ir_op_name(op->builtin));
		if (op->opt.conv.stride_w < 1 || op->opt.conv.stride_h < 1 ||
		    op->opt.conv.dilation_w < 1 || op->opt.conv.dilation_h < 1)
			return qnpu_err(-EINVAL, "operator %d (%s): bad stride or dilation",
					op->index, qnpu_ir_op_name(op->builtin));
		break;
	case QNPU_TFL_FULLY_CONNECTED:
		if (!w || w->rank != 2 || !w->const_data || !w->shape[1] ||
		    in->count % (size_t)w->shape[1])
			return qnpu_err(-EINVAL,
					"operator %d (FULLY_CONNECTED): expects constant 2-D weights fitting its input",
					op->index);
		break;
	case QNPU_TFL_ADD:
		if (!w || (w->count != out->count && w->count != 1) ||
		    in->count != out->count)
			return qnpu_err(-ENOTSUP,
					"operator %d (ADD) cannot be quantized: only equal shapes (or a scalar) are supported",
					op->index);
		break;
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
		if (in->rank != 4 || out->rank != 4 ||
		    op->opt.pool.stride_w < 1 || op->opt.pool.stride_h < 1 ||
		    op->opt.pool.filter_w < 1 || op->opt.pool.filter_h < 1)
			return qnpu_err(-EINVAL, "operator %d (%s): bad pooling geometry",
					op->index, qnpu_ir_op_name(op->builtin));
		break;
	default:
		if (in->count != out->count)
			return qnpu_err(-EINVAL, "operator %d (%s): input and output sizes differ",
					op->index, qnpu_ir_op_name(op->builtin));
	}
	if (op->builtin == QNPU_TFL_CONV_2D) {
		if (w->shape[3] != in->shape[3] || w->shape[0] != out->shape[3])
			return qnpu_err(-EINVAL, "operator %d (CONV_2D): filter does not fit its input/output",
					op->index);
	} else if (op->builtin == QNPU_TFL_DEPTHWISE_CONV_2D) {
		if (!in->shape[3] || w->shape[3] != out->shape[3] ||
		    w->shape[3] % in->shape[3])
			return qnpu_err(-EINVAL, "operator %d (DEPTHWISE_CONV_2D): filter does not fit its input/output",
					op->index);
	}
	return 0;
}

/*
 * What the quantizer and its float run take: float32 inputs and the
 * operators it knows, with constant weights of fitting shapes.
 */
int qnpu_quantize_check(const struct qnpu_ir_graph *g)
{
	int i, e;

	for (i = 0; i < g->ninputs; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[g->inputs[i]];

		if (t->dtype != QNPU_DTYPE_FLOAT32)
			return qnpu_err(-EINVAL,
					"model is not float32: input %d (%s) is %s (already quantized?)",
					i, t->name, qnpu_dtype_name(t->dtype));
	}
	for (i = 0; i < g->nops; i++)
		if ((e = check_op(g, &g->ops[i])))
			return e;
	return 0;
}

int qnpu_quantize_graph(struct qnpu_ir_graph *g,
			const struct qnpu_quant_ranges *rg,
			const struct qnpu_quantize_opts *o, char *names,
			size_t name_room)
{
	int i, r;

	for (i = 0; i < g->ninputs; i++)
		if ((r = act_from_range(g, g->inputs[i], rg)))
			return r;
	for (i = 0; i < g->nops; i++)
		if ((r = quant_op(g, &g->ops[i], rg, o)))
			return r;
	for (i = 0; i < g->nops; i++) {
		g->ops[i].target = QNPU_TARGET_CPU;
		/* The writer picks the version TFLite gives these types. */
		g->ops[i].version = 0;
	}
	return o->float_io ? add_float_io(g, names, name_room) : 0;
}
