// SPDX-License-Identifier: MIT
/*
 * Hangs. A command stream that waits for a dependency token nobody will
 * produce must fail and the next job must be correct: alone, the device
 * sees the deadlock itself (DEADLOCK); while another engine keeps it busy
 * past the driver's timeout (job_timeout_s=1 here), the job fails with
 * HANG, the device is reset, and another file's job queued behind it
 * still completes correctly. Reloads the module; leaves it loaded with
 * defaults.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS	60000

static int copy_ok(struct qt_dev *d, int slot)
{
	uint32_t bos[2], n = d->rows * d->cols;
	uint64_t vs, vd;
	uint8_t *s, *t;

	if (qt_dev_bo(d, 4096, 0, &bos[0], &vs, (void **)&s) ||
	    qt_dev_bo(d, 4096, 0, &bos[1], &vd, (void **)&t))
		return -1;
	memset(s, 0x3c, n);
	memset(t, 0, n);
	qt_cmd_copy(&d->cmds[d->cmd_cap - 3], vs, vd, n, d->cols);
	if (qt_dev_submit(d, d->cmd_cap - 3, 3, bos, 2, slot) ||
	    qt_dev_wait(d, slot, WAIT_MS))
		return -1;
	if (d->infos[slot].status != DRM_QNPU_JOB_OK || memcmp(s, t, n)) {
		printf("copy: status %u\n", d->infos[slot].status);
		return -1;
	}
	return 0;
}

static int test_token_never_produced(void)
{
	struct qt_dev d;
	uint32_t st;

	qt_assert_eq(qt_dev_open(&d, 64), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	/* compute waits for a token from the load engine, which has none */
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	QT_SET(&d.cmds[0], POP_PREV, 1);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	st = d.infos[0].status;
	printf("token wait: status %#x (%s)\n", st,
	       st == DRM_QNPU_JOB_DEADLOCK ? "the device saw the deadlock" :
	       st == DRM_QNPU_JOB_HANG ? "driver timeout and reset" : "?");
	qt_assert(st == DRM_QNPU_JOB_DEADLOCK || st == DRM_QNPU_JOB_HANG);
	qt_assert_eq(copy_ok(&d, 1), 0);
	qt_dev_close(&d);
	return QT_PASS;
}

static int test_timeout_reset(void)
{
	uint32_t abuf, rows, bo, i, ncmds = 4096;
	struct qt_dev a, b;
	long resets;
	uint64_t va;
	int ret = QT_FAIL;

	/* A generous reset wait: a qnpu-sim that runs every doorbell to idle
	 * takes the reset only after the job. */
	qt_assert_eq(qt_module_reload("job_timeout_s=1 reset_timeout_ms=30000"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&a, ncmds), 0);
	qt_assert_eq(qt_dev_open(&b, 64), 0);

	/*
	 * A: the compute engine waits for a token the load engine never
	 * gives, while the load engine keeps the device busy (~16M cycles of
	 * LOADs, well over a second of simulation), so the device cannot call
	 * it a deadlock before the driver's timeout.
	 */
	abuf = qt_get_param(a.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&a, abuf, 0, &bo, &va, NULL), 0);
	memset(&a.cmds[0], 0, sizeof(a.cmds[0]));
	QT_SET(&a.cmds[0], OPCODE, QNPU_OP_SYNC);
	QT_SET(&a.cmds[0], POP_PREV, 1);
	for (i = 1; i < ncmds; i++)
		qt_cmd_load(&a.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	qt_assert_eq(qt_dev_submit(&a, 0, ncmds, &bo, 1, 0), 0);

	/* B: queued behind it, from another file */
	if (copy_ok(&b, 0)) {
		printf("B's job behind the hung one failed\n");
		goto out;
	}
	qt_assert_eq(qt_dev_wait(&a, 0, WAIT_MS), 0);
	printf("A: status %#x after %llu cycles\n", a.infos[0].status,
	       (unsigned long long)a.infos[0].cycles);
	if (a.infos[0].status == DRM_QNPU_JOB_DEADLOCK) {
		/* The reset reached the device only after the job: the
		 * driver saw a late completion, not a hang. */
		printf("SKIP: qnpu-sim took the reset only after the job "
		       "(it runs each doorbell to idle): no hang to see\n");
		ret = QT_SKIP;
		goto out;
	}
	qt_assert_eq(a.infos[0].status, DRM_QNPU_JOB_HANG);
	resets = qt_debugfs_count("rings", "resets");
	qt_assert(resets >= 1);
	/* A's next job is fine. */
	qt_assert_eq(copy_ok(&a, 1), 0);
	printf("resets: %ld; B's job and A's next job correct\n", resets);
	ret = QT_PASS;
out:
	qt_dev_close(&a);
	qt_dev_close(&b);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	return ret;
}

static const struct qt_subtest tests[] = {
	{ "hang-token-never-produced", test_token_never_produced },
	{ "hang-timeout-reset", test_timeout_reset },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
