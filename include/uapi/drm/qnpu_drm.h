/* SPDX-License-Identifier: MIT */
/*
 * qnpu: uAPI of the qnpu INT8 NPU DRM render-node driver.
 *
 * Every struct here follows Documentation/process/botching-up-ioctls.rst:
 * explicit padding, 64-bit aligned 64-bit fields, pointers as __u64,
 * absolute __s64 timeouts (CLOCK_MONOTONIC nanoseconds), and every flag
 * bit, padding and reserved field that is not defined must be zero or the
 * ioctl fails with -EINVAL. Ioctl numbers are only ever appended.
 *
 * Errors (Documentation/gpu/drm-uapi.rst): -ENOENT for an unknown GEM or
 * syncobj handle, -EINVAL for a bad argument, -EFAULT for a bad pointer,
 * -ENODEV once the device is lost or removed, -ENOSPC / -EBUSY at a
 * per-file limit (module parameters). docs/uapi.md describes the model.
 */
#ifndef _QNPU_DRM_H_
#define _QNPU_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_QNPU_GET_PARAM		0x00
#define DRM_QNPU_BO_CREATE		0x01
#define DRM_QNPU_BO_MMAP_OFFSET		0x02
#define DRM_QNPU_BO_WAIT		0x03
#define DRM_QNPU_SUBMIT			0x04

#define DRM_IOCTL_QNPU_GET_PARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QNPU_GET_PARAM, \
		 struct drm_qnpu_get_param)
#define DRM_IOCTL_QNPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QNPU_BO_CREATE, \
		 struct drm_qnpu_bo_create)
#define DRM_IOCTL_QNPU_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QNPU_BO_MMAP_OFFSET, \
		 struct drm_qnpu_bo_mmap_offset)
#define DRM_IOCTL_QNPU_BO_WAIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_QNPU_BO_WAIT, struct drm_qnpu_bo_wait)
#define DRM_IOCTL_QNPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_QNPU_SUBMIT, struct drm_qnpu_submit)

/**
 * enum drm_qnpu_param - parameters readable with DRM_IOCTL_QNPU_GET_PARAM
 *
 * The hardware values come from the device's identification registers;
 * the driver never guesses them.
 */
