// SPDX-License-Identifier: MIT
/*
 * Whole-model lowering for the NPU: every NPU operator compiled against
 * the canonical VAs of qnpu_compiler.h (the arena, then each operator's
 * constants, page-aligned, in operator order), and the relocation a
 * backend whose kernel chooses VAs applies afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"
#include "quant/qnpu_op_params.h"
#include "util/qnpu_util.h"

#define PAGE 4096ull

static uint64_t canonical_va(void *ctx, int t)
{
	const size_t *offsets = ctx;

	return QNPU_VA_ARENA + offsets[t];
}

/* Why an op the NPU supports must stay on the CPU, or NULL. */
static const char *cannot_take(const struct qnpu_ir_graph *g,
			       const struct qnpu_ir_op *op)
{
	int i;

	for (i = 0; i < op->nin; i++) {
		if (op->in[i] < 0)
			continue;
		if (i == 0 || (op->builtin == QNPU_TFL_ADD && i == 1))
			if (g->tensors[op->in[i]].const_data)
				return "constant activation input";
	}
	return NULL;
}

/* A job that falls back to the CPU keeps only why it did. */
static void fall_back(struct qnpu_ir_op *op, struct qnpu_npu_job *job,
		      const char *why)
{
	char keep[sizeof(job->why)];

	snprintf(keep, sizeof(keep), "%s", why);
	qnpu_npu_job_free(job);
	memcpy(job->why, keep, sizeof(keep));
	op->target = QNPU_TARGET_CPU;
}

static int compile_op(const struct qnpu_npu_target *t,
		      const struct qnpu_ir_graph *g, const size_t *offsets,
		      struct qnpu_ir_op *op, struct qnpu_npu_job *job,
		      uint64_t *consts_va)
{
	const char *no = cannot_take(g, op);

	if (no) {
		fall_back(op, job, no);
		return 0;
	}
	if (qnpu_npu_pack(t, g, op, job))
		goto fallback;
	job->consts_va = *consts_va;
	*consts_va += (job->consts_len + PAGE - 1) & ~(PAGE - 1);
	if (qnpu_npu_emit(t, g, op, job, canonical_va, (void *)offsets))
		goto fallback;
	return 0;

fallback:
	if (job->err == -ENOMEM)
		return qnpu_err(-ENOMEM, "out of memory compiling operator %d",
				op->index);
	fall_back(op, job, job->why);
	return 0;
}

static bool in_range(int32_t v, int32_t lo, int32_t hi)
{
	return v >= lo && v <= hi;
}

/* The op reading tensor @t, if exactly one op reads it once; else -1. */
static int sole_reader(const struct qnpu_ir_graph *g, int t)
{
	int i, k, who = -1, n = 0;

	for (i = 0; i < g->nops; i++)
		for (k = 0; k < g->ops[i].nin; k++)
			if (g->ops[i].in[k] == t) {
				who = i;
				n++;
			}
	return n == 1 ? who : -1;
}

/* The op writing tensor @t, or -1 (a model input). */
static int writer(const struct qnpu_ir_graph *g, int t)
{
	int i, k;

	for (i = 0; i < g->nops; i++)
		for (k = 0; k < g->ops[i].nout; k++)
			if (g->ops[i].out[k] == t)
				return i;
	return -1;
}

/*
 * Whether NPU convolution @i can compute ADD @j (its output's sole reader)
 * in its epilogue; *@other gets the ADD's other operand.
 */
