// SPDX-License-Identifier: MIT
/*
 * Process lifetime: a process that exits with BOs and jobs outstanding,
 * and one killed while its job runs, leave debugfs's BO and context counts
 * at zero once their jobs are gone; the module unloads and reloads after
 * each, and the device works after the reload.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS	60000

/* Many LOADs of the whole ABUF from one BO. */
static int queue_long_jobs(struct qt_dev *d, int jobs, uint32_t ncmds)
{
	uint32_t abuf = qt_get_param(d->fd, DRM_QNPU_PARAM_ABUF_BYTES);
	uint32_t bo, i;
	uint64_t va;
	int j;

	if (qt_dev_bo(d, abuf, 0, &bo, &va, NULL))
		return -1;
	for (i = 0; i < ncmds; i++)
		qt_cmd_load(&d->cmds[i], QNPU_BUF_ABUF, va, 4096, abuf / 4096,
			    4096);
	for (j = 0; j < jobs; j++)
		if (qt_dev_submit(d, 0, ncmds, &bo, 1, j % QT_INFO_SLOTS))
			return -1;
	return 0;
}

static int device_works(void)
{
	struct qt_dev d;
	int ok;

	if (qt_dev_open(&d, 4))
		return 0;
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	ok = !qt_dev_submit(&d, 0, 1, NULL, 0, 0) &&
	     !qt_dev_wait(&d, 0, WAIT_MS) &&
	     d.infos[0].status == DRM_QNPU_JOB_OK;
	qt_dev_close(&d);
	return ok;
}

static int after(void)
{
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert(device_works());
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	return QT_PASS;
}

static int test_exit_outstanding(void)
{
	int status;
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 1000), 0);
	c = fork();
	qt_assert(c >= 0);
	if (c == 0) {
		struct qt_dev d;
		uint32_t h;
		int i;

		if (qt_dev_open(&d, 64))
			_exit(2);
		for (i = 0; i < 5; i++)
			if (qt_dev_bo(&d, 8192, 0, &h, NULL, NULL))
				_exit(2);
		if (queue_long_jobs(&d, 8, 16))
			_exit(3);
		/* exit without waiting, closing or unmapping anything */
		_exit(0);
	}
	qt_assert_eq(waitpid(c, &status, 0), c);
	qt_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return after();
}

static int test_killed_mid_job(void)
{
	int pfd[2], status;
	char ok;
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 1000), 0);
	qt_assert_eq(pipe(pfd), 0);
	c = fork();
	qt_assert(c >= 0);
	if (c == 0) {
		struct qt_dev d;

		close(pfd[0]);
		if (qt_dev_open(&d, 512) || queue_long_jobs(&d, 4, 512))
			_exit(2);
		if (write(pfd[1], "y", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(pfd[1]);
	qt_assert_eq(read(pfd[0], &ok, 1), 1);
	close(pfd[0]);
	usleep(300000);
	/* The first job is on the device now; the others are queued. */
	printf("rings while the child runs:\n");
	fflush(stdout);
	if (system("cat /sys/kernel/debug/dri/*/rings 2>/dev/null | sort -u"))
		printf("(no rings file)\n");
	qt_assert_eq(kill(c, SIGKILL), 0);
	qt_assert_eq(waitpid(c, &status, 0), c);
	qt_assert(WIFSIGNALED(status));
	return after();
}

static const struct qt_subtest tests[] = {
	{ "lifecycle-exit-with-outstanding-jobs", test_exit_outstanding },
	{ "lifecycle-killed-mid-job", test_killed_mid_job },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