enum drm_qnpu_param {
	/** @DRM_QNPU_PARAM_VERSION: programming model, major << 16 | minor */
	DRM_QNPU_PARAM_VERSION = 0,
	/** @DRM_QNPU_PARAM_HW_ROWS: MAC array rows R */
	DRM_QNPU_PARAM_HW_ROWS = 1,
	/** @DRM_QNPU_PARAM_HW_COLS: MAC array columns C */
	DRM_QNPU_PARAM_HW_COLS = 2,
	/** @DRM_QNPU_PARAM_ABUF_BYTES: activation SRAM bytes */
	DRM_QNPU_PARAM_ABUF_BYTES = 3,
	/** @DRM_QNPU_PARAM_WBUF_BYTES: weight SRAM bytes */
	DRM_QNPU_PARAM_WBUF_BYTES = 4,
	/** @DRM_QNPU_PARAM_PBUF_BYTES: parameter SRAM bytes */
	DRM_QNPU_PARAM_PBUF_BYTES = 5,
	/** @DRM_QNPU_PARAM_OBUF_BYTES: output SRAM bytes */
	DRM_QNPU_PARAM_OBUF_BYTES = 6,
	/** @DRM_QNPU_PARAM_CMD_BYTES: bytes per command (64) */
	DRM_QNPU_PARAM_CMD_BYTES = 7,
	/** @DRM_QNPU_PARAM_VA_BITS: device virtual address bits */
	DRM_QNPU_PARAM_VA_BITS = 8,
	/** @DRM_QNPU_PARAM_VA_START: lowest device VA BO_CREATE returns */
	DRM_QNPU_PARAM_VA_START = 9,
	/** @DRM_QNPU_PARAM_VA_END: end (exclusive) of the device VA range */
	DRM_QNPU_PARAM_VA_END = 10,
	/**
	 * @DRM_QNPU_PARAM_MAX_BO_SIZE: largest size BO_CREATE accepts (the
	 * smaller of 1 GiB and the file's byte limit)
	 */
	DRM_QNPU_PARAM_MAX_BO_SIZE = 11,
	/** @DRM_QNPU_PARAM_MAX_CMD_BYTES: largest SUBMIT cmd_size */
	DRM_QNPU_PARAM_MAX_CMD_BYTES = 12,
	/** @DRM_QNPU_PARAM_DEVICE_LOST: 1 once the device stopped answering */
	DRM_QNPU_PARAM_DEVICE_LOST = 13,
	/**
	 * @DRM_QNPU_PARAM_MAX_BATCH: most jobs one SUBMIT with
	 * %DRM_QNPU_SUBMIT_BATCH takes (%DRM_QNPU_MAX_BATCH); a driver that
	 * fails this query with -EINVAL has no batches
	 */
	DRM_QNPU_PARAM_MAX_BATCH = 14,
	/*
	 * The memory system the device reports (programming model 1.1), what
	 * the compiler's cost model plans with. A 1.0 device reports none:
	 * the driver returns 0 for each; a driver that predates them fails
	 * these queries with -EINVAL. Either way the client should plan for
	 * the defaults (C bytes, 16 entries, ideal memory).
	 */
	/** @DRM_QNPU_PARAM_DMA_BYTES: DMA port bytes per cycle and direction */
	DRM_QNPU_PARAM_DMA_BYTES = 15,
	/** @DRM_QNPU_PARAM_QUEUE_DEPTH: entries of each engine's command queue */
	DRM_QNPU_PARAM_QUEUE_DEPTH = 16,
	/**
	 * @DRM_QNPU_PARAM_MEM_LATENCY: device-memory cycles from a read
	 * request to its first data (0: ideal)
	 */
	DRM_QNPU_PARAM_MEM_LATENCY = 17,
	/**
	 * @DRM_QNPU_PARAM_MEM_BYTES_PER_CYCLE: device-memory bytes per cycle
	 * and direction (0: no limit)
	 */
	DRM_QNPU_PARAM_MEM_BYTES_PER_CYCLE = 18,
	/**
	 * @DRM_QNPU_PARAM_MEM_OUTSTANDING: device-memory bursts in flight per
	 * direction (0: no limit)
	 */
	DRM_QNPU_PARAM_MEM_OUTSTANDING = 19,
};

/**
 * struct drm_qnpu_get_param - query a device parameter
 *
 * Unknown @param: -EINVAL.
 */
struct drm_qnpu_get_param {
	/** @param: Input: one of &enum drm_qnpu_param */
	__u32 param;
	/** @pad: Input: must be 0 */
	__u32 pad;
	/** @value: Output: the parameter's value */
	__u64 value;
};

/*
 * The device may read the BO but never write it: its page-table entries
 * lack the W bit, so a device write is an MMU fault (command streams,
 * weights).
 */
#define DRM_QNPU_BO_READONLY		(1 << 0)
#define DRM_QNPU_BO_FLAGS		DRM_QNPU_BO_READONLY

/**
 * struct drm_qnpu_bo_create - create a buffer object
 *
 * The BO is shmem-backed, pinned, and given the address @va at creation in
 * the calling file's own device address space (one per open file); its
 * page-table entries are written before the file's next job starts. It is
 * unmapped, and its pages released, once its last reference is gone and
 * no job of the file is left (a job may reach any BO of its file, listed
 * or not). The device never sees another file's BOs. @size is rounded up
 * to the page size; 0 or more than 1 GiB is -EINVAL; beyond the file's
 * limits (module parameters max_bos_per_file, max_mib_per_file; BOs
 * awaiting teardown count) -ENOSPC.
 */
