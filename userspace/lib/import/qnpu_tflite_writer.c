// SPDX-License-Identifier: MIT
/*
 * TFLite flatbuffer writer: an IR graph out as a schema-version-3 model
 * the TFLite runtime loads (tests/tflite-runtime/ runs it there). Field
 * numbers are TFLite's schema.fbs, as in the importer. What it writes:
 * one subgraph; each constant tensor its own buffer, data aligned to 16
 * bytes as the converter does; buffer 0 empty; operator codes with both
 * the deprecated byte code (clamped to 127) and the 32-bit code; each
 * op's builtin options from the IR. Nothing depends on addresses or time,
 * so the same graph always gives the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_fb_builder.h"
#include "import/qnpu_import.h"
#include "util/qnpu_util.h"

/* Field numbers from TFLite's schema.fbs (a union takes two slots). */
enum { MODEL_VERSION, MODEL_OPCODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION,
       MODEL_BUFFERS };
enum { OPCODE_DEPRECATED, OPCODE_CUSTOM, OPCODE_VERSION, OPCODE_BUILTIN };
enum { SG_TENSORS, SG_INPUTS, SG_OUTPUTS, SG_OPERATORS, SG_NAME };
enum { T_SHAPE, T_TYPE, T_BUFFER, T_NAME, T_QUANT };
enum { Q_MIN, Q_MAX, Q_SCALE, Q_ZERO_POINT, Q_DETAILS_TYPE, Q_DETAILS,
       Q_QDIM };
enum { OP_OPCODE, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS };
enum { BUF_DATA };

/* BuiltinOptions union members we write; OPT_NONE: the op has none. */
enum { OPT_NONE = 0, OPT_CONV = 1, OPT_DWCONV = 2, OPT_POOL = 5,
       OPT_FC = 8, OPT_SOFTMAX = 9, OPT_ADD = 11, OPT_RESHAPE = 17,
       OPT_DEQUANTIZE = 38, OPT_QUANTIZE = 89 };

/* Option-less builtins the runtime may meet in float graphs. */
enum { TFL_LOGISTIC = 14, TFL_RELU = 19, TFL_RELU6 = 21, TFL_TANH = 28 };

#define SCHEMA_VERSION 3

struct writer {
	const struct qnpu_ir_graph *g;
	struct qnpu_fbb b;
	/* Distinct (builtin, version) pairs in order of first use. */
	int ncodes;
	int *code_builtin, *code_version;
	int *op_code;		/* per op: index into the codes */
	uint32_t *tensor_buf;	/* per tensor: its buffer (0 = none) */
	uint32_t nbuffers;
};

/* The options table an op gets, or -1 if the writer cannot encode it. */
static int options_type(int builtin)
{
	switch (builtin) {
	case QNPU_TFL_CONV_2D: return OPT_CONV;
	case QNPU_TFL_DEPTHWISE_CONV_2D: return OPT_DWCONV;
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D: return OPT_POOL;
	case QNPU_TFL_FULLY_CONNECTED: return OPT_FC;
	case QNPU_TFL_SOFTMAX: return OPT_SOFTMAX;
	case QNPU_TFL_ADD: return OPT_ADD;
	case QNPU_TFL_RESHAPE: return OPT_RESHAPE;
	case QNPU_TFL_DEQUANTIZE: return OPT_DEQUANTIZE;
	case QNPU_TFL_QUANTIZE: return OPT_QUANTIZE;
	case TFL_LOGISTIC:
	case TFL_RELU:
	case TFL_RELU6:
	case TFL_TANH: return OPT_NONE;
	}
	return -1;
}

static bool is_int8(const struct qnpu_ir_tensor *t)
{
	return t && (t->dtype == QNPU_DTYPE_INT8 ||
		     t->dtype == QNPU_DTYPE_UINT8);
}

/*
 * The version of an op that does not say (a graph a stage built): the
 * lowest TFLite's op_version.cc gives these types; float ops are 1.
 */
static int default_version(const struct qnpu_ir_graph *g,
			   const struct qnpu_ir_op *op)
{
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);

	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		/* int8 with per-channel weights */
		return is_int8(in) ? 3 : 1;
	case QNPU_TFL_FULLY_CONNECTED:
		if (!is_int8(in))
			return 1;
		return op->opt.fc.keep_num_dims ? 5 : 4;
	case QNPU_TFL_ADD:
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
	case QNPU_TFL_SOFTMAX:
	case QNPU_TFL_DEQUANTIZE:
		return is_int8(in) ? 2 : 1;
	case QNPU_TFL_QUANTIZE:
		/* int8 -> int8 is a requantization */
		return is_int8(in) && is_int8(out) ? 2 : 1;
	}
	return 1;
}

