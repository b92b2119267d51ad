/* SPDX-License-Identifier: MIT */
/*
 * The NPU compiler: lowering of one IR operator to a command stream for the
 * device of docs/hw-spec.md. Shared by every NPU backend (sim, drm); they
 * own device memory, the compiler only needs addresses.
 */
#ifndef QNPU_NPU_H
#define QNPU_NPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/qnpu_backend.h"
#include "ir/qnpu_ir.h"

/*
 * Device VAs a compiled model is emitted against: the tensor arena, then
 * each NPU operator's constants, page-aligned, in operator order. Every
 * backend maps them there (each model is a context of its own).
 */
#define QNPU_VA_ARENA	(1ull << 32)
#define QNPU_VA_CONSTS	(1ull << 36)

/* What the compiler targets: the device's ID registers, or a DTB. */
struct qnpu_npu_target {
	uint32_t rows, cols;
	uint32_t abuf_bytes, wbuf_bytes, pbuf_bytes, obuf_bytes;
};

/* An NPU device's public description from its target parameters. */
void qnpu_npu_set_info(struct qnpu_device *dev,
		       const struct qnpu_npu_target *t);
/* Name of a job status (device codes, then the drm driver's). */
const char *qnpu_npu_status_name(uint32_t status);

struct qnpu_cmd {
	uint32_t w[16];
};

/*
 * One compiled operator. qnpu_npu_pack() fills consts (packed weights and
 * parameter sets) and the tiling plan; the backend places consts in device
 * memory at consts_va; qnpu_npu_emit() then writes the commands.
 */
struct qnpu_npu_job {
	/* plan */
	int kind;			/* enum in qnpu_compile.c */
	int nunits;
	uint32_t band_rows;		/* output rows per input band */
	uint32_t gset;			/* output channel groups per unit */
	uint32_t unit_pix;		/* output pixels per unit (max) */
	bool in_stream, w_stream;
	uint32_t ic_chunk;		/* CONV input channels per reduction chunk */
	uint32_t nchunks;		/* reduction chunks accumulating a tile */
	uint64_t est_cycles;		/* the cost model's prediction */
	/* constants */
	uint8_t *consts;
	size_t consts_len;
	size_t w_group_bytes;		/* weights of one channel group */
	size_t p_off;			/* offset of the parameter sets */
	uint64_t consts_va;
	/* commands */
	struct qnpu_cmd *cmds;
	size_t ncmds, cap;
	uint64_t cmds_va;
	int err;
	char why[160];			/* why the NPU cannot take it */
};

/* Whether the target can run @op, before any planning. */
bool qnpu_npu_supported(const struct qnpu_npu_target *t, struct qnpu_model *m,
			const struct qnpu_ir_op *op);
/*
 * Plan @op for @t and pack its constants. Returns 0, or -ENOTSUP with
 * job->why set when the op must fall back to the CPU.
 */
int qnpu_npu_pack(const struct qnpu_npu_target *t, struct qnpu_model *m,
		  const struct qnpu_ir_op *op, struct qnpu_npu_job *job);
/* Emit the command stream; @tensor_va gives each tensor's device VA. */
int qnpu_npu_emit(const struct qnpu_npu_target *t, struct qnpu_model *m,
		  const struct qnpu_ir_op *op, struct qnpu_npu_job *job,
		  uint64_t (*tensor_va)(struct qnpu_model *m, int tensor));
void qnpu_npu_job_free(struct qnpu_npu_job *job);

/*
 * Compile every NPU operator of @m for @t (or take the jobs of a compiled
 * model file, see qnpu_model_save()); operators that cannot be lowered
 * move to the CPU with a note. *@jobs gets one entry per operator.
 */
int qnpu_npu_compile(struct qnpu_model *m, const struct qnpu_npu_target *t,
		     struct qnpu_npu_job **jobs);
void qnpu_npu_jobs_free(struct qnpu_model *m, struct qnpu_npu_job *jobs);
/*
 * For a backend whose kernel chooses VAs: move the DMA addresses of @job
 * from the canonical arena [@arena_from, + @arena_len) to @arena_to and
 * from its canonical constants to @consts_to.
 */
void qnpu_npu_relocate(struct qnpu_npu_job *job, uint64_t arena_from,
		       uint64_t arena_len, uint64_t arena_to,
		       uint64_t consts_to);

#endif /* QNPU_NPU_H */
