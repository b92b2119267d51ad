// SPDX-License-Identifier: MIT
/*
 * Device faults injected by qnpu-sim (--fault=KIND@N, docs/vm.md), one
 * kind per VM run (tests/uapi/vm-device.sh --fault KIND@N puts
 * qnpu_only=fault qnpu_fault=KIND@N on the kernel command line). Three
 * files keep jobs in flight; the Nth job the device starts is hit. That
 * job must end with the status docs/uapi.md gives for the fault (and its
 * fence with the matching error), every other job must be exact, the
 * device must be usable again: the next job of every file is exact, the
 * counts go back to zero, the module unloads, no WARN.
 *
 * qnpu-sim counts jobs from its start, and this is the only program in
 * its image, so warming up with N - 1 jobs puts the Nth job where we want.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS		60000
#define NFILES		3
/* The driver's timeout here; a hang must be seen well within WAIT_MS. */
#define TIMEOUT_S	2

struct ffile {
	struct qt_dev d;
	uint32_t bos[2];
	uint64_t vs, vd;
	uint8_t *s, *t;
	uint32_t n;
};

static const char *kind;
static unsigned long nth;

static int ffile_open(struct ffile *f)
{
	if (qt_dev_open(&f->d, 64) ||
	    qt_dev_bo(&f->d, 4096, DRM_QNPU_BO_READONLY, &f->bos[0], &f->vs,
		      (void **)&f->s) ||
	    qt_dev_bo(&f->d, 4096, 0, &f->bos[1], &f->vd, (void **)&f->t))
		return -1;
	f->n = f->d.rows * f->d.cols;
	return 0;
}

static int copy_submit(struct ffile *f, int slot, unsigned int seed)
{
	uint32_t i;

	for (i = 0; i < f->n; i++)
		f->s[i] = (uint8_t)(i * 7 + seed * 29 + (i >> 4));
	memset(f->t, 0, f->n);
	qt_cmd_copy(f->d.cmds, f->vs, f->vd, f->n, f->d.cols);
	return qt_dev_submit(&f->d, 0, 3, f->bos, 2, slot);
}

/* 0 if the slot's job is done, OK and its copy exact. */
static int copy_ok(struct ffile *f, int slot)
{
	struct drm_qnpu_job_info *info = &f->d.infos[slot];

	if (!info->done || info->status != DRM_QNPU_JOB_OK ||
	    memcmp(f->s, f->t, f->n)) {
		printf("job %llu: done %u status %#x, copy %s\n",
		       (unsigned long long)info->job_id, info->done,
		       info->status, memcmp(f->s, f->t, f->n) ? "wrong" : "ok");
		return -1;
	}
	return 0;
}

static int copy_run(struct ffile *f, int slot, unsigned int seed)
{
	if (copy_submit(f, slot, seed) || qt_dev_wait(&f->d, slot, WAIT_MS))
		return -1;
	return copy_ok(f, slot);
}