/* Refuse what cannot be written, with the reason, before writing. */
static int check_graph(const struct qnpu_ir_graph *g)
{
	int i, j;

	if (g->nops < 0 || g->ntensors < 0 || g->ninputs < 0 ||
	    g->noutputs < 0)
		return qnpu_err(-EINVAL, "cannot write model: negative counts");
	for (i = 0; i < g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[i];

		if (t->rank < 0 || t->rank > QNPU_MAX_RANK)
			return qnpu_err(-EINVAL,
					"cannot write model: tensor %d (%s) has rank %d",
					i, t->name ? t->name : "", t->rank);
		if (t->nq < 0 || (t->nq && (!t->scale || !t->zero_point)))
			return qnpu_err(-EINVAL,
					"cannot write model: tensor %d (%s) has %d scales but no arrays",
					i, t->name ? t->name : "", t->nq);
		if (t->nq > 1 && (t->qdim < 0 || t->qdim >= t->rank ||
				  t->shape[t->qdim] != t->nq))
			return qnpu_err(-EINVAL,
					"cannot write model: tensor %d (%s) has %d per-channel scales on axis %d of a rank-%d tensor",
					i, t->name ? t->name : "", t->nq,
					t->qdim, t->rank);
	}
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];

		if (options_type(op->builtin) < 0)
			return qnpu_err(-ENOTSUP,
					"cannot write operator %d (%s): the TFLite writer has no encoding for it",
					i, qnpu_ir_op_name(op->builtin));
		if (op->nin < 0 || op->nout < 0 ||
		    (op->nin && !op->in) || (op->nout && !op->out))
			return qnpu_err(-EINVAL,
					"cannot write operator %d (%s): bad input/output lists",
					i, qnpu_ir_op_name(op->builtin));
		for (j = 0; j < op->nin + op->nout; j++) {
			int32_t ti = j < op->nin ? op->in[j] :
				     op->out[j - op->nin];

			if (ti < -1 || ti >= g->ntensors)
				return qnpu_err(-EINVAL,
						"cannot write operator %d (%s): it references tensor %d, graph has %d",
						i, qnpu_ir_op_name(op->builtin),
						ti, g->ntensors);
		}
		if (op->builtin == QNPU_TFL_RESHAPE && !qnpu_ir_out(g, op, 0))
			return qnpu_err(-EINVAL,
					"cannot write operator %d (RESHAPE): it has no output",
					i);
	}
	for (i = 0; i < g->ninputs + g->noutputs; i++) {
		int32_t ti = i < g->ninputs ? g->inputs[i] :
			     g->outputs[i - g->ninputs];

		if (ti < 0 || ti >= g->ntensors)
			return qnpu_err(-EINVAL,
					"cannot write model: graph %s %d is tensor %d, graph has %d",
					i < g->ninputs ? "input" : "output",
					i < g->ninputs ? i : i - g->ninputs, ti,
					g->ntensors);
	}
	return 0;
}

static int plan(struct writer *w)
{
	const struct qnpu_ir_graph *g = w->g;
	int i, c;

	w->code_builtin = calloc((size_t)g->nops + 1, sizeof(int));
	w->code_version = calloc((size_t)g->nops + 1, sizeof(int));
	w->op_code = calloc((size_t)g->nops + 1, sizeof(int));
	w->tensor_buf = calloc((size_t)g->ntensors + 1, sizeof(uint32_t));
	if (!w->code_builtin || !w->code_version || !w->op_code ||
	    !w->tensor_buf)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		int v = op->version > 0 ? op->version : default_version(g, op);

		for (c = 0; c < w->ncodes; c++)
			if (w->code_builtin[c] == op->builtin &&
			    w->code_version[c] == v)
				break;
		if (c == w->ncodes) {
			w->code_builtin[c] = op->builtin;
			w->code_version[c] = v;
			w->ncodes++;
		}
		w->op_code[i] = c;
	}
	w->nbuffers = 1;	/* buffer 0: the empty one, by convention */
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].const_data && g->tensors[i].bytes)
			w->tensor_buf[i] = w->nbuffers++;
	return 0;
}

