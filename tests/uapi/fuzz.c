// SPDX-License-Identifier: MIT
/*
 * The uAPI fuzzer (make fuzz-uapi; docs/testing.md), in the spirit of
 * syzkaller: several processes issue random sequences of every qnpu ioctl,
 * GEM close/flink/open, PRIME export/import, syncobj create/destroy/wait/
 * signal/reset/query/transfer/export/import, mmap/munmap and unknown
 * ioctl numbers, with boundary and random arguments and random command
 * streams (mostly valid, mutated); they fork children that share their
 * files, and the parent SIGKILLs them at random moments.
 *
 * Oracles: the kernel (no WARN, oops or other taint, nothing in dmesg that
 * says BUG, the counts in debugfs back to zero once everything is closed,
 * the module unloads); the device (a "checker" file in each process runs
 * only valid copies: each must complete OK and exact, whatever the others
 * did, and qnpu-sim never counts as lost); and what the uAPI promises
 * (BO addresses page-aligned, in the VA range and disjoint within a file;
 * a BO reads back through a second mapping what was written through the
 * first; qnpu ioctls fail only with the errnos docs/uapi.md lists).
 *
 * Runs only in its own VM (kernel command line qnpu_only=fuzz, with
 * qnpu_fuzz_time=SECONDS and qnpu_fuzz_seed=N, see vm-device.sh --fuzz);
 * every process prints its seed, so a run can be repeated with
 * make fuzz-uapi FUZZ_SEED=N (the interleaving differs; the sequences
 * do not).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

#define NPROCS		4
#define MAXFDS		4
#define MAXBOS		24
#define MAXSYNCS	8
#define MAXMAPS		16
#define CMD_SLOTS	64	/* commands in a file's command BO */
#define WAIT_MS		60000
/* Submits before a file waits for its jobs (keeps the queues short). */
#define THROTTLE	12

/* ---- random numbers: splitmix64, one stream per process ---- */
static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)	/* 0 .. n-1 */
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static int chance(uint32_t percent)
{
	return rnd(100) < percent;
}

/* A boundary value of a field of @bits bits, or a random one. */
static uint64_t rnd_field(unsigned int bits)
{
	uint64_t max = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;

	switch (rnd(8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return max;
	case 3: return max >> 1;
	case 4: return (max >> 1) + 1;
	case 5: return rnd(16);
	default: return rnd64() & max;
	}
}

/* ---- statistics, shared by every process ---- */
struct stats {
	uint64_t ioctls, submits, submits_ok, jobs_checked, mmaps, forks;
	uint64_t kills, opens, hangs, batches_ok, batches_checked;
	int64_t last_hang;		/* op_hang()'s, CLOCK_MONOTONIC */
	uint64_t status[16];		/* job info status 0..10, 0x100.. */
	uint64_t err[140];		/* errno histogram of all ioctls */
	int failures;
};
static struct stats *st;

#define ADD(field, n) __atomic_fetch_add(&st->field, (n), __ATOMIC_RELAXED)

static int my_id;
static uint64_t my_seed;
/* A forked child shares its parent's files, whose BO lists it must not
 * change behind the parent's back (the overlap oracle trusts them). */
static int in_child;

#define fz_fail(...)							\
	do {								\
		printf("FAIL: fuzz process %d (seed %#llx): ", my_id,	\
		       (unsigned long long)my_seed);			\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
		ADD(failures, 1);					\
		_exit(1);						\
	} while (0)

/* Every ioctl goes through here: counted, errno recorded. */
static int fz_ioctl(int fd, unsigned long req, void *arg)
{
	int ret = ioctl(fd, req, arg) ? -errno : 0;

	ADD(ioctls, 1);
	if (ret < 0 && -ret < 140)
		ADD(err[-ret], 1);
	return ret;
}

/* The errnos docs/uapi.md lets a qnpu ioctl fail with. ENODEV would mean
 * the device counts as lost, which qnpu-sim never is here. */
static void qnpu_errno_ok(const char *what, int ret)
{
	switch (-ret) {
	case 0: case EINVAL: case ENOENT: case EFAULT: case ENOMEM:
	case ETIMEDOUT: case EINTR: case EAGAIN: case ERESTART:
	/* a file's limits (module parameters max_*_per_file) */
	case ENOSPC: case EBUSY:
		return;
	default:
		fz_fail("%s returned %d (%s), not an errno of the uAPI", what,
			ret, strerror(-ret));
	}
}

/* ---- the state of one process ---- */
struct fbo {
	uint32_t handle;
	uint64_t size, va;
	uint32_t flags;
};

struct ffd {
	int fd;			/* -1: slot unused */
	struct fbo bos[MAXBOS];
	int nbos;
	uint32_t syncs[MAXSYNCS];
	int nsyncs;
	uint32_t cmd, info, throttle;	/* 0 until created */
	uint64_t cmd_va, info_va;
	struct qt_cmd *cmds;
	int pending;
};

static struct ffd fds[MAXFDS];
static struct { void *p; size_t size; } maps[MAXMAPS];
static int nmaps;
static uint64_t va_start, va_end, max_bo, max_cmd;
static uint32_t hw_rows, hw_cols;
/* An unmapped page: a user pointer the kernel must refuse with EFAULT. */
static void *bad_ptr;

static uint64_t bad_user_ptr(void)
{
	switch (rnd(4)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return (uintptr_t)bad_ptr;
	default: return ~0ULL - rnd(4096);
	}
}

static struct ffd *pick_fd(void)
{
	int i, n = rnd(MAXFDS);

	for (i = 0; i < MAXFDS; i++) {
		struct ffd *f = &fds[(n + i) % MAXFDS];

		if (f->fd >= 0)
			return f;
	}
	return NULL;
}

static void map_add(void *p, size_t size)
{
	if (nmaps == MAXMAPS) {
		munmap(maps[0].p, maps[0].size);
		memmove(&maps[0], &maps[1], sizeof(maps[0]) * (MAXMAPS - 1));
		nmaps--;
	}
	maps[nmaps].p = p;
	maps[nmaps++].size = size;
	ADD(mmaps, 1);
}

/* A handle of this file, a stale one, or garbage. */
static uint32_t some_handle(struct ffd *f)
{
	if (f->nbos && chance(85))
		return f->bos[rnd(f->nbos)].handle;
	return chance(50) ? rnd(64) : (uint32_t)rnd64();
}

static uint32_t some_sync(struct ffd *f)
{
	if (f->nsyncs && chance(85))
		return f->syncs[rnd(f->nsyncs)];
	return chance(50) ? rnd(64) : (uint32_t)rnd64();
}

/* A BO_CREATE; new BOs must not overlap this file's live ones. */
static int do_bo_create(struct ffd *f, uint64_t size, uint32_t flags,
			struct fbo **out)
{
	struct drm_qnpu_bo_create c = { .size = size, .flags = flags };
	struct fbo *b;
	int i, ret = fz_ioctl(f->fd, DRM_IOCTL_QNPU_BO_CREATE, &c);

	qnpu_errno_ok("BO_CREATE", ret);
	if (ret)
		return ret;
	if (!size || size > max_bo || (flags & ~DRM_QNPU_BO_FLAGS))
		fz_fail("BO_CREATE of size %#llx flags %#x succeeded",
			(unsigned long long)size, flags);
	if ((c.va & 4095) || c.va < va_start || c.va + size > va_end)
		fz_fail("BO of %#llx bytes at va %#llx: outside [%#llx, %#llx)"
			" or unaligned", (unsigned long long)size,
			(unsigned long long)c.va, (unsigned long long)va_start,
			(unsigned long long)va_end);
	size = (size + 4095) & ~4095ULL;
	for (i = 0; i < f->nbos; i++) {
		b = &f->bos[i];
		if (c.va < b->va + b->size && b->va < c.va + size)
			fz_fail("BO %u [%#llx, +%#llx) overlaps BO %u [%#llx, "
				"+%#llx)", c.handle, (unsigned long long)c.va,
				(unsigned long long)size, b->handle,
				(unsigned long long)b->va,
				(unsigned long long)b->size);
	}
	if (f->nbos == MAXBOS) {
		struct drm_gem_close gc = { .handle = c.handle };

		/* No room to track it: it goes again at once. */
		fz_ioctl(f->fd, DRM_IOCTL_GEM_CLOSE, &gc);
		return -ENOSPC;
	}
	b = &f->bos[f->nbos++];
	b->handle = c.handle;
	b->size = size;
	b->va = c.va;
	b->flags = flags;
	if (out)
		*out = b;
	return 0;
}

/* Not in maps[]: op_munmap() must not take the command BO's mapping. */
static void *do_map(int fd, uint32_t handle, size_t size)
{
	struct drm_qnpu_bo_mmap_offset m = { .handle = handle };
	void *p;

	if (fz_ioctl(fd, DRM_IOCTL_QNPU_BO_MMAP_OFFSET, &m))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)m.offset);
	return p == MAP_FAILED ? NULL : p;
}

