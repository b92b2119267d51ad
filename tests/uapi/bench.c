// SPDX-License-Identifier: MIT
/*
 * Benchmark (make bench-vm): jobs per second for an empty command stream
 * (one SYNC) through DRM_IOCTL_QNPU_SUBMIT, the scheduler, the doorbell,
 * qnpu-sim and the completion interrupt, against a trivial ioctl
 * (DRM_IOCTL_VERSION) in the same VM. Serial: submit, wait, repeat;
 * pipelined: keep up to 16 jobs in flight. Only in the bench VM run.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define SECONDS	3

static double rate(int64_t t0, long n)
{
	return n / ((qt_now_ns() - t0) / 1e9);
}

static int test_bench(void)
{
	int64_t t0, end;
	double ioctls, serial, piped;
	struct drm_version v;
	struct qt_dev d;
	long n;
	int i;

	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&d, 4), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n++) {
		memset(&v, 0, sizeof(v));
		qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_VERSION, &v), 0);
	}
	ioctls = rate(t0, n);

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n++) {
		qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
		qt_assert_eq(qt_dev_wait(&d, 0, 10000), 0);
		qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	}
	serial = rate(t0, n);

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n += QT_INFO_SLOTS) {
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, i), 0);
		qt_assert_eq(qt_dev_wait(&d, QT_INFO_SLOTS - 1, 10000), 0);
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_assert_eq(d.infos[i].status, DRM_QNPU_JOB_OK);
	}
	piped = rate(t0, n);

	printf("bench: DRM_IOCTL_VERSION %.0f/s; empty job %.0f/s serial "
	       "(%.1f us), %.0f/s with %d in flight\n", ioctls, serial,
	       1e6 / serial, piped, QT_INFO_SLOTS);
	printf("bench: ratio ioctl/job %.1f serial, %.1f pipelined\n",
	       ioctls / serial, ioctls / piped);
	qt_dev_close(&d);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "bench-empty-job-vs-ioctl", test_bench },
};

int main(int argc, char **argv)
{
	if (!qt_selected(argv[0])) {
		printf("SKIP: only in the benchmark VM run (make bench-vm)\n");
		return QT_SKIP;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
