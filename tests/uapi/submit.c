// SPDX-License-Identifier: MIT
/* DRM_IOCTL_QNPU_SUBMIT: every invalid argument returns its errno and
 * queues nothing, for single jobs and batches. (What valid jobs do is in
 * jobs.c, what batches do in batch.c.) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define CMD_BO_SIZE	8192

struct fixture {
	int fd;
	uint32_t cmd;	/* one SYNC command at offset 0 */
	uint32_t info;
	uint32_t syncobj;
};

static int setup(struct fixture *f)
{
	struct qt_cmd *c;

	memset(f, 0, sizeof(*f));
	f->fd = qt_open();
	if (f->fd < 0)
		return -1;
	if (qt_bo_create(f->fd, CMD_BO_SIZE, 0, &f->cmd, NULL) ||
	    qt_bo_create(f->fd, 4096, 0, &f->info, NULL) ||
	    qt_syncobj_create(f->fd, &f->syncobj))
		return -1;
	c = qt_bo_map(f->fd, f->cmd, CMD_BO_SIZE);
	if (!c)
		return -1;
	memset(c, 0, CMD_BO_SIZE);
	QT_SET(c, OPCODE, QNPU_OP_SYNC);
	munmap(c, CMD_BO_SIZE);
	return 0;
}

/* A valid one-command submit the subtests then break one way. */
static void base(struct fixture *f, struct drm_qnpu_submit *s)
{
	memset(s, 0, sizeof(*s));
	s->cmd_handle = f->cmd;
	s->cmd_offset = 0;
	s->cmd_size = QNPU_CMD_BYTES;
}

static int submit(struct fixture *f, struct drm_qnpu_submit *s)
{
	return qt_ioctl(f->fd, DRM_IOCTL_QNPU_SUBMIT, s);
}

#define FIXTURE(f)							\
	struct fixture f;						\
	struct drm_qnpu_submit s;					\
	if (setup(&f))							\
		qt_fail("fixture setup failed");			\
	base(&f, &s)