/* The command BO, the info BO and the throttle syncobj of a file. */
static int fd_setup(struct ffd *f)
{
	struct drm_syncobj_create sc = { 0 };
	struct fbo *b;

	if (do_bo_create(f, CMD_SLOTS * QNPU_CMD_BYTES, DRM_QNPU_BO_READONLY,
			 &b))
		return -1;
	f->cmd = b->handle;
	f->cmd_va = b->va;
	f->cmds = do_map(f->fd, f->cmd, CMD_SLOTS * QNPU_CMD_BYTES);
	if (do_bo_create(f, 4096, 0, &b))
		return -1;
	f->info = b->handle;
	f->info_va = b->va;
	if (fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc))
		return -1;
	f->throttle = sc.handle;
	return f->cmds ? 0 : -1;
}

static void op_open(void)
{
	int i;

	for (i = 0; i < MAXFDS; i++) {
		struct ffd *f = &fds[i];

		if (f->fd >= 0)
			continue;
		memset(f, 0, sizeof(*f));
		f->fd = open(qt_node, O_RDWR | O_CLOEXEC);
		if (f->fd < 0)
			fz_fail("open %s: %s", qt_node, strerror(errno));
		ADD(opens, 1);
		if (fd_setup(f)) {
			/* BO_CREATE may fail for lack of memory; try later */
			if (f->cmds)
				munmap(f->cmds, CMD_SLOTS * QNPU_CMD_BYTES);
			close(f->fd);
			f->fd = -1;
		}
		return;
	}
}

static void op_close(struct ffd *f)
{
	/* Its jobs may still run; the other mappings stay valid. */
	munmap(f->cmds, CMD_SLOTS * QNPU_CMD_BYTES);
	close(f->fd);
	f->fd = -1;
}

static void op_get_param(struct ffd *f)
{
	struct drm_qnpu_get_param p = {
		.param = chance(80) ? rnd(DRM_QNPU_PARAM_MAX_BATCH + 3) :
				      (uint32_t)rnd_field(32),
		.pad = chance(90) ? 0 : (uint32_t)rnd_field(32),
	};
	int ret = fz_ioctl(f->fd, DRM_IOCTL_QNPU_GET_PARAM,
			   chance(97) ? (void *)&p : (void *)(uintptr_t)
			   bad_user_ptr());

	qnpu_errno_ok("GET_PARAM", ret);
	if (!ret && p.param == DRM_QNPU_PARAM_DEVICE_LOST && p.value)
		fz_fail("the device counts as lost");
}

