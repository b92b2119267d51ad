// SPDX-License-Identifier: MIT
/*
 * Batching: the graph of one sample made the graph of N. Every activation
 * (model inputs and outputs included) has a leading batch dimension of 1,
 * which becomes N; constants stay. Only operators whose samples stay
 * independent along that dimension are taken, so that every sample of a
 * batched run computes exactly what a run of it alone computes. Later
 * stages see an ordinary graph: FULLY_CONNECTED gets N rows (the NPU's N
 * pixels), convolutions an N-image input.
 */
#include <errno.h>
#include <stdio.h>

#include "ir/qnpu_ir.h"
#include "ir/qnpu_ir_batch.h"
#include "util/qnpu_util.h"

/* The operators that never mix samples of the leading dimension. */
static bool per_sample(int builtin)
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
	case QNPU_TFL_QUANTIZE:
	case QNPU_TFL_DEQUANTIZE:
		return true;
	}
	return false;
}

static int check_tensor(const struct qnpu_ir_graph *g, int ti, int batch)
{
	const struct qnpu_ir_tensor *t = &g->tensors[ti];
	char shape[64];

	if (t->const_data || (t->rank >= 1 && t->shape[0] == 1))
		return 0;
	qnpu_ir_shape_str(t, shape, sizeof(shape));
	return qnpu_err(-EINVAL,
			"cannot run at batch %d: tensor %d (%s) has shape %s, not a leading batch dimension of 1",
			batch, ti, t->name, shape);
}

int qnpu_ir_batch(struct qnpu_ir_graph *g, int batch)
{
	int i, j, r;

	if (batch < 1 || batch > QNPU_IR_MAX_BATCH)
		return qnpu_err(-EINVAL, "batch %d out of range (1 to %d)",
				batch, QNPU_IR_MAX_BATCH);
	if (g->batch > 1)
		return qnpu_err(-EINVAL, "graph is batched already (batch %d)",
				g->batch);
	/* Check everything before changing anything. */
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];

		if (!per_sample(op->builtin))
			return qnpu_err(-ENOTSUP,
					"cannot run at batch %d: operator %d (%s) is not known to keep the samples of a batch apart",
					batch, i, op->builtin >= QNPU_ONNX_BASE ?
					qnpu_ir_onnx_op_name(op->builtin) :
					qnpu_ir_op_name(op->builtin));
		for (j = 0; j < op->nin + op->nout; j++) {
			int ti = j < op->nin ? op->in[j] : op->out[j - op->nin];

			if (ti >= 0 && (r = check_tensor(g, ti, batch)))
				return r;
		}
	}
	for (i = 0; i < g->ninputs + g->noutputs; i++) {
		r = check_tensor(g, i < g->ninputs ? g->inputs[i] :
				 g->outputs[i - g->ninputs], batch);
		if (r)
			return r;
	}
	for (i = 0; i < g->ntensors; i++) {
		struct qnpu_ir_tensor *t = &g->tensors[i];

		if (t->const_data || t->rank < 1)
			continue;
		t->shape[0] = batch;
		t->count *= (size_t)batch;
		t->bytes *= (size_t)batch;
	}
	for (i = 0; i < g->nops; i++)
		g->ops[i].macs *= (uint64_t)batch;
	g->batch = batch;
	return 0;
}
