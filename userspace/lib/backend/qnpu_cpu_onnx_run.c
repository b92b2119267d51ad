// SPDX-License-Identifier: MIT
/*
 * The CPU backend's ONNX operators: each IR op of enum qnpu_onnx_builtin
 * to its kernel in cpu/qnpu_cpu_onnx*.c, from op->params->p.onnx.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/qnpu_backend.h"
#include "cpu/qnpu_cpu_onnx.h"
#include "quant/qnpu_op_params.h"

bool qnpu_cpu_onnx_supported(const struct qnpu_ir_op *op)
{
	return op->builtin >= QNPU_ONNX_BASE && op->builtin < QNPU_ONNX_END;
}

/* Why an ONNX operator the NPU does not implement runs on the CPU. */
static const char *not_on_npu(const struct qnpu_ir_op *op)
{
	switch (op->builtin) {
	case QNPU_ONNX_CONV_INTEGER:
	case QNPU_ONNX_MATMUL_INTEGER:
		return "INT32 output: the PPU writes 8-bit results";
	case QNPU_ONNX_QLINEAR_ADD:
		return "ONNX Runtime's QLinearAdd rounds a float sum of rescaled inputs: no exact NPU mode";
	case QNPU_ONNX_QUANTIZE:
	case QNPU_ONNX_DEQUANTIZE:
	case QNPU_ONNX_DYNAMIC_QUANTIZE:
	case QNPU_ONNX_CAST:
		return "float <-> integer conversion: the NPU computes INT8";
	case QNPU_ONNX_RESHAPE:
	case QNPU_ONNX_RELAYOUT:
		return NULL;	/* copies */
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_QLINEAR_AVG_POOL:
	case QNPU_ONNX_MAX_POOL:
		return NULL;	/* the compiler says why, if it did not */
	}
	return "float32 operator: the NPU takes INT8 only";
}

int qnpu_cpu_onnx_run(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	const struct qnpu_onnx_params *p = &op->params->p.onnx;
	const struct qnpu_ir_graph *g = m->g;
	const void *in[4] = { NULL, NULL, NULL, NULL };
	void *y = m->data[op->out[0]];
	int i;

	for (i = 0; i < op->nin && i < 4; i++)
		in[i] = op->in[i] >= 0 ? m->data[op->in[i]] : NULL;
	if (m->dev->backend != &qnpu_cpu_backend && !m->runs[op->index].note[0] &&
	    not_on_npu(op))
		snprintf(m->runs[op->index].note, sizeof(m->runs[op->index].note),
			 "%s", not_on_npu(op));
	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_CONV_INTEGER:
		qnpu_cpu_onnx_conv(p, in[0], in[1],
				   op->builtin == QNPU_ONNX_QLINEAR_CONV ?
				   in[2] : NULL, y);
		break;
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_MATMUL_INTEGER:
		qnpu_cpu_onnx_matmul(p, in[0], in[1],
				     op->builtin == QNPU_ONNX_QLINEAR_MATMUL ?
				     in[2] : NULL, y);
		break;
	case QNPU_ONNX_QLINEAR_ADD:
		qnpu_cpu_onnx_qadd(p, in[0], in[1], y);
		break;
	case QNPU_ONNX_QLINEAR_AVG_POOL:
		qnpu_cpu_onnx_qavg_pool(p, in[0], y);
		break;
	case QNPU_ONNX_MAX_POOL:
		qnpu_cpu_onnx_max_pool(p, in[0], y);
		break;
	case QNPU_ONNX_QUANTIZE:
		qnpu_cpu_onnx_quantize(p, in[0], in[1], in[2], y);
		break;
	case QNPU_ONNX_DEQUANTIZE:
		qnpu_cpu_onnx_dequantize(p, in[0], in[1], in[2], y);
		break;
	case QNPU_ONNX_DYNAMIC_QUANTIZE:
		qnpu_cpu_onnx_dynamic_quantize(p, in[0], y,
					       (float *)m->data[op->out[1]],
					       m->data[op->out[2]]);
		break;
	case QNPU_ONNX_RESHAPE:
		if (y != in[0])
			memcpy(y, in[0], g->tensors[op->out[0]].bytes);
		break;
	case QNPU_ONNX_CONV:
		qnpu_cpu_onnx_conv_f32(p, in[0], in[1], in[2], y);
		break;
	case QNPU_ONNX_GEMM:
		qnpu_cpu_onnx_gemm_f32(p, in[0], in[1], in[2], y);
		break;
	case QNPU_ONNX_AVG_POOL:
		qnpu_cpu_onnx_avg_pool_f32(p, in[0], y);
		break;
	case QNPU_ONNX_SOFTMAX:
		qnpu_cpu_onnx_softmax_f32(p, in[0], y);
		break;
	case QNPU_ONNX_BINARY:
		qnpu_cpu_onnx_binary_f32(p, in[0], in[1], y);
		break;
	case QNPU_ONNX_UNARY:
		qnpu_cpu_onnx_unary_f32(p, in[0], y);
		break;
	case QNPU_ONNX_REDUCE:
		qnpu_cpu_onnx_reduce_f32(p, in[0], y);
		break;
	case QNPU_ONNX_RELAYOUT:
		qnpu_cpu_onnx_relayout(p, in[0], y);
		break;
	case QNPU_ONNX_CAST:
		qnpu_cpu_onnx_cast(p->x.type, p->y.type, p->count, in[0], y);
		break;
	default:
		return qnpu_err(-EINVAL, "operator %d (%s): not supported on the CPU",
				op->index, qnpu_ir_op_name(op->builtin));
	}
	return 0;
}