static void op_bo_create(struct ffd *f)
{
	static const uint64_t sizes[] = { 0, 1, 4095, 4096, 4097, 65536 };
	uint64_t size;
	uint32_t flags;
	struct fbo *b;

	switch (rnd(8)) {
	case 0: size = sizes[rnd(6)]; break;
	case 1: size = chance(50) ? max_bo + 1 : rnd_field(64); break;
	/* Pinned, and the guest has 512 MiB and no swap: the largest BO
	 * (1 GiB) would only wake the OOM killer. Big ones go at once. */
	case 2: size = chance(2) ? (max_bo < (64 << 20) ? max_bo : 64 << 20) :
			 1 + rnd(1 << 20); break;
	default: size = 1 + rnd(3 * 4096); break;
	}
	flags = chance(85) ? (chance(30) ? DRM_QNPU_BO_READONLY : 0) :
			     (uint32_t)rnd_field(32);
	if (!do_bo_create(f, size, flags, &b) && size > (1 << 20)) {
		struct drm_gem_close gc = { .handle = b->handle };

		fz_ioctl(f->fd, DRM_IOCTL_GEM_CLOSE, &gc);
		f->nbos--;
	}
}

static void op_gem_close(struct ffd *f)
{
	struct drm_gem_close c = { .handle = some_handle(f) };
	int i, ret;

	/* Keep the command and info BOs: losing them ends the file's use. */
	if (in_child || c.handle == f->cmd || c.handle == f->info)
		return;
	c.pad = chance(95) ? 0 : (uint32_t)rnd_field(32);
	ret = fz_ioctl(f->fd, DRM_IOCTL_GEM_CLOSE, &c);
	if (ret)
		return;
	for (i = 0; i < f->nbos; i++) {
		if (f->bos[i].handle == c.handle) {
			f->bos[i] = f->bos[--f->nbos];
			break;
		}
	}
}

static void op_mmap(struct ffd *f)
{
	struct drm_qnpu_bo_mmap_offset m = {
		.handle = some_handle(f),
		.flags = chance(95) ? 0 : (uint32_t)rnd_field(32),
	};
	uint64_t size = 4096;
	uint8_t *p, *q;
	int i, k, ret;

	ret = fz_ioctl(f->fd, DRM_IOCTL_QNPU_BO_MMAP_OFFSET,
		       chance(97) ? (void *)&m :
		       (void *)(uintptr_t)bad_user_ptr());
	qnpu_errno_ok("BO_MMAP_OFFSET", ret);
	if (ret)
		return;
	for (i = 0; i < f->nbos; i++)
		if (f->bos[i].handle == m.handle)
			size = f->bos[i].size;
	if (chance(10)) {	/* beyond the BO, or at a wrong offset */
		size += 4096 * (1 + rnd(4));
		p = mmap(NULL, size, PROT_READ, MAP_SHARED, f->fd,
			 (off_t)(m.offset + 4096 * rnd(3)));
		if (p != MAP_FAILED)
			munmap(p, size);
		return;
	}
	size = chance(50) ? size : 4096 * (1 + rnd((uint32_t)(size / 4096)));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd,
		 (off_t)m.offset);
	if (p == MAP_FAILED)
		fz_fail("mmap of %llu bytes of BO %u: %s",
			(unsigned long long)size, m.handle, strerror(errno));
	map_add(p, size);
	/* The same pages through a second mapping. A job or a process
	 * sharing the file may write the byte meanwhile, so the two views
	 * need only agree once in a few tries; separate pages never do for
	 * long. */
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, f->fd, (off_t)m.offset);
	if (q == MAP_FAILED)
		fz_fail("second mmap of BO %u: %s", m.handle, strerror(errno));
	i = rnd(4096);
	for (k = 0; k < 8; k++) {
		uint8_t v = (uint8_t)(rnd(255) + 1);

		*(volatile uint8_t *)&p[i] = v;
		if (*(volatile uint8_t *)&q[i] == v)
			break;
	}
	if (k == 8)
		fz_fail("BO %u: byte %d never read back through a second "
			"mapping what the first wrote", m.handle, i);
	munmap(q, 4096);
}

static void op_munmap(void)
{
	int i;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	munmap(maps[i].p, maps[i].size);
	maps[i] = maps[--nmaps];
}

static void op_bo_wait(struct ffd *f)
{
	struct drm_qnpu_bo_wait w = {
		.handle = some_handle(f),
		.flags = chance(95) ? 0 : (uint32_t)rnd_field(32),
	};
	int ret;

	switch (rnd(4)) {
	case 0: w.timeout_ns = (int64_t)rnd_field(64); break;
	case 1: w.timeout_ns = 0; break;
	default: w.timeout_ns = qt_now_ns() + rnd(50) * 1000000LL; break;
	}
	/* A far deadline may wait for a long job: bound it. */
	if (w.timeout_ns > qt_now_ns() + 2000000000LL)
		w.timeout_ns = qt_now_ns() + 2000000000LL;
	ret = fz_ioctl(f->fd, DRM_IOCTL_QNPU_BO_WAIT, &w);
	qnpu_errno_ok("BO_WAIT", ret);
}

/* A VA for a command: mostly one of this file's BOs, sometimes anywhere. */
static uint64_t some_va(struct ffd *f)
{
	if (f->nbos && chance(80)) {
		struct fbo *b = &f->bos[rnd(f->nbos)];

		return b->va + (chance(70) ? rnd((uint32_t)b->size) :
					     b->size + rnd(8192));
	}
	switch (rnd(4)) {
	case 0: return 0;
	case 1: return va_end - 1 - rnd(64);
	case 2: return va_end + rnd(1 << 20);
	default: return va_start + (rnd64() % (va_end - va_start));
	}
}

