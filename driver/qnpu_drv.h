/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * qnpu: driver-internal types shared by the core, the GEM, MMU, job and
 * bus-glue files.
 */
#ifndef QNPU_DRV_H
#define QNPU_DRV_H

#include <linux/completion.h>
#include <linux/dma-fence.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <drm/drm_device.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>
#include <drm/gpu_scheduler.h>

#include "qnpu_regs.h"

#define QNPU_DRIVER_NAME	"qnpu"

/*
 * Device VA layout: page 0..15 unmapped (null pointers fault), a guard
 * page after every BO.
 */
#define QNPU_VA_START		0x10000ULL
#define QNPU_VA_END		(1ULL << QNPU_VA_BITS)
#define QNPU_MAX_BO_SIZE	(1ULL << 30)
#define QNPU_MAX_CMD_BYTES	((u64)QNPU_CMD_BYTES << 24)
#define QNPU_PT_ENTRIES		512
/* Job id of the raw round-trip probe's entries (never a job's on the ring). */
#define QNPU_PROBE_JOB_ID	0xffffffffu

extern unsigned int qnpu_job_timeout_s;
extern unsigned int qnpu_reset_timeout_ms;
extern unsigned int qnpu_heartbeat_ms;
extern unsigned int qnpu_max_bos_per_file;
extern unsigned int qnpu_max_mib_per_file;
extern unsigned int qnpu_max_jobs_per_file;
extern unsigned int qnpu_poll_us;
extern bool qnpu_direct_submit;

/* Live objects of every qnpu device, for leak checks across unbind. */
extern atomic_t qnpu_live_bos;
extern atomic_t qnpu_live_ctxs;
extern atomic_t qnpu_live_jobs;

struct qnpu_device;

/*
 * What the bus glue provides: how to ring the device's doorbell and, if it
 * can, how to cut the device off the bus (no more DMA) when it is lost.
 */
struct qnpu_bus_ops {
	void (*doorbell)(struct qnpu_device *qdev);
	void (*stop_dma)(struct qnpu_device *qdev);
	/* Message-signalled interrupt (one message per raise), not a level. */
	bool msi;
};

/* Hardware parameters, read from the ID registers at probe. */
struct qnpu_hw_info {
	u32 version;
	u32 rows;
	u32 cols;
	u32 abuf_bytes;
	u32 wbuf_bytes;
	u32 pbuf_bytes;
	u32 obuf_bytes;
	u32 cmd_bytes;
	u32 sq_entries;
	u32 cq_entries;
	u32 va_bits;
	/* memory system (programming model 1.1; 0 from a 1.0 device) */
	u32 dma_bytes;
	u32 queue_depth;
	u32 mem_latency;
	u32 mem_bytes_per_cycle;
	u32 mem_outstanding;
};

struct qnpu_device {
	struct drm_device ddev;
	struct device *dev;
	void __iomem *regs;
	const struct qnpu_bus_ops *bus;
	void *bus_priv;
	struct qnpu_hw_info hw;

	struct drm_gpu_scheduler sched;
	bool sched_ready;
	/* The interrupt handler may touch the rings. */
	bool running;

	/* Jobs on the device, in submission order; ring indices. */
	spinlock_t job_lock;
	struct list_head inflight;
	u32 sq_tail;
	u32 cq_head;
	/* Entries written since the last doorbell (a batch's middle). */
	u32 db_owed;
	/* Entries on the device (the length of @inflight). */
	unsigned int ring_count;
	/*
	 * Jobs given a place in ring order (their fence's seqno) that wait
	 * for a free entry, oldest first; written as completions free
	 * entries. Direct jobs are not limited by the scheduler's credits.
	 */
	struct list_head backlog;
	unsigned int backlog_count;
	/* Jobs a reset aborted, in ring order, until they are re-queued. */
	struct list_head dropped;
	/* When the oldest job on the device started (jiffies). */
	unsigned long head_start;
	/* Job timeout in jiffies; @tdr checks the oldest job against it. */
	unsigned long job_timeout;
	struct delayed_work tdr;
	/*
	 * Owners of the ring besides the scheduler thread (the timeout
	 * handler, the heartbeat, the probe): no direct submission while
	 * one holds it.
	 */
	unsigned int ring_hold;
	/* Direct submissions so far, for debugfs. */
	u64 direct_jobs;
	/*
	 * Direct jobs that left the device, released in process context
	 * (the next SUBMIT or BO_WAIT, else @reap_work).
	 */
	struct list_head reap;
	struct delayed_work reap_work;
	/* Direct jobs submitted and not yet released. */
	atomic_t direct_live;
	bool lost;
	u32 reset_seq;
	unsigned int resets;
	unsigned int heartbeats;
	/* The job a reset is for: its ABORTED completion reports HANG. */
	struct qnpu_job *hung_job;
	/* A reset is under way: ABORTED completions are expected. */
	bool in_reset;
	/* The device wrote ring state we cannot trust: reset it. */
	bool cq_corrupt;
	unsigned int bad_completions;
	/* interrupts taken; those that found nothing left (a poll retired it) */
	atomic_long_t irqs, irqs_empty;
	/*
	 * The raw round-trip probe (qnpu_probe.c) has an entry on the ring:
	 * its completion sets @probe_status and @probe_ns. Under job_lock.
	 */
	bool probe_pending;
	u32 probe_status;
	u64 probe_ns;
	struct completion probe_done;
	/*
	 * Jobs that were on the device when it was lost: no acknowledged
	 * reset ended them, so it may still access their memory. They keep
	 * their BOs and context until the device is cut off the bus.
	 */
	struct list_head quarantine;
	unsigned int quarantined;

