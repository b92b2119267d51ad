// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu MMU contexts: one device address space per open file. 3-level page
 * tables of 512 64-bit entries (4 KiB pages, 39-bit VA); a table entry
 * holds V and the physical page of the next table, a leaf holds V, W and
 * the physical page of the data. Tables are allocated as the address space
 * grows and freed with the context.
 *
 * The device caches translations for the duration of a job and drops them
 * at every job start and reset; the host must not change the tables of a
 * running job. So entries are written only while no job of the context
 * can be on the device (struct qnpu_ctx): a new BO is staged, its tables
 * allocated at once and its entries written by qnpu_mmu_apply(); a freed
 * BO is unmapped once the context is idle. Between jobs no TLB flush is
 * needed. A kernel page larger than the device's 4 KiB is mapped as
 * several device pages.
 */
#include <linux/dma-mapping.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_print.h>

#include "qnpu_drv.h"

static_assert(PAGE_SIZE % QNPU_PAGE_BYTES == 0);

#define QNPU_PT_SHIFT(level) \
	(QNPU_PAGE_SHIFT + 9 * (QNPU_PT_LEVELS - 1 - (level)))
#define QNPU_PT_INDEX(va, level) \
	(((va) >> QNPU_PT_SHIFT(level)) & (QNPU_PT_ENTRIES - 1))

static int qnpu_pt_alloc(struct qnpu_device *qdev, struct qnpu_pt *pt,
			 bool leaf)
{
	pt->cpu = dma_alloc_coherent(qdev->dev, QNPU_PAGE_BYTES, &pt->dma,
				     GFP_KERNEL);
	if (!pt->cpu)
		return -ENOMEM;
	pt->next = NULL;
	if (!leaf) {
		pt->next = kcalloc(QNPU_PT_ENTRIES, sizeof(*pt->next),
				   GFP_KERNEL);
		if (!pt->next)
			goto err_free_table;
	}
	return 0;

err_free_table:
	dma_free_coherent(qdev->dev, QNPU_PAGE_BYTES, pt->cpu, pt->dma);
	pt->cpu = NULL;
	return -ENOMEM;
}

static void qnpu_pt_free(struct qnpu_device *qdev, struct qnpu_pt *pt)
{
	unsigned int i;

	if (pt->next) {
		for (i = 0; i < QNPU_PT_ENTRIES; i++) {
			if (!pt->next[i])
				continue;
			qnpu_pt_free(qdev, pt->next[i]);
			kfree(pt->next[i]);
		}
		kfree(pt->next);
	}
	if (pt->cpu)
		dma_free_coherent(qdev->dev, QNPU_PAGE_BYTES, pt->cpu, pt->dma);
}

static __le64 qnpu_pte(dma_addr_t pa, bool writable)
{
	u64 pte = QNPU_PTE_V_MASK | (pa & QNPU_PTE_PA_MASK);

	if (writable)
		pte |= QNPU_PTE_W_MASK;
	return cpu_to_le64(pte);
}

/*
 * The leaf table for @va: the CPU side of the walk, allocating missing
 * tables if @alloc. A new table is linked here but made visible to the
 * device only by qnpu_pt_publish(), so allocation never edits the tables
 * of a running job.
 */
static struct qnpu_pt *qnpu_pt_walk(struct qnpu_ctx *ctx, u64 va, bool alloc)
{
	struct qnpu_pt *pt = &ctx->root;
	unsigned int level, idx;

	for (level = 0; level < QNPU_PT_LEVELS - 1; level++) {
		struct qnpu_pt *child;

		idx = QNPU_PT_INDEX(va, level);
		child = smp_load_acquire(&pt->next[idx]);
		if (!child) {
			bool leaf = level + 1 == QNPU_PT_LEVELS - 1;

			if (!alloc)
				return NULL;
			child = kzalloc(sizeof(*child), GFP_KERNEL);
			if (!child)
				return NULL;
			if (qnpu_pt_alloc(ctx->qdev, child, leaf)) {
				kfree(child);
				return NULL;
			}
			/* qnpu_mmu_apply() follows it without ctx->lock. */
			smp_store_release(&pt->next[idx], child);
		}
		pt = child;
	}
	return pt;
}

