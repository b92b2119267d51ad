// SPDX-License-Identifier: MIT
/*
 * Where SUBMIT's time goes (make trace-vm): a function_graph ftrace of the
 * qnpu ioctl path, rooted at drm_ioctl, for serial empty jobs (SUBMIT then
 * BO_WAIT) and for 16-entry batch SUBMITs. Prints the raw trace lines,
 * tagged "trace-serial:" and "trace-batch:", for scripts/vm/ftrace-sum.awk.
 * Kernel command line qnpu_trace_depth=N limits the graph's depth (default
 * 4: drm_ioctl, drm_ioctl_kernel, the ioctl, its callees); tracing costs
 * time per traced call, so a shallow graph gives the truer split. Only in
 * the trace VM run; the tracer is off again when it returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define TRACING		"/sys/kernel/debug/tracing/"
#define SERIAL_JOBS	40
#define BATCHES		10

static int trace_set(const char *file, const char *val)
{
	FILE *f = fopen(file, "w");
	int ret;

	if (!f) {
		printf("trace: %s: %s\n", file, strerror(errno));
		return -1;
	}
	ret = fputs(val, f) < 0;
	if (fclose(f) || ret) {
		printf("trace: writing %s to %s failed\n", val, file);
		return -1;
	}
	return 0;
}

/* Print the trace buffer with @tag before each line, then empty it. */
static int trace_dump(const char *tag)
{
	char line[512];
	FILE *f = fopen(TRACING "trace", "r");
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#') {
			printf("%s: %s", tag, line);
			n++;
		}
	fclose(f);
	fflush(stdout);
	printf("trace: %s: %ld lines\n", tag, n);
	return n ? trace_set(TRACING "trace", "") : -1;
}

static int trace_on(void)
{
	const char *depth = qt_cmdline("qnpu_trace_depth");

	return trace_set(TRACING "tracing_on", "0") ||
	       trace_set(TRACING "current_tracer", "nop") ||
	       trace_set(TRACING "trace", "") ||
	       trace_set(TRACING "set_graph_function", "drm_ioctl") ||
	       trace_set(TRACING "max_graph_depth", depth ? depth : "4") ||
	       trace_set(TRACING "options/funcgraph-tail", "1") ||
	       trace_set(TRACING "options/funcgraph-irqs", "0") ||
	       trace_set(TRACING "current_tracer", "function_graph") ||
	       trace_set(TRACING "tracing_on", "1");
}

/* Stop recording; the buffer stays until the tracer changes. */
static int trace_stop(void)
{
	return trace_set(TRACING "tracing_on", "0");
}

static int serial(struct qt_dev *d, int jobs)
{
	struct drm_qnpu_submit s;
	int i;

	for (i = 0; i < jobs; i++) {
		qt_dev_job(d, 0, 1, 0, &s);
		qt_assert_eq(qt_ioctl(d->fd, DRM_IOCTL_QNPU_SUBMIT, &s), 0);
		qt_assert_eq(qt_bo_wait(d->fd, d->info, 10000), 0);
		qt_assert_eq(d->infos[0].status, DRM_QNPU_JOB_OK);
	}
	return QT_PASS;
}

static int batched(struct qt_dev *d, int batches)
{
	struct drm_qnpu_submit b[QT_INFO_SLOTS];
	int i, k;

	for (k = 0; k < batches; k++) {
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_dev_job(d, 0, 1, i, &b[i]);
		qt_assert_eq(qt_submit_batch(d->fd, b, QT_INFO_SLOTS, NULL),
			     0);
		qt_assert_eq(qt_bo_wait(d->fd, d->info, 10000), 0);
		for (i = 0; i < QT_INFO_SLOTS; i++)
			qt_assert_eq(d->infos[i].status, DRM_QNPU_JOB_OK);
	}
	return QT_PASS;
}

static int test_trace(void)
{
	struct qt_dev d;
	int ret = QT_FAIL;

	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&d, 4), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	/* Warm: BO mappings written, info BO mapped, caches. */
	if (serial(&d, 10) || batched(&d, 2))
		goto out;
	if (trace_on() || serial(&d, SERIAL_JOBS) || trace_stop() ||
	    trace_dump("trace-serial"))
		goto out;
	if (trace_on() || batched(&d, BATCHES) || trace_stop() ||
	    trace_dump("trace-batch"))
		goto out;
	ret = QT_PASS;
out:
	trace_stop();
	trace_set(TRACING "current_tracer", "nop");
	qt_dev_close(&d);
	return ret;
}

static const struct qt_subtest tests[] = {
	{ "trace-submit", test_trace },
};

int main(int argc, char **argv)
{
	if (!qt_selected(argv[0])) {
		printf("SKIP: only in the trace VM run (make trace-vm)\n");
		return QT_SKIP;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