static bool can_fuse(const struct qnpu_ir_graph *g, int i, int j, int *other)
{
	const struct qnpu_ir_op *op = &g->ops[i], *a = &g->ops[j];
	const struct qnpu_add_params *p;
	int t = op->out[0];

	if (op->target != QNPU_TARGET_NPU || op->nout != 1 || op->sib ||
	    op->res_conv || (op->builtin != QNPU_TFL_CONV_2D &&
			     op->builtin != QNPU_TFL_DEPTHWISE_CONV_2D) ||
	    t < 0 || g->tensors[t].is_output || sole_reader(g, t) != j ||
	    j <= i)
		return false;
	if (a->target != QNPU_TARGET_NPU || a->builtin != QNPU_TFL_ADD ||
	    a->nin != 2 || a->nout != 1 || !a->params || a->params->broadcast)
		return false;
	*other = a->in[0] == t ? a->in[1] : a->in[0];
	if (*other < 0 || *other == t || g->tensors[*other].const_data ||
	    g->tensors[*other].count != g->tensors[t].count ||
	    g->tensors[a->out[0]].count != g->tensors[t].count ||
	    writer(g, *other) >= j)
		return false;
	/* the command's field ranges (operand A: the convolution) */
	p = &a->params->p.add;
	return in_range(p->left_shift, 0, 31) &&
	       in_range(p->in1_shift, -128, 127) &&
	       in_range(p->in2_shift, -128, 127) &&
	       in_range(a->in[0] == t ? p->in2_offset : p->in1_offset,
			-32768, 32767) &&
	       in_range(p->out_shift, -128, 127) &&
	       in_range(p->out_offset, -128, 127) &&
	       in_range(p->act_min, -128, 127) &&
	       in_range(p->act_max, -128, 127);
}

/* Where operator @w's output is computed: a sibling by its main's job. */
static int computed_at(const struct qnpu_ir_graph *g, int w)
{
	int m = w >= 0 ? g->ops[w].res_conv - 1 : -1;

	return m >= 0 && g->ops[m].sib == w + 1 ? m : w;
}

static void mark(struct qnpu_ir_graph *g, int i, int j, int other)
{
	g->ops[i].res_add = j + 1;
	g->ops[i].res_defer = computed_at(g, writer(g, other)) > i;
	g->ops[j].res_conv = i + 1;
}

static void unmark(struct qnpu_ir_graph *g, int i)
{
	g->ops[g->ops[i].res_add - 1].res_conv = 0;
	g->ops[i].res_add = 0;
	g->ops[i].res_defer = false;
}

static void unmark_sib(struct qnpu_ir_graph *g, int i)
{
	g->ops[g->ops[i].sib - 1].res_conv = 0;
	g->ops[i].sib = 0;
}

static bool is_conv(const struct qnpu_ir_op *op)
{
	return op->target == QNPU_TARGET_NPU &&
	       op->builtin == QNPU_TFL_CONV_2D && op->nin >= 2 &&
	       op->nout == 1 && op->in[0] >= 0 && op->out[0] >= 0 &&
	       op->params;
}

/* The cost model's cycles for operator @i alone (UINT64_MAX: no plan). */
static uint64_t op_cycles(const struct qnpu_npu_target *t,
			  const struct qnpu_ir_graph *g, int i)
{
	struct qnpu_npu_job job;
	uint64_t c = UINT64_MAX;

	if (!qnpu_npu_pack(t, g, &g->ops[i], &job) && job.est_cycles)
		c = job.est_cycles;
	qnpu_npu_job_free(&job);
	return c;
}

/*
 * Siblings: a 1x1 CONV_2D @k reading the input of an earlier, larger
 * CONV_2D @i is computed by @i's job from the same loads when the cost
 * model finds that faster than the two jobs. In a segment a layer pays a
 * boundary (the previous layer's last store, its own first load) that a
 * 1x1 layer's few MACs cannot hide: ResNet's stride-2 shortcuts.
 */
static void merge_siblings(const struct qnpu_npu_target *t,
			   struct qnpu_ir_graph *g)
{
	int i, k;

	for (k = 0; k < g->nops; k++) {
		struct qnpu_ir_op *s = &g->ops[k];

		if (!is_conv(s) || s->sib || s->res_conv ||
		    s->params->fs.h != 1 || s->params->fs.w != 1)
			continue;
		for (i = 0; i < k; i++) {
			struct qnpu_ir_op *a = &g->ops[i];
			uint64_t apart, one, two;

			if (!is_conv(a) || a->sib || a->res_conv ||
			    a->in[0] != s->in[0] ||
			    (a->params->fs.h == 1 && a->params->fs.w == 1))
				continue;
			one = op_cycles(t, g, i);
			two = op_cycles(t, g, k);
			apart = one == UINT64_MAX || two == UINT64_MAX ?
				UINT64_MAX : one + two;
			a->sib = k + 1;
			s->res_conv = i + 1;
			if (op_cycles(t, g, i) < apart)
				break;
			unmark_sib(g, i);
		}
	}
}