static void write_opcodes(struct writer *w, size_t field)
{
	struct qnpu_fbb *b = &w->b;
	size_t vec = qnpu_fbb_vec_offsets(b, (size_t)w->ncodes);
	int c;

	qnpu_fbb_patch(b, field, vec);
	for (c = 0; c < w->ncodes; c++) {
		struct qnpu_fbb_table t;
		int code = w->code_builtin[c];

		qnpu_fbb_table_begin(&t);
		/* Old readers see only the byte; 127 = "look further". */
		qnpu_fbb_add_u8(&t, OPCODE_DEPRECATED,
				(uint8_t)(code < 127 ? code : 127));
		qnpu_fbb_add_u32(&t, OPCODE_VERSION,
				 (uint32_t)w->code_version[c]);
		qnpu_fbb_add_u32(&t, OPCODE_BUILTIN, (uint32_t)code);
		qnpu_fbb_patch(b, vec + 4 + 4 * (size_t)c,
			       qnpu_fbb_table_end(b, &t));
	}
}

static void write_quant(struct writer *w, const struct qnpu_ir_tensor *t,
			size_t field)
{
	struct qnpu_fbb *b = &w->b;
	struct qnpu_fbb_table q;
	size_t pos;

	qnpu_fbb_table_begin(&q);
	qnpu_fbb_add_offset(&q, Q_SCALE);
	qnpu_fbb_add_offset(&q, Q_ZERO_POINT);
	if (t->qdim)
		qnpu_fbb_add_u32(&q, Q_QDIM, (uint32_t)t->qdim);
	pos = qnpu_fbb_table_end(b, &q);
	qnpu_fbb_patch(b, field, pos);
	qnpu_fbb_patch(b, qnpu_fbb_field(&q, Q_SCALE),
		       qnpu_fbb_vec_f32(b, t->scale, (size_t)t->nq));
	qnpu_fbb_patch(b, qnpu_fbb_field(&q, Q_ZERO_POINT),
		       qnpu_fbb_vec_i64(b, t->zero_point, (size_t)t->nq));
}

static void write_tensors(struct writer *w, size_t field)
{
	const struct qnpu_ir_graph *g = w->g;
	struct qnpu_fbb *b = &w->b;
	size_t vec = qnpu_fbb_vec_offsets(b, (size_t)g->ntensors);
	int i;

	qnpu_fbb_patch(b, field, vec);
	for (i = 0; i < g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[i];
		struct qnpu_fbb_table tt;

		qnpu_fbb_table_begin(&tt);
		qnpu_fbb_add_offset(&tt, T_SHAPE);
		qnpu_fbb_add_u8(&tt, T_TYPE, (uint8_t)t->dtype);
		qnpu_fbb_add_u32(&tt, T_BUFFER, w->tensor_buf[i]);
		qnpu_fbb_add_offset(&tt, T_NAME);
		if (t->nq)
			qnpu_fbb_add_offset(&tt, T_QUANT);
		qnpu_fbb_patch(b, vec + 4 + 4 * (size_t)i,
			       qnpu_fbb_table_end(b, &tt));
		qnpu_fbb_patch(b, qnpu_fbb_field(&tt, T_SHAPE),
			       qnpu_fbb_vec_i32(b, t->shape, (size_t)t->rank));
		qnpu_fbb_patch(b, qnpu_fbb_field(&tt, T_NAME),
			       qnpu_fbb_string(b, t->name ? t->name : ""));
		if (t->nq)
			write_quant(w, t, qnpu_fbb_field(&tt, T_QUANT));
	}
}

