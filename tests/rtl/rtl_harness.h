/* SPDX-License-Identifier: MIT */
/*
 * Test and benchmark harness for the qnpu hardware model: a flat physical
 * memory, page tables built the way a driver would, a command encoder and a
 * job runner that goes through the register page, rings and doorbell.
 */
#ifndef RTL_HARNESS_H
#define RTL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "qnpu_hw.h"
#include "qnpu_regs.h"

struct rh {
	struct qnpu_hw *hw;
	struct qnpu_hw_params p;
	uint8_t *mem;		/* physical memory */
	uint64_t mem_size;
	uint64_t next_pa;	/* bump allocator for pages */
	uint64_t pt_root;
	uint64_t next_va;
	int irqs;		/* interrupt raises seen */
	uint32_t job_id;
	uint64_t mem_reads, mem_writes;	/* callback counts */
};

struct rh_cmd {
	uint32_t w[16];
};

struct rh_cqe {
	uint32_t job_id, status, err_cmd, fault_info;
	uint64_t fault_va;
	uint64_t cycles, busy, macs, dma_in, dma_out, cmd_bytes;
	uint64_t stall_ld_tok, stall_cp_tok, stall_st_tok, stall_ppu, stall_disp;
	uint64_t compute_cycles, load_cycles;
};

/* Create a device from params (NULL: default) with mem_mb of memory. */
int rh_init(struct rh *h, const struct qnpu_hw_params *p, unsigned mem_mb);
void rh_fini(struct rh *h);

/* Map a fresh, zeroed, physically contiguous buffer; returns its device VA.
 * writable: PTE W bit. *host receives its host pointer. */
uint64_t rh_alloc(struct rh *h, size_t bytes, int writable, void **host);
/* Host pointer of a device VA inside a buffer from rh_alloc. */
void *rh_host(struct rh *h, uint64_t va);
/* Unmap / remap the PTE of one page. */
void rh_set_pte(struct rh *h, uint64_t va, int valid, int writable);

static inline void rh_field(struct rh_cmd *c, int word, int shift, uint32_t mask,
			    int64_t val)
{
	c->w[word] = (c->w[word] & ~mask) | (((uint32_t)val << shift) & mask);
}
#define RH_SET(c, F, v) \
	rh_field((c), QNPU_CMD_##F##_WORD, QNPU_CMD_##F##_SHIFT, QNPU_CMD_##F##_MASK, (v))

void rh_load(struct rh_cmd *c, int buf, uint64_t va, uint32_t dstride,
	     uint32_t row_bytes, uint32_t rows, uint32_t sram, uint32_t sstride);
void rh_store(struct rh_cmd *c, uint64_t va, uint32_t dstride, uint32_t row_bytes,
	      uint32_t rows, uint32_t sram, uint32_t sstride);

/* Submit one job (commands copied into device memory) and run it to
 * completion, at most max_cycles; returns 0 and fills cqe, or -ETIMEDOUT. */
int rh_run(struct rh *h, const struct rh_cmd *cmds, uint32_t n, uint64_t max_cycles,
	   struct rh_cqe *cqe);
/* Lower-level pieces of rh_run. */
uint64_t rh_put_cmds(struct rh *h, const struct rh_cmd *cmds, uint32_t n);
void rh_submit(struct rh *h, uint64_t cmd_va, uint32_t n, uint32_t max_cycles_k);
int rh_reap(struct rh *h, struct rh_cqe *cqe);

#endif
