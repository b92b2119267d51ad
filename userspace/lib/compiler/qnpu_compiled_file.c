// SPDX-License-Identifier: MIT
/*
 * The compiled-model file: the .tflite bytes, the target, and per operator
 * where it runs, its packed constants and its command stream (emitted
 * against the canonical VAs of qnpu_compiler.h, so it needs no
 * relocation). The reader checks every size against the file and returns
 * data; the runtime makes a model of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "import/qnpu_import.h"
#include "util/qnpu_util.h"

#define QNPC_MAGIC "QNPC"
#define QNPC_VERSION 1
#define PAGE 4096ull

struct qnpc_op {		/* the stored part of a job */
	uint32_t target;
	uint32_t ncmds;
	uint64_t consts_len;
};

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

static void put_target(struct wbuf *w, const struct qnpu_npu_target *d)
{
	put32(w, d->rows);
	put32(w, d->cols);
	put32(w, d->abuf_bytes);
	put32(w, d->wbuf_bytes);
	put32(w, d->pbuf_bytes);
	put32(w, d->obuf_bytes);
}

int qnpu_compiled_write(const char *path, const struct qnpu_compiled *c)
{
	const struct qnpu_ir_graph *g = c->g;
	struct wbuf w = { 0 };
	char tmp[4096];
	int i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	w.f = fopen(tmp, "wb");
	if (!w.f)
		return qnpu_err(-errno, "%s: %s", tmp, strerror(errno));
	put(&w, QNPC_MAGIC, 4);
	put32(&w, QNPC_VERSION);
	put_target(&w, &c->target);
	put64(&w, c->arena_size);
	put64(&w, c->model_len);
	put(&w, c->model, c->model_len);
	put32(&w, (uint32_t)g->nops);
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_npu_job *job = &c->jobs[i];
		bool npu = g->ops[i].target == QNPU_TARGET_NPU;
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

bool qnpu_compiled_is(const void *data, size_t size)
{
	return size >= 4 && !memcmp(data, QNPC_MAGIC, 4);
}

#define BAD(...) qnpu_err(-EINVAL, "compiled model: " __VA_ARGS__)

void qnpu_compiled_fini(struct qnpu_compiled *c)
{
	if (c->g)
		qnpu_npu_jobs_free(c->jobs, c->g->nops);
	qnpu_ir_graph_free(c->g);
	free(c->model);
	memset(c, 0, sizeof(*c));
}

static int read_header(struct rbuf *r, const struct qnpu_npu_target *d,
		       const char *dev_name, struct qnpu_compiled *c)
{
	uint32_t version, tg[6], i;

	take(r, 4);
	if (take32(r, &version))
		return BAD("truncated header");
	if (version != QNPC_VERSION)
		return BAD("format version %u, this libqnpu reads version %u: compile it again",
			   version, QNPC_VERSION);
	for (i = 0; i < 6; i++)
		if (take32(r, &tg[i]))
			return BAD("truncated header");
	if (!d)
		return BAD("it runs on an NPU, device \"%s\" is none", dev_name);
	if (tg[0] != d->rows || tg[1] != d->cols || tg[2] != d->abuf_bytes ||
	    tg[3] != d->wbuf_bytes || tg[4] != d->pbuf_bytes ||
	    tg[5] != d->obuf_bytes)
		return BAD("built for a %ux%u NPU (SRAMs %u/%u/%u/%u bytes), the device is %ux%u (%u/%u/%u/%u): compile it for this target",
			   tg[0], tg[1], tg[2], tg[3], tg[4], tg[5], d->rows,
			   d->cols, d->abuf_bytes, d->wbuf_bytes,
			   d->pbuf_bytes, d->obuf_bytes);
	c->target = *d;
	if (take64(r, &c->arena_size) || take64(r, &c->model_len) ||
	    c->model_len > r->len - r->off)
		return BAD("truncated model");
	return 0;
}

/* One operator's record: where it runs, its constants and commands. */
static int read_op(struct rbuf *r, uint32_t i, struct qnpu_ir_op *op,
		   struct qnpu_npu_job *job, uint64_t *next_consts)
{
	const void *po = take(r, sizeof(struct qnpc_op));
	size_t size = r->len;
	struct qnpc_op o;
	const void *c, *k;

	/* The file has no alignment: copy, never cast. */
	if (!po)
		return BAD("operator %u is truncated", i);
	memcpy(&o, po, sizeof(o));
	if (o.target > 1)
		return BAD("operator %u has target %u", i, o.target);
	op->target = o.target ? QNPU_TARGET_NPU : QNPU_TARGET_CPU;
	if (!o.target)
		return 0;
	if (take64(r, &job->consts_va) || o.consts_len > size - r->off ||
	    !(k = take(r, o.consts_len)) ||
	    (uint64_t)o.ncmds * sizeof(struct qnpu_cmd) > size - r->off ||
	    !(c = take(r, o.ncmds * sizeof(struct qnpu_cmd))))
		return BAD("operator %u is truncated", i);
	/* Constants where the compiler puts them: ascending pages. */
	if (job->consts_va % PAGE || job->consts_va < *next_consts ||
	    job->consts_va - QNPU_VA_CONSTS > QNPU_VA_CONSTS ||
	    o.consts_len > 2 * QNPU_VA_CONSTS - job->consts_va)
		return BAD("operator %u's constants at 0x%llx are out of place",
			   i, (unsigned long long)job->consts_va);
	*next_consts = job->consts_va + o.consts_len;
	job->consts_len = o.consts_len;
	job->consts = malloc(o.consts_len ? o.consts_len : 1);
	job->ncmds = job->cap = o.ncmds;
	job->cmds = malloc(o.ncmds ? o.ncmds * sizeof(*job->cmds) : 1);
	if (!job->consts || !job->cmds)
		return qnpu_err(-ENOMEM, "out of memory");
	memcpy(job->consts, k, o.consts_len);
	memcpy(job->cmds, c, o.ncmds * sizeof(*job->cmds));
	return 0;
}

int qnpu_compiled_read(const uint8_t *data, size_t size,
		       const struct qnpu_npu_target *dev, const char *dev_name,
		       struct qnpu_compiled *out)
{
	struct rbuf r = { data, size, 0 };
	uint64_t next_consts = QNPU_VA_CONSTS;
	struct qnpu_compiled c = { 0 };
	uint32_t nops = 0, i;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_header(&r, dev, dev_name, &c);
	if (ret)
		return ret;
	c.model = malloc(c.model_len ? c.model_len : 1);
	if (!c.model)
		return qnpu_err(-ENOMEM, "out of memory");
	memcpy(c.model, take(&r, c.model_len), c.model_len);
	/* ONNX: laid out for the NPU as when it was compiled */
	ret = qnpu_onnx_is(c.model, c.model_len) ?
	      qnpu_onnx_import(c.model, c.model_len, &c.g) :
	      qnpu_tflite_import(c.model, c.model_len, &c.g);
	if (!ret)
		ret = qnpu_onnx_npu_layout(c.g);
	if (ret)
		goto err;
	if (take32(&r, &nops) || nops != (uint32_t)c.g->nops) {
		ret = BAD("has %u operators, its model %d", nops, c.g->nops);
		goto err;
	}
	c.jobs = calloc((size_t)nops + 1, sizeof(*c.jobs));
	if (!c.jobs) {
		ret = qnpu_err(-ENOMEM, "out of memory");
		goto err;
	}
	for (i = 0; i < nops; i++) {
		ret = read_op(&r, i, &c.g->ops[i], &c.jobs[i], &next_consts);
		if (ret)
			goto err;
	}
	if (r.off != size) {
		ret = BAD("%zu bytes of trailing data", size - r.off);
		goto err;
	}
	*out = c;
	return 0;

err:
	qnpu_compiled_fini(&c);
	return ret;
}
