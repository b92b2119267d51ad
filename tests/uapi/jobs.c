// SPDX-License-Identifier: MIT
/*
 * Jobs on the real device (qnpu-sim serving the Verilated model): trivial
 * and copying command streams, job info and counters, MMU faults of every
 * kind failing only their job, device-detected errors, the device
 * watchdog, syncobj chaining, and BO_WAIT on a busy BO.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS	30000

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 31 + seed * 17) ^ (i >> 3));
}

/* One SYNC: the smallest job there is, completed by an MSI-X interrupt. */
static int test_trivial(void)
{
	struct drm_qnpu_job_info *info;
	long irqs0, irqs1;
	struct qt_dev d;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	irqs0 = qt_irq_count();
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	irqs1 = qt_irq_count();
	/* Completions arrive as interrupts, not through the timeout. */
	qt_assert(irqs0 >= 0 && irqs1 > irqs0);
	info = &d.infos[0];
	qt_assert_eq(info->status, DRM_QNPU_JOB_OK);
	qt_assert(info->job_id > 0);
	qt_assert_eq(info->cmd_bytes, QNPU_CMD_BYTES);
	qt_assert(info->cycles > 0);
	qt_assert_eq(info->dma_in_bytes, 0);
	printf("trivial job %llu: %llu cycles, %ld interrupt(s)\n",
	       (unsigned long long)info->job_id,
	       (unsigned long long)info->cycles, irqs1 - irqs0);
	qt_dev_close(&d);
	return QT_PASS;
}

static int test_copy(void)
{
	struct drm_qnpu_job_info *info;
	uint64_t va_src, va_dst;
	uint32_t bos[2], n;
	uint8_t *src, *dst;
	struct qt_dev d;
	int i;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	n = d.rows * d.cols - 3;
	qt_assert_eq(qt_dev_bo(&d, 4096, DRM_QNPU_BO_READONLY, &bos[0],
			       &va_src, (void **)&src), 0);
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &bos[1], &va_dst,
			       (void **)&dst), 0);
	for (i = 0; i < 3; i++) {
		fill(src, n, i);
		memset(dst, 0x5a, 4096);
		qt_cmd_copy(d.cmds, va_src, va_dst, n, d.cols);
		qt_assert_eq(qt_dev_submit(&d, 0, 3, bos, 2, i), 0);
		qt_assert_eq(qt_dev_wait(&d, i, WAIT_MS), 0);
		info = &d.infos[i];
		qt_assert_eq(info->status, DRM_QNPU_JOB_OK);
		qt_assert(!memcmp(src, dst, n));
		qt_assert_eq(dst[n], 0x5a);
		qt_assert_eq(info->dma_in_bytes, n);
		qt_assert_eq(info->dma_out_bytes, n);
		qt_assert_eq(info->cmd_bytes, 3 * QNPU_CMD_BYTES);
		qt_assert(info->busy_cycles > 0 &&
			  info->busy_cycles <= info->cycles);
	}
	qt_dev_close(&d);
	return QT_PASS;
}

/* After a failed job, the same file's next job must work. */
static int next_job_ok(struct qt_dev *d, int slot)
{
	uint32_t c = d->cmd_cap - 1;

	memset(&d->cmds[c], 0, sizeof(d->cmds[c]));
	QT_SET(&d->cmds[c], OPCODE, QNPU_OP_SYNC);
	if (qt_dev_submit(d, c, 1, NULL, 0, slot) ||
	    qt_dev_wait(d, slot, WAIT_MS))
		return -1;
	return d->infos[slot].status == DRM_QNPU_JOB_OK ? 0 : -1;
}