/* The leaf table for @va, with every table entry on the way written. */
static struct qnpu_pt *qnpu_pt_publish(struct qnpu_ctx *ctx, u64 va)
{
	struct qnpu_pt *pt = &ctx->root, *child;
	unsigned int level, idx;

	for (level = 0; level < QNPU_PT_LEVELS - 1; level++) {
		idx = QNPU_PT_INDEX(va, level);
		child = smp_load_acquire(&pt->next[idx]);
		if (!child)
			return NULL;
		if (!pt->cpu[idx])
			WRITE_ONCE(pt->cpu[idx], qnpu_pte(child->dma, false));
		pt = child;
	}
	return pt;
}

static void qnpu_mmu_clear(struct qnpu_ctx *ctx, u64 va, u64 size)
{
	unsigned int leaf = QNPU_PT_LEVELS - 1;
	struct qnpu_pt *pt;
	u64 end = va + size;

	for (; va < end; va += QNPU_PAGE_BYTES) {
		pt = qnpu_pt_walk(ctx, va, false);
		if (pt)
			WRITE_ONCE(pt->cpu[QNPU_PT_INDEX(va, leaf)], 0);
	}
}

/* Write a staged BO's entries; no job of its context is on the device. */
static void qnpu_mmu_write_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo)
{
	u64 va = bo->node.start, end = va + bo->base.base.size;
	unsigned int leaf = QNPU_PT_LEVELS - 1, off;
	struct sg_dma_page_iter iter;
	struct qnpu_pt *pt;
	dma_addr_t pa;

	for_each_sgtable_dma_page(bo->base.sgt, &iter, 0) {
		pa = sg_page_iter_dma_address(&iter);
		for (off = 0; off < PAGE_SIZE && va < end;
		     off += QNPU_PAGE_BYTES, va += QNPU_PAGE_BYTES) {
			pt = qnpu_pt_publish(ctx, va);
			/* Allocated by qnpu_mmu_map_bo(): cannot fail. */
			if (WARN_ON(!pt))
				return;
			WRITE_ONCE(pt->cpu[QNPU_PT_INDEX(va, leaf)],
				   qnpu_pte(pa + off, !bo->readonly));
		}
	}
}

/**
 * qnpu_mmu_apply() - write the entries of every staged BO
 * @ctx: the context; none of its jobs may be on the device
 *
 * Called at submit when the context is idle, or from run_job by a job that
 * waited for the context's previous job. Allocates nothing: the tables
 * were allocated when the BO was created. The device reads the tables only
 * after the doorbell that follows (writel orders them before it).
 */
void qnpu_mmu_apply(struct qnpu_ctx *ctx)
{
	struct qnpu_bo *bo, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	/*
	 * Taken off the list, written without the lock: only a teardown
	 * touches a staged BO's node otherwise, and it runs only while the
	 * context is idle and no submit is under way, never beside this.
	 */
	spin_lock_irqsave(&ctx->state_lock, flags);
	list_splice_init(&ctx->staged, &list);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
	list_for_each_entry_safe(bo, tmp, &list, staged_node) {
		qnpu_mmu_write_bo(ctx, bo);
		list_del_init(&bo->staged_node);
	}
}

/**
 * qnpu_ctx_has_staged() - are there mappings to write before the next job?
 * @ctx: the context
 *
 * Return: true if a BO's entries are not written yet.
 */
bool qnpu_ctx_has_staged(struct qnpu_ctx *ctx)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&ctx->state_lock, flags);
	ret = !list_empty(&ctx->staged);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
	return ret;
}

/**
 * qnpu_mmu_map_bo() - give a BO a device address and stage its mapping
 * @ctx: the owning file's context
 * @bo: the BO, its pages pinned and DMA-mapped, its node unallocated
 *
 * A guard page after the BO stays unmapped, so running off the end faults.
 * The page tables are allocated now; the entries are written before the
 * context's next job (qnpu_mmu_apply()).
 *
 * Return: 0, -ENOSPC past the file's limits, or another negative errno.
 */
