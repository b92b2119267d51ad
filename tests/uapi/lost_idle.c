// SPDX-License-Identifier: MIT
/*
 * Device lost while idle: qnpu-sim dies after N doorbells
 * (--exit-after-doorbells, tests/uapi/vm-device.sh --lost-idle), with no
 * job on the device. Only the heartbeat's reset handshake can notice:
 * DRM_QNPU_PARAM_DEVICE_LOST must read 1 without a single submit, new
 * submits fail with ENODEV, the module unloads.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

static int test_device_lost_idle(void)
{
	struct drm_qnpu_submit s;
	struct qt_dev d;
	int64_t t0;
	uint64_t lost;

	qt_assert_eq(qt_module_reload("heartbeat_ms=200 reset_timeout_ms=500"),
		     0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&d, 4), 0);
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	qt_assert_eq(qt_dev_submit(&d, 0, 1, NULL, 0, 0), 0);
	qt_assert_eq(qt_dev_wait(&d, 0, 30000), 0);
	qt_assert_eq(d.infos[0].status, DRM_QNPU_JOB_OK);

	/* Idle from here on: the heartbeats use up qnpu-sim's doorbells. */
	t0 = qt_now_ns();
	do {
		lost = qt_get_param(d.fd, DRM_QNPU_PARAM_DEVICE_LOST);
		if (lost == 1)
			break;
		usleep(100000);
	} while (qt_now_ns() - t0 < 30 * 1000000000LL);
	printf("idle device lost noticed after %.1f s, heartbeats %ld\n",
	       (qt_now_ns() - t0) / 1e9,
	       qt_debugfs_count("rings", "heartbeats"));
	qt_assert_eq(lost, 1);

	memset(&s, 0, sizeof(s));
	s.cmd_handle = d.cmd;
	s.cmd_size = QNPU_CMD_BYTES;
	qt_assert_errno(qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s), ENODEV);
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, 10000), 0);
	qt_assert_eq(qt_module_unload(), 0);
	qt_assert(qt_taint_ok());
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "device-lost-idle-heartbeat", test_device_lost_idle },
};

int main(int argc, char **argv)
{
	if (!qt_selected(argv[0])) {
		printf("SKIP: only in the idle device-lost VM run "
		       "(make vm-check-lost-idle)\n");
		return QT_SKIP;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