/*
 * Cycles the residual adds to convolution @i alone on @t, by the cost
 * model (UINT64_MAX: it cannot take it).
 */
static uint64_t fuse_cost(const struct qnpu_npu_target *t,
			  struct qnpu_ir_graph *g, int i, int j, int other)
{
	struct qnpu_npu_job job;
	uint64_t plain, fused = UINT64_MAX;

	if (qnpu_npu_pack(t, g, &g->ops[i], &job)) {
		qnpu_npu_job_free(&job);
		return UINT64_MAX;
	}
	plain = job.est_cycles;
	qnpu_npu_job_free(&job);
	mark(g, i, j, other);
	if (!qnpu_npu_pack(t, g, &g->ops[i], &job) && job.est_cycles)
		fused = job.est_cycles;
	qnpu_npu_job_free(&job);
	unmark(g, i);
	if (fused == UINT64_MAX || !plain)
		return fused;
	return fused > plain ? fused - plain : 0;
}

void qnpu_npu_fuse(const struct qnpu_npu_target *t, struct qnpu_ir_graph *g,
		   bool enable, bool siblings)
{
	int i, j, k, o[2], c[2], n;
	uint64_t cost[2];

	for (i = 0; i < g->nops; i++) {
		g->ops[i].res_add = g->ops[i].res_conv = g->ops[i].sib = 0;
		g->ops[i].res_defer = false;
	}
	if (enable && siblings && t)
		merge_siblings(t, g);
	for (j = 0; enable && j < g->nops; j++) {
		const struct qnpu_ir_op *a = &g->ops[j];

		if (a->builtin != QNPU_TFL_ADD || a->nin != 2)
			continue;
		/* the convolutions that could compute it */
		for (k = 0, n = 0; k < 2; k++) {
			i = a->in[k] >= 0 ? writer(g, a->in[k]) : -1;
			if (i >= 0 && (!n || i != c[0]) &&
			    can_fuse(g, i, j, &o[n]))
				c[n++] = i;
		}
		if (!n)
			continue;
		/*
		 * Both: the one the residual slows down least. Its load
		 * hides in a compute-bound layer's MACs; a DMA-bound one
		 * (a 1x1 shortcut) pays it in full. Without a target, or
		 * on a tie, the later one, which needs no deferral.
		 */
		k = c[1 % n] > c[0] ? 1 % n : 0;
		if (n == 2 && t) {
			cost[0] = fuse_cost(t, g, c[0], j, o[0]);
			cost[1] = fuse_cost(t, g, c[1], j, o[1]);
			if (cost[0] != cost[1])
				k = cost[1] < cost[0];
		}
		mark(g, c[k], j, o[k]);
	}
}

void qnpu_npu_fuse_match(struct qnpu_ir_graph *g,
			 const struct qnpu_npu_job *jobs)
{
	int i, j, other;
	size_t k;

	/* the marks the file's jobs were compiled with, whichever they are:
	 * a sibling it computed has no commands of its own */
	for (i = 0; i < g->nops; i++)
		if (g->ops[i].sib && jobs[g->ops[i].sib - 1].ncmds)
			unmark_sib(g, i);
	for (i = 0; i < g->nops; i++) {
		if (g->ops[i].builtin == QNPU_TFL_ADD)
			g->ops[i].res_conv = 0;
		g->ops[i].res_add = 0;
		g->ops[i].res_defer = false;
	}
	for (i = 0; i < g->nops; i++) {
		bool res = false;

		for (k = 0; k < jobs[i].ncmds; k++)
			if (jobs[i].cmds[k].w[QNPU_CMD_RES_WORD] &
			    QNPU_CMD_RES_MASK)
				res = true;
		if (!res || g->ops[i].nout != 1 || g->ops[i].out[0] < 0)
			continue;
		j = sole_reader(g, g->ops[i].out[0]);
		if (j > i && !g->ops[j].res_conv && can_fuse(g, i, j, &other))
			mark(g, i, j, other);
	}
}