int qnpu_mmu_map_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo)
{
	size_t size = bo->base.base.size;
	unsigned long flags;
	u64 va;
	int ret;

	mutex_lock(&ctx->lock);
	if (ctx->bo_count >= qnpu_max_bos_per_file ||
	    ctx->mapped_bytes + size > (u64)qnpu_max_mib_per_file << 20) {
		drm_dbg(&ctx->qdev->ddev,
			"bo_create: file limit (%u BOs, %llu bytes)\n",
			ctx->bo_count, ctx->mapped_bytes);
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = drm_mm_insert_node_in_range(&ctx->va_mm, &bo->node,
					  size + QNPU_PAGE_BYTES,
					  QNPU_PAGE_BYTES, 0, QNPU_VA_START,
					  QNPU_VA_END, DRM_MM_INSERT_BEST);
	if (ret)
		goto err_unlock;

	for (va = bo->node.start; va < bo->node.start + size;
	     va += QNPU_PAGE_BYTES) {
		if (!qnpu_pt_walk(ctx, va, true)) {
			ret = -ENOMEM;
			goto err_remove;
		}
	}
	ctx->bo_count++;
	ctx->mapped_bytes += size;
	spin_lock_irqsave(&ctx->state_lock, flags);
	list_add_tail(&bo->staged_node, &ctx->staged);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
	mutex_unlock(&ctx->lock);
	return 0;

err_remove:
	/* Tables already allocated stay with the context; none is visible. */
	drm_mm_remove_node(&bo->node);
err_unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * qnpu_mmu_unmap_bo() - remove a BO's mapping and free its address
 * @ctx: the context it was mapped into, idle (no job can be on the device)
 * @bo: the BO
 */
void qnpu_mmu_unmap_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo)
{
	unsigned long flags;

	mutex_lock(&ctx->lock);
	spin_lock_irqsave(&ctx->state_lock, flags);
	list_del_init(&bo->staged_node);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
	qnpu_mmu_clear(ctx, bo->node.start, bo->base.base.size);
	drm_mm_remove_node(&bo->node);
	ctx->bo_count--;
	ctx->mapped_bytes -= bo->base.base.size;
	mutex_unlock(&ctx->lock);
}

/* Unmap and release the BOs freed while the context had jobs. */
static void qnpu_ctx_free_work(struct work_struct *work)
{
	struct qnpu_ctx *ctx = container_of(work, struct qnpu_ctx, free_work);
	struct qnpu_bo *bo, *tmp;
	unsigned long flags;
	LIST_HEAD(dead);

	/* No submit can make the context busy while we tear down. */
	mutex_lock(&ctx->submit_lock);
	spin_lock_irqsave(&ctx->state_lock, flags);
	if (!ctx->active)
		list_splice_init(&ctx->dead, &dead);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
	list_for_each_entry_safe(bo, tmp, &dead, dead_node) {
		list_del_init(&bo->dead_node);
		qnpu_gem_teardown(bo);
	}
	mutex_unlock(&ctx->submit_lock);
	/* The reference taken when the work was queued. */
	qnpu_ctx_put(ctx);
}

/*
 * Under ctx->state_lock, the caller holding a context reference. The work
 * holds one more, taken before it can drop it: it needs state_lock first.
 */
static void qnpu_ctx_queue_free(struct qnpu_ctx *ctx)
{
	if (ctx->active || list_empty(&ctx->dead))
		return;
	if (queue_work(ctx->qdev->wq, &ctx->free_work))
		kref_get(&ctx->refcount);
}

/**
 * qnpu_ctx_job_begin() - jobs of the context were submitted
 * @ctx: the context
 * @n: how many
 */
void qnpu_ctx_job_begin(struct qnpu_ctx *ctx, unsigned int n)
{
	unsigned long flags;

	spin_lock_irqsave(&ctx->state_lock, flags);
	ctx->active += n;
	spin_unlock_irqrestore(&ctx->state_lock, flags);
}

/**
 * qnpu_ctx_job_end() - jobs released their BOs; the device cannot reach
 *	them
 * @ctx: the context
 * @n: how many
 */
void qnpu_ctx_job_end(struct qnpu_ctx *ctx, unsigned int n)
{
	unsigned long flags;

	spin_lock_irqsave(&ctx->state_lock, flags);
	ctx->active -= n;
	qnpu_ctx_queue_free(ctx);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
}

/**
 * qnpu_ctx_bo_dead() - GEM freed a BO of the context
 * @ctx: the context
 * @bo: the BO; unmapped and released once the context is idle
 */
void qnpu_ctx_bo_dead(struct qnpu_ctx *ctx, struct qnpu_bo *bo)
{
	unsigned long flags;

	spin_lock_irqsave(&ctx->state_lock, flags);
	list_add_tail(&bo->dead_node, &ctx->dead);
	qnpu_ctx_queue_free(ctx);
	spin_unlock_irqrestore(&ctx->state_lock, flags);
}

/**
 * qnpu_ctx_create() - a new, empty device address space
 * @qdev: the device
 *
 * Return: the context with one reference, or an ERR_PTR.
 */
struct qnpu_ctx *qnpu_ctx_create(struct qnpu_device *qdev)
{
	struct qnpu_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	kref_init(&ctx->refcount);
	ctx->qdev = qdev;
	ctx->pid = get_pid(task_tgid(current));
	mutex_init(&ctx->lock);
	mutex_init(&ctx->submit_lock);
	spin_lock_init(&ctx->state_lock);
	INIT_LIST_HEAD(&ctx->staged);
	INIT_LIST_HEAD(&ctx->dead);
	INIT_WORK(&ctx->free_work, qnpu_ctx_free_work);
	drm_mm_init(&ctx->va_mm, QNPU_VA_START, QNPU_VA_END - QNPU_VA_START);
	ret = qnpu_pt_alloc(qdev, &ctx->root, false);
	if (ret)
		goto err_free;

	mutex_lock(&qdev->ctx_lock);
	ctx->id = ++qdev->ctx_next_id;
	list_add_tail(&ctx->node, &qdev->contexts);
	mutex_unlock(&qdev->ctx_lock);
	atomic_inc(&qdev->ctx_count);
	atomic_inc(&qnpu_live_ctxs);
	return ctx;

err_free:
	drm_mm_takedown(&ctx->va_mm);
	mutex_destroy(&ctx->submit_lock);
	mutex_destroy(&ctx->lock);
	put_pid(ctx->pid);
	kfree(ctx);
	return ERR_PTR(ret);
}

static void qnpu_ctx_release(struct kref *kref)
{
	struct qnpu_ctx *ctx = container_of(kref, struct qnpu_ctx, refcount);
	struct qnpu_device *qdev = ctx->qdev;

	mutex_lock(&qdev->ctx_lock);
	list_del(&ctx->node);
	mutex_unlock(&qdev->ctx_lock);

	dma_fence_put(ctx->last_hw);
	qnpu_pt_free(qdev, &ctx->root);
	drm_mm_takedown(&ctx->va_mm);
	mutex_destroy(&ctx->submit_lock);
	mutex_destroy(&ctx->lock);
	put_pid(ctx->pid);
	kfree(ctx);
	atomic_dec(&qdev->ctx_count);
	atomic_dec(&qnpu_live_ctxs);
}

/**
 * qnpu_ctx_put() - drop a context reference
 * @ctx: the context; its page tables go with the last reference
 *
 * May sleep.
 */
void qnpu_ctx_put(struct qnpu_ctx *ctx)
{
	if (ctx)
		kref_put(&ctx->refcount, qnpu_ctx_release);
}

/**
 * qnpu_ctx_put_many() - drop @n references of a context (a batch's jobs)
 * @ctx: the context
 * @n: how many, all held
 */
void qnpu_ctx_put_many(struct qnpu_ctx *ctx, unsigned int n)
{
	if (refcount_sub_and_test(n, &ctx->refcount.refcount))
		qnpu_ctx_release(&ctx->refcount);
}
