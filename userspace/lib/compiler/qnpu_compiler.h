/* SPDX-License-Identifier: MIT */
/*
 * The compiler: partitioning (which operators run where), memory planning,
 * lowering of IR operators to command streams for the device of
 * docs/hw-spec.md, and the compiled-model file. It works on IR graphs whose
 * operators quant/ has prepared and returns plans, jobs and streams; it
 * knows no backend and never calls the runtime (backends own device
 * memory, the compiler only needs addresses). May include: ir/, quant/,
 * import/, util/ and the generated register header.
 */
#ifndef QNPU_COMPILER_H
#define QNPU_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/qnpu_ir.h"

/*
 * Device VAs a compiled model is emitted against: the tensor arena, then
 * each NPU operator's constants, page-aligned, in operator order. Every
 * backend maps them there (each model is a context of its own).
 */
#define QNPU_VA_ARENA	(1ull << 32)
#define QNPU_VA_CONSTS	(1ull << 36)

/*
 * What the compiler targets: the device's ID registers, or a DTB. The
 * array and SRAM sizes decide what compiles; the rest only what the cost
 * model predicts (0: the defaults, C bytes per cycle, 16 entries, ideal
 * memory).
 */
struct qnpu_npu_target {
	uint32_t rows, cols;
	uint32_t abuf_bytes, wbuf_bytes, pbuf_bytes, obuf_bytes;
	uint32_t dma_bytes, queue_depth;
	uint32_t mem_latency_cycles, mem_bytes_per_cycle, mem_outstanding;
	/* the device's programming-model minor version: what the compiler
	 * may emit (QNPU_MINOR_HANDOFF for DRAIN_ABUF / PPU_WAIT) */
	uint32_t version_minor;
};

#define QNPU_MINOR_HANDOFF 2

struct qnpu_cmd {
	uint32_t w[16];
};

/* The cost model (qnpu_cost.c): cycles a job of cmds[0..n) takes on t,
 * as the RTL counts them (0 if it cannot tell), and the bytes its DMA
 * reads and writes. */
uint64_t qnpu_npu_stream_cycles(const struct qnpu_npu_target *t,
				const struct qnpu_cmd *cmds, size_t n,
				uint64_t *dma_in, uint64_t *dma_out);
/* The same, and (@at non-NULL) per command i the cycle the job would end
 * if the stream stopped after it: non-decreasing, at[n-1] the total. */
uint64_t qnpu_npu_stream_timeline(const struct qnpu_npu_target *t,
				  const struct qnpu_cmd *cmds, size_t n,
				  uint64_t *dma_in, uint64_t *dma_out,
				  uint64_t *at);

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
	bool p_resident;		/* streamed weights, parameters loaded once */
	uint32_t w_slots;		/* weight slots in WBUF (0: halves) */
	bool res_whole;			/* a fused residual loaded once, whole */
	bool tail;			/* the last tile a unit of its own */
	uint32_t ic_chunk;		/* CONV input channels per reduction chunk */
	uint32_t nchunks;		/* reduction chunks accumulating a tile */
	uint64_t est_cycles;		/* the cost model's prediction */
	uint64_t est_dma_in, est_dma_out;	/* and its DMA bytes */
	/* constants */
	uint8_t *consts;
	size_t consts_len;
	size_t w_group_bytes;		/* weights of one channel group */
	size_t p_off;			/* offset of the parameter sets */
	size_t sib_off;			/* a merged sibling's weights, then
					 * its parameter sets */
	uint64_t consts_va;
	/* commands */
	struct qnpu_cmd *cmds;
	size_t ncmds, cap;
	uint64_t cmds_va;
	int err;
	char why[160];			/* why the NPU cannot take it */
};

/*
 * Partitioning: each operator runs on the NPU when @npu says it can (NULL:
 * no NPU), else on the CPU when @cpu says so, else the model is refused
 * with the operator's index, name and types. With @precompiled the
 * targets a compiled model stored are only checked.
 */
struct qnpu_partition_req {
	const char *device;		/* for messages */
	bool (*npu)(void *ctx, const struct qnpu_ir_op *op);
	bool (*cpu)(void *ctx, const struct qnpu_ir_op *op);
	void *ctx;
	bool precompiled;
};

