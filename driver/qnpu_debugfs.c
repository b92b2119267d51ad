// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu debugfs: /sys/kernel/debug/dri/<minor>/{regs,rings,contexts,bos,
 * roundtrip}.
 * The tests read "contexts" and "bos" to prove nothing leaked.
 */
#include <linux/debugfs.h>
#include <linux/pid.h>
#include <linux/seq_file.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_file.h>

#include "qnpu_drv.h"

static struct qnpu_device *qnpu_debugfs_dev(struct seq_file *m)
{
	struct drm_info_node *node = m->private;

	return to_qnpu_device(node->minor->dev);
}

static const struct {
	const char *name;
	u32 reg;
} qnpu_debugfs_regs[] = {
#define QNPU_DBG_REG(n) { #n, QNPU_REG_##n }
	QNPU_DBG_REG(MAGIC), QNPU_DBG_REG(VERSION), QNPU_DBG_REG(HW_ROWS),
	QNPU_DBG_REG(HW_COLS), QNPU_DBG_REG(ABUF_BYTES),
	QNPU_DBG_REG(WBUF_BYTES), QNPU_DBG_REG(PBUF_BYTES),
	QNPU_DBG_REG(OBUF_BYTES), QNPU_DBG_REG(CMD_BYTES),
	QNPU_DBG_REG(RING_INFO), QNPU_DBG_REG(DMA_BYTES),
	QNPU_DBG_REG(QUEUE_DEPTH), QNPU_DBG_REG(MEM_LATENCY),
	QNPU_DBG_REG(MEM_BYTES_PER_CYCLE), QNPU_DBG_REG(MEM_OUTSTANDING),
	QNPU_DBG_REG(SQ_TAIL), QNPU_DBG_REG(SQ_HEAD),
	QNPU_DBG_REG(CQ_TAIL), QNPU_DBG_REG(CQ_HEAD), QNPU_DBG_REG(CTRL),
	QNPU_DBG_REG(RESET_REQ), QNPU_DBG_REG(RESET_ACK),
	QNPU_DBG_REG(IRQ_COUNT), QNPU_DBG_REG(IRQ_ACK), QNPU_DBG_REG(STATUS),
	QNPU_DBG_REG(CUR_JOB_ID), QNPU_DBG_REG(FAULT_VA_LO),
	QNPU_DBG_REG(FAULT_VA_HI), QNPU_DBG_REG(FAULT_INFO),
	QNPU_DBG_REG(FAULT_JOB_ID), QNPU_DBG_REG(FAULT_COUNT),
	QNPU_DBG_REG(TOTAL_JOBS),
#undef QNPU_DBG_REG
};

static int qnpu_debugfs_regs_show(struct seq_file *m, void *data)
{
	struct qnpu_device *qdev = qnpu_debugfs_dev(m);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(qnpu_debugfs_regs); i++)
		seq_printf(m, "%#05x %-19s %#010x\n", qnpu_debugfs_regs[i].reg,
			   qnpu_debugfs_regs[i].name,
			   qnpu_read(qdev, qnpu_debugfs_regs[i].reg));
	return 0;
}

static int qnpu_debugfs_rings_show(struct seq_file *m, void *data)
{
	struct qnpu_device *qdev = qnpu_debugfs_dev(m);
	struct qnpu_job *job;
	unsigned long flags;

	spin_lock_irqsave(&qdev->job_lock, flags);
	seq_printf(m, "sq: tail %u head %u (%u entries)\n", qdev->sq_tail,
		   qnpu_read(qdev, QNPU_REG_SQ_HEAD), qdev->hw.sq_entries);
	seq_printf(m, "cq: head %u tail %u (%u entries)\n", qdev->cq_head,
		   qnpu_read(qdev, QNPU_REG_CQ_TAIL), qdev->hw.cq_entries);
	seq_printf(m, "resets: %u\nlost: %d\n", qdev->resets, qdev->lost);
	seq_printf(m, "heartbeats: %u\nbad_completions: %u\nquarantined: %u\n",
		   qdev->heartbeats, qdev->bad_completions, qdev->quarantined);
	seq_printf(m, "direct_jobs: %llu\ndirect_live: %d\nbacklog: %u\n",
		   qdev->direct_jobs, atomic_read(&qdev->direct_live),
		   qdev->backlog_count);
	seq_printf(m, "irqs: %ld\nirqs_empty: %ld\n",
		   atomic_long_read(&qdev->irqs),
		   atomic_long_read(&qdev->irqs_empty));
	list_for_each_entry(job, &qdev->inflight, node)
		seq_printf(m, "job %llu ctx %u cmd_va %#llx cmds %u\n",
			   job->id, job->ctx->id, job->cmd_va,
			   job->cmd_count);
	spin_unlock_irqrestore(&qdev->job_lock, flags);
	return 0;
}

static int qnpu_debugfs_contexts_show(struct seq_file *m, void *data)
{
	struct qnpu_device *qdev = qnpu_debugfs_dev(m);
	struct qnpu_ctx *ctx;

	seq_printf(m, "contexts: %d\n", atomic_read(&qdev->ctx_count));
	seq_printf(m, "all_devices: %d\n", atomic_read(&qnpu_live_ctxs));
	mutex_lock(&qdev->ctx_lock);
	/* The reader's pid namespace; no kernel addresses. */
	list_for_each_entry(ctx, &qdev->contexts, node)
		seq_printf(m, "ctx %u pid %d bos %u bytes %llu\n", ctx->id,
			   pid_vnr(ctx->pid), ctx->bo_count, ctx->mapped_bytes);
	mutex_unlock(&qdev->ctx_lock);
	return 0;
}

static int qnpu_debugfs_bos_show(struct seq_file *m, void *data)
{
	struct qnpu_device *qdev = qnpu_debugfs_dev(m);

	seq_printf(m, "bos: %d\nbytes: %lld\n", atomic_read(&qdev->bo_count),
		   (long long)atomic64_read(&qdev->bo_bytes));
	/* Every qnpu device of the module, unbound ones included. */
	seq_printf(m, "all_devices: %d\njobs_all_devices: %d\n",
		   atomic_read(&qnpu_live_bos), atomic_read(&qnpu_live_jobs));
	return 0;
}

/* Root only: it owns the ring for a moment (qnpu_probe.c). */
static int qnpu_debugfs_roundtrip_show(struct seq_file *m, void *data)
{
	return qnpu_probe_show(m, qnpu_debugfs_dev(m));
}

static const struct drm_info_list qnpu_debugfs_list[] = {
	{ "regs", qnpu_debugfs_regs_show, 0 },
	{ "rings", qnpu_debugfs_rings_show, 0 },
	{ "contexts", qnpu_debugfs_contexts_show, 0 },
	{ "bos", qnpu_debugfs_bos_show, 0 },
	{ "roundtrip", qnpu_debugfs_roundtrip_show, 0 },
};

/**
 * qnpu_debugfs_init() - create the driver's debugfs files
 * @minor: the DRM minor whose directory gets them
 */
void qnpu_debugfs_init(struct drm_minor *minor)
{
	drm_debugfs_create_files(qnpu_debugfs_list,
				 ARRAY_SIZE(qnpu_debugfs_list),
				 minor->debugfs_root, minor);
}