static int expect_fault(struct qt_dev *d, uint64_t va, int write,
			uint32_t reason)
{
	struct drm_qnpu_job_info *info = &d->infos[0];

	qt_assert_eq(qt_dev_wait(d, 0, WAIT_MS), 0);
	qt_assert_eq(info->status, DRM_QNPU_JOB_FAULT);
	qt_assert_eq(info->fault_write, write);
	qt_assert_eq(info->fault_reason, reason);
	qt_assert(info->fault_va >= va && info->fault_va < va + 4096);
	printf("fault at 0x%llx (%s, reason %u, level %u) in command %u\n",
	       (unsigned long long)info->fault_va, write ? "write" : "read",
	       info->fault_reason, info->fault_level, info->err_cmd);
	qt_assert_eq(next_job_ok(d, 1), 0);
	return QT_PASS;
}

static int test_fault_unmapped_read(void)
{
	uint64_t va = 0x40000000;	/* nothing is mapped this far up */
	struct qt_dev d;
	int ret;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_cmd_load(&d.cmds[0], QNPU_BUF_ABUF, va, 64, 1, 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	ret = expect_fault(&d, va, 0, DRM_QNPU_FAULT_UNMAPPED);
	qt_dev_close(&d);
	return ret;
}

static int test_fault_null(void)
{
	struct qt_dev d;
	int ret;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_cmd_load(&d.cmds[0], QNPU_BUF_ABUF, 0, 64, 1, 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	ret = expect_fault(&d, 0, 0, DRM_QNPU_FAULT_UNMAPPED);
	qt_dev_close(&d);
	return ret;
}

static int test_fault_guard_page(void)
{
	uint64_t va;
	uint32_t bo;
	struct qt_dev d;
	int ret;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &bo, &va, NULL), 0);
	/* 64 bytes straddling the end of the BO */
	qt_cmd_load(&d.cmds[0], QNPU_BUF_ABUF, va + 4096 - 32, 64, 1, 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, &bo, 1, 0), 0);
	ret = expect_fault(&d, va + 4096, 0, DRM_QNPU_FAULT_UNMAPPED);
	qt_dev_close(&d);
	return ret;
}

static int test_fault_readonly_write(void)
{
	uint8_t *p;
	uint64_t va;
	uint32_t bo;
	struct qt_dev d;
	int ret;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_assert_eq(qt_dev_bo(&d, 4096, DRM_QNPU_BO_READONLY, &bo, &va,
			       (void **)&p), 0);
	memset(p, 0x11, 4096);
	qt_cmd_store(&d.cmds[0], va, 64, 1, 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, &bo, 1, 0), 0);
	ret = expect_fault(&d, va, 1, DRM_QNPU_FAULT_READONLY);
	/* The faulting access wrote nothing. */
	qt_assert_eq(p[0], 0x11);
	qt_dev_close(&d);
	return ret;
}