/* One command: a valid template, then maybe a few mutated fields. */
static int gen_cmds(struct ffd *f, struct qt_cmd *c, int room)
{
	int n = 1, i, k;

	memset(c, 0, sizeof(*c));
	switch (rnd(6)) {
	case 0:
		QT_SET(c, OPCODE, QNPU_OP_SYNC);
		break;
	case 1:
	case 2:
		if (room >= 3) {
			uint32_t len = 1 + rnd(hw_rows * hw_cols);

			n = qt_cmd_copy(c, some_va(f), some_va(f), len,
					hw_cols);
		}
		break;
	case 3:
		qt_cmd_load(c, rnd(3), some_va(f), 1 + rnd(256), 1 + rnd(4),
			    rnd(2) * 256);
		break;
	case 4:
		qt_cmd_store(c, some_va(f), 1 + rnd(256), 1 + rnd(4),
			     rnd(2) * 256);
		break;
	default:	/* any opcode, random fields */
		for (i = 0; i < 16; i++)
			c->w[i] = chance(50) ? 0 : (uint32_t)rnd_field(32);
		c->w[0] = (c->w[0] & ~0xffu) |
			  (chance(70) ? (uint32_t)(QNPU_OP_LOAD + rnd(0x20)) :
					rnd(256));
		break;
	}
	if (chance(60))
		return n;
	for (k = 1 + rnd(3); k--;) {
		struct qt_cmd *m = &c[rnd(n)];

		i = rnd(16);
		switch (rnd(3)) {
		case 0: m->w[i] ^= 1u << rnd(32); break;
		case 1: m->w[i] = (uint32_t)rnd_field(32); break;
		default: m->w[0] ^= 1u << (8 + rnd(4)); break; /* tokens */
		}
	}
	return n;
}

/* The arrays one job description points to. */
struct job_bufs {
	struct drm_qnpu_sync in[4], out[4];
	uint32_t bos[12];
};

/* One job: a single SUBMIT or a batch element; mostly valid. */
static void gen_job(struct ffd *f, struct drm_qnpu_submit *s,
		    struct job_bufs *b)
{
	int i, n = 0, first, valid;

	first = rnd(CMD_SLOTS);
	while (n < 1 + (int)rnd(8) && first + n < CMD_SLOTS)
		n += gen_cmds(f, &f->cmds[first + n], CMD_SLOTS - first - n);
	memset(s, 0, sizeof(*s));
	s->cmd_handle = chance(95) ? f->cmd : some_handle(f);
	s->cmd_offset = (uint64_t)first * QNPU_CMD_BYTES;
	s->cmd_size = (uint64_t)n * QNPU_CMD_BYTES;
	if (chance(8)) {
		switch (rnd(4)) {
		case 0: s->cmd_offset = rnd_field(64); break;
		case 1: s->cmd_size = rnd_field(64); break;
		case 2: s->cmd_offset += 1 + rnd(63); break;
		default: s->cmd_size = max_cmd + QNPU_CMD_BYTES; break;
		}
	}
	/* The BOs: the ones the stream may touch, and some noise. */
	s->bo_count = rnd(12);
	/* Mostly a list that passes validation, to reach the device. */
	valid = chance(85) && f->nbos;
	for (i = 0; i < (int)s->bo_count; i++)
		b->bos[i] = valid ? f->bos[rnd(f->nbos)].handle :
				    some_handle(f);
	s->bo_handles = (uintptr_t)b->bos;
	if (chance(3)) {
		s->bo_count = chance(50) ? DRM_QNPU_MAX_BOS + 1 : 1 + rnd(8);
		s->bo_handles = bad_user_ptr();
	}
	s->in_sync_count = chance(70) ? 0 : 1 + rnd(3);
	for (i = 0; i < (int)s->in_sync_count; i++) {
		/* the throttle syncobj has a fence once the file submitted */
		b->in[i].handle = chance(50) ? f->throttle : some_sync(f);
		b->in[i].flags = chance(97) ? 0 : (uint32_t)rnd_field(32);
		b->in[i].point = chance(80) ? 0 : rnd(4);
	}
	s->in_syncs = chance(98) ? (uintptr_t)b->in : bad_user_ptr();
	/* The throttle syncobj always, so that the file can wait. */
	b->out[0].handle = f->throttle;
	b->out[0].flags = 0;
	b->out[0].point = 0;
	s->out_sync_count = 1 + (chance(60) ? 0 : rnd(3));
	for (i = 1; i < (int)s->out_sync_count; i++) {
		b->out[i].handle = some_sync(f);
		b->out[i].flags = chance(97) ? 0 : (uint32_t)rnd_field(32);
		b->out[i].point = chance(80) ? 0 : 1 + rnd(8);
	}
	s->out_syncs = chance(98) ? (uintptr_t)b->out : bad_user_ptr();
	if (chance(85)) {
		s->info_handle = f->info;
		s->info_offset = rnd(4096 / sizeof(struct drm_qnpu_job_info)) *
				 sizeof(struct drm_qnpu_job_info);
		if (chance(5))
			s->info_offset = rnd_field(64);
	} else if (chance(20)) {
		s->info_handle = some_handle(f);
		s->info_offset = rnd(8192);
	}
	/* Mostly a device watchdog, so that a runaway job ends soon. */
	s->max_kcycles = chance(85) ? 1 + rnd(2048) : (chance(50) ? 0 :
						       (uint32_t)rnd_field(32));
	if (chance(3))
		s->flags = (uint32_t)rnd_field(32);
	if (chance(3))
		s->pad = (uint32_t)rnd_field(32);
}

