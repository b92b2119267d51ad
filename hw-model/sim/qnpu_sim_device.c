// SPDX-License-Identifier: MIT
/*
 * The NPU behind qnpu-sim: the Verilated device (hw-model C API) with its
 * register page in the ivshmem shared memory, its DMA into guest RAM and
 * its interrupt on MSI-X vector 0. A doorbell runs the device until it
 * idles; nothing else makes it act, as docs/hw-spec.md says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qnpu_hw.h"
#include "qnpu_regs.h"
#include "qnpu_sim.h"

/* A job that ran this long without idling is cut short (then TIMEOUT). */
#define QNPU_SIM_MAX_CYCLES (1ull << 32)
/* How often a running job looks for doorbells (a reset, new jobs). */
#define QNPU_SIM_POLL_CYCLES 4096

struct qnpu_sim_device {
	struct qnpu_hw *hw;
	struct qnpu_ivshmem *ivs;
	void *idle_page;		/* the register page while no guest */
	/* fault injection (qnpu_sim_fault.c) */
	unsigned long job_no;		/* jobs started so far */
	uint32_t job_head;		/* SQ_HEAD when job_no started */
	unsigned long completed_no;	/* last job whose completion we saw */
	int dma_fail;			/* job_no's memory accesses fail */
	int stuck;			/* job_no is stuck until a reset */
	/* MSI-X message aggregation (qnpu_sim_device_set_irq_hold()) */
	uint64_t irq_hold_cycles;
	int irq_hold;			/* messages wait: the device runs */
	int irq_owed;			/* a message waits */
	uint64_t irq_owed_at;		/* qnpu_hw_cycles() when it began */
	/* printed at exit: what the device itself costs per job */
	unsigned long doorbells;
	uint64_t busy_ns;
	unsigned long multi_jobs;	/* jobs of doorbells that ran several */
	uint64_t multi_ns;
	unsigned long messages;		/* interrupt messages sent */
};

static uint64_t qnpu_sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Every job the device starts fetches its first command through the MMU at
 * once, so the first memory access with a new SQ_HEAD is a job start.
 */
static void qnpu_sim_job_seen(struct qnpu_sim_device *d)
{
	uint32_t head = qnpu_hw_reg_read32(d->hw, QNPU_REG_SQ_HEAD);

	if (d->job_no && head == d->job_head)
		return;
	d->job_head = head;
	d->job_no++;
	d->dma_fail = qnpu_sim_fault_take(QNPU_SIM_FAULT_DMA, d->job_no);
	if (qnpu_sim_fault_take(QNPU_SIM_FAULT_STUCK, d->job_no))
		d->stuck = 1;
	if (qnpu_sim_fault_take(QNPU_SIM_FAULT_DIE, d->job_no)) {
		fprintf(stderr, "qnpu-sim: dying in job %lu (job id %u)\n",
			d->job_no,
			qnpu_hw_reg_read32(d->hw, QNPU_REG_CUR_JOB_ID));
		_exit(3);	/* like a crash: no cleanup */
	}
}

static int qnpu_sim_dma_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	struct qnpu_sim_device *d = ctx;

	qnpu_sim_job_seen(d);
	if (d->dma_fail)
		return -EIO;
	return d->ivs ? qnpu_ivshmem_dma_read(d->ivs, pa, dst, len) : -EFAULT;
}

static int qnpu_sim_dma_write(void *ctx, uint64_t pa, const void *src,
			      size_t len)
{
	struct qnpu_sim_device *d = ctx;

	qnpu_sim_job_seen(d);
	if (d->dma_fail)
		return -EIO;
	return d->ivs ? qnpu_ivshmem_dma_write(d->ivs, pa, src, len) : -EFAULT;
}

/*
 * A raise right after a completion is posted belongs to the job that just
 * ended: the device raises before it starts the next one. Returns 1 if
 * the interrupt is to be dropped.
 */
