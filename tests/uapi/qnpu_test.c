// SPDX-License-Identifier: MIT
/* The IGT-style harness of the qnpu uAPI tests (qnpu_test.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sync_file.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

char qt_node[64];
char qt_debugfs[128];

int64_t qt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int qt_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

static int qt_is_qnpu(int fd)
{
	char name[32] = "";
	struct drm_version v = {
		.name = name,
		.name_len = sizeof(name) - 1,
	};

	return !qt_ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "qnpu");
}

static int qt_find_node(void)
{
	int i, fd;

	for (i = 128; i < 192; i++) {
		snprintf(qt_node, sizeof(qt_node), "/dev/dri/renderD%d", i);
		fd = open(qt_node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (qt_is_qnpu(fd)) {
			close(fd);
			snprintf(qt_debugfs, sizeof(qt_debugfs),
				 "/sys/kernel/debug/dri/%d", i);
			return 0;
		}
		close(fd);
	}
	qt_node[0] = '\0';
	return -1;
}

int qt_open(void)
{
	int fd = open(qt_node, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		printf("open %s: %s\n", qt_node, strerror(errno));
	return fd;
}

int qt_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t *handle,
		 uint64_t *va)
{
	struct drm_qnpu_bo_create c = { .size = size, .flags = flags };
	int ret = qt_ioctl(fd, DRM_IOCTL_QNPU_BO_CREATE, &c);

	if (ret)
		return ret;
	*handle = c.handle;
	if (va)
		*va = c.va;
	return 0;
}

void *qt_bo_map(int fd, uint32_t handle, size_t size)
{
	struct drm_qnpu_bo_mmap_offset m = { .handle = handle };
	void *p;

	if (qt_ioctl(fd, DRM_IOCTL_QNPU_BO_MMAP_OFFSET, &m))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)m.offset);
	return p == MAP_FAILED ? NULL : p;
}

int qt_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return qt_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

int qt_syncobj_create(int fd, uint32_t *handle)
{
	struct drm_syncobj_create c = { 0 };
	int ret = qt_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c);

	*handle = c.handle;
	return ret;
}

int qt_syncobj_wait(int fd, uint32_t handle, int64_t timeout_ms)
{
	struct drm_syncobj_wait w = {
		.handles = (uintptr_t)&handle,
		.count_handles = 1,
		.timeout_nsec = qt_now_ns() + timeout_ms * 1000000LL,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return qt_ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);
}

int qt_syncobj_fence_error(int fd, uint32_t handle)
{
	struct drm_syncobj_handle h = {
		.handle = handle,
		.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
		.fd = -1,
	};
	struct sync_file_info info = { 0 };
	int ret = qt_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);

	if (ret)
		return ret;
	ret = qt_ioctl(h.fd, SYNC_IOC_FILE_INFO, &info);
	close(h.fd);
	if (ret)
		return ret;
	return info.status == 1 ? 0 : info.status == 0 ? 1 : info.status;
}

long qt_irq_count(void)
{
	char line[512];
	long sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, " qnpu"))
			continue;
		sum += strtol(p + 1, NULL, 10);
	}
	fclose(f);
	return sum;
}

uint64_t qt_get_param(int fd, uint32_t param)
{
	struct drm_qnpu_get_param p = { .param = param };

	if (qt_ioctl(fd, DRM_IOCTL_QNPU_GET_PARAM, &p))
		return ~0ULL;
	return p.value;
}

long qt_debugfs_count(const char *file, const char *key)
{
	char path[256], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", qt_debugfs, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

int qt_fork_ready(int (*child)(void *arg), void *arg)
{
	int pfd[2], status, rc;
	char ok;
	pid_t c;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	c = fork();
	if (c < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (c == 0) {
		close(pfd[0]);
		rc = child(arg);
		if (rc)
			_exit(rc);
		if (write(pfd[1], "y", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	rc = read(pfd[0], &ok, 1);
	close(pfd[0]);
	if (rc == 1)
		return c;
	if (waitpid(c, &status, 0) == c && WIFEXITED(status) &&
	    WEXITSTATUS(status))
		return -WEXITSTATUS(status);
	return -1;
}

int qt_kill_child(int pid)
{
	int status;

	if (kill(pid, SIGKILL) || waitpid(pid, &status, 0) != pid ||
	    !WIFSIGNALED(status)) {
		printf("child %d: not killed\n", pid);
		return -1;
	}
	return 0;
}

int qt_wait_counts(long bos, long ctxs, int timeout_ms)
{
	int64_t end = qt_now_ns() + timeout_ms * 1000000LL;
	long b, c;

	for (;;) {
		b = qt_debugfs_count("bos", "bos");
		c = qt_debugfs_count("contexts", "contexts");
		if (b == bos && c == ctxs)
			return 0;
		if (qt_now_ns() > end)
			break;
		usleep(10000);
	}
	printf("debugfs: bos %ld (expected %ld), contexts %ld (expected %ld)\n",
	       b, bos, c, ctxs);
	return -1;
}

int qt_submit(int fd, struct qt_job *job)
{
	struct drm_qnpu_sync out = { .handle = job->out_sync };
	struct drm_qnpu_submit s = {
		.cmd_handle = job->cmd_handle,
		.cmd_offset = job->cmd_offset,
		.cmd_size = job->cmd_size,
		.bo_handles = (uintptr_t)job->bos,
		.bo_count = job->bo_count,
		.info_handle = job->info_handle,
		.info_offset = job->info_offset,
		.max_kcycles = job->max_kcycles,
	};
	int ret;

	if (job->out_sync) {
		s.out_syncs = (uintptr_t)&out;
		s.out_sync_count = 1;
	}
	ret = qt_ioctl(fd, DRM_IOCTL_QNPU_SUBMIT, &s);
	job->job_id = s.job_id;
	return ret;
}

int qt_submit_batch(int fd, struct drm_qnpu_submit *jobs, uint32_t n,
		    uint64_t *first_id)
{
	struct drm_qnpu_submit s = {
		.flags = DRM_QNPU_SUBMIT_BATCH,
		.batch = (uintptr_t)jobs,
		.batch_count = n,
		.batch_stride = sizeof(*jobs),
	};
	int ret = qt_ioctl(fd, DRM_IOCTL_QNPU_SUBMIT, &s);

	if (first_id)
		*first_id = s.job_id;
	return ret;
}

int qt_bo_wait(int fd, uint32_t handle, int64_t timeout_ms)
{
	struct drm_qnpu_bo_wait w = {
		.handle = handle,
		.timeout_ns = qt_now_ns() + timeout_ms * 1000000LL,
	};

	return qt_ioctl(fd, DRM_IOCTL_QNPU_BO_WAIT, &w);
}

void qt_dev_job(struct qt_dev *d, uint32_t first, uint32_t n, int slot,
		struct drm_qnpu_submit *s)
{
	memset(s, 0, sizeof(*s));
	s->cmd_handle = d->cmd;
	s->cmd_offset = first * sizeof(struct qt_cmd);
	s->cmd_size = n * sizeof(struct qt_cmd);
	s->info_handle = d->info;
	s->info_offset = slot * sizeof(struct drm_qnpu_job_info);
	memset(&d->infos[slot], 0, sizeof(d->infos[slot]));
}

static int qt_run_one(const struct qt_subtest *t)
{
	int64_t t0 = qt_now_ns();
	const char *res;
	int ret;

	printf("Starting subtest: %s\n", t->name);
	fflush(stdout);
	ret = t->fn();
	res = ret == QT_PASS ? "SUCCESS" : ret == QT_SKIP ? "SKIP" : "FAIL";
	printf("Subtest %s: %s (%.3fs)\n", t->name, res,
	       (qt_now_ns() - t0) / 1e9);
	fflush(stdout);
	return ret;
}

static const char *qt_only(void);

static int qt_run(int argc, char **argv, const struct qt_subtest *tests,
		  size_t count, int need_device)
{
	const char *only = NULL;
	int pass = 0, fail = 0, skip = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--list-subtests")) {
		for (i = 0; i < count; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--run-subtest"))
		only = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--list-subtests | "
			"--run-subtest NAME]\n", argv[0]);
		return 2;
	}
	if (qt_only() && !qt_selected(argv[0])) {
		printf("SKIP: this VM run is only for qnpu-*-%s\n", qt_only());
		return QT_SKIP;
	}
	if (qt_find_node() && need_device) {
		printf("SKIP: no qnpu render node: qnpu.ko is not loaded or "
		       "did not bind (qnpu-sim serves no qnpu device)\n");
		return QT_SKIP;
	}
	for (i = 0; i < count; i++) {
		if (only && strcmp(only, tests[i].name))
			continue;
		switch (qt_run_one(&tests[i])) {
		case QT_PASS:
			pass++;
			break;
		case QT_SKIP:
			skip++;
			break;
		default:
			fail++;
		}
	}
	printf("%s: %d passed, %d failed, %d skipped\n", argv[0], pass, fail,
	       skip);
	if (fail)
		return 1;
	return pass ? 0 : QT_SKIP;
}

int qt_main(int argc, char **argv, const struct qt_subtest *tests,
	    size_t count)
{
	return qt_run(argc, argv, tests, count, 1);
}

int qt_main_nodev(int argc, char **argv, const struct qt_subtest *tests,
		  size_t count)
{
	return qt_run(argc, argv, tests, count, 0);
}

int qt_find_render_node(void)
{
	return qt_find_node();
}

/* Where the VM image puts the module (driver/driver.mk). */
#define QT_KO	"/qnpu/qnpu.ko"

