// SPDX-License-Identifier: MIT
/*
 * TFLite flatbuffer importer. Everything read from the file is checked
 * before use; a malformed file gives one line naming what is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_fb.h"
#include "import/qnpu_import.h"
#include "util/qnpu_util.h"

/* Field numbers from TFLite's schema.fbs (a union takes two slots). */
enum { MODEL_VERSION, MODEL_OPCODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION,
       MODEL_BUFFERS };
enum { OPCODE_DEPRECATED, OPCODE_CUSTOM, OPCODE_VERSION, OPCODE_BUILTIN };
enum { SG_TENSORS, SG_INPUTS, SG_OUTPUTS, SG_OPERATORS, SG_NAME };
enum { T_SHAPE, T_TYPE, T_BUFFER, T_NAME, T_QUANT, T_IS_VARIABLE,
       T_SPARSITY, T_SHAPE_SIGNATURE };
enum { Q_MIN, Q_MAX, Q_SCALE, Q_ZERO_POINT, Q_DETAILS_TYPE, Q_DETAILS,
       Q_QDIM };
enum { OP_OPCODE, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS };
enum { BUF_DATA, BUF_OFFSET, BUF_SIZE };

/* BuiltinOptions union members we read. */
enum { OPT_CONV = 1, OPT_DWCONV = 2, OPT_POOL = 5, OPT_FC = 8,
       OPT_SOFTMAX = 9, OPT_ADD = 11 };

#define MAX_TENSOR_BYTES (1ull << 31)

struct importer {
	struct qnpu_fb fb;
	struct qnpu_ir_graph *g;
	struct qnpu_fb_vec buffers;
};

/* Report the sticky flatbuffer error with context. */
static int fb_error(struct importer *im, const char *ctx)
{
	return qnpu_err(-EINVAL, "malformed model: %s: %s", ctx, im->fb.msg);
}

static int import_quant(struct importer *im, int ti,
			const struct qnpu_fb_table *tt)
{
	struct qnpu_ir_tensor *t = &im->g->tensors[ti];
	struct qnpu_fb_table q;
	struct qnpu_fb_vec sv, zv;
	char ctx[48];
	uint32_t i;
	int r;

	snprintf(ctx, sizeof(ctx), "tensor %d quantization", ti);
	r = qnpu_fb_table(&im->fb, tt, T_QUANT, &q);
	if (r <= 0)
		return r < 0 ? fb_error(im, ctx) : 0;
	qnpu_fb_vector(&im->fb, &q, Q_SCALE, 4, &sv);
	qnpu_fb_vector(&im->fb, &q, Q_ZERO_POINT, 8, &zv);
	t->qdim = qnpu_fb_i32(&im->fb, &q, Q_QDIM, 0);
	if (im->fb.err)
		return fb_error(im, ctx);
	if (!sv.len)
		return 0;
	if (zv.len != sv.len && zv.len != 0)
		return qnpu_err(-EINVAL,
				"malformed model: tensor %d has %u scales but %u zero points",
				ti, sv.len, zv.len);
	if (sv.len > 1) {
		/*
		 * person_detect's 1-D biases claim axis 3; TFLite Micro
		 * ignores the axis of a 1-D tensor, and so do we.
		 */
		if (t->rank == 1 && t->qdim >= 1)
			t->qdim = 0;
		if (t->qdim < 0 || t->qdim >= t->rank ||
		    (uint32_t)t->shape[t->qdim] != sv.len)
			return qnpu_err(-EINVAL,
					"malformed model: tensor %d has %u per-channel scales on axis %d of a rank-%d tensor",
					ti, sv.len, t->qdim, t->rank);
	}
	t->scale = calloc(sv.len, sizeof(*t->scale));
	t->zero_point = calloc(sv.len, sizeof(*t->zero_point));
	if (!t->scale || !t->zero_point)
		return qnpu_err(-ENOMEM, "out of memory");
	t->nq = (int)sv.len;
	for (i = 0; i < sv.len; i++) {
		int64_t zp = zv.len ? qnpu_fb_vec_i64(&im->fb, &zv, i) : 0;

		t->scale[i] = qnpu_fb_vec_f32(&im->fb, &sv, i);
		if (zp < INT32_MIN || zp > INT32_MAX)
			return qnpu_err(-EINVAL,
					"malformed model: tensor %d zero point %lld out of range",
					ti, (long long)zp);
		t->zero_point[i] = (int32_t)zp;
	}
	return 0;
}

