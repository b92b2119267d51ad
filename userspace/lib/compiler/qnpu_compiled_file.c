// SPDX-License-Identifier: MIT
/*
 * Whole-model compilation for the NPU backends, and the compiled-model
 * file: the .tflite bytes, the target, and per operator where it runs,
 * its packed constants and its command stream (emitted against the
 * canonical VAs of qnpu_npu.h, so it needs no relocation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define QNPC_MAGIC "QNPC"
#define QNPC_VERSION 1
#define PAGE 4096ull

struct qnpc_op {		/* the stored part of a job */
	uint32_t target;
	uint32_t ncmds;
	uint64_t consts_len;
};

void qnpu_npu_set_info(struct qnpu_device *dev,
		       const struct qnpu_npu_target *t)
{
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

static uint64_t canonical_va(struct qnpu_model *m, int t)
{
	return QNPU_VA_ARENA + m->offsets[t];
}

/* Why an op the NPU supports must stay on the CPU, or NULL. */
static const char *cannot_take(struct qnpu_model *m,
			       const struct qnpu_ir_op *op)
{
	int i;

	for (i = 0; i < op->nin; i++) {
		if (op->in[i] < 0)
			continue;
		if (i == 0 || (op->builtin == QNPU_TFL_ADD && i == 1))
			if (m->g->tensors[op->in[i]].const_data)
				return "constant activation input";
	}
	return NULL;
}

static int compile_op(struct qnpu_model *m, const struct qnpu_npu_target *t,
		      struct qnpu_ir_op *op, struct qnpu_npu_job *job,
		      uint64_t *consts_va)
{
	char *note = m->runs[op->index].note;
	const char *no = cannot_take(m, op);

	if (no) {
		snprintf(note, sizeof(m->runs[0].note), "%s", no);
		goto fallback;
	}
	if (qnpu_npu_pack(t, m, op, job))
		goto fallback_why;
	job->consts_va = *consts_va;
	*consts_va += (job->consts_len + PAGE - 1) & ~(PAGE - 1);
	if (qnpu_npu_emit(t, m, op, job, canonical_va))
		goto fallback_why;
	return 0;

fallback_why:
	if (job->err == -ENOMEM)
		return qnpu_err(-ENOMEM, "out of memory compiling operator %d",
				op->index);
	snprintf(note, sizeof(m->runs[0].note), "%s", job->why);
fallback:
	op->target = QNPU_TARGET_CPU;
	qnpu_npu_job_free(job);
	return 0;
}

int qnpu_npu_compile(struct qnpu_model *m, const struct qnpu_npu_target *t,
		     struct qnpu_npu_job **jobs)
{
	uint64_t consts_va = QNPU_VA_CONSTS;
	int i, r;

	if (m->precompiled) {
		/* From a compiled file: the loader already checked the target. */
		*jobs = m->precompiled;
		m->precompiled = NULL;
		return 0;
	}
	*jobs = calloc((size_t)m->g->nops + 1, sizeof(**jobs));
	if (!*jobs)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < m->g->nops; i++) {
		if (m->g->ops[i].target != QNPU_TARGET_NPU)
			continue;
		r = compile_op(m, t, &m->g->ops[i], &(*jobs)[i], &consts_va);
		if (r)
			return r;
	}
	return 0;
}

