/* SPDX-License-Identifier: MIT */
/*
 * The ONNX importer's private state, shared by its two halves:
 * qnpu_onnx.c (protobuf, values, constants, graph I/O) and
 * qnpu_onnx_ops.c (nodes to IR operators, QDQ folding).
 */
#ifndef QNPU_ONNX_PRIV_H
#define QNPU_ONNX_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "import/onnx.pb-c.h"
#include "ir/qnpu_ir.h"

#define ONNX_MAX_ELEMS (1u << 28)
/* bytes of constants the importer computes, all together */
#define ONNX_MAX_COMPUTED (64u << 20)

/* One named value of the graph. */
struct onnx_val {
	const char *name;
	int consumers;		/* node inputs and graph outputs reading it */
	int last_consumer;	/* node index */
	bool defined;
	int dtype;		/* enum qnpu_dtype */
	int rank;
	int32_t shape[QNPU_MAX_RANK];
	size_t count;
	const uint8_t *data;	/* constant, or NULL */
	int tensor;		/* IR tensor, or -1 */
	/* DequantizeLinear output not yet computed: of src with scale/zp. */
	int dq_src, dq_scale, dq_zp, dq_axis;
};

struct onnx_ctx {
	Onnx__ModelProto *m;
	Onnx__GraphProto *gp;
	int opset;
	struct onnx_val *v;
	int nv, vcap;
	int *hash;		/* name -> value index, open addressing */
	size_t hcap;
	bool *node_done;	/* folded into an earlier node's operator */
	/* owned buffers (converted constants, scale arrays) */
	void **bufs;
	int nbufs, bufcap;
	struct qnpu_ir_graph *g;
	int tcap, ocap;
	size_t computed;	/* bytes of computed constants */
};

/* qnpu_err() with "node I (OpType): " before the message. */
int onnx_node_fail(int err, const Onnx__NodeProto *n, int idx,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void *onnx_alloc(struct onnx_ctx *c, size_t bytes);
int onnx_find(struct onnx_ctx *c, const char *name);
size_t onnx_esize(int dtype);
/* The IR tensor of value @vi, made on first use (DEQUANTIZE for a DQ). */
int onnx_tensor(struct onnx_ctx *c, int vi);
/* A new IR tensor for value @vi with its type and shape. */
int onnx_new_tensor(struct onnx_ctx *c, int vi);
/* A new operator; its in/out arrays allocated for nin/nout. */
struct qnpu_ir_op *onnx_new_op(struct onnx_ctx *c, int builtin, int nin,
			       int nout);
/* A QUANTIZE or DEQUANTIZE of tensor @tx by @ts, @tz (-1: none) into @t. */
int onnx_qdq_op(struct onnx_ctx *c, int kind, int tx, int ts, int tz, int t,
		int axis);
/* A constant value from a TensorProto (Constant node, initializer). */
int onnx_const_from_proto(struct onnx_ctx *c, int vi,
			  const Onnx__TensorProto *t);
int onnx_set_shape(struct onnx_val *v, int rank, const int64_t *dims);

const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n,
				      const char *name);
int64_t onnx_attr_i(const Onnx__NodeProto *n, const char *name, int64_t def);
float onnx_attr_f(const Onnx__NodeProto *n, const char *name, float def);

/* Every node, in order (qnpu_onnx_ops.c). */
int onnx_import_nodes(struct onnx_ctx *c);

#endif /* QNPU_ONNX_PRIV_H */
