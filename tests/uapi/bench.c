// SPDX-License-Identifier: MIT
/*
 * Benchmark (make bench-vm): the cost of an empty job (one SYNC command)
 * through DRM_IOCTL_QNPU_SUBMIT, the scheduler, the doorbell, qnpu-sim and
 * the completion, against a trivial ioctl (DRM_IOCTL_VERSION) and against
 * the raw doorbell-to-interrupt round trip (debugfs "roundtrip": the same
 * empty job put on the ring by the driver itself, timed from the doorbell
 * to the completion interrupt), all in the same VM run.
 *
 * Serial: submit, wait, repeat (waiting on the syncobj: the interrupt; or
 * with BO_WAIT on the info BO: the driver polls the completion ring
 * first). In flight: 16 jobs per round trip, as 16 SUBMITs or as one
 * batch SUBMIT. The host is shared and its load changes while we measure,
 * so every figure is taken in ROUNDS short interleaved rounds: the table
 * shows medians, and each ratio is the median of the rounds' own ratios
 * (both sides measured within a second of each other). Prints one table
 * (docs/performance.md). Only in the bench VM run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define ROUNDS		7
#define ROUND_NS	400000000LL	/* per measurement and round */

enum { IOCTL, RAW, SERIAL, SERIAL_POLL, SERIAL_SCHED, PIPED, BATCHED,
       NMODES };

static const char *const names[NMODES] = {
	"DRM_IOCTL_VERSION",
	"raw doorbell-to-interrupt (debugfs roundtrip)",
	"empty job, serial, syncobj wait",
	"empty job, serial, BO_WAIT (polls)",
	"empty job, serial, BO_WAIT, direct_submit=0",
	"16 in flight, one SUBMIT each, syncobj",
	"16 in flight, one batch SUBMIT, BO_WAIT",
};

/* Per round: the doorbell write alone, from the roundtrip file. */
static double doorbell_ns[ROUNDS];
/*
 * Per mode and round: completion interrupts the driver took per job, and
 * those that found nothing to retire (a poll was first).
 */
static double irqs[NMODES][ROUNDS], empty[NMODES][ROUNDS];
/*
 * Per mode and round, for the modes that wait with BO_WAIT: time in
 * SUBMIT and in BO_WAIT (ns per job).
 */
static double submit_ns[NMODES][ROUNDS], wait_ns[NMODES][ROUNDS];
static int round_no;

