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

void qnpu_npu_fuse(struct qnpu_ir_graph *g, bool enable)
{
	int i, j, t, other;

	for (i = 0; i < g->nops; i++)
		g->ops[i].res_add = g->ops[i].res_conv = 0;
	for (i = 0; enable && i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i], *a;
		const struct qnpu_add_params *p;

		if (op->target != QNPU_TARGET_NPU || op->nout != 1 ||
		    (op->builtin != QNPU_TFL_CONV_2D &&
		     op->builtin != QNPU_TFL_DEPTHWISE_CONV_2D))
			continue;
		t = op->out[0];
		if (t < 0 || g->tensors[t].is_output ||
		    (j = sole_reader(g, t)) <= i)
			continue;
		a = &g->ops[j];
		if (a->target != QNPU_TARGET_NPU || a->builtin != QNPU_TFL_ADD ||
		    a->nin != 2 || a->nout != 1 || !a->params ||
		    a->params->broadcast || a->res_conv)
			continue;
		other = a->in[0] == t ? a->in[1] : a->in[0];
		if (other < 0 || other == t || g->tensors[other].const_data ||
		    g->tensors[other].count != g->tensors[t].count ||
		    g->tensors[a->out[0]].count != g->tensors[t].count ||
		    writer(g, other) >= i)
			continue;
		/* the command's field ranges (operand A: the convolution) */
		p = &a->params->p.add;
		if (!in_range(p->left_shift, 0, 31) ||
		    !in_range(p->in1_shift, -128, 127) ||
		    !in_range(p->in2_shift, -128, 127) ||
		    !in_range(a->in[0] == t ? p->in2_offset : p->in1_offset,
			      -32768, 32767) ||
		    !in_range(p->out_shift, -128, 127) ||
		    !in_range(p->out_offset, -128, 127) ||
		    !in_range(p->act_min, -128, 127) ||
		    !in_range(p->act_max, -128, 127))
			continue;
		op->res_add = j + 1;
		a->res_conv = i + 1;
	}
}

void qnpu_npu_fuse_match(struct qnpu_ir_graph *g,
			 const struct qnpu_npu_job *jobs)
{
	int i;
	size_t k;

	for (i = 0; i < g->nops; i++) {
		struct qnpu_ir_op *op = &g->ops[i];
		bool res = false;

		if (!op->res_add)
			continue;
		for (k = 0; k < jobs[i].ncmds; k++)
			if (jobs[i].cmds[k].w[QNPU_CMD_RES_WORD] &
			    QNPU_CMD_RES_MASK)
				res = true;
		if (!res) {
			g->ops[op->res_add - 1].res_conv = 0;
			op->res_add = 0;
		}
	}
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

			if (conv->target == QNPU_TARGET_NPU) {
				snprintf((*jobs)[i].why, sizeof((*jobs)[i].why),
					 "fused into operator %d", conv->index);
				/* no constants, where the next would go */
				(*jobs)[i].consts_va = consts_va;
				continue;
			}
			/* the convolution fell back: the ADD on its own */
			conv->res_add = 0;
			g->ops[i].res_conv = 0;
		}
		r = compile_op(t, g, offsets, &g->ops[i], &(*jobs)[i],
			       &consts_va);
		if (!r && g->ops[i].res_add &&
		    g->ops[i].target != QNPU_TARGET_NPU) {
			/* no plan with the residual: without it */
			g->ops[g->ops[i].res_add - 1].res_conv = 0;
			g->ops[i].res_add = 0;
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
