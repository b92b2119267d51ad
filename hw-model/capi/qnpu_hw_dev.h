// SPDX-License-Identifier: MIT
// qnpu hardware model: the device behind the C API. DevBase is the host
// interface (register page, rings, doorbell, interrupt, command fetch, MMU)
// and the memory system's model; Dev<V> drives one Verilated model V every
// cycle. Private to hw-model/capi: qnpu_hw.cpp instantiates it for the
// linked configurations, qnpu_hw_model.cpp for a model built on demand
// (qnpu_hw_cache.cpp), so both must see the same definitions.
#ifndef QNPU_HW_DEV_H
#define QNPU_HW_DEV_H

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "qnpu_hw.h"
#include "qnpu_regs.h"
#include "verilated.h"

namespace qnpu_hw_impl {

constexpr int kNumCnt = 12;
constexpr uint64_t kPaMask = QNPU_PTE_PA_MASK;

// a word of C bytes: IData for C = 4, QData for 8, VlWide above
inline void put_bytes(IData &d, const uint8_t *s) { memcpy(&d, s, 4); }
inline void put_bytes(QData &d, const uint8_t *s) { memcpy(&d, s, 8); }
template <std::size_t N> inline void put_bytes(VlWide<N> &d, const uint8_t *s)
{
	memcpy(d.data(), s, N * 4);
}
inline void get_bytes(const IData &d, uint8_t *s) { memcpy(s, &d, 4); }
inline void get_bytes(const QData &d, uint8_t *s) { memcpy(s, &d, 8); }
template <std::size_t N> inline void get_bytes(const VlWide<N> &d, uint8_t *s)
{
	memcpy(s, d.data(), N * 4);
}

struct Fault {
	uint64_t va = 0;
	uint32_t reason = 0;
	uint32_t level = 0;
	bool write = false;
};

// Everything except the per-cycle RTL pin wiggling.
class DevBase {
public:
	explicit DevBase(const qnpu_hw_params &p, const qnpu_hw_mem_ops &m)
		: prm(p), mem(m)
	{
		page = own_page;
		init_page();
	}
	virtual ~DevBase() = default;

	virtual void rtl_reset() = 0;
	virtual void tick() = 0;

	qnpu_hw_params prm;
	qnpu_hw_mem_ops mem;
	qnpu_hw_irq_fn irq_fn = nullptr;
	void *irq_ctx = nullptr;
	qnpu_hw_poll_fn poll_fn = nullptr;
	void *poll_ctx = nullptr;
	uint64_t poll_every = 0, poll_left = 0;
	uint8_t own_page[QNPU_PAGE_BYTES] = {};
	uint8_t *page;
	int irq_level = 0;
	uint64_t cycles = 0;
	// no tick since the last rtl_reset(): a job start need not reset again
	bool rtl_fresh = false;

	// host-owned registers as sampled at the last doorbell
	uint32_t sq_tail = 0, cq_head = 0, ctrl = 0, irq_ack = 0;

	// current job
	bool running = false;
	bool ring_err = false;
	uint64_t gen = 0; // jobs started, to notice a job ending mid-tick
	bool start_pending = false;
	uint64_t pt_root = 0, cmd_va = 0;
	uint32_t ncmds = 0, job_id = 0, fetched = 0;
	uint64_t watchdog = 0, job_cycles = 0;
	uint64_t cmd_bytes = 0;
	bool cmd_valid = false;
	uint8_t cmd[QNPU_CMD_BYTES];

	// DMA bursts in flight, in request order, and the memory system's model
	struct Burst {
		uint64_t va;
		size_t len;		// bytes of the row
		uint64_t ready_at;	// first job cycle its data may move
		std::vector<uint8_t> data;
		size_t pos = 0;
	};
	std::deque<Burst> rq, wq;
	int64_t rd_credit = 0, wr_credit = 0;

