// SPDX-License-Identifier: MIT
/* What the NPU backends (sim, drm, target) share. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qnpu_backend.h"
#include "compiler/qnpu_compiler.h"

void qnpu_npu_set_info(struct qnpu_device *dev,
		       const struct qnpu_npu_target *t)
{
	dev->npu = t;
	dev->info.is_npu = 1;
	dev->info.rows = t->rows;
	dev->info.cols = t->cols;
	dev->info.abuf_bytes = t->abuf_bytes;
	dev->info.wbuf_bytes = t->wbuf_bytes;
	dev->info.pbuf_bytes = t->pbuf_bytes;
	dev->info.obuf_bytes = t->obuf_bytes;
}

const char *qnpu_npu_status_name(uint32_t st)
{
	static const char *const names[] = {
		"OK", "BAD_OPCODE", "BAD_FIELD", "SRAM_RANGE", "ALIGN",
		"FAULT", "DEADLOCK", "TOKEN_OVERFLOW", "TIMEOUT", "ABORTED",
		"BAD_DESC",
	};

	if (st < sizeof(names) / sizeof(names[0]))
		return names[st];
	switch (st) {	/* qnpu_drm.h's DRM_QNPU_JOB_* past the device's */
	case 0x100: return "HANG (device reset)";
	case 0x101: return "DEVICE_LOST";
	case 0x102: return "CANCELED";
	}
	return "unknown status";
}

void qnpu_npu_device_target(const struct qnpu_device *dev,
			    struct qnpu_npu_target *t)
{
	static const struct qnpu_npu_target none;

	*t = dev->npu ? *dev->npu : none;
}

bool qnpu_npu_backend_supported(struct qnpu_model *m,
				const struct qnpu_ir_op *op)
{
	struct qnpu_npu_target t;

	qnpu_npu_device_target(m->dev, &t);
	return qnpu_npu_supported(&t, op);
}

bool qnpu_npu_is_view(const struct qnpu_model *m, const struct qnpu_ir_op *op)
{
	if ((op->builtin != QNPU_TFL_RESHAPE &&
	     op->builtin != QNPU_ONNX_RESHAPE) || op->nin < 1 ||
	    op->nout < 1 || op->in[0] < 0 || op->out[0] < 0)
		return false;
	return !m->g->tensors[op->in[0]].const_data &&
	       m->offsets[op->in[0]] == m->offsets[op->out[0]];
}

/* Jobs in one segment at most: its BO list (drm) stays far below the
 * driver's limit, and a stream of many thousands of commands gains
 * nothing more. */
#define SEG_MAX_JOBS 1024

void qnpu_npu_segs_free(struct qnpu_model *m)
{
	int i;

	/* every slot: one being built when an error struck included */
	for (i = 0; m->segs && i <= m->g->nops; i++) {
		qnpu_npu_seg_free(&m->segs[i]);
		free(m->seg_stats[i]);
	}
	free(m->segs);
	free(m->seg_stats);
	free(m->seg_of);
	m->segs = NULL;
	m->seg_stats = NULL;
	m->seg_of = NULL;
	m->nsegs = 0;
}

/*
 * Which jobs' outputs may stay on chip for the next job (the joiner
 * decides whether they do): read only by that job's operator, not a
 * model output, not through a fused ADD. QNPU_NPU_HANDOFF=0: none.
 */
static int seg_hand(struct qnpu_model *m, struct qnpu_npu_seg *sg)
{
	const char *env = getenv("QNPU_NPU_HANDOFF");
	const struct qnpu_ir_graph *g = m->g;
	int k, i, j;

	if (env && !strcmp(env, "0"))
		return 0;
	sg->hand = calloc((size_t)sg->njobs + 1, sizeof(*sg->hand));
	if (!sg->hand)
		return qnpu_err(-ENOMEM, "out of memory");
	for (k = 0; k + 1 < sg->njobs; k++) {
		const struct qnpu_ir_op *a = &g->ops[sg->ops[k]];
		const struct qnpu_ir_op *b = &g->ops[sg->ops[k + 1]];
		int tn = a->nout == 1 ? a->out[0] : -1, readers = 0;

		if (tn < 0 || a->res_add || b->res_add ||
		    g->tensors[tn].is_output || b->nin < 1 || b->in[0] != tn)
			continue;
		for (i = 0; i < g->nops; i++)
			for (j = 0; j < g->ops[i].nin; j++)
				readers += g->ops[i].in[j] == tn;
		sg->hand[k] = readers == 1;
	}
	return 0;
}

/*
 * The operator whose job runs in operator @i's place, or -1: a deferred
 * convolution's runs in its ADD's (op->res_defer), joined to a segment
 * only if the segment covers both (@first: the segment's first operator).
 */
static int job_at(const struct qnpu_model *m, int i, int first)
{
	const struct qnpu_ir_op *op = &m->g->ops[i];
	int c = op->res_conv - 1;

	if (op->target != QNPU_TARGET_NPU || op->res_defer)
		return -1;
	if (!op->res_conv)
		return i;
	return m->g->ops[c].res_defer && first >= 0 && first <= c ? c : -1;
}

