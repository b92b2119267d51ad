// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu buffer objects: GEM shmem, pinned at creation and mapped into the
 * creating file's device address space until the last reference goes and
 * the context is idle: a job of the context may use any BO of it, listed
 * or not, so the pages of a freed BO are released only once none of the
 * context's jobs can reach the device (qnpu_mmu.c).
 */
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/slab.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/drm_utils.h>

#include "qnpu_drv.h"
#include "qnpu_drm.h"

/**
 * qnpu_gem_teardown() - unmap a freed BO and release its pages
 * @bo: the BO, its context idle
 */
void qnpu_gem_teardown(struct qnpu_bo *bo)
{
	struct qnpu_device *qdev = to_qnpu_device(bo->base.base.dev);
	struct qnpu_ctx *ctx = bo->ctx;

	qnpu_mmu_unmap_bo(ctx, bo);
	if (bo->vaddr) {
		struct iosys_map map = IOSYS_MAP_INIT_VADDR(bo->vaddr);

		drm_gem_shmem_vunmap(&bo->base, &map);
		bo->vaddr = NULL;
	}
	atomic_dec(&qdev->bo_count);
	atomic_dec(&qnpu_live_bos);
	atomic64_sub(bo->base.base.size, &qdev->bo_bytes);
	bo->ctx = NULL;
	drm_gem_shmem_free(&bo->base);
	qnpu_ctx_put(ctx);
}

/*
 * May run from the scheduler's free_job (a job dropping the last
 * reference), in the fence-signalling path: the teardown, which waits for
 * the context to be idle and takes its locks, is deferred to a worker.
 */
static void qnpu_gem_free(struct drm_gem_object *obj)
{
	struct qnpu_bo *bo = to_qnpu_bo(obj);

	if (bo->ctx)
		qnpu_ctx_bo_dead(bo->ctx, bo);
	else
		drm_gem_shmem_free(&bo->base);
}

static const struct drm_gem_object_funcs qnpu_gem_funcs = {
	.free = qnpu_gem_free,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/**
 * qnpu_gem_create_object() - allocate the driver's BO around a shmem object
 * @ddev: DRM device
 * @size: object size
 *
 * Return: the embedded GEM object or an ERR_PTR.
 */
struct drm_gem_object *qnpu_gem_create_object(struct drm_device *ddev,
					      size_t size)
{
	struct qnpu_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->base.base.funcs = &qnpu_gem_funcs;
	INIT_LIST_HEAD(&bo->staged_node);
	INIT_LIST_HEAD(&bo->dead_node);
	/* The device snoops the CPU cache (PCI, or a coherent SoC port). */
	bo->base.map_wc = false;
	return &bo->base.base;
}

int qnpu_ioctl_bo_create(struct drm_device *ddev, void *data,
			 struct drm_file *file)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct qnpu_file *qfile = file->driver_priv;
	struct drm_qnpu_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	struct sg_table *sgt;
	struct qnpu_bo *bo;
	int ret;

	if (args->flags & ~DRM_QNPU_BO_FLAGS) {
		drm_dbg(ddev, "bo_create: unknown flags %#x\n", args->flags);
		return -EINVAL;
	}
	if (!args->size || args->size > QNPU_MAX_BO_SIZE) {
		drm_dbg(ddev, "bo_create: size %llu out of range\n",
			args->size);
		return -EINVAL;
	}
	/* Before pinning anything; qnpu_mmu_map_bo() checks for good. */
	if (PAGE_ALIGN(args->size) > (u64)qnpu_max_mib_per_file << 20) {
		drm_dbg(ddev, "bo_create: size %llu over the file's limit\n",
			args->size);
		return -ENOSPC;
	}

	shmem = drm_gem_shmem_create(ddev, PAGE_ALIGN(args->size));
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	bo = container_of(shmem, struct qnpu_bo, base);
	bo->readonly = args->flags & DRM_QNPU_BO_READONLY;

	/* Pins the pages and maps them for the device. */
	sgt = drm_gem_shmem_get_pages_sgt(shmem);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_put;
	}
	ret = qnpu_mmu_map_bo(qfile->ctx, bo);
	if (ret)
		goto err_put;
	kref_get(&qfile->ctx->refcount);
	bo->ctx = qfile->ctx;
	atomic_inc(&qdev->bo_count);
	atomic_inc(&qnpu_live_bos);
	atomic64_add(shmem->base.size, &qdev->bo_bytes);

	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	if (ret)
		goto err_put;
	args->va = bo->node.start;
	/* The handle holds the reference now. */
	drm_gem_object_put(&shmem->base);
	return 0;

err_put:
	drm_gem_object_put(&shmem->base);
	return ret;
}

int qnpu_ioctl_bo_mmap_offset(struct drm_device *ddev, void *data,
			      struct drm_file *file)
{
	struct drm_qnpu_bo_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->flags) {
		drm_dbg(ddev, "bo_mmap_offset: unknown flags %#x\n",
			args->flags);
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		drm_dbg(ddev, "bo_mmap_offset: no BO %u\n", args->handle);
		return -ENOENT;
	}
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}

int qnpu_ioctl_bo_wait(struct drm_device *ddev, void *data,
		       struct drm_file *file)
{
	struct drm_qnpu_bo_wait *args = data;
	struct drm_gem_object *obj;
	long timeout;
	long ret;

	if (args->flags) {
		drm_dbg(ddev, "bo_wait: unknown flags %#x\n", args->flags);
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		drm_dbg(ddev, "bo_wait: no BO %u\n", args->handle);
		return -ENOENT;
	}
	/*
	 * Idle already: a serial job's completion interrupt usually comes
	 * while its SUBMIT still runs. Nothing to poll or wait for.
	 */
	ret = dma_resv_test_signaled(obj->resv, DMA_RESV_USAGE_READ);
	timeout = ret ? 0 : drm_timeout_abs_to_jiffies(args->timeout_ns);
	if (timeout) {
		qnpu_device_poll(to_qnpu_device(ddev), obj->resv,
				 args->timeout_ns);
		ret = dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_READ,
					    true, timeout);
	}
	drm_gem_object_put(obj);
	/* Release the direct jobs that ended (no worker wake-up for them). */
	qnpu_job_reap(to_qnpu_device(ddev));
	if (ret == 0)
		return -ETIMEDOUT;
	return ret < 0 ? ret : 0;
}
