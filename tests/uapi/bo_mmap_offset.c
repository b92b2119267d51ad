// SPDX-License-Identifier: MIT
/* DRM_IOCTL_QNPU_BO_MMAP_OFFSET: CPU access, every invalid argument. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qnpu_test.h"

static int mmap_offset(int fd, uint32_t handle, uint32_t flags,
		       uint64_t *offset)
{
	struct drm_qnpu_bo_mmap_offset m = { .handle = handle, .flags = flags };
	int ret = qt_ioctl(fd, DRM_IOCTL_QNPU_BO_MMAP_OFFSET, &m);

	if (offset)
		*offset = m.offset;
	return ret;
}

static int test_basic(void)
{
	uint8_t *p, *q;
	uint32_t h;
	int fd = qt_open(), i;

	qt_assert(fd >= 0);
	qt_assert_eq(qt_bo_create(fd, 3 * 4096, 0, &h, NULL), 0);
	p = qt_bo_map(fd, h, 3 * 4096);
	qt_assert(p);
	for (i = 0; i < 3 * 4096; i++)
		qt_assert_eq(p[i], 0);
	for (i = 0; i < 3 * 4096; i++)
		p[i] = (uint8_t)(i * 7);
	/* A second mapping sees the same pages. */
	q = qt_bo_map(fd, h, 3 * 4096);
	qt_assert(q);
	qt_assert(!memcmp(p, q, 3 * 4096));
	munmap(p, 3 * 4096);
	munmap(q, 3 * 4096);
	close(fd);
	return QT_PASS;
}

static int test_invalid_flags(void)
{
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_eq(qt_bo_create(fd, 4096, 0, &h, NULL), 0);
	qt_assert_errno(mmap_offset(fd, h, 1, NULL), EINVAL);
	qt_assert_errno(mmap_offset(fd, h, 1u << 31, NULL), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_unknown_handle(void)
{
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(mmap_offset(fd, 0, 0, NULL), ENOENT);
	qt_assert_errno(mmap_offset(fd, 12345, 0, NULL), ENOENT);
	qt_assert_eq(qt_bo_create(fd, 4096, 0, &h, NULL), 0);
	qt_assert_eq(qt_gem_close(fd, h), 0);
	qt_assert_errno(mmap_offset(fd, h, 0, NULL), ENOENT);
	close(fd);
	return QT_PASS;
}

static int test_other_file_handle(void)
{
	int a = qt_open(), b = qt_open();
	uint32_t h;

	qt_assert(a >= 0 && b >= 0);
	qt_assert_eq(qt_bo_create(a, 4096, 0, &h, NULL), 0);
	qt_assert_errno(mmap_offset(b, h, 0, NULL), ENOENT);
	close(a);
	close(b);
	return QT_PASS;
}

static int test_bad_pointer(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(qt_ioctl(fd, DRM_IOCTL_QNPU_BO_MMAP_OFFSET,
				 (void *)8), EFAULT);
	close(fd);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "bo-mmap-offset-basic", test_basic },
	{ "bo-mmap-offset-invalid-flags", test_invalid_flags },
	{ "bo-mmap-offset-unknown-handle", test_unknown_handle },
	{ "bo-mmap-offset-other-file-handle", test_other_file_handle },
	{ "bo-mmap-offset-bad-pointer", test_bad_pointer },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
