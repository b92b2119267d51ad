// SPDX-License-Identifier: MIT
/* DRM_IOCTL_QNPU_GET_PARAM: every parameter, every invalid argument. */
#include <errno.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

static int get(int fd, uint32_t param, uint32_t pad, uint64_t *value)
{
	struct drm_qnpu_get_param p = { .param = param, .pad = pad };
	int ret = qt_ioctl(fd, DRM_IOCTL_QNPU_GET_PARAM, &p);

	if (value)
		*value = p.value;
	return ret;
}

static int test_basic(void)
{
	uint64_t v, rows, cols, start, end;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_VERSION, 0, &v), 0);
	qt_assert_eq(v >> 16, QNPU_VERSION_MAJOR);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_HW_ROWS, 0, &rows), 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_HW_COLS, 0, &cols), 0);
	qt_assert(rows == 8 || rows == 16 || rows == 32);
	qt_assert(cols == 8 || cols == 16 || cols == 32);
	for (v = DRM_QNPU_PARAM_ABUF_BYTES; v <= DRM_QNPU_PARAM_OBUF_BYTES;
	     v++) {
		uint64_t bytes;

		qt_assert_eq(get(fd, v, 0, &bytes), 0);
		qt_assert(bytes > 0 && !(bytes & (bytes - 1)));
	}
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_CMD_BYTES, 0, &v), 0);
	qt_assert_eq(v, QNPU_CMD_BYTES);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_VA_BITS, 0, &v), 0);
	qt_assert_eq(v, QNPU_VA_BITS);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_VA_START, 0, &start), 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_VA_END, 0, &end), 0);
	qt_assert(start > 0 && start < end && end == 1ULL << QNPU_VA_BITS);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_MAX_BO_SIZE, 0, &v), 0);
	qt_assert(v >= 1 << 20);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_MAX_CMD_BYTES, 0, &v), 0);
	qt_assert(v >= QNPU_CMD_BYTES);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_DEVICE_LOST, 0, &v), 0);
	qt_assert_eq(v, 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_MAX_BATCH, 0, &v), 0);
	qt_assert_eq(v, DRM_QNPU_MAX_BATCH);
	close(fd);
	return QT_PASS;
}

/*
 * The memory system (programming model 1.1): defined on this device, in
 * the ranges a DTB may give (hw-model/capi/qnpu_hw.cpp). That they are
 * the DTB's values, qnpu-80-drm-golden shows: drm's cycles equal sim's
 * for the same DTB only if the compiler planned for the same memory.
 */
static int test_memory(void)
{
	uint64_t v, cols, dma, qd, lat, bpc, out;
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_VERSION, 0, &v), 0);
	qt_assert((v & 0xffff) >= 1);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_HW_COLS, 0, &cols), 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_DMA_BYTES, 0, &dma), 0);
	qt_assert(dma >= 1 && dma <= cols && !(dma & (dma - 1)));
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_QUEUE_DEPTH, 0, &qd), 0);
	qt_assert(qd >= 2 && qd <= 64 && !(qd & (qd - 1)));
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_MEM_LATENCY, 0, &lat), 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_MEM_BYTES_PER_CYCLE, 0, &bpc), 0);
	qt_assert_eq(get(fd, DRM_QNPU_PARAM_MEM_OUTSTANDING, 0, &out), 0);
	qt_assert(lat <= 10000 && bpc <= 4096 && out <= 1024);
	printf("  DMA %llu B/cycle, queues %llu, memory: latency %llu, %llu B/cycle, %llu outstanding\n",
	       (unsigned long long)dma, (unsigned long long)qd,
	       (unsigned long long)lat, (unsigned long long)bpc,
	       (unsigned long long)out);
	close(fd);
	return QT_PASS;
}

static int test_invalid_param(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(get(fd, DRM_QNPU_PARAM_MEM_OUTSTANDING + 1, 0, NULL),
			EINVAL);
	qt_assert_errno(get(fd, 0xffffffff, 0, NULL), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_nonzero_pad(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(get(fd, DRM_QNPU_PARAM_VERSION, 1, NULL), EINVAL);
	close(fd);
	return QT_PASS;
}

static int test_bad_pointer(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(qt_ioctl(fd, DRM_IOCTL_QNPU_GET_PARAM, (void *)8),
			EFAULT);
	close(fd);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "get-param-basic", test_basic },
	{ "get-param-memory", test_memory },
	{ "get-param-invalid-param", test_invalid_param },
	{ "get-param-nonzero-pad", test_nonzero_pad },
	{ "get-param-bad-pointer", test_bad_pointer },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
