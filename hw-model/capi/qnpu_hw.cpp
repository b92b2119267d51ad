// SPDX-License-Identifier: MIT
// qnpu hardware model: the C API. docs/hw-spec.md is the contract; the
// device behind it is qnpu_hw_dev.h (host interface and memory model around
// the Verilated RTL). The shipped configurations are linked in; any other
// valid one comes from the model cache (qnpu_hw_cache.cpp).

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

extern "C" {
#include <libfdt.h>
}

#include "qnpu_hw_cache.h"
#include "qnpu_hw_dev.h"

// the shipped configurations and their models, generated from dts/qnpu-*.dts
#include "qnpu_hw_configs.h"

using namespace qnpu_hw_impl;

namespace {

#define QNPU_HW_PARAMS(model, name, ...) {__VA_ARGS__},
const qnpu_hw_params kConfigs[] = {QNPU_HW_CONFIGS(QNPU_HW_PARAMS)};
#undef QNPU_HW_PARAMS
constexpr int kNumConfigs = sizeof(kConfigs) / sizeof(kConfigs[0]);
constexpr int kDefaultConfig = QNPU_HW_DEFAULT_CONFIG;

#define QNPU_HW_NEW_DEV(model, ...) new_dev<model>,
const NewDevFn kNewDev[] = {QNPU_HW_CONFIGS(QNPU_HW_NEW_DEV)};
#undef QNPU_HW_NEW_DEV

void set_err(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

bool pow2(uint32_t v) { return v && !(v & (v - 1)); }

// The device-tree properties, their field and documented range
// (docs/codesign.md). lo/hi bound the value; kPow2 asks a power of two;
// kWords: a multiple of C holding at most 2^20 words (the commands' SRAM
// address fields); at least min_sets parameter sets for PBUF.
enum { kPow2 = 1, kWords = 2, kOptional = 4 };
struct Prop {
	const char *name;
	uint32_t qnpu_hw_params::*field;
	uint32_t lo, hi;
	unsigned flags;
};
const Prop kProps[] = {
	{"qnpu,mac-rows", &qnpu_hw_params::rows, 4, QNPU_HW_MAX_COLS, kPow2},
	{"qnpu,mac-cols", &qnpu_hw_params::cols, 4, QNPU_HW_MAX_COLS, kPow2},
	{"qnpu,abuf-bytes", &qnpu_hw_params::abuf_bytes, 1024, 16u << 20, kPow2 | kWords},
	{"qnpu,wbuf-bytes", &qnpu_hw_params::wbuf_bytes, 1024, 16u << 20, kPow2 | kWords},
	{"qnpu,pbuf-bytes", &qnpu_hw_params::pbuf_bytes, 256, 16u << 20, kPow2 | kWords},
	{"qnpu,obuf-bytes", &qnpu_hw_params::obuf_bytes, 1024, 16u << 20, kPow2 | kWords},
	{"qnpu,dma-bytes-per-cycle", &qnpu_hw_params::dma_bytes, 1, QNPU_HW_MAX_COLS,
	 kPow2 | kOptional},
	{"qnpu,queue-depth", &qnpu_hw_params::queue_depth, 2, 64, kPow2 | kOptional},
	{"qnpu,mem-latency-cycles", &qnpu_hw_params::mem_latency_cycles, 0, 10000, kOptional},
	{"qnpu,mem-bytes-per-cycle", &qnpu_hw_params::mem_bytes_per_cycle, 1, 4096, kOptional},
	{"qnpu,mem-outstanding", &qnpu_hw_params::mem_outstanding, 1, 1024, kOptional},
};
constexpr int kNumProps = sizeof(kProps) / sizeof(kProps[0]);
constexpr int kRtlProps = 8;	// the first eight select the Verilated model

bool same_rtl(const qnpu_hw_params &a, const qnpu_hw_params &b)
{
	for (int i = 0; i < kRtlProps; i++)
		if (a.*kProps[i].field != b.*kProps[i].field)
			return false;
	return true;
}

} // namespace

extern "C" int qnpu_hw_params_check(struct qnpu_hw_params *p, char *err, size_t errlen)
{
	if (!p->dma_bytes)
		p->dma_bytes = p->cols;
	if (!p->queue_depth)
		p->queue_depth = 16;
	for (int i = 0; i < kNumProps; i++) {
		const Prop &d = kProps[i];
		uint32_t v = p->*d.field;
		// zero memory values are ideal memory (property absent)
		if ((d.flags & kOptional) && i >= kRtlProps && !v)
			continue;
		if (v < d.lo || v > d.hi || ((d.flags & kPow2) && !pow2(v))) {
			set_err(err, errlen, "qnpu-hw: %s = %u is out of range (%s%u..%u)", d.name, v,
				d.flags & kPow2 ? "a power of two in " : "", d.lo, d.hi);
			return -EINVAL;
		}
		if ((d.flags & kWords) && i >= 2 && (v % p->cols || v / p->cols > (1u << 20))) {
			set_err(err, errlen,
				"qnpu-hw: %s = %u must be a multiple of qnpu,mac-cols (%u) and at most 2^20 words",
				d.name, v, p->cols);
			return -EINVAL;
		}
	}
	if (p->pbuf_bytes / p->cols < 2 * QNPU_PARAM_SET_WORDS) {
		set_err(err, errlen,
			"qnpu-hw: qnpu,pbuf-bytes = %u holds fewer than two parameter sets of %u bytes "
			"(12 x qnpu,mac-cols)", p->pbuf_bytes, QNPU_PARAM_SET_WORDS * p->cols);
		return -EINVAL;
	}
	if (p->dma_bytes > p->cols) {
		set_err(err, errlen,
			"qnpu-hw: qnpu,dma-bytes-per-cycle = %u is wider than a SRAM word "
			"(qnpu,mac-cols = %u)", p->dma_bytes, p->cols);
		return -EINVAL;
	}
	return 0;
}

extern "C" void qnpu_hw_params_key(const struct qnpu_hw_params *p, char *buf, size_t len)
{
	snprintf(buf, len, "r%uc%u-a%u-w%u-p%u-o%u-d%u-q%u", p->rows, p->cols, p->abuf_bytes,
		 p->wbuf_bytes, p->pbuf_bytes, p->obuf_bytes,
		 p->dma_bytes ? p->dma_bytes : p->cols, p->queue_depth ? p->queue_depth : 16);
}

struct qnpu_hw {
	std::unique_ptr<DevBase> dev;
};

extern "C" {

int qnpu_hw_num_configs(void) { return kNumConfigs; }

const struct qnpu_hw_params *qnpu_hw_config(int index)
{
	if (index < 0 || index >= kNumConfigs)
		return nullptr;
	return &kConfigs[index];
}

void qnpu_hw_default_params(struct qnpu_hw_params *p) { *p = kConfigs[kDefaultConfig]; }

int qnpu_hw_params_from_dtb(const void *dtb, size_t size, const char *path,
			    struct qnpu_hw_params *p, char *err, size_t errlen)
{
	if (!dtb || size < sizeof(struct fdt_header) || fdt_check_header(dtb) ||
	    fdt_totalsize(dtb) > size) {
		set_err(err, errlen, "qnpu-hw: not a valid device tree blob");
		return -EINVAL;
	}
	int node = path ? fdt_path_offset(dtb, path)
			: fdt_node_offset_by_compatible(dtb, -1, "qnpu,npu-1.0");
	if (node < 0) {
		set_err(err, errlen, "qnpu-hw: no %s in the device tree",
			path ? path : "node compatible with \"qnpu,npu-1.0\"");
		return -ENOENT;
	}
	qnpu_hw_params v = {};
	for (int i = 0; i < kNumProps; i++) {
		int len;
		const fdt32_t *prop =
			(const fdt32_t *)fdt_getprop(dtb, node, kProps[i].name, &len);
		if (!prop && (kProps[i].flags & kOptional))
			continue;
		if (!prop || len != 4) {
			set_err(err, errlen,
				"qnpu-hw: device tree node lacks a u32 \"%s\"", kProps[i].name);
			return -EINVAL;
		}
		v.*kProps[i].field = fdt32_to_cpu(*prop);
		// a memory value of 0 in the tree is not "ideal": that is absence
		if (!(v.*kProps[i].field) && kProps[i].lo) {
			set_err(err, errlen, "qnpu-hw: %s = 0 is out of range (%u..%u; "
				"leave it out for ideal memory)", kProps[i].name,
				kProps[i].lo, kProps[i].hi);
			return -EINVAL;
		}
	}
	int ret = qnpu_hw_params_check(&v, err, errlen);
	if (ret)
		return ret;
	*p = v;
	return 0;
}

int qnpu_hw_create(const struct qnpu_hw_params *p, const struct qnpu_hw_mem_ops *mem,
		   struct qnpu_hw **out, char *err, size_t errlen)
{
	if (!p || !mem || !mem->read || !mem->write || !out) {
		set_err(err, errlen, "qnpu-hw: missing parameters or memory callbacks");
		return -EINVAL;
	}
	qnpu_hw_params q = *p;
	int ret = qnpu_hw_params_check(&q, err, errlen);
	if (ret)
		return ret;
	NewDevFn fn = nullptr;
	for (int i = 0; i < kNumConfigs && !fn; i++)
		if (same_rtl(kConfigs[i], q))
			fn = kNewDev[i];
	if (!fn) {
		ret = qnpu_hw_cache_model(&q, &fn, err, errlen);
		if (ret)
			return ret;
	}
	qnpu_hw *hw = new (std::nothrow) qnpu_hw;
	if (!hw)
		return -ENOMEM;
	hw->dev.reset(fn(q, *mem));
	*out = hw;
	return 0;
}

int qnpu_hw_create_from_dtb(const void *dtb, size_t size, const char *path,
			    const struct qnpu_hw_mem_ops *mem, struct qnpu_hw **out,
			    char *err, size_t errlen)
{
	qnpu_hw_params p;
	int ret = qnpu_hw_params_from_dtb(dtb, size, path, &p, err, errlen);
	if (ret)
		return ret;
	return qnpu_hw_create(&p, mem, out, err, errlen);
}

void qnpu_hw_destroy(struct qnpu_hw *hw) { delete hw; }

const struct qnpu_hw_params *qnpu_hw_get_params(const struct qnpu_hw *hw) { return &hw->dev->prm; }

uint32_t qnpu_hw_reg_read32(struct qnpu_hw *hw, uint32_t off)
{
	return off + 4 <= QNPU_PAGE_BYTES ? hw->dev->r32(off & ~3u) : 0;
}

void qnpu_hw_reg_write32(struct qnpu_hw *hw, uint32_t off, uint32_t val)
{
	if (off + 4 <= QNPU_PAGE_BYTES)
		hw->dev->w32(off & ~3u, val);
}

uint64_t qnpu_hw_reg_read64(struct qnpu_hw *hw, uint32_t off)
{
	return off + 8 <= QNPU_PAGE_BYTES ? hw->dev->r64(off & ~7u) : 0;
}

void qnpu_hw_reg_write64(struct qnpu_hw *hw, uint32_t off, uint64_t val)
{
	if (off + 8 <= QNPU_PAGE_BYTES)
		hw->dev->w64(off & ~7u, val);
}

void *qnpu_hw_regs(struct qnpu_hw *hw) { return hw->dev->page; }

void qnpu_hw_attach_regs(struct qnpu_hw *hw, void *page)
{
	DevBase *d = hw->dev.get();
	d->page = page ? static_cast<uint8_t *>(page) : d->own_page;
	d->running = false;
	d->dma_reset();
	d->rtl_reset();
	d->init_page();
}

void qnpu_hw_doorbell(struct qnpu_hw *hw) { hw->dev->doorbell(); }

void qnpu_hw_set_irq(struct qnpu_hw *hw, qnpu_hw_irq_fn fn, void *ctx)
{
	hw->dev->irq_fn = fn;
	hw->dev->irq_ctx = ctx;
}

int qnpu_hw_irq_level(const struct qnpu_hw *hw) { return hw->dev->irq_level; }

void qnpu_hw_set_poll(struct qnpu_hw *hw, qnpu_hw_poll_fn fn, void *ctx, uint64_t every)
{
	hw->dev->poll_fn = fn;
	hw->dev->poll_ctx = ctx;
	hw->dev->poll_every = every;
	hw->dev->poll_left = every;
}

uint64_t qnpu_hw_step(struct qnpu_hw *hw, uint64_t n)
{
	hw->dev->step(n);
	return n;
}

int qnpu_hw_run_until_idle(struct qnpu_hw *hw, uint64_t max_cycles)
{
	DevBase *d = hw->dev.get();
	uint64_t n = 0;
	while (!d->idle()) {
		if (n >= max_cycles)
			return -ETIMEDOUT;
		d->step(1);
		n++;
	}
	return 0;
}

int qnpu_hw_is_idle(const struct qnpu_hw *hw) { return hw->dev->idle(); }

uint64_t qnpu_hw_cycles(const struct qnpu_hw *hw) { return hw->dev->cycles; }

} // extern "C"
