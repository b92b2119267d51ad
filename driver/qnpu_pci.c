// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * qnpu PCI glue for co-simulation: QEMU's ivshmem-doorbell device served
 * by qnpu-sim (docs/vm.md). BAR2 is shared memory holding the register
 * page; the doorbell is a write of (peer << 16) | vector to BAR0 offset 12;
 * the device's interrupt arrives as MSI-X. Other users of ivshmem are left
 * alone: we bind only when the page reads as a qnpu.
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "qnpu_drv.h"

#define QNPU_PCI_BAR_REGS	0	/* ivshmem registers */
#define QNPU_PCI_BAR_SHM	2	/* shared memory: the register page */
#define QNPU_IVSHMEM_DOORBELL	12
#define QNPU_PCI_MAX_VECTORS	2

static unsigned int qnpu_sim_peer;
module_param_named(sim_peer, qnpu_sim_peer, uint, 0444);
MODULE_PARM_DESC(sim_peer, "ivshmem peer id of qnpu-sim (default 0)");

struct qnpu_pci {
	struct pci_dev *pdev;
	void __iomem *ivshmem;
	int nvec;
};

static void qnpu_pci_doorbell(struct qnpu_device *qdev)
{
	struct qnpu_pci *qpci = qdev->bus_priv;

	writel(qnpu_sim_peer << 16 | 0, qpci->ivshmem + QNPU_IVSHMEM_DOORBELL);
}

/* A lost device: no bus mastering, no DMA (on real PCI). */
static void qnpu_pci_stop_dma(struct qnpu_device *qdev)
{
	struct qnpu_pci *qpci = qdev->bus_priv;

	pci_clear_master(qpci->pdev);
}

static const struct qnpu_bus_ops qnpu_pci_bus_ops = {
	.doorbell = qnpu_pci_doorbell,
	.stop_dma = qnpu_pci_stop_dma,
	.msi = true,
};

static void qnpu_pci_free_irqs(struct qnpu_device *qdev, int n)
{
	struct qnpu_pci *qpci = qdev->bus_priv;

	while (n--)
		free_irq(pci_irq_vector(qpci->pdev, n), qdev);
}

static int qnpu_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct qnpu_device *qdev;
	struct qnpu_pci *qpci;
	void __iomem *regs;
	int ret, i;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(QNPU_PCI_BAR_REGS) |
				 BIT(QNPU_PCI_BAR_SHM), QNPU_DRIVER_NAME);
	if (ret)
		return ret;
	if (pci_resource_len(pdev, QNPU_PCI_BAR_SHM) < QNPU_PAGE_BYTES)
		return -ENODEV;
	regs = pcim_iomap_table(pdev)[QNPU_PCI_BAR_SHM];
	if (!qnpu_device_probe_regs(dev, regs))
		return -ENODEV;

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(52));
	if (ret)
		return ret;
	/* Without bus mastering QEMU drops the MSI-X messages. */
	pci_set_master(pdev);

	qpci = devm_kzalloc(dev, sizeof(*qpci), GFP_KERNEL);
	if (!qpci)
		return -ENOMEM;
	qpci->pdev = pdev;
	qpci->ivshmem = pcim_iomap_table(pdev)[QNPU_PCI_BAR_REGS];

	qdev = qnpu_drm_alloc(dev);
	if (IS_ERR(qdev))
		return PTR_ERR(qdev);
	qdev->regs = regs;
	qdev->bus = &qnpu_pci_bus_ops;
	qdev->bus_priv = qpci;
	pci_set_drvdata(pdev, qdev);

	qpci->nvec = pci_alloc_irq_vectors(pdev, 1, QNPU_PCI_MAX_VECTORS,
					   PCI_IRQ_MSIX);
	if (qpci->nvec < 0) {
		dev_err(dev, "no MSI-X vectors: %d\n", qpci->nvec);
		return qpci->nvec;
	}
	/* The device may raise any of them. */
	for (i = 0; i < qpci->nvec; i++) {
		ret = request_irq(pci_irq_vector(pdev, i), qnpu_device_irq, 0,
				  QNPU_DRIVER_NAME, qdev);
		if (ret)
			goto err_free_irqs;
	}

	ret = qnpu_drm_register(qdev);
	if (ret)
		goto err_free_irqs;
	return 0;

err_free_irqs:
	qnpu_pci_free_irqs(qdev, i);
	pci_free_irq_vectors(pdev);
	return ret;
}

static void qnpu_pci_remove(struct pci_dev *pdev)
{
	struct qnpu_device *qdev = pci_get_drvdata(pdev);
	struct qnpu_pci *qpci = qdev->bus_priv;

	qnpu_drm_unregister(qdev);
	qnpu_device_fini(qdev);
	qnpu_pci_free_irqs(qdev, qpci->nvec);
	pci_free_irq_vectors(pdev);
}

/* Reboot or kexec: the device must not DMA into the next kernel. */
static void qnpu_pci_shutdown(struct pci_dev *pdev)
{
	struct qnpu_device *qdev = pci_get_drvdata(pdev);

	qnpu_device_shutdown(qdev);
	pci_clear_master(pdev);
}

static const struct pci_device_id qnpu_pci_ids[] = {
	/* QEMU ivshmem (doorbell), served by qnpu-sim */
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, qnpu_pci_ids);

struct pci_driver qnpu_pci_driver = {
	.name = QNPU_DRIVER_NAME,
	.id_table = qnpu_pci_ids,
	.probe = qnpu_pci_probe,
	.remove = qnpu_pci_remove,
	.shutdown = qnpu_pci_shutdown,
};