int qnpu_partition(struct qnpu_ir_graph *g,
		   const struct qnpu_partition_req *req);
/*
 * Offsets of the non-constant tensors in one arena, tensors with disjoint
 * lifetimes sharing memory; *@total gets the arena's size.
 */
int qnpu_plan_memory(const struct qnpu_ir_graph *g, size_t *offsets,
		     size_t *total);

/* Whether the target can run @op, before any planning. */
/*
 * Lay an imported ONNX graph out for an NPU (qnpu_onnx_npu.c): internal
 * UINT8 activations as INT8, NHWC where only layout-aware operators touch
 * them, RELAYOUT copies at the graph's edges. Exact; once per graph.
 */
int qnpu_onnx_npu_layout(struct qnpu_ir_graph *g);

bool qnpu_npu_supported(const struct qnpu_npu_target *t,
			const struct qnpu_ir_op *op);
/*
 * Fusion marks, before the memory plan (which reads them); @enable false
 * clears every mark. Needs the prepared parameters.
 * - Siblings (@siblings and a target @t): a 1x1 CONV_2D reading the input
 *   of an earlier, larger CONV_2D is computed by that one's job when the
 *   cost model finds it faster (op->sib, and the sibling's res_conv).
 * - Residuals: an NPU CONV_2D / DEPTHWISE_CONV_2D whose output only an NPU
 *   ADD reads computes that ADD (op->res_add, op->res_conv). When both of
 *   the ADD's operands are such convolutions, the one the residual costs
 *   least on @t by the cost model takes it (@t NULL: the later one); if
 *   the other operand is computed after it, it runs deferred to its ADD's
 *   place (op->res_defer).
 */
void qnpu_npu_fuse(const struct qnpu_npu_target *t, struct qnpu_ir_graph *g,
		   bool enable, bool siblings);
/* For a compiled file: the marks of the convolutions whose stored job
 * computes a residual (a file compiled with or without fusion). */
void qnpu_npu_fuse_match(struct qnpu_ir_graph *g,
			 const struct qnpu_npu_job *jobs);
/* Whether operator @i is a deferred convolution or the ADD it runs at:
 * a run of jobs in operator order must not cross it. */
bool qnpu_npu_deferred_at(const struct qnpu_ir_graph *g, int i);
/*
 * Plan @op for @t and pack its constants. Returns 0, or -ENOTSUP with
 * job->why set when the op must fall back to the CPU.
 */
int qnpu_npu_pack(const struct qnpu_npu_target *t,
		  const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		  struct qnpu_npu_job *job);
/* Emit the command stream; @tensor_va(@ctx, t) gives tensor t's device VA. */
typedef uint64_t (*qnpu_tensor_va_fn)(void *ctx, int tensor);
int qnpu_npu_emit(const struct qnpu_npu_target *t,
		  const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		  struct qnpu_npu_job *job, qnpu_tensor_va_fn tensor_va,
		  void *ctx);
void qnpu_npu_job_free(struct qnpu_npu_job *job);

/*
 * Compile every NPU operator of @g for @t against the canonical VAs of the
 * arena planned at @offsets. An operator that cannot be lowered moves to
 * the CPU (op->target) and keeps the reason in its job's why[]. *@jobs
 * gets one entry per operator.
 */
int qnpu_npu_compile(const struct qnpu_npu_target *t, struct qnpu_ir_graph *g,
		     const size_t *offsets, struct qnpu_npu_job **jobs);
void qnpu_npu_jobs_free(struct qnpu_npu_job *jobs, int nops);
/*
 * For a backend whose kernel chooses VAs: move the DMA addresses of @job
 * from the canonical arena [@arena_from, + @arena_len) to @arena_to and
 * from its canonical constants to @consts_to.
 */
void qnpu_npu_relocate(struct qnpu_npu_job *job, uint64_t arena_from,
		       uint64_t arena_len, uint64_t arena_to,
		       uint64_t consts_to);

