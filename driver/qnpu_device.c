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
#include <linux/interrupt.h>
#include <linux/jiffies.h>
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
	qdev->bus->doorbell(qdev);
}

/**
 * qnpu_device_process_cq() - retire every completion the device posted
 * @qdev: the device
 *
 * Safe from the interrupt handler and from process context.
 */
void qnpu_device_process_cq(struct qnpu_device *qdev)
{
	struct qnpu_job *job, *found;
	void __iomem *cqe;
	unsigned long flags;
	u32 count, tail, id, status;

	spin_lock_irqsave(&qdev->job_lock, flags);
	/*
	 * The device posts a completion before it counts its interrupt: every
	 * interrupt counted here has its completion below CQ_TAIL, and only
	 * those are acknowledged. A completion posted meanwhile keeps the
	 * interrupt pending (and raises a new one).
	 */
	count = qnpu_read(qdev, QNPU_REG_IRQ_COUNT);
	rmb();
	tail = qnpu_read(qdev, QNPU_REG_CQ_TAIL);
	if (tail - qdev->cq_head > qdev->hw.cq_entries) {
		/* Not a state the device can be in: ignore the ring. */
		dev_err_ratelimited(qdev->dev, "CQ_TAIL %u, head %u\n", tail,
				    qdev->cq_head);
		goto out_unlock;
	}
	/* Entries are complete before the index that covers them. */
	rmb();
	for (; qdev->cq_head != tail; qdev->cq_head++) {
		cqe = qdev->regs + QNPU_CQ_OFFSET +
		      (qdev->cq_head % qdev->hw.cq_entries) * QNPU_CQE_BYTES;
		id = readl(cqe + QNPU_CQE_JOB_ID);
		status = readl(cqe + QNPU_CQE_STATUS);
		found = NULL;
		list_for_each_entry(job, &qdev->inflight, node) {
			if (lower_32_bits(job->id) == id) {
				found = job;
				break;
			}
		}
		if (!found) {
			dev_warn_ratelimited(qdev->dev,
					     "completion for unknown job %u\n",
					     id);
			continue;
		}
		list_del_init(&found->node);
		found->on_device = false;
		/* Aborted by a reset: the hung job failed, any other is run
		 * again. */
		if (status != QNPU_STATUS_ABORTED)
			qnpu_job_complete(found, status, cqe);
		else if (found == qdev->hung_job)
			qnpu_job_complete(found, DRM_QNPU_JOB_HANG, cqe);
		else
			dma_fence_set_error(found->done, -ECANCELED);
		dma_fence_signal(found->done);
	}
	qnpu_write(qdev, QNPU_REG_CQ_HEAD, qdev->cq_head);
	qnpu_write(qdev, QNPU_REG_IRQ_ACK, count);
	wmb();
	/* CQ space and the acknowledge take effect at a doorbell. */
	qnpu_device_doorbell(qdev);
out_unlock:
	spin_unlock_irqrestore(&qdev->job_lock, flags);
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

	if (!READ_ONCE(qdev->running))
		return IRQ_NONE;
	if (qnpu_read(qdev, QNPU_REG_IRQ_COUNT) ==
	    qnpu_read(qdev, QNPU_REG_IRQ_ACK) &&
	    qnpu_read(qdev, QNPU_REG_CQ_TAIL) == READ_ONCE(qdev->cq_head))
		return IRQ_NONE;
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
	wmb();
	qnpu_device_doorbell(qdev);
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	deadline = jiffies + msecs_to_jiffies(qnpu_reset_timeout_ms);
	while (qnpu_read(qdev, QNPU_REG_RESET_ACK) != seq) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(100, 1000);
	}
	qdev->resets++;
	return 0;
}

/**
 * qnpu_device_resync() - continue from the device's ring indices
 * @qdev: the device, just reset
 */
void qnpu_device_resync(struct qnpu_device *qdev)
{
	unsigned long flags;

	/* The device dropped what it had not started (SQ_HEAD = SQ_TAIL);
	 * continue from its indices. */
	spin_lock_irqsave(&qdev->job_lock, flags);
	qdev->sq_tail = qnpu_read(qdev, QNPU_REG_SQ_HEAD);
	qdev->cq_head = qnpu_read(qdev, QNPU_REG_CQ_TAIL);
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
	qnpu_write(qdev, QNPU_REG_CQ_HEAD, qdev->cq_head);
	qnpu_write(qdev, QNPU_REG_IRQ_ACK,
		   qnpu_read(qdev, QNPU_REG_IRQ_COUNT));
	wmb();
	qnpu_device_doorbell(qdev);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
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
}

