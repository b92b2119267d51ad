// SPDX-License-Identifier: MIT
/*
 * A float32 reference run of an IR graph for calibration and the
 * quantization debugger: every tensor is kept after the run, so that each
 * one can be histogrammed or compared. TFLite's semantics (SAME/VALID
 * padding, average pooling over the valid taps only, fused activations);
 * the summation order differs from TFLite's kernels, which moves results
 * by a few float32 ulps and no range by anything that matters. Weights are
 * re-laid out once with the output channel innermost so that the inner
 * loops vectorize. May include: ir/, quant/, util/.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/qnpu_ir.h"
#include "quant/qnpu_quant.h"
#include "util/qnpu_util.h"

struct qnpu_fref {
	const struct qnpu_ir_graph *g;
	float **t;		/* per tensor: float data or NULL */
	bool *own;		/* t[i] allocated here */
	float **w;		/* per op: conv weights as [kh][kw][ic][oc] */
	float *acc;		/* one output pixel's channels */
};

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

void qnpu_fref_free(struct qnpu_fref *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; r->t && i < r->g->ntensors; i++)
		if (r->own[i])
			free(r->t[i]);
	for (i = 0; r->w && i < r->g->nops; i++)
		free(r->w[i]);
	free(r->t);
	free(r->own);
	free(r->w);
	free(r->acc);
	free(r);
}

/* A constant as float32: copied (alignment), or dequantized (hybrid). */
static int const_float(struct qnpu_fref *r, int i)
{
	const struct qnpu_ir_tensor *t = &r->g->tensors[i];
	size_t k;
	float *f;

	if (t->dtype != QNPU_DTYPE_FLOAT32 &&
	    !(t->dtype == QNPU_DTYPE_INT8 && t->nq >= 1))
		return 0;
	f = malloc((t->count ? t->count : 1) * sizeof(float));
	if (!f)
		return qnpu_err(-ENOMEM, "out of memory");
	if (t->dtype == QNPU_DTYPE_FLOAT32) {
		memcpy(f, t->const_data, t->count * sizeof(float));
	} else {
		/* Per-tensor or per-channel on the first axis. */
		size_t inner = t->nq > 1 && t->count ? t->count / (size_t)t->nq : t->count;

		for (k = 0; k < t->count; k++) {
			int c = t->nq > 1 ? (int)(k / inner) : 0;

			f[k] = (float)((double)t->scale[c] *
				       (((const int8_t *)t->const_data)[k] -
					t->zero_point[c]));
		}
	}
	r->t[i] = f;
	r->own[i] = true;
	return 0;
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

int qnpu_fref_create(const struct qnpu_ir_graph *g, struct qnpu_fref **out)
{
	struct qnpu_fref *r;
	size_t maxc = 1;
	int i, e;

	*out = NULL;
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
	r = calloc(1, sizeof(*r));
	if (!r)
		return qnpu_err(-ENOMEM, "out of memory");
	r->g = g;
	r->t = calloc((size_t)g->ntensors + 1, sizeof(*r->t));
	r->own = calloc((size_t)g->ntensors + 1, sizeof(*r->own));
	r->w = calloc((size_t)g->nops + 1, sizeof(*r->w));
	if (!r->t || !r->own || !r->w)
		goto err_nomem;
	for (i = 0; i < g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[i];

		if (t->const_data) {
			if ((e = const_float(r, i)))
				goto err_free;
			continue;
		}
		if (t->dtype != QNPU_DTYPE_FLOAT32)
			continue;
		r->t[i] = calloc(t->count ? t->count : 1, sizeof(float));
		if (!r->t[i])
			goto err_nomem;
		r->own[i] = true;
		if (t->rank && (size_t)t->shape[t->rank - 1] > maxc)
			maxc = (size_t)t->shape[t->rank - 1];
	}
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
		const float *src = r->t[op->in[1]];
		int oc, kh, kw, ic, a, b, c, d;

		if (op->builtin != QNPU_TFL_CONV_2D)
			continue;
		oc = w->shape[0];
		kh = w->shape[1];
		kw = w->shape[2];
		ic = w->shape[3];
		r->w[i] = malloc((w->count ? w->count : 1) * sizeof(float));
		if (!r->w[i] || !src)
			goto err_nomem;
		for (a = 0; a < oc; a++)
			for (b = 0; b < kh; b++)
				for (c = 0; c < kw; c++)
					for (d = 0; d < ic; d++)
						r->w[i][(((size_t)b * kw + c) * ic + d) * oc + a] =
							src[(((size_t)a * kh + b) * kw + c) * ic + d];
	}
	r->acc = malloc(maxc * sizeof(float));
	if (!r->acc)
		goto err_nomem;
	*out = r;
	return 0;

err_nomem:
	e = qnpu_err(-ENOMEM, "out of memory");
err_free:
	qnpu_fref_free(r);
	return e;
}

