// SPDX-License-Identifier: MIT
/*
 * Device "drm" / "drm:/dev/dri/renderD128": the qnpu kernel driver through
 * libdrm. The tensor arena is a BO mapped into this process, so CPU
 * operators work on it in place; each NPU operator's constants and
 * commands are read-only BOs; one job per operator, its status and
 * counters read back from its slot of a job-info BO. A segment (the
 * consecutive NPU operators qnpu_npu_model_compile() joined) is one job:
 * its commands in a BO of their own, its operators' constants in its BO
 * list, one SUBMIT. Other runs of consecutive NPU operators (no CPU
 * operator, no layer callback in between) go to the kernel as one batch
 * SUBMIT and one wait (BO_WAIT on the info BO, which polls the
 * completion ring before sleeping); without batches in the driver, each
 * job is a SUBMIT waited for on a syncobj.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "backend/qnpu_backend.h"
#include "compiler/qnpu_compiler.h"
#include "qnpu_drm.h"
#include "qnpu_regs.h"

#define JOB_TIMEOUT_NS (600ull * 1000000000ull) /* the driver's is shorter */

struct drm_dev {
	int fd;
	uint32_t syncobj;
	uint32_t max_batch;	/* 0: the driver has no batch SUBMIT */
	struct qnpu_npu_target target;
	char path[64];
};

struct drm_bo {
	uint32_t handle;
	uint64_t va, size;
	void *map;
};

struct drm_model {
	struct drm_bo arena, info;	/* info: one slot per operator */
	struct drm_bo *consts, *cmds;	/* per operator */
	struct drm_bo *seg_cmds;	/* per segment */
	int batched_to;		/* operators up to here ran in a batch */
	int last_op;		/* the operator run_op() saw last */
};

static int bo_create(struct drm_dev *d, uint64_t size, bool readonly,
		     struct drm_bo *bo)
{
	struct drm_qnpu_bo_create c = {
		.size = size ? size : 1,
		.flags = readonly ? DRM_QNPU_BO_READONLY : 0,
	};
	struct drm_qnpu_bo_mmap_offset o = { 0 };

	memset(bo, 0, sizeof(*bo));
	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_BO_CREATE, &c))
		return qnpu_err(-errno, "drm: BO_CREATE of %llu bytes: %s",
				(unsigned long long)size, strerror(errno));
	bo->handle = c.handle;
	bo->va = c.va;
	bo->size = c.size;
	o.handle = c.handle;
	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_BO_MMAP_OFFSET, &o))
		return qnpu_err(-errno, "drm: BO_MMAP_OFFSET: %s",
				strerror(errno));
	bo->map = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->fd, (off_t)o.offset);
	if (bo->map == MAP_FAILED) {
		bo->map = NULL;
		return qnpu_err(-errno, "drm: mmap of a BO: %s",
				strerror(errno));
	}
	return 0;
}

static void bo_free(struct drm_dev *d, struct drm_bo *bo)
{
	struct drm_gem_close c = { .handle = bo->handle };

	if (bo->map)
		munmap(bo->map, bo->size);
	if (bo->handle)
		drmIoctl(d->fd, DRM_IOCTL_GEM_CLOSE, &c);
	memset(bo, 0, sizeof(*bo));
}

static int get_param(struct drm_dev *d, uint32_t param, uint32_t *v)
{
	struct drm_qnpu_get_param p = { .param = param };

	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_GET_PARAM, &p))
		return qnpu_err(-errno, "drm: %s: GET_PARAM %u: %s", d->path,
				param, strerror(errno));
	*v = (uint32_t)p.value;
	return 0;
}

/* Open @path if it is a qnpu render node. */
static int try_node(struct drm_dev *d, const char *path)
{
	drmVersionPtr v;
	bool ours;

	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return qnpu_err(-errno, "drm: %s: %s", path, strerror(errno));
	v = drmGetVersion(d->fd);
	ours = v && v->name && !strcmp(v->name, "qnpu");
	if (!ours) {
		qnpu_err(-ENODEV, "drm: %s is %s, not qnpu", path,
			 v && v->name ? v->name : "not a DRM device");
		drmFreeVersion(v);
		close(d->fd);
		d->fd = -1;
		return -ENODEV;
	}
	drmFreeVersion(v);
	snprintf(d->path, sizeof(d->path), "%s", path);
	return 0;
}