struct drm_qnpu_bo_create {
	/** @size: Input: size in bytes */
	__u64 size;
	/** @flags: Input: DRM_QNPU_BO_* */
	__u32 flags;
	/** @handle: Output: GEM handle */
	__u32 handle;
	/** @va: Output: device virtual address in this file's context */
	__u64 va;
};

/**
 * struct drm_qnpu_bo_mmap_offset - fake offset for mmap() of a BO
 *
 * mmap(2) the DRM file at @offset to access the BO from the CPU.
 */
struct drm_qnpu_bo_mmap_offset {
	/** @handle: Input: GEM handle */
	__u32 handle;
	/** @flags: Input: must be 0 */
	__u32 flags;
	/** @offset: Output: offset to pass to mmap() */
	__u64 offset;
};

/**
 * struct drm_qnpu_bo_wait - wait until every job using a BO has finished
 *
 * Returns 0 when idle, -ETIMEDOUT if @timeout_ns passed first (a timeout
 * in the past polls), -EINTR/-ERESTARTSYS on a signal.
 */
struct drm_qnpu_bo_wait {
	/** @handle: Input: GEM handle */
	__u32 handle;
	/** @flags: Input: must be 0 */
	__u32 flags;
	/** @timeout_ns: Input: absolute CLOCK_MONOTONIC deadline, in ns */
	__s64 timeout_ns;
};

/**
 * struct drm_qnpu_sync - one syncobj a job waits on or signals
 *
 * @point 0 is a binary syncobj (signal replaces its fence); any other
 * value is a timeline point.
 */
struct drm_qnpu_sync {
	/** @handle: Input: syncobj handle */
	__u32 handle;
	/** @flags: Input: must be 0 */
	__u32 flags;
	/** @point: Input: timeline point, 0 for a binary syncobj */
	__u64 point;
};

/* Limits of one SUBMIT. */
#define DRM_QNPU_MAX_BOS		4096
#define DRM_QNPU_MAX_SYNCS		64
/* Jobs in one batch (&struct drm_qnpu_submit.batch_count). */
#define DRM_QNPU_MAX_BATCH		64

/*
 * &struct drm_qnpu_submit.flags: the struct does not describe a job
 * itself but carries a batch of jobs in @batch.
 */
#define DRM_QNPU_SUBMIT_BATCH		(1 << 0)
#define DRM_QNPU_SUBMIT_FLAGS		DRM_QNPU_SUBMIT_BATCH

/**
 * struct drm_qnpu_submit - queue a command stream on the device
 *
 * The job runs in the calling file's address space: commands
 * [@cmd_offset, @cmd_offset + @cmd_size) of BO @cmd_handle, executed after
 * every fence of @in_syncs and every earlier job writing a listed BO. The
 * command BO, the BOs of @bo_handles and the info BO are kept alive until
 * the job has finished; list every BO the command stream touches (other
 * BOs of the file stay mapped too until the job ends, but get no implicit
 * fence). Each of @out_syncs gets the job's fence, which signals with an
 * error if the job failed (-EFAULT MMU fault, -ETIMEDOUT hang or watchdog,
 * -EIO another device error, -ENODEV device lost or removed, -ECANCELED
 * not run because an in-sync failed or its process was killed, -ESRCH
 * not run because the scheduler dropped it when its killed process's
 * queue did not drain; no job info is written then).
 *
 * If @info_handle is not 0, a &struct drm_qnpu_job_info is written into
 * that BO at @info_offset when the job ends (before its fence signals):
 * its status, fault address and performance counters.
 *
 * Batches: with %DRM_QNPU_SUBMIT_BATCH in @flags, one ioctl queues
 * @batch_count jobs, each described by one element of @batch exactly as a
 * single SUBMIT would describe it (its own command stream, BOs, in- and
 * out-syncs, info BO and watchdog; an element's @flags, @job_id and batch
 * fields must be 0). Every other field of the outer struct must then be 0.
 * The batch is all or nothing: every element is checked, and every handle
 * looked up, before any job is queued, so an error in any element (the
 * errno is the one a single SUBMIT of it would give) queues no job at all
 * and signals no out-sync. The jobs get consecutive ids (the first in
 * @job_id; an element's own @job_id is not written), reach the device's
 * ring in array order and run in that order, one after the other; each
 * job has its own fence, info and result, so one failing job does not
 * stop the next. The driver rings the device's doorbell once for a run of
 * jobs of a batch rather than once per job. The file's job limit counts
 * every job of the batch (-EBUSY if they do not all fit).
 *
 * -EINVAL: unknown flags, non-zero pad, @cmd_size 0, not a
 * multiple of the command size or above %DRM_QNPU_PARAM_MAX_CMD_BYTES,
 * @cmd_offset not command-aligned, the commands or the info past the end
 * of their BO, @info_offset not 8-byte aligned, more than
 * %DRM_QNPU_MAX_BOS BOs or %DRM_QNPU_MAX_SYNCS syncobjs, a count without
 * its array, an in-sync with no fence, a BO of another file's address
 * space (opened by GEM name or PRIME); a batch with @batch_count 0 or
 * above %DRM_QNPU_MAX_BATCH, @batch_stride not the size of this struct,
 * @batch 0, a job field set in the outer struct, or an element with flags,
 * @job_id or batch fields set; batch fields without the flag.
 * -ENOENT: unknown BO or syncobj.
 * -EFAULT: an array pointer that cannot be read. -EBUSY: the file has
 * max_jobs_per_file (module parameter) jobs not yet finished.
 * -ENODEV: the device is lost or removed.
 */