	/* Ring fences (in ring order) and fences of jobs decided unrun. */
	spinlock_t fence_lock;
	u64 fence_context;
	u64 fence_seqno;
	u64 result_context;
	u64 result_seqno;
	atomic64_t job_seqno;

	/* BO teardown once a context is idle; the heartbeat. */
	struct workqueue_struct *wq;
	struct delayed_work heartbeat;

	/* Live MMU contexts and BOs, for debugfs and leak checks. */
	struct mutex ctx_lock;
	struct list_head contexts;
	unsigned int ctx_next_id;
	atomic_t ctx_count;
	atomic_t bo_count;
	atomic64_t bo_bytes;
};

#define to_qnpu_device(d) container_of(d, struct qnpu_device, ddev)

/*
 * One level of a page table: the device-visible page and, above the leaf
 * level, the tables it points to.
 */
struct qnpu_pt {
	__le64 *cpu;
	dma_addr_t dma;
	struct qnpu_pt **next;
};

/*
 * A device address space: one per open file.
 *
 * The device caches translations for a whole job and the host must not
 * change the page tables of a running job (docs/hw-spec.md), so mappings
 * change only while none of the context's jobs can be on the device: a
 * new BO's entries are written at the next submit if the context is idle,
 * else by the job that waits for the context's previous job; a freed BO
 * is unmapped, and its pages released, once the context has no job left
 * (@active is 0), from @free_work.
 */
struct qnpu_ctx {
	struct kref refcount;
	struct qnpu_device *qdev;
	struct list_head node;
	unsigned int id;
	struct pid *pid;
	struct mutex lock;	/* va_mm and the page tables' CPU side */
	struct drm_mm va_mm;
	struct qnpu_pt root;
	unsigned int bo_count;
	u64 mapped_bytes;

	/* Its file was closed by a killed process: queued jobs do not run. */
	bool killed;
	/* Submissions: arm to push, the idle check of teardown. */
	struct mutex submit_lock;
	/* Hardware fence of its latest job on the ring, under job_lock. */
	struct dma_fence *last_hw;
	/*
	 * Its jobs pushed to the scheduler and not run yet, under job_lock:
	 * a direct submission may not overtake them.
	 */
	unsigned int unrun;

	spinlock_t state_lock;
	/* Jobs submitted and not yet released (under state_lock). */
	unsigned int active;
	/* BOs whose entries are not written yet (under state_lock). */
	struct list_head staged;
	/* BOs freed by GEM, waiting for the context to be idle. */
	struct list_head dead;
	struct work_struct free_work;
};

struct qnpu_file {
	struct qnpu_device *qdev;
	struct qnpu_ctx *ctx;
	struct drm_sched_entity entity;
};

struct qnpu_bo {
	struct drm_gem_shmem_object base;
	struct qnpu_ctx *ctx;
	struct drm_mm_node node;
	bool readonly;
	/* Kernel mapping, made when the BO is first a job's info BO. */
	void *vaddr;
	/* On ctx->staged (not mapped yet) or ctx->dead. */
	struct list_head staged_node;
	struct list_head dead_node;
};

#define to_qnpu_bo(obj) \
	container_of(to_drm_gem_shmem_obj(obj), struct qnpu_bo, base)

struct qnpu_job {
	struct drm_sched_job base;
	struct qnpu_device *qdev;
	struct qnpu_ctx *ctx;
	u64 id;
	u64 cmd_va;
	u32 cmd_count;
	u32 max_kcycles;

	struct drm_gem_object **bos;
	u32 bo_count;
	/* @bos when it fits: the command, info and two listed BOs. */
	struct drm_gem_object *bos_inline[4];

	/* The in-sync fences: if one failed, the job is not run. */
	struct dma_fence **in_fences;
	u32 in_count;

	struct drm_gem_object *info_obj;
	u32 info_handle;
	void *info_vaddr;
	u64 info_offset;

