/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* qnpu: driver-internal types shared by the core, the GEM, MMU, job and
 * bus-glue files. */
#ifndef QNPU_DRV_H
#define QNPU_DRV_H

#include <linux/dma-fence.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <drm/drm_device.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>
#include <drm/gpu_scheduler.h>

#include "qnpu_regs.h"

#define QNPU_DRIVER_NAME	"qnpu"

/* Device VA layout: page 0..15 unmapped (null pointers fault), a guard
 * page after every BO. */
#define QNPU_VA_START		0x10000ULL
#define QNPU_VA_END		(1ULL << QNPU_VA_BITS)
#define QNPU_MAX_BO_SIZE	(1ULL << 30)
#define QNPU_MAX_CMD_BYTES	((u64)QNPU_CMD_BYTES << 24)
#define QNPU_PT_ENTRIES		512

extern unsigned int qnpu_job_timeout_s;
extern unsigned int qnpu_reset_timeout_ms;

struct qnpu_device;

/* What the bus glue provides: where the register page is and how to ring
 * the device's doorbell. */
struct qnpu_bus_ops {
	void (*doorbell)(struct qnpu_device *qdev);
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
	bool lost;
	u32 reset_seq;
	unsigned int resets;
	/* The job a reset is for: its ABORTED completion reports HANG. */
	struct qnpu_job *hung_job;

	spinlock_t fence_lock;
	u64 fence_context;
	u64 fence_seqno;
	atomic64_t job_seqno;

	/* Live MMU contexts and BOs, for debugfs and leak checks. */
	struct mutex ctx_lock;
	struct list_head contexts;
	unsigned int ctx_next_id;
	atomic_t ctx_count;
	atomic_t bo_count;
	atomic64_t bo_bytes;
};

#define to_qnpu_device(d) container_of(d, struct qnpu_device, ddev)

/* One level of a page table: the device-visible page and, above the leaf
 * level, the tables it points to. */
struct qnpu_pt {
	__le64 *cpu;
	dma_addr_t dma;
	struct qnpu_pt **next;
};

/* A device address space: one per open file. */
struct qnpu_ctx {
	struct kref refcount;
	struct qnpu_device *qdev;
	struct list_head node;
	unsigned int id;
	pid_t pid;
	struct mutex lock;	/* va_mm and the page tables */
	struct drm_mm va_mm;
	struct qnpu_pt root;
	unsigned int bo_count;
	u64 mapped_bytes;
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

	/* The in-sync fences: if one failed, the job is not run. */
	struct dma_fence **in_fences;
	u32 in_count;

	struct drm_gem_object *info_obj;
	void *info_vaddr;
	u64 info_offset;

	/* Hardware fence of the current run, and the job's place on the
	 * device (under qdev->job_lock). */
	struct dma_fence *done;
	struct list_head node;
	bool on_device;
	/* Final result, once known: a re-run after a reset only reports it. */
	bool has_result;
	u32 status;
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
void qnpu_device_process_cq(struct qnpu_device *qdev);
void qnpu_device_doorbell(struct qnpu_device *qdev);
int qnpu_device_reset(struct qnpu_device *qdev);
void qnpu_device_resync(struct qnpu_device *qdev);

/* qnpu_drv.c */
struct qnpu_device *qnpu_drm_alloc(struct device *dev);
int qnpu_drm_register(struct qnpu_device *qdev);
void qnpu_drm_unregister(struct qnpu_device *qdev);

/* qnpu_mmu.c */
struct qnpu_ctx *qnpu_ctx_create(struct qnpu_device *qdev);
void qnpu_ctx_put(struct qnpu_ctx *ctx);
int qnpu_mmu_map_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo,
		    struct sg_table *sgt);
void qnpu_mmu_unmap_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo);

/* qnpu_gem.c */
struct drm_gem_object *qnpu_gem_create_object(struct drm_device *ddev,
					      size_t size);
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

/* qnpu_pci.c, qnpu_of.c */
extern struct pci_driver qnpu_pci_driver;
extern struct platform_driver qnpu_platform_driver;

/* qnpu_debugfs.c */
void qnpu_debugfs_init(struct drm_minor *minor);

#endif /* QNPU_DRV_H */
