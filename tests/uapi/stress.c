// SPDX-License-Identifier: MIT
/*
 * Load: 4 processes x 200 jobs each, at once, mixing copies of different
 * sizes and patterns with trivial jobs; every copy must be exact and
 * every job OK. (Model inference through libqnpu's drm backend is the
 * userspace issue's.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define PROCS	4
#define JOBS	200
#define WAIT_MS	60000

static int worker(int id)
{
	uint32_t bos[2], n, max;
	uint64_t vs, vd;
	uint8_t *s, *t;
	struct qt_dev d;
	int j, k;

	if (qt_dev_open(&d, 64) ||
	    qt_dev_bo(&d, 4096, DRM_QNPU_BO_READONLY, &bos[0], &vs,
		      (void **)&s) ||
	    qt_dev_bo(&d, 4096, 0, &bos[1], &vd, (void **)&t))
		return 2;
	max = d.rows * d.cols;
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[3], OPCODE, QNPU_OP_SYNC);
	for (j = 0; j < JOBS; j++) {
		int slot = j % QT_INFO_SLOTS;

		if (j % 4 == 3) {
			/* a trivial job now and then */
			memset(&d.cmds[3], 0, sizeof(d.cmds[3]));
			QT_SET(&d.cmds[3], OPCODE, QNPU_OP_SYNC);
			if (qt_dev_submit(&d, 3, 1, NULL, 0, slot) ||
			    qt_dev_wait(&d, slot, WAIT_MS) ||
			    d.infos[slot].status != DRM_QNPU_JOB_OK)
				return 1;
			continue;
		}
		n = 1 + (uint32_t)((j * 7919 + id * 104729) % max);
		for (k = 0; k < (int)n; k++)
			s[k] = (uint8_t)(k * 13 + j * 5 + id * 101);
		memset(t, 0, max);
		qt_cmd_copy(d.cmds, vs, vd, n, d.cols);
		if (qt_dev_submit(&d, 0, 3, bos, 2, slot) ||
		    qt_dev_wait(&d, slot, WAIT_MS)) {
			printf("proc %d job %d: submit/wait failed\n", id, j);
			return 1;
		}
		if (d.infos[slot].status != DRM_QNPU_JOB_OK ||
		    memcmp(s, t, n) || (n < max && t[n])) {
			printf("proc %d job %d: status %u, copy of %u bytes "
			       "wrong\n", id, j, d.infos[slot].status, n);
			return 1;
		}
	}
	qt_dev_close(&d);
	return 0;
}

static int test_4x200(void)
{
	int64_t t0 = qt_now_ns();
	pid_t pid[PROCS];
	int i, status, bad = 0;

	for (i = 0; i < PROCS; i++) {
		pid[i] = fork();
		qt_assert(pid[i] >= 0);
		if (pid[i] == 0)
			_exit(worker(i));
	}
	for (i = 0; i < PROCS; i++) {
		qt_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("process %d failed (status %#x)\n", i, status);
			bad++;
		}
	}
	qt_assert_eq(bad, 0);
	printf("%d jobs from %d processes in %.2f s\n", PROCS * JOBS, PROCS,
	       (qt_now_ns() - t0) / 1e9);
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "stress-4-processes-200-jobs", test_4x200 },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
