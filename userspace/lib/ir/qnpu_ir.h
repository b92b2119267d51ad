/* SPDX-License-Identifier: MIT */
/*
 * The graph IR: tensors and operators of one subgraph, as an importer
 * builds it, annotated by later stages (quant/: op->params; the
 * partitioner: op->target). Constant data and names point into the
 * model's own copy of the file. Knows no file format and no device; may
 * include only the public header and util/ (the bottom stage).
 */
#ifndef QNPU_IR_H
#define QNPU_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qnpu.h"

struct qnpu_op_params;

/* TFLite builtin operator codes used by name in the code. */
enum qnpu_builtin {
	QNPU_TFL_ADD = 0,
	QNPU_TFL_AVERAGE_POOL_2D = 1,
	QNPU_TFL_CONV_2D = 3,
	QNPU_TFL_DEPTHWISE_CONV_2D = 4,
	QNPU_TFL_DEQUANTIZE = 6,
	QNPU_TFL_FULLY_CONNECTED = 9,
	QNPU_TFL_MAX_POOL_2D = 17,
	QNPU_TFL_RESHAPE = 22,
	QNPU_TFL_SOFTMAX = 25,
	QNPU_TFL_CUSTOM = 32,
	QNPU_TFL_QUANTIZE = 114,
};

enum qnpu_padding { QNPU_PAD_SAME = 0, QNPU_PAD_VALID = 1 };

/*
 * ONNX operators (import/qnpu_onnx*.c), past TFLite's codes: NCHW as ONNX
 * lays tensors out; the Q* ones are integer ops on UINT8/INT8 tensors
 * with the quantization of their tensors (QDQ groups folded into them),
 * the rest float32 (or, for RESHAPE and MAX_POOL, any type).
 */
enum qnpu_onnx_builtin {
	QNPU_ONNX_BASE = 1000,
	QNPU_ONNX_QLINEAR_CONV = QNPU_ONNX_BASE, /* x, w, [bias int32] */
	QNPU_ONNX_QLINEAR_MATMUL,	/* a, b, [bias int32]: Gemm, MatMul */
	QNPU_ONNX_CONV_INTEGER,		/* x, w -> int32 */
	QNPU_ONNX_MATMUL_INTEGER,	/* a, b -> int32 */
	QNPU_ONNX_QLINEAR_ADD,
	QNPU_ONNX_QLINEAR_AVG_POOL,	/* also GlobalAveragePool */
	QNPU_ONNX_QLINEAR_SOFTMAX,
	QNPU_ONNX_QUANTIZE,		/* float -> u8/s8 */
	QNPU_ONNX_DEQUANTIZE,		/* u8/s8/int32 -> float */
	QNPU_ONNX_DYNAMIC_QUANTIZE,	/* float -> u8, scale, zero point */
	QNPU_ONNX_RESHAPE,		/* Reshape, Flatten, no-op Cast */
	QNPU_ONNX_MAX_POOL,
	/* float32 */
	QNPU_ONNX_CONV,
	QNPU_ONNX_GEMM,			/* Gemm and MatMul */
	QNPU_ONNX_AVG_POOL,		/* also GlobalAveragePool */
	QNPU_ONNX_SOFTMAX,
	QNPU_ONNX_BINARY,		/* Add Sub Mul Div Min Max (opt.onnx.fn) */
	QNPU_ONNX_UNARY,		/* Relu Clip Round (opt.onnx.fn) */
	QNPU_ONNX_REDUCE,		/* ReduceMin/ReduceMax over all axes */
	QNPU_ONNX_CAST,
	/* NCHW <-> NHWC and/or UINT8 <-> INT8 (x ^ 0x80) at an NPU's edge */
	QNPU_ONNX_RELAYOUT,
	QNPU_ONNX_END
};

/* ONNX_BINARY / ONNX_UNARY / ONNX_REDUCE functions. */
enum qnpu_onnx_fn {
	QNPU_ONNX_FN_ADD, QNPU_ONNX_FN_SUB, QNPU_ONNX_FN_MUL, QNPU_ONNX_FN_DIV,
	QNPU_ONNX_FN_MIN, QNPU_ONNX_FN_MAX, QNPU_ONNX_FN_CLIP,
	QNPU_ONNX_FN_ROUND,
};

/*
 * How an operator requantizes, after the framework it came from: TFLite's
 * fixed-point multiplier with double rounding, or ONNX Runtime's
 * round_half_even(float32(acc) * float32 multiplier) + zero point.
 */
enum qnpu_rounding {
	QNPU_ROUND_TFLITE = 0,
	QNPU_ROUND_ONNX = 1,
};

/*
 * TFLite's FLOAT16, which the public qnpu_dtype does not name: the IR
 * holds it for constants (DEQUANTIZE inputs); it is never an activation.
 */
#define QNPU_IR_DTYPE_FLOAT16 1

