/* SPDX-License-Identifier: MIT */
/*
 * qnpu-sim internals: what can sit behind the ivshmem transport. The
 * device model (qnpu_hw_*) attaches as: doorbell -> run the device until
 * idle, device interrupt -> qnpu_ivshmem_irq(), device DMA ->
 * qnpu_ivshmem_dma_read/write().
 */
#ifndef QNPU_SIM_H
#define QNPU_SIM_H

#include "qnpu_ivshmem.h"

/* Transport test hook (not a device): see qnpu_transport_test.h. */
int qnpu_transport_test_attach(const struct qnpu_ivshmem_ops **ops,
			       void **priv);
void qnpu_transport_test_detach(void *priv);

/* The NPU (hw-model C API), configured from a DTB or the 16x16 default. */
int qnpu_sim_device_attach(const char *dtb_path,
			   const struct qnpu_ivshmem_ops **ops, void **priv);
void qnpu_sim_device_detach(void *priv);

#endif /* QNPU_SIM_H */