	// Memory model (docs/codesign.md): a request accepted in cycle t has its
	// data from cycle t + 1 + latency on (reads; writes are posted, their data
	// follows the request at once); each direction moves at most
	// mem_bytes_per_cycle (a byte credit, refilled every cycle, that a beat of
	// C bytes spends); at most mem_outstanding bursts per direction. Zero
	// means ideal (no latency, no limit).
	int64_t credit_cap() const
	{
		return (int64_t)prm.cols + prm.mem_bytes_per_cycle;
	}
	bool mem_has_slot(const std::deque<Burst> &q) const
	{
		return !prm.mem_outstanding || q.size() < prm.mem_outstanding;
	}
	bool credit_ok(int64_t credit) const
	{
		return !prm.mem_bytes_per_cycle || credit >= (int64_t)prm.cols;
	}
	void refill(int64_t &credit)
	{
		if (prm.mem_bytes_per_cycle)
			credit = std::min(credit_cap(), credit + (int64_t)prm.mem_bytes_per_cycle);
	}
	void dma_reset()
	{
		rq.clear();
		wq.clear();
		rd_credit = wr_credit = credit_cap();
	}

	// one-way TLB, cleared at job start
	struct Tlb {
		uint64_t vpn;
		uint64_t ppn;
		bool valid, w;
	} tlb[64] = {};

	uint32_t r32(uint32_t off) const
	{
		uint32_t v;
		memcpy(&v, page + off, 4);
		return v;
	}
	void w32(uint32_t off, uint32_t v) { memcpy(page + off, &v, 4); }
	uint64_t r64(uint32_t off) const
	{
		uint64_t v;
		memcpy(&v, page + off, 8);
		return v;
	}
	void w64(uint32_t off, uint64_t v) { memcpy(page + off, &v, 8); }

	void init_page()
	{
		memset(page, 0, QNPU_PAGE_BYTES);
		w32(QNPU_REG_MAGIC, QNPU_MAGIC);
		w32(QNPU_REG_VERSION, (QNPU_VERSION_MAJOR << QNPU_VERSION_MAJOR_SHIFT) |
					      (QNPU_VERSION_MINOR << QNPU_VERSION_MINOR_SHIFT));
		w32(QNPU_REG_HW_ROWS, prm.rows);
		w32(QNPU_REG_HW_COLS, prm.cols);
		w32(QNPU_REG_ABUF_BYTES, prm.abuf_bytes);
		w32(QNPU_REG_WBUF_BYTES, prm.wbuf_bytes);
		w32(QNPU_REG_PBUF_BYTES, prm.pbuf_bytes);
		w32(QNPU_REG_OBUF_BYTES, prm.obuf_bytes);
		w32(QNPU_REG_CMD_BYTES, QNPU_CMD_BYTES);
		/* prm holds the defaults already (qnpu_hw_params_check()). */
		w32(QNPU_REG_DMA_BYTES, prm.dma_bytes);
		w32(QNPU_REG_QUEUE_DEPTH, prm.queue_depth);
		w32(QNPU_REG_MEM_LATENCY, prm.mem_latency_cycles);
		w32(QNPU_REG_MEM_BYTES_PER_CYCLE, prm.mem_bytes_per_cycle);
		w32(QNPU_REG_MEM_OUTSTANDING, prm.mem_outstanding);
		w32(QNPU_REG_RING_INFO,
		    (QNPU_SQ_ENTRIES << QNPU_RING_INFO_SQ_ENTRIES_SHIFT) |
			    (QNPU_CQ_ENTRIES << QNPU_RING_INFO_CQ_ENTRIES_SHIFT) |
			    (QNPU_VA_BITS << QNPU_RING_INFO_VA_BITS_SHIFT) |
			    (QNPU_PT_LEVELS << QNPU_RING_INFO_PT_LEVELS_SHIFT));
		sq_tail = cq_head = ctrl = irq_ack = 0;
	}

	void set_irq_level(int lvl, bool raise_event)
	{
		if (lvl != irq_level || (lvl && raise_event)) {
			irq_level = lvl;
			if (irq_fn)
				irq_fn(irq_ctx, lvl);
		}
	}
	void raise_irq()
	{
		w32(QNPU_REG_IRQ_COUNT, r32(QNPU_REG_IRQ_COUNT) + 1);
		if (ctrl & QNPU_CTRL_IRQ_EN_MASK)
			set_irq_level(1, true);
	}
	void update_irq()
	{
		int lvl = (ctrl & QNPU_CTRL_IRQ_EN_MASK) &&
			  r32(QNPU_REG_IRQ_COUNT) != irq_ack;
		set_irq_level(lvl, false);
	}

