// SPDX-License-Identifier: MIT
/*
 * The CPU backend: runs each operator with the reference kernels of cpu/
 * from the parameters quant/ prepared into the IR op: the int8 kernels,
 * or the float32 ones for float operators. It is also the NPU backends'
 * fallback, and the only backend of float operators.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/qnpu_backend.h"
#include "cpu/qnpu_cpu.h"
#include "quant/qnpu_op_params.h"

static bool cpu_supported(struct qnpu_model *m, const struct qnpu_ir_op *op)
{
	(void)m;
	if (op->builtin >= QNPU_ONNX_BASE)
		return qnpu_cpu_onnx_supported(op);
	switch (op->builtin) {
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

/* Float32 operators: the float kernels, from the same op->params. */
static int cpu_run_float(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	const struct qnpu_op_params *c = op->params;
	struct qnpu_ir_graph *g = m->g;
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	const void *x = m->data[op->in[0]];
	const float *w = op->nin > 1 && op->in[1] >= 0 ?
			 (const float *)m->data[op->in[1]] : NULL;
	const float *bias = op->nin > 2 && op->in[2] >= 0 ?
			    (const float *)m->data[op->in[2]] : NULL;
	float *y = (float *)m->data[op->out[0]];
	const struct qnpu_backend *be = m->dev->backend;

	/* Where the NPU takes the op kind in int8, say why it did not. */
	if (be != &qnpu_cpu_backend && be->supported && be->supported(m, op) &&
	    !m->runs[op->index].note[0])
		snprintf(m->runs[op->index].note,
			 sizeof(m->runs[op->index].note),
			 "float32 operator: the NPU takes INT8 only");
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
		qnpu_cpu_conv2d_f32(&c->p.conv, c->act_min, c->act_max, &c->is,
				    x, &c->fs, w, c->filter_t, bias, &c->os, y);
		break;
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		qnpu_cpu_depthwise_conv2d_f32(&c->p.conv, c->act_min,
					      c->act_max, &c->is, x, &c->fs, w,
					      bias, &c->os, y);
		break;
	case QNPU_TFL_FULLY_CONNECTED:
		qnpu_cpu_fully_connected_f32(c->act_min, c->act_max,
					     c->batches, c->accum,
					     c->out_depth, x, w, bias, y);
		break;
	case QNPU_TFL_ADD:
		if (c->broadcast)
			qnpu_cpu_add_broadcast_f32(c->act_min, c->act_max,
						   &c->is, x, &c->bs, w,
						   &c->os, y);
		else
			qnpu_cpu_add_f32(c->act_min, c->act_max, out->count,
					 x, w, y);
		break;
	case QNPU_TFL_AVERAGE_POOL_2D:
		qnpu_cpu_avg_pool_f32(&c->p.pool, c->act_min, c->act_max,
				      &c->is, x, &c->os, y);
		break;
	case QNPU_TFL_MAX_POOL_2D:
		qnpu_cpu_max_pool_f32(&c->p.pool, c->act_min, c->act_max,
				      &c->is, x, &c->os, y);
		break;
	case QNPU_TFL_SOFTMAX:
		qnpu_cpu_softmax_f32(op->opt.softmax.beta, c->batches,
				     c->out_depth, x, y);
		break;
	case QNPU_TFL_DEQUANTIZE:
		if ((int)in->dtype == QNPU_IR_DTYPE_FLOAT16)
			qnpu_cpu_dequantize_f16(x, out->count, y);
		else
			qnpu_cpu_dequantize_i8_axis(x, c->outer, c->axis,
						    c->inner, in->scale,
						    in->zero_point, y);
		break;
	default:
		return qnpu_err(-EINVAL, "operator %d (%s): no float32 kernel",
				op->index, qnpu_ir_op_name(op->builtin));
	}
	return 0;
}

static int cpu_run_op(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	const struct qnpu_op_params *c = op->params;
	struct qnpu_ir_graph *g = m->g;
	const struct qnpu_ir_tensor *in = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *out = qnpu_ir_out(g, op, 0);
	const void *x = m->data[op->in[0]];
	const void *w = op->nin > 1 && op->in[1] >= 0 ? m->data[op->in[1]] :
			NULL;
	const int32_t *bias = op->nin > 2 && op->in[2] >= 0 ?
			      (const int32_t *)m->data[op->in[2]] : NULL;
	void *y = m->data[op->out[0]];

	if (op->builtin >= QNPU_ONNX_BASE)
		return qnpu_cpu_onnx_run(m, op);
	if (c->is_float)
		return cpu_run_float(m, op);
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
		qnpu_cpu_conv2d(&c->p.conv, &c->is, x, &c->fs, w, bias, &c->os,
				y);
		break;
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		qnpu_cpu_depthwise_conv2d(&c->p.conv, &c->is, x, &c->fs, w,
					  bias, &c->os, y);
		break;
	case QNPU_TFL_FULLY_CONNECTED:
		qnpu_cpu_fully_connected(&c->p.fc, c->batches, c->accum,
					 c->out_depth, x, w, bias, y);
		break;
	case QNPU_TFL_ADD:
		if (c->broadcast)
			qnpu_cpu_add_broadcast(&c->p.add, &c->is, x, &c->bs, w,
					       &c->os, y);
		else
			qnpu_cpu_add(&c->p.add, out->count, x, w, y);
		break;
	case QNPU_TFL_AVERAGE_POOL_2D:
		qnpu_cpu_avg_pool(&c->p.pool, &c->is, x, &c->os, y);
		break;
	case QNPU_TFL_MAX_POOL_2D:
		qnpu_cpu_max_pool(&c->p.pool, &c->is, x, &c->os, y);
		break;
	case QNPU_TFL_SOFTMAX:
		qnpu_cpu_softmax(&c->p.softmax, c->batches, c->out_depth, x, y);
		break;
	case QNPU_TFL_QUANTIZE:
		if (in->dtype == QNPU_DTYPE_FLOAT32)
			qnpu_cpu_quantize_f32(x, out->count, out->scale[0],
					      out->zero_point[0], y);
		else
			qnpu_cpu_requantize_i8(&c->p.requant, out->count, x,
					       y);
		break;
	case QNPU_TFL_RESHAPE:
		if (y != x)
			memcpy(y, x, out->bytes);
		break;
	default:
		return qnpu_err(-EINVAL, "operator %d (%s): not supported on the CPU",
				op->index, qnpu_ir_op_name(op->builtin));
	}
	return 0;
}

const struct qnpu_backend qnpu_cpu_backend = {
	.name = "cpu",
	.open = NULL,
	.supported = cpu_supported,
	.run_op = cpu_run_op,
};