static int find_node(struct drm_dev *d)
{
	char path[64];
	int i;

	for (i = 128; i < 192; i++) {
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
		if (access(path, F_OK))
			continue;
		if (!try_node(d, path))
			return 0;
	}
	return qnpu_err(-ENODEV, "drm: no qnpu render node in /dev/dri");
}

static int drm_open(struct qnpu_device *dev, const char *arg)
{
	struct drm_dev *d = calloc(1, sizeof(*d));
	struct qnpu_npu_target *t;
	uint32_t version, lost = 0;
	int r;

	if (!d)
		return qnpu_err(-ENOMEM, "out of memory");
	d->fd = -1;
	r = arg && *arg ? try_node(d, arg) : find_node(d);
	if (r)
		goto err_free;
	t = &d->target;
	if ((r = get_param(d, DRM_QNPU_PARAM_VERSION, &version)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_HW_ROWS, &t->rows)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_HW_COLS, &t->cols)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_ABUF_BYTES, &t->abuf_bytes)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_WBUF_BYTES, &t->wbuf_bytes)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_PBUF_BYTES, &t->pbuf_bytes)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_OBUF_BYTES, &t->obuf_bytes)) ||
	    (r = get_param(d, DRM_QNPU_PARAM_DEVICE_LOST, &lost)))
		goto err_close;
	if (lost) {
		r = qnpu_err(-ENODEV, "drm: %s: the device is lost", d->path);
		goto err_close;
	}
	if (version >> 16 != QNPU_VERSION_MAJOR) {
		r = qnpu_err(-ENODEV,
			     "drm: %s speaks programming model %u.%u, libqnpu %u.x",
			     d->path, version >> 16, version & 0xffff,
			     QNPU_VERSION_MAJOR);
		goto err_close;
	}
	t->version_minor = version & 0xffff;
	/* Older drivers refuse the parameter: no batches then. */
	if (get_param(d, DRM_QNPU_PARAM_MAX_BATCH, &d->max_batch))
		d->max_batch = 0;
	/* The memory system the cost model plans with, so this compiles the
	 * streams an offline compile for the device's DTB gives. An older
	 * driver refuses these, a 1.0 device reports 0: then the defaults. */
	if (get_param(d, DRM_QNPU_PARAM_DMA_BYTES, &t->dma_bytes) ||
	    get_param(d, DRM_QNPU_PARAM_QUEUE_DEPTH, &t->queue_depth) ||
	    get_param(d, DRM_QNPU_PARAM_MEM_LATENCY, &t->mem_latency_cycles) ||
	    get_param(d, DRM_QNPU_PARAM_MEM_BYTES_PER_CYCLE,
		      &t->mem_bytes_per_cycle) ||
	    get_param(d, DRM_QNPU_PARAM_MEM_OUTSTANDING, &t->mem_outstanding))
		t->dma_bytes = t->queue_depth = t->mem_latency_cycles =
			t->mem_bytes_per_cycle = t->mem_outstanding = 0;
	if (drmSyncobjCreate(d->fd, 0, &d->syncobj)) {
		r = qnpu_err(-errno, "drm: syncobj: %s", strerror(errno));
		goto err_close;
	}
	dev->priv = d;
	qnpu_npu_set_info(dev, t);
	return 0;

err_close:
	close(d->fd);
err_free:
	free(d);
	return r;
}

static void drm_close(struct qnpu_device *dev)
{
	struct drm_dev *d = dev->priv;

	if (!d)
		return;
	drmSyncobjDestroy(d->fd, d->syncobj);
	close(d->fd);
	free(d);
}

/* An operator's constants and commands in BOs of their own. */
static int drm_place(struct qnpu_model *m, int i, struct qnpu_npu_job *job)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = m->priv;
	size_t bytes = job->ncmds * sizeof(struct qnpu_cmd);
	int r;

	if (job->consts_len) {
		r = bo_create(d, job->consts_len, true, &dm->consts[i]);
		if (r)
			return r;
		memcpy(dm->consts[i].map, job->consts, job->consts_len);
	}
	/* The kernel chose the VAs: move the canonical ones there. */
	qnpu_npu_relocate(job, QNPU_VA_ARENA, m->arena_size, dm->arena.va,
			  dm->consts[i].va);
	r = bo_create(d, bytes, true, &dm->cmds[i]);
	if (r)
		return r;
	memcpy(dm->cmds[i].map, job->cmds, bytes);
	return 0;
}