/* The builtin options table of @op; a table with no fields for none. */
static void write_options(struct writer *w, const struct qnpu_ir_op *op,
			  int type, size_t field)
{
	struct qnpu_fbb *b = &w->b;
	const struct qnpu_ir_tensor *out;
	struct qnpu_fbb_table o;
	size_t pos;

	qnpu_fbb_table_begin(&o);
	switch (type) {
	case OPT_CONV:
		qnpu_fbb_add_u8(&o, 0, (uint8_t)op->opt.conv.padding);
		qnpu_fbb_add_u32(&o, 1, (uint32_t)op->opt.conv.stride_w);
		qnpu_fbb_add_u32(&o, 2, (uint32_t)op->opt.conv.stride_h);
		qnpu_fbb_add_u8(&o, 3, (uint8_t)op->opt.conv.act);
		qnpu_fbb_add_u32(&o, 4, (uint32_t)op->opt.conv.dilation_w);
		qnpu_fbb_add_u32(&o, 5, (uint32_t)op->opt.conv.dilation_h);
		break;
	case OPT_DWCONV:
		qnpu_fbb_add_u8(&o, 0, (uint8_t)op->opt.conv.padding);
		qnpu_fbb_add_u32(&o, 1, (uint32_t)op->opt.conv.stride_w);
		qnpu_fbb_add_u32(&o, 2, (uint32_t)op->opt.conv.stride_h);
		qnpu_fbb_add_u32(&o, 3,
				 (uint32_t)op->opt.conv.depth_multiplier);
		qnpu_fbb_add_u8(&o, 4, (uint8_t)op->opt.conv.act);
		qnpu_fbb_add_u32(&o, 5, (uint32_t)op->opt.conv.dilation_w);
		qnpu_fbb_add_u32(&o, 6, (uint32_t)op->opt.conv.dilation_h);
		break;
	case OPT_POOL:
		qnpu_fbb_add_u8(&o, 0, (uint8_t)op->opt.pool.padding);
		qnpu_fbb_add_u32(&o, 1, (uint32_t)op->opt.pool.stride_w);
		qnpu_fbb_add_u32(&o, 2, (uint32_t)op->opt.pool.stride_h);
		qnpu_fbb_add_u32(&o, 3, (uint32_t)op->opt.pool.filter_w);
		qnpu_fbb_add_u32(&o, 4, (uint32_t)op->opt.pool.filter_h);
		qnpu_fbb_add_u8(&o, 5, (uint8_t)op->opt.pool.act);
		break;
	case OPT_FC:
		qnpu_fbb_add_u8(&o, 0, (uint8_t)op->opt.fc.act);
		qnpu_fbb_add_u8(&o, 1, (uint8_t)op->opt.fc.weights_format);
		qnpu_fbb_add_u8(&o, 2, (uint8_t)!!op->opt.fc.keep_num_dims);
		break;
	case OPT_SOFTMAX:
		qnpu_fbb_add_f32(&o, 0, op->opt.softmax.beta);
		break;
	case OPT_ADD:
		qnpu_fbb_add_u8(&o, 0, (uint8_t)op->opt.add.act);
		break;
	case OPT_RESHAPE:
		/* new_shape: what older runtimes read without a shape input */
		qnpu_fbb_add_offset(&o, 0);
		break;
	}
	pos = qnpu_fbb_table_end(b, &o);
	qnpu_fbb_patch(b, field, pos);
	if (type == OPT_RESHAPE) {
		out = qnpu_ir_out(w->g, op, 0);
		qnpu_fbb_patch(b, qnpu_fbb_field(&o, 0),
			       qnpu_fbb_vec_i32(b, out->shape,
						(size_t)out->rank));
	}
}

static void write_operators(struct writer *w, size_t field)
{
	const struct qnpu_ir_graph *g = w->g;
	struct qnpu_fbb *b = &w->b;
	size_t vec = qnpu_fbb_vec_offsets(b, (size_t)g->nops);
	int i;

	qnpu_fbb_patch(b, field, vec);
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		int type = options_type(op->builtin);
		struct qnpu_fbb_table ot;

		qnpu_fbb_table_begin(&ot);
		qnpu_fbb_add_u32(&ot, OP_OPCODE, (uint32_t)w->op_code[i]);
		qnpu_fbb_add_offset(&ot, OP_INPUTS);
		qnpu_fbb_add_offset(&ot, OP_OUTPUTS);
		if (type != OPT_NONE) {
			qnpu_fbb_add_u8(&ot, OP_OPTIONS_TYPE, (uint8_t)type);
			qnpu_fbb_add_offset(&ot, OP_OPTIONS);
		}
		qnpu_fbb_patch(b, vec + 4 + 4 * (size_t)i,
			       qnpu_fbb_table_end(b, &ot));
		qnpu_fbb_patch(b, qnpu_fbb_field(&ot, OP_INPUTS),
			       qnpu_fbb_vec_i32(b, op->in, (size_t)op->nin));
		qnpu_fbb_patch(b, qnpu_fbb_field(&ot, OP_OUTPUTS),
			       qnpu_fbb_vec_i32(b, op->out, (size_t)op->nout));
		if (type != OPT_NONE)
			write_options(w, op, type,
				      qnpu_fbb_field(&ot, OP_OPTIONS));
	}
}