	// ---- MMU ----
	bool translate(uint64_t va, bool write, uint64_t *pa, Fault *f)
	{
		f->va = va;
		f->write = write;
		f->level = 0;
		if (va >> QNPU_VA_BITS) {
			f->reason = QNPU_FAULT_VA_RANGE;
			return false;
		}
		uint64_t vpn = va >> QNPU_PAGE_SHIFT;
		Tlb &t = tlb[vpn & 63];
		if (t.valid && t.vpn == vpn && (!write || t.w)) {
			*pa = (t.ppn << QNPU_PAGE_SHIFT) | (va & 0xfff);
			return true;
		}
		uint64_t table = pt_root;
		for (unsigned lvl = 0; lvl < QNPU_PT_LEVELS; lvl++) {
			unsigned sh = QNPU_PAGE_SHIFT + 9 * (QNPU_PT_LEVELS - 1 - lvl);
			uint64_t idx = (va >> sh) & 511, pte;
			f->level = lvl;
			if (mem.read(mem.ctx, table + idx * 8, &pte, 8)) {
				f->reason = QNPU_FAULT_BUS;
				return false;
			}
			if (!(pte & QNPU_PTE_V_MASK)) {
				f->reason = QNPU_FAULT_UNMAPPED;
				return false;
			}
			if (lvl + 1 < QNPU_PT_LEVELS) {
				table = pte & kPaMask;
				continue;
			}
			bool w = pte & QNPU_PTE_W_MASK;
			if (write && !w) {
				f->reason = QNPU_FAULT_READONLY;
				return false;
			}
			t.valid = true;
			t.vpn = vpn;
			t.ppn = (pte & kPaMask) >> QNPU_PAGE_SHIFT;
			t.w = w;
			*pa = (pte & kPaMask) | (va & 0xfff);
		}
		return true;
	}

	bool dma_read(uint64_t va, void *dst, size_t len, Fault *f)
	{
		uint8_t *d = static_cast<uint8_t *>(dst);
		while (len) {
			size_t chunk = 4096 - (va & 0xfff);
			if (chunk > len)
				chunk = len;
			uint64_t pa;
			if (!translate(va, false, &pa, f))
				return false;
			if (mem.read(mem.ctx, pa, d, chunk)) {
				f->reason = QNPU_FAULT_BUS;
				return false;
			}
			va += chunk;
			d += chunk;
			len -= chunk;
		}
		return true;
	}

	// All pages are checked before the first byte is written.
	bool dma_write(uint64_t va, const uint8_t *src, size_t len, Fault *f)
	{
		uint64_t pas[18];
		size_t lens[18], n = 0;
		uint64_t v = va;
		size_t l = len;
		while (l) {
			size_t chunk = 4096 - (v & 0xfff);
			if (chunk > l)
				chunk = l;
			if (!translate(v, true, &pas[n], f))
				return false;
			lens[n++] = chunk;
			v += chunk;
			l -= chunk;
		}
		for (size_t i = 0; i < n; i++) {
			if (mem.write(mem.ctx, pas[i], src, lens[i])) {
				f->va = va;
				f->write = true;
				f->reason = QNPU_FAULT_BUS;
				return false;
			}
			src += lens[i];
		}
		return true;
	}

	// ---- jobs ----
	void fetch_cmd()
	{
		cmd_valid = false;
		if (fetched >= ncmds)
			return;
		Fault f;
		if (!dma_read(cmd_va + (uint64_t)fetched * QNPU_CMD_BYTES, cmd,
			      QNPU_CMD_BYTES, &f)) {
			fault(f, fetched);
			return;
		}
		cmd_bytes += QNPU_CMD_BYTES;
		fetched++;
		cmd_valid = true;
	}

