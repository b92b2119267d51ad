// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu jobs: the SUBMIT ioctl, the DRM scheduler backend, completion
 * reporting and the timeout -> reset path.
 */
#include <linux/bitfield.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "qnpu_drv.h"
#include "qnpu_drm.h"

/* The uAPI status codes are the device's. */
static_assert(DRM_QNPU_JOB_OK == QNPU_STATUS_OK);
static_assert(DRM_QNPU_JOB_FAULT == QNPU_STATUS_FAULT);
static_assert(DRM_QNPU_JOB_DEADLOCK == QNPU_STATUS_DEADLOCK);
static_assert(DRM_QNPU_JOB_TIMEOUT == QNPU_STATUS_TIMEOUT);
static_assert(DRM_QNPU_JOB_ABORTED == QNPU_STATUS_ABORTED);
static_assert(DRM_QNPU_JOB_BAD_DESC == QNPU_STATUS_BAD_DESC);
static_assert(DRM_QNPU_FAULT_UNMAPPED == QNPU_FAULT_UNMAPPED);
static_assert(DRM_QNPU_FAULT_BUS == QNPU_FAULT_BUS);

static const char *qnpu_fence_get_driver_name(struct dma_fence *fence)
{
	return QNPU_DRIVER_NAME;
}

static const char *qnpu_fence_get_timeline_name(struct dma_fence *fence)
{
	return "qnpu-ring";
}

static const struct dma_fence_ops qnpu_fence_ops = {
	.get_driver_name = qnpu_fence_get_driver_name,
	.get_timeline_name = qnpu_fence_get_timeline_name,
};

static struct dma_fence *qnpu_fence_create(struct qnpu_device *qdev)
{
	struct dma_fence *fence;
	unsigned long flags;

	fence = kzalloc(sizeof(*fence), GFP_KERNEL);
	if (!fence)
		return NULL;
	spin_lock_irqsave(&qdev->fence_lock, flags);
	dma_fence_init(fence, &qnpu_fence_ops, &qdev->fence_lock,
		       qdev->fence_context, ++qdev->fence_seqno);
	spin_unlock_irqrestore(&qdev->fence_lock, flags);
	return fence;
}

