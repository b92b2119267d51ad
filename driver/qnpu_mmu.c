// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu MMU contexts: one device address space per open file. 3-level page
 * tables of 512 64-bit entries (4 KiB pages, 39-bit VA); a table entry
 * holds V and the physical page of the next table, a leaf holds V, W and
 * the physical page of the data. Tables are allocated as the address space
 * grows and freed with the context; the device flushes its TLB at every
 * job start, so changing entries between jobs needs no flush.
 */
#include <linux/dma-mapping.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "qnpu_drv.h"

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

/* The leaf table for @va, allocating the tables on the way. */
static struct qnpu_pt *qnpu_pt_walk(struct qnpu_ctx *ctx, u64 va, bool alloc)
{
	struct qnpu_pt *pt = &ctx->root;
	unsigned int level, idx;

	for (level = 0; level < QNPU_PT_LEVELS - 1; level++) {
		idx = QNPU_PT_INDEX(va, level);
		if (!pt->next[idx]) {
			struct qnpu_pt *child;
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
			pt->next[idx] = child;
			WRITE_ONCE(pt->cpu[idx], qnpu_pte(child->dma, false));
		}
		pt = pt->next[idx];
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

/**
 * qnpu_mmu_map_bo() - give a BO a device address and map it
 * @ctx: the owning file's context
 * @bo: the BO, its node still unallocated
 * @sgt: its DMA-mapped pages
 *
 * A guard page after the BO stays unmapped, so running off the end faults.
 *
 * Return: 0 or a negative errno.
 */
int qnpu_mmu_map_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo,
		    struct sg_table *sgt)
{
	size_t size = bo->base.base.size;
	struct sg_dma_page_iter iter;
	struct qnpu_pt *pt;
	u64 va;
	int ret;

	mutex_lock(&ctx->lock);
	ret = drm_mm_insert_node_in_range(&ctx->va_mm, &bo->node,
					  size + QNPU_PAGE_BYTES,
					  QNPU_PAGE_BYTES, 0, QNPU_VA_START,
					  QNPU_VA_END, DRM_MM_INSERT_BEST);
	if (ret)
		goto err_unlock;

	va = bo->node.start;
	for_each_sgtable_dma_page(sgt, &iter, 0) {
		if (va >= bo->node.start + size)
			break;
		pt = qnpu_pt_walk(ctx, va, true);
		if (!pt) {
			ret = -ENOMEM;
			goto err_clear;
		}
		WRITE_ONCE(pt->cpu[QNPU_PT_INDEX(va, QNPU_PT_LEVELS - 1)],
			   qnpu_pte(sg_page_iter_dma_address(&iter),
				    !bo->readonly));
		va += QNPU_PAGE_BYTES;
	}
	ctx->bo_count++;
	ctx->mapped_bytes += size;
	mutex_unlock(&ctx->lock);
	/* The device may walk these tables at the next doorbell. */
	wmb();
	return 0;

err_clear:
	qnpu_mmu_clear(ctx, bo->node.start, va - bo->node.start);
	drm_mm_remove_node(&bo->node);
err_unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * qnpu_mmu_unmap_bo() - remove a BO's mapping and free its address
 * @ctx: the context it was mapped into
 * @bo: the BO
 */
void qnpu_mmu_unmap_bo(struct qnpu_ctx *ctx, struct qnpu_bo *bo)
{
	mutex_lock(&ctx->lock);
	qnpu_mmu_clear(ctx, bo->node.start, bo->base.base.size);
	drm_mm_remove_node(&bo->node);
	ctx->bo_count--;
	ctx->mapped_bytes -= bo->base.base.size;
	mutex_unlock(&ctx->lock);
	wmb();
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
	ctx->pid = task_tgid_nr(current);
	mutex_init(&ctx->lock);
	drm_mm_init(&ctx->va_mm, QNPU_VA_START, QNPU_VA_END - QNPU_VA_START);
	ret = qnpu_pt_alloc(qdev, &ctx->root, false);
	if (ret)
		goto err_free;

	mutex_lock(&qdev->ctx_lock);
	ctx->id = ++qdev->ctx_next_id;
	list_add_tail(&ctx->node, &qdev->contexts);
	mutex_unlock(&qdev->ctx_lock);
	atomic_inc(&qdev->ctx_count);
	return ctx;

err_free:
	drm_mm_takedown(&ctx->va_mm);
	mutex_destroy(&ctx->lock);
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

	qnpu_pt_free(qdev, &ctx->root);
	drm_mm_takedown(&ctx->va_mm);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
	atomic_dec(&qdev->ctx_count);
}

/**
 * qnpu_ctx_put() - drop a context reference
 * @ctx: the context; its page tables go with the last reference
 */
void qnpu_ctx_put(struct qnpu_ctx *ctx)
{
	if (ctx)
		kref_put(&ctx->refcount, qnpu_ctx_release);
}