	void write_cqe(uint32_t status, uint32_t err_cmd, const Fault *f,
		       const uint64_t *cnt)
	{
		uint32_t tail = r32(QNPU_REG_CQ_TAIL);
		uint32_t off = QNPU_CQ_OFFSET + (tail % QNPU_CQ_ENTRIES) * QNPU_CQE_BYTES;
		memset(page + off, 0, QNPU_CQE_BYTES);
		w32(off + QNPU_CQE_JOB_ID, job_id);
		w32(off + QNPU_CQE_STATUS, status);
		w32(off + QNPU_CQE_ERR_CMD, err_cmd);
		if (f) {
			uint32_t info = (f->write ? 1u : 0u) << QNPU_FAULT_INFO_WRITE_SHIFT |
					f->reason << QNPU_FAULT_INFO_REASON_SHIFT |
					f->level << QNPU_FAULT_INFO_LEVEL_SHIFT;
			w32(off + QNPU_CQE_FAULT_INFO, info);
			w64(off + QNPU_CQE_FAULT_VA, f->va);
			w32(QNPU_REG_FAULT_VA_LO, (uint32_t)f->va);
			w32(QNPU_REG_FAULT_VA_HI, (uint32_t)(f->va >> 32));
			w32(QNPU_REG_FAULT_INFO, info);
			w32(QNPU_REG_FAULT_JOB_ID, job_id);
			w32(QNPU_REG_FAULT_COUNT, r32(QNPU_REG_FAULT_COUNT) + 1);
		}
		if (cnt) {
			static const uint32_t at[kNumCnt] = {
				QNPU_CQE_CYCLES, QNPU_CQE_BUSY_CYCLES, QNPU_CQE_MACS,
				QNPU_CQE_DMA_IN, QNPU_CQE_DMA_OUT,
				QNPU_CQE_STALL_LOAD_TOKEN, QNPU_CQE_STALL_COMPUTE_TOKEN,
				QNPU_CQE_STALL_STORE_TOKEN, QNPU_CQE_STALL_PPU,
				QNPU_CQE_STALL_DISPATCH, QNPU_CQE_COMPUTE_CYCLES,
				QNPU_CQE_LOAD_CYCLES};
			for (int i = 0; i < kNumCnt; i++)
				w64(off + at[i], cnt[i]);
			w64(off + QNPU_CQE_CMD_BYTES, cmd_bytes);
		}
		w32(QNPU_REG_CQ_TAIL, tail + 1);
		w32(QNPU_REG_TOTAL_JOBS, r32(QNPU_REG_TOTAL_JOBS) + 1);
	}

	virtual void read_counters(uint64_t *cnt) = 0;

	void finish(uint32_t status, uint32_t err_cmd, const Fault *f)
	{
		uint64_t cnt[kNumCnt];
		read_counters(cnt);
		cnt[0] = job_cycles; // the bridge's view includes fetch and faults
		write_cqe(status, err_cmd, f, cnt);
		running = false;
		cmd_valid = false;
		dma_reset();
		rtl_reset();
		w32(QNPU_REG_STATUS, 0);
		raise_irq();
		try_start();
	}

	void fault(const Fault &f, uint32_t err_cmd) { finish(QNPU_STATUS_FAULT, err_cmd, &f); }

	bool cq_has_room() const
	{
		return r32(QNPU_REG_CQ_TAIL) - cq_head < QNPU_CQ_ENTRIES;
	}

