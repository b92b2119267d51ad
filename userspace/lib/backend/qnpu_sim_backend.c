// SPDX-License-Identifier: MIT
/*
 * Device "sim": the Verilated NPU (hw-model C API) in this process. The
 * runtime plays the driver: it owns the device's physical memory, builds
 * the page tables of one context, and submits one job per NPU operator
 * through the register page's rings and doorbell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/qnpu_backend.h"
#include "compiler/qnpu_compiler.h"
#include "qnpu_hw.h"
#include "qnpu_regs.h"

#define PAGE 4096ull
#define PHYS_BYTES (1ull << 32)		/* reserved, touched on demand */
/* QNPU_SIM_MEMORY=bytes makes a smaller device (tests of exhaustion). */
#define VA_CMDS (1ull << 37)		/* command streams, after the consts */
#define JOB_MAX_CYCLES (1ull << 31)	/* a compiled job never comes near */

struct sim_dev {
	struct qnpu_hw *hw;
	uint8_t *phys;			/* device physical memory */
	uint64_t phys_size;
	uint64_t phys_used;		/* bump allocator, in bytes */
	uint32_t job_id;
	int nmodels;			/* device memory is reclaimed at 0 */
	struct qnpu_npu_target target;
};

/* Each model is a device context of its own: its own page tables. */
struct sim_model {
	uint64_t pt_root;
	uint64_t va_next;		/* command streams go here */
};

static int mem_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	struct sim_dev *s = ctx;

	if (pa > s->phys_used || len > s->phys_used - pa)
		return -EFAULT;
	memcpy(dst, s->phys + pa, len);
	return 0;
}

static int mem_write(void *ctx, uint64_t pa, const void *src, size_t len)
{
	struct sim_dev *s = ctx;

	if (pa > s->phys_used || len > s->phys_used - pa)
		return -EFAULT;
	memcpy(s->phys + pa, src, len);
	return 0;
}

/* Physical pages, zeroed (fresh mmap memory is). */
static int phys_alloc(struct sim_dev *s, uint64_t bytes, uint64_t *pa)
{
	bytes = (bytes + PAGE - 1) & ~(PAGE - 1);
	if (bytes > s->phys_size - s->phys_used)
		return qnpu_err(-ENOMEM,
				"sim: device memory exhausted: %llu KiB more needed, %llu of %llu KiB in use",
				(unsigned long long)bytes >> 10,
				(unsigned long long)s->phys_used >> 10,
				(unsigned long long)s->phys_size >> 10);
	*pa = s->phys_used;
	s->phys_used += bytes;
	return 0;
}

/* Map one page: a 3-level walk, allocating tables on the way. */
static int map_page(struct sim_dev *s, uint64_t root, uint64_t va,
		    uint64_t pa, bool write)
{
	uint64_t table = root;
	int lvl;

	for (lvl = 0; lvl < QNPU_PT_LEVELS; lvl++) {
		unsigned int sh = QNPU_PAGE_SHIFT +
				  9 * (QNPU_PT_LEVELS - 1 - lvl);
		uint64_t *pte = (uint64_t *)(s->phys + table) +
				((va >> sh) & 511);

		if (lvl == QNPU_PT_LEVELS - 1) {
			*pte = (pa & QNPU_PTE_PA_MASK) | QNPU_PTE_V_MASK |
			       (write ? QNPU_PTE_W_MASK : 0);
			return 0;
		}
		if (!(*pte & QNPU_PTE_V_MASK)) {
			uint64_t next = 0;
			int r = phys_alloc(s, PAGE, &next);

			if (r)
				return r;
			*pte = (next & QNPU_PTE_PA_MASK) | QNPU_PTE_V_MASK;
		}
		table = *pte & QNPU_PTE_PA_MASK;
	}
	return 0;
}

/* A buffer in device memory at device VA @va of context @root. */
static int dev_alloc(struct sim_dev *s, uint64_t root, uint64_t va,
		     uint64_t bytes, bool write, void **host)
{
	uint64_t pa = 0, off;
	int r;

	if (!bytes)
		bytes = 1;
	r = phys_alloc(s, bytes, &pa);
	if (r)
		return r;
	for (off = 0; off < bytes; off += PAGE) {
		r = map_page(s, root, va + off, pa + off, write);
		if (r)
			return r;
	}
	*host = s->phys + pa;
	return 0;
}

