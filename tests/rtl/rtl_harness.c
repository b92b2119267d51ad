// SPDX-License-Identifier: MIT
#include "rtl_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VA_BASE 0x10000000ull

static int mem_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	struct rh *h = ctx;
	if (pa + len > h->mem_size || pa + len < pa)
		return -EFAULT;
	memcpy(dst, h->mem + pa, len);
	h->mem_reads++;
	return 0;
}

static int mem_write(void *ctx, uint64_t pa, const void *src, size_t len)
{
	struct rh *h = ctx;
	if (pa + len > h->mem_size || pa + len < pa)
		return -EFAULT;
	memcpy(h->mem + pa, src, len);
	h->mem_writes++;
	return 0;
}

static void on_irq(void *ctx, int level)
{
	struct rh *h = ctx;
	if (level)
		h->irqs++;
}

static uint64_t alloc_pages(struct rh *h, size_t n)
{
	uint64_t pa = h->next_pa;
	h->next_pa += n * 4096;
	if (h->next_pa > h->mem_size) {
		fprintf(stderr, "rtl_harness: out of memory\n");
		abort();
	}
	memset(h->mem + pa, 0, n * 4096);
	return pa;
}

static uint64_t *pte_of(struct rh *h, uint64_t va, int create)
{
	uint64_t table = h->pt_root;
	for (int lvl = 0; lvl < 3; lvl++) {
		unsigned sh = 12 + 9 * (2 - lvl);
		uint64_t *pte = (uint64_t *)(h->mem + table) + ((va >> sh) & 511);
		if (lvl == 2)
			return pte;
		if (!(*pte & QNPU_PTE_V_MASK)) {
			if (!create)
				return NULL;
			*pte = alloc_pages(h, 1) | QNPU_PTE_V_MASK;
		}
		table = *pte & QNPU_PTE_PA_MASK;
	}
	return NULL;
}

int rh_init(struct rh *h, const struct qnpu_hw_params *p, unsigned mem_mb)
{
	char err[256] = "";
	struct qnpu_hw_mem_ops ops = {mem_read, mem_write, h};
	struct qnpu_hw_params def;

	memset(h, 0, sizeof(*h));
	if (!p) {
		qnpu_hw_default_params(&def);
		p = &def;
	}
	h->mem_size = (uint64_t)mem_mb << 20;
	h->mem = aligned_alloc(4096, h->mem_size);
	if (!h->mem)
		return -ENOMEM;
	h->next_pa = 0x1000; /* keep PA 0 unused */
	h->pt_root = alloc_pages(h, 1);
	h->next_va = VA_BASE;
	int ret = qnpu_hw_create(p, &ops, &h->hw, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		free(h->mem);
		return ret;
	}
	h->p = *qnpu_hw_get_params(h->hw);
	qnpu_hw_set_irq(h->hw, on_irq, h);
	qnpu_hw_reg_write32(h->hw, QNPU_REG_CTRL, QNPU_CTRL_IRQ_EN_MASK);
	qnpu_hw_doorbell(h->hw);
	return 0;
}

void rh_fini(struct rh *h)
{
	qnpu_hw_destroy(h->hw);
	free(h->mem);
	memset(h, 0, sizeof(*h));
}

uint64_t rh_alloc(struct rh *h, size_t bytes, int writable, void **host)
{
	size_t n = (bytes + 4095) / 4096;
	if (!n)
		n = 1;
	uint64_t pa = alloc_pages(h, n);
	uint64_t va = h->next_va;
	for (size_t i = 0; i < n; i++)
		*pte_of(h, va + i * 4096, 1) = (pa + i * 4096) | QNPU_PTE_V_MASK |
					       (writable ? QNPU_PTE_W_MASK : 0);
	h->next_va += (n + 1) * 4096; /* an unmapped guard page after each */
	if (host)
		*host = h->mem + pa;
	return va;
}

void *rh_host(struct rh *h, uint64_t va)
{
	uint64_t *pte = pte_of(h, va, 0);
	if (!pte || !(*pte & QNPU_PTE_V_MASK))
		return NULL;
	return h->mem + (*pte & QNPU_PTE_PA_MASK) + (va & 0xfff);
}

void rh_set_pte(struct rh *h, uint64_t va, int valid, int writable)
{
	uint64_t *pte = pte_of(h, va, 0);
	if (!pte)
		return;
	*pte &= QNPU_PTE_PA_MASK;
	*pte |= (valid ? QNPU_PTE_V_MASK : 0) | (writable ? QNPU_PTE_W_MASK : 0);
}

void rh_load(struct rh_cmd *c, int buf, uint64_t va, uint32_t dstride,
	     uint32_t row_bytes, uint32_t rows, uint32_t sram, uint32_t sstride)
{
	memset(c, 0, sizeof(*c));
	RH_SET(c, OPCODE, QNPU_OP_LOAD);
	RH_SET(c, BUF, buf);
	RH_SET(c, DRAM_LO, (uint32_t)va);
	RH_SET(c, DRAM_HI, (uint32_t)(va >> 32));
	RH_SET(c, DRAM_STRIDE, dstride);
	RH_SET(c, ROW_BYTES, row_bytes);
	RH_SET(c, ROWS, rows);
	RH_SET(c, SRAM_ADDR, sram);
	RH_SET(c, SRAM_STRIDE, sstride);
}

