/* SPDX-License-Identifier: MIT */
/*
 * What the CPU backend prepares for each operator. NPU backends read it
 * too: they lower operators with exactly the parameters (padding,
 * multipliers, activation range) the reference path uses.
 */
#ifndef QNPU_CPU_BACKEND_H
#define QNPU_CPU_BACKEND_H

#include <stdbool.h>

#include "cpu/qnpu_cpu.h"

struct qnpu_cpu_op {
	union {
		struct qnpu_cpu_conv conv;
		struct qnpu_cpu_fc fc;
		struct qnpu_cpu_add add;
		struct qnpu_cpu_pool pool;
		struct qnpu_cpu_softmax softmax;
		struct qnpu_cpu_requant requant;
	} p;
	struct qnpu_cpu_shape is, fs, os, bs;	/* input, filter, output, in2 */
	int32_t batches, accum, out_depth;	/* fully connected */
	bool broadcast;				/* add */
	int32_t *mult, *shift;			/* per channel */
};

#endif /* QNPU_CPU_BACKEND_H */
