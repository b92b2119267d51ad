// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu core, shared by the PCI and platform glue: identification, the
 * submission/completion rings, interrupts and the scheduler.
 *
 * The device acts only at a doorbell and no register has read side
 * effects: the driver writes the host-owned registers, then rings.
 */
#include <linux/bitfield.h>
#include <linux/delay.h>
#include <linux/dma-resv.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "qnpu_drv.h"
#include "qnpu_drm.h"

/**
 * qnpu_device_probe_regs() - is this register page a qnpu we can drive?
 * @dev: for messages
 * @regs: the mapped register page
 *
 * Return: true if MAGIC reads "qnpu" and the major version is known.
 */
bool qnpu_device_probe_regs(struct device *dev, void __iomem *regs)
{
	u32 magic = readl(regs + QNPU_REG_MAGIC);
	u32 version = readl(regs + QNPU_REG_VERSION);
	u32 major = FIELD_GET(QNPU_VERSION_MAJOR_MASK, version);

	if (magic != QNPU_MAGIC) {
		dev_info(dev, "no qnpu register page (magic %#010x)\n", magic);
		return false;
	}
	if (major != QNPU_VERSION_MAJOR) {
		dev_info(dev, "qnpu programming model %u.%u not supported\n",
			 major, FIELD_GET(QNPU_VERSION_MINOR_MASK, version));
		return false;
	}
	return true;
}

/**
 * qnpu_device_doorbell() - make the device look at the register page
 * @qdev: the device
 */
void qnpu_device_doorbell(struct qnpu_device *qdev)
{
	qdev->db_owed = 0;
	qdev->bus->doorbell(qdev);
}

/**
 * qnpu_device_flush_doorbell() - ring if ring entries wait for a doorbell
 * @qdev: the device
 */