	/*
	 * Hardware fence, initialized when the job first reaches the ring
	 * (or is decided without running) and kept across the re-runs after
	 * a reset; it owns the job's memory. The job's place on the device,
	 * under qdev->job_lock.
	 */
	struct dma_fence hw_fence;
	bool hw_fence_init;
	struct list_head node;
	bool on_device;
	/* Final result, once known: a re-run after a reset only reports it. */
	bool has_result;
	u32 status;
	/* Write the context's staged mappings before running. */
	bool apply_maps;
	/* The next job of its batch rings the doorbell for it. */
	bool db_defer;
	/* An in-sync is an earlier job of its file: wait until it ends. */
	bool wait_prev;
	/* Was on the device when it was lost (see qnpu_device.quarantine). */
	bool quarantine;
	/* Counted in ctx->unrun (pushed, run_job not called yet). */
	bool unrun;
	/* On qdev->backlog: queued for the ring, not written yet. */
	bool in_backlog;
	/*
	 * Past the scheduler: SUBMIT queued it and the driver owns it (its
	 * fence is the hardware fence, released from qdev->reap).
	 */
	bool direct;
	/* Its SUBMIT still uses its BOs: not released yet. */
	bool committing;
};

#define to_qnpu_job(j) container_of(j, struct qnpu_job, base)

static inline u32 qnpu_read(struct qnpu_device *qdev, u32 reg)
{
	return readl(qdev->regs + reg);
}

static inline void qnpu_write(struct qnpu_device *qdev, u32 reg, u32 val)
{
	writel(val, qdev->regs + reg);
}

/* qnpu_device.c: the bus-independent core. */
int qnpu_device_init(struct qnpu_device *qdev);
void qnpu_device_fini(struct qnpu_device *qdev);
bool qnpu_device_probe_regs(struct device *dev, void __iomem *regs);
irqreturn_t qnpu_device_irq(int irq, void *arg);
void qnpu_device_poll(struct qnpu_device *qdev, struct dma_resv *resv,
		      s64 deadline_ns);
void qnpu_device_process_cq(struct qnpu_device *qdev);
void qnpu_device_doorbell(struct qnpu_device *qdev);
void qnpu_device_flush_doorbell(struct qnpu_device *qdev);
int qnpu_device_reset(struct qnpu_device *qdev);
void qnpu_device_resync(struct qnpu_device *qdev);
void qnpu_device_release_quarantine(struct qnpu_device *qdev);
void qnpu_device_hold_ring(struct qnpu_device *qdev, bool hold);
void qnpu_device_shutdown(struct qnpu_device *qdev);

/* qnpu_drv.c */
struct qnpu_device *qnpu_drm_alloc(struct device *dev);
int qnpu_drm_register(struct qnpu_device *qdev);
void qnpu_drm_unregister(struct qnpu_device *qdev);

/* qnpu_mmu.c */
struct qnpu_ctx *qnpu_ctx_create(struct qnpu_device *qdev);
void qnpu_ctx_put(struct qnpu_ctx *ctx);
void qnpu_ctx_put_many(struct qnpu_ctx *ctx, unsigned int n);
int qnpu_mmu_map_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo);
void qnpu_mmu_unmap_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo);
void qnpu_mmu_apply(struct qnpu_ctx *ctx);
bool qnpu_ctx_has_staged(struct qnpu_ctx *ctx);
void qnpu_ctx_job_begin(struct qnpu_ctx *ctx, unsigned int n);
void qnpu_ctx_job_end(struct qnpu_ctx *ctx, unsigned int n);
void qnpu_ctx_bo_dead(struct qnpu_ctx *ctx, struct qnpu_bo *bo);

/* qnpu_gem.c */
struct drm_gem_object *qnpu_gem_create_object(struct drm_device *ddev,
					      size_t size);
void qnpu_gem_teardown(struct qnpu_bo *bo);
int qnpu_ioctl_bo_create(struct drm_device *ddev, void *data,
			 struct drm_file *file);
int qnpu_ioctl_bo_mmap_offset(struct drm_device *ddev, void *data,
			      struct drm_file *file);
int qnpu_ioctl_bo_wait(struct drm_device *ddev, void *data,
		       struct drm_file *file);

/* qnpu_job.c */
extern const struct drm_sched_backend_ops qnpu_sched_ops;
int qnpu_ioctl_submit(struct drm_device *ddev, void *data,
		      struct drm_file *file);
void qnpu_job_complete(struct qnpu_job *job, u32 status,
		       void __iomem *cqe);
void qnpu_job_release(struct qnpu_job *job);
void qnpu_job_release_list(struct list_head *list);
void qnpu_job_end_fence(struct qnpu_job *job);
void qnpu_job_off_device(struct qnpu_job *job, bool lost);
void qnpu_job_fail(struct qnpu_job *job, u32 status, bool lost);
unsigned int qnpu_job_drain_backlog(struct qnpu_device *qdev);
void qnpu_job_reap(struct qnpu_device *qdev);
void qnpu_job_reap_work(struct work_struct *work);
void qnpu_job_tdr_work(struct work_struct *work);
void qnpu_job_cancel_killed(struct qnpu_ctx *ctx);

/* qnpu_pci.c, qnpu_of.c */
extern struct pci_driver qnpu_pci_driver;
extern struct platform_driver qnpu_platform_driver;

/* qnpu_probe.c */
struct seq_file;
int qnpu_probe_show(struct seq_file *m, struct qnpu_device *qdev);

/* qnpu_debugfs.c */
void qnpu_debugfs_init(struct drm_minor *minor);

#endif /* QNPU_DRV_H */