/* The fence error docs/uapi.md gives for a job status. */
static int status_errno(uint32_t st)
{
	switch (st) {
	case DRM_QNPU_JOB_OK:
		return 0;
	case DRM_QNPU_JOB_FAULT:
		return -EFAULT;
	case DRM_QNPU_JOB_TIMEOUT:
	case DRM_QNPU_JOB_HANG:
		return -ETIMEDOUT;
	case DRM_QNPU_JOB_DEVICE_LOST:
		return -ENODEV;
	case DRM_QNPU_JOB_CANCELED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static int documented(uint32_t st)
{
	return st <= DRM_QNPU_JOB_BAD_DESC || st == DRM_QNPU_JOB_HANG ||
	       st == DRM_QNPU_JOB_DEVICE_LOST || st == DRM_QNPU_JOB_CANCELED;
}

/* Does the hit job's result match what docs/uapi.md promises? */
static int victim_ok(const struct drm_qnpu_job_info *info)
{
	uint32_t st = info->status;

	if (!strcmp(kind, "dma"))	/* a bus error is an MMU fault */
		return st == DRM_QNPU_JOB_FAULT &&
		       info->fault_reason == DRM_QNPU_FAULT_BUS;
	if (!strcmp(kind, "stuck"))	/* driver timeout, reset */
		return st == DRM_QNPU_JOB_HANG;
	/* An entry the device garbled or a completion the driver could not
	 * trust: the job fails with a status of the uAPI, never the
	 * device's garbage, and never OK. */
	return st != DRM_QNPU_JOB_OK && documented(st) &&
	       st != DRM_QNPU_JOB_DEVICE_LOST;
}

static int test_fault(void)
{
	struct ffile f[NFILES];
	long irqs0, irqs1 = -1, resets0, resets1;
	int i, failed = -1, fence;
	int64_t t0, dt = 0;
	unsigned long j;

	qt_assert_eq(qt_module_reload("job_timeout_s=2 reset_timeout_ms=2000"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	for (i = 0; i < NFILES; i++)
		qt_assert_eq(ffile_open(&f[i]), 0);

	/* Jobs 1 .. N-1, one at a time: all exact. */
	for (j = 1; j < nth; j++)
		if (copy_run(&f[0], j % QT_INFO_SLOTS, j))
			qt_fail("warm-up job %lu of %lu failed", j, nth - 1);

	irqs0 = qt_irq_count();
	resets0 = qt_debugfs_count("rings", "resets");
	t0 = qt_now_ns();
	/* Job N from file 0; for a dropped interrupt nothing may follow it
	 * (a later completion's interrupt would cover it). Otherwise the
	 * other files queue behind it and must come through. */
	qt_assert_eq(copy_submit(&f[0], 0, 100), 0);
	if (!strcmp(kind, "irq")) {
		qt_assert_eq(qt_dev_wait(&f[0].d, 0, WAIT_MS), 0);
		dt = qt_now_ns() - t0;
		irqs1 = qt_irq_count();
	}
	for (i = 1; i < NFILES; i++)
		qt_assert_eq(copy_submit(&f[i], 0, 100 + i), 0);
	for (i = 0; i < NFILES; i++)
		qt_assert_eq(qt_dev_wait(&f[i].d, 0, WAIT_MS), 0);
	if (strcmp(kind, "irq"))
		dt = qt_now_ns() - t0;
	resets1 = qt_debugfs_count("rings", "resets");

	for (i = 0; i < NFILES; i++) {
		struct drm_qnpu_job_info *info = &f[i].d.infos[0];

		fence = qt_syncobj_fence_error(f[i].d.fd, f[i].d.sync);
		printf("file %d: job %llu status %#x fault_reason %u, fence "
		       "error %d\n", i, (unsigned long long)info->job_id,
		       info->status, info->fault_reason, fence);
		/* The fence says what the info says (docs/uapi.md table). */
		qt_assert_eq(fence, status_errno(info->status));
		if (!copy_ok(&f[i], 0))
			continue;
		if (failed >= 0)
			qt_fail("more than one job failed (files %d and %d)",
				failed, i);
		failed = i;
		qt_assert(victim_ok(info));
	}
	printf("%s@%lu: %.2f s, resets %ld -> %ld\n", kind, nth, dt / 1e9,
	       resets0, resets1);

	if (!strcmp(kind, "irq")) {
		/* The job itself completed; only its interrupt was lost. */
		qt_assert_eq(failed, -1);
		qt_assert_eq(irqs1, irqs0);	/* it really was dropped */
		/* found by the driver's timeout or heartbeat, no reset */
		qt_assert(dt < (TIMEOUT_S + 3) * 1000000000LL);
		qt_assert_eq(resets1, resets0);
	} else {
		qt_assert(failed >= 0);	/* the fault really happened */
	}
	if (!strcmp(kind, "stuck"))
		qt_assert(resets1 > resets0);

	/* The device works again, for every file. */
	for (i = 0; i < NFILES; i++)
		if (copy_run(&f[i], 1, 200 + i))
			qt_fail("file %d: the job after the fault failed", i);
	for (i = 0; i < NFILES; i++)
		qt_dev_close(&f[i].d);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_module_unload(), 0);
	qt_assert(qt_taint_ok());
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "fault-injected", test_fault },
};

int main(int argc, char **argv)
{
	const char *spec;
	static char buf[64];
	char *at;

	if (!qt_selected(argv[0])) {
		printf("SKIP: only in a fault-injection VM run "
		       "(make vm-check-faults)\n");
		return QT_SKIP;
	}
	spec = qt_cmdline("qnpu_fault");	/* static: after qt_selected() */
	if (!spec || snprintf(buf, sizeof(buf), "%s", spec) >=
	    (int)sizeof(buf) || !(at = strchr(buf, '@'))) {
		printf("FAIL: no qnpu_fault=KIND@N on the kernel command line\n");
		return QT_FAIL;
	}
	*at = '\0';
	kind = buf;
	nth = strtoul(at + 1, NULL, 10);
	if (!nth) {
		printf("FAIL: bad qnpu_fault=%s\n", spec);
		return QT_FAIL;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