static int test_fault_va_range(void)
{
	uint64_t va = 1ULL << QNPU_VA_BITS;
	struct qt_dev d;
	int ret;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_cmd_load(&d.cmds[0], QNPU_BUF_ABUF, va, 64, 1, 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	ret = expect_fault(&d, va, 0, DRM_QNPU_FAULT_VA_RANGE);
	qt_dev_close(&d);
	return ret;
}

static int test_bad_opcode(void)
{
	struct qt_dev d;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	memset(d.cmds, 0, 2 * sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	QT_SET(&d.cmds[1], OPCODE, 0x7e);
	qt_assert_eq(qt_dev_submit(&d, 0, 2, NULL, 0, 0), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_BAD_OPCODE);
	qt_assert_eq(d.infos[0].err_cmd, 1);
	qt_assert_eq(next_job_ok(&d, 1), 0);
	qt_dev_close(&d);
	return QT_PASS;
}

/* LOADs of the whole activation SRAM: a job of many cycles. */
static int long_job(struct qt_dev *d, uint32_t ncmds, uint32_t *bo)
{
	uint32_t abuf = qt_get_param(d->fd, DRM_QNPU_PARAM_ABUF_BYTES);
	uint32_t rows = abuf / 4096, i;
	uint64_t va;

	if (qt_dev_bo(d, abuf, 0, bo, &va, NULL))
		return -1;
	for (i = 0; i < ncmds; i++)
		qt_cmd_load(&d->cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	return 0;
}

static int test_device_watchdog(void)
{
	struct qt_job job;
	struct qt_dev d;
	uint32_t bo;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_assert_eq(long_job(&d, 8, &bo), 0);
	job = (struct qt_job){
		.cmd_handle = d.cmd,
		.cmd_size = 8 * QNPU_CMD_BYTES,
		.bos = &bo,
		.bo_count = 1,
		.out_sync = d.sync,
		.info_handle = d.info,
		.max_kcycles = 1,
	};
	memset(d.infos, 0, sizeof(d.infos[0]));
	qt_assert_eq(qt_submit(d.fd, &job), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_TIMEOUT);
	qt_assert(d.infos[0].cycles >= 1024);
	qt_assert_eq(next_job_ok(&d, 1), 0);
	qt_dev_close(&d);
	return QT_PASS;
}

/* Job 2 waits for job 1 through a syncobj; job 3 signals a timeline. */
static int test_syncobj_chain(void)
{
	struct drm_qnpu_sync in, out;
	struct drm_qnpu_submit s;
	struct drm_syncobj_timeline_wait tw;
	uint32_t tl, sync2;
	uint64_t point = 7;
	struct qt_dev d;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	memset(d.cmds, 0, 2 * sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	qt_assert_eq(qt_syncobj_create(d.fd, &sync2), 0);
	qt_assert_eq(qt_syncobj_create(d.fd, &tl), 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);

	memset(&s, 0, sizeof(s));
	in = (struct drm_qnpu_sync){ .handle = d.sync };
	out = (struct drm_qnpu_sync){ .handle = tl, .point = point };
	s.cmd_handle = d.cmd;
	s.cmd_size = QNPU_CMD_BYTES;
	s.in_syncs = (uintptr_t)&in;
	s.in_sync_count = 1;
	s.out_syncs = (uintptr_t)&out;
	s.out_sync_count = 1;
	s.info_handle = d.info;
	s.info_offset = sizeof(struct drm_qnpu_job_info);
	memset(&d.infos[1], 0, sizeof(d.infos[1]));
	qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);

	memset(&tw, 0, sizeof(tw));
	tw.handles = (uintptr_t)&tl;
	tw.points = (uintptr_t)&point;
	tw.count_handles = 1;
	tw.timeout_nsec = qt_now_ns() + WAIT_MS * 1000000LL;
	tw.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
	qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &tw), 0);
	qt_assert_eq(d.infos[0].done, 1);
	qt_assert_eq(d.infos[1].done, 1);
	qt_assert_eq(d.infos[1].status, DRM_QNPU_JOB_OK);
	qt_assert(d.infos[1].job_id > d.infos[0].job_id);
	qt_dev_close(&d);
	return QT_PASS;
}

static int test_bo_wait_busy(void)
{
	struct drm_qnpu_bo_wait w;
	struct qt_dev d;
	uint32_t bo;
	int64_t t0;
	int ret;

	qt_assert_eq(qt_dev_open(&d, 512), 0);
	qt_assert_eq(long_job(&d, 512, &bo), 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 512, &bo, 1, 0), 0);
	t0 = qt_now_ns();
	w = (struct drm_qnpu_bo_wait){ .handle = bo, .timeout_ns = 0 };
	ret = qt_ioctl(d.fd, DRM_IOCTL_QNPU_BO_WAIT, &w);
	if (ret == 0 && d.infos[0].done)
		qt_skip("the job finished before the first poll");
	qt_assert_eq(ret, -ETIMEDOUT);
	w.timeout_ns = qt_now_ns() + WAIT_MS * 1000000LL;
	qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_BO_WAIT, &w), 0);
	qt_assert_eq(d.infos[0].done, 1);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	printf("busy BO idle after %.3f s (%llu cycles)\n",
	       (qt_now_ns() - t0) / 1e9,
	       (unsigned long long)d.infos[0].cycles);
	qt_dev_close(&d);
	return QT_PASS;
}