/* The batch fields on a single job, or broken ones on a batch. */
static void mutate_batch_fields(struct drm_qnpu_submit *s, int batch)
{
	switch (rnd(batch ? 7 : 3)) {
	case 0: s->batch = chance(50) ? rnd_field(64) : bad_user_ptr(); break;
	case 1: s->batch_count = (uint32_t)rnd_field(32); break;
	case 2: s->batch_stride = chance(50) ? sizeof(*s) :
			(uint32_t)rnd_field(32); break;
	case 3: s->batch_count = chance(50) ? 0 : DRM_QNPU_MAX_BATCH + 1;
		break;
	case 4: s->job_id = rnd_field(64); break;
	case 5: s->cmd_size = QNPU_CMD_BYTES; break;	/* a job field */
	default: s->info_offset = 8 * (1 + rnd(8)); break;
	}
}

#define MAX_FUZZ_BATCH	12

static void op_submit(struct ffd *f)
{
	static struct job_bufs bufs[MAX_FUZZ_BATCH];
	struct drm_qnpu_submit el[MAX_FUZZ_BATCH], s;
	int i, n = 1, ret;

	if (!f->cmds)
		return;
	if (chance(30)) {
		/* A batch: every element as a single job would be. */
		n = 1 + rnd(chance(80) ? 4 : MAX_FUZZ_BATCH);
		for (i = 0; i < n; i++) {
			gen_job(f, &el[i], &bufs[i]);
			/* A nested batch or an id in an element. */
			if (chance(2))
				mutate_batch_fields(&el[i], 0);
			if (chance(2))
				el[i].job_id = rnd_field(64);
		}
		memset(&s, 0, sizeof(s));
		s.flags = DRM_QNPU_SUBMIT_BATCH;
		s.batch = (uintptr_t)el;
		s.batch_count = n;
		s.batch_stride = sizeof(s);
		if (chance(5))
			mutate_batch_fields(&s, 1);
		if (chance(2))
			s.flags |= (uint32_t)rnd_field(32);
	} else {
		gen_job(f, &s, &bufs[0]);
		if (chance(3))
			mutate_batch_fields(&s, 0);
	}
	ret = fz_ioctl(f->fd, DRM_IOCTL_QNPU_SUBMIT,
		       chance(99) ? (void *)&s : (void *)(uintptr_t)
		       bad_user_ptr());
	ADD(submits, 1);
	qnpu_errno_ok("SUBMIT", ret);
	if (ret)
		return;
	ADD(submits_ok, 1);
	if (n > 1)
		ADD(batches_ok, 1);
	f->pending += n;
	if (f->pending >= THROTTLE) {
		/* Not guilty of anything here: only a bound on the queue. */
		if (qt_syncobj_wait(f->fd, f->throttle, WAIT_MS) == -ETIME)
			fz_fail("jobs of a file did not finish in %d s",
				WAIT_MS / 1000);
		f->pending = 0;
	}
}

static void op_syncobj(struct ffd *f)
{
	uint32_t h[4];
	uint64_t pts[4];
	int i, ret, n = 1 + rnd(3);

	for (i = 0; i < n; i++) {
		h[i] = some_sync(f);
		pts[i] = chance(70) ? 0 : rnd(8);
	}
	switch (rnd(9)) {
	case 0: {
		struct drm_syncobj_create c = {
			.flags = chance(90) ? (chance(50) ?
					      DRM_SYNCOBJ_CREATE_SIGNALED : 0) :
					     (uint32_t)rnd_field(32),
		};

		if (f->nsyncs < MAXSYNCS &&
		    !fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_CREATE, &c))
			f->syncs[f->nsyncs++] = c.handle;
		break;
	}
	case 1: {
		struct drm_syncobj_destroy d = { .handle = h[0] };

		if (h[0] == f->throttle)
			break;
		ret = fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
		for (i = 0; !ret && i < f->nsyncs; i++)
			if (f->syncs[i] == h[0])
				f->syncs[i] = f->syncs[--f->nsyncs];
		break;
	}
	case 2: {
		struct drm_syncobj_wait w = {
			.handles = (uintptr_t)h,
			.count_handles = n,
			.timeout_nsec = qt_now_ns() + rnd(30) * 1000000LL,
			.flags = rnd(8),
		};

		fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);
		break;
	}
	case 3: {
		struct drm_syncobj_timeline_wait w = {
			.handles = (uintptr_t)h,
			.points = (uintptr_t)pts,
			.count_handles = n,
			.timeout_nsec = qt_now_ns() + rnd(30) * 1000000LL,
			.flags = rnd(8),
		};

		fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
		break;
	}
	case 4:
	case 5: {
		struct drm_syncobj_array a = {
			.handles = (uintptr_t)h,
			.count_handles = n,
		};

		fz_ioctl(f->fd, chance(50) ? DRM_IOCTL_SYNCOBJ_RESET :
			 DRM_IOCTL_SYNCOBJ_SIGNAL, &a);
		break;
	}
	case 6: {
		struct drm_syncobj_timeline_array a = {
			.handles = (uintptr_t)h,
			.points = (uintptr_t)pts,
			.count_handles = n,
			.flags = chance(80) ? 0 : rnd(4),
		};

		for (i = 0; i < n; i++)
			pts[i] = 1 + rnd(8);
		fz_ioctl(f->fd, chance(50) ? DRM_IOCTL_SYNCOBJ_QUERY :
			 DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &a);
		break;
	}
	case 7: {
		struct drm_syncobj_transfer t = {
			.src_handle = h[0],
			.dst_handle = some_sync(f),
			.src_point = rnd(4),
			.dst_point = rnd(4),
			.flags = chance(80) ? 0 : rnd(4),
		};

		fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &t);
		break;
	}
	default: {
		/* Export to another file of ours, as an fd or a sync_file. */
		struct drm_syncobj_handle x = {
			.handle = h[0],
			.flags = rnd(2),
			.fd = -1,
		};
		struct ffd *g = pick_fd();

		if (fz_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &x))
			break;
		x.handle = chance(50) ? 0 : some_sync(g);
		if (!fz_ioctl(g->fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &x) &&
		    !(x.flags & 1) && g->nsyncs < MAXSYNCS)
			g->syncs[g->nsyncs++] = x.handle;
		close(x.fd);
		break;
	}
	}
}

