/* SPDX-License-Identifier: MIT */
/* libqnpu internals shared between the runtime and its backends. */
#ifndef QNPU_INTERNAL_H
#define QNPU_INTERNAL_H

#include <stdbool.h>

#include "qnpu.h"
#include "ir/qnpu_ir.h"

#define QNPU_EXPORT __attribute__((visibility("default")))

/* Set this thread's last error; returns @err for `return qnpu_err(...)`. */
int qnpu_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct qnpu_backend;

struct qnpu_npu_job;

/* Per-operator measurements of the last run (NPU backends fill most). */
struct qnpu_op_run {
	struct qnpu_op_stats stats;
	char note[160];			/* why an NPU-capable op ran on the CPU */
};

struct qnpu_model {
	struct qnpu_device *dev;
	uint8_t *file;			/* our copy of the .tflite bytes */
	size_t file_len;
	struct qnpu_ir_graph *g;
	uint8_t **data;			/* per tensor: its bytes at run time */
	size_t *offsets;		/* per tensor: offset in the arena */
	uint8_t *arena;			/* backing store of non-constant tensors */
	size_t arena_size;
	struct qnpu_op_run *runs;	/* per operator */
	qnpu_layer_cb layer_cb;
	void *layer_user;
	void *priv;			/* backend's per-model state */
	struct qnpu_npu_job *precompiled; /* from a compiled file, until used */
};

/*
 * A backend: the device kinds behind qnpu_device_open(). supported() is the
 * per-operator predicate the partitioner asks. The CPU backend's prepare()
 * validates and precomputes every operator (NPU backends lower from that);
 * an NPU backend's model_init() places the arena in device memory and
 * compiles its operators, and run_op() runs one.
 */
struct qnpu_backend {
	const char *name;
	int (*open)(struct qnpu_device *dev, const char *arg);
	void (*close)(struct qnpu_device *dev);
	bool (*supported)(struct qnpu_model *m, const struct qnpu_ir_op *op);
	int (*prepare)(struct qnpu_model *m, struct qnpu_ir_op *op);
	int (*model_init)(struct qnpu_model *m);
	void (*model_fini)(struct qnpu_model *m);
	int (*run_op)(struct qnpu_model *m, struct qnpu_ir_op *op);
	void (*release)(struct qnpu_model *m, struct qnpu_ir_op *op);
	/* The compiled operators, for qnpu_model_save(). */
	const struct qnpu_npu_job *(*model_jobs)(const struct qnpu_model *m);
};

struct qnpu_device {
	const struct qnpu_backend *backend;
	struct qnpu_device_info info;
	void *priv;
};

extern const struct qnpu_backend qnpu_cpu_backend;
extern const struct qnpu_backend qnpu_sim_backend;
extern const struct qnpu_backend qnpu_target_backend;
extern const struct qnpu_backend qnpu_drm_backend;
bool qnpu_drm_present(void);

int qnpu_partition(struct qnpu_model *m);
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
bool qnpu_is_compiled(const void *data, size_t size);
int qnpu_load_compiled(struct qnpu_device *dev, const uint8_t *data,
		       size_t size, struct qnpu_model **out);
int qnpu_plan_memory(struct qnpu_ir_graph *g, size_t *offsets,
		     size_t *total);
uint64_t qnpu_now_ns(void);
/* A whole file into a malloc()ed buffer; the error names the path. */
int qnpu_read_file(const char *path, uint8_t **buf, size_t *len);

#endif /* QNPU_INTERNAL_H */
