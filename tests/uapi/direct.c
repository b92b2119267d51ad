// SPDX-License-Identifier: MIT
/*
 * Direct submission: a job nothing holds back (no unsignaled dependency,
 * no earlier job of its file waiting in the scheduler, ring space, nobody
 * else owning the ring) is written to the ring by SUBMIT itself; debugfs
 * `rings` counts them (direct_jobs). Serial jobs go direct; a job behind
 * an unfinished one (implicit or explicit dependency, or an earlier job of
 * its file still in the scheduler) does not, and never overtakes it; each
 * fence and info is signaled once; direct jobs racing a reset, a process
 * killed with a direct job on the device (also one the scheduler never
 * took: freed by its entity while on the device) and a file closed with a
 * batch and a direct job in flight leave the driver intact.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS		60000
#define REGION		4096

/* A file with a data BO of @regions regions (copy sources and targets). */
struct dfix {
	struct qt_dev d;
	uint32_t data;
	uint64_t va;
	uint8_t *map;
	uint32_t n;	/* bytes per copy: rows x cols */
};

static int dfix_open(struct dfix *f, uint32_t cmd_cap, uint32_t regions)
{
	memset(f, 0, sizeof(*f));
	if (qt_dev_open(&f->d, cmd_cap))
		return -1;
	f->n = f->d.rows * f->d.cols;
	return qt_dev_bo(&f->d, REGION * regions, 0, &f->data, &f->va,
			 (void **)&f->map);
}

static long direct_jobs(void)
{
	return qt_debugfs_count("rings", "direct_jobs");
}

/* Command @at: an empty job (one SYNC). */
static void empty_cmd(struct qt_dev *d, uint32_t at)
{
	memset(&d->cmds[at], 0, sizeof(d->cmds[at]));
	QT_SET(&d->cmds[at], OPCODE, QNPU_OP_SYNC);
}

/*
 * Serial copies, each waited for, go direct, and are exact: region 0 ->
 * 1 -> 2 ... (each reads what the one before wrote).
 */
