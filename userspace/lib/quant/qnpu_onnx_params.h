/* SPDX-License-Identifier: MIT */
/*
 * Preparation of the ONNX operators (ir/qnpu_ir.h enum qnpu_onnx_builtin):
 * checks and struct qnpu_onnx_params in op->params->p.onnx, with the
 * float32 multipliers as ONNX Runtime computes them. May include: ir/,
 * quant/, util/.
 */
#ifndef QNPU_ONNX_PARAMS_H
#define QNPU_ONNX_PARAMS_H

#include "ir/qnpu_ir.h"

/* op->params (re)allocated; 0 or a negative errno naming the operator. */
int qnpu_onnx_params_prepare(struct qnpu_ir_graph *g, struct qnpu_ir_op *op);

#endif /* QNPU_ONNX_PARAMS_H */
