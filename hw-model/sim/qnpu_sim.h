/* SPDX-License-Identifier: MIT */
/*
 * qnpu-sim internals: what can sit behind the ivshmem transport. The
 * device model (qnpu_hw_*, hw-model issue 3) will attach the same way:
 * doorbell -> run the device until idle, device interrupt ->
 * qnpu_ivshmem_irq(), device DMA -> qnpu_ivshmem_dma_read/write().
 */
#ifndef QNPU_SIM_H
#define QNPU_SIM_H

#include "qnpu_ivshmem.h"

/* Transport test hook (not a device): see qnpu_transport_test.h. */
int qnpu_transport_test_attach(const struct qnpu_ivshmem_ops **ops,
			       void **priv);
void qnpu_transport_test_detach(void *priv);

#endif /* QNPU_SIM_H */
