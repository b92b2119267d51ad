// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu: DRM render-node driver for the qnpu INT8 NPU. Module, DRM driver
 * and ioctl table; the bus glue (qnpu_pci.c, qnpu_of.c) creates devices.
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>

#include "qnpu_drv.h"
#include "qnpu_drm.h"

atomic_t qnpu_live_bos;
atomic_t qnpu_live_ctxs;
atomic_t qnpu_live_jobs;

/* Module parameters with a range: insmod fails with EINVAL outside it. */
#define QNPU_PARAM_RANGE(name, var, def, min, max, desc)		\
	unsigned int var = def;						\
	static int var##_set(const char *val, const struct kernel_param *kp) \
	{								\
		return param_set_uint_minmax(val, kp, min, max);	\
	}								\
	static const struct kernel_param_ops var##_ops = {		\
		.set = var##_set,					\
		.get = param_get_uint,					\
	};								\
	module_param_cb(name, &var##_ops, &var, 0444);			\
	MODULE_PARM_DESC(name, desc " (default " #def ", " #min ".." #max ")")

/* Generous: the device may be RTL simulated in another process. */
QNPU_PARAM_RANGE(job_timeout_s, qnpu_job_timeout_s, 60, 1, 3600,
		 "Seconds a job may run before the device is reset");
QNPU_PARAM_RANGE(reset_timeout_ms, qnpu_reset_timeout_ms, 2000, 1, 60000,
		 "Reset acknowledge wait before the device is lost (ms)");
QNPU_PARAM_RANGE(heartbeat_ms, qnpu_heartbeat_ms, 1000, 0, 60000,
		 "Lost-interrupt and idle-device check period (ms, 0 off)");
QNPU_PARAM_RANGE(max_bos_per_file, qnpu_max_bos_per_file, 65536, 1, 1048576,
		 "BOs one open file may have");
QNPU_PARAM_RANGE(max_mib_per_file, qnpu_max_mib_per_file, 1024, 1, 1048576,
		 "MiB of BOs one open file may have");
QNPU_PARAM_RANGE(max_jobs_per_file, qnpu_max_jobs_per_file, 1024, 1, 65536,
		 "Jobs one open file may have submitted and not yet finished");
QNPU_PARAM_RANGE(poll_us, qnpu_poll_us, 50, 0, 1000,
		 "BO_WAIT polls the completion ring this long first (us)");
/* Writable: the benchmark compares both paths in one run. */
bool qnpu_direct_submit = true;
module_param_named(direct_submit, qnpu_direct_submit, bool, 0644);
MODULE_PARM_DESC(direct_submit,
		 "SUBMIT writes a job nothing holds back to the ring itself (default true)");

static int qnpu_open(struct drm_device *ddev, struct drm_file *file)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct drm_gpu_scheduler *sched = &qdev->sched;
	struct qnpu_file *qfile;
	int ret;

	qfile = kzalloc(sizeof(*qfile), GFP_KERNEL);
	if (!qfile)
		return -ENOMEM;
	qfile->qdev = qdev;
	qfile->ctx = qnpu_ctx_create(qdev);
	if (IS_ERR(qfile->ctx)) {
		ret = PTR_ERR(qfile->ctx);
		goto err_free;
	}
	ret = drm_sched_entity_init(&qfile->entity, DRM_SCHED_PRIORITY_NORMAL,
				    &sched, 1, NULL);
	if (ret)
		goto err_put_ctx;
	file->driver_priv = qfile;
	return 0;

err_put_ctx:
	qnpu_ctx_put(qfile->ctx);
err_free:
	kfree(qfile);
	return ret;
}

static void qnpu_postclose(struct drm_device *ddev, struct drm_file *file)
{
	struct qnpu_file *qfile = file->driver_priv;

	/*
	 * A killed process's jobs that have not reached the device are not
	 * run: CANCELED, with their info written (qnpu_job_run()).
	 */
	if ((current->flags & PF_EXITING) && (current->flags & PF_SIGNALED))
		WRITE_ONCE(qfile->ctx->killed, true);
	/*
	 * Waits for queued jobs (or kills them if the process is dying);
	 * jobs on the device keep the context alive until they end.
	 */
	drm_sched_entity_destroy(&qfile->entity);
	/* Its direct jobs still waiting for a ring entry do not run either. */
	if (READ_ONCE(qfile->ctx->killed))
		qnpu_job_cancel_killed(qfile->ctx);
	qnpu_ctx_put(qfile->ctx);
	kfree(qfile);
}

static int qnpu_ioctl_get_param(struct drm_device *ddev, void *data,
				struct drm_file *file)
{
	struct qnpu_device *qdev = to_qnpu_device(ddev);
	struct drm_qnpu_get_param *args = data;

	if (args->pad) {
		drm_dbg(ddev, "get_param: pad not zero\n");
		return -EINVAL;
	}
	switch (args->param) {
	case DRM_QNPU_PARAM_VERSION:
		args->value = qdev->hw.version;
		break;
	case DRM_QNPU_PARAM_HW_ROWS:
		args->value = qdev->hw.rows;
		break;
	case DRM_QNPU_PARAM_HW_COLS:
		args->value = qdev->hw.cols;
		break;
	case DRM_QNPU_PARAM_ABUF_BYTES:
		args->value = qdev->hw.abuf_bytes;
		break;
	case DRM_QNPU_PARAM_WBUF_BYTES:
		args->value = qdev->hw.wbuf_bytes;
		break;
	case DRM_QNPU_PARAM_PBUF_BYTES:
		args->value = qdev->hw.pbuf_bytes;
		break;
	case DRM_QNPU_PARAM_OBUF_BYTES:
		args->value = qdev->hw.obuf_bytes;
		break;
	case DRM_QNPU_PARAM_CMD_BYTES:
		args->value = qdev->hw.cmd_bytes;
		break;
	case DRM_QNPU_PARAM_VA_BITS:
		args->value = qdev->hw.va_bits;
		break;
	case DRM_QNPU_PARAM_VA_START:
		args->value = QNPU_VA_START;
		break;
	case DRM_QNPU_PARAM_VA_END:
		args->value = QNPU_VA_END;
		break;
	case DRM_QNPU_PARAM_MAX_BO_SIZE:
		args->value = min_t(u64, QNPU_MAX_BO_SIZE,
				    (u64)qnpu_max_mib_per_file << 20);
		break;
	case DRM_QNPU_PARAM_MAX_CMD_BYTES:
		args->value = QNPU_MAX_CMD_BYTES;
		break;
	case DRM_QNPU_PARAM_DEVICE_LOST:
		args->value = READ_ONCE(qdev->lost);
		break;
	case DRM_QNPU_PARAM_DMA_BYTES:
		args->value = qdev->hw.dma_bytes;
		break;
	case DRM_QNPU_PARAM_QUEUE_DEPTH:
		args->value = qdev->hw.queue_depth;
		break;
	case DRM_QNPU_PARAM_MEM_LATENCY:
		args->value = qdev->hw.mem_latency;
		break;
	case DRM_QNPU_PARAM_MEM_BYTES_PER_CYCLE:
		args->value = qdev->hw.mem_bytes_per_cycle;
		break;
	case DRM_QNPU_PARAM_MEM_OUTSTANDING:
		args->value = qdev->hw.mem_outstanding;
		break;
	case DRM_QNPU_PARAM_MAX_BATCH:
		args->value = DRM_QNPU_MAX_BATCH;
		break;
	default:
		drm_dbg(ddev, "get_param: unknown param %u\n", args->param);
		return -EINVAL;
	}
	return 0;
}

static const struct drm_ioctl_desc qnpu_ioctls[] = {
#define QNPU_IOCTL(n, func) \
	DRM_IOCTL_DEF_DRV(QNPU_##n, qnpu_ioctl_##func, DRM_RENDER_ALLOW)
	QNPU_IOCTL(GET_PARAM, get_param),
	QNPU_IOCTL(BO_CREATE, bo_create),
	QNPU_IOCTL(BO_MMAP_OFFSET, bo_mmap_offset),
	QNPU_IOCTL(BO_WAIT, bo_wait),
	QNPU_IOCTL(SUBMIT, submit),
#undef QNPU_IOCTL
};

DEFINE_DRM_GEM_FOPS(qnpu_fops);

static const struct drm_driver qnpu_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
	.open = qnpu_open,
	.postclose = qnpu_postclose,
	.gem_create_object = qnpu_gem_create_object,
	.debugfs_init = qnpu_debugfs_init,
	.ioctls = qnpu_ioctls,
	.num_ioctls = ARRAY_SIZE(qnpu_ioctls),
	.fops = &qnpu_fops,
	.name = QNPU_DRIVER_NAME,
	.desc = "qnpu INT8 NPU",
	.date = "20261127",
	.major = 1,
	.minor = 0,
};

/**
 * qnpu_drm_alloc() - allocate the DRM device for a bus device
 * @dev: the bus device; the DRM device is freed with it
 *
 * Return: the new device or an ERR_PTR.
 */
struct qnpu_device *qnpu_drm_alloc(struct device *dev)
{
	struct qnpu_device *qdev;

	qdev = devm_drm_dev_alloc(dev, &qnpu_drm_driver, struct qnpu_device,
				  ddev);
	if (IS_ERR(qdev))
		return qdev;
	qdev->dev = dev;
	return qdev;
}

/**
 * qnpu_drm_register() - start the core and expose the render node
 * @qdev: the device, register page mapped and bus ops set, IRQ not yet on
 *
 * Return: 0 or a negative errno.
 */
int qnpu_drm_register(struct qnpu_device *qdev)
{
	int ret;

	ret = qnpu_device_init(qdev);
	if (ret)
		return ret;
	ret = drm_dev_register(&qdev->ddev, 0);
	if (ret)
		goto err_fini;
	return 0;

err_fini:
	qnpu_device_fini(qdev);
	return ret;
}

/**
 * qnpu_drm_unregister() - remove the render node
 * @qdev: the device
 *
 * Open files keep the DRM device (and the core) until they are closed;
 * their ioctls fail with -ENODEV from here on.
 */
void qnpu_drm_unregister(struct qnpu_device *qdev)
{
	drm_dev_unplug(&qdev->ddev);
}

static int __init qnpu_init(void)
{
	int ret;

	ret = pci_register_driver(&qnpu_pci_driver);
	if (ret)
		return ret;
	/*
	 * Built everywhere (so it stays compiled and checked), registered
	 * where device trees exist.
	 */
	if (IS_ENABLED(CONFIG_OF)) {
		ret = platform_driver_register(&qnpu_platform_driver);
		if (ret)
			goto err_unregister_pci;
	}
	return 0;

err_unregister_pci:
	pci_unregister_driver(&qnpu_pci_driver);
	return ret;
}

static void __exit qnpu_exit(void)
{
	if (IS_ENABLED(CONFIG_OF))
		platform_driver_unregister(&qnpu_platform_driver);
	pci_unregister_driver(&qnpu_pci_driver);
}

module_init(qnpu_init);
module_exit(qnpu_exit);

MODULE_AUTHOR("qnpu authors");
MODULE_DESCRIPTION("qnpu INT8 NPU DRM driver");
MODULE_LICENSE("Dual MIT/GPL");