static void write_subgraph(struct writer *w, size_t field)
{
	const struct qnpu_ir_graph *g = w->g;
	struct qnpu_fbb *b = &w->b;
	struct qnpu_fbb_table sg;
	size_t vec = qnpu_fbb_vec_offsets(b, 1);

	qnpu_fbb_patch(b, field, vec);
	qnpu_fbb_table_begin(&sg);
	qnpu_fbb_add_offset(&sg, SG_TENSORS);
	qnpu_fbb_add_offset(&sg, SG_INPUTS);
	qnpu_fbb_add_offset(&sg, SG_OUTPUTS);
	qnpu_fbb_add_offset(&sg, SG_OPERATORS);
	qnpu_fbb_add_offset(&sg, SG_NAME);
	qnpu_fbb_patch(b, vec + 4, qnpu_fbb_table_end(b, &sg));
	write_tensors(w, qnpu_fbb_field(&sg, SG_TENSORS));
	qnpu_fbb_patch(b, qnpu_fbb_field(&sg, SG_INPUTS),
		       qnpu_fbb_vec_i32(b, g->inputs, (size_t)g->ninputs));
	qnpu_fbb_patch(b, qnpu_fbb_field(&sg, SG_OUTPUTS),
		       qnpu_fbb_vec_i32(b, g->outputs, (size_t)g->noutputs));
	write_operators(w, qnpu_fbb_field(&sg, SG_OPERATORS));
	qnpu_fbb_patch(b, qnpu_fbb_field(&sg, SG_NAME),
		       qnpu_fbb_string(b, "main"));
}

/* Buffers last, as the converter puts them: the big data at the end. */
static void write_buffers(struct writer *w, size_t field)
{
	const struct qnpu_ir_graph *g = w->g;
	struct qnpu_fbb *b = &w->b;
	size_t vec = qnpu_fbb_vec_offsets(b, w->nbuffers);
	struct qnpu_fbb_table bt;
	int i;

	qnpu_fbb_patch(b, field, vec);
	qnpu_fbb_table_begin(&bt);
	qnpu_fbb_patch(b, vec + 4, qnpu_fbb_table_end(b, &bt));
	for (i = 0; i < g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[i];
		uint32_t bi = w->tensor_buf[i];

		if (!bi)
			continue;
		qnpu_fbb_table_begin(&bt);
		qnpu_fbb_add_offset(&bt, BUF_DATA);
		qnpu_fbb_patch(b, vec + 4 + 4 * (size_t)bi,
			       qnpu_fbb_table_end(b, &bt));
		qnpu_fbb_patch(b, qnpu_fbb_field(&bt, BUF_DATA),
			       qnpu_fbb_vec_u8(b, t->const_data, t->bytes,
					       16));
	}
}

int qnpu_tflite_write(const struct qnpu_ir_graph *g, uint8_t **buf,
		      size_t *len)
{
	struct writer w = { .g = g };
	struct qnpu_fbb *b = &w.b;
	struct qnpu_fbb_table model;
	size_t root;
	int r;

	*buf = NULL;
	*len = 0;
	r = check_graph(g);
	if (!r)
		r = plan(&w);
	if (r)
		goto out;

	qnpu_fbb_init(b);
	root = qnpu_fbb_header(b, "TFL3");
	qnpu_fbb_table_begin(&model);
	qnpu_fbb_add_u32(&model, MODEL_VERSION, SCHEMA_VERSION);
	qnpu_fbb_add_offset(&model, MODEL_OPCODES);
	qnpu_fbb_add_offset(&model, MODEL_SUBGRAPHS);
	qnpu_fbb_add_offset(&model, MODEL_DESCRIPTION);
	qnpu_fbb_add_offset(&model, MODEL_BUFFERS);
	qnpu_fbb_patch(b, root, qnpu_fbb_table_end(b, &model));
	write_opcodes(&w, qnpu_fbb_field(&model, MODEL_OPCODES));
	write_subgraph(&w, qnpu_fbb_field(&model, MODEL_SUBGRAPHS));
	qnpu_fbb_patch(b, qnpu_fbb_field(&model, MODEL_DESCRIPTION),
		       qnpu_fbb_string(b, g->description ? g->description :
				       "qnpu"));
	write_buffers(&w, qnpu_fbb_field(&model, MODEL_BUFFERS));
	r = qnpu_fbb_finish(b, buf, len);
	if (r)
		r = qnpu_err(r, "cannot write model: %s", r == -EFBIG ?
			     "larger than 2 GiB" : "out of memory");
out:
	free(w.code_builtin);
	free(w.code_version);
	free(w.op_code);
	free(w.tensor_buf);
	return r;
}
