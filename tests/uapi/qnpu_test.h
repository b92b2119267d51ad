/* SPDX-License-Identifier: MIT */
/*
 * A small IGT-style harness for the qnpu uAPI tests, run inside the VM
 * (tests/vm) against the real qnpu.ko. One program per ioctl, one subtest
 * per failure mode; a subtest returns QT_PASS, QT_FAIL or QT_SKIP (with a
 * printed reason). The program exits 0 if nothing failed and something
 * passed, 77 if everything was skipped, 1 otherwise.
 *
 *   prog                      run every subtest
 *   prog --run-subtest NAME   run one
 *   prog --list-subtests
 */
#ifndef QNPU_TEST_H
#define QNPU_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qnpu_drm.h"

#define QT_PASS	0
#define QT_FAIL	1
#define QT_SKIP	77

struct qt_subtest {
	const char *name;
	int (*fn)(void);
};

/* Runs the subtests; needs a bound qnpu device or exits 77 with why. */
int qt_main(int argc, char **argv, const struct qt_subtest *tests,
	    size_t count);

/* The same without a device: the subtests load and bind it themselves. */
int qt_main_nodev(int argc, char **argv, const struct qt_subtest *tests,
		  size_t count);
/*
 * A VM run for one program only (kernel command line qnpu_only=NAME, e.g.
 * device-lost, where qnpu-sim dies on purpose, or bench): true if it is
 * this program (argv[0] ends in -NAME). Every other program skips.
 */
int qt_selected(const char *argv0);
/* No kernel taint beyond out-of-tree and unsigned modules (no WARN,
 * oops...); prints what there is otherwise. */
int qt_taint_ok(void);
/* Look for the qnpu render node again (after a module reload); 0 if found. */
int qt_find_render_node(void);
/* Module control in the VM: 0 or the command's failure. */
int qt_module_unload(void);
int qt_module_load(const char *params);
int qt_module_reload(const char *params);

/* Path of the qnpu render node (found by qt_main), its debugfs dir. */
extern char qt_node[64];
extern char qt_debugfs[128];

/* Open the render node (a new file: a new device address space). */
int qt_open(void);
/* ioctl restarted on EINTR/EAGAIN; returns 0 or -errno. */
int qt_ioctl(int fd, unsigned long req, void *arg);

/* Helpers that abort the subtest (return QT_FAIL) via the macros below. */
int qt_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t *handle,
		 uint64_t *va);
void *qt_bo_map(int fd, uint32_t handle, size_t size);
int qt_gem_close(int fd, uint32_t handle);
int qt_syncobj_create(int fd, uint32_t *handle);
/* Wait for a binary syncobj; 0 or -errno (-ETIME on timeout). */
int qt_syncobj_wait(int fd, uint32_t handle, int64_t timeout_ms);
/* The error of a signaled syncobj's fence (0 or -errno), through a
 * sync_file; 1 if it has not signaled, or the failing call's -errno. */
int qt_syncobj_fence_error(int fd, uint32_t handle);
/* Interrupts taken by qnpu (all its vectors, /proc/interrupts), or -1. */
long qt_irq_count(void);
/* The value of NAME= on the kernel command line, or NULL (a static
 * buffer, overwritten by the next call). */
const char *qt_cmdline(const char *name);
int64_t qt_now_ns(void);
uint64_t qt_get_param(int fd, uint32_t param);
/* A number from a debugfs file line "key: N", or -1. */
long qt_debugfs_count(const char *file, const char *key);
/* Wait (up to timeout_ms) until debugfs bos and contexts read @bos and
 * @ctxs; 0 if they did, else -1 with the values printed. */
int qt_wait_counts(long bos, long ctxs, int timeout_ms);

/*
 * A process with jobs in flight, to be killed: runs @child(@arg) in a
 * forked process that, once it returns 0 (its jobs queued), tells us and
 * pauses with its files open. Returns the child's pid once it is ready,
 * or -(its exit code) if @child failed (returned that code) or -1.
 */
int qt_fork_ready(int (*child)(void *arg), void *arg);
/* SIGKILL the child and reap it: 0 if it died of the signal, else -1. */
int qt_kill_child(int pid);