static int import_buffer(struct importer *im, int ti, uint32_t bi)
{
	struct qnpu_ir_tensor *t = &im->g->tensors[ti];
	struct qnpu_fb_table bt;
	struct qnpu_fb_vec data;
	uint64_t off, size;
	char ctx[48];

	if (bi >= im->buffers.len)
		return qnpu_err(-EINVAL,
				"malformed model: tensor %d references buffer %u, model has %u buffers",
				ti, bi, im->buffers.len);
	snprintf(ctx, sizeof(ctx), "buffer %u of tensor %d", bi, ti);
	if (qnpu_fb_vec_table(&im->fb, &im->buffers, bi, &bt) ||
	    qnpu_fb_vector(&im->fb, &bt, BUF_DATA, 1, &data))
		return fb_error(im, ctx);
	off = qnpu_fb_u64(&im->fb, &bt, BUF_OFFSET, 0);
	size = qnpu_fb_u64(&im->fb, &bt, BUF_SIZE, 0);
	if (data.len) {
		off = data.pos;
		size = data.len;
	} else if (off > 1) {
		/* Models over 2 GiB keep data after the flatbuffer. */
		if (off > im->fb.len || size > im->fb.len - off)
			return qnpu_err(-EINVAL,
					"malformed model: %s: data at offset %llu size %llu lies outside the %zu-byte file",
					ctx, (unsigned long long)off,
					(unsigned long long)size, im->fb.len);
	} else {
		return 0;
	}
	if (!size)
		return 0;
	if (size != t->bytes)
		return qnpu_err(-EINVAL,
				"malformed model: tensor %d (%s) has %llu bytes of constant data, its shape needs %zu",
				ti, t->name, (unsigned long long)size, t->bytes);
	t->const_data = im->fb.buf + off;
	return 0;
}

static int import_tensor(struct importer *im, int ti,
			 const struct qnpu_fb_table *tt)
{
	struct qnpu_ir_tensor *t = &im->g->tensors[ti];
	struct qnpu_fb_vec shape;
	size_t esize;
	uint64_t count = 1;
	char ctx[32];
	uint32_t i;
	int type;

	snprintf(ctx, sizeof(ctx), "tensor %d", ti);
	qnpu_fb_vector(&im->fb, tt, T_SHAPE, 4, &shape);
	type = qnpu_fb_u8(&im->fb, tt, T_TYPE, 0);
	t->name = qnpu_fb_string(&im->fb, tt, T_NAME);
	if (im->fb.err)
		return fb_error(im, ctx);
	if (!t->name)
		t->name = "";
	t->dtype = (enum qnpu_dtype)type;
	if (shape.len > QNPU_MAX_RANK)
		return qnpu_err(-EINVAL,
				"malformed model: tensor %d (%s) has rank %u, at most %d supported",
				ti, t->name, shape.len, QNPU_MAX_RANK);
	t->rank = (int)shape.len;
	for (i = 0; i < shape.len; i++) {
		int32_t d = qnpu_fb_vec_i32(&im->fb, &shape, i);

		if (d < 0)
			return qnpu_err(-EINVAL,
					"malformed model: tensor %d (%s) has negative dimension %d at axis %u",
					ti, t->name, d, i);
		t->shape[i] = d;
		count *= (uint64_t)d;
		if (count > MAX_TENSOR_BYTES)
			return qnpu_err(-EINVAL,
					"malformed model: tensor %d (%s) has more than %llu elements",
					ti, t->name, MAX_TENSOR_BYTES);
	}
	t->count = (size_t)count;
	/* FLOAT16 sizes constants only; the partitioner refuses it elsewhere. */
	esize = qnpu_ir_dtype_known(type) || type == QNPU_IR_DTYPE_FLOAT16 ?
		qnpu_dtype_size(t->dtype) : 0;
	t->bytes = t->count * esize;
	if (t->bytes > MAX_TENSOR_BYTES)
		return qnpu_err(-EINVAL,
				"malformed model: tensor %d (%s) is larger than %llu bytes",
				ti, t->name, MAX_TENSOR_BYTES);
	if (import_quant(im, ti, tt))
		return -EINVAL;
	return import_buffer(im, ti, qnpu_fb_u32(&im->fb, tt, T_BUFFER, 0));
}