/* Names and PRIME: docs/uapi.md says a BO never leaves its file. */
static void op_share(struct ffd *f)
{
	struct ffd *g = pick_fd();

	if (chance(50)) {
		struct drm_gem_flink fl = { .handle = some_handle(f) };
		struct drm_gem_open op = { .name = rnd(8) };

		if (!fz_ioctl(f->fd, DRM_IOCTL_GEM_FLINK, &fl))
			fz_fail("GEM_FLINK of BO %u gave name %u on a render "
				"node", fl.handle, fl.name);
		if (!fz_ioctl(g->fd, DRM_IOCTL_GEM_OPEN, &op))
			fz_fail("GEM_OPEN of name %u worked on a render node",
				op.name);
	} else {
		struct drm_prime_handle p = {
			.handle = some_handle(f),
			.flags = chance(70) ? DRM_CLOEXEC | DRM_RDWR :
					      (uint32_t)rnd_field(32),
			.fd = -1,
		};
		int i, own = 0;

		for (i = 0; i < f->nbos; i++)
			own |= f->bos[i].handle == p.handle;
		if (!fz_ioctl(f->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p)) {
			if (own)
				fz_fail("PRIME export of BO %u worked",
					p.handle);
			close(p.fd);
		}
		/* Import of something that is not a dma-buf. */
		p.fd = chance(50) ? g->fd : (int)rnd(64);
		if (!fz_ioctl(g->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p))
			fz_fail("PRIME import of fd %d worked", p.fd);
	}
}

/* Unknown driver ioctls and DRM's own, with random bytes. */
static void op_raw_ioctl(struct ffd *f)
{
	uint64_t buf[32];
	unsigned int nr, size;
	int i;

	for (i = 0; i < 32; i++)
		buf[i] = chance(70) ? 0 : rnd_field(64);
	size = rnd(sizeof(buf) + 1);
	nr = chance(60) ? DRM_COMMAND_BASE + rnd(16) : rnd(0xd0);
	/* Kept out: the syncobj waits (a random deadline may be far) and
	 * GEM_CLOSE (it would close BOs the overlap oracle counts live). */
	if (nr == 0xC3 || nr == 0xCA || nr == 0x09)
		return;
	fz_ioctl(f->fd, _IOC(rnd(4), DRM_IOCTL_BASE, nr, size), buf);
}

/* A checker: a file that only ever runs valid copies, which must be
 * exact and OK whatever the other files do to the device. */
static struct qt_dev chk;
static uint32_t chk_bos[2];
static uint8_t *chk_s, *chk_t;
static uint64_t chk_vs, chk_vd;

/*
 * One to four copies, as single jobs or as one batch: each copies its own
 * 512-byte slice of the source BO into the destination BO.
 */
#define CHK_MAX	4

static void op_check(void)
{
	struct drm_qnpu_submit el[CHK_MAX];
	struct drm_qnpu_sync out;
	uint32_t n[CHK_MAX], i, j, st_, k = 1;
	int slot = rnd(QT_INFO_SLOTS - CHK_MAX), ret, batch;

	if (chk.fd <= 0) {
		if (qt_dev_open(&chk, 16) ||
		    qt_dev_bo(&chk, 4096, 0, &chk_bos[0], &chk_vs,
			      (void **)&chk_s) ||
		    qt_dev_bo(&chk, 4096, 0, &chk_bos[1], &chk_vd,
			      (void **)&chk_t)) {
			/* out of memory with big BOs around: try later */
			if (chk.fd > 0)
				qt_dev_close(&chk);
			chk.fd = 0;
			return;
		}
	}
	batch = chance(40);
	if (batch)
		k = 1 + rnd(CHK_MAX);
	memset(chk_t, 0, 4096);
	out = (struct drm_qnpu_sync){ .handle = chk.sync };
	for (j = 0; j < k; j++) {
		n[j] = 1 + rnd(hw_rows * hw_cols < 511 ? hw_rows * hw_cols :
			       511);
		for (i = 0; i < n[j]; i++)
			chk_s[j * 512 + i] = (uint8_t)rnd(256);
		qt_cmd_copy(&chk.cmds[3 * j], chk_vs + j * 512,
			    chk_vd + j * 512, n[j], hw_cols);
		qt_dev_job(&chk, 3 * j, 3, slot + j, &el[j]);
		el[j].bo_handles = (uintptr_t)chk_bos;
		el[j].bo_count = 2;
		el[j].out_syncs = (uintptr_t)&out;
		el[j].out_sync_count = 1;
	}
	if (batch) {
		ret = qt_submit_batch(chk.fd, el, k, NULL);
		if (ret)
			fz_fail("checker batch SUBMIT: %s", strerror(-ret));
	} else {
		ret = qt_ioctl(chk.fd, DRM_IOCTL_QNPU_SUBMIT, &el[0]);
		if (ret)
			fz_fail("checker SUBMIT: %s", strerror(-ret));
	}
	/* The last job's fence; the ring runs them in order. */
	ret = chance(50) ? qt_syncobj_wait(chk.fd, chk.sync, WAIT_MS) :
			   qt_bo_wait(chk.fd, chk.info, WAIT_MS);
	if (ret)
		fz_fail("checker job: wait %s", strerror(-ret));
	for (j = 0; j < k; j++) {
		if (!chk.infos[slot + j].done)
			fz_fail("checker job %u of %u: no info", j, k);
		st_ = chk.infos[slot + j].status;
		ADD(status[st_ < 11 ? st_ : 11 + (st_ & 3)], 1);
		ADD(jobs_checked, 1);
		if (batch)
			ADD(batches_checked, 1);
		if (st_ != DRM_QNPU_JOB_OK ||
		    memcmp(chk_s + j * 512, chk_t + j * 512, n[j]) ||
		    chk_t[j * 512 + n[j]])
			fz_fail("checker copy %u of %u, %u bytes: status %#x, "
				"copy %s", j, k, n[j], st_,
				memcmp(chk_s + j * 512, chk_t + j * 512, n[j]) ?
				"wrong" : "exact");
	}
}