/* A segment's stream (from the relocated ones) in a BO of its own. */
static int drm_place_seg(struct qnpu_model *m, int i,
			 struct qnpu_npu_seg *sg)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = m->priv;
	size_t bytes = sg->job.ncmds * sizeof(struct qnpu_cmd);
	int r;

	r = bo_create(d, bytes, true, &dm->seg_cmds[i]);
	if (r)
		return r;
	memcpy(dm->seg_cmds[i].map, sg->job.cmds, bytes);
	return 0;
}

static int drm_model_init(struct qnpu_model *m)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = calloc(1, sizeof(*dm));
	int r;

	if (!dm)
		return qnpu_err(-ENOMEM, "out of memory");
	m->priv = dm;
	dm->consts = calloc((size_t)m->g->nops + 1, sizeof(*dm->consts));
	dm->cmds = calloc((size_t)m->g->nops + 1, sizeof(*dm->cmds));
	dm->seg_cmds = calloc((size_t)m->g->nops + 1, sizeof(*dm->seg_cmds));
	if (!dm->consts || !dm->cmds || !dm->seg_cmds)
		return qnpu_err(-ENOMEM, "out of memory");
	r = bo_create(d, m->arena_size, false, &dm->arena);
	if (r)
		return r;
	m->arena = dm->arena.map;
	dm->batched_to = -1;
	dm->last_op = -1;
	r = bo_create(d, ((size_t)m->g->nops + 1) *
		      sizeof(struct drm_qnpu_job_info), false, &dm->info);
	if (r)
		return r;
	return qnpu_npu_model_compile(m, drm_place, drm_place_seg);
}

static void drm_model_fini(struct qnpu_model *m)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = m->priv;
	int i;

	if (!dm)
		return;
	for (i = 0; dm->consts && i < m->g->nops; i++) {
		bo_free(d, &dm->consts[i]);
		bo_free(d, &dm->cmds[i]);
		if (dm->seg_cmds)
			bo_free(d, &dm->seg_cmds[i]);
	}
	bo_free(d, &dm->info);
	bo_free(d, &dm->arena);
	m->arena = NULL;
	free(dm->consts);
	free(dm->cmds);
	free(dm->seg_cmds);
	free(dm);
	m->priv = NULL;
}

/* Operator @i's job: BOs in @bos (3), its info in slot @i. */
static void drm_job(struct qnpu_model *m, int i, uint32_t *bos,
		    struct drm_qnpu_submit *s)
{
	struct drm_model *dm = m->priv;
	struct drm_qnpu_job_info *info = dm->info.map;

	bos[0] = dm->arena.handle;
	bos[1] = dm->cmds[i].handle;
	bos[2] = dm->consts[i].handle;
	memset(s, 0, sizeof(*s));
	s->cmd_handle = dm->cmds[i].handle;
	s->cmd_size = m->jobs[i].ncmds * sizeof(struct qnpu_cmd);
	s->bo_handles = (uintptr_t)bos;
	s->bo_count = bos[2] ? 3 : 2;
	s->info_handle = dm->info.handle;
	s->info_offset = (uint64_t)i * sizeof(*info);
	memset(&info[i], 0, sizeof(*info));
}

static int64_t drm_deadline(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec +
	       (int64_t)JOB_TIMEOUT_NS;
}

/*
 * Operators @first .. @last (consecutive, all on the NPU) as one batch;
 * returns when every one has ended. The device runs them in order. An
 * ADD fused into a convolution's epilogue has no job of its own.
 */
static int drm_run_batch(struct qnpu_model *m, int first, int last)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = m->priv;
	int i, k, n = last - first + 1;
	struct drm_qnpu_submit *el = calloc(n, sizeof(*el));
	uint32_t *bos = calloc((size_t)n * 3, sizeof(*bos));
	struct drm_qnpu_submit s = {
		.flags = DRM_QNPU_SUBMIT_BATCH,
		.batch = (uintptr_t)el,
		.batch_count = n,
		.batch_stride = sizeof(*el),
	};
	struct drm_qnpu_bo_wait w = { .handle = dm->info.handle };
	int r = 0;

	if (!el || !bos) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto out;
	}
	for (i = first, k = 0; i <= last; i++)
		if (!m->g->ops[i].res_conv) {
			drm_job(m, i, &bos[3 * k], &el[k]);
			k++;
		}
	s.batch_count = k;
	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_SUBMIT, &s)) {
		r = qnpu_err(-errno, "drm: operators %d..%d: SUBMIT: %s",
			     first, last, strerror(errno));
		goto out;
	}
	w.timeout_ns = drm_deadline();
	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_BO_WAIT, &w))
		r = qnpu_err(-errno, "drm: operators %d..%d: waiting for jobs %llu..: %s",
			     first, last, (unsigned long long)s.job_id,
			     strerror(errno));
	else
		dm->batched_to = last;