struct drm_qnpu_submit {
	/** @cmd_handle: Input: BO holding the command stream */
	__u32 cmd_handle;
	/** @flags: Input: DRM_QNPU_SUBMIT_* */
	__u32 flags;
	/** @cmd_offset: Input: byte offset of the first command in the BO */
	__u64 cmd_offset;
	/** @cmd_size: Input: bytes of commands */
	__u64 cmd_size;
	/** @bo_handles: Input: pointer to __u32 GEM handles */
	__u64 bo_handles;
	/** @bo_count: Input: number of @bo_handles */
	__u32 bo_count;
	/** @in_sync_count: Input: number of @in_syncs */
	__u32 in_sync_count;
	/** @in_syncs: Input: pointer to &struct drm_qnpu_sync to wait on */
	__u64 in_syncs;
	/** @out_syncs: Input: pointer to &struct drm_qnpu_sync to signal */
	__u64 out_syncs;
	/** @out_sync_count: Input: number of @out_syncs */
	__u32 out_sync_count;
	/** @info_handle: Input: BO receiving the job info, 0 for none */
	__u32 info_handle;
	/** @info_offset: Input: byte offset of the job info in that BO */
	__u64 info_offset;
	/**
	 * @max_kcycles: Input: device watchdog in units of 1024 cycles,
	 * 0 for none; expiry fails the job with %DRM_QNPU_JOB_TIMEOUT
	 */
	__u32 max_kcycles;
	/** @pad: Input: must be 0 */
	__u32 pad;
	/**
	 * @job_id: Output: the job's id, also in its job info; for a batch,
	 * the first job's (job i of the batch has id @job_id + i)
	 */
	__u64 job_id;
	/**
	 * @batch: Input: with %DRM_QNPU_SUBMIT_BATCH, pointer to an array of
	 * @batch_count &struct drm_qnpu_submit, one job each; else 0
	 */
	__u64 batch;
	/**
	 * @batch_count: Input: with %DRM_QNPU_SUBMIT_BATCH, the number of
	 * jobs, 1 to %DRM_QNPU_MAX_BATCH; else 0
	 */
	__u32 batch_count;
	/**
	 * @batch_stride: Input: with %DRM_QNPU_SUBMIT_BATCH, the size of one
	 * element of @batch: sizeof(struct drm_qnpu_submit); else 0
	 */
	__u32 batch_stride;
};

/*
 * Job status (&struct drm_qnpu_job_info.status). 0..10 are the device's own
 * completion codes (docs/hw-spec.md); 0x100 and up are the driver's.
 */
