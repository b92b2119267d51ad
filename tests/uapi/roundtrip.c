// SPDX-License-Identifier: MIT
/*
 * debugfs "roundtrip": the raw doorbell-to-interrupt probe make bench-vm
 * measures jobs against. It is root only, refuses to run while jobs are
 * on the device, and jobs submitted while it runs wait for it and then
 * complete exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS	60000

/* Read the whole file: 0 and its text, or -errno. */
static int read_roundtrip(char *buf, size_t size)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/roundtrip", qt_debugfs);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	buf[n] = 0;
	close(fd);
	return 0;
}

static long field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtol(p + strlen(key) + 1, NULL, 10) : -1;
}

static int test_root(void)
{
	long resets = qt_debugfs_count("rings", "resets");
	long bad = qt_debugfs_count("rings", "bad_completions");
	long min, med, mean, db;
	char buf[512];

	qt_assert_eq(read_roundtrip(buf, sizeof(buf)), 0);
	printf("%s", buf);
	qt_assert_eq(field(buf, "runs"), 200);
	min = field(buf, "irq_min_ns");
	med = field(buf, "irq_median_ns");
	mean = field(buf, "irq_mean_ns");
	db = field(buf, "doorbell_median_ns");
	qt_assert(min > 0 && min <= med && med < 1000000000L && mean >= min);
	qt_assert(field(buf, "wake_median_ns") >= min);
	qt_assert(db > 0 && db <= med);
	/* The probes leave the rings as they found them. */
	qt_assert_eq(qt_debugfs_count("rings", "bad_completions"), bad);
	qt_assert_eq(qt_debugfs_count("rings", "resets"), resets);
	return QT_PASS;
}

/* Anyone but root: refused (by the directory or by the file itself). */
static int test_not_root(void)
{
	int status;
	pid_t c = fork();

	qt_assert(c >= 0);
	if (c == 0) {
		char buf[512];
		int r;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		r = read_roundtrip(buf, sizeof(buf));
		_exit(r == -EACCES || r == -EPERM ? 0 : 1);
	}
	qt_assert_eq(waitpid(c, &status, 0), c);
	qt_assert(WIFEXITED(status));
	qt_assert_eq(WEXITSTATUS(status), 0);
	return QT_PASS;
}

/*
 * With a job on the device: EBUSY, the job unharmed. Jobs submitted while
 * the probe owns the ring wait for it and complete.
 */
static int test_busy_and_jobs_meanwhile(void)
{
	uint32_t bo, i, ncmds = 256;
	struct qt_dev d;
	char buf[512];
	int r, st, busy = 0;
	pid_t c;

	qt_assert_eq(qt_dev_open(&d, ncmds + 1), 0);
	qt_assert_eq(qt_dev_long_cmds(&d, 0, ncmds, &bo), 0);
	qt_assert_eq(qt_dev_submit(&d, 0, ncmds, &bo, 1, 0), 0);
	r = read_roundtrip(buf, sizeof(buf));
	if (!d.infos[0].done) {
		qt_assert_eq(r, -EBUSY);
		busy = 1;
	}
	qt_assert_eq(qt_dev_wait(&d, 0, WAIT_MS), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	if (!busy)
		printf("the job ended before the probe: EBUSY not seen\n");

	/* Another process submits while we probe. */
	memset(&d.cmds[ncmds], 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[ncmds], OPCODE, QNPU_OP_SYNC);
	c = fork();
	qt_assert(c >= 0);
	if (c == 0) {
		struct qt_dev e;
		int k;

		if (qt_dev_open(&e, 1))
			_exit(2);
		memset(e.cmds, 0, sizeof(e.cmds[0]));
		QT_SET(&e.cmds[0], OPCODE, QNPU_OP_SYNC);
		for (k = 0; k < 200; k++)
			if (qt_dev_submit(&e, 0, 1, NULL, 0, 0) ||
			    qt_dev_wait(&e, 0, WAIT_MS) ||
			    e.infos[0].status != DRM_QNPU_JOB_OK)
				_exit(1);
		_exit(0);
	}
	for (i = 0; i < 5; i++) {
		r = read_roundtrip(buf, sizeof(buf));
		qt_assert(r == 0 || r == -EBUSY);
	}
	qt_assert_eq(waitpid(c, &st, 0), c);
	qt_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	qt_assert_eq(qt_dev_submit(&d, ncmds, 1, NULL, 0, 1), 0);
	qt_assert_eq(qt_dev_wait(&d, 1, WAIT_MS), 0);
	qt_assert_eq(d.infos[1].status, DRM_QNPU_JOB_OK);
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert(qt_taint_ok());
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "roundtrip-root", test_root },
	{ "roundtrip-not-root", test_not_root },
	{ "roundtrip-busy-and-jobs-meanwhile", test_busy_and_jobs_meanwhile },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
