// SPDX-License-Identifier: MIT
/*
 * Partitioner: each operator runs where the device's backend says it is
 * supported, else on the CPU fallback, else the model is refused with the
 * operator's index, name and types.
 */
#include <errno.h>
#include <stdio.h>

#include "compiler/qnpu_compiler.h"
#include "util/qnpu_util.h"

/* Compute operators that qnpu runs on int8 data only. */
static bool is_compute(int builtin)
{
	switch (builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
	case QNPU_TFL_FULLY_CONNECTED:
	case QNPU_TFL_ADD:
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
	case QNPU_TFL_SOFTMAX:
		return true;
	}
	return false;
}

static int unsupported(struct qnpu_ir_graph *g, const struct qnpu_ir_op *op)
{
	char types[192];

	qnpu_ir_op_types_str(g, op, types, sizeof(types));
	if (op->builtin == QNPU_TFL_CUSTOM)
		return qnpu_err(-ENOTSUP,
				"unsupported operator %d: CUSTOM \"%s\" (%s)",
				op->index,
				op->custom_code ? op->custom_code : "?", types);
	return qnpu_err(-ENOTSUP, "unsupported operator %d: %s (%s)",
			op->index, qnpu_ir_op_name(op->builtin), types);
}

int qnpu_partition(struct qnpu_ir_graph *g,
		   const struct qnpu_partition_req *req)
{
	int i;

	/* A float model is named as such before any operator is refused. */
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);

		if (is_compute(op->builtin) && in &&
		    in->dtype == QNPU_DTYPE_FLOAT32)
			return qnpu_err(-ENOTSUP,
					"model is float32 (operator %d %s takes FLOAT32 input): qnpu runs INT8 models; convert it with full-integer quantization",
					i, qnpu_ir_op_name(op->builtin));
	}
	for (i = 0; i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i];

		/* A compiled model says where each operator runs. */
		if (req->precompiled && op->target == QNPU_TARGET_NPU) {
			if (!req->npu || !req->npu(req->ctx, op))
				return qnpu_err(-EINVAL,
						"compiled model: operator %d (%s) is on the NPU, which device \"%s\" does not support",
						i, qnpu_ir_op_name(op->builtin),
						req->device);
			continue;
		}
		if (req->precompiled) {
			if (!req->cpu(req->ctx, op))
				return unsupported(g, op);
			continue;
		}
		if (req->npu && req->npu(req->ctx, op))
			op->target = QNPU_TARGET_NPU;
		else if (req->cpu(req->ctx, op))
			op->target = QNPU_TARGET_CPU;
		else
			return unsupported(g, op);
	}
	return 0;
}
