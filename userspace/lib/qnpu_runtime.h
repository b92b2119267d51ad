/* SPDX-License-Identifier: MIT */
/* The runtime's entry points below the public API (for tests). */
#ifndef QNPU_RUNTIME_H
#define QNPU_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "backend/qnpu_backend.h"

/*
 * A model from an IR graph (the importer's, or one built by a test); takes
 * ownership of @g and @file (the bytes constant data points into, or NULL).
 */
int qnpu_model_from_graph(struct qnpu_device *dev, struct qnpu_ir_graph *g,
			  uint8_t *file, size_t len, struct qnpu_model **out);
/* The same with the operators' jobs already compiled (owned too). */
int qnpu_model_from_graph_jobs(struct qnpu_device *dev,
			       struct qnpu_ir_graph *g, uint8_t *file,
			       size_t len, struct qnpu_npu_job *jobs,
			       struct qnpu_model **out);

#endif /* QNPU_RUNTIME_H */