#define DRM_QNPU_JOB_OK			0
#define DRM_QNPU_JOB_BAD_OPCODE		1
#define DRM_QNPU_JOB_BAD_FIELD		2
#define DRM_QNPU_JOB_SRAM_RANGE		3
#define DRM_QNPU_JOB_ALIGN		4
#define DRM_QNPU_JOB_FAULT		5
#define DRM_QNPU_JOB_DEADLOCK		6
#define DRM_QNPU_JOB_TOKEN_OVERFLOW	7
#define DRM_QNPU_JOB_TIMEOUT		8
#define DRM_QNPU_JOB_ABORTED		9
#define DRM_QNPU_JOB_BAD_DESC		10
/*
 * The job did not finish within the driver's timeout, or the device wrote a
 * completion the driver could not trust while it was the oldest job on the
 * device; the device was reset.
 */
#define DRM_QNPU_JOB_HANG		0x100
/* The device stopped answering; the job did not complete. */
#define DRM_QNPU_JOB_DEVICE_LOST	0x101
/*
 * The job was not run: the fence of one of its in-syncs carries an error,
 * or its process was killed before the job reached the device.
 */
#define DRM_QNPU_JOB_CANCELED		0x102

/* MMU fault reasons (&struct drm_qnpu_job_info.fault_reason). */
#define DRM_QNPU_FAULT_UNMAPPED		1
#define DRM_QNPU_FAULT_READONLY		2
#define DRM_QNPU_FAULT_VA_RANGE		3
#define DRM_QNPU_FAULT_BUS		4

/**
 * struct drm_qnpu_job_info - what the driver writes when a job ends
 *
 * Written by the driver into the SUBMIT's info BO; @done is set to 1 last
 * (the BO should be zeroed by userspace before the submit). The counters
 * are the device's, for this job only.
 */
struct drm_qnpu_job_info {
	/** @job_id: the SUBMIT's job_id */
	__u64 job_id;
	/** @status: DRM_QNPU_JOB_* */
	__u32 status;
	/** @err_cmd: index of the failing command if status is not OK */
	__u32 err_cmd;
	/** @fault_va: faulting device VA if status is FAULT */
	__u64 fault_va;
	/** @fault_reason: DRM_QNPU_FAULT_* if status is FAULT */
	__u32 fault_reason;
	/** @fault_write: 1 if the faulting access was a write */
	__u32 fault_write;
	/** @fault_level: page-table level at which the walk failed */
	__u32 fault_level;
	/** @done: 1 once the rest of this struct is valid */
	__u32 done;
	/** @cycles: cycles from job start to completion */
	__u64 cycles;
	/** @busy_cycles: cycles in which any engine was working */
	__u64 busy_cycles;
	/** @macs: multiply-accumulates performed */
	__u64 macs;
	/** @dma_in_bytes: bytes read by LOAD commands */
	__u64 dma_in_bytes;
	/** @dma_out_bytes: bytes written by STORE commands */
	__u64 dma_out_bytes;
	/** @cmd_bytes: command-stream bytes fetched */
	__u64 cmd_bytes;
	/** @stall_load_token: cycles the load engine waited for a token */
	__u64 stall_load_token;
	/** @stall_compute_token: cycles compute waited for a token */
	__u64 stall_compute_token;
	/** @stall_store_token: cycles the store engine waited for a token */
	__u64 stall_store_token;
	/** @stall_ppu: cycles compute waited for the PPU */
	__u64 stall_ppu;
	/** @stall_dispatch: cycles the dispatcher waited */
	__u64 stall_dispatch;
	/** @compute_cycles: cycles the MAC array was stepping */
	__u64 compute_cycles;
	/** @load_cycles: cycles the load engine was moving data */
	__u64 load_cycles;
	/** @reserved: 0 */
	__u64 reserved[3];
};

#if defined(__cplusplus)
}
#endif

#endif /* _QNPU_DRM_H_ */