/* A full submission ring, again and again: no completion is lost. */
static int test_pipelined(void)
{
	struct qt_dev d;
	int round, i;

	qt_assert_eq(qt_dev_open(&d, 4), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, i), 0);
		qt_assert_eq(qt_dev_wait(&d, QT_INFO_SLOTS - 1, WAIT_MS), 0);
		for (i = 0; i < QT_INFO_SLOTS; i++) {
			qt_assert_eq(d.infos[i].done, 1);
			qt_assert_eq(d.infos[i].status, DRM_QNPU_JOB_OK);
		}
	}
	qt_dev_close(&d);
	return QT_PASS;
}

/* The BOs a job lists stay alive while it runs, handles closed or not. */
static int test_bos_kept_alive(void)
{
	uint32_t bo;
	struct qt_dev d;

	/*
	 * Earlier subtests' BOs go asynchronously (once their file has no
	 * job): start from zero.
	 */
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_dev_open(&d, 256), 0);
	qt_assert_eq(long_job(&d, 256, &bo), 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 256, &bo, 1, 0), 0);
	/* data, command and info BOs: the job still holds all three */
	qt_assert_eq(qt_gem_close(d.fd, bo), 0);
	qt_assert_eq(qt_gem_close(d.fd, d.cmd), 0);
	qt_assert(d.infos[0].done == 0);
	qt_assert_eq(qt_debugfs_count("bos", "bos"), 3);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	/* gone once the job is (cmd mapping aside, which holds its BO) */
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	return QT_PASS;
}

/* A job whose in-sync failed is not run (the driver checks: Debian 6.1's
 * scheduler passes no dependency errors on); its fence says so. */
static int test_dependency_on_failed_job(void)
{
	struct drm_qnpu_sync in;
	struct drm_qnpu_submit s;
	struct qt_dev d;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	qt_cmd_load(&d.cmds[0], QNPU_BUF_ABUF, 0x40000000, 64, 1, 0);
	memset(&d.cmds[1], 0, sizeof(d.cmds[1]));
	QT_SET(&d.cmds[1], OPCODE, QNPU_OP_SYNC);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	memset(&s, 0, sizeof(s));
	in = (struct drm_qnpu_sync){ .handle = d.sync };
	s.cmd_handle = d.cmd;
	s.cmd_offset = QNPU_CMD_BYTES;
	s.cmd_size = QNPU_CMD_BYTES;
	s.in_syncs = (uintptr_t)&in;
	s.in_sync_count = 1;
	s.info_handle = d.info;
	s.info_offset = sizeof(struct drm_qnpu_job_info);
	memset(&d.infos[1], 0, sizeof(d.infos[1]));
	qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_FAULT);
	while (!d.infos[1].done)
		usleep(1000);
	printf("job after a faulted dependency: status %#x\n",
	       d.infos[1].status);
	qt_assert_eq(d.infos[1].status, DRM_QNPU_JOB_CANCELED);
	qt_assert_eq(d.infos[1].cmd_bytes, 0);
	qt_assert_eq(next_job_ok(&d, 2), 0);
	qt_dev_close(&d);
	return QT_PASS;
}

/*
 * The same, with the in-sync's job still running when the dependent one
 * reaches the head of the file's queue: long LOADs, then the fault. The
 * scheduler ignores a dependency on a job of the same file (it only keeps
 * their order), so the driver itself must wait for the job to end.
 */
