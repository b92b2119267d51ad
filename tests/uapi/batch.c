// SPDX-License-Identifier: MIT
/*
 * Batches (DRM_QNPU_SUBMIT_BATCH): jobs of one SUBMIT run in array order
 * with consecutive ids, each with its own fence, info and result, each
 * fence signaled exactly once; a bad element anywhere queues nothing; the
 * file's job limit counts the whole batch; a job failing in the middle
 * fails alone; a process killed with a batch in flight and a reset while
 * a batch runs leave the driver and the other jobs intact. (Argument
 * validation of the batch fields is in submit.c.)
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
#define NREGIONS	16

/* A file with one data BO of NREGIONS regions (src/dst of copies). */
struct bfix {
	struct qt_dev d;
	uint32_t data;
	uint64_t va;
	uint8_t *map;
	uint32_t n;	/* bytes per copy: rows x cols */
};

static int bfix_open(struct bfix *b, uint32_t cmd_cap)
{
	memset(b, 0, sizeof(*b));
	if (qt_dev_open(&b->d, cmd_cap))
		return -1;
	b->n = b->d.rows * b->d.cols;
	return qt_dev_bo(&b->d, REGION * NREGIONS, 0, &b->data, &b->va,
			 (void **)&b->map);
}

/* Element @i: copy region @from to region @to, commands at 3*@cmd. */
static void copy_job(struct bfix *b, struct drm_qnpu_submit *s, int cmd,
		     int from, int to, int slot)
{
	qt_cmd_copy(&b->d.cmds[3 * cmd], b->va + from * REGION,
		    b->va + to * REGION, b->n, b->d.cols);
	qt_dev_job(&b->d, 3 * cmd, 3, slot, s);
	s->bo_handles = (uintptr_t)&b->data;
	s->bo_count = 1;
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

static int timeline_wait(int fd, uint32_t h, uint64_t point, int64_t ms)
{
	struct drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)&h,
		.points = (uintptr_t)&point,
		.count_handles = 1,
		.timeout_nsec = qt_now_ns() + ms * 1000000LL,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return qt_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

/*
 * A chain of copies, region i -> i + 1: job i + 1 reads what job i wrote,
 * so the data arrives only if the batch ran in array order. Each job
 * signals its own timeline point; ids are consecutive.
 */
static int test_in_order(void)
{
	struct drm_qnpu_submit el[NREGIONS - 1];
	struct drm_qnpu_sync out[NREGIONS - 1];
	uint32_t tl, i, k = NREGIONS - 1;
	uint64_t id, v;
	struct bfix b;

	qt_assert_eq(bfix_open(&b, 3 * NREGIONS), 0);
	qt_assert_eq(qt_syncobj_create(b.d.fd, &tl), 0);
	memset(b.map, 0, REGION * NREGIONS);
	for (i = 0; i < b.n; i++)
		b.map[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < k; i++) {
		copy_job(&b, &el[i], i, i, i + 1, i);
		out[i] = (struct drm_qnpu_sync){ .handle = tl, .point = i + 1 };
		el[i].out_syncs = (uintptr_t)&out[i];
		el[i].out_sync_count = 1;
	}
	qt_assert_eq(qt_submit_batch(b.d.fd, el, k, &id), 0);
	qt_assert(id != 0);
	qt_assert_eq(timeline_wait(b.d.fd, tl, k, WAIT_MS), 0);
	for (i = 0; i < k; i++) {
		qt_assert_eq(b.d.infos[i].done, 1);
		qt_assert_eq(b.d.infos[i].status, DRM_QNPU_JOB_OK);
		qt_assert_eq(b.d.infos[i].job_id, id + i);
		/* The element's own job_id is input only. */
		qt_assert_eq(el[i].job_id, 0);
	}
	qt_assert_eq(memcmp(b.map, b.map + k * REGION, b.n), 0);
	qt_assert_eq(timeline_value(b.d.fd, tl, &v), 0);
	qt_assert_eq(v, k);
	qt_dev_close(&b.d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/*
 * The largest batch, a long job and 63 empty ones, four times what the
 * ring holds: the long job keeps the first ones on the ring, so a driver
 * writing entries without room would overrun it; all end OK, in order,
 * with consecutive ids (the last 16 have info slots).
 */
static int test_over_the_ring(void)
{
	struct drm_qnpu_submit el[DRM_QNPU_MAX_BATCH];
	uint32_t i, n = DRM_QNPU_MAX_BATCH, first = n - QT_INFO_SLOTS;
	uint32_t bo, nlong = 32;
	struct qt_dev d;
	uint64_t id;

	qt_assert_eq(qt_dev_open(&d, 1 + nlong), 0);
	qt_assert_eq(qt_dev_long_cmds(&d, 1, nlong, &bo), 0);
	memset(&d.cmds[0], 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	for (i = 0; i < n; i++) {
		if (i == 0) {
			qt_dev_job(&d, 1, nlong, 0, &el[i]);
			el[i].bo_handles = (uintptr_t)&bo;
			el[i].bo_count = 1;
		} else {
			qt_dev_job(&d, 0, 1, i < first ? 0 : i - first,
				   &el[i]);
		}
		if (i < first) {
			el[i].info_handle = 0;
			el[i].info_offset = 0;
		}
	}
	qt_assert_eq(qt_submit_batch(d.fd, el, n, &id), 0);
	qt_assert_eq(qt_bo_wait(d.fd, d.info, WAIT_MS), 0);
	for (i = 0; i < QT_INFO_SLOTS; i++) {
		qt_assert_eq(d.infos[i].done, 1);
		qt_assert_eq(d.infos[i].status, DRM_QNPU_JOB_OK);
		qt_assert_eq(d.infos[i].job_id, id + first + i);
	}
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/*
 * All or nothing: a batch whose element in the middle is bad (unknown BO,
 * unknown in-sync, commands past the end, another bad element last) fails
 * with that element's errno and queues nothing: no info written, no
 * out-sync of an earlier element gets a fence or a timeline point, no job
 * is alive, the data is untouched. The fixed batch then runs.
 */
static int test_bad_entry_all_or_nothing(void)
{
	struct drm_qnpu_sync bad_in = { .handle = 4242 };
	struct drm_qnpu_submit el[5];
	struct drm_qnpu_sync out[5];
	uint32_t sync[5], tl, bad_bo = 4242, i, round;
	const int want[] = { ENOENT, ENOENT, EINVAL, EINVAL };
	uint64_t v;
	struct bfix b;

	qt_assert_eq(bfix_open(&b, 3 * 5), 0);
	qt_assert_eq(qt_syncobj_create(b.d.fd, &tl), 0);
	for (i = 0; i < 5; i++)
		qt_assert_eq(qt_syncobj_create(b.d.fd, &sync[i]), 0);
	for (round = 0; round < 5; round++) {
		memset(b.map, 0x5a, REGION);
		memset(b.map + REGION, 0, REGION * 5);
		for (i = 0; i < 5; i++) {
			copy_job(&b, &el[i], i, 0, i + 1, i);
			/* A binary syncobj and a timeline point each. */
			out[i] = (struct drm_qnpu_sync){ .handle = tl,
							 .point = i + 1 };
			el[i].out_syncs = (uintptr_t)&out[i];
			el[i].out_sync_count = 1;
		}
		switch (round) {
		case 0:
			el[2].bo_handles = (uintptr_t)&bad_bo;
			break;
		case 1:
			el[2].in_syncs = (uintptr_t)&bad_in;
			el[2].in_sync_count = 1;
			break;
		case 2:
			el[2].cmd_offset = 4096;	/* past the end */
			break;
		case 3:
			el[4].info_offset = 3;
			break;
		default:
			break;	/* fixed */
		}
		if (round < 4) {
			qt_assert_errno(qt_submit_batch(b.d.fd, el, 5, NULL),
					want[round]);
			/* Give a wrongly queued job every chance to show. */
			usleep(200000);
			for (i = 0; i < 5; i++)
				qt_assert_eq(b.d.infos[i].done, 0);
			qt_assert_eq(timeline_value(b.d.fd, tl, &v), 0);
			qt_assert_eq(v, 0);
			qt_assert_errno(timeline_wait(b.d.fd, tl, 1, 50),
					ETIME);
			qt_assert_eq(qt_debugfs_count("bos",
						      "jobs_all_devices"), 0);
			for (i = 1; i <= 5; i++)
				qt_assert_eq(b.map[i * REGION], 0);
			continue;
		}
		/* Binary out-syncs on the fixed batch, too. */
		for (i = 0; i < 5; i++) {
			out[i] = (struct drm_qnpu_sync){ .handle = sync[i] };
		}
		qt_assert_eq(qt_submit_batch(b.d.fd, el, 5, NULL), 0);
		for (i = 0; i < 5; i++) {
			qt_assert_eq(qt_syncobj_wait(b.d.fd, sync[i], WAIT_MS),
				     0);
			qt_assert_eq(qt_syncobj_fence_error(b.d.fd, sync[i]),
				     0);
			qt_assert_eq(b.d.infos[i].status, DRM_QNPU_JOB_OK);
			qt_assert_eq(memcmp(b.map, b.map + (i + 1) * REGION,
					    b.n), 0);
		}
	}
	qt_dev_close(&b.d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/*
 * A job that faults in the middle of a batch fails alone; the ones after
 * it run. Every fence signals exactly once: after the batch the info
 * slots are cleared, more jobs run (with a device reset in between, the
 * heartbeat's on an idle device), and no slot is written a second time;
 * the timeline counts exactly one point per job.
 */
static int test_fault_middle_fences_once(void)
{
	struct drm_qnpu_submit el[8];
	struct drm_qnpu_sync out[8][2];
	uint32_t tl, bin[8], i, k = 8;
	uint64_t v, id;
	struct bfix b;

	qt_assert_eq(bfix_open(&b, 3 * 9), 0);
	qt_assert_eq(qt_syncobj_create(b.d.fd, &tl), 0);
	memset(b.map, 0x21, REGION);
	memset(b.map + REGION, 0, REGION * 8);
	for (i = 0; i < k; i++) {
		copy_job(&b, &el[i], i, 0, i + 1, i);
		/* A timeline point and a binary syncobj of its own. */
		qt_assert_eq(qt_syncobj_create(b.d.fd, &bin[i]), 0);
		out[i][0] = (struct drm_qnpu_sync){ .handle = tl,
						    .point = i + 1 };
		out[i][1] = (struct drm_qnpu_sync){ .handle = bin[i] };
		el[i].out_syncs = (uintptr_t)out[i];
		el[i].out_sync_count = 2;
	}
	/* Job 3 stores to an unmapped address. */
	qt_cmd_copy(&b.d.cmds[3 * 3], b.va, 0x10000000ULL, b.n, b.d.cols);
	qt_assert_eq(qt_submit_batch(b.d.fd, el, k, &id), 0);
	qt_assert_eq(timeline_wait(b.d.fd, tl, k, WAIT_MS), 0);
	for (i = 0; i < k; i++) {
		qt_assert_eq(b.d.infos[i].done, 1);
		qt_assert_eq(b.d.infos[i].job_id, id + i);
		/* Each job's fence carries its own result. */
		qt_assert_eq(qt_syncobj_wait(b.d.fd, bin[i], WAIT_MS), 0);
		qt_assert_eq(qt_syncobj_fence_error(b.d.fd, bin[i]),
			     i == 3 ? -EFAULT : 0);
		if (i == 3) {
			qt_assert_eq(b.d.infos[i].status, DRM_QNPU_JOB_FAULT);
			continue;
		}
		qt_assert_eq(b.d.infos[i].status, DRM_QNPU_JOB_OK);
		qt_assert_eq(memcmp(b.map, b.map + (i + 1) * REGION, b.n), 0);
	}
	/* Nothing of the batch is written again. */
	memset(b.d.infos, 0, 8 * sizeof(b.d.infos[0]));
	memset(&b.d.cmds[3 * 8], 0, sizeof(b.d.cmds[0]));
	QT_SET(&b.d.cmds[3 * 8], OPCODE, QNPU_OP_SYNC);
	qt_assert_eq(qt_dev_submit(&b.d, 3 * 8, 1, NULL, 0, 8), 0);
	qt_assert_eq(qt_dev_wait(&b.d, 8, WAIT_MS), 0);
	/* An idle device: the heartbeat resets it within a period. */
	usleep(1500000);
	qt_assert_eq(qt_dev_submit(&b.d, 3 * 8, 1, NULL, 0, 9), 0);
	qt_assert_eq(qt_dev_wait(&b.d, 9, WAIT_MS), 0);
	for (i = 0; i < k; i++)
		qt_assert_eq(b.d.infos[i].done, 0);
	qt_assert_eq(timeline_value(b.d.fd, tl, &v), 0);
	qt_assert_eq(v, k);
	qt_assert_eq(qt_debugfs_count("rings", "bad_completions"), 0);
	qt_dev_close(&b.d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	return QT_PASS;
}

/* The file's job limit counts every job of a batch: EBUSY, nothing run. */
static int test_queue_full(void)
{
	struct drm_qnpu_submit el[5];
	struct bfix b;
	uint32_t i;
	int ret = QT_FAIL;

	qt_assert_eq(qt_module_reload("max_jobs_per_file=4"), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	if (bfix_open(&b, 3 * 5))
		goto out_reload;
	memset(b.map, 0x77, REGION);
	for (i = 0; i < 5; i++)
		copy_job(&b, &el[i], i, 0, i + 1, i);
	if (qt_submit_batch(b.d.fd, el, 5, NULL) != -EBUSY) {
		printf("FAIL: a batch of 5 over a limit of 4 was taken\n");
		goto out_close;
	}
	usleep(100000);
	for (i = 0; i < 5; i++)
		if (b.d.infos[i].done) {
			printf("FAIL: job %u of the refused batch ran\n", i);
			goto out_close;
		}
	if (qt_submit_batch(b.d.fd, el, 4, NULL) ||
	    qt_bo_wait(b.d.fd, b.d.info, WAIT_MS)) {
		printf("FAIL: a batch of 4 within the limit\n");
		goto out_close;
	}
	for (i = 0; i < 4; i++)
		if (b.d.infos[i].status != DRM_QNPU_JOB_OK ||
		    memcmp(b.map, b.map + (i + 1) * REGION, b.n)) {
			printf("FAIL: job %u: status %u\n", i,
			       b.d.infos[i].status);
			goto out_close;
		}
	ret = QT_PASS;
out_close:
	qt_dev_close(&b.d);
out_reload:
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return ret;
}

/* Long jobs (LOADs of the whole ABUF) as one batch of @jobs. */
static int queue_long_batch(struct qt_dev *d, int jobs, uint32_t ncmds)
{
	struct drm_qnpu_submit el[QT_INFO_SLOTS];
	uint32_t bo;
	int j;

	if (qt_dev_long_cmds(d, 0, ncmds, &bo))
		return -1;
	for (j = 0; j < jobs; j++) {
		qt_dev_job(d, 0, ncmds, j, &el[j]);
		el[j].bo_handles = (uintptr_t)&bo;
		el[j].bo_count = 1;
	}
	return qt_submit_batch(d->fd, el, jobs, NULL);
}

/* Can another file still run an exact copy? */
static int copy_works(void)
{
	struct drm_qnpu_submit el[2];
	struct bfix b;
	int ok;

	if (bfix_open(&b, 6))
		return 0;
	memset(b.map, 0x3c, REGION);
	copy_job(&b, &el[0], 0, 0, 1, 0);
	copy_job(&b, &el[1], 1, 1, 2, 1);
	ok = !qt_submit_batch(b.d.fd, el, 2, NULL) &&
	     !qt_bo_wait(b.d.fd, b.d.info, WAIT_MS) &&
	     b.d.infos[1].status == DRM_QNPU_JOB_OK &&
	     !memcmp(b.map, b.map + 2 * REGION, b.n);
	qt_dev_close(&b.d);
	return ok;
}

/* The child: a batch whose first job runs long. */
static int long_batch_child(void *arg)
{
	struct qt_dev d;

	(void)arg;
	if (qt_dev_open(&d, 512) || queue_long_batch(&d, 6, 128))
		return 2;
	return 0;
}

/*
 * A process killed with a batch in flight (the first job on the device,
 * the rest queued, some of them waiting for a doorbell the next one was
 * to ring): everything is released, the device works.
 */
static int test_killed_in_flight(void)
{
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	c = qt_fork_ready(long_batch_child, NULL);
	qt_assert(c > 0);
	usleep(300000);
	qt_assert_eq(qt_kill_child(c), 0);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert(copy_works());
	qt_assert(qt_taint_ok());
	return QT_PASS;
}

/*
 * A reset while a batch runs: job 1 of A's batch hangs the device past
 * job_timeout_s=1 (a token never produced while the load engine keeps it
 * busy). It fails with HANG; the batch's other jobs and B's job queued
 * behind come through exact, each signaled once.
 */
static int test_reset_mid_batch(void)
{
	uint32_t abuf, rows, bo, i, tl, ncmds = 4096;
	struct drm_qnpu_submit el[4];
	uint64_t va;
	struct drm_qnpu_sync out[4];
	struct bfix a;
	uint64_t v;
	int ret = QT_FAIL;

	qt_assert_eq(qt_module_reload("job_timeout_s=1 reset_timeout_ms=30000"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(bfix_open(&a, ncmds + 16), 0);
	qt_assert_eq(qt_syncobj_create(a.d.fd, &tl), 0);
	abuf = qt_get_param(a.d.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&a.d, abuf, 0, &bo, &va, NULL), 0);
	memset(a.map, 0x4e, REGION);
	memset(a.map + REGION, 0, 4 * REGION);
	/* Copies after the hang's commands (from command ncmds + 3 on). */
	for (i = 0; i < 4; i++) {
		copy_job(&a, &el[i], ncmds / 3 + 1 + i, 0, i + 1, i);
		out[i] = (struct drm_qnpu_sync){ .handle = tl, .point = i + 1 };
		el[i].out_syncs = (uintptr_t)&out[i];
		el[i].out_sync_count = 1;
	}
	/*
	 * Job 1: compute waits for a token the load engine never gives
	 * while the load engine keeps the device busy (as in hang.c).
	 */
	memset(&a.d.cmds[0], 0, sizeof(a.d.cmds[0]));
	QT_SET(&a.d.cmds[0], OPCODE, QNPU_OP_SYNC);
	QT_SET(&a.d.cmds[0], POP_PREV, 1);
	for (i = 1; i < ncmds; i++)
		qt_cmd_load(&a.d.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	qt_dev_job(&a.d, 0, ncmds, 1, &el[1]);
	el[1].bo_handles = (uintptr_t)&bo;
	el[1].bo_count = 1;
	el[1].out_syncs = (uintptr_t)&out[1];
	el[1].out_sync_count = 1;
	qt_assert_eq(qt_submit_batch(a.d.fd, el, 4, NULL), 0);

	/* B, another file, queued behind. */
	if (!copy_works()) {
		printf("B's jobs behind the hung batch failed\n");
		goto out;
	}
	qt_assert_eq(timeline_wait(a.d.fd, tl, 4, WAIT_MS), 0);
	printf("batch: status %#x %#x %#x %#x\n", a.d.infos[0].status,
	       a.d.infos[1].status, a.d.infos[2].status, a.d.infos[3].status);
	if (a.d.infos[1].status == DRM_QNPU_JOB_DEADLOCK) {
		printf("SKIP: qnpu-sim took the reset only after the job "
		       "(it runs each doorbell to idle): no hang to see\n");
		ret = QT_SKIP;
		goto out;
	}
	qt_assert_eq(a.d.infos[1].status, DRM_QNPU_JOB_HANG);
	qt_assert(qt_debugfs_count("rings", "resets") >= 1);
	for (i = 0; i < 4; i++) {
		qt_assert_eq(a.d.infos[i].done, 1);
		if (i == 1)
			continue;
		qt_assert_eq(a.d.infos[i].status, DRM_QNPU_JOB_OK);
		qt_assert_eq(memcmp(a.map, a.map + (i + 1) * REGION, a.n), 0);
	}
	qt_assert_eq(timeline_value(a.d.fd, tl, &v), 0);
	qt_assert_eq(v, 4);
	/* Nothing signals twice: cleared slots stay clear. */
	memset(a.d.infos, 0, 4 * sizeof(a.d.infos[0]));
	qt_assert(copy_works());
	for (i = 0; i < 4; i++)
		qt_assert_eq(a.d.infos[i].done, 0);
	ret = QT_PASS;
out:
	qt_dev_close(&a.d);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return ret;
}

static const struct qt_subtest tests[] = {
	{ "batch-in-order", test_in_order },
	{ "batch-over-the-ring", test_over_the_ring },
	{ "batch-bad-entry-all-or-nothing", test_bad_entry_all_or_nothing },
	{ "batch-fault-middle-fences-once", test_fault_middle_fences_once },
	{ "batch-queue-full", test_queue_full },
	{ "batch-killed-in-flight", test_killed_in_flight },
	{ "batch-reset-mid-batch", test_reset_mid_batch },
};

int main(int argc, char **argv)
{
	/* Runnable alone (make vm-check-batch): load the module if needed. */
	if (access("/sys/module/qnpu", F_OK) && qt_module_load(NULL))
		printf("note: could not load qnpu.ko\n");
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