static int parse_config(const char *arg, struct qnpu_hw_params *p,
			char *err, size_t errlen, uint8_t **dtb, size_t *dtb_len)
{
	unsigned int rows, c;
	int i, n, r;

	*dtb = NULL;
	qnpu_hw_default_params(p);
	if (!arg || !*arg)
		return 0;
	if (sscanf(arg, "%ux%u", &rows, &c) == 2 && !strchr(arg, '.')) {
		for (i = 0; i < qnpu_hw_num_configs(); i++) {
			const struct qnpu_hw_params *q = qnpu_hw_config(i);

			if (q->rows == rows && q->cols == c) {
				*p = *q;
				return 0;
			}
		}
		n = snprintf(err, errlen, "sim: no %ux%u configuration is built (built:",
			     rows, c);
		for (i = 0; i < qnpu_hw_num_configs() && n > 0 &&
		     (size_t)n < errlen; i++)
			n += snprintf(err + n, errlen - (size_t)n, "%s %ux%u",
				      i ? "," : "", qnpu_hw_config(i)->rows,
				      qnpu_hw_config(i)->cols);
		if (n > 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - (size_t)n, ")");
		return -EINVAL;
	}
	r = qnpu_read_file(arg, dtb, dtb_len);
	if (r)
		snprintf(err, errlen, "sim: %s", qnpu_last_error());
	return r;
}

static int sim_open(struct qnpu_device *dev, const char *arg)
{
	struct qnpu_hw_mem_ops mem = { mem_read, mem_write, NULL };
	struct qnpu_hw_params p;
	struct sim_dev *s;
	char err[256] = "";
	size_t dtb_len = 0;
	uint8_t *dtb;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return qnpu_err(-ENOMEM, "out of memory");
	r = parse_config(arg, &p, err, sizeof(err), &dtb, &dtb_len);
	if (r)
		goto err_free;
	s->phys = mmap(NULL, PHYS_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->phys == MAP_FAILED) {
		free(dtb);
		r = qnpu_err(-ENOMEM, "sim: cannot reserve device memory");
		free(s);
		return r;
	}
	s->phys_size = PHYS_BYTES;
	if (getenv("QNPU_SIM_MEMORY")) {
		unsigned long long want = strtoull(getenv("QNPU_SIM_MEMORY"),
						   NULL, 0);

		if (want && want < PHYS_BYTES)
			s->phys_size = want;
	}
	mem.ctx = s;
	if (dtb)
		r = qnpu_hw_create_from_dtb(dtb, dtb_len, NULL, &mem, &s->hw,
					    err, sizeof(err));
	else
		r = qnpu_hw_create(&p, &mem, &s->hw, err, sizeof(err));
	free(dtb);
	if (r)
		goto err_unmap;
	/* Ask the device what it is, as a driver would. */
	s->target.rows = qnpu_hw_reg_read32(s->hw, QNPU_REG_HW_ROWS);
	s->target.cols = qnpu_hw_reg_read32(s->hw, QNPU_REG_HW_COLS);
	s->target.abuf_bytes = qnpu_hw_reg_read32(s->hw, QNPU_REG_ABUF_BYTES);
	s->target.wbuf_bytes = qnpu_hw_reg_read32(s->hw, QNPU_REG_WBUF_BYTES);
	s->target.pbuf_bytes = qnpu_hw_reg_read32(s->hw, QNPU_REG_PBUF_BYTES);
	s->target.obuf_bytes = qnpu_hw_reg_read32(s->hw, QNPU_REG_OBUF_BYTES);
	/* The memory system too (programming model 1.1), so the cost model
	 * predicts this device's and drm plans the same from qnpu.ko. */
	s->target.dma_bytes = qnpu_hw_reg_read32(s->hw, QNPU_REG_DMA_BYTES);
	s->target.queue_depth = qnpu_hw_reg_read32(s->hw, QNPU_REG_QUEUE_DEPTH);
	s->target.mem_latency_cycles =
		qnpu_hw_reg_read32(s->hw, QNPU_REG_MEM_LATENCY);
	s->target.mem_bytes_per_cycle =
		qnpu_hw_reg_read32(s->hw, QNPU_REG_MEM_BYTES_PER_CYCLE);
	s->target.mem_outstanding =
		qnpu_hw_reg_read32(s->hw, QNPU_REG_MEM_OUTSTANDING);
	s->target.version_minor =
		(qnpu_hw_reg_read32(s->hw, QNPU_REG_VERSION) &
		 QNPU_VERSION_MINOR_MASK) >> QNPU_VERSION_MINOR_SHIFT;
	if (qnpu_hw_reg_read32(s->hw, QNPU_REG_MAGIC) != QNPU_MAGIC) {
		snprintf(err, sizeof(err), "sim: device magic mismatch");
		r = -ENODEV;
		goto err_destroy;
	}
	dev->priv = s;
	qnpu_npu_set_info(dev, &s->target);
	return 0;

err_destroy:
	qnpu_hw_destroy(s->hw);
err_unmap:
	munmap(s->phys, PHYS_BYTES);
err_free:
	free(s);
	return qnpu_err(r, "%s", err[0] ? err : "sim: cannot create the device");
}