struct qnpu_ir_tensor {
	const char *name;
	enum qnpu_dtype dtype;
	int rank;
	int32_t shape[QNPU_MAX_RANK];
	size_t count;			/* elements */
	size_t bytes;
	/* Quantization: nq == 0 when the tensor has none. */
	int nq;
	float *scale;
	int32_t *zero_point;
	int qdim;
	const uint8_t *const_data;	/* constant (weights), or NULL */
	/*
	 * const_data was malloc()ed for this tensor (made by a stage, e.g. a
	 * dequantized or quantized constant) and is freed with the graph;
	 * otherwise it points into the model's file bytes.
	 */
	bool owns_data;
	bool is_input, is_output;
};

struct qnpu_ir_op {
	int index;
	int builtin;			/* TFLite BuiltinOperator */
	const char *custom_code;	/* CUSTOM ops only */
	int version;
	int nin, nout;
	int32_t *in, *out;		/* tensor indices, -1 = absent */
	union {
		struct {
			int padding, stride_w, stride_h, act;
			int dilation_w, dilation_h, depth_multiplier;
		} conv;
		struct {
			int padding, stride_w, stride_h;
			int filter_w, filter_h, act;
		} pool;
		struct {
			int act, weights_format, keep_num_dims;
		} fc;
		struct {
			int act;
		} add;
		struct {
			float beta;
		} softmax;
		/* ONNX operators; NCHW geometry. */
		struct {
			int32_t group, kernel[2], stride[2], dilation[2];
			int32_t pad[4];		/* top, left, bottom, right */
			int32_t trans_a, trans_b, axis, fn, to;
			int32_t count_include_pad;
			/*
			 * Its 4-D activations are stored NHWC in memory (their
			 * shapes stay ONNX's NCHW): set for an NPU by
			 * compiler/qnpu_onnx_npu.c. RELAYOUT: 1 NCHW -> NHWC,
			 * 2 NHWC -> NCHW; flip: xor 0x80 (UINT8 <-> INT8).
			 */
			int32_t nhwc, flip;
			/* float clamp (Relu, Clip) fused or as UNARY */
			float lo, hi;
			float alpha, beta;
		} onnx;
	} opt;
	enum qnpu_rounding rounding;
	uint64_t macs;
	enum qnpu_target target;
	/*
	 * NPU residual fusion (compiler/qnpu_lower.c, qnpu_npu_fuse()): on a
	 * convolution, the index + 1 of the ADD its epilogue computes; on
	 * that ADD, the index + 1 of the convolution; 0: none.
	 */
	int res_add, res_conv;
	/*
	 * On such a convolution: the ADD's other operand is computed after
	 * it (in operator order), so its job runs in the ADD's place, once
	 * both operands exist (e.g. ResNet's compute-bound 3x3 convolution
	 * reading the later 1x1 shortcut's output as its residual).
	 */
	bool res_defer;
	/*
	 * On a CONV_2D: the index + 1 of a 1x1 CONV_2D of the same input
	 * that its job computes too, from the same loads (a sibling, e.g. a
	 * ResNet 1x1 stride-2 shortcut beside the 3x3 stride-2 convolution);
	 * the sibling's res_conv then names this operator. 0: none.
	 */
	int sib;
	/* quant/qnpu_op_params.h; one allocation, freed with the graph */
	struct qnpu_op_params *params;
};

struct qnpu_ir_graph {
	int ntensors;
	struct qnpu_ir_tensor *tensors;
	int nops;
	struct qnpu_ir_op *ops;
	int ninputs, noutputs;
	int32_t *inputs, *outputs;
	const char *description;
	/*
	 * What an importer keeps alive for the names and constants it points
	 * to (ONNX: the decoded protobuf), freed with the graph; or NULL.
	 */
	void *owner;
	void (*owner_free)(void *owner);
	/* compiler/qnpu_onnx_npu.c has laid the ONNX graph out for an NPU */
	bool npu_layout;
	/* samples per run as ir/qnpu_ir_batch.c set it; 0: never batched */
	int batch;
};

/* "CONV_2D", or "BUILTIN_<n>" for codes past the table. */
const char *qnpu_ir_op_name(int builtin);
/* "QLINEAR_CONV" etc. for an enum qnpu_onnx_builtin (qnpu_ir_onnx.c). */
const char *qnpu_ir_onnx_op_name(int builtin);
size_t qnpu_dtype_size(enum qnpu_dtype dtype);
/* Whether TFLite's type code maps to a qnpu_dtype; then its name. */
bool qnpu_ir_dtype_known(int tflite_type);
const char *qnpu_ir_tflite_type_name(int tflite_type);

static inline struct qnpu_ir_tensor *
qnpu_ir_in(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op, int i)
{
	return i < op->nin && op->in[i] >= 0 ? &g->tensors[op->in[i]] : NULL;
}

static inline struct qnpu_ir_tensor *
qnpu_ir_out(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op, int i)
{
	return i < op->nout && op->out[i] >= 0 ? &g->tensors[op->out[i]] : NULL;
}

void qnpu_ir_graph_free(struct qnpu_ir_graph *g);

/* "1x96x96x1" */
void qnpu_ir_shape_str(const struct qnpu_ir_tensor *t, char *buf, size_t n);
/* "INT8 1x96x96x1" etc. for error messages: input/output types of an op. */
void qnpu_ir_op_types_str(struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
			  char *buf, size_t n);

#endif /* QNPU_IR_H */
