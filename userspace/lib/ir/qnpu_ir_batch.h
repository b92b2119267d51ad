/* SPDX-License-Identifier: MIT */
/* Batching a graph: N samples per run (ir/qnpu_ir_batch.c). */
#ifndef QNPU_IR_BATCH_H
#define QNPU_IR_BATCH_H

#include "ir/qnpu_ir.h"

/* The largest batch: it multiplies every activation's memory. */
#define QNPU_IR_MAX_BATCH 256

/*
 * Make @g, a graph of one sample, the graph of @batch samples: every
 * non-constant tensor's leading dimension of 1 becomes @batch. -EINVAL
 * (nothing changed) for a batch out of range or an activation without a
 * leading 1; -ENOTSUP for an operator that may mix samples.
 */
int qnpu_ir_batch(struct qnpu_ir_graph *g, int batch);

#endif /* QNPU_IR_BATCH_H */