/*
 * Whether the tensors operators [@first, @last] touch are apart in the
 * arena (or the same memory: a view), so that running the segment image
 * by image overwrites none that another image still reads. The memory
 * plan keeps them so at a batch; this checks it.
 */
static bool seg_apart(const struct qnpu_model *m, int first, int last)
{
	const struct qnpu_ir_graph *g = m->g;
	int i, j, a, b, n = 0, *ts;
	bool ok = true;

	for (i = first; i <= last; i++)
		n += g->ops[i].nin + g->ops[i].nout;
	ts = malloc(((size_t)n + 1) * sizeof(*ts));
	n = 0;
	if (!ts)
		return false;
	for (i = first; i <= last; i++)
		for (j = 0; j < g->ops[i].nin + g->ops[i].nout; j++) {
			const struct qnpu_ir_op *op = &g->ops[i];
			int t = j < op->nin ? op->in[j] : op->out[j - op->nin];

			if (t >= 0 && !g->tensors[t].const_data &&
			    g->tensors[t].bytes)
				ts[n++] = t;
		}
	for (a = 0; a < n && ok; a++)
		for (b = a + 1; b < n && ok; b++) {
			size_t oa = m->offsets[ts[a]], ob = m->offsets[ts[b]];
			size_t ea = oa + g->tensors[ts[a]].bytes;
			size_t eb = ob + g->tensors[ts[b]].bytes;

			if (oa < eb && ob < ea && (oa != ob || ea != eb))
				ok = false;
		}
	free(ts);
	return ok;
}

/* Operators [@first, @last] (with jobs from @first) as segment m->nsegs. */
static int seg_add(struct qnpu_model *m, const struct qnpu_npu_target *t,
		   int first, int last)
{
	struct qnpu_npu_seg *sg = &m->segs[m->nsegs];
	const char *img;
	uint64_t *est;
	int i, n = 0, r;

	memset(sg, 0, sizeof(*sg));
	sg->first = first;
	sg->last = last;
	sg->ops = calloc((size_t)(last - first + 1), sizeof(*sg->ops));
	m->seg_stats[m->nsegs] = calloc((size_t)(last - first + 1),
					sizeof(**m->seg_stats));
	if (!sg->ops || !m->seg_stats[m->nsegs])
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = first; i <= last; i++)
		if (job_at(m, i, first) >= 0)
			sg->ops[n++] = job_at(m, i, first);
	sg->njobs = n;
	r = seg_hand(m, sg);
	if (r)
		return r;
	/* QNPU_NPU_IMAGES=0: layer by layer only (to compare) */
	img = getenv("QNPU_NPU_IMAGES");
	if (m->g->batch > 1 && (!img || strcmp(img, "0")) &&
	    seg_apart(m, first, last))
		sg->batch = m->g->batch;
	r = qnpu_npu_segment(t, m->jobs, sg);
	if (r == -EINVAL) {	/* a stream it cannot join: ops alone */
		free(m->seg_stats[m->nsegs]);
		m->seg_stats[m->nsegs] = NULL;
		qnpu_npu_seg_free(sg);
		return 0;
	}
	if (r)
		return qnpu_err(r, "out of memory joining operators %d..%d",
				first, last);
	est = calloc((size_t)n, sizeof(*est));
	if (!est)
		return qnpu_err(-ENOMEM, "out of memory");
	qnpu_npu_seg_split(sg, sg->job.est_cycles, est);
	for (i = 0; i < n; i++)
		m->jobs[sg->ops[i]].est_cycles = est[i];
	free(est);
	/* not a deferred convolution whose job is not in it */
	for (i = first; i <= last; i++)
		if (!m->g->ops[i].res_defer)
			m->seg_of[i] = m->nsegs;
	for (i = 0; i < n; i++)
		m->seg_of[sg->ops[i]] = m->nsegs;
	m->nsegs++;
	return 0;
}

/* Cut the model into segments of two jobs or more. */
static int seg_build(struct qnpu_model *m, const struct qnpu_npu_target *t)
{
	const char *env = getenv("QNPU_NPU_SEGMENT");
	int i, first = -1, last = -1, njobs = 0, r;

	m->seg_of = malloc(((size_t)m->g->nops + 1) * sizeof(*m->seg_of));
	m->segs = calloc((size_t)m->g->nops + 1, sizeof(*m->segs));
	m->seg_stats = calloc((size_t)m->g->nops + 1, sizeof(*m->seg_stats));
	if (!m->seg_of || !m->segs || !m->seg_stats)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < m->g->nops; i++)
		m->seg_of[i] = -1;
	if (env && !strcmp(env, "0"))
		return 0;
	for (i = 0; i <= m->g->nops; i++) {
		const struct qnpu_ir_op *op = i < m->g->nops ? &m->g->ops[i] :
					      NULL;
		bool job = op && job_at(m, i, first) >= 0;

		if (job && njobs == SEG_MAX_JOBS) {
			r = seg_add(m, t, first, last);
			if (r)
				return r;
			first = -1;
			njobs = 0;
			job = job_at(m, i, first) >= 0;
		}
		if (job) {
			if (first < 0)
				first = i;
			last = i;
			njobs++;
			continue;
		}
		/* a fused ADD, a deferred convolution (its job comes with
		 * its ADD) or a view does not end a segment */
		if (op && op->res_defer && first < 0)
			first = i;
		if (op && first >= 0 &&
		    ((op->target == QNPU_TARGET_NPU && op->res_conv &&
		      !qnpu_npu_deferred_at(m->g, i)) ||
		     op->res_defer || qnpu_npu_is_view(m, op)))
			continue;
		if (njobs > 1) {
			r = seg_add(m, t, first, last);
			if (r)
				return r;
		}
		first = last = -1;
		njobs = 0;
	}
	return 0;
}