static int qnpu_sim_completion_faults(struct qnpu_sim_device *d)
{
	uint8_t *page = qnpu_hw_regs(d->hw);
	uint32_t tail = qnpu_hw_reg_read32(d->hw, QNPU_REG_CQ_TAIL);
	uint32_t off = QNPU_CQ_OFFSET +
		       ((tail - 1) % QNPU_CQ_ENTRIES) * QNPU_CQE_BYTES;
	unsigned long n = d->job_no;
	uint32_t v;

	if (!n || n == d->completed_no)
		return 0;
	d->completed_no = n;
	if (qnpu_sim_fault_take(QNPU_SIM_FAULT_CQE, n)) {
		v = 0xbad0bad0;	/* no QNPU_STATUS_* */
		memcpy(page + off + QNPU_CQE_STATUS, &v, 4);
	}
	if (qnpu_sim_fault_take(QNPU_SIM_FAULT_CQE_ID, n)) {
		memcpy(&v, page + off + QNPU_CQE_JOB_ID, 4);
		v ^= 0x80000000u;	/* an id the host never sent */
		memcpy(page + off + QNPU_CQE_JOB_ID, &v, 4);
	}
	if (qnpu_sim_fault_take(QNPU_SIM_FAULT_CQ_TAIL, n))
		qnpu_hw_reg_write32(d->hw, QNPU_REG_CQ_TAIL, tail + 0x1000);
	return qnpu_sim_fault_take(QNPU_SIM_FAULT_IRQ, n);
}

static void qnpu_sim_irq(void *ctx, int level)
{
	struct qnpu_sim_device *d = ctx;

	if (level && qnpu_sim_completion_faults(d)) {
		/* Lost: with it the raises it would have carried. */
		d->irq_owed = 0;
		return;
	}
	if (!level || !d->ivs)
		return;
	/* MSI-X is edge triggered: one message per raise, or per several. */
	if (d->irq_hold && d->irq_hold_cycles) {
		if (!d->irq_owed)
			d->irq_owed_at = qnpu_hw_cycles(d->hw);
		d->irq_owed = 1;
		return;
	}
	d->messages++;
	qnpu_ivshmem_irq(d->ivs, 0);
}

static void qnpu_sim_irq_flush(struct qnpu_sim_device *d)
{
	if (d->irq_owed && d->ivs) {
		d->messages++;
		qnpu_ivshmem_irq(d->ivs, 0);
	}
	d->irq_owed = 0;
}

/* A doorbell rung while a job runs is taken now, not after the job. */
static void qnpu_sim_poll(void *ctx)
{
	struct qnpu_sim_device *d = ctx;

	if (d->ivs && qnpu_ivshmem_take_doorbell(d->ivs))
		qnpu_hw_doorbell(d->hw);
}

static void qnpu_sim_dev_connect(void *priv, struct qnpu_ivshmem *ivs)
{
	struct qnpu_sim_device *d = priv;

	d->ivs = ivs;
	d->stuck = 0;
	d->dma_fail = 0;
	d->job_no = d->completed_no = 0;
	/* Resets the page: the guest finds a fresh device. */
	qnpu_hw_attach_regs(d->hw, qnpu_ivshmem_shm(ivs, NULL));
}

static void qnpu_sim_dev_doorbell(void *priv, struct qnpu_ivshmem *ivs,
				  unsigned int vector)
{
	struct qnpu_sim_device *d = priv;
	uint64_t c, t0 = qnpu_sim_now_ns(), dt;
	unsigned long j0 = d->job_no;

	(void)ivs;
	(void)vector;
	d->doorbells++;
	if (d->stuck) {
		/* Only a reset frees a stuck engine; until then the device
		 * takes the host's indices but makes no progress. */
		if (qnpu_hw_reg_read32(d->hw, QNPU_REG_RESET_REQ) ==
		    qnpu_hw_reg_read32(d->hw, QNPU_REG_RESET_ACK)) {
			qnpu_hw_doorbell(d->hw);
			return;
		}
		fprintf(stderr, "qnpu-sim: reset frees the stuck job %lu\n",
			d->job_no);
		d->stuck = 0;
	}
	d->irq_hold = 1;
	qnpu_hw_doorbell(d->hw);
	/* As qnpu_hw_run_until_idle(), but stopping where a job gets stuck. */
	for (c = 0; !d->stuck && !qnpu_hw_is_idle(d->hw); c++) {
		if (c == QNPU_SIM_MAX_CYCLES) {
			fprintf(stderr, "qnpu-sim: device still busy after "
				"%llu cycles\n", QNPU_SIM_MAX_CYCLES);
			break;
		}
		qnpu_hw_step(d->hw, 1);
		if (d->irq_owed && qnpu_hw_cycles(d->hw) - d->irq_owed_at >=
		    d->irq_hold_cycles)
			qnpu_sim_irq_flush(d);
	}
	d->irq_hold = 0;
	qnpu_sim_irq_flush(d);
	dt = qnpu_sim_now_ns() - t0;
	d->busy_ns += dt;
	if (d->job_no - j0 > 1) {
		d->multi_jobs += d->job_no - j0;
		d->multi_ns += dt;
	}
}

