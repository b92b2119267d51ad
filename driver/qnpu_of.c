// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu platform glue for a SoC: the dts/ binding (dts/bindings/qnpu,npu.yaml,
 * compatible "qnpu,npu-1.0"): one 4 KiB MMIO register page and one level
 * interrupt. The ID registers, not the DT properties, give the parameters.
 *
 * The binding has no separate doorbell register: on the MMIO bus the
 * doorbell is a write of SQ_TAIL (its current value), which the device's
 * bus interface turns into the doorbell event.
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>

#include "qnpu_drv.h"

static void qnpu_of_doorbell(struct qnpu_device *qdev)
{
	qnpu_write(qdev, QNPU_REG_SQ_TAIL, qdev->sq_tail);
}

static const struct qnpu_bus_ops qnpu_of_bus_ops = {
	.doorbell = qnpu_of_doorbell,
};

static int qnpu_of_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct qnpu_device *qdev;
	void __iomem *regs;
	int irq, ret;

	regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	if (!qnpu_device_probe_regs(dev, regs))
		return -ENODEV;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(52));
	if (ret)
		return ret;
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;

	qdev = qnpu_drm_alloc(dev);
	if (IS_ERR(qdev))
		return PTR_ERR(qdev);
	qdev->regs = regs;
	qdev->bus = &qnpu_of_bus_ops;
	platform_set_drvdata(pdev, qdev);

	ret = devm_request_irq(dev, irq, qnpu_device_irq, 0, QNPU_DRIVER_NAME,
			       qdev);
	if (ret)
		return ret;
	return qnpu_drm_register(qdev);
}

static int qnpu_of_remove(struct platform_device *pdev)
{
	struct qnpu_device *qdev = platform_get_drvdata(pdev);

	qnpu_drm_unregister(qdev);
	qnpu_device_fini(qdev);
	return 0;
}

static const struct of_device_id qnpu_of_ids[] = {
	{ .compatible = "qnpu,npu-1.0" },
	{ }
};
MODULE_DEVICE_TABLE(of, qnpu_of_ids);

struct platform_driver qnpu_platform_driver = {
	.driver = {
		.name = QNPU_DRIVER_NAME,
		.of_match_table = qnpu_of_ids,
	},
	.probe = qnpu_of_probe,
	.remove = qnpu_of_remove,
};