out:
	free(bos);
	free(el);
	return r;
}

/* One operator as a single SUBMIT waited for on the syncobj. */
static int drm_run_single(struct qnpu_model *m, int i)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_qnpu_sync out = { .handle = d->syncobj };
	struct drm_qnpu_submit s;
	uint32_t bos[3];

	drm_job(m, i, bos, &s);
	s.out_syncs = (uintptr_t)&out;
	s.out_sync_count = 1;
	if (drmSyncobjReset(d->fd, &d->syncobj, 1))
		return qnpu_err(-errno, "drm: syncobj reset: %s",
				strerror(errno));
	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_SUBMIT, &s))
		return qnpu_err(-errno, "drm: operator %d (%s): SUBMIT: %s", i,
				qnpu_ir_op_name(m->g->ops[i].builtin),
				strerror(errno));
	if (drmSyncobjWait(d->fd, &d->syncobj, 1, drm_deadline(),
			   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL))
		return qnpu_err(-errno, "drm: operator %d: waiting for job %llu: %s",
				i, (unsigned long long)s.job_id,
				strerror(errno));
	return 0;
}

/*
 * Segment @sg as one job: one SUBMIT (a batch of one when the driver has
 * batches: BO_WAIT polls before it sleeps), its info in the slot of its
 * first operator.
 */
static int drm_run_seg(struct qnpu_model *m, struct qnpu_npu_seg *sg)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = m->priv;
	struct drm_qnpu_job_info *info =
		(struct drm_qnpu_job_info *)dm->info.map + sg->first;
	struct drm_qnpu_sync out = { .handle = d->syncobj };
	struct drm_qnpu_submit el, s;
	struct drm_qnpu_bo_wait w = { .handle = dm->info.handle };
	struct qnpu_op_stats st = { 0 };
	uint32_t *bos = calloc((size_t)sg->njobs + 2, sizeof(*bos));
	int k, n = 0, r = 0;

	if (!bos)
		return qnpu_err(-ENOMEM, "out of memory");
	bos[n++] = dm->arena.handle;
	bos[n++] = dm->seg_cmds[sg - m->segs].handle;
	for (k = 0; k < sg->njobs; k++)
		if (dm->consts[sg->ops[k]].handle)
			bos[n++] = dm->consts[sg->ops[k]].handle;
	memset(&el, 0, sizeof(el));
	el.cmd_handle = bos[1];
	el.cmd_size = sg->job.ncmds * sizeof(struct qnpu_cmd);
	el.bo_handles = (uintptr_t)bos;
	el.bo_count = (uint32_t)n;
	el.info_handle = dm->info.handle;
	el.info_offset = (uint64_t)sg->first * sizeof(*info);
	memset(info, 0, sizeof(*info));
	if (d->max_batch) {
		s = (struct drm_qnpu_submit){
			.flags = DRM_QNPU_SUBMIT_BATCH,
			.batch = (uintptr_t)&el,
			.batch_count = 1,
			.batch_stride = sizeof(el),
		};
	} else {
		s = el;
		s.out_syncs = (uintptr_t)&out;
		s.out_sync_count = 1;
		if (drmSyncobjReset(d->fd, &d->syncobj, 1)) {
			r = qnpu_err(-errno, "drm: syncobj reset: %s",
				     strerror(errno));
			goto out;
		}
	}
	if (drmIoctl(d->fd, DRM_IOCTL_QNPU_SUBMIT, &s)) {
		r = qnpu_err(-errno, "drm: operators %d..%d (one job): SUBMIT: %s",
			     sg->first, sg->last, strerror(errno));
		goto out;
	}
	if (d->max_batch) {
		w.timeout_ns = drm_deadline();
		if (drmIoctl(d->fd, DRM_IOCTL_QNPU_BO_WAIT, &w))
			r = -errno;
	} else if (drmSyncobjWait(d->fd, &d->syncobj, 1, drm_deadline(),
				  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
				  NULL)) {
		r = -errno;
	}
	if (r) {
		r = qnpu_err(r, "drm: operators %d..%d: waiting for job %llu: %s",
			     sg->first, sg->last,
			     (unsigned long long)s.job_id, strerror(-r));
		goto out;
	}
	if (!info->done) {
		r = qnpu_err(-EIO, "drm: operators %d..%d: the job ended without its info",
			     sg->first, sg->last);
		goto out;
	}
	if (info->status != DRM_QNPU_JOB_OK) {
		r = qnpu_err(info->status == DRM_QNPU_JOB_DEVICE_LOST ?
			     -ENODEV : -EIO,
			     "drm: operators %d..%d (one job) failed on the NPU: %s at command %u (fault va 0x%llx)",
			     sg->first, sg->last,
			     qnpu_npu_status_name(info->status), info->err_cmd,
			     (unsigned long long)info->fault_va);
		goto out;
	}
	st.cycles = info->cycles;
	st.busy_cycles = info->busy_cycles;
	st.hw_macs = info->macs;
	st.stall_load = info->stall_load_token;
	st.stall_compute = info->stall_compute_token;
	st.stall_store = info->stall_store_token;
	st.stall_ppu = info->stall_ppu;
	st.stall_dispatch = info->stall_dispatch;
	r = qnpu_npu_seg_ran(m, sg, &st);
