// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu jobs: the SUBMIT ioctl, the DRM scheduler backend, completion
 * reporting and the timeout -> reset path.
 */
#include <linux/bitfield.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <drm/drm_drv.h>
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
	struct qnpu_job *job = container_of(fence, struct qnpu_job, hw_fence);

	return fence->context == job->qdev->fence_context ? "qnpu-ring" :
							     "qnpu-result";
}

/*
 * The hardware fence owns the job's memory: the scheduler may hold it
 * (s_fence->parent) after free_job.
 */
static void qnpu_fence_release(struct dma_fence *fence)
{
	struct qnpu_job *job = container_of(fence, struct qnpu_job, hw_fence);

	kfree_rcu(job, hw_fence.rcu);
}

static const struct dma_fence_ops qnpu_fence_ops = {
	.get_driver_name = qnpu_fence_get_driver_name,
	.get_timeline_name = qnpu_fence_get_timeline_name,
	.release = qnpu_fence_release,
};

static void qnpu_job_fence_init_seqno(struct qnpu_job *job, u64 context,
				      u64 seqno)
{
	dma_fence_init(&job->hw_fence, &qnpu_fence_ops, &job->qdev->fence_lock,
		       context, seqno);
	job->hw_fence_init = true;
}

/*
 * Give the job its hardware fence. On the ring (@ring, under job_lock, as
 * the entry is written) seqnos follow ring order, which is the order the
 * fences signal in; a job decided without running gets one of the result
 * timeline, signaled at once. Nothing is allocated: run_job is in the
 * fence-signalling path.
 */
static void qnpu_job_fence_init(struct qnpu_job *job, bool ring)
{
	struct qnpu_device *qdev = job->qdev;
	unsigned long flags;
	u64 context, seqno;

	spin_lock_irqsave(&qdev->fence_lock, flags);
	if (ring) {
		context = qdev->fence_context;
		seqno = ++qdev->fence_seqno;
	} else {
		context = qdev->result_context;
		seqno = ++qdev->result_seqno;
	}
	spin_unlock_irqrestore(&qdev->fence_lock, flags);
	qnpu_job_fence_init_seqno(job, context, seqno);
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
	struct drm_qnpu_job_info *dst;
	int err = qnpu_status_errno(status);

	job->has_result = true;
	job->status = status;
	/*
	 * This scheduler does not pass the hardware fence's error on. A
	 * direct job has no scheduler fence: its hardware fence is the one.
	 */
	if (err && !job->direct) {
		struct dma_fence *finished = &job->base.s_fence->finished;

		if (!finished->error &&
		    !test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &finished->flags))
			dma_fence_set_error(finished, err);
	}
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
	/* done last: userspace may poll it from another CPU */
	smp_store_release(&dst->done, 1);
}

/**
 * qnpu_job_end_fence() - signal the job's hardware fence with its result
 * @job: the job, with a result and a hardware fence
 *
 * Nothing if the fence has signaled already.
 */
void qnpu_job_end_fence(struct qnpu_job *job)
{
	struct dma_fence *fence = &job->hw_fence;
	unsigned long flags;

	spin_lock_irqsave(fence->lock, flags);
	if (!test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &fence->flags)) {
		int err = qnpu_status_errno(job->status);

		if (err)
			dma_fence_set_error(fence, err);
		dma_fence_signal_locked(fence);
	}
	spin_unlock_irqrestore(fence->lock, flags);
}

/* The job's fence, signaled, carrying its recorded result. */
static struct dma_fence *qnpu_job_result_fence(struct qnpu_job *job)
{
	if (!job->hw_fence_init)
		qnpu_job_fence_init(job, false);
	qnpu_job_end_fence(job);
	return dma_fence_get(&job->hw_fence);
}

/*
 * This scheduler runs a job whose dependencies failed; we do not. Only
 * the explicit in-syncs count: implicit ones are other jobs that merely
 * used the same BOs.
 */
static bool qnpu_job_dependency_failed(struct qnpu_job *job)
{
	unsigned int i;

	for (i = 0; i < job->in_count; i++)
		if (dma_fence_chain_contained(job->in_fences[i])->error)
			return true;
	return false;
}

/*
 * The scheduler ran @job (or dropped it, its file killed): a direct
 * submission of its file may go past it now. Under job_lock.
 */
static void qnpu_job_mark_run(struct qnpu_job *job)
{
	if (!job->unrun)
		return;
	job->unrun = false;
	job->ctx->unrun--;
}

/*
 * Write @job's entry at the ring's tail and move SQ_TAIL; the caller rings
 * the doorbell. Under job_lock.
 */
static void qnpu_job_write_sqe(struct qnpu_job *job)
{
	struct qnpu_device *qdev = job->qdev;
	void __iomem *sqe;

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
	/* The device starts it now: its time counts from here. */
	if (!qdev->ring_count++) {
		qdev->head_start = jiffies;
		queue_delayed_work(qdev->wq, &qdev->tdr, qdev->job_timeout);
	}
	list_add_tail(&job->node, &qdev->inflight);
	job->on_device = true;
	qdev->sq_tail++;
	/*
	 * writel() orders the entry, and the page tables in coherent memory,
	 * before the index, and the index before the doorbell.
	 */
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
}

/*
 * Give @job its place in ring order: its hardware fence (seqnos follow
 * ring order; @seqno if the caller took it, else 0) and an entry, or the
 * backlog if the ring is full or jobs wait there already. Return: true if
 * written (the caller rings). Under job_lock.
 */
static bool qnpu_job_queue(struct qnpu_job *job, u64 seqno)
{
	struct qnpu_device *qdev = job->qdev;

	/* A re-run after a reset keeps the fence it had. */
	if (!job->hw_fence_init) {
		if (seqno)
			qnpu_job_fence_init_seqno(job, qdev->fence_context,
						  seqno);
		else
			qnpu_job_fence_init(job, true);
		dma_fence_put(job->ctx->last_hw);
		job->ctx->last_hw = dma_fence_get(&job->hw_fence);
	}
	if (qdev->backlog_count || qdev->ring_count >= qdev->hw.sq_entries) {
		list_add_tail(&job->node, &qdev->backlog);
		job->in_backlog = true;
		qdev->backlog_count++;
		return false;
	}
	qnpu_job_write_sqe(job);
	return true;
}

/**
 * qnpu_job_drain_backlog() - write waiting jobs into free ring entries
 * @qdev: the device
 *
 * Under job_lock; the caller rings the doorbell if it returns non-zero.
 *
 * Return: the number of entries written.
 */
unsigned int qnpu_job_drain_backlog(struct qnpu_device *qdev)
{
	struct qnpu_job *job, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(job, tmp, &qdev->backlog, node) {
		if (qdev->ring_count >= qdev->hw.sq_entries)
			break;
		list_del_init(&job->node);
		job->in_backlog = false;
		qdev->backlog_count--;
		qnpu_job_write_sqe(job);
		n++;
	}
	return n;
}

/* A job that does not reach the ring: the fence of its result. */
static struct dma_fence *qnpu_job_run_result(struct qnpu_job *job)
{
	unsigned long flags;