bool qnpu_npu_deferred_at(const struct qnpu_ir_graph *g, int i)
{
	const struct qnpu_ir_op *op = &g->ops[i];

	return op->res_defer ||
	       (op->res_conv && g->ops[op->res_conv - 1].res_defer);
}

int qnpu_npu_compile(const struct qnpu_npu_target *t, struct qnpu_ir_graph *g,
		     const size_t *offsets, struct qnpu_npu_job **jobs)
{
	uint64_t consts_va = QNPU_VA_CONSTS;
	int i, r;

	*jobs = calloc((size_t)g->nops + 1, sizeof(**jobs));
	if (!*jobs)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < g->nops; i++) {
		if (g->ops[i].target != QNPU_TARGET_NPU)
			continue;
		if (g->ops[i].res_conv) {
			struct qnpu_ir_op *conv = &g->ops[g->ops[i].res_conv - 1];
			bool sib = conv->sib == i + 1;

			if (conv->target == QNPU_TARGET_NPU) {
				snprintf((*jobs)[i].why, sizeof((*jobs)[i].why),
					 sib ? "computed by operator %d's job" :
					 "fused into operator %d", conv->index);
				/* no constants, where the next would go */
				(*jobs)[i].consts_va = consts_va;
				continue;
			}
			/* the convolution fell back: this one on its own */
			if (sib)
				unmark_sib(g, g->ops[i].res_conv - 1);
			else
				unmark(g, g->ops[i].res_conv - 1);
		}
		r = compile_op(t, g, offsets, &g->ops[i], &(*jobs)[i],
			       &consts_va);
		if (!r && (g->ops[i].res_add || g->ops[i].sib) &&
		    g->ops[i].target != QNPU_TARGET_NPU) {
			/* no plan with the residual or sibling: without */
			if (g->ops[i].sib)
				unmark_sib(g, i);
			if (g->ops[i].res_add)
				unmark(g, i);
			g->ops[i].target = QNPU_TARGET_NPU;
			(*jobs)[i].why[0] = 0;
			r = compile_op(t, g, offsets, &g->ops[i], &(*jobs)[i],
				       &consts_va);
		}
		if (r) {
			qnpu_npu_jobs_free(*jobs, g->nops);
			*jobs = NULL;
			return r;
		}
	}
	return 0;
}

void qnpu_npu_jobs_free(struct qnpu_npu_job *jobs, int nops)
{
	int i;

	if (!jobs)
		return;
	for (i = 0; i < nops; i++)
		qnpu_npu_job_free(&jobs[i]);
	free(jobs);
}

void qnpu_npu_relocate(struct qnpu_npu_job *job, uint64_t arena_from,
		       uint64_t arena_len, uint64_t arena_to,
		       uint64_t consts_to)
{
	size_t i;

	for (i = 0; i < job->ncmds; i++) {
		uint32_t *w = job->cmds[i].w;
		uint32_t op = (w[QNPU_CMD_OPCODE_WORD] & QNPU_CMD_OPCODE_MASK) >>
			      QNPU_CMD_OPCODE_SHIFT;
		uint64_t va;

		if (op != QNPU_OP_LOAD && op != QNPU_OP_STORE)
			continue;
		va = w[QNPU_CMD_DRAM_LO_WORD] |
		     (uint64_t)((w[QNPU_CMD_DRAM_HI_WORD] &
				 QNPU_CMD_DRAM_HI_MASK) >>
				QNPU_CMD_DRAM_HI_SHIFT) << 32;
		if (va >= arena_from && va - arena_from < arena_len)
			va = arena_to + (va - arena_from);
		else if (va >= job->consts_va &&
			 va - job->consts_va < job->consts_len)
			va = consts_to + (va - job->consts_va);
		else
			continue;
		w[QNPU_CMD_DRAM_LO_WORD] = (uint32_t)va;
		w[QNPU_CMD_DRAM_HI_WORD] =
			(w[QNPU_CMD_DRAM_HI_WORD] & ~QNPU_CMD_DRAM_HI_MASK) |
			((uint32_t)(va >> 32) << QNPU_CMD_DRAM_HI_SHIFT &
			 QNPU_CMD_DRAM_HI_MASK);
	}
	job->consts_va = consts_to;
}