static int qt_system(const char *cmd)
{
	int ret = system(cmd);

	if (ret)
		printf("'%s' failed: status %d\n", cmd, ret);
	return ret;
}

int qt_module_unload(void)
{
	if (access("/sys/module/qnpu", F_OK))
		return 0;
	return qt_system("rmmod qnpu");
}

int qt_module_load(const char *params)
{
	char cmd[256];
	int ret;

	snprintf(cmd, sizeof(cmd), "insmod " QT_KO " %s", params ? params : "");
	ret = qt_system(cmd);
	if (!ret)
		qt_find_node();
	return ret;
}

int qt_module_reload(const char *params)
{
	return qt_module_unload() ?: qt_module_load(params);
}

void qt_cmd_load(struct qt_cmd *c, int buf, uint64_t va, uint32_t row_bytes,
		 uint32_t rows, uint32_t dstride)
{
	memset(c, 0, sizeof(*c));
	QT_SET(c, OPCODE, QNPU_OP_LOAD);
	QT_SET(c, BUF, buf);
	QT_SET(c, DRAM_LO, (uint32_t)va);
	QT_SET(c, DRAM_HI, (uint32_t)(va >> 32));
	QT_SET(c, DRAM_STRIDE, dstride);
	QT_SET(c, ROW_BYTES, row_bytes);
	QT_SET(c, ROWS, rows);
}

