// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu raw round trip: debugfs "roundtrip" (root only) puts an empty job
 * (one SYNC command, in a page table of its own) on the submission ring,
 * rings the doorbell and times the completion interrupt, bypassing the
 * scheduler, the ioctls and every fence. It is the floor a job through
 * SUBMIT is measured against (make bench-vm).
 *
 * It runs on the device's ordered workqueue, so never alongside the
 * heartbeat or a reset, with the scheduler parked and the ring empty: the
 * completion handler recognises the probe by that and by its job id. A
 * probe that gets no answer resets the device, as the heartbeat would.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <drm/drm_drv.h>
#include <drm/drm_print.h>

#include "qnpu_drv.h"

#define QNPU_PROBE_RUNS		200
#define QNPU_PROBE_WAIT_MS	1000

/* Page tables (levels 0, 1, 2) and the command page, one VA mapped. */
#define QNPU_PROBE_PAGES	4

struct qnpu_probe {
	struct work_struct work;
	struct qnpu_device *qdev;
	__le64 *cpu;
	dma_addr_t dma;
	u64 irq_ns[QNPU_PROBE_RUNS];
	u64 wake_ns[QNPU_PROBE_RUNS];
	u64 db_ns[QNPU_PROBE_RUNS];
	int ret;
};

static __le64 qnpu_probe_pte(dma_addr_t pa)
{
	return cpu_to_le64(QNPU_PTE_V_MASK | (pa & QNPU_PTE_PA_MASK));
}

/* VA QNPU_VA_START -> the command page, read-only. */
static void qnpu_probe_build(struct qnpu_probe *p)
{
	const unsigned int per_page = QNPU_PAGE_BYTES / sizeof(__le64);
	u64 va = QNPU_VA_START;
	unsigned int level, idx;
	u32 *cmd;

	for (level = 0; level < QNPU_PT_LEVELS; level++) {
		idx = (va >> (QNPU_PAGE_SHIFT + 9 * (QNPU_PT_LEVELS - 1 -
						     level))) & 511;
		p->cpu[level * per_page + idx] =
			qnpu_probe_pte(p->dma + (level + 1) * QNPU_PAGE_BYTES);
	}
	cmd = (u32 *)(p->cpu + QNPU_PT_LEVELS * per_page);
	cmd[QNPU_CMD_OPCODE_WORD] = QNPU_OP_SYNC << QNPU_CMD_OPCODE_SHIFT;
}

static int qnpu_probe_once(struct qnpu_probe *p, unsigned int i)
{
	struct qnpu_device *qdev = p->qdev;
	void __iomem *sqe;
	unsigned long flags;
	bool answered;
	u64 t0;
	u32 status;

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (qdev->lost || qdev->cq_corrupt || !list_empty(&qdev->inflight)) {
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		return qdev->lost ? -ENODEV : -EBUSY;
	}
	sqe = qdev->regs + QNPU_SQ_OFFSET +
	      (qdev->sq_tail % qdev->hw.sq_entries) * QNPU_SQE_BYTES;
	writel(lower_32_bits(p->dma), sqe + QNPU_SQE_PT_ROOT);
	writel(upper_32_bits(p->dma), sqe + QNPU_SQE_PT_ROOT + 4);
	writel(lower_32_bits(QNPU_VA_START), sqe + QNPU_SQE_CMD_VA);
	writel(upper_32_bits(QNPU_VA_START), sqe + QNPU_SQE_CMD_VA + 4);
	writel(1, sqe + QNPU_SQE_CMD_COUNT);
	writel(QNPU_PROBE_JOB_ID, sqe + QNPU_SQE_JOB_ID);
	writel(0, sqe + QNPU_SQE_MAX_CYCLES);
	writel(0, sqe + QNPU_SQE_FLAGS);
	qdev->sq_tail++;
	reinit_completion(&qdev->probe_done);
	qdev->probe_pending = true;
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
	t0 = ktime_get_ns();
	qnpu_device_doorbell(qdev);
	p->db_ns[i] = ktime_get_ns() - t0;
	spin_unlock_irqrestore(&qdev->job_lock, flags);

	answered = wait_for_completion_timeout(&qdev->probe_done,
			msecs_to_jiffies(QNPU_PROBE_WAIT_MS));
	p->wake_ns[i] = ktime_get_ns() - t0;

	spin_lock_irqsave(&qdev->job_lock, flags);
	if (!answered && qdev->probe_pending) {
		qdev->probe_pending = false;
		spin_unlock_irqrestore(&qdev->job_lock, flags);
		/* The entry may still be on the device: take it off. */
		if (qnpu_device_reset(qdev)) {
			drm_err(&qdev->ddev, "probe: no reset acknowledge\n");
			WRITE_ONCE(qdev->lost, true);
		} else {
			qdev->resets++;
			qnpu_device_process_cq(qdev);
			qnpu_device_resync(qdev);
		}
		return -ETIMEDOUT;
	}
	p->irq_ns[i] = qdev->probe_ns - t0;
	status = qdev->probe_status;
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	return status == QNPU_STATUS_OK ? 0 : -EIO;
}