/* A vector of tensor indices, each -1 or a valid tensor. */
static int import_index_list(struct importer *im,
			     const struct qnpu_fb_table *t, int field,
			     const char *what, int32_t **out, int *n)
{
	struct qnpu_fb_vec v;
	uint32_t i;

	if (qnpu_fb_vector(&im->fb, t, field, 4, &v))
		return fb_error(im, what);
	*n = (int)v.len;
	*out = calloc(v.len ? v.len : 1, sizeof(**out));
	if (!*out)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < v.len; i++) {
		int32_t ti = qnpu_fb_vec_i32(&im->fb, &v, i);

		if (ti < -1 || ti >= im->g->ntensors)
			return qnpu_err(-EINVAL,
					"malformed model: %s %u references tensor %d, model has %d tensors",
					what, i, ti, im->g->ntensors);
		(*out)[i] = ti;
	}
	return 0;
}

static int import_options(struct importer *im, struct qnpu_ir_op *op,
			  const struct qnpu_fb_table *ot)
{
	struct qnpu_fb *fb = &im->fb;
	struct qnpu_fb_table o;
	int want, type, r;

	switch (op->builtin) {
	case QNPU_TFL_CONV_2D: want = OPT_CONV; break;
	case QNPU_TFL_DEPTHWISE_CONV_2D: want = OPT_DWCONV; break;
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D: want = OPT_POOL; break;
	case QNPU_TFL_FULLY_CONNECTED: want = OPT_FC; break;
	case QNPU_TFL_SOFTMAX: want = OPT_SOFTMAX; break;
	case QNPU_TFL_ADD: want = OPT_ADD; break;
	default: return 0;	/* options we do not read */
	}
	type = qnpu_fb_u8(fb, ot, OP_OPTIONS_TYPE, 0);
	r = qnpu_fb_table(fb, ot, OP_OPTIONS, &o);
	if (r < 0)
		return fb_error(im, "operator options");
	if (r == 0 && (op->builtin == QNPU_TFL_CONV_2D ||
		       op->builtin == QNPU_TFL_DEPTHWISE_CONV_2D ||
		       op->builtin == QNPU_TFL_AVERAGE_POOL_2D ||
		       op->builtin == QNPU_TFL_MAX_POOL_2D))
		return qnpu_err(-EINVAL,
				"malformed model: operator %d (%s) has no options",
				op->index, qnpu_ir_op_name(op->builtin));
	if (r == 1 && type != want)
		return qnpu_err(-EINVAL,
				"malformed model: operator %d (%s) has options of type %d, expected %d",
				op->index, qnpu_ir_op_name(op->builtin), type,
				want);

	/* Absent tables read as defaults (all-zero fields). */
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
		op->opt.conv.padding = qnpu_fb_u8(fb, &o, 0, 0);
		op->opt.conv.stride_w = qnpu_fb_i32(fb, &o, 1, 0);
		op->opt.conv.stride_h = qnpu_fb_i32(fb, &o, 2, 0);
		op->opt.conv.act = qnpu_fb_u8(fb, &o, 3, 0);
		op->opt.conv.dilation_w = qnpu_fb_i32(fb, &o, 4, 1);
		op->opt.conv.dilation_h = qnpu_fb_i32(fb, &o, 5, 1);
		op->opt.conv.depth_multiplier = 1;
		break;
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		op->opt.conv.padding = qnpu_fb_u8(fb, &o, 0, 0);
		op->opt.conv.stride_w = qnpu_fb_i32(fb, &o, 1, 0);
		op->opt.conv.stride_h = qnpu_fb_i32(fb, &o, 2, 0);
		op->opt.conv.depth_multiplier = qnpu_fb_i32(fb, &o, 3, 0);
		op->opt.conv.act = qnpu_fb_u8(fb, &o, 4, 0);
		op->opt.conv.dilation_w = qnpu_fb_i32(fb, &o, 5, 1);
		op->opt.conv.dilation_h = qnpu_fb_i32(fb, &o, 6, 1);
		break;
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
		op->opt.pool.padding = qnpu_fb_u8(fb, &o, 0, 0);
		op->opt.pool.stride_w = qnpu_fb_i32(fb, &o, 1, 0);
		op->opt.pool.stride_h = qnpu_fb_i32(fb, &o, 2, 0);
		op->opt.pool.filter_w = qnpu_fb_i32(fb, &o, 3, 0);
		op->opt.pool.filter_h = qnpu_fb_i32(fb, &o, 4, 0);
		op->opt.pool.act = qnpu_fb_u8(fb, &o, 5, 0);
		break;
	case QNPU_TFL_FULLY_CONNECTED:
		op->opt.fc.act = qnpu_fb_u8(fb, &o, 0, 0);
		op->opt.fc.weights_format = qnpu_fb_u8(fb, &o, 1, 0);
		op->opt.fc.keep_num_dims = qnpu_fb_u8(fb, &o, 2, 0);
		break;
	case QNPU_TFL_SOFTMAX:
		op->opt.softmax.beta = qnpu_fb_f32(fb, &o, 0, 0.0f);
		break;
	case QNPU_TFL_ADD:
		op->opt.add.act = qnpu_fb_u8(fb, &o, 0, 0);
		break;
	}
	if (fb->err)
		return fb_error(im, "operator options");
	return 0;
}