void qnpu_npu_jobs_free(struct qnpu_model *m, struct qnpu_npu_job *jobs)
{
	int i;

	if (!jobs)
		return;
	for (i = 0; i < m->g->nops; i++)
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

/* ---- the compiled-model file ---- */

struct wbuf {
	FILE *f;
	int err;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
	if (!w->err && n && fwrite(p, 1, n, w->f) != n)
		w->err = -EIO;
}

static void put32(struct wbuf *w, uint32_t v)
{
	put(w, &v, 4);
}

static void put64(struct wbuf *w, uint64_t v)
{
	put(w, &v, 8);
}

static void put_target(struct wbuf *w, const struct qnpu_device_info *d)
{
	put32(w, d->rows);
	put32(w, d->cols);
	put32(w, d->abuf_bytes);
	put32(w, d->wbuf_bytes);
	put32(w, d->pbuf_bytes);
	put32(w, d->obuf_bytes);
}

QNPU_EXPORT int qnpu_model_save(const struct qnpu_model *m, const char *path)
{
	const struct qnpu_npu_job *jobs = m->dev->backend->model_jobs ?
		m->dev->backend->model_jobs(m) : NULL;
	struct wbuf w = { 0 };
	char tmp[4096];
	int i;

	if (!m->dev->info.is_npu || !jobs)
		return qnpu_err(-EINVAL,
				"model was loaded on \"%s\", which compiles nothing: load it on an NPU device or target",
				m->dev->info.name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	w.f = fopen(tmp, "wb");
	if (!w.f)
		return qnpu_err(-errno, "%s: %s", tmp, strerror(errno));
	put(&w, QNPC_MAGIC, 4);
	put32(&w, QNPC_VERSION);
	put_target(&w, &m->dev->info);
	put64(&w, m->arena_size);
	put64(&w, m->file_len);
	put(&w, m->file, m->file_len);
	put32(&w, (uint32_t)m->g->nops);
	for (i = 0; i < m->g->nops; i++) {
		const struct qnpu_npu_job *job = &jobs[i];
		bool npu = m->g->ops[i].target == QNPU_TARGET_NPU;
		struct qnpc_op o = {
			.target = npu,
			.ncmds = npu ? (uint32_t)job->ncmds : 0,
			.consts_len = npu ? job->consts_len : 0,
		};

		put(&w, &o, sizeof(o));
		if (!npu)
			continue;
		put64(&w, job->consts_va);
		put(&w, job->consts, job->consts_len);
		put(&w, job->cmds, job->ncmds * sizeof(struct qnpu_cmd));
	}
	if (fclose(w.f) && !w.err)
		w.err = -EIO;
	if (w.err || rename(tmp, path)) {
		remove(tmp);
		return qnpu_err(-EIO, "%s: cannot write", path);
	}
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static const void *take(struct rbuf *r, size_t n)
{
	const void *p;

	if (n > r->len - r->off)
		return NULL;
	p = r->p + r->off;
	r->off += n;
	return p;
}

static int take32(struct rbuf *r, uint32_t *v)
{
	const void *p = take(r, 4);

	if (p)
		memcpy(v, p, 4);
	return p ? 0 : -EINVAL;
}

static int take64(struct rbuf *r, uint64_t *v)
{
	const void *p = take(r, 8);

	if (p)
		memcpy(v, p, 8);
	return p ? 0 : -EINVAL;
}

bool qnpu_is_compiled(const void *data, size_t size)
{
	return size >= 4 && !memcmp(data, QNPC_MAGIC, 4);
}

#define BAD(...) qnpu_err(-EINVAL, "compiled model: " __VA_ARGS__)

int qnpu_load_compiled(struct qnpu_device *dev, const uint8_t *data,
		       size_t size, struct qnpu_model **out)
{
	struct rbuf r = { data, size, 0 };
	const struct qnpu_device_info *d = &dev->info;
	uint32_t version, tg[6], nops = 0, i;
	uint64_t arena, model_len, next_consts = QNPU_VA_CONSTS;
	struct qnpu_npu_job *jobs = NULL;
	struct qnpu_model *m = NULL;
	struct qnpu_ir_graph *g;
	uint8_t *model;
	int ret;

	*out = NULL;
	take(&r, 4);
	if (take32(&r, &version))
		return BAD("truncated header");
	if (version != QNPC_VERSION)
		return BAD("format version %u, this libqnpu reads version %u: compile it again",
			   version, QNPC_VERSION);
	for (i = 0; i < 6; i++)
		if (take32(&r, &tg[i]))
			return BAD("truncated header");
	if (!d->is_npu)
		return BAD("it runs on an NPU, device \"%s\" is none", d->name);
	if (tg[0] != d->rows || tg[1] != d->cols || tg[2] != d->abuf_bytes ||
	    tg[3] != d->wbuf_bytes || tg[4] != d->pbuf_bytes ||
	    tg[5] != d->obuf_bytes)
		return BAD("built for a %ux%u NPU (SRAMs %u/%u/%u/%u bytes), the device is %ux%u (%u/%u/%u/%u): compile it for this target",
			   tg[0], tg[1], tg[2], tg[3], tg[4], tg[5], d->rows,
			   d->cols, d->abuf_bytes, d->wbuf_bytes,
			   d->pbuf_bytes, d->obuf_bytes);
	if (take64(&r, &arena) || take64(&r, &model_len) ||
	    model_len > size - r.off)
		return BAD("truncated model");
	model = malloc(model_len ? model_len : 1);
	if (!model)
		return qnpu_err(-ENOMEM, "out of memory");
	memcpy(model, take(&r, model_len), model_len);
	ret = qnpu_tflite_import(model, model_len, &g);
	if (ret) {
		free(model);
		return ret;
	}
	if (take32(&r, &nops) || nops != (uint32_t)g->nops) {
		ret = BAD("has %u operators, its model %d", nops, g->nops);
		qnpu_ir_graph_free(g);
		free(model);
		return ret;
	}
	jobs = calloc((size_t)nops + 1, sizeof(*jobs));
	if (!jobs) {
		qnpu_ir_graph_free(g);
		free(model);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	for (i = 0; i < nops; i++) {
		const void *po = take(&r, sizeof(struct qnpc_op));
		struct qnpu_npu_job *job = &jobs[i];
		struct qnpc_op op, *o = &op;
		const void *c, *k;

		/* The file has no alignment: copy, never cast. */
		if (!po) {
			ret = BAD("operator %u is truncated", i);
			goto err;
		}
		memcpy(&op, po, sizeof(op));
		if (o->target > 1) {
			ret = BAD("operator %u has target %u", i, o->target);
			goto err;
		}
		g->ops[i].target = o->target ? QNPU_TARGET_NPU :
				   QNPU_TARGET_CPU;
		if (!o->target)
			continue;
		if (take64(&r, &job->consts_va) ||
		    o->consts_len > size - r.off ||
		    !(k = take(&r, o->consts_len)) ||
		    (uint64_t)o->ncmds * sizeof(struct qnpu_cmd) > size - r.off ||
		    !(c = take(&r, o->ncmds * sizeof(struct qnpu_cmd)))) {
			ret = BAD("operator %u is truncated", i);
			goto err;
		}
		/* Constants where the compiler puts them: ascending pages. */
		if (job->consts_va % PAGE || job->consts_va < next_consts ||
		    job->consts_va - QNPU_VA_CONSTS > QNPU_VA_CONSTS ||
		    o->consts_len > 2 * QNPU_VA_CONSTS - job->consts_va) {
			ret = BAD("operator %u's constants at 0x%llx are out of place",
				  i, (unsigned long long)job->consts_va);
			goto err;
		}
		next_consts = job->consts_va + o->consts_len;
		job->consts_len = o->consts_len;
		job->consts = malloc(o->consts_len ? o->consts_len : 1);
		job->ncmds = job->cap = o->ncmds;
		job->cmds = malloc(o->ncmds ? o->ncmds * sizeof(*job->cmds) :
				   1);
		if (!job->consts || !job->cmds) {
			ret = qnpu_err(-ENOMEM, "out of memory");
			goto err;
		}
		memcpy(job->consts, k, o->consts_len);
		memcpy(job->cmds, c, o->ncmds * sizeof(*job->cmds));
	}
	if (r.off != size) {
		ret = BAD("%zu bytes of trailing data", size - r.off);
		goto err;
	}
	ret = qnpu_model_from_graph_jobs(dev, g, model, model_len, jobs, &m);
	if (ret)
		return ret;
	if (m->arena_size != arena) {
		ret = BAD("its memory plan (%llu bytes) differs from this libqnpu's (%zu): compile it again",
			  (unsigned long long)arena, m->arena_size);
		qnpu_model_free(m);
		return ret;
	}
	*out = m;
	return 0;

err:
	for (i = 0; i < nops; i++)
		qnpu_npu_job_free(&jobs[i]);
	free(jobs);
	qnpu_ir_graph_free(g);
	free(model);
	return ret;
}
