// SPDX-License-Identifier: MIT
/*
 * Process lifetime: a process that exits with BOs and jobs outstanding,
 * and one killed while its job runs, leave debugfs's BO and context counts
 * at zero once their jobs are gone; the module unloads and reloads after
 * each, and the device works after the reload.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sync_file.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define WAIT_MS	60000

/* Many LOADs of the whole ABUF from one BO. */
static int queue_long_jobs(struct qt_dev *d, int jobs, uint32_t ncmds)
{
	uint32_t bo;
	int j;

	if (qt_dev_long_cmds(d, 0, ncmds, &bo))
		return -1;
	for (j = 0; j < jobs; j++)
		if (qt_dev_submit(d, 0, ncmds, &bo, 1, j % QT_INFO_SLOTS))
			return -1;
	return 0;
}

/*
 * @batches batch SUBMITs of QT_INFO_SLOTS long jobs each, every job
 * listing the BO its LOADs read: more than the ring holds, so the last
 * ones wait in the driver's backlog.
 */
static int queue_long_batches(struct qt_dev *d, int batches, uint32_t ncmds,
			      uint32_t *bo)
{
	struct drm_qnpu_submit batch[QT_INFO_SLOTS];
	uint32_t i;
	int b;

	if (qt_dev_long_cmds(d, 0, ncmds, bo))
		return -1;
	for (i = 0; i < QT_INFO_SLOTS; i++) {
		qt_dev_job(d, 0, ncmds, i, &batch[i]);
		batch[i].bo_handles = (uintptr_t)bo;
		batch[i].bo_count = 1;
	}
	for (b = 0; b < batches; b++)
		if (qt_submit_batch(d->fd, batch, QT_INFO_SLOTS, NULL))
			return -1;
	return 0;
}

static int device_works(void)
{
	struct qt_dev d;
	int ok;

	if (qt_dev_open(&d, 4))
		return 0;
	memset(d.cmds, 0, sizeof(d.cmds[0]));
	QT_SET(&d.cmds[0], OPCODE, QNPU_OP_SYNC);
	ok = !qt_dev_submit(&d, 0, 1, NULL, 0, 0) &&
	     !qt_dev_wait(&d, 0, WAIT_MS) &&
	     d.infos[0].status == DRM_QNPU_JOB_OK;
	qt_dev_close(&d);
	return ok;
}

static int after(void)
{
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert(device_works());
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	return QT_PASS;
}

static int test_exit_outstanding(void)
{
	int status;
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	c = fork();
	qt_assert(c >= 0);
	if (c == 0) {
		struct qt_dev d;
		uint32_t h;
		int i;

		if (qt_dev_open(&d, 64))
			_exit(2);
		for (i = 0; i < 5; i++)
			if (qt_dev_bo(&d, 8192, 0, &h, NULL, NULL))
				_exit(2);
		if (queue_long_jobs(&d, 8, 16))
			_exit(3);
		/* exit without waiting, closing or unmapping anything */
		_exit(0);
	}
	qt_assert_eq(waitpid(c, &status, 0), c);
	qt_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return after();
}

/* The child: four long jobs queued. */
static int long_jobs_child(void *arg)
{
	struct qt_dev d;

	(void)arg;
	if (qt_dev_open(&d, 512) || queue_long_jobs(&d, 4, 512))
		return 2;
	return 0;
}

static int test_killed_mid_job(void)
{
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	c = qt_fork_ready(long_jobs_child, NULL);
	qt_assert(c > 0);
	usleep(300000);
	/* The first job is on the device now; the others are queued. */
	printf("rings while the child runs:\n");
	fflush(stdout);
	if (system("cat /sys/kernel/debug/dri/*/rings 2>/dev/null | sort -u"))
		printf("(no rings file)\n");
	qt_assert_eq(qt_kill_child(c), 0);
	return after();
}