/*
 * Now and then a job that keeps the device busy past the driver's
 * timeout (job_timeout_s=2 here): LOADs of 65535 one-byte rows, no
 * watchdog. The driver resets the device with other files' jobs on it,
 * which must come through (the checkers say so). At most one every
 * HANG_EVERY_S seconds among all processes, to leave the device to the
 * rest.
 */
#define HANG_EVERY_S	10

static void op_hang(struct ffd *f)
{
	struct drm_qnpu_sync out = { .handle = f->throttle };
	struct drm_qnpu_submit s;
	uint32_t bo;
	int i, ret;

	int64_t last = __atomic_load_n(&st->last_hang, __ATOMIC_RELAXED);
	int64_t now = qt_now_ns();

	if (!f->cmds || !f->nbos ||
	    now - last < HANG_EVERY_S * 1000000000LL ||
	    !__atomic_compare_exchange_n(&st->last_hang, &last, now, 0,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	bo = f->bos[rnd(f->nbos)].handle;
	for (i = 0; i < CMD_SLOTS; i++)
		qt_cmd_load(&f->cmds[i], QNPU_BUF_ABUF, f->cmd_va, 1, 65535, 0);
	memset(&s, 0, sizeof(s));
	s.cmd_handle = f->cmd;
	s.cmd_size = CMD_SLOTS * QNPU_CMD_BYTES;
	s.bo_handles = (uintptr_t)&bo;
	s.bo_count = 1;
	s.out_syncs = (uintptr_t)&out;
	s.out_sync_count = 1;
	ret = fz_ioctl(f->fd, DRM_IOCTL_QNPU_SUBMIT, &s);
	qnpu_errno_ok("SUBMIT (hang)", ret);
	if (!ret)
		ADD(hangs, 1);
}

static void child_ops(int count);

/* A child sharing every file with us: it runs a few ops and exits, or
 * dies mid-way. */
static void op_fork(void)
{
	pid_t pid;

	ADD(forks, 1);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		in_child = 1;
		my_seed = rnd64();
		rng_state = my_seed;
		child_ops(1 + rnd(40));
		if (chance(30))
			raise(SIGKILL);
		_exit(0);
	}
	if (chance(30)) {
		usleep(rnd(20000));
		kill(pid, SIGKILL);
		ADD(kills, 1);
	}
	/* A child that failed an oracle has said so and counted it. */
	waitpid(pid, NULL, 0);
}

static void one_op(int allow_fork)
{
	struct ffd *f = pick_fd();
	uint32_t r = rnd(100);

	if (!f || (r < 2)) {
		op_open();
		return;
	}
	if (r < 3 && allow_fork) {
		op_close(f);
		return;
	}
	if (r < 8)
		op_get_param(f);
	else if (r < 20)
		op_bo_create(f);
	else if (r < 26)
		op_gem_close(f);
	else if (r < 32)
		op_mmap(f);
	else if (r < 35)
		op_munmap();
	else if (r < 40)
		op_bo_wait(f);
	else if (r < 70)
		op_submit(f);
	else if (r < 82)
		op_syncobj(f);
	else if (r < 85)
		op_share(f);
	else if (r < 90)
		op_raw_ioctl(f);
	else if (r < 96 || !allow_fork)
		op_check();
	else if (r < 97)
		op_fork();
	else if (r < 98)
		op_hang(f);
	else
		op_submit(f);
}

static void child_ops(int count)
{
	chk.fd = 0;	/* the checker is the parent's: do not wait on it */
	while (count--)
		one_op(0);
}

static void worker(int id, uint64_t seed, int64_t deadline)
{
	int i;

	my_id = id;
	my_seed = seed;
	rng_state = seed;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	printf("fuzz process %d: seed %#llx\n", id, (unsigned long long)seed);
	fflush(stdout);
	for (i = 0; i < MAXFDS; i++)
		fds[i].fd = -1;
	op_open();
	while (qt_now_ns() < deadline)
		one_op(1);
	/* Leave with everything open: the kernel cleans up. */
	_exit(0);
}

static uint64_t seed_of(uint64_t master, int slot, int gen)
{
	rng_state = master ^ ((uint64_t)slot << 32) ^ (uint64_t)gen << 48;
	return rnd64();
}

/* dmesg lines that say the kernel found something wrong. */
static int dmesg_clean(void)
{
	int rc = system("dmesg | grep -E 'WARNING|BUG|Oops|Call Trace|"
			"refcount_t|list_(add|del) corruption|UBSAN|KASAN|"
			"general protection|use-after-free|"
			"inconsistent lock|possible (circular|recursive)' "
			">/tmp/fuzz-dmesg");

	/* grep exits 1 when it found nothing */
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 1)
		return 1;
	printf("dmesg:\n");
	fflush(stdout);
	if (system("head -60 /tmp/fuzz-dmesg"))
		printf("(cannot show it)\n");
	return 0;
}