	void try_start()
	{
		while (!running && r32(QNPU_REG_SQ_HEAD) != sq_tail) {
			if (!cq_has_room()) {
				w32(QNPU_REG_STATUS, QNPU_STATUS_CQ_FULL_MASK);
				return;
			}
			uint32_t head = r32(QNPU_REG_SQ_HEAD);
			uint32_t off = QNPU_SQ_OFFSET + (head % QNPU_SQ_ENTRIES) * QNPU_SQE_BYTES;
			pt_root = r64(off + QNPU_SQE_PT_ROOT);
			cmd_va = r64(off + QNPU_SQE_CMD_VA);
			ncmds = r32(off + QNPU_SQE_CMD_COUNT);
			job_id = r32(off + QNPU_SQE_JOB_ID);
			watchdog = (uint64_t)r32(off + QNPU_SQE_MAX_CYCLES) * 1024;
			uint32_t flags = r32(off + QNPU_SQE_FLAGS);
			w32(QNPU_REG_SQ_HEAD, head + 1);
			job_cycles = 0;
			cmd_bytes = 0;
			fetched = 0;
			if (ncmds == 0 || ncmds > (1u << 24) || (cmd_va & 63) ||
			    (pt_root & 0xfff) || flags) {
				uint64_t zero[kNumCnt] = {};
				write_cqe(QNPU_STATUS_BAD_DESC, 0, nullptr, zero);
				raise_irq();
				continue;
			}
			for (auto &t : tlb)
				t.valid = false;
			dma_reset();
			// a finished job left it reset; two more evals of the
			// whole design were half of an empty job's cost
			if (!rtl_fresh)
				rtl_reset();
			running = true;
			gen++;
			start_pending = true;
			w32(QNPU_REG_STATUS, QNPU_STATUS_BUSY_MASK);
			w32(QNPU_REG_CUR_JOB_ID, job_id);
			fetch_cmd();
		}
		uint32_t st = r32(QNPU_REG_STATUS) & ~QNPU_STATUS_RING_ERR_MASK;
		if (!running)
			st &= ~QNPU_STATUS_BUSY_MASK;
		w32(QNPU_REG_STATUS, st | (ring_err ? QNPU_STATUS_RING_ERR_MASK : 0));
	}

	void doorbell()
	{
		ctrl = r32(QNPU_REG_CTRL);
		uint32_t tail = r32(QNPU_REG_SQ_TAIL);
		// more entries than the ring holds: ignore the new tail
		ring_err = tail - r32(QNPU_REG_SQ_HEAD) > QNPU_SQ_ENTRIES;
		if (!ring_err)
			sq_tail = tail;
		cq_head = r32(QNPU_REG_CQ_HEAD);
		irq_ack = r32(QNPU_REG_IRQ_ACK);
		uint32_t req = r32(QNPU_REG_RESET_REQ);
		if (req != r32(QNPU_REG_RESET_ACK)) {
			if (running) {
				uint64_t cnt[kNumCnt];
				read_counters(cnt);
				cnt[0] = job_cycles;
				write_cqe(QNPU_STATUS_ABORTED, 0, nullptr, cnt);
			}
			running = false;
			start_pending = false;
			cmd_valid = false;
			dma_reset();
			rtl_reset();
			if (!ring_err)
				w32(QNPU_REG_SQ_HEAD, sq_tail);
			w32(QNPU_REG_STATUS, 0);
			w32(QNPU_REG_RESET_ACK, req);
			raise_irq();
		}
		update_irq();
		try_start();
	}

	bool idle() const { return !running; }

