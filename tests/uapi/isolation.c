// SPDX-License-Identifier: MIT
/*
 * Isolation between processes: process A's job addresses process B's
 * buffers (B tells A where they are) and faults; A sees the fault; B's
 * concurrent jobs all complete with correct data and its memory is
 * untouched.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define B_JOBS	20
#define WAIT_MS	30000

struct b_addrs {
	uint64_t src, dst, secret;
};

/* Process A: read from B's secret, write into B's destination. */
static int process_a(int rfd)
{
	struct b_addrs b;
	struct qt_dev d;
	int i;

	if (read(rfd, &b, sizeof(b)) != sizeof(b))
		return 2;
	if (qt_dev_open(&d, 64))
		return 2;
	for (i = 0; i < 2; i++) {
		if (i == 0)
			qt_cmd_load(&d.cmds[0], QNPU_BUF_ABUF, b.secret, 64, 1,
				    0);
		else
			qt_cmd_store(&d.cmds[0], b.dst, 64, 1, 0);
		if (qt_dev_submit(&d, 0, 1, NULL, 0, i) ||
		    qt_dev_wait(&d, i, WAIT_MS)) {
			printf("A: submit/wait failed\n");
			return 1;
		}
		if (d.infos[i].status != DRM_QNPU_JOB_FAULT ||
		    d.infos[i].fault_reason != DRM_QNPU_FAULT_UNMAPPED) {
			printf("A: job %d status %u, expected an MMU fault\n",
			       i, d.infos[i].status);
			return 1;
		}
		printf("A: job %d faulted at 0x%llx (%s), as it must\n", i,
		       (unsigned long long)d.infos[i].fault_va,
		       d.infos[i].fault_write ? "write" : "read");
	}
	qt_dev_close(&d);
	return 0;
}

static int test_cross_process(void)
{
	uint8_t *src, *dst, *secret;
	struct b_addrs addrs;
	uint32_t bos[3], n;
	struct qt_dev d;
	int pfd[2], status, i;
	pid_t a;

	qt_assert_eq(pipe(pfd), 0);
	a = fork();
	qt_assert(a >= 0);
	if (a == 0) {
		close(pfd[1]);
		_exit(process_a(pfd[0]));
	}
	close(pfd[0]);

	/* Process B */
	qt_assert_eq(qt_dev_open(&d, 64), 0);
	n = d.rows * d.cols;
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &bos[0], &addrs.src,
			       (void **)&src), 0);
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &bos[1], &addrs.dst,
			       (void **)&dst), 0);
	qt_assert_eq(qt_dev_bo(&d, 4096, 0, &bos[2], &addrs.secret,
			       (void **)&secret), 0);
	memset(secret, 0xa5, 4096);
	memset(dst, 0, 4096);
	qt_assert_eq(write(pfd[1], &addrs, sizeof(addrs)), sizeof(addrs));
	close(pfd[1]);

	qt_cmd_copy(d.cmds, addrs.src, addrs.dst, n, d.cols);
	for (i = 0; i < B_JOBS; i++) {
		memset(src, i + 1, n);
		qt_assert_eq(qt_dev_submit(&d, 0, 3, bos, 3, i % QT_INFO_SLOTS),
			     0);
		qt_assert_eq(qt_dev_wait(&d, i % QT_INFO_SLOTS, WAIT_MS), 0);
		qt_assert_eq(d.infos[i % QT_INFO_SLOTS].status,
			     DRM_QNPU_JOB_OK);
		qt_assert(!memcmp(src, dst, n));
	}
	qt_assert_eq(waitpid(a, &status, 0), a);
	qt_assert(WIFEXITED(status));
	qt_assert_eq(WEXITSTATUS(status), 0);
	for (i = 0; i < 4096; i++)
		qt_assert_eq(secret[i], 0xa5);
	printf("B: %d jobs correct; secret untouched\n", B_JOBS);
	qt_dev_close(&d);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "isolation-cross-process", test_cross_process },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
