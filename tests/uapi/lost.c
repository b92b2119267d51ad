// SPDX-License-Identifier: MIT
/*
 * Device lost: qnpu-sim dies mid-run (qnpu-sim --exit-after-doorbells=N,
 * only in the device-lost VM run, tests/uapi/vm-device.sh --lost). The driver must
 * notice through its job timeout and a reset that is never acknowledged,
 * fail the pending jobs with DEVICE_LOST, refuse new submits with ENODEV,
 * report the state, and still unload.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define BATCH	4
#define WAIT_MS	60000

static int test_device_lost(void)
{
	struct drm_qnpu_submit s;
	int batch, i, ok = 0, lost = 0;
	long q;
	struct qt_dev d;

	qt_assert_eq(qt_module_reload("job_timeout_s=2 reset_timeout_ms=500"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&d, 64), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);

	for (batch = 0; batch < 100 && !lost; batch++) {
		for (i = 0; i < BATCH; i++)
			qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, i), 0);
		qt_assert_eq(qt_dev_wait(&d, BATCH - 1, WAIT_MS), 0);
		for (i = 0; i < BATCH; i++) {
			uint32_t st = d.infos[i].status;

			qt_assert_eq(d.infos[i].done, 1);
			if (st == DRM_QNPU_JOB_OK && !lost) {
				ok++;
				continue;
			}
			/* Once lost, every later job of the batch is too;
			 * the one the timeout caught may say HANG. */
			qt_assert(st == DRM_QNPU_JOB_DEVICE_LOST ||
				  (!lost && st == DRM_QNPU_JOB_HANG));
			lost++;
		}
	}
	printf("%d jobs completed, %d failed after qnpu-sim died\n", ok, lost);
	qt_assert(ok > 0 && lost > 0);
	qt_assert_eq(qt_get_param(d.fd, DRM_QNPU_PARAM_DEVICE_LOST), 1);

	/* New jobs fail at once. */
	memset(&s, 0, sizeof(s));
	s.cmd_handle = d.cmd;
	s.cmd_size = QNPU_CMD_BYTES;
	qt_assert_errno(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), ENODEV);

	/*
	 * The job on the device when it was lost never saw an acknowledged
	 * reset: the device may still write its memory, so its BOs and
	 * context stay allocated (quarantined) until the module lets go of
	 * the device, after the file is closed too.
	 */
	q = qt_debugfs_count("rings", "quarantined");
	printf("quarantined jobs: %ld\n", q);
	qt_assert(q >= 1);
	qt_dev_close(&d);
	usleep(500000);
	qt_assert(qt_debugfs_count("bos", "bos") > 0);
	qt_assert(qt_debugfs_count("contexts", "contexts") > 0);
	qt_assert_eq(qt_module_unload(), 0);
	qt_assert(qt_taint_ok());
	printf("module unloaded with the device lost\n");
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "device-lost", test_device_lost },
};

int main(int argc, char **argv)
{
	if (!qt_selected(argv[0])) {
		printf("SKIP: only in the device-lost VM run "
		       "(make vm-check-lost)\n");
		return QT_SKIP;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
