// SPDX-License-Identifier: MIT
/* DRM_IOCTL_QNPU_BO_WAIT: idle BOs, absolute timeouts, every invalid
 * argument. (Waiting on a busy BO is in jobs.c.) */
#include <errno.h>
#include <unistd.h>

#include "qnpu_test.h"

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

static const struct qt_subtest tests[] = {
	{ "bo-wait-idle", test_idle },
	{ "bo-wait-invalid-flags", test_invalid_flags },
	{ "bo-wait-unknown-handle", test_unknown_handle },
	{ "bo-wait-bad-pointer", test_bad_pointer },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