/* Commands: build 64-byte commands with the generated field layout. */
struct qt_cmd {
	uint32_t w[16];
};
#define QT_SET(cmd, field, val)						\
	((cmd)->w[QNPU_CMD_##field##_WORD] =				\
	 ((cmd)->w[QNPU_CMD_##field##_WORD] & ~QNPU_CMD_##field##_MASK) | \
	 (((uint32_t)(val) << QNPU_CMD_##field##_SHIFT) &		\
	  QNPU_CMD_##field##_MASK))

void qt_cmd_load(struct qt_cmd *c, int buf, uint64_t va, uint32_t row_bytes,
		 uint32_t rows, uint32_t dstride);
void qt_cmd_store(struct qt_cmd *c, uint64_t va, uint32_t row_bytes,
		  uint32_t rows, uint32_t dstride);
/* LOAD -> 1x1 MAXPOOL (identity) -> STORE: copies n <= rows*cols bytes. */
int qt_cmd_copy(struct qt_cmd *c, uint64_t src, uint64_t dst, uint32_t n,
		uint32_t cols);

/* A file with a command BO, an info BO and a syncobj, for job tests. */
struct qt_dev {
	int fd;
	uint32_t cols, rows;
	uint32_t cmd;		/* command BO */
	uint64_t cmd_va;
	struct qt_cmd *cmds;	/* its CPU mapping */
	uint32_t cmd_cap;	/* commands it holds */
	uint32_t info;		/* info BO: one drm_qnpu_job_info per slot */
	struct drm_qnpu_job_info *infos;
	uint32_t sync;
	/* mappings made by qt_dev_bo(), undone by qt_dev_close() */
	struct { void *p; size_t size; } maps[16];
	int nmaps;
};
#define QT_INFO_SLOTS	16
int qt_dev_open(struct qt_dev *d, uint32_t cmd_cap);
void qt_dev_close(struct qt_dev *d);
/* Submit d->cmds[first .. first + n) with info slot @slot and the syncobj;
 * @bos (may be NULL) are the data BOs used. 0 or -errno. */
int qt_dev_submit(struct qt_dev *d, uint32_t first, uint32_t n,
		  const uint32_t *bos, uint32_t nbos, int slot);
/* Wait for the syncobj and the info slot's done flag. 0 or -errno. */
int qt_dev_wait(struct qt_dev *d, int slot, int64_t timeout_ms);
/* A data BO with its mapping (unmapped by qt_dev_close()). */
int qt_dev_bo(struct qt_dev *d, uint32_t size, uint32_t flags,
	      uint32_t *handle, uint64_t *va, void **map);
/* A BO the size of ABUF (*@bo), and d->cmds[first .. first + n) LOADs
 * that each fill ABUF from it: a job of them keeps the device busy. */
int qt_dev_long_cmds(struct qt_dev *d, uint32_t first, uint32_t n,
		     uint32_t *bo);

/* Submit @ncmds commands at @cmd_va of BO @cmd; returns 0 or -errno. */
struct qt_job {
	uint32_t cmd_handle;
	uint64_t cmd_offset;
	uint64_t cmd_size;
	uint32_t *bos;
	uint32_t bo_count;
	uint32_t out_sync;	/* 0: none */
	uint32_t info_handle;	/* 0: none */
	uint64_t info_offset;
	uint32_t max_kcycles;
	uint64_t job_id;
};
int qt_submit(int fd, struct qt_job *job);
/* SUBMIT with DRM_QNPU_SUBMIT_BATCH: @n elements; the first job's id. */
int qt_submit_batch(int fd, struct drm_qnpu_submit *jobs, uint32_t n,
		    uint64_t *first_id);
/* BO_WAIT with a deadline @timeout_ms from now; 0 or -errno. */
int qt_bo_wait(int fd, uint32_t handle, int64_t timeout_ms);
/* A batch element (or single job) of d->cmds[first .. first + n) with
 * info slot @slot (zeroed), no BOs and no syncs. */
void qt_dev_job(struct qt_dev *d, uint32_t first, uint32_t n, int slot,
		struct drm_qnpu_submit *s);

#define qt_fail(...)							\
	do {								\
		printf("FAIL: %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
		return QT_FAIL;						\
	} while (0)

#define qt_assert(cond)							\
	do {								\
		if (!(cond))						\
			qt_fail("%s", #cond);				\
	} while (0)

#define qt_assert_eq(a, b)						\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b)						\
			qt_fail("%s == %lld, expected %s == %lld", #a,	\
				_a, #b, _b);				\
	} while (0)

/* @expr (returning 0 or -errno) must fail with @err. */
#define qt_assert_errno(expr, err)					\
	do {								\
		int _r = (expr);					\
		if (_r != -(err))					\
			qt_fail("%s returned %d, expected -%s (%d)",	\
				#expr, _r, #err, -(err));		\
	} while (0)

#define qt_skip(...)							\
	do {								\
		printf("SKIP: ");					\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		return QT_SKIP;						\
	} while (0)

#endif /* QNPU_TEST_H */
