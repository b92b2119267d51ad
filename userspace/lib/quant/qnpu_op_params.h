/* SPDX-License-Identifier: MIT */
/*
 * What an operator needs at run time beyond the graph: its requantization
 * parameters and normalized geometry, computed once by
 * qnpu_op_params_prepare() and stored in the IR op (op->params, one
 * allocation the IR frees). The CPU backend runs its kernels from them;
 * the NPU compiler lowers exactly the same values. May include: ir/,
 * quant/, util/.
 */
#ifndef QNPU_OP_PARAMS_H
#define QNPU_OP_PARAMS_H

#include <stdbool.h>

#include "ir/qnpu_ir.h"
#include "quant/qnpu_onnx_qparams.h"
#include "quant/qnpu_qparams.h"

struct qnpu_op_params {
	union {
		struct qnpu_conv_params conv;
		struct qnpu_fc_params fc;
		struct qnpu_add_params add;
		struct qnpu_pool_params pool;
		struct qnpu_softmax_params softmax;
		struct qnpu_requant_params requant;
		struct qnpu_onnx_params onnx;	/* ONNX operators */
	} p;
	struct qnpu_shape4 is, fs, os, bs;	/* input, filter, output, in2 */
	int32_t batches, accum, out_depth;	/* fully connected */
	bool broadcast;				/* add */
	/*
	 * Float32 operators (is_float): the fused activation as a clamp, a
	 * constant CONV_2D filter re-laid out for the kernel (in chan[]),
	 * DEQUANTIZE as [outer][axis][inner] with a scale per axis index.
	 */
	bool is_float;
	float act_min, act_max;
	const float *filter_t;
	size_t outer, axis, inner;
	int32_t *mult, *shift;			/* per channel, in chan[] */
	int32_t chan[];
};

/*
 * Check @op against what TFLite's kernels accept and compute op->params.
 * Returns 0, or a negative errno with the operator named in the last
 * error.
 */
int qnpu_op_params_prepare(struct qnpu_ir_graph *g, struct qnpu_ir_op *op);
/* The same for every operator of @g, stopping at the first refusal. */
int qnpu_op_params_prepare_all(struct qnpu_ir_graph *g);

#endif /* QNPU_OP_PARAMS_H */