static void qnpu_probe_work(struct work_struct *work)
{
	struct qnpu_probe *p = container_of(work, struct qnpu_probe, work);
	struct qnpu_device *qdev = p->qdev;
	unsigned int i;
	int idx;

	if (!drm_dev_enter(&qdev->ddev, &idx)) {
		p->ret = -ENODEV;
		return;
	}
	/* Nothing reaches the ring while we own it. */
	qnpu_device_hold_ring(qdev, true);
	kthread_park(qdev->sched.thread);
	for (i = 0; i < QNPU_PROBE_RUNS; i++) {
		p->ret = qnpu_probe_once(p, i);
		if (p->ret)
			break;
	}
	kthread_unpark(qdev->sched.thread);
	qnpu_device_hold_ring(qdev, false);
	drm_dev_exit(idx);
}

static int qnpu_u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/**
 * qnpu_probe_show() - run the raw round trips, print their statistics
 * @m: the debugfs file
 * @qdev: the device
 *
 * Return: 0, -EBUSY if jobs are on the device, -ENODEV if it is lost,
 * -ETIMEDOUT if it did not answer (then it was reset), -EPERM for anyone
 * but root.
 */
int qnpu_probe_show(struct seq_file *m, struct qnpu_device *qdev)
{
	struct qnpu_probe *p;
	u64 sum = 0;
	unsigned int i;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!qdev->sched_ready)
		return -ENODEV;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->qdev = qdev;
	p->cpu = dma_alloc_coherent(qdev->dev,
				    QNPU_PROBE_PAGES * QNPU_PAGE_BYTES, &p->dma,
				    GFP_KERNEL);
	if (!p->cpu) {
		ret = -ENOMEM;
		goto err_free;
	}
	qnpu_probe_build(p);

	INIT_WORK_ONSTACK(&p->work, qnpu_probe_work);
	queue_work(qdev->wq, &p->work);
	flush_work(&p->work);
	destroy_work_on_stack(&p->work);
	ret = p->ret;
	if (ret)
		goto err_free_pages;

	for (i = 0; i < QNPU_PROBE_RUNS; i++)
		sum += p->irq_ns[i];
	sort(p->irq_ns, QNPU_PROBE_RUNS, sizeof(u64), qnpu_u64_cmp, NULL);
	sort(p->wake_ns, QNPU_PROBE_RUNS, sizeof(u64), qnpu_u64_cmp, NULL);
	sort(p->db_ns, QNPU_PROBE_RUNS, sizeof(u64), qnpu_u64_cmp, NULL);
	seq_printf(m, "runs: %u\n", QNPU_PROBE_RUNS);
	seq_printf(m, "irq_min_ns: %llu\n", p->irq_ns[0]);
	seq_printf(m, "irq_median_ns: %llu\n", p->irq_ns[QNPU_PROBE_RUNS / 2]);
	seq_printf(m, "irq_mean_ns: %llu\n", div_u64(sum, QNPU_PROBE_RUNS));
	seq_printf(m, "wake_median_ns: %llu\n",
		   p->wake_ns[QNPU_PROBE_RUNS / 2]);
	/* The doorbell write alone (in co-simulation a trip to QEMU). */
	seq_printf(m, "doorbell_median_ns: %llu\n",
		   p->db_ns[QNPU_PROBE_RUNS / 2]);

err_free_pages:
	dma_free_coherent(qdev->dev, QNPU_PROBE_PAGES * QNPU_PAGE_BYTES,
			  p->cpu, p->dma);
err_free:
	kfree(p);
	return ret;
}
