/* SPDX-License-Identifier: MIT */
/*
 * qnpu-sim internals: what can sit behind the ivshmem transport. The
 * device model (qnpu_hw_*) attaches as: doorbell -> run the device until
 * idle, device interrupt -> qnpu_ivshmem_irq(), device DMA ->
 * qnpu_ivshmem_dma_read/write().
 */
#ifndef QNPU_SIM_H
#define QNPU_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "qnpu_ivshmem.h"

/* Transport test hook (not a device): see qnpu_transport_test.h. */
int qnpu_transport_test_attach(const struct qnpu_ivshmem_ops **ops,
			       void **priv);
void qnpu_transport_test_detach(void *priv);

/* The NPU (hw-model C API), configured from a DTB or the 16x16 default. */
int qnpu_sim_device_attach(const char *dtb_path,
			   const struct qnpu_ivshmem_ops **ops, void **priv);
void qnpu_sim_device_detach(void *priv);
/*
 * MSI-X message aggregation: a completion's message waits while the device
 * goes on to the next job, at most @cycles device cycles (NVMe's
 * aggregation time); it goes as soon as the device idles. One message
 * then covers every completion posted before it, as the driver's handler
 * reaps the whole CQ. 0: one message per raise.
 */
#define QNPU_SIM_IRQ_HOLD_DEFAULT 256
void qnpu_sim_device_set_irq_hold(void *priv, uint64_t cycles);

/*
 * Fault injection (--fault=KIND@N, docs/vm.md). N counts jobs the device
 * started (took from the ring and began fetching), from 1 at qnpu-sim's
 * start, re-runs after a reset included; for "exit" it counts doorbells.
 */
enum qnpu_sim_fault_kind {
	QNPU_SIM_FAULT_DMA,	/* every memory access of job N: bus error */
	QNPU_SIM_FAULT_IRQ,	/* job N's completion interrupt is not sent */
	QNPU_SIM_FAULT_STUCK,	/* job N makes no progress until a reset */
	QNPU_SIM_FAULT_CQE,	/* job N's completion: an undefined status */
	QNPU_SIM_FAULT_CQE_ID,	/* job N's completion: a job id never sent */
	QNPU_SIM_FAULT_CQ_TAIL,	/* with job N's completion CQ_TAIL jumps */
	QNPU_SIM_FAULT_DIE,	/* qnpu-sim dies as job N starts */
	QNPU_SIM_FAULT_EXIT,	/* qnpu-sim dies after doorbell N */
	QNPU_SIM_FAULT_KINDS
};
/* Add "KIND@N"; 0 or -EINVAL. */
int qnpu_sim_fault_add(const char *spec);
/* 1 (once) if a fault of @kind is due at @n: it fires now. */
int qnpu_sim_fault_take(enum qnpu_sim_fault_kind kind, unsigned long n);
const char *qnpu_sim_fault_name(enum qnpu_sim_fault_kind kind);
void qnpu_sim_fault_print(FILE *f);

#endif /* QNPU_SIM_H */