static int test_invalid_flags(void)
{
	FIXTURE(f);
	s.flags = 1 << 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	s.flags = 1u << 31;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_nonzero_pad(void)
{
	FIXTURE(f);
	s.pad = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

/* The former reserved words: only with DRM_QNPU_SUBMIT_BATCH. */
static int test_batch_fields_without_flag(void)
{
	FIXTURE(f);
	s.batch = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	base(&f, &s);
	s.batch_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	base(&f, &s);
	s.batch_stride = sizeof(s);
	qt_assert_errno(submit(&f, &s), EINVAL);
	base(&f, &s);
	s.batch_stride = 1u << 31;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

/* A valid batch of @n copies of base() (the subtests break one part). */
static void batch_base(struct fixture *f, struct drm_qnpu_submit *outer,
		       struct drm_qnpu_submit *el, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		base(f, &el[i]);
	memset(outer, 0, sizeof(*outer));
	outer->flags = DRM_QNPU_SUBMIT_BATCH;
	outer->batch = (uintptr_t)el;
	outer->batch_count = n;
	outer->batch_stride = sizeof(*el);
}

static int test_batch_count(void)
{
	struct drm_qnpu_submit el[DRM_QNPU_MAX_BATCH + 1];

	FIXTURE(f);
	batch_base(&f, &s, el, 0);
	qt_assert_errno(submit(&f, &s), EINVAL);
	batch_base(&f, &s, el, DRM_QNPU_MAX_BATCH + 1);
	qt_assert_errno(submit(&f, &s), EINVAL);
	s.batch_count = ~0u;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_batch_stride(void)
{
	struct drm_qnpu_submit el[2];
	const uint32_t bad[] = { 0, 8, sizeof(el[0]) - 8, sizeof(el[0]) + 8,
				 ~0u };
	unsigned int i;

	FIXTURE(f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		batch_base(&f, &s, el, 2);
		s.batch_stride = bad[i];
		qt_assert_errno(submit(&f, &s), EINVAL);
	}
	close(f.fd);
	return QT_PASS;
}

static int test_batch_without_array(void)
{
	struct drm_qnpu_submit el[1];

	FIXTURE(f);
	batch_base(&f, &s, el, 1);
	s.batch = 0;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_batch_bad_pointer(void)
{
	struct drm_qnpu_submit el[2];
	void *page;

	FIXTURE(f);
	batch_base(&f, &s, el, 2);
	s.batch = 8;
	qt_assert_errno(submit(&f, &s), EFAULT);
	/* The second element runs off a readable page. */
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	qt_assert(page != MAP_FAILED);
	munmap((char *)page + 4096, 4096);
	base(&f, (struct drm_qnpu_submit *)((char *)page + 4096) - 1);
	s.batch = (uintptr_t)((char *)page + 4096 - sizeof(el[0]));
	qt_assert_errno(submit(&f, &s), EFAULT);
	munmap(page, 4096);
	close(f.fd);
	return QT_PASS;
}

/* With the flag, the outer struct carries nothing but the batch. */
static int test_batch_outer_job_fields(void)
{
	struct drm_qnpu_submit el[1];
	unsigned int i;

	FIXTURE(f);
	for (i = 0; i < 13; i++) {
		batch_base(&f, &s, el, 1);
		switch (i) {
		case 0: s.cmd_handle = f.cmd; break;
		case 1: s.cmd_offset = 64; break;
		case 2: s.cmd_size = 64; break;
		case 3: s.bo_handles = (uintptr_t)&f.cmd; break;
		case 4: s.bo_count = 1; break;
		case 5: s.in_sync_count = 1; break;
		case 6: s.in_syncs = 8; break;
		case 7: s.out_syncs = 8; break;
		case 8: s.out_sync_count = 1; break;
		case 9: s.info_handle = f.info; break;
		case 10: s.info_offset = 8; break;
		case 11: s.max_kcycles = 1; break;
		case 12: s.pad = 1; break;
		}
		qt_assert_errno(submit(&f, &s), EINVAL);
	}
	batch_base(&f, &s, el, 1);
	s.job_id = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	/* And the same batch without the stray field is fine. */
	batch_base(&f, &s, el, 1);
	qt_assert_eq(submit(&f, &s), 0);
	qt_assert(s.job_id != 0);
	close(f.fd);
	return QT_PASS;
}

/* An element is a single job: no flags, job_id or batch of its own. */
static int test_batch_element_fields(void)
{
	struct drm_qnpu_submit el[3];
	unsigned int i;

	FIXTURE(f);
	for (i = 0; i < 6; i++) {
		batch_base(&f, &s, el, 3);
		switch (i) {
		case 0: el[1].flags = DRM_QNPU_SUBMIT_BATCH; break;
		case 1: el[1].flags = 1u << 31; break;
		case 2: el[2].job_id = 5; break;
		case 3: el[0].batch = (uintptr_t)el; break;
		case 4: el[1].batch_count = 1; break;
		case 5: el[1].batch_stride = sizeof(el[0]); break;
		}
		qt_assert_errno(submit(&f, &s), EINVAL);
	}
	close(f.fd);
	return QT_PASS;
}

/* An element fails with the errno a single SUBMIT of it gets. */
static int test_batch_bad_element(void)
{
	struct drm_qnpu_submit el[3];
	struct drm_qnpu_sync sync = { .handle = 4242 };

	FIXTURE(f);
	batch_base(&f, &s, el, 3);
	el[1].cmd_size = 65;
	qt_assert_errno(submit(&f, &s), EINVAL);
	batch_base(&f, &s, el, 3);
	el[2].cmd_handle = 4242;
	qt_assert_errno(submit(&f, &s), ENOENT);
	batch_base(&f, &s, el, 3);
	el[1].in_syncs = (uintptr_t)&sync;
	el[1].in_sync_count = 1;
	qt_assert_errno(submit(&f, &s), ENOENT);
	batch_base(&f, &s, el, 3);
	el[0].bo_handles = 8;
	el[0].bo_count = 1;
	qt_assert_errno(submit(&f, &s), EFAULT);
	batch_base(&f, &s, el, 3);
	el[2].info_handle = f.info;
	el[2].info_offset = 4;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_zero_size(void)
{
	FIXTURE(f);
	s.cmd_size = 0;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_size_not_multiple(void)
{
	FIXTURE(f);
	s.cmd_size = QNPU_CMD_BYTES + 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	s.cmd_size = QNPU_CMD_BYTES / 2;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_size_too_large(void)
{
	FIXTURE(f);
	s.cmd_size = qt_get_param(f.fd, DRM_QNPU_PARAM_MAX_CMD_BYTES) +
		     QNPU_CMD_BYTES;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_offset_misaligned(void)
{
	FIXTURE(f);
	s.cmd_offset = 8;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_past_end_of_bo(void)
{
	FIXTURE(f);
	s.cmd_offset = CMD_BO_SIZE;
	qt_assert_errno(submit(&f, &s), EINVAL);
	s.cmd_offset = CMD_BO_SIZE - QNPU_CMD_BYTES;
	s.cmd_size = 2 * QNPU_CMD_BYTES;
	qt_assert_errno(submit(&f, &s), EINVAL);
	s.cmd_offset = 0;
	s.cmd_size = CMD_BO_SIZE + QNPU_CMD_BYTES;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_offset_overflow(void)
{
	FIXTURE(f);
	/* offset + size wraps to a small number */
	s.cmd_offset = ~0ULL - QNPU_CMD_BYTES + 1;
	s.cmd_size = 2 * QNPU_CMD_BYTES;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_unknown_cmd_handle(void)
{
	FIXTURE(f);
	s.cmd_handle = 0;
	qt_assert_errno(submit(&f, &s), ENOENT);
	s.cmd_handle = 4242;
	qt_assert_errno(submit(&f, &s), ENOENT);
	close(f.fd);
	return QT_PASS;
}

static int test_unknown_bo_handle(void)
{
	uint32_t handles[2];

	FIXTURE(f);
	handles[0] = f.info;
	handles[1] = 4242;
	s.bo_handles = (uintptr_t)handles;
	s.bo_count = 2;
	qt_assert_errno(submit(&f, &s), ENOENT);
	close(f.fd);
	return QT_PASS;
}

static int test_bad_bo_pointer(void)
{
	FIXTURE(f);
	s.bo_handles = 8;
	s.bo_count = 1;
	qt_assert_errno(submit(&f, &s), EFAULT);
	close(f.fd);
	return QT_PASS;
}

/*
 * A handle array that runs into an unmapped page: the driver reads it in
 * chunks, and a chunk that faults is read as far as it goes, so the
 * errors come in array order: a missing handle before the fault is
 * ENOENT, valid handles up to it EFAULT; also past the first chunk (16).
 */
static int test_bo_array_into_hole(void)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t *end;
	char *p;
	int n, i;

	FIXTURE(f);
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	qt_assert(p != MAP_FAILED);
	qt_assert_eq(munmap(p + page, page), 0);
	end = (uint32_t *)(p + page);
	for (n = 2; n <= 20; n += 18) {
		for (i = 1; i < n; i++)
			end[-i] = f.info;
		s.bo_handles = (uintptr_t)(end - (n - 1));
		s.bo_count = n;
		qt_assert_errno(submit(&f, &s), EFAULT);
		end[-1] = 4242;
		qt_assert_errno(submit(&f, &s), ENOENT);
	}
	munmap(p, page);
	close(f.fd);
	return QT_PASS;
}

static int test_too_many_bos(void)
{
	static uint32_t handles[DRM_QNPU_MAX_BOS + 1];

	FIXTURE(f);
	s.bo_handles = (uintptr_t)handles;
	s.bo_count = DRM_QNPU_MAX_BOS + 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_count_without_array(void)
{
	FIXTURE(f);
	s.bo_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	base(&f, &s);
	s.in_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	base(&f, &s);
	s.out_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_too_many_syncs(void)
{
	static struct drm_qnpu_sync syncs[DRM_QNPU_MAX_SYNCS + 1];

	FIXTURE(f);
	s.in_syncs = (uintptr_t)syncs;
	s.in_sync_count = DRM_QNPU_MAX_SYNCS + 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	base(&f, &s);
	s.out_syncs = (uintptr_t)syncs;
	s.out_sync_count = DRM_QNPU_MAX_SYNCS + 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_unknown_in_sync(void)
{
	struct drm_qnpu_sync sync = { .handle = 4242 };

	FIXTURE(f);
	s.in_syncs = (uintptr_t)&sync;
	s.in_sync_count = 1;
	qt_assert_errno(submit(&f, &s), ENOENT);
	close(f.fd);
	return QT_PASS;
}

static int test_in_sync_no_fence(void)
{
	struct drm_qnpu_sync sync;

	FIXTURE(f);
	/* A syncobj nobody ever signaled has no fence to wait for. */
	sync = (struct drm_qnpu_sync){ .handle = f.syncobj };
	s.in_syncs = (uintptr_t)&sync;
	s.in_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_in_sync_invalid_flags(void)
{
	struct drm_qnpu_sync sync;

	FIXTURE(f);
	sync = (struct drm_qnpu_sync){ .handle = f.syncobj, .flags = 1 };
	s.in_syncs = (uintptr_t)&sync;
	s.in_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_bad_in_sync_pointer(void)
{
	FIXTURE(f);
	s.in_syncs = 8;
	s.in_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EFAULT);
	close(f.fd);
	return QT_PASS;
}

static int test_unknown_out_sync(void)
{
	struct drm_qnpu_sync sync = { .handle = 4242 };

	FIXTURE(f);
	s.out_syncs = (uintptr_t)&sync;
	s.out_sync_count = 1;
	qt_assert_errno(submit(&f, &s), ENOENT);
	close(f.fd);
	return QT_PASS;
}

static int test_out_sync_invalid_flags(void)
{
	struct drm_qnpu_sync sync;

	FIXTURE(f);
	sync = (struct drm_qnpu_sync){ .handle = f.syncobj, .flags = 2 };
	s.out_syncs = (uintptr_t)&sync;
	s.out_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_bad_out_sync_pointer(void)
{
	FIXTURE(f);
	s.out_syncs = 8;
	s.out_sync_count = 1;
	qt_assert_errno(submit(&f, &s), EFAULT);
	close(f.fd);
	return QT_PASS;
}

static int test_unknown_info_handle(void)
{
	FIXTURE(f);
	s.info_handle = 4242;
	qt_assert_errno(submit(&f, &s), ENOENT);
	close(f.fd);
	return QT_PASS;
}

static int test_info_misaligned(void)
{
	FIXTURE(f);
	s.info_handle = f.info;
	s.info_offset = 4;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_info_past_end(void)
{
	FIXTURE(f);
	s.info_handle = f.info;
	s.info_offset = 4096 - sizeof(struct drm_qnpu_job_info) + 8;
	qt_assert_errno(submit(&f, &s), EINVAL);
	s.info_offset = ~0ULL - 7;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_info_offset_without_handle(void)
{
	FIXTURE(f);
	s.info_offset = 64;
	qt_assert_errno(submit(&f, &s), EINVAL);
	close(f.fd);
	return QT_PASS;
}

static int test_bad_pointer(void)
{
	int fd = qt_open();

	qt_assert(fd >= 0);
	qt_assert_errno(qt_ioctl(fd, DRM_IOCTL_QNPU_SUBMIT, (void *)8),
			EFAULT);
	close(fd);
	return QT_PASS;
}

static int test_other_file_cmd_handle(void)
{
	int other = qt_open();

	FIXTURE(f);
	qt_assert(other >= 0);
	/* A's command BO handle does not exist in B's file. */
	qt_assert_errno(qt_ioctl(other, DRM_IOCTL_QNPU_SUBMIT, &s), ENOENT);
	close(other);
	close(f.fd);
	return QT_PASS;
}

/* The qnpu primary node (/dev/dri/cardN): GEM_FLINK / GEM_OPEN live there. */
static int open_card(void)
{
	char path[64], name[32];
	int i, fd;

	for (i = 0; i < 64; i++) {
		struct drm_version v = { .name = name,
					 .name_len = sizeof(name) - 1 };

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!qt_ioctl(fd, DRM_IOCTL_VERSION, &v) &&
		    !strcmp(name, "qnpu"))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Process B opens, by its GEM name, a BO process A created: B's handle is
 * valid, but the BO lives in A's address space. As command, listed or info
 * BO of B's job it is refused with EINVAL.
 */
static int flinked_child(uint32_t name)
{
	struct drm_gem_open o = { .name = name };
	struct drm_qnpu_submit s;
	uint32_t own, info;
	int fd = open_card();

	if (fd < 0)
		return 10;
	if (qt_ioctl(fd, DRM_IOCTL_GEM_OPEN, &o))
		return 11;
	if (qt_bo_create(fd, 8192, 0, &own, NULL) ||
	    qt_bo_create(fd, 4096, 0, &info, NULL))
		return 12;
	memset(&s, 0, sizeof(s));
	s.cmd_handle = o.handle;
	s.cmd_size = QNPU_CMD_BYTES;
	if (qt_ioctl(fd, DRM_IOCTL_QNPU_SUBMIT, &s) != -EINVAL)
		return 1;
	s.cmd_handle = own;
	s.bo_handles = (uintptr_t)&o.handle;
	s.bo_count = 1;
	if (qt_ioctl(fd, DRM_IOCTL_QNPU_SUBMIT, &s) != -EINVAL)
		return 2;
	s.bo_count = 0;
	s.bo_handles = 0;
	s.info_handle = o.handle;
	if (qt_ioctl(fd, DRM_IOCTL_QNPU_SUBMIT, &s) != -EINVAL)
		return 3;
	close(fd);
	return 0;
}

static int test_flinked_bo(void)
{
	struct drm_gem_flink fl = { 0 };
	struct qt_cmd *c;
	int fd, status;
	pid_t pid;

	fd = open_card();
	if (fd < 0)
		qt_skip("no qnpu primary node (/dev/dri/card*)");
	qt_assert_eq(qt_bo_create(fd, 8192, 0, &fl.handle, NULL), 0);
	c = qt_bo_map(fd, fl.handle, 8192);
	qt_assert(c);
	memset(c, 0, 8192);
	QT_SET(c, OPCODE, QNPU_OP_SYNC);
	munmap(c, 8192);
	qt_assert_eq(qt_ioctl(fd, DRM_IOCTL_GEM_FLINK, &fl), 0);
	pid = fork();
	qt_assert(pid >= 0);
	if (pid == 0)
		_exit(flinked_child(fl.name));
	qt_assert_eq(waitpid(pid, &status, 0), pid);
	qt_assert(WIFEXITED(status));
	if (WEXITSTATUS(status))
		qt_fail("child: check %d failed", WEXITSTATUS(status));
	close(fd);
	return QT_PASS;
}

/* At most max_jobs_per_file jobs queued per file: EBUSY, then room again. */
static int test_queue_full(void)
{
	uint32_t abuf, rows, bo, i, ncmds = 64;
	struct drm_qnpu_submit s;
	struct qt_dev d;
	uint64_t va;
	int ret;

	qt_assert_eq(qt_module_reload("max_jobs_per_file=2"), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	qt_assert_eq(qt_dev_open(&d, ncmds), 0);
	abuf = qt_get_param(d.fd, DRM_QNPU_PARAM_ABUF_BYTES);
	rows = abuf / 4096;
	qt_assert_eq(qt_dev_bo(&d, abuf, 0, &bo, &va, NULL), 0);
	for (i = 0; i < ncmds; i++)
		qt_cmd_load(&d.cmds[i], QNPU_BUF_ABUF, va, 4096, rows, 4096);
	qt_assert_eq(qt_dev_submit(&d, 0, ncmds, &bo, 1, 0), 0);
	qt_assert_eq(qt_dev_submit(&d, 0, ncmds, &bo, 1, 1), 0);
	memset(&s, 0, sizeof(s));
	s.cmd_handle = d.cmd;
	s.cmd_size = QNPU_CMD_BYTES;
	ret = qt_ioctl(d.fd, DRM_IOCTL_QNPU_SUBMIT, &s);
	if (ret == 0 && d.infos[0].done)
		qt_skip("the first jobs ended before the third submit");
	qt_assert_eq(ret, -EBUSY);
	qt_assert_eq(qt_dev_wait(&d, 1, 60000), 0);
	/* Released a little after their fences signal. */
	for (i = 0; i < 500; i++) {
		ret = qt_dev_submit(&d, 0, 1, &bo, 1, 2);
		if (ret != -EBUSY)
			break;
		usleep(10000);
	}
	qt_assert_eq(ret, 0);
	qt_assert_eq(qt_dev_wait(&d, 2, 60000), 0);
	qt_dev_close(&d);
	qt_assert_eq(qt_wait_counts(0, 0, 5000), 0);
	qt_assert_eq(qt_module_reload(NULL), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "submit-invalid-flags", test_invalid_flags },
	{ "submit-nonzero-pad", test_nonzero_pad },
	{ "submit-batch-fields-without-flag",
	  test_batch_fields_without_flag },
	{ "submit-batch-count", test_batch_count },
	{ "submit-batch-stride", test_batch_stride },
	{ "submit-batch-without-array", test_batch_without_array },
	{ "submit-batch-bad-pointer", test_batch_bad_pointer },
	{ "submit-batch-outer-job-fields", test_batch_outer_job_fields },
	{ "submit-batch-element-fields", test_batch_element_fields },
	{ "submit-batch-bad-element", test_batch_bad_element },
	{ "submit-zero-size", test_zero_size },
	{ "submit-size-not-multiple", test_size_not_multiple },
	{ "submit-size-too-large", test_size_too_large },
	{ "submit-offset-misaligned", test_offset_misaligned },
	{ "submit-past-end-of-bo", test_past_end_of_bo },
	{ "submit-offset-overflow", test_offset_overflow },
	{ "submit-unknown-cmd-handle", test_unknown_cmd_handle },
	{ "submit-other-file-cmd-handle", test_other_file_cmd_handle },
	{ "submit-unknown-bo-handle", test_unknown_bo_handle },
	{ "submit-bad-bo-pointer", test_bad_bo_pointer },
	{ "submit-bo-array-into-hole", test_bo_array_into_hole },
	{ "submit-too-many-bos", test_too_many_bos },
	{ "submit-count-without-array", test_count_without_array },
	{ "submit-too-many-syncs", test_too_many_syncs },
	{ "submit-unknown-in-sync", test_unknown_in_sync },
	{ "submit-in-sync-no-fence", test_in_sync_no_fence },
	{ "submit-in-sync-invalid-flags", test_in_sync_invalid_flags },
	{ "submit-bad-in-sync-pointer", test_bad_in_sync_pointer },
	{ "submit-unknown-out-sync", test_unknown_out_sync },
	{ "submit-out-sync-invalid-flags", test_out_sync_invalid_flags },
	{ "submit-bad-out-sync-pointer", test_bad_out_sync_pointer },
	{ "submit-unknown-info-handle", test_unknown_info_handle },
	{ "submit-info-misaligned", test_info_misaligned },
	{ "submit-info-past-end", test_info_past_end },
	{ "submit-info-offset-without-handle",
	  test_info_offset_without_handle },
	{ "submit-bad-pointer", test_bad_pointer },
	{ "submit-flinked-bo", test_flinked_bo },
	{ "submit-queue-full", test_queue_full },
};

int main(int argc, char **argv)
{
	return qt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