static int test_dependency_on_failing_long_job(void)
{
	uint32_t bo, ncmds = 256;
	struct drm_qnpu_sync in;
	struct drm_qnpu_submit s;
	struct qt_dev d;

	qt_assert_eq(qt_dev_open(&d, ncmds + 2), 0);
	qt_assert_eq(qt_dev_long_cmds(&d, 0, ncmds, &bo), 0);
	qt_cmd_load(&d.cmds[ncmds], QNPU_BUF_ABUF, 0x40000000, 64, 1, 0);
	memset(&d.cmds[ncmds + 1], 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[ncmds + 1], OPCODE, QNPU_OP_SYNC);
	qt_assert_eq(qt_dev_submit(&d, 0, ncmds + 1, &bo, 1, 0), 0);
	memset(&s, 0, sizeof(s));
	in = (struct drm_qnpu_sync){ .handle = d.sync };
	s.cmd_handle = d.cmd;
	s.cmd_offset = (ncmds + 1) * QNPU_CMD_BYTES;
	s.cmd_size = QNPU_CMD_BYTES;
	s.in_syncs = (uintptr_t)&in;
	s.in_sync_count = 1;
	s.info_handle = d.info;
	s.info_offset = sizeof(struct drm_qnpu_job_info);
	memset(&d.infos[1], 0, sizeof(d.infos[1]));
	qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);
	/* The long job is still on the device (or just ended). */
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_FAULT);
	qt_assert_eq(qt_bo_wait(d.fd, d.info, WAIT_MS), 0);
	qt_assert_eq(d.infos[1].done, 1);
	qt_assert_eq(d.infos[1].status, DRM_QNPU_JOB_CANCELED);
	qt_assert_eq(d.infos[1].cmd_bytes, 0);
	qt_assert_eq(next_job_ok(&d, 2), 0);
	qt_dev_close(&d);
	return QT_PASS;
}

/*
 * Use-after-free through the device TLB: a job keeps STOREing into a BO it
 * does not list while userspace closes that BO. The device cached the
 * translation at the first STORE, so the pages must stay the BO's until
 * the job is over: fresh BOs created meanwhile (which would get the freed
 * pages) stay zero, and the job itself completes.
 */
#define UAF_BIG		96	/* whole-ABUF LOADs (~15 ms each) */
#define UAF_STORES	512	/* STOREs into the closed BO at the end */
#define UAF_VICTIM	(64 * 4096)
#define UAF_FRESH	64
#define UAF_FRESH_SIZE	(64 * 4096)

static int tlb_slot_used(const uint8_t *used, uint64_t va)
{
	return used[(va >> 12) & 63];
}

static void tlb_mark(uint8_t *used, uint64_t va, uint64_t size)
{
	uint64_t p;

	for (p = va & ~4095ULL; p < va + size; p += 4096)
		used[(p >> 12) & 63] = 1;
}