struct qnpu_npu_seg *qnpu_npu_seg_for(struct qnpu_model *m, int op)
{
	if (m->layer_cb || !m->seg_of || m->seg_of[op] < 0)
		return NULL;
	return &m->segs[m->seg_of[op]];
}

int qnpu_npu_seg_ran(struct qnpu_model *m, struct qnpu_npu_seg *sg,
		     const struct qnpu_op_stats *st)
{
	static const size_t counters[] = {
		offsetof(struct qnpu_op_stats, cycles),
		offsetof(struct qnpu_op_stats, busy_cycles),
		offsetof(struct qnpu_op_stats, hw_macs),
		offsetof(struct qnpu_op_stats, stall_load),
		offsetof(struct qnpu_op_stats, stall_compute),
		offsetof(struct qnpu_op_stats, stall_store),
		offsetof(struct qnpu_op_stats, stall_ppu),
		offsetof(struct qnpu_op_stats, stall_dispatch),
	};
	struct qnpu_op_stats *out = m->seg_stats[sg - m->segs];
	uint64_t *split = calloc((size_t)sg->njobs + 1, sizeof(*split));
	size_t f;
	int k;

	if (!split)
		return qnpu_err(-ENOMEM, "out of memory");
	memset(out, 0, (size_t)(sg->last - sg->first + 1) * sizeof(*out));
	for (k = 0; k < sg->njobs; k++) {
		struct qnpu_op_stats *o = &out[sg->ops[k] - sg->first];

		/* DMA bytes are exact per operator: its stream's, less
		 * what stayed on chip */
		o->dma_in = m->jobs[sg->ops[k]].est_dma_in - sg->saved_in[k];
		o->dma_out = m->jobs[sg->ops[k]].est_dma_out -
			     sg->saved_out[k];
		o->jobs = k == 0;
	}
	for (f = 0; f < sizeof(counters) / sizeof(counters[0]); f++) {
		const char *v = (const char *)st + counters[f];

		qnpu_npu_seg_split(sg, *(const uint64_t *)v, split);
		for (k = 0; k < sg->njobs; k++)
			*(uint64_t *)((char *)&out[sg->ops[k] - sg->first] +
				      counters[f]) = split[k];
	}
	free(split);
	qnpu_npu_seg_stats(m, sg->first);
	return 0;
}

void qnpu_npu_seg_stats(struct qnpu_model *m, int op)
{
	int s = m->seg_of[op];
	struct qnpu_op_stats *st = &m->runs[op].stats;
	uint64_t host = st->host_ns;

	*st = m->seg_stats[s][op - m->segs[s].first];
	st->host_ns = host;
}

int qnpu_npu_model_compile(struct qnpu_model *m,
			   int (*place)(struct qnpu_model *m, int op,
					struct qnpu_npu_job *job),
			   int (*place_seg)(struct qnpu_model *m, int seg,
					    struct qnpu_npu_seg *sg))
{
	struct qnpu_npu_target t;
	int i, r;

	/* From a compiled file the loader already checked the target. */
	if (!m->jobs) {
		qnpu_npu_device_target(m->dev, &t);
		r = qnpu_npu_compile(&t, m->g, m->offsets, &m->jobs);
		if (r)
			return r;
	}
	for (i = 0; i < m->g->nops; i++) {
		if (m->jobs[i].why[0])
			snprintf(m->runs[i].note, sizeof(m->runs[i].note),
				 "%s", m->jobs[i].why);
		else if (qnpu_npu_is_view(m, &m->g->ops[i]))
			snprintf(m->runs[i].note, sizeof(m->runs[i].note),
				 "a view of its input: no copy, no job");
		if (!place || m->g->ops[i].target != QNPU_TARGET_NPU ||
		    m->g->ops[i].res_conv)
			continue;
		r = place(m, i, &m->jobs[i]);
		if (r)
			return r;
	}
	qnpu_npu_device_target(m->dev, &t);
	r = seg_build(m, &t);
	for (i = 0; !r && place_seg && i < m->nsegs; i++)
		r = place_seg(m, i, &m->segs[i]);
	return r;
}