void qnpu_device_flush_doorbell(struct qnpu_device *qdev)
{
	unsigned long flags;

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (qdev->db_owed && qdev->running && !qdev->lost)
		qnpu_device_doorbell(qdev);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/*
 * The device wrote ring state the driver cannot trust. Stop listening to
 * it (acknowledge and mask its interrupt, or a level interrupt would
 * storm) and have the timeout handler reset it now. Under job_lock.
 */
static void qnpu_device_cq_corrupt(struct qnpu_device *qdev, u32 count,
				   const char *what, u32 a, u32 b)
{
	dev_err_ratelimited(qdev->dev, "untrusted completion: %s %u (%u)\n",
			    what, a, b);
	qdev->bad_completions++;
	qnpu_write(qdev, QNPU_REG_IRQ_ACK, count);
	qnpu_write(qdev, QNPU_REG_CTRL, 0);
	qnpu_device_doorbell(qdev);
	if (qdev->cq_corrupt)
		return;
	WRITE_ONCE(qdev->cq_corrupt, true);
	/* In a reset already the handler looks at the flag itself. */
	if (!qdev->in_reset)
		mod_delayed_work(qdev->wq, &qdev->tdr, 0);
}

/**
 * qnpu_device_process_cq() - retire every completion the device posted
 * @qdev: the device
 *
 * Safe from the interrupt handler and from process context. Nothing the
 * device wrote is trusted: CQ_TAIL must be within the ring, a completion
 * must be for the oldest job on the device, its status one the device
 * defines, ABORTED only during a reset.
 */
void qnpu_device_process_cq(struct qnpu_device *qdev)
{
	struct qnpu_job *job;
	void __iomem *cqe;
	unsigned long flags;
	u32 count, tail, id, status;
	bool retired = false;

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (qdev->cq_corrupt)
		goto out_unlock;
	/*
	 * The device posts a completion before it counts its interrupt: every
	 * interrupt counted here has its completion below CQ_TAIL, and only
	 * those are acknowledged. A completion posted meanwhile keeps the
	 * interrupt pending (and raises a new one). readl() is ordered with
	 * the readl() after it.
	 */
	count = qnpu_read(qdev, QNPU_REG_IRQ_COUNT);
	tail = qnpu_read(qdev, QNPU_REG_CQ_TAIL);
	if (tail - qdev->cq_head > qdev->hw.cq_entries) {
		qnpu_device_cq_corrupt(qdev, count, "CQ_TAIL", tail,
				       qdev->cq_head);
		goto out_unlock;
	}
	for (; qdev->cq_head != tail; qdev->cq_head++) {
		cqe = qdev->regs + QNPU_CQ_OFFSET +
		      (qdev->cq_head % qdev->hw.cq_entries) * QNPU_CQE_BYTES;
		id = readl(cqe + QNPU_CQE_JOB_ID);
		status = readl(cqe + QNPU_CQE_STATUS);
		/* The raw round-trip probe: alone on the ring. */
		if (qdev->probe_pending && id == QNPU_PROBE_JOB_ID &&
		    list_empty(&qdev->inflight)) {
			qdev->probe_ns = ktime_get_ns();
			qdev->probe_status = status;
			qdev->probe_pending = false;
			complete(&qdev->probe_done);
			continue;
		}
		job = list_first_entry_or_null(&qdev->inflight, struct qnpu_job,
					       node);
		/* Jobs run one at a time, in ring order. */
		if (!job || lower_32_bits(job->id) != id) {
			u32 want = job ? lower_32_bits(job->id) : 0;

			qnpu_device_cq_corrupt(qdev, count, "job id", id, want);
			goto out_unlock;
		}
		if (status > QNPU_STATUS_BAD_DESC ||
		    (status == QNPU_STATUS_ABORTED && !qdev->in_reset)) {
			qnpu_device_cq_corrupt(qdev, count, "status", status,
					       id);
			goto out_unlock;
		}
		list_del_init(&job->node);
		job->on_device = false;
		qdev->ring_count--;
		retired = true;
		/*
		 * Aborted by a reset: the hung job failed, any other one is
		 * run again with the same fence (qnpu_job_recover()).
		 */
		if (status == QNPU_STATUS_ABORTED && job != qdev->hung_job) {
			list_add_tail(&job->node, &qdev->dropped);
			continue;
		}
		qnpu_job_complete(job, status == QNPU_STATUS_ABORTED ?
				  DRM_QNPU_JOB_HANG : status, cqe);
		qnpu_job_end_fence(job);
		qnpu_job_off_device(job, false);
	}
	/* The next job starts now; freed entries take waiting ones. */
	if (retired && qdev->ring_count)
		qdev->head_start = jiffies;
	if (retired && !qdev->in_reset && qnpu_job_drain_backlog(qdev))
		qdev->db_owed++;
	qnpu_write(qdev, QNPU_REG_CQ_HEAD, qdev->cq_head);
	qnpu_write(qdev, QNPU_REG_IRQ_ACK, count);
	/*
	 * CQ space and the acknowledge take effect at a doorbell, which costs
	 * a trip to the device (in co-simulation the most expensive thing a
	 * job does). A level interrupt needs it at once. A message-signalled
	 * one does not: the device sends a message per completion whatever
	 * it last sampled, and the CQ cannot fill up unseen, since every
	 * submission rings (sampling CQ_HEAD) and no more jobs than CQ
	 * entries are on the device. Ring anyway if the device says the CQ
	 * is full, or if entries wait for a doorbell.
	 */
	if (!qdev->bus->msi || qdev->db_owed ||
	    (qnpu_read(qdev, QNPU_REG_STATUS) & QNPU_STATUS_CQ_FULL_MASK))
		qnpu_device_doorbell(qdev);
out_unlock:
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/**
 * qnpu_device_poll() - poll the completion ring before sleeping
 * @qdev: the device
 * @resv: what the caller waits for
 * @deadline_ns: the caller's absolute CLOCK_MONOTONIC deadline
 *
 * Retires completions as the device posts them, for at most poll_us
 * microseconds (module parameter; 0 never polls) and never past
 * @deadline_ns, until @resv's fences have signaled. Short jobs then end
 * without waiting for the interrupt and the wake-up behind it (NVMe and
 * io_uring poll likewise). Bounded and preemptible: cond_resched() between
 * looks, and a pending signal ends it; the caller sleeps afterwards.
 */
void qnpu_device_poll(struct qnpu_device *qdev, struct dma_resv *resv,
		      s64 deadline_ns)
{
	s64 end;
	int idx;

	if (!qnpu_poll_us)
		return;
	/* The register page stays mapped while we look at it. */
	if (!drm_dev_enter(&qdev->ddev, &idx))
		return;
	end = min_t(s64, ktime_get_ns() + qnpu_poll_us * NSEC_PER_USEC,
		    deadline_ns);
	while (!dma_resv_test_signaled(resv, DMA_RESV_USAGE_READ)) {
		if (ktime_get_ns() >= end || signal_pending(current) ||
		    !READ_ONCE(qdev->running))
			break;
		/* Nothing on the device: the scheduler holds the jobs. */
		if (list_empty(&qdev->inflight) &&
		    READ_ONCE(qdev->cq_head) ==
		    qnpu_read(qdev, QNPU_REG_CQ_TAIL))
			break;
		if (!READ_ONCE(qdev->cq_corrupt) &&
		    qnpu_read(qdev, QNPU_REG_CQ_TAIL) !=
		    READ_ONCE(qdev->cq_head))
			qnpu_device_process_cq(qdev);
		cond_resched();
		cpu_relax();
	}
	drm_dev_exit(idx);
}

/**
 * qnpu_device_irq() - completion interrupt
 * @irq: the interrupt
 * @arg: the &struct qnpu_device
 *
 * Return: IRQ_HANDLED if the device had something to say.
 */
irqreturn_t qnpu_device_irq(int irq, void *arg)
{
	struct qnpu_device *qdev = arg;

	/*
	 * Not ours to handle while the device is untrusted (acknowledged and
	 * masked, reset pending): a line the device keeps asserting anyway
	 * is then disabled by the kernel instead of storming.
	 */
	if (!READ_ONCE(qdev->running) || READ_ONCE(qdev->cq_corrupt))
		return IRQ_NONE;
	atomic_long_inc(&qdev->irqs);
	if (qnpu_read(qdev, QNPU_REG_IRQ_COUNT) ==
	    qnpu_read(qdev, QNPU_REG_IRQ_ACK) &&
	    qnpu_read(qdev, QNPU_REG_CQ_TAIL) == READ_ONCE(qdev->cq_head)) {
		atomic_long_inc(&qdev->irqs_empty);
		return IRQ_NONE;
	}
	qnpu_device_process_cq(qdev);
	return IRQ_HANDLED;
}

/**
 * qnpu_device_reset() - reset the device and wait for the acknowledge
 * @qdev: the device
 *
 * The device aborts the running job (an ABORTED completion) and drops the
 * submissions it has not started.
 *
 * Return: 0, or -ETIMEDOUT if the device did not acknowledge in time.
 */
int qnpu_device_reset(struct qnpu_device *qdev)
{
	unsigned long deadline;
	unsigned long flags;
	u32 seq;

	spin_lock_irqsave(&qdev->job_lock, flags);
	seq = ++qdev->reset_seq;
	qnpu_write(qdev, QNPU_REG_RESET_REQ, seq);
	qnpu_device_doorbell(qdev);
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	deadline = jiffies + msecs_to_jiffies(qnpu_reset_timeout_ms);
	while (qnpu_read(qdev, QNPU_REG_RESET_ACK) != seq) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(100, 1000);
	}
	return 0;
}

/**
 * qnpu_device_resync() - continue from the device's ring indices
 * @qdev: the device, just reset
 *
 * The device dropped what it had not started (SQ_HEAD = SQ_TAIL) and
 * every job it held is accounted for, so both rings are empty: its
 * indices are taken as they are, even ones a fault moved out of range
 * (the device keeps them across a reset; keeping ours instead would make
 * every later completion look untrusted). Interrupts are enabled again
 * (a bad completion masked them).
 */
void qnpu_device_resync(struct qnpu_device *qdev)
{
	unsigned long flags;
	u32 head, tail;

	spin_lock_irqsave(&qdev->job_lock, flags);
	head = qnpu_read(qdev, QNPU_REG_SQ_HEAD);
	tail = qnpu_read(qdev, QNPU_REG_CQ_TAIL);
	if (qdev->sq_tail - head > qdev->hw.sq_entries ||
	    tail - qdev->cq_head > qdev->hw.cq_entries)
		dev_warn(qdev->dev,
			 "ring indices moved during the reset: SQ_HEAD %u (tail %u), CQ_TAIL %u (head %u); taking the device's\n",
			 head, qdev->sq_tail, tail, qdev->cq_head);
	qdev->sq_tail = head;
	qdev->cq_head = tail;
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
	qnpu_write(qdev, QNPU_REG_CQ_HEAD, qdev->cq_head);
	qnpu_write(qdev, QNPU_REG_IRQ_ACK,
		   qnpu_read(qdev, QNPU_REG_IRQ_COUNT));
	qnpu_write(qdev, QNPU_REG_CTRL, QNPU_CTRL_IRQ_EN_MASK);
	WRITE_ONCE(qdev->cq_corrupt, false);
	qnpu_device_doorbell(qdev);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/**
 * qnpu_device_release_quarantine() - free the jobs a lost device held
 * @qdev: the device, cut off the bus (or being removed)
 */
void qnpu_device_release_quarantine(struct qnpu_device *qdev)
{
	unsigned long flags;
	LIST_HEAD(list);

	spin_lock_irqsave(&qdev->job_lock, flags);
	list_splice_init(&qdev->quarantine, &list);
	qdev->quarantined = 0;
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	qnpu_job_release_list(&list);
}

/**
 * qnpu_device_hold_ring() - keep direct submissions off the ring, or let
 *	them back
 * @qdev: the device
 * @hold: true to hold (nests), false to release
 *
 * Whoever parks the scheduler to own the ring holds it too: SUBMIT may
 * queue an unblocked job itself (qnpu_job_may_direct()).
 */
void qnpu_device_hold_ring(struct qnpu_device *qdev, bool hold)
{
	unsigned long flags;

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (hold)
		qdev->ring_hold++;
	else
		qdev->ring_hold--;
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/*
 * The heartbeat: completions whose interrupt was lost are retired within a
 * period, and an idle device that stopped answering is noticed (a reset
 * handshake while nothing is on the ring), so DEVICE_LOST reads 1 and
 * submits fail at once instead of after a job timeout.
 */
static void qnpu_device_heartbeat(struct work_struct *work)
{
	struct qnpu_device *qdev = container_of(to_delayed_work(work),
						struct qnpu_device, heartbeat);
	struct task_struct *thread = qdev->sched.thread;
	unsigned long flags;
	bool idle;
	int idx;

	if (!drm_dev_enter(&qdev->ddev, &idx))
		return;
	if (READ_ONCE(qdev->lost))
		goto out;
	qnpu_device_flush_doorbell(qdev);
	if (!READ_ONCE(qdev->cq_corrupt) &&
	    qnpu_read(qdev, QNPU_REG_CQ_TAIL) != READ_ONCE(qdev->cq_head)) {
		qnpu_device_process_cq(qdev);
		goto out_rearm;
	}
	/* Nothing may reach the ring while we reset: park the scheduler. */
	qnpu_device_hold_ring(qdev, true);
	kthread_park(thread);
	spin_lock_irqsave(&qdev->job_lock, flags);
	idle = list_empty(&qdev->inflight);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	/* Untrusted completion, jobs on the ring: the timeout handler. */
	if (!idle && READ_ONCE(qdev->cq_corrupt))
		mod_delayed_work(qdev->wq, &qdev->tdr, 0);
	if (idle) {
		if (qnpu_device_reset(qdev)) {
			drm_err(&qdev->ddev,
				"idle device does not answer: device lost\n");
			WRITE_ONCE(qdev->lost, true);
		} else {
			qdev->heartbeats++;
			qnpu_device_resync(qdev);
		}
	}
	kthread_unpark(thread);
	qnpu_device_hold_ring(qdev, false);
out_rearm:
	if (qnpu_heartbeat_ms)
		queue_delayed_work(qdev->wq, &qdev->heartbeat,
				   msecs_to_jiffies(qnpu_heartbeat_ms));
out:
	drm_dev_exit(idx);
}

static void qnpu_device_read_hw(struct qnpu_device *qdev)
{
	struct qnpu_hw_info *hw = &qdev->hw;
	u32 ring = qnpu_read(qdev, QNPU_REG_RING_INFO);

	hw->version = qnpu_read(qdev, QNPU_REG_VERSION);
	hw->rows = qnpu_read(qdev, QNPU_REG_HW_ROWS);
	hw->cols = qnpu_read(qdev, QNPU_REG_HW_COLS);
	hw->abuf_bytes = qnpu_read(qdev, QNPU_REG_ABUF_BYTES);
	hw->wbuf_bytes = qnpu_read(qdev, QNPU_REG_WBUF_BYTES);
	hw->pbuf_bytes = qnpu_read(qdev, QNPU_REG_PBUF_BYTES);
	hw->obuf_bytes = qnpu_read(qdev, QNPU_REG_OBUF_BYTES);
	hw->cmd_bytes = qnpu_read(qdev, QNPU_REG_CMD_BYTES);
	hw->sq_entries = FIELD_GET(QNPU_RING_INFO_SQ_ENTRIES_MASK, ring);
	hw->cq_entries = FIELD_GET(QNPU_RING_INFO_CQ_ENTRIES_MASK, ring);
	hw->va_bits = FIELD_GET(QNPU_RING_INFO_VA_BITS_MASK, ring);
	/* A 1.0 device does not define these offsets: report 0 (unknown). */
	if (FIELD_GET(QNPU_VERSION_MINOR_MASK, hw->version) < 1)
		return;
	hw->dma_bytes = qnpu_read(qdev, QNPU_REG_DMA_BYTES);
	hw->queue_depth = qnpu_read(qdev, QNPU_REG_QUEUE_DEPTH);
	hw->mem_latency = qnpu_read(qdev, QNPU_REG_MEM_LATENCY);
	hw->mem_bytes_per_cycle = qnpu_read(qdev, QNPU_REG_MEM_BYTES_PER_CYCLE);
	hw->mem_outstanding = qnpu_read(qdev, QNPU_REG_MEM_OUTSTANDING);
}

static void qnpu_device_release_wq(struct drm_device *ddev, void *arg)
{
	destroy_workqueue(arg);
}

/**
 * qnpu_device_init() - bring up the core once the bus glue mapped the page
 * @qdev: the device, with @regs, @bus and @dev set
 *
 * Resets the device first: whatever a previous driver or boot left running
 * must not DMA into memory we are about to hand out.
 *
 * Return: 0 or a negative errno.
 */
int qnpu_device_init(struct qnpu_device *qdev)
{
	struct drm_sched_init_args args = {
		.ops = &qnpu_sched_ops,
		.name = QNPU_DRIVER_NAME,
		.dev = qdev->dev,
	};
	int ret;

	spin_lock_init(&qdev->job_lock);
	spin_lock_init(&qdev->fence_lock);
	INIT_LIST_HEAD(&qdev->inflight);
	INIT_LIST_HEAD(&qdev->quarantine);
	INIT_LIST_HEAD(&qdev->backlog);
	INIT_LIST_HEAD(&qdev->dropped);
	INIT_LIST_HEAD(&qdev->reap);
	INIT_DELAYED_WORK(&qdev->tdr, qnpu_job_tdr_work);
	INIT_DELAYED_WORK(&qdev->reap_work, qnpu_job_reap_work);
	init_completion(&qdev->probe_done);
	mutex_init(&qdev->ctx_lock);
	INIT_LIST_HEAD(&qdev->contexts);
	INIT_DELAYED_WORK(&qdev->heartbeat, qnpu_device_heartbeat);
	qdev->fence_context = dma_fence_context_alloc(1);
	qdev->result_context = dma_fence_context_alloc(1);

	qnpu_device_read_hw(qdev);
	/*
	 * The rings are sized by the generated header; the device must
	 * agree, and a command must be what the uAPI says it is.
	 */
	if (qdev->hw.sq_entries != QNPU_SQ_ENTRIES ||
	    qdev->hw.cq_entries != QNPU_CQ_ENTRIES ||
	    qdev->hw.cmd_bytes != QNPU_CMD_BYTES ||
	    qdev->hw.va_bits != QNPU_VA_BITS) {
		dev_err(qdev->dev,
			"unexpected geometry: sq %u cq %u cmd %u va %u\n",
			qdev->hw.sq_entries, qdev->hw.cq_entries,
			qdev->hw.cmd_bytes, qdev->hw.va_bits);
		return -ENODEV;
	}

	/*
	 * One ordered queue for the timeout handler, the heartbeat and BO
	 * teardown: the first two park the scheduler and must not overlap.
	 */
	qdev->wq = alloc_ordered_workqueue("qnpu", 0);
	if (!qdev->wq)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(&qdev->ddev, qnpu_device_release_wq,
				       qdev->wq);
	if (ret)
		return ret;

	/* Stop whatever the device was doing, then take over its indices. */
	qdev->reset_seq = qnpu_read(qdev, QNPU_REG_RESET_ACK);
	qnpu_write(qdev, QNPU_REG_CTRL, 0);
	ret = qnpu_device_reset(qdev);
	if (ret) {
		dev_err(qdev->dev, "no reset acknowledge at probe\n");
		return -ENODEV;
	}
	qdev->sq_tail = qnpu_read(qdev, QNPU_REG_SQ_HEAD);
	qdev->cq_head = qnpu_read(qdev, QNPU_REG_CQ_TAIL);
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
	qnpu_write(qdev, QNPU_REG_CQ_HEAD, qdev->cq_head);
	qnpu_write(qdev, QNPU_REG_IRQ_ACK, qnpu_read(qdev, QNPU_REG_IRQ_COUNT));

	/*
	 * One job per submission-ring entry; direct jobs share the ring
	 * through the backlog (qnpu_job_queue()), which also takes the
	 * scheduler's jobs when they find it full.
	 */
	qdev->job_timeout = msecs_to_jiffies(qnpu_job_timeout_s * 1000);
	args.credit_limit = qdev->hw.sq_entries;
	args.timeout = qdev->job_timeout;
	args.timeout_wq = qdev->wq;
	ret = drm_sched_init(&qdev->sched, &args);
	if (ret) {
		dev_err(qdev->dev, "scheduler init: %d\n", ret);
		return ret;
	}
	qdev->sched_ready = true;

	WRITE_ONCE(qdev->running, true);
	qnpu_write(qdev, QNPU_REG_CTRL, QNPU_CTRL_IRQ_EN_MASK);
	qnpu_device_doorbell(qdev);
	if (qnpu_heartbeat_ms)
		queue_delayed_work(qdev->wq, &qdev->heartbeat,
				   msecs_to_jiffies(qnpu_heartbeat_ms));

	dev_info(qdev->dev,
		 "qnpu %u.%u: %ux%u MACs, SRAM a/w/p/o %u/%u/%u/%u bytes\n",
		 FIELD_GET(QNPU_VERSION_MAJOR_MASK, qdev->hw.version),
		 FIELD_GET(QNPU_VERSION_MINOR_MASK, qdev->hw.version),
		 qdev->hw.rows, qdev->hw.cols, qdev->hw.abuf_bytes,
		 qdev->hw.wbuf_bytes, qdev->hw.pbuf_bytes, qdev->hw.obuf_bytes);
	return 0;
}

/*
 * Stop the device and end every job on it. A device that acknowledges the
 * reset no longer touches the jobs' memory; one that does not is cut off
 * the bus where the glue can, and its jobs are quarantined until then.
 */
static void qnpu_device_stop(struct qnpu_device *qdev, u32 status)
{
	struct qnpu_job *job, *tmp;
	unsigned long flags;
	bool lost;

	/* From here on the interrupt handler leaves the rings alone. */
	WRITE_ONCE(qdev->running, false);
	if (!READ_ONCE(qdev->lost) && qnpu_device_reset(qdev)) {
		dev_warn(qdev->dev, "no reset acknowledge at removal\n");
		WRITE_ONCE(qdev->lost, true);
	}
	lost = READ_ONCE(qdev->lost);
	qnpu_write(qdev, QNPU_REG_CTRL, 0);
	qnpu_device_doorbell(qdev);

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (lost)
		status = DRM_QNPU_JOB_DEVICE_LOST;
	list_for_each_entry_safe(job, tmp, &qdev->inflight, node)
		qnpu_job_fail(job, status, lost);
	qdev->ring_count = 0;
	/* Never reached the device. */
	list_for_each_entry_safe(job, tmp, &qdev->backlog, node)
		qnpu_job_fail(job, status, false);
	qdev->backlog_count = 0;
	spin_unlock_irqrestore(&qdev->job_lock, flags);
}

/**
 * qnpu_device_fini() - stop the core; jobs still on the device are canceled
 * @qdev: the device, unplugged (drm_dev_unplug()) unless it never was
 *	registered
 *
 * Open files may outlive this: their ioctls fail with -ENODEV, their
 * queued jobs are ended when they close.
 */
void qnpu_device_fini(struct qnpu_device *qdev)
{
	struct drm_gpu_scheduler *sched = &qdev->sched;
	struct drm_sched_job *s_job, *tmp;
	struct dma_fence *finished;

	if (!qdev->sched_ready)
		return;
	cancel_delayed_work_sync(&qdev->heartbeat);
	/*
	 * The timeout handler and run_job run under drm_dev_enter(), which
	 * fails after the unplug: none is under way, none will touch the
	 * device. Park the scheduler and cancel its timeout work so neither
	 * runs while we take the jobs apart.
	 */
	kthread_park(sched->thread);
	cancel_delayed_work_sync(&sched->work_tdr);
	qnpu_device_stop(qdev, DRM_QNPU_JOB_CANCELED);
	/* running is false: no completion arms it again. */
	cancel_delayed_work_sync(&qdev->tdr);

	drm_sched_fini(sched);
	/* Debian 6.1's drm_sched_fini() leaves its pending list: drain it. */
	list_for_each_entry_safe(s_job, tmp, &sched->pending_list, list) {
		list_del_init(&s_job->list);
		finished = &s_job->s_fence->finished;
		if (!dma_fence_is_signaled(finished)) {
			dma_fence_set_error(finished, -ENODEV);
			dma_fence_signal(finished);
		}
		sched->ops->free_job(s_job);
	}
	/* running is false: nothing queues it again. */
	cancel_delayed_work_sync(&qdev->reap_work);
	qnpu_job_reap(qdev);
	if (qdev->quarantined) {
		if (qdev->bus->stop_dma)
			qdev->bus->stop_dma(qdev);
		else
			dev_warn(qdev->dev,
				 "lost device may still access %u jobs\n",
				 qdev->quarantined);
	}
	qnpu_device_release_quarantine(qdev);
	qdev->sched_ready = false;
}

/**
 * qnpu_device_shutdown() - quiesce the device for reboot or kexec
 * @qdev: the device
 *
 * No more interrupts or DMA; the driver stays bound but the device counts
 * as lost.
 */
void qnpu_device_shutdown(struct qnpu_device *qdev)
{
	if (!qdev->sched_ready)
		return;
	cancel_delayed_work_sync(&qdev->heartbeat);
	WRITE_ONCE(qdev->running, false);
	if (!READ_ONCE(qdev->lost))
		qnpu_device_reset(qdev);
	WRITE_ONCE(qdev->lost, true);
	qnpu_write(qdev, QNPU_REG_CTRL, 0);
	qnpu_device_doorbell(qdev);
}