/* Pass an fd to the other end of a Unix socket. */
static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, b = 'f';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The fence of a sync_file: 1 signaled, 0 active, < 0 its error. */
static int sync_file_status(int fd, int timeout_ms)
{
	struct sync_file_info info = { 0 };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) < 0)
		return -1000;
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -1001;
	return info.status;
}

/*
 * A job still queued (it waits for its predecessor to finish) when its
 * process is killed is never run: its fence signals with -ECANCELED (the
 * driver cancels it, info CANCELED), or -ESRCH if the scheduler dropped
 * it first (docs/uapi.md).
 */
static int test_killed_queued_esrch(void)
{
	int sv[2], status, sf;
	pid_t c;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = fork();
	qt_assert(c >= 0);
	if (c == 0) {
		struct drm_syncobj_handle h = {
			.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
		};
		struct drm_qnpu_sync in, out;
		struct drm_qnpu_submit s;
		uint32_t second;
		struct qt_dev a, b;

		close(sv[0]);
		if (qt_dev_open(&a, 512) || queue_long_jobs(&a, 1, 512) ||
		    qt_dev_open(&b, 4) || qt_syncobj_create(b.fd, &second))
			_exit(2);
		/*
		 * B's job waits for A's to finish: another file's job (one
		 * file's own jobs simply follow each other on the ring).
		 */
		h.handle = a.sync;
		if (qt_ioctl(a.fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h))
			_exit(3);
		h.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE;
		h.handle = b.sync;
		if (qt_ioctl(b.fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h))
			_exit(4);
		close(h.fd);
		memset(b.cmds, 0, sizeof(b.cmds[0]));
		QT_SET(&b.cmds[0], OPCODE, QNPU_OP_SYNC);
		memset(&s, 0, sizeof(s));
		in = (struct drm_qnpu_sync){ .handle = b.sync };
		out = (struct drm_qnpu_sync){ .handle = second };
		s.cmd_handle = b.cmd;
		s.cmd_size = QNPU_CMD_BYTES;
		s.in_syncs = (uintptr_t)&in;
		s.in_sync_count = 1;
		s.out_syncs = (uintptr_t)&out;
		s.out_sync_count = 1;
		s.info_handle = b.info;
		if (qt_ioctl(b.fd, DRM_IOCTL_QNPU_SUBMIT, &s))
			_exit(5);
		h.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE;
		h.handle = second;
		h.fd = -1;
		if (qt_ioctl(b.fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h) ||
		    send_fd(sv[1], h.fd))
			_exit(6);
		for (;;)
			pause();
	}
	close(sv[1]);
	sf = recv_fd(sv[0]);
	close(sv[0]);
	qt_assert(sf >= 0);
	qt_assert_eq(sync_file_status(sf, 0), 0);
	qt_assert_eq(qt_kill_child(c), 0);
	status = sync_file_status(sf, WAIT_MS);
	printf("queued job of the killed process: fence status %d\n", status);
	qt_assert(status == -ECANCELED || status == -ESRCH);
	close(sf);
	return after();
}