/*
 * A segment (qnpu_segment.c): the streams of consecutive NPU jobs joined
 * into one stream, one job on the device. Each job's stream is kept as it
 * is (its own tokens balance); between two jobs the previous one's last
 * STORE gives a token that a SYNC passes to the next one's first input
 * LOAD, so it reads what was stored and its computes start after the
 * previous ones ended; the next job's WBUF/PBUF loads go to SRAM the
 * previous job does not use (moved there if they fit) and run ahead;
 * a job's first input load may be cut into pieces its computes wait for
 * one by one.
 */
struct qnpu_npu_seg {
	int first, last;		/* operators it covers, inclusive */
	int njobs;
	int *ops;			/* the operator of each job, in order */
	uint64_t *est_end;		/* per job: the cost model's cycle at
					 * which its part of the stream ends */
	struct qnpu_npu_job job;	/* cmds, est_cycles, est_dma_*, cmds_va */
	/* per job, or NULL: its output may stay on chip for the next job
	 * (read by no other operator, not a model output; the caller's
	 * QNPU_NPU_HANDOFF=0 turns it off); the joiner decides */
	bool *hand;
	/* per job: DMA bytes out and in its own stream has but the joined
	 * one does not (the handoff's STOREs and LOADs) */
	uint64_t *saved_out, *saved_in;
	/* images of a batch (> 1: the caller found the segment's tensors
	 * apart in memory, so it may run image by image) */
	int batch;
};

/*
 * On-chip handoff (compiler/qnpu_handoff.c): rewrite producer @a and
 * consumer @b so that @a's DRAINs write @b's input into ABUF as @b's
 * LOADs would have (DRAIN_ABUF), without @a's STOREs and @b's input
 * LOADs; @saved gets the bytes of the STOREs and of the LOADs that
 * went. 0: done; 1: the streams do not allow it (unchanged); -errno
 * (both may be half rewritten: use copies).
 */
int qnpu_npu_handoff(const struct qnpu_npu_target *t, struct qnpu_cmd *a,
		     size_t *na, struct qnpu_cmd *b, size_t *nb,
		     uint64_t saved[2]);
/* Join jobs[seg->ops[0..njobs)] (emitted, relocated) into seg->job. */
int qnpu_npu_segment(const struct qnpu_npu_target *t,
		     const struct qnpu_npu_job *jobs, struct qnpu_npu_seg *seg);
/*
 * At seg->batch > 1 (compiler/qnpu_seg_images.c): @seg's stream again
 * with each run of its per-image jobs joined for one image and repeated
 * image by image (the rest as they are); kept in seg->job when the cost
 * model finds it faster. 0 or -ENOMEM.
 */
int qnpu_npu_seg_images(const struct qnpu_npu_target *t,
			const struct qnpu_npu_job *jobs,
			struct qnpu_npu_seg *seg);
/* @total cycles (or bytes) of a run of @seg split over its jobs as the
 * cost model's timeline splits est_cycles; out[k] for job k, summing to
 * @total. */
void qnpu_npu_seg_split(const struct qnpu_npu_seg *seg, uint64_t total,
			uint64_t *out);
void qnpu_npu_seg_free(struct qnpu_npu_seg *seg);

/*
 * The compiled-model file: the .tflite bytes, the target, the arena size,
 * and per operator where it runs, its packed constants and its command
 * stream (emitted against the canonical VAs above, no relocation needed).
 */
struct qnpu_compiled {
	struct qnpu_npu_target target;
	uint64_t arena_size;
	uint8_t *model;			/* the .tflite bytes (owned) */
	size_t model_len;
	struct qnpu_ir_graph *g;	/* imported from them; targets set */
	struct qnpu_npu_job *jobs;	/* per operator (owned) */
};

bool qnpu_compiled_is(const void *data, size_t size);
/*
 * Parse @data, checking it was built for @dev (NULL when the device is not
 * an NPU; @dev_name names it in the error). On success @out owns a copy of
 * the model, its graph and jobs (qnpu_compiled_fini()).
 */
int qnpu_compiled_read(const uint8_t *data, size_t size,
		       const struct qnpu_npu_target *dev, const char *dev_name,
		       struct qnpu_compiled *out);
/* Write @c (jobs of NPU operators only) atomically to @path. */
int qnpu_compiled_write(const char *path, const struct qnpu_compiled *c);
void qnpu_compiled_fini(struct qnpu_compiled *c);

#endif /* QNPU_COMPILER_H */
