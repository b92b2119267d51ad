// SPDX-License-Identifier: MIT
/* DRM_IOCTL_QNPU_BO_CREATE: addresses, per-file spaces, every invalid
 * argument, debugfs accounting. */
#include <errno.h>
#include <unistd.h>

#include "qnpu_test.h"

static int create(int fd, uint64_t size, uint32_t flags, uint32_t *h,
		  uint64_t *va)
{
	return qt_bo_create(fd, size, flags, h, va);
}

static int test_basic(void)
{
	uint64_t va[3], start, end;
	uint32_t h[3];
	int fd = qt_open(), i;

	qt_assert(fd >= 0);
	start = qt_get_param(fd, DRM_QNPU_PARAM_VA_START);
	end = qt_get_param(fd, DRM_QNPU_PARAM_VA_END);
	qt_assert_eq(create(fd, 1, 0, &h[0], &va[0]), 0);
	qt_assert_eq(create(fd, 5000, DRM_QNPU_BO_READONLY, &h[1], &va[1]),
		     0);
	qt_assert_eq(create(fd, 1 << 20, 0, &h[2], &va[2]), 0);
	for (i = 0; i < 3; i++) {
		qt_assert(h[i] != 0);
		qt_assert(va[i] >= start && va[i] < end);
		qt_assert_eq(va[i] % 4096, 0);
	}
	/* Sizes round up to pages; BOs never overlap. */
	qt_assert(va[1] >= va[0] + 4096 || va[0] >= va[1] + 8192);
	qt_assert(va[2] >= va[1] + 8192 || va[1] >= va[2] + (1 << 20));
	close(fd);
	return QT_PASS;
}

static int test_per_file_address_space(void)
{
	int a = qt_open(), b = qt_open();
	struct drm_qnpu_bo_mmap_offset m = { 0 };
	uint64_t va_a, va_b;
	uint32_t ha, hb;

	qt_assert(a >= 0 && b >= 0);
	qt_assert_eq(create(a, 4096, 0, &ha, &va_a), 0);
	qt_assert_eq(create(b, 4096, 0, &hb, &va_b), 0);
	/* Two empty spaces hand out the same first address ... */
	qt_assert_eq(va_a, va_b);
	/* ... and a handle means nothing in another file. */
	m.handle = ha;
	if (ha != hb)
		qt_assert_errno(qt_ioctl(b, DRM_IOCTL_QNPU_BO_MMAP_OFFSET, &m),
				ENOENT);
	close(a);
	close(b);
	return QT_PASS;
}

static int test_invalid_flags(void)
{
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(create(fd, 4096, 1u << 1, &h, NULL), EINVAL);
	qt_assert_errno(create(fd, 4096, 1u << 31, &h, NULL), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_zero_size(void)
{
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(create(fd, 0, 0, &h, NULL), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_too_large(void)
{
	uint64_t max;
	uint32_t h;
	int fd = qt_open();

	qt_assert(fd >= 0);
	max = qt_get_param(fd, DRM_QNPU_PARAM_MAX_BO_SIZE);
	qt_assert_errno(create(fd, max + 1, 0, &h, NULL), EINVAL);
	qt_assert_errno(create(fd, ~0ULL, 0, &h, NULL), EINVAL);
	qt_assert_errno(create(fd, 1ULL << 63, 0, &h, NULL), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_bad_pointer(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(qt_ioctl(fd, DRM_IOCTL_QNPU_BO_CREATE, (void *)8),
			EFAULT);
	close(fd);
	return QT_PASS;
}

static int test_debugfs_counts(void)
{
	long bos0 = qt_debugfs_count("bos", "bos");
	long ctx0 = qt_debugfs_count("contexts", "contexts");
	uint32_t h[4];
	int fd, i;

	if (bos0 < 0 || ctx0 < 0)
		qt_skip("no debugfs counts under %s", qt_debugfs);
	/* Freed BOs go from a worker: start from what earlier tests left. */
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	bos0 = ctx0 = 0;
	fd = qt_open();
	qt_assert(fd >= 0);
	qt_assert_eq(qt_debugfs_count("contexts", "contexts"), ctx0 + 1);
	for (i = 0; i < 4; i++)
		qt_assert_eq(create(fd, 4096 * (i + 1), 0, &h[i], NULL), 0);
	qt_assert_eq(qt_debugfs_count("bos", "bos"), bos0 + 4);
	qt_assert_eq(qt_gem_close(fd, h[0]), 0);
	/* The file has no job: the BO goes at once (from a worker). */
	qt_assert_eq(qt_wait_counts(bos0 + 3, ctx0 + 1, 2000), 0);
	/* Closing the file frees the rest and the context. */
	close(fd);
	qt_assert_eq(qt_wait_counts(bos0, ctx0, 2000), 0);
	return QT_PASS;
}

/* At most max_bos_per_file BOs per file: ENOSPC, another file unaffected. */
static int test_file_bo_limit(void)
{
	uint32_t h[9];
	int fd, other, i;

	qt_assert_eq(qt_module_reload("max_bos_per_file=8"), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	fd = qt_open();
	other = qt_open();
	qt_assert(fd >= 0 && other >= 0);
	for (i = 0; i < 8; i++)
		qt_assert_eq(qt_bo_create(fd, 4096, 0, &h[i], NULL), 0);
	qt_assert_errno(qt_bo_create(fd, 4096, 0, &h[8], NULL), ENOSPC);
	qt_assert_eq(qt_bo_create(other, 4096, 0, &h[8], NULL), 0);
	/* Freed (the file has no job): room again. */
	qt_assert_eq(qt_gem_close(fd, h[0]), 0);
	qt_assert_eq(qt_wait_counts(8, 2, 5000), 0);
	qt_assert_eq(qt_bo_create(fd, 4096, 0, &h[0], NULL), 0);
	close(fd);
	close(other);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return QT_PASS;
}

/* At most max_mib_per_file MiB of BOs per file; MAX_BO_SIZE says so. */
static int test_file_bytes_limit(void)
{
	uint32_t h;
	int fd;

	qt_assert_eq(qt_module_reload("max_mib_per_file=1"), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	fd = qt_open();
	qt_assert(fd >= 0);
	qt_assert_eq(qt_get_param(fd, DRM_QNPU_PARAM_MAX_BO_SIZE), 1 << 20);
	qt_assert_errno(qt_bo_create(fd, (1 << 20) + 1, 0, &h, NULL), ENOSPC);
	qt_assert_eq(qt_bo_create(fd, 512 << 10, 0, &h, NULL), 0);
	qt_assert_eq(qt_bo_create(fd, 512 << 10, 0, &h, NULL), 0);
	qt_assert_errno(qt_bo_create(fd, 4096, 0, &h, NULL), ENOSPC);
	close(fd);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "bo-create-basic", test_basic },
	{ "bo-create-per-file-address-space", test_per_file_address_space },
	{ "bo-create-invalid-flags", test_invalid_flags },
	{ "bo-create-zero-size", test_zero_size },
	{ "bo-create-too-large", test_too_large },
	{ "bo-create-bad-pointer", test_bad_pointer },
	{ "bo-create-debugfs-counts", test_debugfs_counts },
	{ "bo-create-file-bo-limit", test_file_bo_limit },
	{ "bo-create-file-bytes-limit", test_file_bytes_limit },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