void rh_store(struct rh_cmd *c, uint64_t va, uint32_t dstride, uint32_t row_bytes,
	      uint32_t rows, uint32_t sram, uint32_t sstride)
{
	rh_load(c, 0, va, dstride, row_bytes, rows, sram, sstride);
	RH_SET(c, OPCODE, QNPU_OP_STORE);
}

uint64_t rh_put_cmds(struct rh *h, const struct rh_cmd *cmds, uint32_t n)
{
	void *host;
	uint64_t va = rh_alloc(h, (size_t)n * sizeof(*cmds), 0, &host);
	memcpy(host, cmds, (size_t)n * sizeof(*cmds));
	return va;
}

void rh_submit(struct rh *h, uint64_t cmd_va, uint32_t n, uint32_t max_cycles_k)
{
	struct qnpu_hw *hw = h->hw;
	uint32_t tail = qnpu_hw_reg_read32(hw, QNPU_REG_SQ_TAIL);
	uint32_t off = QNPU_SQ_OFFSET + (tail % QNPU_SQ_ENTRIES) * QNPU_SQE_BYTES;
	qnpu_hw_reg_write64(hw, off + QNPU_SQE_PT_ROOT, h->pt_root);
	qnpu_hw_reg_write64(hw, off + QNPU_SQE_CMD_VA, cmd_va);
	qnpu_hw_reg_write32(hw, off + QNPU_SQE_CMD_COUNT, n);
	qnpu_hw_reg_write32(hw, off + QNPU_SQE_JOB_ID, ++h->job_id);
	qnpu_hw_reg_write32(hw, off + QNPU_SQE_MAX_CYCLES, max_cycles_k);
	qnpu_hw_reg_write32(hw, off + QNPU_SQE_FLAGS, 0);
	qnpu_hw_reg_write32(hw, QNPU_REG_SQ_TAIL, tail + 1);
	qnpu_hw_doorbell(hw);
}

int rh_reap(struct rh *h, struct rh_cqe *c)
{
	struct qnpu_hw *hw = h->hw;
	uint32_t head = qnpu_hw_reg_read32(hw, QNPU_REG_CQ_HEAD);
	if (qnpu_hw_reg_read32(hw, QNPU_REG_CQ_TAIL) == head)
		return -EAGAIN;
	uint32_t o = QNPU_CQ_OFFSET + (head % QNPU_CQ_ENTRIES) * QNPU_CQE_BYTES;
	memset(c, 0, sizeof(*c));
	c->job_id = qnpu_hw_reg_read32(hw, o + QNPU_CQE_JOB_ID);
	c->status = qnpu_hw_reg_read32(hw, o + QNPU_CQE_STATUS);
	c->err_cmd = qnpu_hw_reg_read32(hw, o + QNPU_CQE_ERR_CMD);
	c->fault_info = qnpu_hw_reg_read32(hw, o + QNPU_CQE_FAULT_INFO);
	c->fault_va = qnpu_hw_reg_read64(hw, o + QNPU_CQE_FAULT_VA);
	c->cycles = qnpu_hw_reg_read64(hw, o + QNPU_CQE_CYCLES);
	c->busy = qnpu_hw_reg_read64(hw, o + QNPU_CQE_BUSY_CYCLES);
	c->macs = qnpu_hw_reg_read64(hw, o + QNPU_CQE_MACS);
	c->dma_in = qnpu_hw_reg_read64(hw, o + QNPU_CQE_DMA_IN);
	c->dma_out = qnpu_hw_reg_read64(hw, o + QNPU_CQE_DMA_OUT);
	c->cmd_bytes = qnpu_hw_reg_read64(hw, o + QNPU_CQE_CMD_BYTES);
	c->stall_ld_tok = qnpu_hw_reg_read64(hw, o + QNPU_CQE_STALL_LOAD_TOKEN);
	c->stall_cp_tok = qnpu_hw_reg_read64(hw, o + QNPU_CQE_STALL_COMPUTE_TOKEN);
	c->stall_st_tok = qnpu_hw_reg_read64(hw, o + QNPU_CQE_STALL_STORE_TOKEN);
	c->stall_ppu = qnpu_hw_reg_read64(hw, o + QNPU_CQE_STALL_PPU);
	c->stall_disp = qnpu_hw_reg_read64(hw, o + QNPU_CQE_STALL_DISPATCH);
	c->compute_cycles = qnpu_hw_reg_read64(hw, o + QNPU_CQE_COMPUTE_CYCLES);
	c->load_cycles = qnpu_hw_reg_read64(hw, o + QNPU_CQE_LOAD_CYCLES);
	qnpu_hw_reg_write32(hw, QNPU_REG_CQ_HEAD, head + 1);
	return 0;
}

int rh_run(struct rh *h, const struct rh_cmd *cmds, uint32_t n, uint64_t max_cycles,
	   struct rh_cqe *cqe)
{
	uint64_t va = rh_put_cmds(h, cmds, n);
	rh_submit(h, va, n, 0);
	int ret = qnpu_hw_run_until_idle(h->hw, max_cycles);
	if (ret)
		return ret;
	ret = rh_reap(h, cqe);
	/* acknowledge the interrupt and hand back the CQ slot */
	qnpu_hw_reg_write32(h->hw, QNPU_REG_IRQ_ACK,
			    qnpu_hw_reg_read32(h->hw, QNPU_REG_IRQ_COUNT));
	qnpu_hw_doorbell(h->hw);
	return ret;
}