	spin_lock_irqsave(&job->qdev->job_lock, flags);
	qnpu_job_mark_run(job);
	spin_unlock_irqrestore(&job->qdev->job_lock, flags);
	return qnpu_job_result_fence(job);
}

static struct dma_fence *qnpu_job_run(struct drm_sched_job *sched_job)
{
	struct qnpu_job *job = to_qnpu_job(sched_job);
	struct qnpu_device *qdev = job->qdev;
	struct dma_fence *fence;
	unsigned long flags;
	int idx;

	/*
	 * On the device or the backlog already: a re-run after a timeout
	 * (the reset put the jobs it dropped back in ring order itself).
	 */
	spin_lock_irqsave(&qdev->job_lock, flags);
	if (job->on_device || job->in_backlog) {
		qnpu_job_mark_run(job);
		fence = dma_fence_get(&job->hw_fence);
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		return fence;
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	if (!job->has_result && (sched_job->s_fence->finished.error ||
				 READ_ONCE(job->ctx->killed) ||
				 qnpu_job_dependency_failed(job)))
		qnpu_job_complete(job, DRM_QNPU_JOB_CANCELED, NULL);
	/* The device is being removed: nothing reaches it any more. */
	if (!drm_dev_enter(&qdev->ddev, &idx)) {
		if (!job->has_result)
			qnpu_job_complete(job, DRM_QNPU_JOB_DEVICE_LOST, NULL);
		return qnpu_job_run_result(job);
	}
	if (job->has_result)
		goto out_result;
	/* No other job of the context is on the device (it waited). */
	if (job->apply_maps)
		qnpu_mmu_apply(job->ctx);

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (qdev->lost) {
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		qnpu_job_complete(job, DRM_QNPU_JOB_DEVICE_LOST, NULL);
		goto out_result;
	}
	qnpu_job_mark_run(job);
	/*
	 * In the middle of a batch the next job's doorbell (or the one the
	 * completion handler rings) takes this entry along; never more than
	 * a ring's worth. A job that waits in the backlog is written (and
	 * rung for) by the completion that frees its entry.
	 */
	if (qnpu_job_queue(job, 0)) {
		if (job->db_defer && qdev->db_owed + 1 < qdev->hw.sq_entries)
			qdev->db_owed++;
		else
			qnpu_device_doorbell(qdev);
	}
	fence = dma_fence_get(&job->hw_fence);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	drm_dev_exit(idx);
	return fence;

out_result:
	drm_dev_exit(idx);
	return qnpu_job_run_result(job);
}

/*
 * Reset the device after @guilty (the oldest job on it) timed out, or
 * after the device wrote a completion we could not trust (@guilty NULL).
 * The jobs the reset took off the device, scheduler's and direct ones,
 * go back to the front of the backlog in ring order, with their fences,
 * and are written again here; if the device does not acknowledge, it is
 * lost and every job on it fails, keeping its memory (quarantine). The
 * caller owns the ring (qnpu_device_hold_ring(), scheduler parked or
 * stopped).
 */
static void qnpu_job_recover(struct qnpu_device *qdev, struct qnpu_job *guilty)
{
	struct qnpu_job *job, *tmp;
	unsigned long flags;
	bool lost;

	if (!READ_ONCE(qdev->lost)) {
		spin_lock_irqsave(&qdev->job_lock, flags);
		qdev->hung_job = guilty;
		qdev->in_reset = true;
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		if (qnpu_device_reset(qdev)) {
			drm_err(&qdev->ddev,
				"no reset acknowledge: device lost\n");
			WRITE_ONCE(qdev->lost, true);
		} else {
			qdev->resets++;
			/* Completions that made it before the reset. */
			qnpu_device_process_cq(qdev);
			qnpu_device_resync(qdev);
		}
	}

	/*
	 * One section to the end: a completion handler must not write the
	 * backlog's jobs ahead of the dropped ones.
	 */
	spin_lock_irqsave(&qdev->job_lock, flags);
	qdev->hung_job = NULL;
	qdev->in_reset = false;
	lost = qdev->lost;
	/* Aborted ones first (they were running), then the unstarted. */
	list_splice_tail_init(&qdev->inflight, &qdev->dropped);
	qdev->ring_count = 0;
	list_for_each_entry_safe(job, tmp, &qdev->dropped, node) {
		job->on_device = false;
		if (job == guilty || lost)
			qnpu_job_fail(job, lost ? DRM_QNPU_JOB_DEVICE_LOST :
				      DRM_QNPU_JOB_HANG, lost);
	}
	/* Dropped by the reset: run again, in ring order, first. */
	list_for_each_entry(job, &qdev->dropped, node) {
		job->in_backlog = true;
		qdev->backlog_count++;
	}
	list_splice_init(&qdev->dropped, &qdev->backlog);
	if (lost) {
		/* Never reached the device: they fail, nothing to keep. */
		list_for_each_entry_safe(job, tmp, &qdev->backlog, node)
			qnpu_job_fail(job, DRM_QNPU_JOB_DEVICE_LOST, false);
		qdev->backlog_count = 0;
	} else if (qnpu_job_drain_backlog(qdev)) {
		qnpu_device_doorbell(qdev);
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/*
 * The timeout check, shared by the driver's own timer (direct jobs) and
 * the scheduler's: a lost interrupt is not a hang; the oldest job on the
 * device is hung once it has run job_timeout_s, whoever submitted it; an
 * untrusted completion resets at once. The caller owns the ring.
 */
static void qnpu_job_check_hang(struct qnpu_device *qdev)
{
	struct qnpu_job *head, *guilty = NULL;
	struct dma_fence *ref = NULL;
	unsigned long flags;
	bool reset = false;

	if (READ_ONCE(qdev->lost))
		return;
	qnpu_device_process_cq(qdev);
	spin_lock_irqsave(&qdev->job_lock, flags);
	head = list_first_entry_or_null(&qdev->inflight, struct qnpu_job,
					node);
	if (qdev->cq_corrupt) {
		drm_err(&qdev->ddev, "untrusted completion, resetting\n");
		/* The completion was the oldest job's: it fails (HANG). */
		guilty = head;
		reset = true;
	} else if (head && time_after_eq(jiffies, qdev->head_start +
					 qdev->job_timeout)) {
		drm_err(&qdev->ddev,
			"job %llu (ctx %u) timed out after %u s, resetting\n",
			head->id, head->ctx->id, qnpu_job_timeout_s);
		guilty = head;
		reset = true;
	}
	/* Compared by address only, but never reused meanwhile. */
	if (guilty)
		ref = dma_fence_get(&guilty->hw_fence);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	if (reset)
		qnpu_job_recover(qdev, guilty);
	dma_fence_put(ref);
}

/* Check again when the oldest job on the device reaches its timeout. */
static void qnpu_job_tdr_rearm(struct qnpu_device *qdev)
{
	unsigned long flags, due;

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (qdev->ring_count) {
		due = qdev->head_start + qdev->job_timeout;
		mod_delayed_work(qdev->wq, &qdev->tdr,
				 time_after(due, jiffies) ? due - jiffies : 0);
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/**
 * qnpu_job_tdr_work() - the driver's job timeout
 * @work: qdev->tdr
 *
 * Armed when the ring goes from empty to busy, kicked by an untrusted
 * completion; on the ordered queue with the scheduler's timeout handler
 * and the heartbeat. Direct jobs have no scheduler timer: this is theirs.
 */
void qnpu_job_tdr_work(struct work_struct *work)
{
	struct qnpu_device *qdev = container_of(to_delayed_work(work),
						struct qnpu_device, tdr);
	unsigned long flags;
	bool due;
	int idx;

	if (!drm_dev_enter(&qdev->ddev, &idx))
		return;
	spin_lock_irqsave(&qdev->job_lock, flags);
	due = qdev->cq_corrupt ||
	      (qdev->ring_count && time_after_eq(jiffies, qdev->head_start +
						 qdev->job_timeout));
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	if (due && !READ_ONCE(qdev->lost)) {
		/* Neither the scheduler nor a direct SUBMIT writes the ring. */
		qnpu_device_hold_ring(qdev, true);
		kthread_park(qdev->sched.thread);
		qnpu_job_check_hang(qdev);
		kthread_unpark(qdev->sched.thread);
		qnpu_device_hold_ring(qdev, false);
	}
	if (!READ_ONCE(qdev->lost))
		qnpu_job_tdr_rearm(qdev);
	drm_dev_exit(idx);
}

/*
 * A job that writes the context's new mappings, or whose in-sync is an
 * earlier job of its own file, waits for the context's previous job to
 * leave the device: its hardware fence (the scheduler would not wait for
 * a fence of the job's own entity, and a failed in-sync must be known
 * before the job runs).
 */
static struct dma_fence *qnpu_job_dependency(struct drm_sched_job *sched_job,
					     struct drm_sched_entity *entity)
{
	struct qnpu_job *job = to_qnpu_job(sched_job);
	struct qnpu_device *qdev = job->qdev;
	struct dma_fence *fence = NULL;
	unsigned long flags;

	if (!job->apply_maps && !job->wait_prev)
		return NULL;
	spin_lock_irqsave(&qdev->job_lock, flags);
	if (job->ctx->last_hw && !dma_fence_is_signaled(job->ctx->last_hw))
		fence = dma_fence_get(job->ctx->last_hw);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	return fence;
}

static enum drm_gpu_sched_stat qnpu_job_timedout(struct drm_sched_job *bad)
{
	struct qnpu_job *job = to_qnpu_job(bad);
	struct qnpu_device *qdev = job->qdev;
	struct drm_gpu_scheduler *sched = &qdev->sched;
	int idx;

	if (!drm_dev_enter(&qdev->ddev, &idx)) {
		/*
		 * Removal: qnpu_device_fini() ends every job. The scheduler
		 * took the job off its pending list for us; put it back where
		 * fini finds it.
		 */
		spin_lock(&sched->job_list_lock);
		list_add(&bad->list, &sched->pending_list);
		spin_unlock(&sched->job_list_lock);
		return DRM_GPU_SCHED_STAT_ENODEV;
	}

	/* Neither the scheduler nor a direct SUBMIT writes the ring now. */
	qnpu_device_hold_ring(qdev, true);
	drm_sched_stop(sched, bad);
	/*
	 * Hung is the oldest job on the device, once it has run the whole
	 * timeout: @bad may wait behind a direct job.
	 */
	qnpu_job_check_hang(qdev);

	/*
	 * Re-runs the pending jobs: the ones on the device or back in the
	 * backlog keep their place, the ones with a result only report it.
	 */
	drm_sched_resubmit_jobs(sched);
	drm_sched_start(sched, true);
	qnpu_device_hold_ring(qdev, false);
	drm_dev_exit(idx);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void qnpu_job_put_bos(struct qnpu_job *job)
{
	unsigned int i;

	/* The info BO's kernel mapping is the BO's (qnpu_job_map_info()). */
	if (job->info_obj)
		drm_gem_object_put(job->info_obj);
	for (i = 0; i < job->bo_count; i++)
		drm_gem_object_put(job->bos[i]);
	if (job->bos != job->bos_inline)
		kvfree(job->bos);
	if (job->in_fences) {
		for (i = 0; i < job->in_count; i++)
			dma_fence_put(job->in_fences[i]);
		kfree(job->in_fences);
	}
}

/* The job's memory: with its fence if it has one. */
static void qnpu_job_free_mem(struct qnpu_job *job)
{
	atomic_dec(&qnpu_live_jobs);
	if (job->hw_fence_init)
		dma_fence_put(&job->hw_fence);
	else
		kfree(job);
}

/* @n released jobs of @ctx end: their count and references. */
static void qnpu_ctx_jobs_end(struct qnpu_ctx *ctx, unsigned int n)
{
	if (!n)
		return;
	qnpu_ctx_job_end(ctx, n);
	qnpu_ctx_put_many(ctx, n);
}

/* What a finished job holds but its context; frees it. */
static void qnpu_job_release_own(struct qnpu_job *job)
{
	if (job->direct)
		atomic_dec(&job->qdev->direct_live);
	qnpu_job_put_bos(job);
	qnpu_job_free_mem(job);
}

/**
 * qnpu_job_release() - drop what a finished job holds
 * @job: the job; the device can no longer reach its memory
 */
void qnpu_job_release(struct qnpu_job *job)
{
	struct qnpu_ctx *ctx = job->ctx;

	qnpu_job_release_own(job);
	qnpu_ctx_jobs_end(ctx, 1);
}

/**
 * qnpu_job_release_list() - qnpu_job_release() every job on @list
 * @list: finished jobs, on their node; emptied
 *
 * A run of one context's jobs (a batch) ends its count at once.
 */
void qnpu_job_release_list(struct list_head *list)
{
	struct qnpu_job *job, *tmp;
	struct qnpu_ctx *ctx = NULL;
	unsigned int n = 0;

	list_for_each_entry_safe(job, tmp, list, node) {
		list_del_init(&job->node);
		if (job->ctx != ctx) {
			qnpu_ctx_jobs_end(ctx, n);
			ctx = job->ctx;
			n = 0;
		}
		n++;
		qnpu_job_release_own(job);
	}
	qnpu_ctx_jobs_end(ctx, n);
}

static void qnpu_job_free(struct drm_sched_job *sched_job)
{
	struct qnpu_job *job = to_qnpu_job(sched_job);
	struct qnpu_device *qdev = job->qdev;
	unsigned long flags;

	spin_lock_irqsave(&qdev->job_lock, flags);
	qnpu_job_mark_run(job);
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	/*
	 * Ended without a result (the device removed while it waited): its
	 * fence still ends, once.
	 */
	if (job->hw_fence_init && !job->has_result) {
		qnpu_job_complete(job, DRM_QNPU_JOB_CANCELED, NULL);
		qnpu_job_end_fence(job);
	}
	drm_sched_job_cleanup(sched_job);
	/*
	 * A job freed without running (its killed file's queue dropped) may
	 * be the one whose doorbell an earlier entry was waiting for.
	 */
	qnpu_device_flush_doorbell(qdev);
	if (job->quarantine) {
		spin_lock_irqsave(&qdev->job_lock, flags);
		list_add_tail(&job->node, &qdev->quarantine);
		qdev->quarantined++;
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		return;
	}
	qnpu_job_release(job);
}

/**
 * qnpu_job_fail() - end a job the device will not complete
 * @job: the job, on the device's list, the backlog or the dropped list
 * @status: DRM_QNPU_JOB_*, its result unless it has one already
 * @lost: the device is lost and may still reach its memory: quarantine it
 *
 * Takes it off its list, records the result, ends its fence and hands it
 * to whoever releases it. The caller fixes the list's count. Under
 * qdev->job_lock.
 */
void qnpu_job_fail(struct qnpu_job *job, u32 status, bool lost)
{
	list_del_init(&job->node);
	job->on_device = false;
	job->in_backlog = false;
	if (lost)
		job->quarantine = true;
	if (!job->has_result)
		qnpu_job_complete(job, status, NULL);
	qnpu_job_end_fence(job);
	qnpu_job_off_device(job, lost);
}

/**
 * qnpu_job_off_device() - a direct job left the device (or the backlog)
 * @job: the job, its fence ended
 * @lost: the device is lost: quarantine it instead of releasing it
 *
 * Nothing for a job the scheduler owns (free_job releases it). A direct
 * one is released in process context: the next SUBMIT or BO_WAIT, or
 * @reap_work shortly after. Under qdev->job_lock.
 */
void qnpu_job_off_device(struct qnpu_job *job, bool lost)
{
	struct qnpu_device *qdev = job->qdev;

	if (!job->direct)
		return;
	if (lost) {
		job->quarantine = true;
		list_add_tail(&job->node, &qdev->quarantine);
		qdev->quarantined++;
		return;
	}
	list_add_tail(&job->node, &qdev->reap);
	if (qdev->running)
		queue_delayed_work(system_wq, &qdev->reap_work,
				   msecs_to_jiffies(10));
}

/**
 * qnpu_job_reap() - release the direct jobs that left the device
 * @qdev: the device
 *
 * Process context. A job whose SUBMIT still holds its BOs' reservations
 * stays for that SUBMIT's own call.
 */
void qnpu_job_reap(struct qnpu_device *qdev)
{
	struct qnpu_job *job, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	if (list_empty_careful(&qdev->reap))
		return;
	spin_lock_irqsave(&qdev->job_lock, flags);
	list_for_each_entry_safe(job, tmp, &qdev->reap, node)
		if (!job->committing)
			list_move_tail(&job->node, &list);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	qnpu_job_release_list(&list);
}

/**
 * qnpu_job_reap_work() - release direct jobs nobody else released
 * @work: qdev->reap_work
 */
void qnpu_job_reap_work(struct work_struct *work)
{
	qnpu_job_reap(container_of(to_delayed_work(work), struct qnpu_device,
				   reap_work));
}

/**
 * qnpu_job_cancel_killed() - a killed file's jobs still in the backlog
 *	do not run
 * @ctx: the file's context
 *
 * They never reached the device: CANCELED, like its jobs the scheduler
 * had not run. Its jobs on the device run to their end.
 */
void qnpu_job_cancel_killed(struct qnpu_ctx *ctx)
{
	struct qnpu_device *qdev = ctx->qdev;
	struct qnpu_job *job, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&qdev->job_lock, flags);
	list_for_each_entry_safe(job, tmp, &qdev->backlog, node) {
		if (job->ctx != ctx)
			continue;
		qnpu_job_fail(job, DRM_QNPU_JOB_CANCELED, false);
		qdev->backlog_count--;
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

const struct drm_sched_backend_ops qnpu_sched_ops = {
	.dependency = qnpu_job_dependency,
	.run_job = qnpu_job_run,
	.timedout_job = qnpu_job_timedout,
	.free_job = qnpu_job_free,
};

static int qnpu_ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A BO the job may use: one of the submitting file's own context. GEM_FLINK
 * / GEM_OPEN or PRIME can give a file a handle to another file's BO, which
 * is mapped in that file's address space only.
 */
static bool qnpu_job_bo_ok(struct drm_device *ddev, struct qnpu_file *qfile,
			   struct drm_gem_object *obj, const char *what)
{
	if (to_qnpu_bo(obj)->ctx == qfile->ctx)
		return true;
	drm_dbg(ddev, "submit: %s BO belongs to another file\n", what);
	return false;
}

/*
 * The user's BOs plus the command BO and the info BO, sorted and without
 * duplicates (each reservation is locked once); the job's fence goes into
 * every one of them.
 */
/*
 * Look @count handles up under one hold of the file's handle table (not
 * a lock round trip each), stopping at the first one that names nothing.
 * Return: how many were found, each with a reference, in @objs.
 */
static unsigned int qnpu_gem_lookup_many(struct drm_file *file,
					 const u32 *handles,
					 struct drm_gem_object **objs,
					 unsigned int count)
{
	unsigned int i;

	spin_lock(&file->table_lock);
	for (i = 0; i < count; i++) {
		objs[i] = idr_find(&file->object_idr, handles[i]);
		if (!objs[i])
			break;
		drm_gem_object_get(objs[i]);
	}
	spin_unlock(&file->table_lock);
	return i;
}

/* Handles copied and looked up at a time (on the stack). */
#define QNPU_LOOKUP_CHUNK	16

static int qnpu_job_lookup_bos(struct drm_device *ddev, struct drm_file *file,
			       struct drm_qnpu_submit *args,
			       struct qnpu_job *job,
			       struct drm_gem_object *cmd_obj)
{
	u32 __user *uhandles = u64_to_user_ptr(args->bo_handles);
	struct qnpu_file *qfile = file->driver_priv;
	u32 handles[QNPU_LOOKUP_CHUNK];
	struct drm_gem_object **bos;
	unsigned int i, k, m, found, n = 0;

	/* Most jobs list a few BOs: no allocation for those. */
	if (args->bo_count + 2 <= ARRAY_SIZE(job->bos_inline)) {
		bos = job->bos_inline;
	} else {
		bos = kvcalloc(args->bo_count + 2, sizeof(*bos), GFP_KERNEL);
		if (!bos)
			return -ENOMEM;
	}
	job->bos = bos;
	for (i = 0; i < args->bo_count; i += m) {
		m = min_t(unsigned int, args->bo_count - i, QNPU_LOOKUP_CHUNK);
		/* A fault inside the chunk: as far as it reads, one by one. */
		if (copy_from_user(handles, uhandles + i,
				   m * sizeof(*handles))) {
			for (k = 0; k < m; k++)
				if (get_user(handles[k], uhandles + i + k))
					break;
		} else {
			k = m;
		}
		found = qnpu_gem_lookup_many(file, handles, bos + n, k);
		job->bo_count = n + found;
		for (; n < job->bo_count; n++)
			if (!qnpu_job_bo_ok(ddev, qfile, bos[n], "listed"))
				return -EINVAL;
		if (found < k) {
			drm_dbg(ddev, "submit: no BO %u\n", handles[found]);
			return -ENOENT;
		}
		if (k < m) {
			drm_dbg(ddev, "submit: bad bo_handles pointer\n");
			return -EFAULT;
		}
	}
	drm_gem_object_get(cmd_obj);
	bos[n++] = cmd_obj;
	job->bo_count = n;
	if (job->info_obj) {
		drm_gem_object_get(job->info_obj);
		bos[n++] = job->info_obj;
		job->bo_count = n;
	}

	if (n == 2 && bos[0] > bos[1])
		swap(bos[0], bos[1]);
	else if (n > 2)
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

/*
 * Make our scheduler wait for @fence to signal, not just for its job to
 * reach the device (the job's result decides whether the waiter runs, or
 * the waiter changes the page tables). Only our own scheduler's finished
 * fences: the flag bit means something else on anybody else's fence.
 */
static void qnpu_fence_dont_pipeline(struct qnpu_device *qdev,
				     struct dma_fence *fence)
{
	struct drm_sched_fence *s_fence = to_drm_sched_fence(fence);

	if (s_fence && s_fence->sched == &qdev->sched &&
	    fence == &s_fence->finished)
		set_bit(DRM_SCHED_FENCE_DONT_PIPELINE, &fence->flags);
}

/*
 * A finished fence of an earlier job of @job's own file, not signaled yet:
 * the scheduler ignores such a dependency (same entity, FIFO), so the job
 * waits in qnpu_job_dependency() instead.
 */
static bool qnpu_fence_own_entity(struct qnpu_job *job,
				  struct drm_sched_entity *entity,
				  struct dma_fence *fence)
{
	struct drm_sched_fence *s_fence = to_drm_sched_fence(fence);

	return s_fence && s_fence->sched == &job->qdev->sched &&
	       fence == &s_fence->finished &&
	       fence->context == entity->fence_context + 1 &&
	       !dma_fence_is_signaled(fence);
}

struct qnpu_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

/*
 * The in-syncs' fences, in @job->in_fences; they become scheduler
 * dependencies only if the job goes through the scheduler
 * (qnpu_job_sched_init()).
 */
static int qnpu_job_get_in_syncs(struct drm_device *ddev,
				 struct drm_file *file,
				 struct drm_qnpu_submit *args,
				 struct qnpu_job *job)
{
	struct qnpu_file *qfile = file->driver_priv;
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
		qnpu_fence_dont_pipeline(job->qdev,
					 dma_fence_chain_contained(fence));
		if (qnpu_fence_own_entity(job, &qfile->entity,
					  dma_fence_chain_contained(fence)))
			job->wait_prev = true;
		job->in_fences[job->in_count++] = fence;
	}
	return 0;
}

/*
 * Make @job a scheduler job of @qfile's entity, its in-syncs and its BOs'
 * earlier fences its dependencies (the jobs of a batch are ordered by the
 * ring and the entity instead). BOs locked.
 */
static int qnpu_job_sched_init(struct qnpu_job *job, struct qnpu_file *qfile)
{
	struct dma_fence *fence;
	unsigned int i;
	int ret;

	ret = drm_sched_job_init(&job->base, &qfile->entity, qfile);
	if (ret)
		return ret;
	for (i = 0; i < job->in_count; i++) {
		/* The dependency takes a reference of its own. */
		fence = dma_fence_get(job->in_fences[i]);
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			return ret;
	}
	for (i = 0; i < job->bo_count; i++) {
		ret = drm_sched_job_add_implicit_dependencies(&job->base,
							      job->bos[i],
							      true);
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

/* The fields of one job, as a single SUBMIT or a batch element has them. */
static int qnpu_submit_check(struct drm_device *ddev,
			     struct drm_qnpu_submit *args)
{
	if (args->pad) {
		drm_dbg(ddev, "submit: pad not zero\n");
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

/*
 * The info BO stays mapped in the kernel from its first use as an info BO
 * until it is torn down (qnpu_gem_teardown()): a vmap and vunmap per job
 * cost more than the rest of a small job's submission.
 */
static bool qnpu_job_shares_info(struct drm_qnpu_submit *args,
				 struct qnpu_job *prev)
{
	return prev && prev->info_obj && prev->info_handle == args->info_handle;
}

/* @found: the info BO if the caller looked it up (its reference), or NULL */
static int qnpu_job_map_info(struct drm_device *ddev, struct drm_file *file,
			     struct drm_qnpu_submit *args,
			     struct qnpu_job *job, struct qnpu_job *prev,
			     struct drm_gem_object *found)
{
	struct qnpu_bo *bo;
	struct iosys_map map;
	int ret;

	/* The jobs of a batch often share their info BO (checked already). */
	if (qnpu_job_shares_info(args, prev)) {
		job->info_obj = prev->info_obj;
		drm_gem_object_get(job->info_obj);
		job->info_handle = args->info_handle;
		goto check_offset;
	}
	job->info_obj = found ? found : drm_gem_object_lookup(file,
							      args->info_handle);
	if (!job->info_obj) {
		drm_dbg(ddev, "submit: no info BO %u\n", args->info_handle);
		return -ENOENT;
	}
	if (!qnpu_job_bo_ok(ddev, file->driver_priv, job->info_obj, "info"))
		return -EINVAL;
	job->info_handle = args->info_handle;
check_offset:
	if (args->info_offset > job->info_obj->size ||
	    job->info_obj->size - args->info_offset <
	    sizeof(struct drm_qnpu_job_info)) {
		drm_dbg(ddev, "submit: job info past the end of its BO\n");
		return -EINVAL;
	}
	bo = to_qnpu_bo(job->info_obj);
	if (!READ_ONCE(bo->vaddr)) {
		ret = drm_gem_shmem_vmap(&bo->base, &map);
		if (ret)
			return ret;
		/* Another submit mapped it first: same address, one count. */
		if (cmpxchg(&bo->vaddr, NULL, map.vaddr))
			drm_gem_shmem_vunmap(&bo->base, &map);
	}
	job->info_vaddr = READ_ONCE(bo->vaddr);
	job->info_offset = args->info_offset;
	return 0;
}

/* A job being submitted, until the scheduler owns it. */
struct qnpu_submit_job {
	struct qnpu_job *job;
	struct drm_gem_object *cmd_obj;
	struct qnpu_out_sync *out;
	u32 out_count;
	struct dma_fence *finished;
	/* Lists the BOs of the batch's previous job. */
	bool same_bos;
	/* Its info BO, looked up with the command BO, until it is checked. */
	struct drm_gem_object *info_found;
};

static void qnpu_submit_job_free(struct qnpu_submit_job *sj)
{
	if (sj->out)
		qnpu_job_put_out_syncs(sj->out, sj->out_count);
	if (sj->job) {
		if (sj->job->base.s_fence)
			drm_sched_job_cleanup(&sj->job->base);
		qnpu_job_put_bos(sj->job);
		qnpu_job_free_mem(sj->job);
	}
	if (sj->cmd_obj)
		drm_gem_object_put(sj->cmd_obj);
	if (sj->info_found)
		drm_gem_object_put(sj->info_found);
}

/*
 * Everything about one job that can fail, before anything is queued: its
 * fields, its handles and syncobjs, its scheduler job and dependencies.
 * On error @sj holds what was taken; qnpu_submit_job_free() drops it.
 */
static int qnpu_submit_job_prepare(struct drm_device *ddev,
				   struct drm_file *file,
				   struct drm_qnpu_submit *args,
				   struct qnpu_submit_job *sj,
				   struct drm_qnpu_submit *prev_args,
				   struct qnpu_submit_job *prev)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct qnpu_file *qfile = file->driver_priv;
	struct drm_gem_object *objs[2] = { };
	u32 handles[2];
	struct qnpu_job *job;
	int ret;

	ret = qnpu_submit_check(ddev, args);
	if (ret)
		return ret;
	/* The jobs of a batch often share their command BO. */
	if (prev && prev_args->cmd_handle == args->cmd_handle) {
		sj->cmd_obj = prev->cmd_obj;
		drm_gem_object_get(sj->cmd_obj);
	} else {
		/* With the info BO if it needs a look-up too; checked later. */
		handles[0] = args->cmd_handle;
		handles[1] = args->info_handle;
		qnpu_gem_lookup_many(file, handles, objs,
				     args->info_handle &&
				     !qnpu_job_shares_info(args, prev ?
							   prev->job : NULL) ?
				     2 : 1);
		sj->cmd_obj = objs[0];
		sj->info_found = objs[1];
	}
	if (!sj->cmd_obj) {
		drm_dbg(ddev, "submit: no command BO %u\n", args->cmd_handle);
		return -ENOENT;
	}
	if (!qnpu_job_bo_ok(ddev, qfile, sj->cmd_obj, "command"))
		return -EINVAL;
	if (args->cmd_offset > sj->cmd_obj->size ||
	    sj->cmd_obj->size - args->cmd_offset < args->cmd_size) {
		drm_dbg(ddev, "submit: commands past the end of their BO\n");
		return -EINVAL;
	}

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	atomic_inc(&qnpu_live_jobs);
	sj->job = job;
	job->qdev = qdev;
	INIT_LIST_HEAD(&job->node);
	job->cmd_va = to_qnpu_bo(sj->cmd_obj)->node.start + args->cmd_offset;
	job->cmd_count = args->cmd_size / QNPU_CMD_BYTES;
	job->max_kcycles = args->max_kcycles;

	if (args->info_handle) {
		ret = qnpu_job_map_info(ddev, file, args, job,
					prev ? prev->job : NULL,
					sj->info_found);
		sj->info_found = NULL;
		if (ret)
			return ret;
	}
	ret = qnpu_job_lookup_bos(ddev, file, args, job, sj->cmd_obj);
	if (ret)
		return ret;
	if (args->out_sync_count) {
		sj->out = kcalloc(args->out_sync_count, sizeof(*sj->out),
				  GFP_KERNEL);
		if (!sj->out)
			return -ENOMEM;
		sj->out_count = args->out_sync_count;
		ret = qnpu_job_get_out_syncs(ddev, file, args, sj->out);
		if (ret)
			return ret;
	}
	return qnpu_job_get_in_syncs(ddev, file, args, job);
}

/*
 * Every dependency of @job is a fence of our own scheduler: nothing but
 * the file's earlier jobs can hold it back once it is queued.
 */
static bool qnpu_job_deps_local(struct qnpu_job *job)
{
	struct dma_fence *fence;
	unsigned long index;

	if (job->in_count)
		return false;
	xa_for_each(&job->base.dependencies, index, fence) {
		struct drm_sched_fence *s_fence = to_drm_sched_fence(fence);

		if (!s_fence || s_fence->sched != &job->qdev->sched)
			return false;
	}
	return true;
}

/*
 * @fence is a job's that already has its place in ring order: a direct
 * or written job's hardware fence, or a scheduler job that run_job
 * queued (its parent is set after that). A job queued after it runs
 * after it, as the scheduler pipelines its own jobs.
 */
static bool qnpu_fence_queued(struct qnpu_device *qdev,
			      struct dma_fence *fence)
{
	struct drm_sched_fence *s_fence;

	if (fence->ops == &qnpu_fence_ops)
		return fence->context == qdev->fence_context;
	s_fence = to_drm_sched_fence(fence);
	return s_fence && s_fence->sched == &qdev->sched &&
	       fence == &s_fence->finished && READ_ONCE(s_fence->parent);
}

/* Every in-sync of @job signaled and none failed. */
static bool qnpu_job_syncs_done(struct qnpu_job *job)
{
	unsigned int i;

	if (job->wait_prev)
		return false;
	for (i = 0; i < job->in_count; i++)
		if (!dma_fence_is_signaled(job->in_fences[i]))
			return false;
	return !qnpu_job_dependency_failed(job);
}

/*
 * Every fence of @bos (the earlier submissions') signaled or ahead in ring
 * order. The submission's BOs, each once (the jobs of a batch share them,
 * and their own fences are not in yet); locked.
 */
static bool qnpu_bos_unblocked(struct qnpu_device *qdev,
			       struct drm_gem_object **bos, u32 count)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;
	unsigned int i;

	for (i = 0; i < count; i++)
		dma_resv_for_each_fence(&cursor, bos[i]->resv,
					DMA_RESV_USAGE_READ, fence)
			if (!dma_fence_is_signaled(fence) &&
			    !qnpu_fence_queued(qdev, fence))
				return false;
	return true;
}

/*
 * Nothing but the ring holds the submission back (qnpu_job_syncs_done()
 * for each job, qnpu_bos_unblocked()) and no earlier job of its file
 * waits in the scheduler (it would be overtaken), nobody else owns the
 * ring (timeout handler, heartbeat, probe), no reset is under way: SUBMIT
 * queues the jobs for the ring itself and the driver owns them from here
 * (qnpu_submit_direct()).
 * Under job_lock.
 */
static bool qnpu_job_may_direct(struct qnpu_ctx *ctx)
{
	struct qnpu_device *qdev = ctx->qdev;

	return !ctx->unrun && !READ_ONCE(ctx->killed) && qdev->running &&
	       !qdev->lost && !qdev->cq_corrupt && !qdev->in_reset &&
	       !qdev->ring_hold;
}

/* @job lists exactly @other's (sorted) BOs. */
static bool qnpu_job_same_bos(struct qnpu_job *job, struct qnpu_job *other)
{
	return job->bo_count == other->bo_count &&
	       !memcmp(job->bos, other->bos, job->bo_count * sizeof(*job->bos));
}

/*
 * Queue the submission's jobs past the scheduler: the scheduler would
 * preempt the submitter to write each job (run_job) and again to free it
 * (free_job), a context switch each way per job. Each job gets its place
 * in ring order and its hardware fence, which is its only fence (BOs,
 * out-syncs); one doorbell for all. The device may run and complete them
 * before we return: @committing keeps them from being released while
 * the caller still holds their BOs' reservations. Under job_lock.
 */
static void qnpu_submit_direct(struct qnpu_submit_job *sjs, unsigned int n)
{
	struct qnpu_device *qdev = sjs[0].job->qdev;
	struct qnpu_job *job;
	unsigned int i, j;
	bool written = false;
	u64 seqno;

	/*
	 * Their ring fences' seqnos at once, in ring order: every ring
	 * fence is made under job_lock (qnpu_job_queue()).
	 */
	spin_lock(&qdev->fence_lock);
	seqno = qdev->fence_seqno + 1;
	qdev->fence_seqno += n;
	spin_unlock(&qdev->fence_lock);
	atomic_add(n, &qdev->direct_live);
	for (i = 0; i < n; i++) {
		job = sjs[i].job;
		job->direct = true;
		job->committing = true;
		written |= qnpu_job_queue(job, seqno + i);
		sjs[i].finished = dma_fence_get(&job->hw_fence);
		/*
		 * A BO keeps one fence of a context, the latest: the next
		 * job's fence would replace this one in the same BOs.
		 */
		if (i + 1 < n && sjs[i + 1].same_bos)
			continue;
		for (j = 0; j < job->bo_count; j++)
			dma_resv_add_fence(job->bos[j]->resv, sjs[i].finished,
					   DMA_RESV_USAGE_WRITE);
	}
	if (written)
		qnpu_device_doorbell(qdev);
	qdev->direct_jobs += n;
}

/*
 * The BOs of every job of the submission, each once, for one ww acquire
 * (the jobs of a batch share BOs: locking them job by job would deadlock).
 */
static int qnpu_submit_union_bos(struct qnpu_submit_job *sjs, unsigned int n,
				 struct drm_gem_object ***out, u32 *count)
{
	struct drm_gem_object **bos;
	unsigned int i, j, total = 0;

	for (i = 1, j = 0; i < n; i++) {
		sjs[i].same_bos = qnpu_job_same_bos(sjs[i].job,
						    sjs[i - 1].job);
		j += !sjs[i].same_bos;
	}
	/* One list for all (a single job's is sorted and unique already). */
	if (!j) {
		*out = sjs[0].job->bos;
		*count = sjs[0].job->bo_count;
		return 0;
	}
	for (i = 0; i < n; i++)
		total += sjs[i].job->bo_count;
	bos = kvmalloc_array(total, sizeof(*bos), GFP_KERNEL);
	if (!bos)
		return -ENOMEM;
	/* A job with its predecessor's (sorted) list adds nothing. */
	for (i = 0, total = 0; i < n; i++) {
		struct qnpu_job *job = sjs[i].job;

		if (sjs[i].same_bos)
			continue;
		for (j = 0; j < job->bo_count; j++)
			bos[total++] = job->bos[j];
	}
	sort(bos, total, sizeof(*bos), qnpu_ptr_cmp, NULL);
	for (i = 1, j = 1; i < total; i++)
		if (bos[i] != bos[j - 1])
			bos[j++] = bos[i];
	*out = bos;
	*count = total ? j : 0;
	return 0;
}

/* The jobs' ids (consecutive), their context and its job count. */
static void qnpu_submit_ids(struct qnpu_device *qdev, struct qnpu_ctx *ctx,
			    struct qnpu_submit_job *sjs, unsigned int n,
			    u64 *first_id)
{
	unsigned int i;
	u64 id;

	id = atomic64_add_return(n, &qdev->job_seqno) - n + 1;
	*first_id = id;
	/* A reference and an active count per job, each job drops its own. */
	refcount_add(n, &ctx->refcount.refcount);
	qnpu_ctx_job_begin(ctx, n);
	for (i = 0; i < n; i++) {
		sjs[i].job->ctx = ctx;
		sjs[i].job->id = id + i;
	}
}

/*
 * Queue the prepared jobs, in order, all or none: the only steps that can
 * still fail (the file's job limit, locking and reserving the BOs) come
 * before the first job is armed.
 */
static int qnpu_submit_commit(struct drm_device *ddev, struct drm_file *file,
			      struct qnpu_submit_job *sjs, unsigned int n,
			      u64 *first_id)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct qnpu_file *qfile = file->driver_priv;
	struct qnpu_ctx *ctx = qfile->ctx;
	struct drm_gem_object **bos;
	struct ww_acquire_ctx acquire;
	struct qnpu_job *job;
	unsigned long flags;
	unsigned int i, j;
	bool direct, staged, union_alloc;
	u32 bo_count;
	int ret, idx;

	ret = qnpu_submit_union_bos(sjs, n, &bos, &bo_count);
	if (ret)
		return ret;
	union_alloc = bos != sjs[0].job->bos;
	if (!drm_dev_enter(ddev, &idx)) {
		ret = -ENODEV;
		goto err_free_bos;
	}
	/*
	 * One submission of the file at a time from here to the push: jobs
	 * reach the entity in the order they were armed, and the context's
	 * idle state (mappings, teardown) cannot change under us.
	 */
	mutex_lock(&ctx->submit_lock);
	if (ctx->active + n > qnpu_max_jobs_per_file) {
		drm_dbg(ddev, "submit: %u jobs queued, %u more over the limit\n",
			ctx->active, n);
		ret = -EBUSY;
		goto err_unlock_submit;
	}

	ret = drm_gem_lock_reservations(bos, bo_count, &acquire);
	if (ret)
		goto err_unlock_submit;
	for (i = 0; i < bo_count; i++) {
		ret = dma_resv_reserve_fences(bos[i]->resv, n);
		if (ret)
			goto err_unlock;
	}

	/*
	 * Past the scheduler if nothing but the ring holds the jobs back and
	 * no new mapping has to wait for a job of the context. Nothing fails
	 * on that path: if it is not taken, nothing was queued yet.
	 */
	staged = qnpu_ctx_has_staged(ctx);
	direct = READ_ONCE(qnpu_direct_submit) && !(ctx->active && staged);
	for (i = 0; direct && i < n; i++)
		direct = qnpu_job_syncs_done(sjs[i].job);
	direct = direct && qnpu_bos_unblocked(qdev, bos, bo_count);
	if (direct) {
		/*
		 * No job of the context is on the device. (A BO staged since
		 * is not one of ours: we looked our BOs up before.)
		 */
		if (staged)
			qnpu_mmu_apply(ctx);
		spin_lock_irqsave(&qdev->job_lock, flags);
		direct = qnpu_job_may_direct(ctx);
		if (direct) {
			qnpu_submit_ids(qdev, ctx, sjs, n, first_id);
			qnpu_submit_direct(sjs, n);
		}
		spin_unlock_irqrestore(&qdev->job_lock, flags);
	}
	if (direct) {
		drm_gem_unlock_reservations(bos, bo_count, &acquire);
		spin_lock_irqsave(&qdev->job_lock, flags);
		for (i = 0; i < n; i++) {
			sjs[i].job->committing = false;
			sjs[i].job = NULL;
		}
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		/* Ended already: a reaper that ran meanwhile left them. */
		qnpu_job_reap(qdev);
		goto out;
	}

	for (i = 0; i < n; i++) {
		ret = qnpu_job_sched_init(sjs[i].job, qfile);
		if (ret)
			goto err_unlock;
	}
	/*
	 * Nothing fails from here on. New BOs are mapped now if no job of
	 * the context can be on the device, else by the first job once the
	 * previous one has left it (qnpu_job_dependency()); the batch's later
	 * jobs run after it.
	 */
	if (qnpu_ctx_has_staged(ctx)) {
		if (!ctx->active)
			qnpu_mmu_apply(ctx);
		else
			sjs[0].job->apply_maps = true;
	}
	qnpu_submit_ids(qdev, ctx, sjs, n, first_id);
	for (i = 0; i < n; i++) {
		job = sjs[i].job;
		/*
		 * A job in the middle of a batch leaves the doorbell to the
		 * next one if nothing but the ring holds that one back.
		 */
		job->db_defer = i > 0 && i + 1 < n &&
				qnpu_job_deps_local(sjs[i + 1].job);
		drm_sched_job_arm(&job->base);
		sjs[i].finished = dma_fence_get(&job->base.s_fence->finished);
		for (j = 0; j < job->bo_count; j++)
			dma_resv_add_fence(job->bos[j]->resv, sjs[i].finished,
					   DMA_RESV_USAGE_WRITE);
	}
	drm_gem_unlock_reservations(bos, bo_count, &acquire);
	for (i = 0; i < n; i++) {
		job = sjs[i].job;
		spin_lock_irqsave(&qdev->job_lock, flags);
		job->unrun = true;
		ctx->unrun++;
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		/* From here on the scheduler owns (and may free) the job. */
		drm_sched_entity_push_job(&job->base);
		sjs[i].job = NULL;
	}
out:
	mutex_unlock(&ctx->submit_lock);
	drm_dev_exit(idx);
	if (union_alloc)
		kvfree(bos);
	return 0;

err_unlock:
	drm_gem_unlock_reservations(bos, bo_count, &acquire);
err_unlock_submit:
	mutex_unlock(&ctx->submit_lock);
	drm_dev_exit(idx);
err_free_bos:
	if (union_alloc)
		kvfree(bos);
	return ret;
}

static void qnpu_submit_signal_out(struct qnpu_submit_job *sj)
{
	struct qnpu_out_sync *out = sj->out;
	unsigned int i;

	for (i = 0; i < sj->out_count; i++) {
		if (out[i].chain) {
			drm_syncobj_add_point(out[i].syncobj, out[i].chain,
					      sj->finished, out[i].point);
			out[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(out[i].syncobj,
						  sj->finished);
		}
	}
}

/*
 * The outer struct of a batch carries nothing but the batch; its elements
 * are single jobs.
 */
static int qnpu_submit_check_batch(struct drm_device *ddev,
				   struct drm_qnpu_submit *args)
{
	if (args->cmd_handle || args->cmd_offset || args->cmd_size ||
	    args->bo_handles || args->bo_count || args->in_sync_count ||
	    args->in_syncs || args->out_syncs || args->out_sync_count ||
	    args->info_handle || args->info_offset || args->max_kcycles ||
	    args->pad || args->job_id) {
		drm_dbg(ddev, "submit: job fields in a batch's outer struct\n");
		return -EINVAL;
	}
	if (!args->batch_count || args->batch_count > DRM_QNPU_MAX_BATCH) {
		drm_dbg(ddev, "submit: batch_count %u\n", args->batch_count);
		return -EINVAL;
	}
	if (args->batch_stride != sizeof(struct drm_qnpu_submit)) {
		drm_dbg(ddev, "submit: batch_stride %u\n", args->batch_stride);
		return -EINVAL;
	}
	if (!args->batch) {
		drm_dbg(ddev, "submit: batch_count without batch\n");
		return -EINVAL;
	}
	return 0;
}

static int qnpu_submit_check_element(struct drm_device *ddev,
				     struct drm_qnpu_submit *e, unsigned int i)
{
	if (e->flags || e->job_id || e->batch || e->batch_count ||
	    e->batch_stride) {
		drm_dbg(ddev, "submit: batch element %u: flags, job_id or batch fields set\n",
			i);
		return -EINVAL;
	}
	return 0;
}

int qnpu_ioctl_submit(struct drm_device *ddev, void *data,
		      struct drm_file *file)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct drm_qnpu_submit *args = data;
	struct drm_qnpu_submit *descs = args;
	struct qnpu_submit_job one = { }, *sjs = &one;
	unsigned int i, n = 1;
	u64 id;
	int ret;

	if (args->flags & ~DRM_QNPU_SUBMIT_FLAGS) {
		drm_dbg(ddev, "submit: unknown flags %#x\n", args->flags);
		return -EINVAL;
	}
	if (!(args->flags & DRM_QNPU_SUBMIT_BATCH) &&
	    (args->batch || args->batch_count || args->batch_stride)) {
		drm_dbg(ddev, "submit: batch fields without the batch flag\n");
		return -EINVAL;
	}
	if (args->flags & DRM_QNPU_SUBMIT_BATCH) {
		ret = qnpu_submit_check_batch(ddev, args);
		if (ret)
			return ret;
		n = args->batch_count;
	}
	if (READ_ONCE(qdev->lost))
		return -ENODEV;
	/* Direct jobs that ended count against the file's limit until then. */
	qnpu_job_reap(qdev);

	/* A single job is the ioctl's own struct, in @one. */
	if (args->flags & DRM_QNPU_SUBMIT_BATCH) {
		/* One allocation: the copied elements, then their jobs. */
		descs = kvmalloc(n * (sizeof(*descs) + sizeof(*sjs)),
				 GFP_KERNEL);
		if (!descs)
			return -ENOMEM;
		sjs = (struct qnpu_submit_job *)(descs + n);
		memset(sjs, 0, n * sizeof(*sjs));
		if (copy_from_user(descs, u64_to_user_ptr(args->batch),
				   n * sizeof(*descs))) {
			drm_dbg(ddev, "submit: bad batch pointer\n");
			ret = -EFAULT;
			goto out_free;
		}
		for (i = 0; i < n; i++) {
			ret = qnpu_submit_check_element(ddev, &descs[i], i);
			if (ret)
				goto out_free;
		}
	}

	for (i = 0; i < n; i++) {
		ret = qnpu_submit_job_prepare(ddev, file, &descs[i], &sjs[i],
					      i ? &descs[i - 1] : NULL,
					      i ? &sjs[i - 1] : NULL);
		if (ret)
			goto out_put;
	}
	ret = qnpu_submit_commit(ddev, file, sjs, n, &id);
	if (ret)
		goto out_put;
	args->job_id = id;
	for (i = 0; i < n; i++)
		qnpu_submit_signal_out(&sjs[i]);

out_put:
	for (i = 0; i < n; i++) {
		if (sjs[i].finished)
			dma_fence_put(sjs[i].finished);
		qnpu_submit_job_free(&sjs[i]);
	}
out_free:
	if (descs != args)
		kvfree(descs);
	return ret;
}