static void sim_close(struct qnpu_device *dev)
{
	struct sim_dev *s = dev->priv;

	if (!s)
		return;
	qnpu_hw_destroy(s->hw);
	munmap(s->phys, PHYS_BYTES);
	free(s);
}

/* A job's commands after the last placed. */
static int sim_place_cmds(struct qnpu_model *m, struct qnpu_npu_job *job)
{
	struct sim_dev *s = m->dev->priv;
	struct sim_model *sm = m->priv;
	size_t bytes = job->ncmds * sizeof(struct qnpu_cmd);
	void *host;
	int r;

	job->cmds_va = sm->va_next;
	sm->va_next += ((bytes + PAGE - 1) & ~(PAGE - 1)) + PAGE;
	r = dev_alloc(s, sm->pt_root, job->cmds_va, bytes, false, &host);
	if (r)
		return r;
	memcpy(host, job->cmds, bytes);
	return 0;
}

/* An operator's constants at their VA, its commands after the last. */
static int sim_place(struct qnpu_model *m, int op, struct qnpu_npu_job *job)
{
	struct sim_dev *s = m->dev->priv;
	struct sim_model *sm = m->priv;
	void *host;
	int r;

	(void)op;
	if (job->consts_len) {
		r = dev_alloc(s, sm->pt_root, job->consts_va, job->consts_len,
			      false, &host);
		if (r)
			return r;
		memcpy(host, job->consts, job->consts_len);
	}
	return sim_place_cmds(m, job);
}

static int sim_place_seg(struct qnpu_model *m, int seg,
			 struct qnpu_npu_seg *sg)
{
	(void)seg;
	return sim_place_cmds(m, &sg->job);
}

static int sim_model_init(struct qnpu_model *m)
{
	struct sim_dev *s = m->dev->priv;
	struct sim_model *sm;
	void *host;
	int r;

	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return qnpu_err(-ENOMEM, "out of memory");
	m->priv = sm;
	s->nmodels++;
	r = phys_alloc(s, PAGE, &sm->pt_root);
	if (r)
		return r;
	sm->va_next = VA_CMDS;
	/* Tensors live in device memory: CPU operators use them in place. */
	r = dev_alloc(s, sm->pt_root, QNPU_VA_ARENA, m->arena_size, true,
		      &host);
	if (r)
		return r;
	m->arena = host;
	return qnpu_npu_model_compile(m, sim_place, sim_place_seg);
}

static void sim_model_fini(struct qnpu_model *m)
{
	struct sim_model *sm = m->priv;

	struct sim_dev *s = m->dev->priv;

	if (!sm)
		return;
	free(sm);
	m->priv = NULL;
	/* A bump allocator: all device memory comes back with the last model. */
	if (--s->nmodels == 0) {
		madvise(s->phys, s->phys_used, MADV_DONTNEED);
		s->phys_used = 0;
	}
}

static uint64_t cqe64(const uint8_t *cqe, int off)
{
	uint64_t v;

	memcpy(&v, cqe + off, 8);
	return v;
}

static uint32_t cqe32(const uint8_t *cqe, int off)
{
	uint32_t v;

	memcpy(&v, cqe + off, 4);
	return v;
}

