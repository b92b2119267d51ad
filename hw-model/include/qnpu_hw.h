/* SPDX-License-Identifier: MIT */
/*
 * qnpu hardware model: the Verilated RTL of the NPU plus its host interface
 * (register page, rings, doorbell, interrupt, command fetch, MMU), as a C
 * library. The device is described in docs/hw-spec.md; register offsets and
 * encodings are in the generated qnpu_regs.h.
 *
 * The library links one Verilated model per shipped configuration (the
 * device trees dts/qnpu-<name>.dts); any other valid configuration is
 * Verilated on first use and cached (docs/codesign.md). A device is created
 * from explicit parameters or from a DTB.
 *
 * Functions return 0 or a negative errno. Not thread-safe per device; any
 * number of devices may exist at once.
 */
#ifndef QNPU_HW_H
#define QNPU_HW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct qnpu_hw;

/* Largest array dimension a configuration may have (docs/codesign.md has
 * every property's range). */
#define QNPU_HW_MAX_COLS 64

/*
 * Hardware parameters: what a DTB node describes. The first eight select
 * the RTL (a Verilated model per distinct set); the memory system's three
 * are the C API's and cost nothing to change. A zero in dma_bytes or
 * queue_depth means the default (C, 16); zero memory values mean ideal
 * memory (no latency, no bandwidth or outstanding-request limit).
 */
struct qnpu_hw_params {
	uint32_t rows;		/* MAC array rows R */
	uint32_t cols;		/* MAC array columns C */
	uint32_t abuf_bytes;	/* activation SRAM */
	uint32_t wbuf_bytes;	/* weight SRAM */
	uint32_t pbuf_bytes;	/* parameter SRAM */
	uint32_t obuf_bytes;	/* output SRAM */
	uint32_t dma_bytes;	/* DMA port bytes per cycle and direction */
	uint32_t queue_depth;	/* entries of each engine's command queue */
	uint32_t mem_latency_cycles;	/* read request -> first data */
	uint32_t mem_bytes_per_cycle;	/* per direction */
	uint32_t mem_outstanding;	/* bursts in flight per direction */
};

/*
 * Device memory, by physical address. The DMA engines and the MMU's
 * page-table walk use only these; they are called once per burst (or per
 * page of a burst), never per byte. Return 0, or a negative value for a bus
 * error (the job then fails with QNPU_STATUS_FAULT, reason BUS).
 */
struct qnpu_hw_mem_ops {
	int (*read)(void *ctx, uint64_t pa, void *dst, size_t len);
	int (*write)(void *ctx, uint64_t pa, const void *src, size_t len);
	void *ctx;
};

/* Called when the interrupt line changes level (1 = raised). A raise is
 * reported for every interrupt the device signals (every IRQ_COUNT
 * increment while CTRL.IRQ_EN), even if the line was already high. */
typedef void (*qnpu_hw_irq_fn)(void *ctx, int level);

/* Number of built configurations and their parameters (index 0..n-1). */
int qnpu_hw_num_configs(void);
const struct qnpu_hw_params *qnpu_hw_config(int index);

/* Default (16x16) parameters. */
void qnpu_hw_default_params(struct qnpu_hw_params *p);

/*
 * Read the NPU node of a flattened device tree (compatible "qnpu,npu-1.0"):
 * rows, cols, SRAM sizes (required), DMA width, queue depth and the memory
 * system (optional). path may be NULL (first compatible node). Every value
 * is checked against its documented range; on error, err (if not NULL)
 * receives one line naming the property.
 */
int qnpu_hw_params_from_dtb(const void *dtb, size_t size, const char *path,
			    struct qnpu_hw_params *p, char *err,
			    size_t errlen);

/*
 * Check parameters against the documented ranges (as from a DTB): 0, or
 * -EINVAL with one line in err naming the property. Fills in defaults.
 */
int qnpu_hw_params_check(struct qnpu_hw_params *p, char *err, size_t errlen);

/*
 * The model key of a configuration (the parameters that select the RTL),
 * e.g. "r16c16-a65536-w32768-p4096-o32768-d16-q16".
 */
void qnpu_hw_params_key(const struct qnpu_hw_params *p, char *buf, size_t len);

/*
 * Create a device. A configuration that is not linked in is Verilated and
 * compiled into the model cache on first use (which takes a minute; the
 * cache is $QNPU_HW_CACHE or the build tree's, shared by processes under a
 * lock). -EINVAL with a message naming the property for invalid
 * parameters, -EIO if the model cannot be built. mem is copied; irq may be
 * NULL.
 */
int qnpu_hw_create(const struct qnpu_hw_params *p,
		   const struct qnpu_hw_mem_ops *mem, struct qnpu_hw **out,
		   char *err, size_t errlen);
int qnpu_hw_create_from_dtb(const void *dtb, size_t size, const char *path,
			    const struct qnpu_hw_mem_ops *mem,
			    struct qnpu_hw **out, char *err, size_t errlen);
/* Frees everything, including a job in flight. NULL is allowed. */
void qnpu_hw_destroy(struct qnpu_hw *hw);

const struct qnpu_hw_params *qnpu_hw_get_params(const struct qnpu_hw *hw);

/*
 * Register page. By default the device owns a 4 KiB page; attach_regs makes
 * it use caller memory instead (e.g. shared memory of a co-simulation),
 * which it initialises like a reset does. The caller keeps ownership and
 * must keep it alive until destroy or the next attach.
 */
uint32_t qnpu_hw_reg_read32(struct qnpu_hw *hw, uint32_t offset);
void qnpu_hw_reg_write32(struct qnpu_hw *hw, uint32_t offset, uint32_t val);
uint64_t qnpu_hw_reg_read64(struct qnpu_hw *hw, uint32_t offset);
void qnpu_hw_reg_write64(struct qnpu_hw *hw, uint32_t offset, uint64_t val);
void *qnpu_hw_regs(struct qnpu_hw *hw);
void qnpu_hw_attach_regs(struct qnpu_hw *hw, void *page);

/* The doorbell: the device samples the host-owned registers (see
 * docs/hw-spec.md) and acts on them. Nothing else makes it act. */
void qnpu_hw_doorbell(struct qnpu_hw *hw);

void qnpu_hw_set_irq(struct qnpu_hw *hw, qnpu_hw_irq_fn fn, void *ctx);
int qnpu_hw_irq_level(const struct qnpu_hw *hw);

/*
 * Poll hook for long runs: step() and run_until_idle() call fn(ctx) between
 * two cycles every `every` cycles while a job runs (every = 0 disables it).
 * fn may ring the doorbell (qnpu_hw_doorbell()), e.g. to deliver a reset
 * the host requested while a long job was being simulated; it must not
 * destroy the device.
 */
typedef void (*qnpu_hw_poll_fn)(void *ctx);
void qnpu_hw_set_poll(struct qnpu_hw *hw, qnpu_hw_poll_fn fn, void *ctx, uint64_t every);

/* Advance the clock by n cycles. Returns the cycles simulated. */
uint64_t qnpu_hw_step(struct qnpu_hw *hw, uint64_t n);
/* Run until the device has nothing left to do (no job running, and none it
 * may start), at most max_cycles. 0 when idle, -ETIMEDOUT otherwise. */
int qnpu_hw_run_until_idle(struct qnpu_hw *hw, uint64_t max_cycles);
int qnpu_hw_is_idle(const struct qnpu_hw *hw);
/* Cycles since creation. */
uint64_t qnpu_hw_cycles(const struct qnpu_hw *hw);

#ifdef __cplusplus
}
#endif

#endif /* QNPU_HW_H */