static int test_fuzz(void)
{
	const char *t = qt_cmdline("qnpu_fuzz_time");
	long secs = t ? strtol(t, NULL, 10) : 60;
	const char *sd = qt_cmdline("qnpu_fuzz_seed");
	uint64_t master = sd ? strtoull(sd, NULL, 0) : 1;
	pid_t pid[NPROCS];
	int gen[NPROCS] = { 0 }, i, fd, status, bad = 0;
	int64_t t0 = qt_now_ns(), deadline = t0 + secs * 1000000000LL;
	uint64_t sched;

	printf("fuzz: seed %llu, %ld s, %d processes (make fuzz-uapi "
	       "FUZZ_SEED=%llu FUZZ_TIME=%ld repeats the sequences)\n",
	       (unsigned long long)master, secs, NPROCS,
	       (unsigned long long)master, secs);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bad_ptr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	qt_assert(st != MAP_FAILED && bad_ptr != MAP_FAILED);
	/* A short driver timeout: random streams may keep the device busy.
	 * Small per-file limits, so that the fuzzer reaches them. */
	qt_assert_eq(qt_module_reload("job_timeout_s=2 max_bos_per_file=40 "
				      "max_mib_per_file=48 "
				      "max_jobs_per_file=24"), 0);
	qt_assert_eq(qt_find_render_node(), 0);
	fd = qt_open();
	qt_assert(fd >= 0);
	va_start = qt_get_param(fd, DRM_QNPU_PARAM_VA_START);
	va_end = qt_get_param(fd, DRM_QNPU_PARAM_VA_END);
	max_bo = qt_get_param(fd, DRM_QNPU_PARAM_MAX_BO_SIZE);
	max_cmd = qt_get_param(fd, DRM_QNPU_PARAM_MAX_CMD_BYTES);
	hw_rows = qt_get_param(fd, DRM_QNPU_PARAM_HW_ROWS);
	hw_cols = qt_get_param(fd, DRM_QNPU_PARAM_HW_COLS);
	close(fd);
	/* Orphans of killed processes come to us, to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	for (i = 0; i < NPROCS; i++) {
		uint64_t s = seed_of(master, i, 0);

		pid[i] = fork();
		qt_assert(pid[i] >= 0);
		if (!pid[i])
			worker(i, s, deadline);
	}
	/* Kill a process now and then and start another in its place. */
	rng_state = master;
	sched = rnd64();
	while (qt_now_ns() < deadline - 1000000000LL) {
		rng_state = sched;
		usleep(300000 + rnd(2700000));
		i = rnd(NPROCS);
		sched = rnd64();
		if (qt_now_ns() >= deadline - 1000000000LL)
			break;
		kill(pid[i], SIGKILL);
		ADD(kills, 1);
		waitpid(pid[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status))
			bad++;
		gen[i]++;
		{
			uint64_t s = seed_of(master, i, gen[i]);

			pid[i] = fork();
			qt_assert(pid[i] >= 0);
			if (!pid[i])
				worker(i, s, deadline);
		}
	}
	for (i = 0; i < NPROCS; i++) {
		/* A process stuck past the deadline is a failure too. */
		int64_t end = deadline + WAIT_MS * 1000000LL;

		while (waitpid(pid[i], &status, WNOHANG) == 0) {
			if (qt_now_ns() > end) {
				printf("FAIL: fuzz process %d did not finish\n",
				       i);
				kill(pid[i], SIGKILL);
				waitpid(pid[i], &status, 0);
				bad++;
				break;
			}
			usleep(20000);
		}
		if (WIFEXITED(status) && WEXITSTATUS(status))
			bad++;
		if (WIFSIGNALED(status)) {
			printf("FAIL: fuzz process %d died of signal %d\n", i,
			       WTERMSIG(status));
			bad++;
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	printf("fuzz: %.1f s: %llu ioctls (%llu SUBMITs, %llu accepted, "
	       "%llu of them batches), %llu checked jobs (%llu in batches), "
	       "%llu hangs, %llu mmaps, %llu opens, "
	       "%llu forks, %llu kills\n", (qt_now_ns() - t0) / 1e9,
	       (unsigned long long)st->ioctls,
	       (unsigned long long)st->submits,
	       (unsigned long long)st->submits_ok,
	       (unsigned long long)st->batches_ok,
	       (unsigned long long)st->jobs_checked,
	       (unsigned long long)st->batches_checked,
	       (unsigned long long)st->hangs, (unsigned long long)st->mmaps, (unsigned long long)st->opens,
	       (unsigned long long)st->forks, (unsigned long long)st->kills);
	printf("fuzz: errnos:");
	for (i = 1; i < 140; i++)
		if (st->err[i])
			printf(" %s %llu", strerrorname_np(i) ?: "?",
			       (unsigned long long)st->err[i]);
	printf("\nfuzz: rings: ");
	fflush(stdout);
	if (system("grep -E 'resets|lost' /sys/kernel/debug/dri/*/rings | "
		   "tr '\\n' ' '; echo"))
		printf("?\n");
	/* Everything closed: nothing left, the module goes, no WARN. These
	 * run whatever the processes found: the kernel's state is the point. */
	qt_assert_eq(qt_wait_counts(0, 0, WAIT_MS), 0);
	qt_assert_eq(qt_module_unload(), 0);
	qt_assert(qt_taint_ok());
	qt_assert(dmesg_clean());
	printf("fuzz: kernel clean: counts zero, module unloaded, no taint, "
	       "nothing in dmesg\n");
	qt_assert_eq(bad, 0);
	qt_assert_eq(st->failures, 0);
	qt_assert(st->jobs_checked > 0);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "fuzz-uapi", test_fuzz },
};

int main(int argc, char **argv)
{
	if (!qt_selected(argv[0])) {
		printf("SKIP: only in the fuzzer's VM run (make fuzz-uapi)\n");
		return QT_SKIP;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