static int test_close_unlisted_mid_job(void)
{
	uint32_t ncmds = 3 + UAF_BIG + 3 + UAF_STORES, abuf, rows, n, i, c;
	uint32_t src, big, victim, fresh[UAF_FRESH], bos[2];
	uint64_t vsrc, vbig, vvic, target = 0;
	uint8_t used[64] = { 0 }, *psrc, *pbig, *pvic;
	volatile uint8_t *watch;
	struct qt_dev d;
	int64_t t0;
	long bad = 0;

	qt_assert_eq(qt_dev_open(&d, ncmds), 0);
	abuf = qt_get_param(d.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	n = d.rows * d.cols;
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &src, &vsrc, (void **)&psrc), 0);
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &big, &vbig, (void **)&pbig), 0);
	memset(psrc, 0xab, 4096);
	memset(pbig, 0xab, 4096);
	qt_assert_eq(qt_bo_create(d.fd, UAF_VICTIM, 0, &victim, &vvic), 0);
	pvic = qt_bo_map(d.fd, victim, UAF_VICTIM);
	qt_assert(pvic);
	memset(pvic, 0, UAF_VICTIM);

	/* A victim page whose TLB slot nothing else of the job uses. */
	tlb_mark(used, d.cmd_va, (uint64_t)ncmds * sizeof(struct qt_cmd));
	tlb_mark(used, vsrc, 4096);
	tlb_mark(used, vbig, 4096);
	for (i = 0; i < UAF_VICTIM / 4096; i++) {
		if (!tlb_slot_used(used, vvic + i * 4096ULL)) {
			target = vvic + i * 4096ULL;
			break;
		}
	}
	if (!target)
		qt_skip("no free TLB slot for the victim page");
	watch = pvic + (target - vvic);

	/* Touch the victim early (its translation is cached), ... */
	c = qt_cmd_copy(&d.cmds[0], vsrc, target, n, d.cols);
	/* ... keep the device busy, ... */
	for (i = 0; i < UAF_BIG; i++)
		qt_cmd_load(&d.cmds[c++], QNPU_BUF_ABUF, vbig, 4096, rows, 0);
	/* ... then write it again and again, after the close. */
	c += qt_cmd_copy(&d.cmds[c], vsrc, target, n, d.cols);
	for (i = 0; i < UAF_STORES; i++)
		qt_cmd_store(&d.cmds[c++], target, n, 1, 0);
	bos[0] = src;
	bos[1] = big;
	qt_assert_eq(qt_dev_submit(&d, 0, c, bos, 2, 0), 0);

	t0 = qt_now_ns();
	while (watch[0] != 0xab) {
		if (qt_now_ns() - t0 > WAIT_MS * 1000000LL)
			qt_fail("the job never wrote the victim");
		usleep(1000);
	}
	qt_assert_eq(munmap(pvic, UAF_VICTIM), 0);
	qt_assert_eq(qt_gem_close(d.fd, victim), 0);
	/* Fresh BOs: the freed pages would be among theirs. */
	for (i = 0; i < UAF_FRESH; i++)
		qt_assert_eq(qt_bo_create(d.fd, UAF_FRESH_SIZE, 0, &fresh[i],
					  NULL), 0);
	if (d.infos[0].done)
		qt_skip("the job ended before the victim was closed");

	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	printf("job: status %#x, %llu cycles, %llu bytes stored\n",
	       d.infos[0].status, (unsigned long long)d.infos[0].cycles,
	       (unsigned long long)d.infos[0].dma_out_bytes);
	for (i = 0; i < UAF_FRESH; i++) {
		uint8_t *p = qt_bo_map(d.fd, fresh[i], UAF_FRESH_SIZE);
		uint32_t j;

		qt_assert(p);
		for (j = 0; j < UAF_FRESH_SIZE; j++)
			bad += p[j] != 0;
		munmap(p, UAF_FRESH_SIZE);
	}
	if (bad)
		qt_fail("%ld bytes of fresh BOs written by the job", bad);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	qt_assert_eq(next_job_ok(&d, 1), 0);
	qt_dev_close(&d);
	return QT_PASS;
}

/*
 * Several threads submitting on one file, each job listing one shared BO:
 * every job is in the BO's reservation in submission order, so a BO_WAIT
 * that returns means every job has ended, and every copy is exact.
 */
#define MT_THREADS	4
#define MT_JOBS		40

struct mt_arg {
	struct qt_dev *d;
	uint32_t shared, info;
	uint8_t *s, *t;
	int th, err;
};

static void *mt_submitter(void *p)
{
	struct mt_arg *a = p;
	struct qt_dev *d = a->d;
	uint32_t n = d->rows * d->cols, bos[3], j;
	uint64_t vs, vd;
	int i;

	if (qt_bo_create(d->fd, 4096, 0, &bos[0], &vs) ||
	    qt_bo_create(d->fd, 4096, 0, &bos[1], &vd)) {
		a->err = 1;
		return NULL;
	}
	bos[2] = a->shared;
	a->s = qt_bo_map(d->fd, bos[0], 4096);
	a->t = qt_bo_map(d->fd, bos[1], 4096);
	if (!a->s || !a->t) {
		a->err = 2;
		return NULL;
	}
	for (j = 0; j < n; j++)
		a->s[j] = (uint8_t)(a->th * 37 + j + 1);
	qt_cmd_copy(&d->cmds[3 * a->th], vs, vd, n, d->cols);
	for (i = 0; i < MT_JOBS; i++) {
		struct qt_job job = {
			.cmd_handle = d->cmd,
			.cmd_offset = 3 * a->th * sizeof(struct qt_cmd),
			.cmd_size = 3 * sizeof(struct qt_cmd),
			.bos = bos,
			.bo_count = 3,
			.info_handle = a->info,
			.info_offset = (a->th * MT_JOBS + i) *
				       sizeof(struct drm_qnpu_job_info),
		};

		if (qt_submit(d->fd, &job)) {
			a->err = 3;
			return NULL;
		}
	}
	return NULL;
}