static void qnpu_sim_dev_disconnect(void *priv, struct qnpu_ivshmem *ivs)
{
	struct qnpu_sim_device *d = priv;

	(void)ivs;
	/* The shared page goes away with QEMU: park the device on ours. */
	qnpu_hw_attach_regs(d->hw, d->idle_page);
	d->ivs = NULL;
}

static const struct qnpu_ivshmem_ops qnpu_sim_dev_ops = {
	.connect = qnpu_sim_dev_connect,
	.doorbell = qnpu_sim_dev_doorbell,
	.disconnect = qnpu_sim_dev_disconnect,
};

int qnpu_sim_device_attach(const char *dtb_path,
			   const struct qnpu_ivshmem_ops **ops, void **priv)
{
	struct qnpu_hw_mem_ops mem = {
		qnpu_sim_dma_read, qnpu_sim_dma_write, NULL
	};
	struct qnpu_hw_params p;
	struct qnpu_sim_device *d;
	char err[256] = "";
	void *dtb = NULL;
	long n = 0;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->idle_page = calloc(1, 4096);
	if (!d->idle_page) {
		free(d);
		return -ENOMEM;
	}
	mem.ctx = d;
	if (dtb_path) {
		FILE *f = fopen(dtb_path, "rb");

		if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 ||
		    fseek(f, 0, SEEK_SET) || !(dtb = malloc((size_t)n)) ||
		    fread(dtb, 1, (size_t)n, f) != (size_t)n) {
			fprintf(stderr, "qnpu-sim: cannot read %s\n", dtb_path);
			if (f)
				fclose(f);
			r = -EIO;
			goto err_free;
		}
		fclose(f);
		r = qnpu_hw_create_from_dtb(dtb, (size_t)n, NULL, &mem,
					    &d->hw, err, sizeof(err));
	} else {
		qnpu_hw_default_params(&p);
		r = qnpu_hw_create(&p, &mem, &d->hw, err, sizeof(err));
	}
	if (r) {
		fprintf(stderr, "qnpu-sim: %s\n", err);
		goto err_free;
	}
	d->irq_hold_cycles = QNPU_SIM_IRQ_HOLD_DEFAULT;
	qnpu_hw_set_irq(d->hw, qnpu_sim_irq, d);
	qnpu_hw_set_poll(d->hw, qnpu_sim_poll, d, QNPU_SIM_POLL_CYCLES);
	qnpu_hw_attach_regs(d->hw, d->idle_page);
	p = *qnpu_hw_get_params(d->hw);
	printf("qnpu-sim: device %ux%u MAC array, SRAMs %u/%u/%u/%u bytes\n",
	       p.rows, p.cols, p.abuf_bytes, p.wbuf_bytes, p.pbuf_bytes,
	       p.obuf_bytes);
	free(dtb);
	*ops = &qnpu_sim_dev_ops;
	*priv = d;
	return 0;

err_free:
	free(dtb);
	free(d->idle_page);
	free(d);
	return r;
}

void qnpu_sim_device_set_irq_hold(void *priv, uint64_t cycles)
{
	struct qnpu_sim_device *d = priv;

	d->irq_hold_cycles = cycles;
}

void qnpu_sim_device_detach(void *priv)
{
	struct qnpu_sim_device *d = priv;

	if (!d)
		return;
	if (d->doorbells) {
		uint64_t cyc = qnpu_hw_cycles(d->hw);
		double jobs = d->job_no ? (double)d->job_no : 1;

		printf("qnpu-sim: stats: %lu doorbells, %lu jobs, %lu interrupt "
		       "messages, %llu cycles, %.1f ms running: %.1f us and "
		       "%.0f cycles per job, %.0f ns per cycle\n",
		       d->doorbells, d->job_no, d->messages,
		       (unsigned long long)cyc, d->busy_ns / 1e6,
		       d->busy_ns / 1e3 / jobs, cyc / jobs,
		       cyc ? (double)d->busy_ns / cyc : 0);
		if (d->multi_jobs)
			printf("qnpu-sim: stats: doorbells that ran several "
			       "jobs: %lu jobs, %.1f us per job\n",
			       d->multi_jobs, d->multi_ns / 1e3 / d->multi_jobs);
	}
	qnpu_hw_destroy(d->hw);
	free(d->idle_page);
	free(d);
}