/* The PCI device qnpu is bound to, from the driver's sysfs directory. */
static int bound_device(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/drivers/qnpu");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strchr(de->d_name, ':')) {
			snprintf(bdf, len, "%s", de->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

static int sysfs_write(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0;
	ret |= fclose(f) != 0;
	return ret ? -1 : 0;
}

/*
 * PCI unbind through sysfs while two files have jobs on the device and
 * queued, one BO mapped: no hang; the files' ioctls fail with ENODEV,
 * their jobs end, nothing leaks once they close (counts over every
 * device), the module still unloads; rebind and the device works. With
 * @batches, the first file's jobs came as that many batch SUBMITs, the
 * later ones still in the driver's backlog at the unbind.
 */
static int unbind_rebind(int batches)
{
	struct drm_qnpu_submit s;
	struct qt_dev a, b;
	char bdf[300];
	uint8_t *map;
	uint32_t h, abo;
	int ret;

	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	if (bound_device(bdf, sizeof(bdf)))
		qt_skip("qnpu is bound to no PCI device");
	qt_assert_eq(qt_dev_open(&a, 512), 0);
	qt_assert_eq(qt_dev_open(&b, 512), 0);
	if (batches)
		qt_assert_eq(queue_long_batches(&a, batches, 512, &abo), 0);
	else
		qt_assert_eq(queue_long_jobs(&a, 6, 512), 0);
	qt_assert_eq(queue_long_jobs(&b, 6, 512), 0);
	qt_assert_eq(qt_dev_bo(&b, 4096, 0, &h, NULL, (void **)&map), 0);
	map[0] = 1;
	usleep(200000);

	/* They went past the scheduler: the driver ends them at removal. */
	qt_assert(qt_debugfs_count("rings", "direct_live") > 0);
	if (batches)
		qt_assert(qt_debugfs_count("rings", "backlog") > 0);
	printf("unbinding %s with jobs in flight\n", bdf);
	fflush(stdout);
	qt_assert_eq(sysfs_write("/sys/bus/pci/drivers/qnpu/unbind", bdf), 0);
	/* The jobs ended (with an error), the files are dead. */
	if (batches)
		ret = qt_bo_wait(a.fd, abo, WAIT_MS);
	else
		ret = qt_syncobj_wait(a.fd, a.sync, WAIT_MS);
	qt_assert(ret == 0 || ret == -ENODEV);
	memset(&s, 0, sizeof(s));
	s.cmd_handle = a.cmd;
	s.cmd_size = QNPU_CMD_BYTES;
	qt_assert_errno(qt_ioctl(a.fd, DRM_IOCTL_QNPU_SUBMIT, &s), ENODEV);
	/* The mapping still reads (the pages live as long as the mapping). */
	qt_assert_eq(map[0], 1);
	qt_dev_close(&a);
	qt_dev_close(&b);

	qt_assert_eq(sysfs_write("/sys/bus/pci/drivers/qnpu/bind", bdf), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	/* Counts over every device, the unbound one included. */
	if (qt_wait_counts(0, 0, WAIT_MS))
		qt_fail("leak on the new device");
	{
		int64_t end = qt_now_ns() + WAIT_MS * 1000000LL;

		while ((qt_debugfs_count("bos", "all_devices") != 0 ||
			qt_debugfs_count("bos", "jobs_all_devices") != 0 ||
			qt_debugfs_count("contexts", "all_devices") != 0) &&
		       qt_now_ns() < end)
			usleep(10000);
	}
	printf("after unbind: bos %ld, jobs %ld, contexts %ld (all devices)\n",
	       qt_debugfs_count("bos", "all_devices"),
	       qt_debugfs_count("bos", "jobs_all_devices"),
	       qt_debugfs_count("contexts", "all_devices"));
	qt_assert_eq(qt_debugfs_count("bos", "all_devices"), 0);
	qt_assert_eq(qt_debugfs_count("bos", "jobs_all_devices"), 0);
	qt_assert_eq(qt_debugfs_count("contexts", "all_devices"), 0);
	qt_assert(device_works());
	qt_assert(qt_taint_ok());
	return after();
}

static int test_unbind_rebind(void)
{
	return unbind_rebind(0);
}

static int test_unbind_batches(void)
{
	return unbind_rebind(3);
}

static const struct qt_subtest tests[] = {
	{ "lifecycle-exit-with-outstanding-jobs", test_exit_outstanding },
	{ "lifecycle-killed-mid-job", test_killed_mid_job },
	{ "lifecycle-killed-queued-job-esrch", test_killed_queued_esrch },
	{ "lifecycle-unbind-rebind-jobs-in-flight", test_unbind_rebind },
	{ "lifecycle-unbind-batches-in-flight-and-backlog",
	  test_unbind_batches },
};

int main(int argc, char **argv)
{
	/* Runnable alone (qnpu_only=lifecycle): load the module if needed. */
	if (access("/sys/module/qnpu", F_OK) && qt_module_load(NULL))
		printf("note: could not load qnpu.ko\n");
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
