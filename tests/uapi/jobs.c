// SPDX-License-Identifier: MIT
/*
 * Jobs on the real device (qnpu-sim serving the Verilated model): trivial
 * and copying command streams, job info and counters, MMU faults of every
 * kind failing only their job, device-detected errors, the device
 * watchdog, syncobj chaining, and BO_WAIT on a busy BO.
 */
#include <errno.h>
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

/* Interrupts taken by qnpu (all its MSI-X vectors) from /proc/interrupts. */
static long qnpu_irqs(void)
{
	char line[512];
	long sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, " qnpu"))
			continue;
		sum += strtol(p + 1, NULL, 10);
	}
	fclose(f);
	return sum;
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
	irqs0 = qnpu_irqs();
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	irqs1 = qnpu_irqs();
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
	long bos0 = qt_debugfs_count("bos", "bos");
	uint32_t bo;
	struct qt_dev d;

	qt_assert_eq(qt_dev_open(&d, 256), 0);
	qt_assert_eq(long_job(&d, 256, &bo), 0);
	qt_assert_eq(qt_dev_submit(&d, 0, 256, &bo, 1, 0), 0);
	/* data, command and info BOs: the job still holds all three */
	qt_assert_eq(qt_gem_close(d.fd, bo), 0);
	qt_assert_eq(qt_gem_close(d.fd, d.cmd), 0);
	qt_assert(d.infos[0].done == 0);
	qt_assert_eq(qt_debugfs_count("bos", "bos"), bos0 + 3);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	/* gone once the job is (cmd mapping aside, which holds its BO) */
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(bos0, qt_debugfs_count("contexts",
							  "contexts"), WAIT_MS),
		     0);
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
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