static int test_serial_direct(void)
{
	uint32_t i, k = 15;
	long before, after;
	struct dfix f;

	qt_assert_eq(dfix_open(&f, 3, 16), 0);
	memset(f.map, 0, 16 * REGION);
	for (i = 0; i < f.n; i++)
		f.map[i] = (uint8_t)(i * 5 + 3);
	before = direct_jobs();
	qt_assert(before >= 0);
	for (i = 0; i < k; i++) {
		qt_cmd_copy(&f.d.cmds[0], f.va + i * REGION,
			    f.va + (i + 1) * REGION, f.n, f.d.cols);
		qt_assert_eq(qt_dev_submit(&f.d, 0, 3, &f.data, 1, 0), 0);
		qt_assert_eq(qt_dev_wait(&f.d, 0, WAIT_MS), 0);
		qt_assert_eq(f.d.infos[0].status, DRM_QNPU_JOB_OK);
	}
	after = direct_jobs();
	qt_assert_eq(memcmp(f.map, f.map + k * REGION, f.n), 0);
	printf("%ld of %u serial jobs direct\n", after - before, k);
	/* The heartbeat may hold the ring for one or two of them. */
	qt_assert(after - before >= k - 2);
	qt_dev_close(&f.d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/*
 * L (long, BO X) runs. C uses X too (an implicit dependency on L): it is
 * queued behind L in ring order, so it goes direct and ends after L. G
 * has an in-sync on L (the file's syncobj, L's fence): held back, not
 * direct (a failed L would cancel it), and it runs after L. D uses no BO
 * of L: direct, reaches the ring after L, so it ends after L.
 */
static int test_blocked_not_direct(void)
{
	struct drm_qnpu_sync in = { 0 };
	struct drm_qnpu_submit s;
	uint32_t x, ncmds = 128;
	long before;
	struct dfix f;
	int l_running;

	qt_assert_eq(dfix_open(&f, ncmds + 4, 4), 0);
	qt_assert_eq(qt_dev_long_cmds(&f.d, 0, ncmds, &x), 0);
	empty_cmd(&f.d, ncmds);
	memset(f.map, 0x5a, REGION);
	memset(f.map + REGION, 0, REGION);
	qt_cmd_copy(&f.d.cmds[ncmds + 1], f.va, f.va + REGION, f.n, f.d.cols);

	before = direct_jobs();
	qt_assert_eq(qt_dev_submit(&f.d, 0, ncmds, &x, 1, 0), 0);
	/* C: the empty command with X listed. */
	qt_assert_eq(qt_dev_submit(&f.d, ncmds, 1, &x, 1, 1), 0);
	l_running = !f.d.infos[0].done;
	/* G: in-sync on the file's syncobj (C's fence, behind L's). */
	in.handle = f.d.sync;
	qt_dev_job(&f.d, ncmds, 1, 3, &s);
	s.in_syncs = (uintptr_t)&in;
	s.in_sync_count = 1;
	qt_assert_eq(qt_ioctl(f.d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);
	if (l_running && !f.d.infos[1].done)
		qt_assert_eq(direct_jobs(), before + 2);
	else
		printf("L ended before C or G was submitted: paths not "
		       "checked\n");
	qt_assert_eq(qt_bo_wait(f.d.fd, f.d.info, WAIT_MS), 0);
	qt_assert_eq(f.d.infos[0].done, 1);
	qt_assert_eq(f.d.infos[0].status, DRM_QNPU_JOB_OK);
	qt_assert_eq(f.d.infos[1].status, DRM_QNPU_JOB_OK);
	qt_assert_eq(f.d.infos[3].status, DRM_QNPU_JOB_OK);

	/* D: a copy on the data BO only, behind L again. */
	qt_assert_eq(qt_dev_submit(&f.d, 0, ncmds, &x, 1, 0), 0);
	qt_assert_eq(qt_dev_submit(&f.d, ncmds + 1, 3, &f.data, 1, 2), 0);
	qt_assert_eq(qt_dev_wait(&f.d, 2, WAIT_MS), 0);
	/* Ring order: L's completion came first. */
	qt_assert_eq(f.d.infos[0].done, 1);
	qt_assert_eq(f.d.infos[0].status, DRM_QNPU_JOB_OK);
	qt_assert_eq(f.d.infos[2].status, DRM_QNPU_JOB_OK);
	qt_assert_eq(memcmp(f.map, f.map + REGION, f.n), 0);
	qt_dev_close(&f.d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/*
 * A file's job E waits in the scheduler for another file's long job (an
 * in-sync); the file's next job F has no dependency at all (its own
 * command BO, no info BO: nothing it shares with E). F must not go direct
 * past E: E ends first.
 */
static int test_no_overtaking(void)
{
	struct drm_qnpu_sync in = { 0 };
	struct drm_qnpu_submit s;
	uint32_t x, ncmds = 128, fsync, fcmd;
	struct qt_job fjob = { 0 };
	struct qt_dev a, b;
	struct qt_cmd *fmap;
	long before;
	uint64_t fva;

	qt_assert_eq(qt_dev_open(&a, 4), 0);
	qt_assert_eq(qt_dev_open(&b, ncmds), 0);
	qt_assert_eq(qt_dev_long_cmds(&b, 0, ncmds, &x), 0);
	empty_cmd(&a, 0);
	qt_assert_eq(qt_dev_bo(&a, 4096, 0, &fcmd, &fva, (void **)&fmap), 0);
	memset(fmap, 0, sizeof(*fmap));
	QT_SET(fmap, OPCODE, QNPU_OP_SYNC);
	/* A's syncobj, imported into B: E waits for B's long job. */
	qt_assert_eq(qt_dev_submit(&b, 0, ncmds, &x, 1, 0), 0);
	{
		struct drm_syncobj_handle h = { .handle = b.sync };

		qt_assert_eq(qt_ioctl(b.fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
				      &h), 0);
		h.handle = 0;
		qt_assert_eq(qt_ioctl(a.fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
				      &h), 0);
		close(h.fd);
		fsync = h.handle;
	}
	in.handle = fsync;
	qt_dev_job(&a, 0, 1, 0, &s);
	s.in_syncs = (uintptr_t)&in;
	s.in_sync_count = 1;
	qt_assert_eq(qt_ioctl(a.fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);
	before = direct_jobs();
	/* F: the file's syncobj as out-sync, nothing else. */
	fjob.cmd_handle = fcmd;
	fjob.cmd_size = sizeof(struct qt_cmd);
	fjob.out_sync = a.sync;
	qt_assert_eq(qt_submit(a.fd, &fjob), 0);
	if (!b.infos[0].done)
		qt_assert_eq(direct_jobs(), before);
	qt_assert_eq(qt_syncobj_wait(a.fd, a.sync, WAIT_MS), 0);
	qt_assert_eq(qt_syncobj_fence_error(a.fd, a.sync), 0);
	/* E ended first. */
	qt_assert_eq(a.infos[0].done, 1);
	qt_assert_eq(b.infos[0].done, 1);
	qt_assert_eq(a.infos[0].status, DRM_QNPU_JOB_OK);
	qt_dev_close(&a);
	qt_dev_close(&b);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

static int timeline_value(int fd, uint32_t h, uint64_t *v)
{
	struct drm_syncobj_timeline_array q = {
		.handles = (uintptr_t)&h,
		.points = (uintptr_t)v,
		.count_handles = 1,
	};

	return qt_ioctl(fd, DRM_IOCTL_SYNCOBJ_QUERY, &q);
}

/*
 * Each direct job's fence and info signal once: a timeline point per job
 * (the value counts them), cleared info slots stay clear; a faulting
 * direct job fails alone, with its fence's error.
 */
static int test_fences_once(void)
{
	struct drm_qnpu_sync out;
	struct drm_qnpu_submit s;
	uint32_t tl, i, k = 12;
	struct qt_dev d;
	uint64_t v;

	qt_assert_eq(qt_dev_open(&d, 8), 0);
	qt_assert_eq(qt_syncobj_create(d.fd, &tl), 0);
	empty_cmd(&d, 0);
	for (i = 0; i < k; i++) {
		qt_dev_job(&d, 0, 1, i, &s);
		out = (struct drm_qnpu_sync){ .handle = tl, .point = i + 1 };
		s.out_syncs = (uintptr_t)&out;
		s.out_sync_count = 1;
		qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);
		qt_assert_eq(qt_bo_wait(d.fd, d.info, WAIT_MS), 0);
		qt_assert_eq(d.infos[i].done, 1);
		qt_assert_eq(d.infos[i].status, DRM_QNPU_JOB_OK);
	}
	qt_assert_eq(timeline_value(d.fd, tl, &v), 0);
	qt_assert_eq(v, k);
	memset(d.infos, 0, k * sizeof(d.infos[0]));

	/* A copy to an address never mapped: FAULT, alone. */
	qt_cmd_copy(&d.cmds[1], d.cmd_va, 0x10000000ULL, 16, d.cols);
	qt_assert_eq(qt_dev_submit(&d, 1, 3, NULL, 0, 13), 0);
	qt_assert_eq(qt_dev_wait(&d, 13, WAIT_MS), 0);
	qt_assert_eq(d.infos[13].status, DRM_QNPU_JOB_FAULT);
	qt_assert_eq(qt_syncobj_fence_error(d.fd, d.sync), -EFAULT);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 14), 0);
	qt_assert_eq(qt_dev_wait(&d, 14, WAIT_MS), 0);
	qt_assert_eq(d.infos[14].status, DRM_QNPU_JOB_OK);
	qt_assert_eq(qt_syncobj_fence_error(d.fd, d.sync), 0);
	for (i = 0; i < k; i++)
		qt_assert_eq(d.infos[i].done, 0);
	qt_assert_eq(timeline_value(d.fd, tl, &v), 0);
	qt_assert_eq(v, k);
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/*
 * Direct jobs racing a reset: A hangs the device past job_timeout_s=1 (a
 * token never produced while the load engine keeps it busy, as in
 * hang.c); B submits groups of empty jobs all along, written to the ring
 * behind A's, dropped by the reset and run again. Every B job ends OK,
 * once; A with HANG; no completion is untrusted.
 */
static int test_direct_racing_reset(void)
{
	uint32_t abuf, rows, bo, i, g, ncmds = 4096, groups = 6, per = 8;
	long before, bad;
	struct qt_dev a, b;
	uint64_t va;
	int ret = QT_FAIL;

	qt_assert_eq(qt_module_reload("job_timeout_s=1 reset_timeout_ms=30000"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&a, ncmds), 0);
	qt_assert_eq(qt_dev_open(&b, 4), 0);
	abuf = qt_get_param(a.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&a, abuf, 0, &bo, &va, NULL), 0);
	memset(&a.cmds[0], 0, sizeof(a.cmds[0]));
	QT_SET(&a.cmds[0], OPCODE, QNPU_OP_SYNC);
	QT_SET(&a.cmds[0], POP_PREV, 1);
	for (i = 1; i < ncmds; i++)
		qt_cmd_load(&a.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	empty_cmd(&b, 0);
	bad = qt_debugfs_count("rings", "bad_completions");
	before = direct_jobs();

	qt_assert_eq(qt_dev_submit(&a, 0, ncmds, &bo, 1, 0), 0);
	for (g = 0; g < groups; g++) {
		for (i = 0; i < per; i++)
			if (qt_dev_submit(&b, 0, 1, NULL, 0, i)) {
				printf("B: submit %u.%u failed\n", g, i);
				goto out;
			}
		if (qt_dev_wait(&b, per - 1, WAIT_MS)) {
			printf("B: group %u did not end\n", g);
			goto out;
		}
		for (i = 0; i < per; i++)
			if (b.infos[i].done != 1 ||
			    b.infos[i].status != DRM_QNPU_JOB_OK) {
				printf("B: job %u.%u: done %u status %#x\n", g,
				       i, b.infos[i].done, b.infos[i].status);
				goto out;
			}
	}
	qt_assert_eq(qt_dev_wait(&a, 0, WAIT_MS), 0);
	printf("A: status %#x; %ld B jobs direct\n", a.infos[0].status,
	       direct_jobs() - before);
	if (a.infos[0].status == DRM_QNPU_JOB_DEADLOCK) {
		printf("SKIP: qnpu-sim took the reset only after the job "
		       "(it runs each doorbell to idle): no hang to see\n");
		ret = QT_SKIP;
		goto out;
	}
	qt_assert_eq(a.infos[0].status, DRM_QNPU_JOB_HANG);
	qt_assert(qt_debugfs_count("rings", "resets") >= 1);
	qt_assert_eq(qt_debugfs_count("rings", "bad_completions"), bad);
	qt_assert(direct_jobs() > before);
	/* Nothing signals twice: cleared slots stay clear. */
	memset(b.infos, 0, per * sizeof(b.infos[0]));
	qt_assert_eq(qt_dev_submit(&b, 0, 1, NULL, 0, per), 0);
	qt_assert_eq(qt_dev_wait(&b, per, WAIT_MS), 0);
	for (i = 0; i < per; i++)
		qt_assert_eq(b.infos[i].done, 0);
	ret = QT_PASS;
out:
	qt_dev_close(&a);
	qt_dev_close(&b);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_debugfs_count("rings", "direct_live"), 0);
	qt_assert_eq(qt_debugfs_count("rings", "backlog"), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return ret;
}

/* Can another file still run an exact copy, directly? */
static int copy_works(void)
{
	struct dfix f;
	long before = direct_jobs();
	int ok;

	if (dfix_open(&f, 3, 2))
		return 0;
	memset(f.map, 0x3c, REGION);
	memset(f.map + REGION, 0, REGION);
	qt_cmd_copy(&f.d.cmds[0], f.va, f.va + REGION, f.n, f.d.cols);
	ok = !qt_dev_submit(&f.d, 0, 3, &f.data, 1, 0) &&
	     !qt_dev_wait(&f.d, 0, WAIT_MS) &&
	     f.d.infos[0].status == DRM_QNPU_JOB_OK &&
	     !memcmp(f.map, f.map + REGION, f.n);
	qt_dev_close(&f.d);
	if (direct_jobs() == before)
		printf("copy_works: the copy did not go direct\n");
	return ok;
}

/* The child: a long direct job, empty ones behind it. */
static int direct_in_flight_child(void *arg)
{
	struct qt_dev d;
	uint32_t x, i, tries;
	long before;

	(void)arg;
	if (qt_dev_open(&d, 257) || qt_dev_long_cmds(&d, 0, 256, &x))
		return 2;
	empty_cmd(&d, 256);
	/* The heartbeat may hold the ring a moment: try again. */
	for (tries = 0; tries < 5; tries++) {
		before = direct_jobs();
		if (qt_dev_submit(&d, 0, 256, &x, 1, 0))
			return 2;
		if (direct_jobs() == before + 1)
			break;
		if (qt_dev_wait(&d, 0, WAIT_MS))
			return 2;
	}
	if (tries == 5)
		return 3;
	for (i = 1; i < 4; i++)
		if (qt_dev_submit(&d, 256, 1, NULL, 0, i))
			return 2;
	return 0;
}

/*
 * A process killed with a direct job on the device (a long one) and
 * empty ones behind it: everything is released, nothing is left counted,
 * the device works.
 */
static int test_killed_direct_in_flight(void)
{
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	c = qt_fork_ready(direct_in_flight_child, NULL);
	if (c < 0)
		qt_fail("child: exit %d (3: the long job did not go direct)",
			-c);
	usleep(20000);
	qt_assert_eq(qt_kill_child(c), 0);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_debugfs_count("rings", "direct_live"), 0);
	qt_assert_eq(qt_debugfs_count("rings", "backlog"), 0);
	qt_assert_eq(qt_debugfs_count("rings", "quarantined"), 0);
	qt_assert(copy_works());
	qt_assert(qt_taint_ok());
	return QT_PASS;
}

/* The child: three direct jobs that find the ring full. */
static int direct_backlog_child(void *arg)
{
	struct qt_dev d;
	long before;
	int i;

	(void)arg;
	if (qt_dev_open(&d, 1))
		return 2;
	empty_cmd(&d, 0);
	before = direct_jobs();
	for (i = 0; i < 3; i++)
		if (qt_dev_submit(&d, 0, 1, NULL, 0, i))
			return 2;
	if (direct_jobs() != before + 3)
		return 3;
	/* The ring is full: they wait in the backlog. */
	if (qt_debugfs_count("rings", "backlog") != 3)
		return 4;
	return 0;
}

/*
 * Direct jobs past the ring's end wait in the driver's backlog. Another
 * file's direct batch takes every ring entry, its first job a long one; a
 * killed process's direct jobs wait in the backlog behind it and do not
 * run: the close cancels them while the long job still holds the ring
 * (backlog 0, the long job not done), and releases them. Nothing is left
 * counted, the other file's jobs end OK, the device works.
 */
static int test_killed_direct_backlog(void)
{
	uint32_t abuf, rows, bo, i, k, njobs, ncmds = 16, cap = 16384;
	int ret = QT_FAIL;
	struct drm_qnpu_submit el[QNPU_SQ_ENTRIES];
	int64_t t0, one_ms;
	long before;
	struct qt_dev a;
	uint64_t va;
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(qt_dev_open(&a, cap + 1), 0);
	njobs = QNPU_SQ_ENTRIES;
	qt_assert_eq(qt_debugfs_count("rings", "backlog"), 0);
	abuf = qt_get_param(a.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&a, abuf, 0, &bo, &va, NULL), 0);
	for (i = 0; i < cap; i++)
		qt_cmd_load(&a.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	empty_cmd(&a, cap);
	/* The first job runs >= 2.5 s; empty ones take the other entries. */
	t0 = qt_now_ns();
	qt_assert_eq(qt_dev_submit(&a, 0, ncmds, &bo, 1, 0), 0);
	qt_assert_eq(qt_dev_wait(&a, 0, WAIT_MS), 0);
	one_ms = (qt_now_ns() - t0) / 1000000 + 1;
	k = (2500 + one_ms - 1) / one_ms;
	ncmds = k * ncmds < cap ? k * ncmds : cap;
	printf("a job of %u LOADs (%lld ms per 16), %u empty ones\n",
	       ncmds, (long long)one_ms, njobs - 1);
	qt_dev_job(&a, 0, ncmds, 0, &el[0]);
	el[0].bo_handles = (uintptr_t)&bo;
	el[0].bo_count = 1;
	for (i = 1; i < njobs; i++)
		qt_dev_job(&a, cap, 1, i, &el[i]);
	before = direct_jobs();
	qt_assert_eq(qt_submit_batch(a.fd, el, njobs, NULL), 0);
	qt_assert_eq(direct_jobs(), before + njobs);

	c = qt_fork_ready(direct_backlog_child, NULL);
	if (c < 0) {
		printf("FAIL: child: exit %d (3: its jobs did not go direct, "
		       "4: not in the backlog)\n", -c);
		goto out;
	}
	if (qt_kill_child(c))
		goto out;
	/* Canceled at the close, while the long job still holds the ring. */
	if (qt_debugfs_count("rings", "backlog") != 0 || a.infos[0].done) {
		printf("FAIL: backlog %ld, long job done %u: the killed "
		       "file's jobs were not canceled in the backlog\n",
		       qt_debugfs_count("rings", "backlog"), a.infos[0].done);
		goto out;
	}
	if (qt_bo_wait(a.fd, a.info, WAIT_MS)) {
		printf("FAIL: A's jobs did not end\n");
		goto out;
	}
	for (i = 0; i < njobs; i++)
		if (a.infos[i].done != 1 ||
		    a.infos[i].status != DRM_QNPU_JOB_OK) {
			printf("FAIL: A job %u: done %u status %#x\n", i,
			       a.infos[i].done, a.infos[i].status);
			goto out;
		}
	ret = QT_PASS;
out:
	qt_dev_close(&a);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_debugfs_count("rings", "direct_live"), 0);
	qt_assert_eq(qt_debugfs_count("rings", "backlog"), 0);
	qt_assert_eq(qt_debugfs_count("rings", "quarantined"), 0);
	qt_assert(copy_works());
	qt_assert(qt_taint_ok());
	return ret;
}

/*
 * A file closed (not killed) right after a batch and a direct job: its
 * jobs still run, everything is released, the device works.
 */
static int test_closed_mid_batch(void)
{
	struct drm_qnpu_submit el[8];
	uint32_t x, i, ncmds = 32;
	struct qt_dev d;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(qt_dev_open(&d, ncmds + 1), 0);
	qt_assert_eq(qt_dev_long_cmds(&d, 0, ncmds, &x), 0);
	empty_cmd(&d, ncmds);
	qt_assert_eq(qt_dev_submit(&d, ncmds, 1, NULL, 0, 9), 0);
	for (i = 0; i < 8; i++) {
		qt_dev_job(&d, 0, ncmds, i, &el[i]);
		el[i].bo_handles = (uintptr_t)&x;
		el[i].bo_count = 1;
	}
	qt_assert_eq(qt_submit_batch(d.fd, el, 8, NULL), 0);
	qt_assert_eq(qt_dev_submit(&d, ncmds, 1, NULL, 0, 10), 0);
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_debugfs_count("rings", "direct_live"), 0);
	qt_assert_eq(qt_debugfs_count("rings", "backlog"), 0);
	qt_assert(copy_works());
	qt_assert(qt_taint_ok());
	return QT_PASS;
}

/*
 * A reset while direct jobs wait in the backlog: A hangs the device past
 * job_timeout_s=1 (as in direct-racing-reset); B's direct batch of a
 * chain of 24 copies (each reads what the one before wrote) fills the
 * rest of the ring and the backlog behind it. The reset drops B's jobs on
 * the ring; they must run again before the backlog's, in ring order: the
 * chain's end is exact, every job with an info slot OK, A HANG, nothing
 * left waiting, no untrusted completion.
 */
static int test_reset_with_backlog(void)
{
	uint32_t abuf, rows, bo, i, ncmds = 4096, k = 24;
	struct drm_qnpu_submit el[24];
	long before, bad, backlog;
	struct qt_dev a;
	struct dfix f;
	uint64_t va;
	int ret = QT_FAIL;

	qt_assert_eq(qt_module_reload("job_timeout_s=1 reset_timeout_ms=30000"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&a, ncmds), 0);
	qt_assert_eq(dfix_open(&f, 3 * k, k + 1), 0);
	abuf = qt_get_param(a.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&a, abuf, 0, &bo, &va, NULL), 0);
	memset(&a.cmds[0], 0, sizeof(a.cmds[0]));
	QT_SET(&a.cmds[0], OPCODE, QNPU_OP_SYNC);
	QT_SET(&a.cmds[0], POP_PREV, 1);
	for (i = 1; i < ncmds; i++)
		qt_cmd_load(&a.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	memset(f.map, 0, (k + 1) * REGION);
	for (i = 0; i < f.n; i++)
		f.map[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < k; i++) {
		qt_assert_eq(qt_cmd_copy(&f.d.cmds[3 * i], f.va + i * REGION,
					 f.va + (i + 1) * REGION, f.n,
					 f.d.cols), 3);
		qt_dev_job(&f.d, 3 * i, 3, i % QT_INFO_SLOTS, &el[i]);
		el[i].bo_handles = (uintptr_t)&f.data;
		el[i].bo_count = 1;
		/* Slots for the first 16; the chain checks the others. */
		if (i >= QT_INFO_SLOTS) {
			el[i].info_handle = 0;
			el[i].info_offset = 0;
		}
	}
	bad = qt_debugfs_count("rings", "bad_completions");
	qt_assert_eq(qt_dev_submit(&a, 0, ncmds, &bo, 1, 0), 0);
	before = direct_jobs();
	qt_assert_eq(qt_submit_batch(f.d.fd, el, k, NULL), 0);
	backlog = qt_debugfs_count("rings", "backlog");
	if (direct_jobs() != before + k || backlog < 1) {
		printf("FAIL: %ld of %u direct, backlog %ld (A %s)\n",
		       direct_jobs() - before, k, backlog,
		       a.infos[0].done ? "ended" : "running");
		goto out;
	}
	if (qt_bo_wait(f.d.fd, f.data, WAIT_MS) ||
	    qt_dev_wait(&a, 0, WAIT_MS)) {
		printf("FAIL: the jobs did not end\n");
		goto out;
	}
	printf("A: status %#x; backlog was %ld\n", a.infos[0].status,
	       backlog);
	if (a.infos[0].status == DRM_QNPU_JOB_DEADLOCK) {
		printf("SKIP: qnpu-sim took the reset only after the job\n");
		ret = QT_SKIP;
		goto out;
	}
	qt_assert_eq(a.infos[0].status, DRM_QNPU_JOB_HANG);
	for (i = 0; i < QT_INFO_SLOTS; i++)
		if (f.d.infos[i].done != 1 ||
		    f.d.infos[i].status != DRM_QNPU_JOB_OK) {
			printf("FAIL: B job %u: done %u status %#x\n", i,
			       f.d.infos[i].done, f.d.infos[i].status);
			goto out;
		}
	/* Ring order kept across the reset: the chain's end is exact. */
	qt_assert_eq(memcmp(f.map, f.map + k * REGION, f.n), 0);
	qt_assert(qt_debugfs_count("rings", "resets") >= 1);
	qt_assert_eq(qt_debugfs_count("rings", "bad_completions"), bad);
	qt_assert_eq(qt_debugfs_count("rings", "backlog"), 0);
	ret = QT_PASS;
out:
	qt_dev_close(&a);
	qt_dev_close(&f.d);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_debugfs_count("rings", "direct_live"), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return ret;
}

static const struct qt_subtest tests[] = {
	{ "direct-serial", test_serial_direct },
	{ "direct-pipelined-or-held", test_blocked_not_direct },
	{ "direct-no-overtaking", test_no_overtaking },
	{ "direct-fences-once", test_fences_once },
	{ "direct-killed-in-flight", test_killed_direct_in_flight },
	{ "direct-killed-backlog", test_killed_direct_backlog },
	{ "direct-closed-mid-batch", test_closed_mid_batch },
	{ "direct-racing-reset", test_direct_racing_reset },
	{ "direct-reset-with-backlog", test_reset_with_backlog },
};

int main(int argc, char **argv)
{
	/* Runnable alone (make vm-check-direct): load the module if needed. */
	if (access("/sys/module/qnpu", F_OK) && qt_module_load(NULL))
		printf("note: could not load qnpu.ko\n");
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