static int import_operator(struct importer *im, int oi,
			   const struct qnpu_fb_table *ot,
			   const struct qnpu_fb_vec *opcodes)
{
	struct qnpu_ir_op *op = &im->g->ops[oi];
	struct qnpu_fb_table ct;
	uint32_t code_index;
	char what[48];
	int dep, builtin;

	op->index = oi;
	code_index = qnpu_fb_u32(&im->fb, ot, OP_OPCODE, 0);
	if (im->fb.err)
		return fb_error(im, "operator");
	if (code_index >= opcodes->len)
		return qnpu_err(-EINVAL,
				"malformed model: operator %d uses opcode %u, model has %u opcodes",
				oi, code_index, opcodes->len);
	if (qnpu_fb_vec_table(&im->fb, opcodes, code_index, &ct))
		return fb_error(im, "operator code");
	/* Older models fill only the deprecated byte field. */
	dep = (int8_t)qnpu_fb_u8(&im->fb, &ct, OPCODE_DEPRECATED, 0);
	builtin = qnpu_fb_i32(&im->fb, &ct, OPCODE_BUILTIN, 0);
	op->builtin = dep > builtin ? dep : builtin;
	op->version = qnpu_fb_i32(&im->fb, &ct, OPCODE_VERSION, 1);
	op->custom_code = qnpu_fb_string(&im->fb, &ct, OPCODE_CUSTOM);
	if (im->fb.err)
		return fb_error(im, "operator code");
	if (op->builtin < 0)
		return qnpu_err(-EINVAL,
				"malformed model: operator %d has opcode %d",
				oi, op->builtin);
	snprintf(what, sizeof(what), "operator %d input", oi);
	if (import_index_list(im, ot, OP_INPUTS, what, &op->in, &op->nin))
		return -EINVAL;
	snprintf(what, sizeof(what), "operator %d output", oi);
	if (import_index_list(im, ot, OP_OUTPUTS, what, &op->out, &op->nout))
		return -EINVAL;
	return import_options(im, op, ot);
}