static float act(int a, float x)
{
	switch (a) {
	case 1: return x > 0 ? x : 0;
	case 2: return x < -1 ? -1 : x > 1 ? 1 : x;
	case 3: return x < 0 ? 0 : x > 6 ? 6 : x;
	}
	return x;
}

/* TFLite's output size and leading padding. */
static int pad_before(int padding, int in, int filter, int stride, int dil,
		      int out)
{
	int eff = (filter - 1) * dil + 1;
	int total = (out - 1) * stride + eff - in;

	(void)padding;
	return total > 0 ? total / 2 : 0;
}

/*
 * The hot loops: out[o] += x * w[o] over output channels, vectorized
 * (O3 here, AVX2 where the CPU has it; -O2 alone leaves them scalar).
 */
#define HOT __attribute__((optimize("O3"), target_clones("avx2", "default")))

/* One filter tap: acc[o] += sum over c of px[c] * wt[c][o]. */
static HOT void conv_tap(float *restrict acc, const float *restrict px,
			 const float *restrict wt, int ic, int oc)
{
	int c, o;

	for (c = 0; c < ic; c++) {
		const float v = px[c];
		const float *restrict wr = wt + (size_t)c * oc;

		for (o = 0; o < oc; o++)
			acc[o] += v * wr[o];
	}
}

static HOT void mul_acc(float *restrict acc, const float *restrict x,
			const float *restrict w, int n)
{
	int o;

	for (o = 0; o < n; o++)
		acc[o] += x[o] * w[o];
}

static void run_conv(struct qnpu_fref *r, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_graph *g = r->g;
	const struct qnpu_ir_tensor *ti = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *tw = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *to = qnpu_ir_out(g, op, 0);
	const float *in = r->t[op->in[0]], *w = r->w[op->index];
	const float *bias = op->nin > 2 && op->in[2] >= 0 ? r->t[op->in[2]] : NULL;
	float *out = r->t[op->out[0]], *acc = r->acc;
	int n = ti->shape[0], ih = ti->shape[1], iw = ti->shape[2];
	int ic = ti->shape[3], oh = to->shape[1], ow = to->shape[2];
	int oc = to->shape[3], kh = tw->shape[1], kw = tw->shape[2];
	int sh = op->opt.conv.stride_h, sw = op->opt.conv.stride_w;
	int dh = op->opt.conv.dilation_h, dw = op->opt.conv.dilation_w;
	int ph = pad_before(op->opt.conv.padding, ih, kh, sh, dh, oh);
	int pw = pad_before(op->opt.conv.padding, iw, kw, sw, dw, ow);
	int b, y, x, ky, kx, o;

	for (b = 0; b < n; b++)
		for (y = 0; y < oh; y++)
			for (x = 0; x < ow; x++) {
				for (o = 0; o < oc; o++)
					acc[o] = bias ? bias[o] : 0;
				for (ky = 0; ky < kh; ky++) {
					int yy = y * sh - ph + ky * dh;

					if (yy < 0 || yy >= ih)
						continue;
					for (kx = 0; kx < kw; kx++) {
						int xx = x * sw - pw + kx * dw;
						const float *px, *wt;

						if (xx < 0 || xx >= iw)
							continue;
						px = in + (((size_t)b * ih + yy) * iw + xx) * ic;
						wt = w + ((size_t)ky * kw + kx) * ic * oc;
						conv_tap(acc, px, wt, ic, oc);
					}
				}
				float *po = out + (((size_t)b * oh + y) * ow + x) * oc;

				for (o = 0; o < oc; o++)
					po[o] = act(op->opt.conv.act, acc[o]);
			}
}