void qt_cmd_store(struct qt_cmd *c, uint64_t va, uint32_t row_bytes,
		  uint32_t rows, uint32_t dstride)
{
	qt_cmd_load(c, 0, va, row_bytes, rows, dstride);
	QT_SET(c, OPCODE, QNPU_OP_STORE);
}

int qt_cmd_copy(struct qt_cmd *c, uint64_t src, uint64_t dst, uint32_t n,
		uint32_t cols)
{
	qt_cmd_load(&c[0], QNPU_BUF_ABUF, src, n, 1, 0);
	QT_SET(&c[0], PUSH_NEXT, 1);
	memset(&c[1], 0, sizeof(c[1]));
	QT_SET(&c[1], OPCODE, QNPU_OP_MAXPOOL);
	QT_SET(&c[1], POP_PREV, 1);
	QT_SET(&c[1], PUSH_NEXT, 1);
	QT_SET(&c[1], ACC_CLEAR, 1);
	QT_SET(&c[1], DRAIN, 1);
	QT_SET(&c[1], PIX_STRIDE, cols);
	QT_SET(&c[1], IN_H, 1);
	QT_SET(&c[1], IN_W, 65535);
	QT_SET(&c[1], OUT_W, 65535);
	QT_SET(&c[1], NPIX, (n + cols - 1) / cols);
	QT_SET(&c[1], NCOLS, cols);
	QT_SET(&c[1], KH, 1);
	QT_SET(&c[1], KW, 1);
	QT_SET(&c[1], STRIDE_H, 1);
	QT_SET(&c[1], STRIDE_W, 1);
	QT_SET(&c[1], DIL_H, 1);
	QT_SET(&c[1], DIL_W, 1);
	QT_SET(&c[1], ACT_MIN, -128);
	QT_SET(&c[1], ACT_MAX, 127);
	QT_SET(&c[1], O_STRIDE, 1);
	qt_cmd_store(&c[2], dst, n, 1, 0);
	QT_SET(&c[2], POP_PREV, 1);
	return 3;
}

int qt_dev_long_cmds(struct qt_dev *d, uint32_t first, uint32_t n,
		     uint32_t *bo)
{
	uint32_t abuf = qt_get_param(d->fd, DRM_QNPU_PARAM_ABUF_BYTES);
	uint64_t va;
	uint32_t i;

	if (qt_dev_bo(d, abuf, 0, bo, &va, NULL))
		return -1;
	for (i = 0; i < n; i++)
		qt_cmd_load(&d->cmds[first + i], QNPU_BUF_ABUF, va, 4096,
			    abuf / 4096, 4096);
	return 0;
}