static uint64_t op_macs(struct qnpu_ir_graph *g, const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *o = qnpu_ir_out(g, op, 0);

	if (!w || !o || w->rank < 2)
		return 0;
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:	/* per output: kh * kw * ic */
		return (uint64_t)o->count * (w->count / (uint64_t)
			(w->shape[0] ? w->shape[0] : 1));
	case QNPU_TFL_DEPTHWISE_CONV_2D:	/* per output: kh * kw */
		return w->rank == 4 ? (uint64_t)o->count * w->shape[1] *
			w->shape[2] : 0;
	case QNPU_TFL_FULLY_CONNECTED:	/* per output: accum depth */
		return (uint64_t)o->count * w->shape[w->rank - 1];
	}
	return 0;
}

/* Whether @op reads tensor @ti as the filter of a float32 CONV/DW/FC. */
static bool float_filter_use(const struct qnpu_ir_graph *g,
			     const struct qnpu_ir_op *op, int ti)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);

	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
	case QNPU_TFL_FULLY_CONNECTED:
		return op->nin > 1 && op->in[1] == ti && op->in[0] != ti &&
		       in && in->dtype == QNPU_DTYPE_FLOAT32;
	}
	return false;
}

/*
 * Hybrid models (TFLite dynamic-range quantization: float activations,
 * int8 constant filters with a scale per tensor or channel) become float
 * models: each such filter is dequantized once, w = scale * (q - zp) in
 * float as TFLite's DEQUANTIZE, which equals float(double(scale) * q), the
 * float model the converter started from, at per-tensor int8 precision.
 * A filter another operator also reads as int8 is left alone (and that
 * float operator is refused later, naming its INT8 filter).
 */
static int dequantize_hybrid_filters(struct qnpu_ir_graph *g)
{
	int i, j, k;

	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		struct qnpu_ir_tensor *w;
		size_t inner = 1, e;
		float *f;
		bool only_float = true;

		if (!float_filter_use(g, op, op->nin > 1 ? op->in[1] : -1))
			continue;
		w = &g->tensors[op->in[1]];
		if (w->dtype != QNPU_DTYPE_INT8 || !w->const_data || w->nq < 1)
			continue;
		for (j = 0; j < g->nops && only_float; j++)
			for (k = 0; k < g->ops[j].nin; k++)
				if (g->ops[j].in[k] == op->in[1] &&
				    !float_filter_use(g, &g->ops[j], op->in[1]))
					only_float = false;
		if (!only_float || w->is_input || w->is_output)
			continue;
		for (k = w->nq > 1 ? w->qdim + 1 : w->rank; k < w->rank; k++)
			inner *= (size_t)w->shape[k];
		f = malloc(w->count ? w->count * sizeof(*f) : 1);
		if (!f)
			return qnpu_err(-ENOMEM, "out of memory");
		for (e = 0; e < w->count; e++) {
			size_t ch = w->nq > 1 ? (e / inner) % (size_t)w->nq : 0;

			f[e] = w->scale[ch] *
			       (float)((int32_t)(int8_t)w->const_data[e] -
				       w->zero_point[ch]);
		}
		w->const_data = (const uint8_t *)f;
		w->owns_data = true;
		w->dtype = QNPU_DTYPE_FLOAT32;
		w->bytes = w->count * sizeof(*f);
		free(w->scale);
		free(w->zero_point);
		w->scale = NULL;
		w->zero_point = NULL;
		w->nq = 0;
	}
	return 0;
}

int qnpu_tflite_import(const uint8_t *buf, size_t len,
		       struct qnpu_ir_graph **out)
{
	struct importer im;
	struct qnpu_fb_table root, sg, t;
	struct qnpu_fb_vec opcodes, subgraphs, tensors, ops;
	struct qnpu_ir_graph *g;
	uint32_t version;
	uint32_t i;
	int r = -EINVAL;