static void run_dwconv(struct qnpu_fref *r, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_graph *g = r->g;
	const struct qnpu_ir_tensor *ti = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *tw = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *to = qnpu_ir_out(g, op, 0);
	const float *in = r->t[op->in[0]], *w = r->t[op->in[1]];
	const float *bias = op->nin > 2 && op->in[2] >= 0 ? r->t[op->in[2]] : NULL;
	float *out = r->t[op->out[0]], *acc = r->acc;
	int n = ti->shape[0], ih = ti->shape[1], iw = ti->shape[2];
	int ic = ti->shape[3], oh = to->shape[1], ow = to->shape[2];
	int oc = to->shape[3], kh = tw->shape[1], kw = tw->shape[2];
	int dm = oc / ic;
	int sh = op->opt.conv.stride_h, sw = op->opt.conv.stride_w;
	int dh = op->opt.conv.dilation_h, dwl = op->opt.conv.dilation_w;
	int ph = pad_before(op->opt.conv.padding, ih, kh, sh, dh, oh);
	int pw = pad_before(op->opt.conv.padding, iw, kw, sw, dwl, ow);
	int b, y, x, ky, kx, o;

	for (b = 0; b < n; b++)
		for (y = 0; y < oh; y++)
			for (x = 0; x < ow; x++) {
				for (o = 0; o < oc; o++)
					acc[o] = bias ? bias[o] : 0;
				for (ky = 0; ky < kh; ky++) {
					int yy = y * sh - ph + ky * dh;

					if (yy < 0 || yy >= ih)
						continue;
					for (kx = 0; kx < kw; kx++) {
						int xx = x * sw - pw + kx * dwl;
						const float *px, *wt;

						if (xx < 0 || xx >= iw)
							continue;
						px = in + (((size_t)b * ih + yy) * iw + xx) * ic;
						wt = w + ((size_t)ky * kw + kx) * oc;
						if (dm == 1)
							mul_acc(acc, px, wt, oc);
						else
							for (o = 0; o < oc; o++)
								acc[o] += px[o / dm] * wt[o];
					}
				}
				float *po = out + (((size_t)b * oh + y) * ow + x) * oc;

				for (o = 0; o < oc; o++)
					po[o] = act(op->opt.conv.act, acc[o]);
			}
}

static void run_fc(struct qnpu_fref *r, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_graph *g = r->g;
	const struct qnpu_ir_tensor *ti = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *tw = qnpu_ir_in(g, op, 1);
	const float *in = r->t[op->in[0]], *w = r->t[op->in[1]];
	const float *bias = op->nin > 2 && op->in[2] >= 0 ? r->t[op->in[2]] : NULL;
	float *out = r->t[op->out[0]];
	int od = tw->shape[0], depth = tw->shape[1];
	int nb = (int)(ti->count / (size_t)depth), b, o, i;

	for (b = 0; b < nb; b++)
		for (o = 0; o < od; o++) {
			const float *x = in + (size_t)b * depth;
			const float *wr = w + (size_t)o * depth;
			float s0 = 0, s1 = 0, s2 = 0, s3 = 0;

			for (i = 0; i + 4 <= depth; i += 4) {
				s0 += x[i] * wr[i];
				s1 += x[i + 1] * wr[i + 1];
				s2 += x[i + 2] * wr[i + 2];
				s3 += x[i + 3] * wr[i + 3];
			}
			for (; i < depth; i++)
				s0 += x[i] * wr[i];
			out[(size_t)b * od + o] =
				act(op->opt.fc.act, (s0 + s1) + (s2 + s3) +
				    (bias ? bias[o] : 0));
		}
}

