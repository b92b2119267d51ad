// SPDX-License-Identifier: MIT
/* IR helpers: names, sizes, printing, freeing. */
#include <stdio.h>
#include <stdlib.h>

#include "ir/qnpu_ir.h"
#include "util/qnpu_util.h"

static const char *const op_names[] = {
#include "qnpu_ir_names.inc"
};

const char *qnpu_ir_op_name(int builtin)
{
	static __thread char buf[24];

	if (builtin >= QNPU_ONNX_BASE && builtin < QNPU_ONNX_END)
		return qnpu_ir_onnx_op_name(builtin);
	if (builtin >= 0 &&
	    builtin < (int)(sizeof(op_names) / sizeof(op_names[0])))
		return op_names[builtin];
	snprintf(buf, sizeof(buf), "BUILTIN_%d", builtin);
	return buf;
}

/* TFLite TensorType names, by code. */
static const char *const type_names[] = {
	"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
	"INT16", "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64",
	"RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4",
};

const char *qnpu_ir_tflite_type_name(int t)
{
	if (t >= 0 && t < (int)(sizeof(type_names) / sizeof(type_names[0])))
		return type_names[t];
	return "UNKNOWN_TYPE";
}

bool qnpu_ir_dtype_known(int t)
{
	switch (t) {
	case QNPU_DTYPE_FLOAT32:
	case QNPU_DTYPE_INT32:
	case QNPU_DTYPE_UINT8:
	case QNPU_DTYPE_INT64:
	case QNPU_DTYPE_INT16:
	case QNPU_DTYPE_INT8:
		return true;
	default:
		return false;
	}
}

QNPU_EXPORT const char *qnpu_dtype_name(enum qnpu_dtype dtype)
{
	return qnpu_ir_tflite_type_name((int)dtype);
}

size_t qnpu_dtype_size(enum qnpu_dtype dtype)
{
	if ((int)dtype == QNPU_IR_DTYPE_FLOAT16)
		return 2;
	switch (dtype) {
	case QNPU_DTYPE_INT8:
	case QNPU_DTYPE_UINT8:
		return 1;
	case QNPU_DTYPE_INT16:
		return 2;
	case QNPU_DTYPE_FLOAT32:
	case QNPU_DTYPE_INT32:
		return 4;
	case QNPU_DTYPE_INT64:
		return 8;
	}
	return 0;
}

void qnpu_ir_shape_str(const struct qnpu_ir_tensor *t, char *buf, size_t n)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	if (!t->rank)
		snprintf(buf, n, "scalar");
	for (i = 0; i < t->rank && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%d",
					 i ? "x" : "", t->shape[i]);
}

void qnpu_ir_op_types_str(struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
			  char *buf, size_t n)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < op->nin + op->nout && used < n; i++) {
		bool is_in = i < op->nin;
		int32_t ti = is_in ? op->in[i] : op->out[i - op->nin];
		const char *sep = i == 0 ? "inputs " :
				  i == op->nin ? " -> outputs " : ", ";

		if (ti < 0) {
			used += (size_t)snprintf(buf + used, n - used,
						 "%s(none)", sep);
			continue;
		}
		used += (size_t)snprintf(buf + used, n - used, "%s%s", sep,
			qnpu_ir_tflite_type_name((int)g->tensors[ti].dtype));
	}
}

void qnpu_ir_graph_free(struct qnpu_ir_graph *g)
{
	int i;

	if (!g)
		return;
	for (i = 0; i < g->ntensors; i++) {
		if (g->tensors[i].owns_data)
			free((void *)g->tensors[i].const_data);
		free(g->tensors[i].scale);
		free(g->tensors[i].zero_point);
	}
	for (i = 0; i < g->nops; i++) {
		free(g->ops[i].in);
		free(g->ops[i].out);
		free(g->ops[i].params);
	}
	free(g->tensors);
	free(g->ops);
	free(g->inputs);
	free(g->outputs);
	if (g->owner_free)
		g->owner_free(g->owner);
	free(g);
}
