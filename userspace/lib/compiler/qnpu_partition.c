// SPDX-License-Identifier: MIT
/*
 * Partitioner: each operator runs where the device's backend says it is
 * supported, else on the CPU fallback, else the model is refused with the
 * operator's index, name and types. Float operators run on the CPU.
 */
#include <errno.h>
#include <stdio.h>

#include "compiler/qnpu_compiler.h"
#include "util/qnpu_util.h"

/*
 * The NPU takes int8 only: an operator with a float tensor (float32
 * activations, a float constant) runs on the CPU. Float16 is known for
 * constants only; as an activation it is refused here, by name.
 */
static bool has_float(const struct qnpu_ir_graph *g,
		      const struct qnpu_ir_op *op)
{
	int i;

	for (i = 0; i < op->nin + op->nout; i++) {
		int32_t ti = i < op->nin ? op->in[i] : op->out[i - op->nin];

		if (ti >= 0 && (g->tensors[ti].dtype == QNPU_DTYPE_FLOAT32 ||
				(int)g->tensors[ti].dtype ==
				QNPU_IR_DTYPE_FLOAT16))
			return true;
	}
	return false;
}

/* A FLOAT16 tensor that is not a constant, or -1. */
static int float16_activation(const struct qnpu_ir_graph *g,
			      const struct qnpu_ir_op *op)
{
	int i;

	for (i = 0; i < op->nin + op->nout; i++) {
		int32_t ti = i < op->nin ? op->in[i] : op->out[i - op->nin];

		if (ti >= 0 &&
		    (int)g->tensors[ti].dtype == QNPU_IR_DTYPE_FLOAT16 &&
		    !g->tensors[ti].const_data)
			return ti;
	}
	return -1;
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
	int i, ti;

	for (i = 0; i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i];
		char types[192];

		ti = float16_activation(g, op);
		if (ti >= 0) {
			qnpu_ir_op_types_str(g, op, types, sizeof(types));
			return qnpu_err(-ENOTSUP,
					"unsupported operator %d: %s (%s): tensor %d (%s) is a FLOAT16 activation; qnpu runs FLOAT32 and INT8 (FLOAT16 only as DEQUANTIZE constants)",
					i, qnpu_ir_op_name(op->builtin), types,
					ti, g->tensors[ti].name);
		}
	}
	for (i = 0; i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i];
		bool npu_ok = req->npu && !has_float(g, op);

		/* A compiled model says where each operator runs. */
		if (req->precompiled && op->target == QNPU_TARGET_NPU) {
			if (!npu_ok || !req->npu(req->ctx, op))
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
		if (npu_ok && req->npu(req->ctx, op))
			op->target = QNPU_TARGET_NPU;
		else if (req->cpu(req->ctx, op))
			op->target = QNPU_TARGET_CPU;
		else
			return unsupported(g, op);
	}
	return 0;
}