static double rate(int64_t t0, long n)
{
	return n / ((qt_now_ns() - t0) / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	double s[ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, ROUNDS, sizeof(s[0]), cmp_double);
	return s[ROUNDS / 2];
}

/* The driver's direct submission (docs/uapi.md) on ("1") or off ("0"). */
static int set_direct(const char *v)
{
	FILE *f = fopen("/sys/module/qnpu/parameters/direct_submit", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(v, f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* Jobs (or ioctls) per second of one mode, measured for ROUND_NS. */
static int measure(struct qt_dev *d, int mode, double *out)
{
	struct drm_qnpu_submit batch[QT_INFO_SLOTS];
	long n, raw, irq0 = qt_debugfs_count("rings", "irqs");
	long empty0 = qt_debugfs_count("rings", "irqs_empty");
	int64_t t0 = qt_now_ns(), end = t0 + ROUND_NS, t2;
	int64_t t1 = t0, in_submit = 0;
	struct drm_version v;
	bool split = false;
	int i;

	switch (mode) {
	case IOCTL:
		for (n = 0; qt_now_ns() < end; n++) {
			memset(&v, 0, sizeof(v));
			qt_assert_eq(qt_ioctl(d->fd, DRM_IOCTL_VERSION, &v), 0);
		}
		break;
	case RAW:
		/* 200 round trips; their median, in ns. */
		raw = qt_debugfs_count("roundtrip", "irq_median_ns");
		if (raw <= 0)
			qt_fail("debugfs roundtrip unreadable");
		doorbell_ns[round_no] = qt_debugfs_count("roundtrip",
							 "doorbell_median_ns");
		*out = 1e9 / raw;
		return QT_PASS;
	case SERIAL:
		for (n = 0; qt_now_ns() < end; n++) {
			qt_assert_eq(qt_dev_submit(d, 0, 1, NULL, 0, 0), 0);
			qt_assert_eq(qt_dev_wait(d, 0, 10000), 0);
			qt_assert_eq(d->infos[0].status, DRM_QNPU_JOB_OK);
		}
		break;
	case SERIAL_POLL:
	case SERIAL_SCHED:
		if (mode == SERIAL_SCHED && set_direct("0"))
			qt_fail("direct_submit not writable");
		for (n = 0; t1 < end; n++) {
			qt_dev_job(d, 0, 1, 0, &batch[0]);
			qt_assert_eq(qt_ioctl(d->fd, DRM_IOCTL_QNPU_SUBMIT,
					      &batch[0]), 0);
			t2 = qt_now_ns();
			in_submit += t2 - t1;
			qt_assert_eq(qt_bo_wait(d->fd, d->info, 10000), 0);
			t1 = qt_now_ns();
			qt_assert_eq(d->infos[0].done, 1);
			qt_assert_eq(d->infos[0].status, DRM_QNPU_JOB_OK);
		}
		if (mode == SERIAL_SCHED && set_direct("1"))
			qt_fail("direct_submit not writable");
		split = true;
		break;
	case PIPED:
		for (n = 0; qt_now_ns() < end; n += QT_INFO_SLOTS) {
			for (i = 0; i < QT_INFO_SLOTS; i++)
				qt_assert_eq(qt_dev_submit(d, 0, 1, NULL, 0,
							   i), 0);
			qt_assert_eq(qt_dev_wait(d, QT_INFO_SLOTS - 1, 10000),
				     0);
			for (i = 0; i < QT_INFO_SLOTS; i++)
				qt_assert_eq(d->infos[i].status,
					     DRM_QNPU_JOB_OK);
		}
		break;
	default:
		for (n = 0; t1 < end; n += QT_INFO_SLOTS) {
			for (i = 0; i < QT_INFO_SLOTS; i++)
				qt_dev_job(d, 0, 1, i, &batch[i]);
			qt_assert_eq(qt_submit_batch(d->fd, batch,
						     QT_INFO_SLOTS, NULL), 0);
			t2 = qt_now_ns();
			in_submit += t2 - t1;
			qt_assert_eq(qt_bo_wait(d->fd, d->info, 10000), 0);
			t1 = qt_now_ns();
			for (i = 0; i < QT_INFO_SLOTS; i++) {
				qt_assert_eq(d->infos[i].done, 1);
				qt_assert_eq(d->infos[i].status,
					     DRM_QNPU_JOB_OK);
			}
		}
		split = true;
		break;
	}
	if (split) {
		submit_ns[mode][round_no] = in_submit / (double)n;
		wait_ns[mode][round_no] = (t1 - t0 - in_submit) / (double)n;
	}
	*out = rate(t0, n);
	irqs[mode][round_no] = (qt_debugfs_count("rings", "irqs") - irq0) /
			       (double)n;
	empty[mode][round_no] = (qt_debugfs_count("rings", "irqs_empty") -
				 empty0) / (double)n;
	return QT_PASS;
}

static int test_bench(void)
{
	double r[NMODES][ROUNDS], to_ioctl[NMODES][ROUNDS];
	double to_raw[NMODES][ROUNDS], speedup[ROUNDS];
	struct qt_dev d;
	int m, k;

	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&d, 4), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);

	for (k = 0; k < ROUNDS; k++) {
		round_no = k;
		for (m = 0; m < NMODES; m++)
			if (measure(&d, m, &r[m][k]) != QT_PASS)
				return QT_FAIL;
		for (m = 0; m < NMODES; m++) {
			to_ioctl[m][k] = r[IOCTL][k] / r[m][k];
			to_raw[m][k] = r[RAW][k] / r[m][k];
		}
	}

	printf("bench: %d rounds of %.1f s per row; medians\n", ROUNDS,
	       ROUND_NS / 1e9);
	printf("bench: | %-45s | %12s | %10s | %9s | %9s | %7s | %9s |\n",
	       "what", "rate", "per job", "x ioctl", "x raw", "irq/job",
	       "empty/job");
	printf("bench: |%s|%s|%s|%s|%s|%s|%s|\n", "------------------------------"
	       "-----------------", "--------------", "------------",
	       "-----------", "-----------", "---------", "-----------");
	for (m = 0; m < NMODES; m++)
		printf("bench: | %-45s | %9.0f /s | %7.1f us | %9.1f | %9.2f "
		       "| %7.2f | %9.2f |\n", names[m], median(r[m]),
		       1e6 / median(r[m]), median(to_ioctl[m]),
		       median(to_raw[m]), m <= RAW ? 0 : median(irqs[m]),
		       m <= RAW ? 0 : median(empty[m]));
	printf("bench: of the raw round trip, the doorbell write alone: "
	       "%.1f us\n", median(doorbell_ns) / 1e3);
	printf("bench: serial empty job (BO_WAIT) / raw round trip: %.2f "
	       "(target <= 2)\n", median(to_raw[SERIAL_POLL]));
	printf("bench: of a serial BO_WAIT job: SUBMIT %.1f us, BO_WAIT %.1f us "
	       "(medians)\n", median(submit_ns[SERIAL_POLL]) / 1e3,
	       median(wait_ns[SERIAL_POLL]) / 1e3);
	for (k = 0; k < ROUNDS; k++)
		speedup[k] = r[SERIAL_POLL][k] / r[SERIAL_SCHED][k];
	printf("bench: direct submission speeds a serial job up %.2fx "
	       "(median of the rounds)\n", median(speedup));
	printf("bench: of a batched job: SUBMIT %.1f us, BO_WAIT %.1f us "
	       "(medians, per job)\n", median(submit_ns[BATCHED]) / 1e3,
	       median(wait_ns[BATCHED]) / 1e3);
	printf("bench: trivial ioctl / job rate, 16 in flight in one batch: "
	       "%.1f (target <= 10)\n", median(to_ioctl[BATCHED]));
	qt_dev_close(&d);
	/*
	 * A job waited for on its syncobj, with nothing polling, ends by its
	 * interrupt (the heartbeat is 1 s): the counter counts it.
	 */
	qt_assert(median(irqs[SERIAL]) > 0.5 && median(irqs[SERIAL]) < 1.5);
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