out:
	free(bos);
	return r;
}

static int drm_run_op(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	struct drm_dev *d = m->dev->priv;
	struct drm_model *dm = m->priv;
	struct drm_qnpu_job_info *info =
		(struct drm_qnpu_job_info *)dm->info.map + op->index;
	struct qnpu_op_stats *st = &m->runs[op->index].stats;
	struct qnpu_npu_seg *sg = qnpu_npu_seg_for(m, op->index);
	int last = op->index, r;

	if (sg) {
		dm->last_op = op->index;
		if (op->index != sg->ops[0]) {	/* ran with its first */
			qnpu_npu_seg_stats(m, op->index);
			return 0;
		}
		return drm_run_seg(m, sg);
	}
	/* Operators come in increasing order: a lower one starts a run. */
	if (op->index <= dm->last_op)
		dm->batched_to = -1;
	dm->last_op = op->index;
	/* Unless it ran already, in the batch of an earlier operator: */
	if (op->index > dm->batched_to) {
		/*
		 * The run of NPU operators from here: the layer callback
		 * must see each output before the next operator runs.
		 */
		while (!m->layer_cb && !op->res_defer &&
		       last + 1 < m->g->nops &&
		       last + 1 - op->index < (int)d->max_batch &&
		       m->g->ops[last + 1].target == QNPU_TARGET_NPU &&
		       !qnpu_npu_seg_for(m, last + 1) &&
		       !qnpu_npu_deferred_at(m->g, last + 1))
			last++;
		r = d->max_batch ? drm_run_batch(m, op->index, last) :
				   drm_run_single(m, op->index);
		if (r)
			return r;
	}
	if (!info->done)
		return qnpu_err(-EIO, "drm: operator %d: its job ended without its info",
				op->index);
	st->jobs = 1;
	st->cycles = info->cycles;
	st->busy_cycles = info->busy_cycles;
	st->hw_macs = info->macs;
	st->dma_in = info->dma_in_bytes;
	st->dma_out = info->dma_out_bytes;
	st->stall_load = info->stall_load_token;
	st->stall_compute = info->stall_compute_token;
	st->stall_store = info->stall_store_token;
	st->stall_ppu = info->stall_ppu;
	st->stall_dispatch = info->stall_dispatch;
	if (info->status != DRM_QNPU_JOB_OK)
		return qnpu_err(info->status == DRM_QNPU_JOB_DEVICE_LOST ?
				-ENODEV : -EIO,
				"drm: operator %d (%s) failed on the NPU: %s at command %u (fault va 0x%llx)",
				op->index, qnpu_ir_op_name(op->builtin),
				qnpu_npu_status_name(info->status), info->err_cmd,
				(unsigned long long)info->fault_va);
	return 0;
}

/* Whether a qnpu render node is present (for device "auto"). */
bool qnpu_drm_present(void)
{
	struct drm_dev d = { .fd = -1 };
	char saved[512];

	snprintf(saved, sizeof(saved), "%s", qnpu_last_error());
	if (find_node(&d)) {
		qnpu_err(0, "%s", saved);
		return false;
	}
	close(d.fd);
	return true;
}

const struct qnpu_backend qnpu_drm_backend = {
	.name = "drm",
	.open = drm_open,
	.close = drm_close,
	.supported = qnpu_npu_backend_supported,
	.model_init = drm_model_init,
	.model_fini = drm_model_fini,
	.run_op = drm_run_op,
};