static void run_pool(struct qnpu_fref *r, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_graph *g = r->g;
	const struct qnpu_ir_tensor *ti = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *to = qnpu_ir_out(g, op, 0);
	const float *in = r->t[op->in[0]];
	float *out = r->t[op->out[0]];
	bool avg = op->builtin == QNPU_TFL_AVERAGE_POOL_2D;
	int n = ti->shape[0], ih = ti->shape[1], iw = ti->shape[2];
	int ch = ti->shape[3], oh = to->shape[1], ow = to->shape[2];
	int fh = op->opt.pool.filter_h, fw = op->opt.pool.filter_w;
	int sh = op->opt.pool.stride_h, sw = op->opt.pool.stride_w;
	int ph = pad_before(op->opt.pool.padding, ih, fh, sh, 1, oh);
	int pw = pad_before(op->opt.pool.padding, iw, fw, sw, 1, ow);
	int b, y, x, c, ky, kx;

	for (b = 0; b < n; b++)
		for (y = 0; y < oh; y++)
			for (x = 0; x < ow; x++)
				for (c = 0; c < ch; c++) {
					float s = avg ? 0 : -FLT_MAX;
					int cnt = 0;

					for (ky = 0; ky < fh; ky++) {
						int yy = y * sh - ph + ky;

						if (yy < 0 || yy >= ih)
							continue;
						for (kx = 0; kx < fw; kx++) {
							int xx = x * sw - pw + kx;
							float v;

							if (xx < 0 || xx >= iw)
								continue;
							v = in[(((size_t)b * ih + yy) * iw + xx) * ch + c];
							if (avg)
								s += v;
							else if (v > s)
								s = v;
							cnt++;
						}
					}
					if (avg)
						s = cnt ? s / (float)cnt : 0;
					out[(((size_t)b * oh + y) * ow + x) * ch + c] =
						act(op->opt.pool.act, s);
				}
}

static void run_softmax(struct qnpu_fref *r, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_tensor *ti = qnpu_ir_in(r->g, op, 0);
	const float *in = r->t[op->in[0]];
	float *out = r->t[op->out[0]];
	int depth = ti->rank ? ti->shape[ti->rank - 1] : 1;
	size_t nb = depth ? ti->count / (size_t)depth : 0, b;
	float beta = op->opt.softmax.beta;
	int i;

	for (b = 0; b < nb; b++) {
		const float *x = in + b * (size_t)depth;
		float *y = out + b * (size_t)depth;
		float mx = -FLT_MAX, sum = 0;

		for (i = 0; i < depth; i++)
			if (x[i] > mx)
				mx = x[i];
		for (i = 0; i < depth; i++) {
			y[i] = expf((x[i] - mx) * beta);
			sum += y[i];
		}
		for (i = 0; i < depth; i++)
			y[i] /= sum;
	}
}

void qnpu_fref_run(struct qnpu_fref *r, const float *const *inputs)
{
	const struct qnpu_ir_graph *g = r->g;
	int i;

	for (i = 0; i < g->ninputs; i++)
		memcpy(r->t[g->inputs[i]], inputs[i],
		       g->tensors[g->inputs[i]].count * sizeof(float));
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		const struct qnpu_ir_tensor *to = qnpu_ir_out(g, op, 0);
		float *out = r->t[op->out[0]];
		size_t k;

		switch (op->builtin) {
		case QNPU_TFL_CONV_2D:
			run_conv(r, op);
			break;
		case QNPU_TFL_DEPTHWISE_CONV_2D:
			run_dwconv(r, op);
			break;
		case QNPU_TFL_FULLY_CONNECTED:
			run_fc(r, op);
			break;
		case QNPU_TFL_AVERAGE_POOL_2D:
		case QNPU_TFL_MAX_POOL_2D:
			run_pool(r, op);
			break;
		case QNPU_TFL_SOFTMAX:
			run_softmax(r, op);
			break;
		case QNPU_TFL_RESHAPE:
			memcpy(out, r->t[op->in[0]], to->count * sizeof(float));
			break;
		case QNPU_TFL_ADD: {
			const float *a = r->t[op->in[0]], *b = r->t[op->in[1]];
			bool scalar = g->tensors[op->in[1]].count == 1;

			for (k = 0; k < to->count; k++)
				out[k] = act(op->opt.add.act,
					     a[k] + b[scalar ? 0 : k]);
			break;
		}
		}
	}
}

const float *qnpu_fref_tensor(const struct qnpu_fref *r, int i)
{
	return i >= 0 && i < r->g->ntensors ? r->t[i] : NULL;
}
