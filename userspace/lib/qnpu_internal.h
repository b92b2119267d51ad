/* SPDX-License-Identifier: MIT */
/* libqnpu internals shared between the runtime and its backends. */
#ifndef QNPU_INTERNAL_H
#define QNPU_INTERNAL_H

#include <stdbool.h>

#include "qnpu.h"
#include "qnpu_ir.h"

#define QNPU_EXPORT __attribute__((visibility("default")))

/* Set this thread's last error; returns @err for `return qnpu_err(...)`. */
int qnpu_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct qnpu_backend;

struct qnpu_model {
	struct qnpu_device *dev;
	uint8_t *file;			/* our copy of the .tflite bytes */
	size_t file_len;
	struct qnpu_ir_graph *g;
	uint8_t **data;			/* per tensor: its bytes at run time */
	uint8_t *arena;			/* backing store of non-constant tensors */
	qnpu_layer_cb layer_cb;
	void *layer_user;
	void *priv;			/* backend's per-model state */
};

/*
 * A backend: the device kinds behind qnpu_device_open(). supported() is the
 * per-operator predicate the partitioner asks; prepare() validates and
 * precomputes everything a run needs; run_op() runs one operator.
 */
struct qnpu_backend {
	const char *name;
	bool (*supported)(struct qnpu_model *m, const struct qnpu_ir_op *op);
	int (*prepare)(struct qnpu_model *m, struct qnpu_ir_op *op);
	int (*run_op)(struct qnpu_model *m, struct qnpu_ir_op *op);
	void (*release)(struct qnpu_model *m, struct qnpu_ir_op *op);
};

struct qnpu_device {
	const struct qnpu_backend *backend;
};

extern const struct qnpu_backend qnpu_cpu_backend;

#endif /* QNPU_INTERNAL_H */