/**
 * qnpu_device_init() - bring up the core once the bus glue mapped the page
 * @qdev: the device, with @regs, @bus and @dev set
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
	mutex_init(&qdev->ctx_lock);
	INIT_LIST_HEAD(&qdev->contexts);
	qdev->fence_context = dma_fence_context_alloc(1);

	qnpu_device_read_hw(qdev);
	/* The rings are sized by the generated header; the device must
	 * agree, and a command must be what the uAPI says it is. */
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

	/* Start from whatever state the device is in: take over its
	 * indices, acknowledge old interrupts, enable interrupts. */
	qdev->reset_seq = qnpu_read(qdev, QNPU_REG_RESET_ACK);
	qnpu_write(qdev, QNPU_REG_RESET_REQ, qdev->reset_seq);
	qdev->sq_tail = qnpu_read(qdev, QNPU_REG_SQ_HEAD);
	qdev->cq_head = qnpu_read(qdev, QNPU_REG_CQ_TAIL);
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
	qnpu_write(qdev, QNPU_REG_CQ_HEAD, qdev->cq_head);
	qnpu_write(qdev, QNPU_REG_IRQ_ACK, qnpu_read(qdev, QNPU_REG_IRQ_COUNT));

	/* One job per submission-ring entry. */
	args.credit_limit = qdev->hw.sq_entries;
	args.timeout = msecs_to_jiffies(qnpu_job_timeout_s * 1000);
	ret = drm_sched_init(&qdev->sched, &args);
	if (ret) {
		dev_err(qdev->dev, "scheduler init: %d\n", ret);
		return ret;
	}
	qdev->sched_ready = true;

	WRITE_ONCE(qdev->running, true);
	qnpu_write(qdev, QNPU_REG_CTRL, QNPU_CTRL_IRQ_EN_MASK);
	wmb();
	qnpu_device_doorbell(qdev);

	dev_info(qdev->dev,
		 "qnpu %u.%u: %ux%u MACs, SRAM a/w/p/o %u/%u/%u/%u bytes\n",
		 FIELD_GET(QNPU_VERSION_MAJOR_MASK, qdev->hw.version),
		 FIELD_GET(QNPU_VERSION_MINOR_MASK, qdev->hw.version),
		 qdev->hw.rows, qdev->hw.cols, qdev->hw.abuf_bytes,
		 qdev->hw.wbuf_bytes, qdev->hw.pbuf_bytes, qdev->hw.obuf_bytes);
	return 0;
}

/**
 * qnpu_device_fini() - stop the core; jobs still on the device are canceled
 * @qdev: the device; its interrupt must already be freed
 */
void qnpu_device_fini(struct qnpu_device *qdev)
{
	struct qnpu_job *job, *tmp;
	unsigned long flags;

	if (!qdev->sched_ready)
		return;
	/* From here on the interrupt handler leaves the rings alone. */
	WRITE_ONCE(qdev->running, false);
	/* Stop the device before the page tables of its jobs go away. */
	if (!READ_ONCE(qdev->lost) && qnpu_device_reset(qdev))
		dev_warn(qdev->dev, "no reset acknowledge at removal\n");
	WRITE_ONCE(qdev->lost, true);
	qnpu_write(qdev, QNPU_REG_CTRL, 0);
	wmb();
	qnpu_device_doorbell(qdev);

	spin_lock_irqsave(&qdev->job_lock, flags);
	list_for_each_entry_safe(job, tmp, &qdev->inflight, node) {
		list_del_init(&job->node);
		job->on_device = false;
		qnpu_job_complete(job, DRM_QNPU_JOB_CANCELED, NULL);
		dma_fence_set_error(job->done, -ECANCELED);
		dma_fence_signal(job->done);
	}
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	drm_sched_fini(&qdev->sched);
	qdev->sched_ready = false;
}
