// SPDX-License-Identifier: MIT
/*
 * Benchmark (make bench-vm): the cost of an empty job (one SYNC command)
 * through DRM_IOCTL_QNPU_SUBMIT, the scheduler, the doorbell, qnpu-sim and
 * the completion, against a trivial ioctl (DRM_IOCTL_VERSION) and against
 * the raw doorbell-to-interrupt round trip (debugfs "roundtrip": the same
 * empty job put on the ring by the driver itself, timed from the doorbell
 * to the completion interrupt), all in the same VM run. Serial: submit,
 * wait, repeat (waiting on the syncobj: the interrupt; or with BO_WAIT on
 * the info BO: the driver polls the completion ring first). In flight: 16
 * jobs per round, as 16 SUBMITs or as one batch SUBMIT. Prints one table
 * (docs/performance.md). Only in the bench VM run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define SECONDS	3
#define ROUNDS	5	/* roundtrip reads: the median of their medians */

static double rate(int64_t t0, long n)
{
	return n / ((qt_now_ns() - t0) / 1e9);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* Median over ROUNDS reads of debugfs roundtrip's irq_median_ns. */
static long raw_roundtrip_ns(void)
{
	long v[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		v[i] = qt_debugfs_count("roundtrip", "irq_median_ns");
		if (v[i] <= 0)
			return -1;
	}
	qsort(v, ROUNDS, sizeof(v[0]), cmp_long);
	return v[ROUNDS / 2];
}

static void row(const char *what, double r, double ioctls)
{
	printf("bench: | %-44s | %9.0f /s | %7.1f us | %6.1f |\n", what, r,
	       1e6 / r, ioctls / r);
}

static int test_bench(void)
{
	struct drm_qnpu_submit batch[QT_INFO_SLOTS];
	double ioctls, serial, serial_poll, piped, batched;
	int64_t t0, end;
	struct drm_version v;
	struct qt_dev d;
	long n, raw;
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

	raw = raw_roundtrip_ns();
	if (raw <= 0)
		qt_fail("debugfs roundtrip unreadable");

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n++) {
		qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
		qt_assert_eq(qt_dev_wait(&d, 0, 10000), 0);
		qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	}
	serial = rate(t0, n);

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n++) {
		qt_dev_job(&d, 0, 1, 0, &batch[0]);
		qt_assert_eq(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &batch[0]),
			     0);
		qt_assert_eq(qt_bo_wait(d.fd, d.info, 10000), 0);
		qt_assert_eq(d.infos[0].done, 1);
		qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);
	}
	serial_poll = rate(t0, n);

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n += QT_INFO_SLOTS) {
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, i), 0);
		qt_assert_eq(qt_dev_wait(&d, QT_INFO_SLOTS - 1, 10000), 0);
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_assert_eq(d.infos[i].status, DRM_QNPU_JOB_OK);
	}
	piped = rate(t0, n);

	end = (t0 = qt_now_ns()) + SECONDS * 1000000000LL;
	for (n = 0; qt_now_ns() < end; n += QT_INFO_SLOTS) {
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_dev_job(&d, 0, 1, i, &batch[i]);
		qt_assert_eq(qt_submit_batch(d.fd, batch, QT_INFO_SLOTS,
					     NULL), 0);
		qt_assert_eq(qt_bo_wait(d.fd, d.info, 10000), 0);
		for (i = 0; i < QT_INFO_SLOTS; i++) {
			qt_assert_eq(d.infos[i].done, 1);
			qt_assert_eq(d.infos[i].status, DRM_QNPU_JOB_OK);
		}
	}
	batched = rate(t0, n);

	printf("bench: | %-44s | %12s | %10s | %6s |\n", "what", "rate",
	       "per job", "ioctls");
	printf("bench: |%s|%s|%s|%s|\n", "----------------------------------"
	       "------------", "--------------", "------------", "--------");
	row("DRM_IOCTL_VERSION", ioctls, ioctls);
	row("raw doorbell-to-interrupt (debugfs roundtrip)", 1e9 / raw,
	    ioctls);
	row("empty job, serial, syncobj wait", serial, ioctls);
	row("empty job, serial, BO_WAIT (polls)", serial_poll, ioctls);
	row("16 in flight, one SUBMIT each, syncobj", piped, ioctls);
	row("16 in flight, one batch SUBMIT, BO_WAIT", batched, ioctls);
	printf("bench: serial empty job (BO_WAIT) / raw round trip: %.2f "
	       "(target <= 2)\n", 1e9 / serial_poll / raw);
	printf("bench: trivial ioctl / batched job rate: %.1f "
	       "(target <= 10)\n", ioctls / batched);
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