static int test_concurrent_submit_one_fd(void)
{
	size_t isize = MT_THREADS * MT_JOBS * sizeof(struct drm_qnpu_job_info);
	uint32_t shared, info, n, notdone = 0;
	struct drm_qnpu_job_info *infos;
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	struct drm_qnpu_bo_wait w;
	struct qt_dev d;
	int t, i;

	qt_assert_eq(qt_dev_open(&d, 3 * MT_THREADS), 0);
	n = d.rows * d.cols;
	qt_assert_eq(qt_bo_create(d.fd, 4096, 0, &shared, NULL), 0);
	qt_assert_eq(qt_bo_create(d.fd, isize, 0, &info, NULL), 0);
	infos = qt_bo_map(d.fd, info, isize);
	qt_assert(infos);
	memset(infos, 0, isize);
	for (t = 0; t < MT_THREADS; t++) {
		args[t] = (struct mt_arg){ .d = &d, .shared = shared,
					   .info = info, .th = t };
		qt_assert_eq(pthread_create(&th[t], NULL, mt_submitter,
					    &args[t]), 0);
	}
	for (t = 0; t < MT_THREADS; t++) {
		pthread_join(th[t], NULL);
		if (args[t].err)
			qt_fail("thread %d: error %d", t, args[t].err);
	}
	w = (struct drm_qnpu_bo_wait){
		.handle = shared,
		.timeout_ns = qt_now_ns() + WAIT_MS * 1000000LL,
	};
	qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_BO_WAIT, &w), 0);
	/* Idle means idle: no job of the BO may still be running. */
	for (i = 0; i < MT_THREADS * MT_JOBS; i++)
		notdone += !__atomic_load_n(&infos[i].done, __ATOMIC_ACQUIRE);
	if (notdone)
		qt_fail("%u jobs still running after BO_WAIT said idle",
			notdone);
	for (i = 0; i < MT_THREADS * MT_JOBS; i++)
		qt_assert_eq(infos[i].status, DRM_QNPU_JOB_OK);
	for (t = 0; t < MT_THREADS; t++) {
		qt_assert(!memcmp(args[t].s, args[t].t, n));
		munmap(args[t].s, 4096);
		munmap(args[t].t, 4096);
	}
	printf("%d threads x %d jobs on one file: all exact\n", MT_THREADS,
	       MT_JOBS);
	munmap(infos, isize);
	qt_dev_close(&d);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "job-trivial", test_trivial },
	{ "job-copy", test_copy },
	{ "job-fault-unmapped-read", test_fault_unmapped_read },
	{ "job-fault-null", test_fault_null },
	{ "job-fault-guard-page", test_fault_guard_page },
	{ "job-fault-readonly-write", test_fault_readonly_write },
	{ "job-fault-va-range", test_fault_va_range },
	{ "job-bad-opcode", test_bad_opcode },
	{ "job-device-watchdog", test_device_watchdog },
	{ "job-syncobj-chain", test_syncobj_chain },
	{ "job-bo-wait-busy", test_bo_wait_busy },
	{ "job-pipelined-full-ring", test_pipelined },
	{ "job-bos-kept-alive", test_bos_kept_alive },
	{ "job-dependency-on-failed-job", test_dependency_on_failed_job },
	{ "job-dependency-on-failing-long-job",
	  test_dependency_on_failing_long_job },
	{ "job-close-unlisted-bo-mid-job", test_close_unlisted_mid_job },
	{ "job-concurrent-submit-one-fd", test_concurrent_submit_one_fd },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