static int qnpu_status_errno(u32 status)
{
	switch (status) {
	case DRM_QNPU_JOB_OK:
		return 0;
	case DRM_QNPU_JOB_FAULT:
		return -EFAULT;
	case DRM_QNPU_JOB_TIMEOUT:
	case DRM_QNPU_JOB_HANG:
		return -ETIMEDOUT;
	case DRM_QNPU_JOB_DEVICE_LOST:
		return -ENODEV;
	case DRM_QNPU_JOB_CANCELED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static u64 qnpu_cqe_read64(void __iomem *cqe, u32 off)
{
	return readl(cqe + off) | (u64)readl(cqe + off + 4) << 32;
}

/**
 * qnpu_job_complete() - record a job's final result
 * @job: the job
 * @status: DRM_QNPU_JOB_*
 * @cqe: its completion entry, or NULL when the driver decided the result
 *
 * Writes the job info (if the job has an info BO). Called under
 * qdev->job_lock or before the job is visible to the device.
 */
void qnpu_job_complete(struct qnpu_job *job, u32 status, void __iomem *cqe)
{
	struct drm_qnpu_job_info info = {
		.job_id = job->id,
		.status = status,
	};
	struct dma_fence *finished = &job->base.s_fence->finished;
	struct drm_qnpu_job_info *dst;
	int err = qnpu_status_errno(status);

	job->has_result = true;
	job->status = status;
	/* This scheduler does not pass the hardware fence's error on. */
	if (err && !finished->error)
		dma_fence_set_error(finished, err);
	if (cqe) {
		u32 fault = readl(cqe + QNPU_CQE_FAULT_INFO);

		info.err_cmd = readl(cqe + QNPU_CQE_ERR_CMD);
		if (status == DRM_QNPU_JOB_FAULT) {
			info.fault_va = qnpu_cqe_read64(cqe, QNPU_CQE_FAULT_VA);
			info.fault_reason =
				FIELD_GET(QNPU_FAULT_INFO_REASON_MASK, fault);
			info.fault_level =
				FIELD_GET(QNPU_FAULT_INFO_LEVEL_MASK, fault);
			info.fault_write =
				FIELD_GET(QNPU_FAULT_INFO_WRITE_MASK, fault);
		}
		info.cycles = qnpu_cqe_read64(cqe, QNPU_CQE_CYCLES);
		info.busy_cycles = qnpu_cqe_read64(cqe, QNPU_CQE_BUSY_CYCLES);
		info.macs = qnpu_cqe_read64(cqe, QNPU_CQE_MACS);
		info.dma_in_bytes = qnpu_cqe_read64(cqe, QNPU_CQE_DMA_IN);
		info.dma_out_bytes = qnpu_cqe_read64(cqe, QNPU_CQE_DMA_OUT);
		info.cmd_bytes = qnpu_cqe_read64(cqe, QNPU_CQE_CMD_BYTES);
		info.stall_load_token =
			qnpu_cqe_read64(cqe, QNPU_CQE_STALL_LOAD_TOKEN);
		info.stall_compute_token =
			qnpu_cqe_read64(cqe, QNPU_CQE_STALL_COMPUTE_TOKEN);
		info.stall_store_token =
			qnpu_cqe_read64(cqe, QNPU_CQE_STALL_STORE_TOKEN);
		info.stall_ppu = qnpu_cqe_read64(cqe, QNPU_CQE_STALL_PPU);
		info.stall_dispatch =
			qnpu_cqe_read64(cqe, QNPU_CQE_STALL_DISPATCH);
		info.compute_cycles =
			qnpu_cqe_read64(cqe, QNPU_CQE_COMPUTE_CYCLES);
		info.load_cycles = qnpu_cqe_read64(cqe, QNPU_CQE_LOAD_CYCLES);
	}
	if (status == DRM_QNPU_JOB_FAULT)
		drm_dbg(&job->qdev->ddev,
			"job %llu (ctx %u): MMU fault at %#llx (%s, reason %u)\n",
			job->id, job->ctx->id, info.fault_va,
			info.fault_write ? "write" : "read", info.fault_reason);
	else if (status != DRM_QNPU_JOB_OK)
		drm_dbg(&job->qdev->ddev, "job %llu (ctx %u): status %#x\n",
			job->id, job->ctx->id, status);

	if (!job->info_vaddr)
		return;
	dst = job->info_vaddr + job->info_offset;
	memcpy(dst, &info, sizeof(info));
	/* done last: userspace may poll it */
	wmb();
	WRITE_ONCE(dst->done, 1);
}

/* A fence that is already signaled, carrying the job's recorded result. */
static struct dma_fence *qnpu_job_result_fence(struct qnpu_job *job)
{
	struct dma_fence *fence = qnpu_fence_create(job->qdev);
	int err = qnpu_status_errno(job->status);

	if (!fence)
		return ERR_PTR(-ENOMEM);
	if (err)
		dma_fence_set_error(fence, err);
	dma_fence_signal(fence);
	return fence;
}

/* This scheduler runs a job whose dependencies failed; we do not. Only
 * the explicit in-syncs count: implicit ones are other jobs that merely
 * used the same BOs. */
static bool qnpu_job_dependency_failed(struct qnpu_job *job)
{
	unsigned int i;

	for (i = 0; i < job->in_count; i++)
		if (dma_fence_chain_contained(job->in_fences[i])->error)
			return true;
	return false;
}

static struct dma_fence *qnpu_job_run(struct drm_sched_job *sched_job)
{
	struct qnpu_job *job = to_qnpu_job(sched_job);
	struct qnpu_device *qdev = job->qdev;
	struct dma_fence *fence;
	void __iomem *sqe;
	unsigned long flags;

	/* Still running after a timeout that turned out not to be a hang. */
	spin_lock_irqsave(&qdev->job_lock, flags);
	if (job->on_device) {
		fence = dma_fence_get(job->done);
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		return fence;
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	if (job->done) {
		/* A re-run after a reset: the old run is over. */
		dma_fence_put(job->done);
		job->done = NULL;
	}
	if (!job->has_result && (sched_job->s_fence->finished.error ||
				 qnpu_job_dependency_failed(job)))
		qnpu_job_complete(job, DRM_QNPU_JOB_CANCELED, NULL);
	if (!job->has_result && READ_ONCE(qdev->lost))
		qnpu_job_complete(job, DRM_QNPU_JOB_DEVICE_LOST, NULL);
	if (job->has_result)
		return qnpu_job_result_fence(job);

	fence = qnpu_fence_create(qdev);
	if (!fence)
		return ERR_PTR(-ENOMEM);
	job->done = dma_fence_get(fence);

	spin_lock_irqsave(&qdev->job_lock, flags);
	sqe = qdev->regs + QNPU_SQ_OFFSET +
	      (qdev->sq_tail % qdev->hw.sq_entries) * QNPU_SQE_BYTES;
	writel(lower_32_bits(job->ctx->root.dma), sqe + QNPU_SQE_PT_ROOT);
	writel(upper_32_bits(job->ctx->root.dma), sqe + QNPU_SQE_PT_ROOT + 4);
	writel(lower_32_bits(job->cmd_va), sqe + QNPU_SQE_CMD_VA);
	writel(upper_32_bits(job->cmd_va), sqe + QNPU_SQE_CMD_VA + 4);
	writel(job->cmd_count, sqe + QNPU_SQE_CMD_COUNT);
	writel(lower_32_bits(job->id), sqe + QNPU_SQE_JOB_ID);
	writel(job->max_kcycles, sqe + QNPU_SQE_MAX_CYCLES);
	writel(0, sqe + QNPU_SQE_FLAGS);
	list_add_tail(&job->node, &qdev->inflight);
	job->on_device = true;
	qdev->sq_tail++;
	/* The entry before the index, the index before the doorbell. */
	wmb();
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
	qnpu_device_doorbell(qdev);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	return fence;
}

/* Take every job off the device after a reset (or loss): its old hardware
 * fence ends with an error nobody waits for any more. */
static void qnpu_job_drop_inflight(struct qnpu_device *qdev)
{
	struct qnpu_job *job, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&qdev->job_lock, flags);
	list_for_each_entry_safe(job, tmp, &qdev->inflight, node) {
		list_del_init(&job->node);
		job->on_device = false;
		if (qdev->lost && !job->has_result)
			qnpu_job_complete(job, DRM_QNPU_JOB_DEVICE_LOST, NULL);
		dma_fence_set_error(job->done, -ECANCELED);
		dma_fence_signal(job->done);
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

static enum drm_gpu_sched_stat qnpu_job_timedout(struct drm_sched_job *bad)
{
	struct qnpu_job *job = to_qnpu_job(bad);
	struct qnpu_device *qdev = job->qdev;

	drm_sched_stop(&qdev->sched, bad);
	/* A lost interrupt is not a hang. */
	qnpu_device_process_cq(qdev);

	if (!job->has_result) {
		if (!READ_ONCE(qdev->lost)) {
			drm_err(&qdev->ddev,
				"job %llu (ctx %u) timed out after %u s, resetting\n",
				job->id, job->ctx->id, qnpu_job_timeout_s);
			WRITE_ONCE(qdev->hung_job, job);
			if (qnpu_device_reset(qdev)) {
				drm_err(&qdev->ddev,
					"no reset acknowledge: device lost\n");
				WRITE_ONCE(qdev->lost, true);
			} else {
				/* Completions that made it before the
				 * reset; the aborted job is re-run. */
				qnpu_device_process_cq(qdev);
				qnpu_device_resync(qdev);
			}
			WRITE_ONCE(qdev->hung_job, NULL);
		}
		if (!job->has_result)
			qnpu_job_complete(job, READ_ONCE(qdev->lost) ?
					  DRM_QNPU_JOB_DEVICE_LOST :
					  DRM_QNPU_JOB_HANG, NULL);
		/* The reset dropped everything else on the device. */
		qnpu_job_drop_inflight(qdev);
	}

	/* Re-runs the pending jobs: the ones still on the device keep their
	 * fence, the ones with a result only report it. */
	drm_sched_resubmit_jobs(&qdev->sched);
	drm_sched_start(&qdev->sched, true);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void qnpu_job_put_bos(struct qnpu_job *job)
{
	unsigned int i;

	if (job->info_vaddr) {
		struct iosys_map map = IOSYS_MAP_INIT_VADDR(job->info_vaddr);

		drm_gem_shmem_vunmap(to_drm_gem_shmem_obj(job->info_obj), &map);
	}
	if (job->info_obj)
		drm_gem_object_put(job->info_obj);
	for (i = 0; i < job->bo_count; i++)
		drm_gem_object_put(job->bos[i]);
	kvfree(job->bos);
	for (i = 0; i < job->in_count; i++)
		dma_fence_put(job->in_fences[i]);
	kfree(job->in_fences);
}

static void qnpu_job_free(struct drm_sched_job *sched_job)
{
	struct qnpu_job *job = to_qnpu_job(sched_job);

	drm_sched_job_cleanup(sched_job);
	dma_fence_put(job->done);
	qnpu_job_put_bos(job);
	qnpu_ctx_put(job->ctx);
	kfree(job);
}

const struct drm_sched_backend_ops qnpu_sched_ops = {
	.run_job = qnpu_job_run,
	.timedout_job = qnpu_job_timedout,
	.free_job = qnpu_job_free,
};

static int qnpu_ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* The user's BOs plus the command BO, sorted and without duplicates (each
 * reservation is locked once). */
static int qnpu_job_lookup_bos(struct drm_device *ddev, struct drm_file *file,
			       struct drm_qnpu_submit *args,
			       struct qnpu_job *job,
			       struct drm_gem_object *cmd_obj)
{
	u32 __user *uhandles = u64_to_user_ptr(args->bo_handles);
	struct drm_gem_object **bos;
	unsigned int i, n = 0;
	u32 handle;

	bos = kvcalloc(args->bo_count + 1, sizeof(*bos), GFP_KERNEL);
	if (!bos)
		return -ENOMEM;
	job->bos = bos;
	for (i = 0; i < args->bo_count; i++) {
		if (get_user(handle, uhandles + i)) {
			drm_dbg(ddev, "submit: bad bo_handles pointer\n");
			return -EFAULT;
		}
		bos[n] = drm_gem_object_lookup(file, handle);
		if (!bos[n]) {
			drm_dbg(ddev, "submit: no BO %u\n", handle);
			return -ENOENT;
		}
		job->bo_count = ++n;
	}
	drm_gem_object_get(cmd_obj);
	bos[n++] = cmd_obj;
	job->bo_count = n;

	sort(bos, n, sizeof(*bos), qnpu_ptr_cmp, NULL);
	for (i = 1, n = 1; i < job->bo_count; i++) {
		if (bos[i] == bos[n - 1])
			drm_gem_object_put(bos[i]);
		else
			bos[n++] = bos[i];
	}
	job->bo_count = n;
	return 0;
}

struct qnpu_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

static int qnpu_job_add_in_syncs(struct drm_device *ddev,
				 struct drm_file *file,
				 struct drm_qnpu_submit *args,
				 struct qnpu_job *job)
{
	struct drm_qnpu_sync __user *usyncs = u64_to_user_ptr(args->in_syncs);
	struct drm_qnpu_sync sync;
	struct dma_fence *fence;
	unsigned int i;
	int ret;

	if (!args->in_sync_count)
		return 0;
	job->in_fences = kcalloc(args->in_sync_count,
				 sizeof(*job->in_fences), GFP_KERNEL);
	if (!job->in_fences)
		return -ENOMEM;
	for (i = 0; i < args->in_sync_count; i++) {
		if (copy_from_user(&sync, usyncs + i, sizeof(sync))) {
			drm_dbg(ddev, "submit: bad in_syncs pointer\n");
			return -EFAULT;
		}
		if (sync.flags) {
			drm_dbg(ddev, "submit: in-sync flags %#x\n",
				sync.flags);
			return -EINVAL;
		}
		ret = drm_syncobj_find_fence(file, sync.handle, sync.point, 0,
					     &fence);
		if (ret) {
			drm_dbg(ddev, "submit: in-sync %u: %d\n", sync.handle,
				ret);
			return ret;
		}
		/* Wait for that job to end, not just to reach the device: its
		 * result decides whether this one runs. */
		set_bit(DRM_SCHED_FENCE_DONT_PIPELINE,
			&dma_fence_chain_contained(fence)->flags);
		job->in_fences[job->in_count++] = dma_fence_get(fence);
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			return ret;
	}
	return 0;
}

static int qnpu_job_get_out_syncs(struct drm_device *ddev,
				  struct drm_file *file,
				  struct drm_qnpu_submit *args,
				  struct qnpu_out_sync *out)
{
	struct drm_qnpu_sync __user *usyncs =
		u64_to_user_ptr(args->out_syncs);
	struct drm_qnpu_sync sync;
	unsigned int i;

	for (i = 0; i < args->out_sync_count; i++) {
		if (copy_from_user(&sync, usyncs + i, sizeof(sync))) {
			drm_dbg(ddev, "submit: bad out_syncs pointer\n");
			return -EFAULT;
		}
		if (sync.flags) {
			drm_dbg(ddev, "submit: out-sync flags %#x\n",
				sync.flags);
			return -EINVAL;
		}
		out[i].syncobj = drm_syncobj_find(file, sync.handle);
		if (!out[i].syncobj) {
			drm_dbg(ddev, "submit: no syncobj %u\n", sync.handle);
			return -ENOENT;
		}
		out[i].point = sync.point;
		if (sync.point) {
			out[i].chain = dma_fence_chain_alloc();
			if (!out[i].chain)
				return -ENOMEM;
		}
	}
	return 0;
}

static void qnpu_job_put_out_syncs(struct qnpu_out_sync *out,
				   unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (out[i].chain)
			dma_fence_chain_free(out[i].chain);
		if (out[i].syncobj)
			drm_syncobj_put(out[i].syncobj);
	}
	kfree(out);
}

static int qnpu_submit_check(struct drm_device *ddev,
			     struct drm_qnpu_submit *args)
{
	if (args->flags) {
		drm_dbg(ddev, "submit: unknown flags %#x\n", args->flags);
		return -EINVAL;
	}
	if (args->pad || args->reserved[0] || args->reserved[1]) {
		drm_dbg(ddev, "submit: pad/reserved not zero\n");
		return -EINVAL;
	}
	if (!args->cmd_size || args->cmd_size % QNPU_CMD_BYTES ||
	    args->cmd_size > QNPU_MAX_CMD_BYTES) {
		drm_dbg(ddev, "submit: cmd_size %llu\n", args->cmd_size);
		return -EINVAL;
	}
	if (args->cmd_offset % QNPU_CMD_BYTES) {
		drm_dbg(ddev, "submit: cmd_offset %llu misaligned\n",
			args->cmd_offset);
		return -EINVAL;
	}
	if (args->bo_count > DRM_QNPU_MAX_BOS ||
	    args->in_sync_count > DRM_QNPU_MAX_SYNCS ||
	    args->out_sync_count > DRM_QNPU_MAX_SYNCS) {
		drm_dbg(ddev, "submit: too many BOs or syncs\n");
		return -EINVAL;
	}
	if ((args->bo_count && !args->bo_handles) ||
	    (args->in_sync_count && !args->in_syncs) ||
	    (args->out_sync_count && !args->out_syncs)) {
		drm_dbg(ddev, "submit: count without array\n");
		return -EINVAL;
	}
	if (args->info_offset % 8 ||
	    (!args->info_handle && args->info_offset)) {
		drm_dbg(ddev, "submit: info_offset %llu\n", args->info_offset);
		return -EINVAL;
	}
	return 0;
}

static int qnpu_job_map_info(struct drm_device *ddev, struct drm_file *file,
			     struct drm_qnpu_submit *args,
			     struct qnpu_job *job)
{
	struct iosys_map map;
	int ret;

	job->info_obj = drm_gem_object_lookup(file, args->info_handle);
	if (!job->info_obj) {
		drm_dbg(ddev, "submit: no info BO %u\n", args->info_handle);
		return -ENOENT;
	}
	if (args->info_offset > job->info_obj->size ||
	    job->info_obj->size - args->info_offset <
	    sizeof(struct drm_qnpu_job_info)) {
		drm_dbg(ddev, "submit: job info past the end of its BO\n");
		return -EINVAL;
	}
	ret = drm_gem_shmem_vmap(to_drm_gem_shmem_obj(job->info_obj), &map);
	if (ret)
		return ret;
	job->info_vaddr = map.vaddr;
	job->info_offset = args->info_offset;
	return 0;
}

int qnpu_ioctl_submit(struct drm_device *ddev, void *data,
		      struct drm_file *file)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct qnpu_file *qfile = file->driver_priv;
	struct drm_qnpu_submit *args = data;
	struct qnpu_out_sync *out = NULL;
	struct drm_gem_object *cmd_obj;
	struct ww_acquire_ctx acquire;
	struct dma_fence *finished;
	struct qnpu_job *job;
	unsigned int i;
	int ret;

	ret = qnpu_submit_check(ddev, args);
	if (ret)
		return ret;
	if (READ_ONCE(qdev->lost))
		return -ENODEV;

	cmd_obj = drm_gem_object_lookup(file, args->cmd_handle);
	if (!cmd_obj) {
		drm_dbg(ddev, "submit: no command BO %u\n", args->cmd_handle);
		return -ENOENT;
	}
	if (args->cmd_offset > cmd_obj->size ||
	    cmd_obj->size - args->cmd_offset < args->cmd_size) {
		drm_dbg(ddev, "submit: commands past the end of their BO\n");
		ret = -EINVAL;
		goto err_put_cmd;
	}

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		ret = -ENOMEM;
		goto err_put_cmd;
	}
	job->qdev = qdev;
	INIT_LIST_HEAD(&job->node);
	job->cmd_va = to_qnpu_bo(cmd_obj)->node.start + args->cmd_offset;
	job->cmd_count = args->cmd_size / QNPU_CMD_BYTES;
	job->max_kcycles = args->max_kcycles;

	ret = qnpu_job_lookup_bos(ddev, file, args, job, cmd_obj);
	if (ret)
		goto err_free_job;
	if (args->info_handle) {
		ret = qnpu_job_map_info(ddev, file, args, job);
		if (ret)
			goto err_free_job;
	}
	if (args->out_sync_count) {
		out = kcalloc(args->out_sync_count, sizeof(*out), GFP_KERNEL);
		if (!out) {
			ret = -ENOMEM;
			goto err_free_job;
		}
		ret = qnpu_job_get_out_syncs(ddev, file, args, out);
		if (ret)
			goto err_put_out;
	}

	ret = drm_sched_job_init(&job->base, &qfile->entity, qfile);
	if (ret)
		goto err_put_out;
	ret = qnpu_job_add_in_syncs(ddev, file, args, job);
	if (ret)
		goto err_cleanup_job;

	ret = drm_gem_lock_reservations(job->bos, job->bo_count, &acquire);
	if (ret)
		goto err_cleanup_job;
	for (i = 0; i < job->bo_count; i++) {
		ret = dma_resv_reserve_fences(job->bos[i]->resv, 1);
		if (ret)
			goto err_unlock;
		ret = drm_sched_job_add_implicit_dependencies(&job->base,
							      job->bos[i],
							      true);
		if (ret)
			goto err_unlock;
	}

	kref_get(&qfile->ctx->refcount);
	job->ctx = qfile->ctx;
	job->id = atomic64_inc_return(&qdev->job_seqno);
	drm_sched_job_arm(&job->base);
	finished = dma_fence_get(&job->base.s_fence->finished);
	for (i = 0; i < job->bo_count; i++)
		dma_resv_add_fence(job->bos[i]->resv, finished,
				   DMA_RESV_USAGE_WRITE);
	drm_gem_unlock_reservations(job->bos, job->bo_count, &acquire);
	/* From here on the scheduler owns (and may free) the job. */
	args->job_id = job->id;
	drm_sched_entity_push_job(&job->base);

	for (i = 0; i < args->out_sync_count; i++) {
		if (out[i].chain) {
			drm_syncobj_add_point(out[i].syncobj, out[i].chain,
					      finished, out[i].point);
			out[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(out[i].syncobj, finished);
		}
	}
	dma_fence_put(finished);
	if (out)
		qnpu_job_put_out_syncs(out, args->out_sync_count);
	drm_gem_object_put(cmd_obj);
	return 0;

err_unlock:
	drm_gem_unlock_reservations(job->bos, job->bo_count, &acquire);
err_cleanup_job:
	drm_sched_job_cleanup(&job->base);
err_put_out:
	if (out)
		qnpu_job_put_out_syncs(out, args->out_sync_count);
err_free_job:
	qnpu_job_put_bos(job);
	kfree(job);
err_put_cmd:
	drm_gem_object_put(cmd_obj);
	return ret;
}