	*out = NULL;
	qnpu_fb_init(&im.fb, buf, len);
	if (len >= 8 && memcmp(buf + 4, "TFL3", 4))
		return qnpu_err(-EINVAL,
				"not a TFLite model: file identifier is not \"TFL3\"");
	if (qnpu_fb_root(&im.fb, "TFL3", &root))
		return fb_error(&im, "header");
	version = qnpu_fb_u32(&im.fb, &root, MODEL_VERSION, 0);
	qnpu_fb_vector(&im.fb, &root, MODEL_OPCODES, 4, &opcodes);
	qnpu_fb_vector(&im.fb, &root, MODEL_SUBGRAPHS, 4, &subgraphs);
	qnpu_fb_vector(&im.fb, &root, MODEL_BUFFERS, 4, &im.buffers);
	if (im.fb.err)
		return fb_error(&im, "model table");
	if (version != 3)
		return qnpu_err(-EINVAL,
				"unsupported model: schema version %u (qnpu reads version 3)",
				version);
	if (subgraphs.len < 1)
		return qnpu_err(-EINVAL, "malformed model: no subgraphs");
	if (qnpu_fb_vec_table(&im.fb, &subgraphs, 0, &sg) ||
	    qnpu_fb_vector(&im.fb, &sg, SG_TENSORS, 4, &tensors) ||
	    qnpu_fb_vector(&im.fb, &sg, SG_OPERATORS, 4, &ops))
		return fb_error(&im, "subgraph 0");

	g = calloc(1, sizeof(*g));
	if (!g)
		return qnpu_err(-ENOMEM, "out of memory");
	im.g = g;
	g->description = qnpu_fb_string(&im.fb, &root, MODEL_DESCRIPTION);
	g->ntensors = (int)tensors.len;
	g->nops = (int)ops.len;
	g->tensors = calloc(tensors.len ? tensors.len : 1, sizeof(*g->tensors));
	g->ops = calloc(ops.len ? ops.len : 1, sizeof(*g->ops));
	if (!g->tensors || !g->ops) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto err_free;
	}
	for (i = 0; i < tensors.len; i++) {
		char ctx[32];

		snprintf(ctx, sizeof(ctx), "tensor %u", i);
		if (qnpu_fb_vec_table(&im.fb, &tensors, i, &t)) {
			r = fb_error(&im, ctx);
			goto err_free;
		}
		r = import_tensor(&im, (int)i, &t);
		if (r)
			goto err_free;
	}
	for (i = 0; i < ops.len; i++) {
		if (qnpu_fb_vec_table(&im.fb, &ops, i, &t)) {
			r = fb_error(&im, "operator");
			goto err_free;
		}
		r = import_operator(&im, (int)i, &t, &opcodes);
		if (r)
			goto err_free;
		g->ops[i].macs = op_macs(g, &g->ops[i]);
	}
	r = import_index_list(&im, &sg, SG_INPUTS, "model input", &g->inputs,
			      &g->ninputs);
	if (r)
		goto err_free;
	r = import_index_list(&im, &sg, SG_OUTPUTS, "model output",
			      &g->outputs, &g->noutputs);
	if (r)
		goto err_free;
	for (i = 0; i < (uint32_t)g->ninputs; i++) {
		if (g->inputs[i] < 0) {
			r = qnpu_err(-EINVAL, "malformed model: input %u is absent", i);
			goto err_free;
		}
		g->tensors[g->inputs[i]].is_input = true;
	}
	for (i = 0; i < (uint32_t)g->noutputs; i++) {
		if (g->outputs[i] < 0) {
			r = qnpu_err(-EINVAL, "malformed model: output %u is absent", i);
			goto err_free;
		}
		g->tensors[g->outputs[i]].is_output = true;
	}
	r = dequantize_hybrid_filters(g);
	if (r)
		goto err_free;
	*out = g;
	return 0;

err_free:
	qnpu_ir_graph_free(g);
	return r < 0 ? r : -EINVAL;
}