/* Job @job of operators @op..@last (a segment), counters to @st. */
static int sim_run_job(struct qnpu_model *m, struct qnpu_ir_op *op, int last,
		       const struct qnpu_npu_job *job, struct qnpu_op_stats *st)
{
	char what[96];
	struct sim_dev *s = m->dev->priv;
	struct sim_model *sm = m->priv;
	uint8_t *regs = qnpu_hw_regs(s->hw), sqe[QNPU_SQE_BYTES] = { 0 };
	const uint8_t *cqe;
	uint32_t tail, head, status, id = ++s->job_id;
	uint64_t v;

	if (last > op->index)
		snprintf(what, sizeof(what), "operators %d..%d (one job)",
			 op->index, last);
	else
		snprintf(what, sizeof(what), "operator %d (%s)", op->index,
			 qnpu_ir_op_name(op->builtin));
	tail = qnpu_hw_reg_read32(s->hw, QNPU_REG_SQ_TAIL);
	v = sm->pt_root;
	memcpy(sqe + QNPU_SQE_PT_ROOT, &v, 8);
	memcpy(sqe + QNPU_SQE_CMD_VA, &job->cmds_va, 8);
	v = job->ncmds;
	memcpy(sqe + QNPU_SQE_CMD_COUNT, &v, 4);
	memcpy(sqe + QNPU_SQE_JOB_ID, &id, 4);
	v = JOB_MAX_CYCLES >> 10;
	memcpy(sqe + QNPU_SQE_MAX_CYCLES, &v, 4);
	memcpy(regs + QNPU_SQ_OFFSET + (tail % QNPU_SQ_ENTRIES) *
	       QNPU_SQE_BYTES, sqe, sizeof(sqe));
	qnpu_hw_reg_write32(s->hw, QNPU_REG_SQ_TAIL, tail + 1);
	qnpu_hw_doorbell(s->hw);
	if (qnpu_hw_run_until_idle(s->hw, JOB_MAX_CYCLES + 1024))
		return qnpu_err(-ETIMEDOUT,
				"sim: %s: device did not finish", what);
	head = qnpu_hw_reg_read32(s->hw, QNPU_REG_CQ_HEAD);
	if (qnpu_hw_reg_read32(s->hw, QNPU_REG_CQ_TAIL) == head)
		return qnpu_err(-EIO, "sim: %s: no completion", what);
	cqe = regs + QNPU_CQ_OFFSET + (head % QNPU_CQ_ENTRIES) *
	      QNPU_CQE_BYTES;
	status = cqe32(cqe, QNPU_CQE_STATUS);
	st->jobs = 1;
	st->cycles = cqe64(cqe, QNPU_CQE_CYCLES);
	st->busy_cycles = cqe64(cqe, QNPU_CQE_BUSY_CYCLES);
	st->hw_macs = cqe64(cqe, QNPU_CQE_MACS);
	st->dma_in = cqe64(cqe, QNPU_CQE_DMA_IN);
	st->dma_out = cqe64(cqe, QNPU_CQE_DMA_OUT);
	st->stall_load = cqe64(cqe, QNPU_CQE_STALL_LOAD_TOKEN);
	st->stall_compute = cqe64(cqe, QNPU_CQE_STALL_COMPUTE_TOKEN);
	st->stall_store = cqe64(cqe, QNPU_CQE_STALL_STORE_TOKEN);
	st->stall_ppu = cqe64(cqe, QNPU_CQE_STALL_PPU);
	st->stall_dispatch = cqe64(cqe, QNPU_CQE_STALL_DISPATCH);
	qnpu_hw_reg_write32(s->hw, QNPU_REG_CQ_HEAD, head + 1);
	qnpu_hw_doorbell(s->hw);
	if (cqe32(cqe, QNPU_CQE_JOB_ID) != id)
		return qnpu_err(-EIO, "sim: %s: completion for job %u, expected %u",
				what, cqe32(cqe, QNPU_CQE_JOB_ID), id);
	if (status != QNPU_STATUS_OK)
		return qnpu_err(-EIO,
				"sim: %s failed on the NPU: %s at command %u (fault va 0x%llx)",
				what,
				qnpu_npu_status_name(status),
				cqe32(cqe, QNPU_CQE_ERR_CMD),
				(unsigned long long)cqe64(cqe, QNPU_CQE_FAULT_VA));
	return 0;
}

static int sim_run_op(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	struct qnpu_npu_seg *sg = qnpu_npu_seg_for(m, op->index);
	struct qnpu_op_stats st = { 0 };
	int r;

	if (!sg)
		return sim_run_job(m, op, op->index, &m->jobs[op->index],
				   &m->runs[op->index].stats);
	if (op->index != sg->ops[0]) {	/* ran with the segment's first */
		qnpu_npu_seg_stats(m, op->index);
		return 0;
	}
	r = sim_run_job(m, op, sg->last, &sg->job, &st);
	return r ? r : qnpu_npu_seg_ran(m, sg, &st);
}

const struct qnpu_backend qnpu_sim_backend = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.supported = qnpu_npu_backend_supported,
	.model_init = sim_model_init,
	.model_fini = sim_model_fini,
	.run_op = sim_run_op,
};