int qt_dev_bo(struct qt_dev *d, uint32_t size, uint32_t flags,
	      uint32_t *handle, uint64_t *va, void **map)
{
	int ret = qt_bo_create(d->fd, size, flags, handle, va);

	if (ret)
		return ret;
	if (map) {
		if (d->nmaps == (int)(sizeof(d->maps) / sizeof(d->maps[0])))
			return -ENOSPC;
		*map = qt_bo_map(d->fd, *handle, size);
		if (!*map)
			return -ENOMEM;
		d->maps[d->nmaps].p = *map;
		d->maps[d->nmaps++].size = size;
	}
	return 0;
}

int qt_dev_open(struct qt_dev *d, uint32_t cmd_cap)
{
	size_t info_size = QT_INFO_SLOTS * sizeof(struct drm_qnpu_job_info);

	memset(d, 0, sizeof(*d));
	d->fd = qt_open();
	if (d->fd < 0)
		return -1;
	d->cols = qt_get_param(d->fd, DRM_QNPU_PARAM_HW_COLS);
	d->rows = qt_get_param(d->fd, DRM_QNPU_PARAM_HW_ROWS);
	d->cmd_cap = cmd_cap;
	if (qt_dev_bo(d, cmd_cap * sizeof(struct qt_cmd),
		      DRM_QNPU_BO_READONLY, &d->cmd, &d->cmd_va,
		      (void **)&d->cmds) ||
	    qt_dev_bo(d, info_size, 0, &d->info, NULL, (void **)&d->infos) ||
	    qt_syncobj_create(d->fd, &d->sync)) {
		printf("qt_dev_open: %s\n", strerror(errno));
		close(d->fd);
		return -1;
	}
	return 0;
}

void qt_dev_close(struct qt_dev *d)
{
	/* A mapping keeps the file (and the module) busy. */
	while (d->nmaps--)
		munmap(d->maps[d->nmaps].p, d->maps[d->nmaps].size);
	close(d->fd);
	d->fd = -1;
}

int qt_dev_submit(struct qt_dev *d, uint32_t first, uint32_t n,
		  const uint32_t *bos, uint32_t nbos, int slot)
{
	struct qt_job job = {
		.cmd_handle = d->cmd,
		.cmd_offset = first * sizeof(struct qt_cmd),
		.cmd_size = n * sizeof(struct qt_cmd),
		.bos = (uint32_t *)bos,
		.bo_count = nbos,
		.out_sync = d->sync,
		.info_handle = d->info,
		.info_offset = slot * sizeof(struct drm_qnpu_job_info),
	};

	memset(&d->infos[slot], 0, sizeof(d->infos[slot]));
	return qt_submit(d->fd, &job);
}

int qt_dev_wait(struct qt_dev *d, int slot, int64_t timeout_ms)
{
	int ret = qt_syncobj_wait(d->fd, d->sync, timeout_ms);

	if (ret)
		return ret;
	return d->infos[slot].done ? 0 : -EBADMSG;
}

const char *qt_cmdline(const char *name)
{
	static char line[4096], val[4096];
	size_t n = strlen(name);
	char *p;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (p = line; *p; p += strcspn(p, " \n"), p += strspn(p, " \n")) {
		if (!strncmp(p, name, n) && p[n] == '=') {
			p += n + 1;
			snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, " \n"),
				 p);
			return val;
		}
	}
	return NULL;
}

/* The value of qnpu_only= on the kernel command line, or NULL. */
static const char *qt_only(void)
{
	return qt_cmdline("qnpu_only");
}

int qt_selected(const char *argv0)
{
	const char *only = qt_only();
	size_t n, m;

	if (!only)
		return 0;
	n = strlen(argv0);
	m = strlen(only);
	return n > m && argv0[n - m - 1] == '-' && !strcmp(argv0 + n - m, only);
}

int qt_taint_ok(void)
{
	unsigned long t = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (!f || fscanf(f, "%lu", &t) != 1) {
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	/* out-of-tree (O) and unsigned (E) modules are expected */
	if (t & ~(4096UL | 8192UL)) {
		printf("kernel tainted %lu:\n", t);
		fflush(stdout);
		if (system("dmesg | grep -A25 -E 'WARNING|BUG|Oops' | "
			   "head -60"))
			printf("(no dmesg)\n");
		return 0;
	}
	return 1;
}