	void step(uint64_t n)
	{
		while (n--) {
			if (running) {
				tick();
				job_cycles++;
				if (running && watchdog && job_cycles >= watchdog)
					finish(QNPU_STATUS_TIMEOUT, 0, nullptr);
				if (running && poll_fn && poll_every && !--poll_left) {
					poll_left = poll_every;
					poll_fn(poll_ctx);
				}
			}
			cycles++;
		}
	}
};

template <class V> class Dev : public DevBase {
public:
	Dev(const qnpu_hw_params &p, const qnpu_hw_mem_ops &m) : DevBase(p, m)
	{
		// fatalOnError stays on: a failed RTL assertion aborts with its
		// file:line, as it is a bug of the RTL or this bridge, not a device
		// error software could handle
		ctx.reset(new VerilatedContext);
		model.reset(new V(ctx.get()));
		model->clk_i = 0;
		model->job_start_i = 0;
		model->cmd_valid_i = 0;
		model->rd_req_ready_i = 1;
		model->rd_valid_i = 0;
		model->wr_req_ready_i = 1;
		model->wr_ready_i = 0;
		rtl_reset();
	}
	~Dev() override { model->final(); }

	void rtl_reset() override
	{
		model->rst_ni = 0;
		model->clk_i = 0;
		model->eval();
		model->rst_ni = 1;
		model->eval();
		rtl_fresh = true;
	}

	void read_counters(uint64_t *cnt) override
	{
		for (int i = 0; i < kNumCnt; i++)
			cnt[i] = model->cnt_o[i];
	}

	void tick() override
	{
		V *m = model.get();
		const size_t C = prm.cols;
		const uint64_t now = job_cycles;

		rtl_fresh = false;
		refill(rd_credit);
		refill(wr_credit);
		m->job_start_i = start_pending;
		m->job_ncmds_i = ncmds;
		m->cmd_valid_i = cmd_valid;
		if (cmd_valid)
			memcpy(m->cmd_i.data(), cmd, QNPU_CMD_BYTES);
		Burst *rh = rq.empty() ? nullptr : &rq.front();
		bool rvalid = rh && now >= rh->ready_at && credit_ok(rd_credit);
		m->rd_valid_i = rvalid;
		if (rvalid)
			put_bytes(m->rd_data_i, &rh->data[rh->pos]);
		m->rd_req_ready_i = mem_has_slot(rq);
		Burst *wh = wq.empty() ? nullptr : &wq.front();
		m->wr_ready_i = wh && now >= wh->ready_at && credit_ok(wr_credit);
		m->wr_req_ready_i = mem_has_slot(wq);
		m->clk_i = 0;
		m->eval();

		bool started = start_pending;
		bool cmd_x = cmd_valid && m->cmd_ready_o;
		bool rbeat = rvalid && m->rd_ready_o;
		bool rreq = m->rd_req_valid_o && m->rd_req_ready_i;
		uint64_t raddr = m->rd_req_addr_o;
		uint32_t ld_idx = m->ld_cmd_idx_o, st_idx = m->st_cmd_idx_o;
		size_t rlen = m->rd_req_len_o;
		bool wreq = m->wr_req_valid_o && m->wr_req_ready_i;
		uint64_t waddr = m->wr_req_addr_o;
		size_t wl = m->wr_req_len_o;
		bool wbeat = m->wr_valid_o && m->wr_ready_i;
		uint8_t wdata[QNPU_HW_MAX_COLS];
		if (wbeat)
			get_bytes(m->wr_data_o, wdata);

		m->clk_i = 1;
		m->eval();

		if (started)
			start_pending = false;
		if (rbeat) {
			rd_credit -= C;
			rh->pos += C;
			if (rh->pos >= rh->data.size())
				rq.pop_front();
		}
		uint64_t g = gen;
		if (cmd_x)
			fetch_cmd();
		if (!running || gen != g)
			return;
		if (rreq) {
			Burst b;
			b.va = raddr;
			b.len = rlen;
			b.ready_at = now + 1 + prm.mem_latency_cycles;
			b.data.assign((rlen + C - 1) / C * C, 0);
			Fault f;
			if (!dma_read(raddr, b.data.data(), rlen, &f)) {
				fault(f, ld_idx);
				return;
			}
			rq.push_back(std::move(b));
		}
		if (wbeat) {
			size_t n = std::min(C, wh->len - wh->data.size());
			wr_credit -= C;
			wh->data.insert(wh->data.end(), wdata, wdata + n);
			if (wh->data.size() == wh->len) {
				Fault f;
				Burst b = std::move(*wh);
				wq.pop_front();
				if (!dma_write(b.va, b.data.data(), b.len, &f)) {
					fault(f, st_idx);
					return;
				}
			}
		}
		if (wreq) {
			Burst b;
			b.va = waddr;
			b.len = wl;
			b.ready_at = now + 1;
			wq.push_back(std::move(b));
		}
		if (m->job_done_o) {
			uint32_t st = m->job_status_o;
			finish(st, st ? m->job_err_cmd_o : 0, nullptr);
		}
	}

private:
	std::unique_ptr<VerilatedContext> ctx;
	std::unique_ptr<V> model;
};

template <class V> DevBase *new_dev(const qnpu_hw_params &p, const qnpu_hw_mem_ops &m)
{
	return new Dev<V>(p, m);
}

using NewDevFn = DevBase *(*)(const qnpu_hw_params &, const qnpu_hw_mem_ops &);

} // namespace qnpu_hw_impl

// the one symbol a model built on demand exports
#define QNPU_HW_MODEL_FACTORY "qnpu_hw_model_new"

#endif
