// SPDX-License-Identifier: MIT
/*
 * The CPU backend: runs each operator with the kernels of cpu/ from the
 * parameters quant/ prepared into the IR op: the int8 kernels, or the
 * float32 ones for float operators. It is also the NPU backends'
 * fallback, and the only backend of float operators.
 *
 * At load, the ISA is chosen once (QNPU_CPU_ISA or the best the CPU
 * has) and each int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with
 * constant weights is packed for it; a run then allocates nothing. The
 * scalar path is the reference kernels, unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

struct qnpu_cpu_model {
	int isa;
	struct qnpu_cpu_layer **layers;	/* per operator, or NULL */
	int8_t **add_tables;		/* per element-wise ADD, or NULL */
	void *scratch;			/* the largest layer's */
};

int qnpu_cpu_set_threads(struct qnpu_device *dev, int threads)
{
	struct qnpu_cpu_pool *pool = NULL;
	int r, n = threads ? threads : qnpu_cpu_online_cores();

	if (threads < 0 || threads > 1024)
		return qnpu_err(-EINVAL, "threads: %d is not 0 (one per core) to 1024",
				threads);
	if (n > 1) {
		r = qnpu_cpu_pool_create(n, &pool);
		if (r)
			return qnpu_err(r, "cannot start %d CPU threads: %s", n,
					strerror(-r));
	}
	qnpu_cpu_pool_destroy(dev->cpu_pool);
	dev->cpu_pool = pool;
	dev->cpu_threads = threads;
	return 0;
}

void qnpu_cpu_device_fini(struct qnpu_device *dev)
{
	qnpu_cpu_pool_destroy(dev->cpu_pool);
	dev->cpu_pool = NULL;
}

void qnpu_cpu_model_fini(struct qnpu_model *m)
{
	struct qnpu_cpu_model *cm = m->cpu;
	int i;

	if (!cm)
		return;
	for (i = 0; cm->layers && i < m->g->nops; i++)
		qnpu_cpu_layer_destroy(cm->layers[i]);
	for (i = 0; cm->add_tables && i < m->g->nops; i++)
		free(cm->add_tables[i]);
	free(cm->layers);
	free(cm->add_tables);
	free(cm->scratch);
	free(cm);
	m->cpu = NULL;
}

static bool is_const(const struct qnpu_model *m, const struct qnpu_ir_op *op,
		     int i)
{
	return i < op->nin && op->in[i] >= 0 &&
	       m->g->tensors[op->in[i]].const_data;
}

/* The packed layer of an int8 conv, depthwise or FC; -ENOTSUP if none. */
static int pack_op(struct qnpu_model *m, const struct qnpu_ir_op *op,
		   int isa, struct qnpu_cpu_layer **l)
{
	const struct qnpu_op_params *c = op->params;
	const int8_t *w;
	const int32_t *bias;

	*l = NULL;
	if (c->is_float || !is_const(m, op, 1) ||
	    (op->nin > 2 && op->in[2] >= 0 && !is_const(m, op, 2)))
		return -ENOTSUP;
	w = (const int8_t *)m->data[op->in[1]];
	bias = op->nin > 2 && op->in[2] >= 0 ?
	       (const int32_t *)m->data[op->in[2]] : NULL;
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
		return qnpu_cpu_conv_create(isa, &c->p.conv, &c->is, &c->fs, w,
					    bias, &c->os, l);
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		return qnpu_cpu_dwconv_create(isa, &c->p.conv, &c->is, &c->fs,
					      w, bias, &c->os, l);
	case QNPU_TFL_FULLY_CONNECTED:
		return qnpu_cpu_fc_create(isa, &c->p.fc, c->batches, c->accum,
					  c->out_depth, w, bias, l);
	}
	return -ENOTSUP;
}

int qnpu_cpu_model_init(struct qnpu_model *m)
{
	struct qnpu_device *dev = m->dev;
	struct qnpu_cpu_model *cm;
	size_t scratch = 0;
	char why[160];
	int i, r, isa;

	isa = qnpu_cpu_isa_select(why, sizeof(why));
	if (isa < 0)
		return qnpu_err(isa, "%s", why);
	cm = calloc(1, sizeof(*cm));
	if (!cm)
		return qnpu_err(-ENOMEM, "out of memory");
	m->cpu = cm;
	cm->isa = isa;
	cm->layers = calloc((size_t)m->g->nops + 1, sizeof(*cm->layers));
	cm->add_tables = calloc((size_t)m->g->nops + 1,
				sizeof(*cm->add_tables));
	if (!cm->layers || !cm->add_tables)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; isa != QNPU_CPU_SCALAR && i < m->g->nops; i++) {
		const struct qnpu_ir_op *op = &m->g->ops[i];
		const struct qnpu_op_params *c = op->params;

		if (op->target != QNPU_TARGET_CPU || !c)
			continue;
		if (op->builtin == QNPU_TFL_ADD && !c->is_float &&
		    !c->broadcast) {
			cm->add_tables[i] = qnpu_cpu_add_table(&c->p.add);
			if (!cm->add_tables[i])
				return qnpu_err(-ENOMEM, "out of memory");
			continue;
		}
		r = pack_op(m, op, isa, &cm->layers[i]);
		if (r == -ENOTSUP)
			continue;	/* the reference kernel runs it */
		if (r)
			return qnpu_err(r, "operator %d (%s): cannot pack its weights",
					i, qnpu_ir_op_name(op->builtin));
		if (qnpu_cpu_layer_scratch(cm->layers[i]) > scratch)
			scratch = qnpu_cpu_layer_scratch(cm->layers[i]);
	}
	if (scratch) {
		cm->scratch = aligned_alloc(64, (scratch + 63) / 64 * 64);
		if (!cm->scratch)
			return qnpu_err(-ENOMEM, "out of memory for %zu bytes of CPU scratch",
					scratch);
	}
	/* The device's threads start with its first model. */
	if (!dev->cpu_pool && isa != QNPU_CPU_SCALAR &&
	    (dev->cpu_threads ? dev->cpu_threads :
	     qnpu_cpu_online_cores()) > 1)
		return qnpu_cpu_set_threads(dev, dev->cpu_threads);
	return 0;
}

static int cpu_run_op(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	const struct qnpu_cpu_model *cm = m->cpu;
	struct qnpu_cpu_pool *pool = m->dev->cpu_pool;
	const int isa = cm ? cm->isa : QNPU_CPU_SCALAR;
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
	if (cm && cm->layers[op->index]) {
		qnpu_cpu_layer_run(cm->layers[op->index], pool, x, y,
				   cm->scratch);
		return 0;
	}
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
		else if (cm && cm->add_tables[op->index])
			qnpu_cpu_add_lut(pool, cm->add_tables[op->index],
					 out->count, x, w, y);
		else
			qnpu_cpu_add(&c->p.add, out->count, x, w, y);
		break;
	case QNPU_TFL_AVERAGE_POOL_2D:
		qnpu_cpu_avg_pool_isa(isa, pool, &c->p.pool, &c->is, x, &c->os,
				      y);
		break;
	case QNPU_TFL_MAX_POOL_2D:
		qnpu_cpu_max_pool_isa(isa, pool, &c->p.pool, &c->is, x, &c->os,
				      y);
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
