// SPDX-License-Identifier: MIT
/* DRM_IOCTL_QNPU_BO_WAIT: idle BOs, absolute timeouts, every invalid
 * argument. (Waiting on a busy BO is in jobs.c.) */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

static int wait_bo(int fd, uint32_t handle, uint32_t flags, int64_t timeout)
{
	struct drm_qnpu_bo_wait w = {
		.handle = handle,
		.flags = flags,
		.timeout_ns = timeout,
	};

	return qt_ioctl(fd, DRM_IOCTL_QNPU_BO_WAIT, &w);
}

static int test_idle(void)
{
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_eq(qt_bo_create(fd, 4096, 0, &h, NULL), 0);
	/* In the past (a poll), now, in the future, and the extremes. */
	qt_assert_eq(wait_bo(fd, h, 0, 0), 0);
	qt_assert_eq(wait_bo(fd, h, 0, qt_now_ns()), 0);
	qt_assert_eq(wait_bo(fd, h, 0, qt_now_ns() + 1000000000LL), 0);
	qt_assert_eq(wait_bo(fd, h, 0, INT64_MAX), 0);
	qt_assert_eq(wait_bo(fd, h, 0, INT64_MIN), 0);
	close(fd);
	return QT_PASS;
}

static int test_invalid_flags(void)
{
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_eq(qt_bo_create(fd, 4096, 0, &h, NULL), 0);
	qt_assert_errno(wait_bo(fd, h, 1, 0), EINVAL);
	qt_assert_errno(wait_bo(fd, h, 1u << 31, 0), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_unknown_handle(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(wait_bo(fd, 0, 0, 0), ENOENT);
	qt_assert_errno(wait_bo(fd, 999, 0, 0), ENOENT);
	close(fd);
	return QT_PASS;
}

static int test_bad_pointer(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(qt_ioctl(fd, DRM_IOCTL_QNPU_BO_WAIT, (void *)8),
			EFAULT);
	close(fd);
	return QT_PASS;
}

/*
 * The job-info BO is a write dependency of its job: BO_WAIT on it waits
 * for the job (the info is written when the job ends).
 */
static int test_info_bo_busy(void)
{
	uint32_t abuf, rows, bo, i, ncmds = 64;
	struct qt_dev d;
	uint64_t va;
	int ret;

	qt_assert_eq(qt_dev_open(&d, ncmds), 0);
	abuf = qt_get_param(d.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&d, abuf, 0, &bo, &va, NULL), 0);
	for (i = 0; i < ncmds; i++)
		qt_cmd_load(&d.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	qt_assert_eq(qt_dev_submit(&d, 0, ncmds, &bo, 1, 0), 0);
	ret = wait_bo(d.fd, d.info, 0, 0);
	if (ret == 0 && d.infos[0].done)
		qt_skip("the job finished before the first poll");
	qt_assert_eq(ret, -ETIMEDOUT);
	qt_assert_eq(wait_bo(d.fd, d.info, 0,
			     qt_now_ns() + 60 * 1000000000LL), 0);
	/* Idle: the info is there. */
	qt_assert_eq(d.infos[0].done, 1);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	qt_dev_close(&d);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "bo-wait-idle", test_idle },
	{ "bo-wait-invalid-flags", test_invalid_flags },
	{ "bo-wait-unknown-handle", test_unknown_handle },
	{ "bo-wait-bad-pointer", test_bad_pointer },
	{ "bo-wait-info-bo-busy", test_info_bo_busy },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
