/* SPDX-License-Identifier: MIT */
/*
 * Backends: the device kinds behind qnpu_device_open() (cpu, sim, drm,
 * target) and the model and device state they work on. A backend runs
 * operators; the NPU backends compile through compiler/ and place the
 * result in device memory. The runtime (qnpu_runtime.c) is the only
 * caller of a backend's ops. May include: compiler/, quant/, ir/, cpu/,
 * util/, the hw-model C API (sim, target) and the uAPI header (drm).
 */
#ifndef QNPU_BACKEND_H
#define QNPU_BACKEND_H

#include <stdbool.h>

#include "ir/qnpu_ir.h"
#include "qnpu.h"
#include "util/qnpu_util.h"

struct qnpu_backend;
struct qnpu_npu_job;
struct qnpu_npu_seg;
struct qnpu_npu_target;

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
	/*
	 * NPU devices: per operator, its compiled job, from a compiled file
	 * or compiled by the backend's model_init(); freed by the runtime.
	 */
	struct qnpu_npu_job *jobs;
	/*
	 * NPU devices: the runs of consecutive NPU operators that go to the
	 * device as one job each (qnpu_npu_model_compile()), per operator
	 * the one it belongs to (-1: none), and per segment its operators'
	 * share of its last run's counters; freed by the runtime.
	 */
	struct qnpu_npu_seg *segs;
	int nsegs;
	int *seg_of;
	struct qnpu_op_stats **seg_stats;
	/* The CPU operators' packed layers and scratch (qnpu_cpu_backend.c). */
	struct qnpu_cpu_model *cpu;
};

/*
 * A backend. supported() is the per-operator predicate the partitioner
 * asks. An NPU backend's model_init() places the arena in device memory
 * and compiles its operators, and run_op() runs one.
 */
struct qnpu_backend {
	const char *name;
	int (*open)(struct qnpu_device *dev, const char *arg);
	void (*close)(struct qnpu_device *dev);
	bool (*supported)(struct qnpu_model *m, const struct qnpu_ir_op *op);
	int (*model_init)(struct qnpu_model *m);
	void (*model_fini)(struct qnpu_model *m);
	int (*run_op)(struct qnpu_model *m, struct qnpu_ir_op *op);
};

struct qnpu_device {
	const struct qnpu_backend *backend;
	struct qnpu_device_info info;
	/* NPU devices: the compile target (the backend's, set with info) */
	const struct qnpu_npu_target *npu;
	void *priv;
	/* The CPU operators' threads, whatever the backend. */
	int cpu_threads;		/* 0: one per online core */
	struct qnpu_cpu_pool *cpu_pool;	/* made by the first model */
};

extern const struct qnpu_backend qnpu_cpu_backend;
/* The CPU backend's ONNX operators (qnpu_cpu_onnx_run.c). */
bool qnpu_cpu_onnx_supported(const struct qnpu_ir_op *op);
int qnpu_cpu_onnx_run(struct qnpu_model *m, struct qnpu_ir_op *op);
extern const struct qnpu_backend qnpu_sim_backend;
extern const struct qnpu_backend qnpu_target_backend;
extern const struct qnpu_backend qnpu_drm_backend;
bool qnpu_drm_present(void);

/*
 * The CPU kernels' state (qnpu_cpu_backend.c), for every device: at load,
 * the ISA (QNPU_CPU_ISA), the device's pool and each CPU operator's
 * packed weights; model_fini frees what model_init made.
 */
int qnpu_cpu_model_init(struct qnpu_model *m);
void qnpu_cpu_model_fini(struct qnpu_model *m);
int qnpu_cpu_set_threads(struct qnpu_device *dev, int threads);
void qnpu_cpu_device_fini(struct qnpu_device *dev);

/* --- shared by the NPU backends (qnpu_npu_backend.c) --- */

/* An NPU device's public description from its target parameters; t is the
 * backend's and must live as long as the device. */
void qnpu_npu_set_info(struct qnpu_device *dev,
		       const struct qnpu_npu_target *t);
/* Name of a job status (device codes, then the drm driver's). */
const char *qnpu_npu_status_name(uint32_t status);
/* The compile target an NPU device describes in its info. */
void qnpu_npu_device_target(const struct qnpu_device *dev,
			    struct qnpu_npu_target *t);
/* supported() of every NPU backend: what the compiler can lower. */
bool qnpu_npu_backend_supported(struct qnpu_model *m,
				const struct qnpu_ir_op *op);
/*
 * m->jobs for the device: those of a compiled file, else compiled now.
 * Operators that fell back to the CPU get their reason as a note. Then
 * @place (if any) puts each NPU operator's constants and commands in
 * device memory.
 */
int qnpu_npu_model_compile(struct qnpu_model *m,
			   int (*place)(struct qnpu_model *m, int op,
					struct qnpu_npu_job *job),
			   int (*place_seg)(struct qnpu_model *m, int seg,
					    struct qnpu_npu_seg *sg));
/*
 * Segments: consecutive NPU operators (fused ADDs and RESHAPEs whose
 * output is their input's memory in between) joined into one job each
 * (qnpu_segment.c), unless QNPU_NPU_SEGMENT=0. Built after place() moved
 * each operator's stream to its VAs; place_seg() puts a segment's stream
 * in device memory. The cost model's per-operator estimates become each
 * operator's share of its segment's.
 */
/* The segment @op runs in (NULL: alone): none with a layer callback,
 * which must see every output before the next operator runs. */
struct qnpu_npu_seg *qnpu_npu_seg_for(struct qnpu_model *m, int op);
/* After its segment ran as one job with counters @st, each operator's
 * stats: cycles, counters and bytes split as the cost model's timeline
 * splits the segment (the sum is the job's). */
int qnpu_npu_seg_ran(struct qnpu_model *m, struct qnpu_npu_seg *sg,
		     const struct qnpu_op_stats *st);
/* For an operator of a segment that ran already: its share. */
void qnpu_npu_seg_stats(struct qnpu_model *m, int op);
/* Whether @op only renames its input (a RESHAPE planned in place). */
bool qnpu_npu_is_view(const struct qnpu_model *m, const struct qnpu_ir_op *op);
void qnpu_npu_segs_free(struct qnpu_model *m);

#endif /* QNPU_BACKEND_H */
