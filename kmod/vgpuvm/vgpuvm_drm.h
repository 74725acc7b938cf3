/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vgpuvm: user-space interface of a test-only DRM driver whose VM_BIND runs the kernel's own drm_gpuvm, so
 * that a user-space model of GPUVM can be compared, op by op, with the real split/merge code, and whose
 * VM_RW reads and writes memory through the kernel's VA tree, as the GPU would see it.
 *
 * It is also a small software GPU: a queue (QUEUE_CREATE) is a drm_sched scheduler with one entity on a
 * VM; it runs asynchronous binds (VM_BIND with a queue) and jobs (EXEC) whose commands copy, fill and
 * checksum memory through the VM's GPU virtual addresses, in submission order, after their in-syncs.
 * Their out-syncs (binary or timeline syncobjs) get the job's scheduler fence, EXEC adds it to the
 * reservations of the VM and of its external objects (BOOKKEEP), and every bind waits for those fences
 * before it changes the VA space, so memory a job uses stays mapped until the job is done.
 *
 * The device is a render node with DRIVER_SYNCOBJ and DRIVER_SYNCOBJ_TIMELINE (the core syncobj ioctls
 * work on it) and PRIME: its BOs export as dma-bufs, and a dma-buf of another driver (vgem, udmabuf)
 * imports as a vgpuvm BO that can be bound like any other, as an external object of the VM.
 *
 * All structures have explicit padding; every pad and reserved field must be zero. Addresses, ranges and
 * offsets are in bytes and need no alignment: the driver has no page tables, only the GPUVM bookkeeping.
 */
#ifndef VGPUVM_DRM_H
#define VGPUVM_DRM_H

#include <drm/drm.h>

#define DRM_VGPUVM_DRIVER_NAME "vgpuvm"

#define DRM_VGPUVM_BO_CREATE		0x00
#define DRM_VGPUVM_BO_INFO		0x01
#define DRM_VGPUVM_VM_CREATE		0x02
#define DRM_VGPUVM_VM_DESTROY		0x03
#define DRM_VGPUVM_VM_BIND		0x04
#define DRM_VGPUVM_VM_QUERY		0x05
#define DRM_VGPUVM_STATS		0x06
#define DRM_VGPUVM_BO_QUERY		0x07
#define DRM_VGPUVM_BO_EVICT		0x08
#define DRM_VGPUVM_VM_VALIDATE		0x09
#define DRM_VGPUVM_VM_RW		0x0a
#define DRM_VGPUVM_QUEUE_CREATE		0x0b
#define DRM_VGPUVM_QUEUE_DESTROY	0x0c
#define DRM_VGPUVM_EXEC			0x0d
#define DRM_VGPUVM_JOB_QUERY		0x0e

/*
 * BO_CREATE: a shmem-backed GEM object of at least @size bytes (rounded up to whole pages).
 *
 * With @vm_id non-zero the BO is private to that VM of this file: it shares the VM's reservation object
 * (GPUVM does not list it among the VM's external objects), it can be bound in that VM only (EINVAL
 * elsewhere), and PRIME export of it fails with EINVAL. It keeps the shared reservation alive after the VM
 * is destroyed. ENOENT: no such VM.
 */
struct drm_vgpuvm_bo_create {
	__u64 size;		/* in: bytes; out: the page-rounded size */
	__u32 handle;		/* out */
	__u32 vm_id;		/* in: 0, or the VM the BO is private to */
	__u64 bo_id;		/* out: a module-wide id, never reused; query records name BOs by it */
};

/*
 * BO_INFO: facts about a handle (also an imported one): its id, its size and the offset to pass to mmap()
 * on the DRM fd to map it.
 */
struct drm_vgpuvm_bo_info {
	__u32 handle;		/* in */
	__u32 pad;
	__u64 bo_id;		/* out */
	__u64 size;		/* out */
	__u64 mmap_offset;	/* out */
};

/*
 * The VM's VmBo lifetime design: who may drop the last reference to a (VM, BO) pair (a drm_gpuvm_bo), and
 * under which lock. It is chosen at VM_CREATE by two flags:
 *
 * - neither flag ("resv"): the VM is staged, the GEM's list of pairs is guarded by the GEM's dma_resv,
 *   which every bind takes with drm_exec (drm_gpuvm_sm_map_exec_lock) around the walk; pairs are found
 *   with drm_gpuvm_bo_obtain_locked and released with drm_gpuvm_bo_put under that lock.
 * - IMMEDIATE | PUT_LOCKED ("gpuva-lock"): DRM_GPUVM_IMMEDIATE_MODE, the list is guarded by the GEM's gpuva
 *   mutex; pairs are pre-allocated (drm_gpuvm_bo_obtain_prealloc), and drm_gpuva_unlink and
 *   drm_gpuvm_bo_put run under the mutex, so the last put frees the pair there and then.
 * - IMMEDIATE alone ("deferred"): immediate mode; drm_gpuva_unlink_defer and drm_gpuvm_bo_put_deferred
 *   turn a pair whose last reference went away into a zombie, which drm_gpuvm_bo_deferred_cleanup frees
 *   later, outside what would be the fence-signalling path.
 *
 * PUT_LOCKED without IMMEDIATE is EINVAL. A BO takes the mode (staged or immediate) of the first VM it is
 * bound in and cannot be bound in a VM of the other mode (GPUVM requires all VMs of one GEM to agree); the
 * two immediate designs may share a BO.
 */
#define DRM_VGPUVM_VM_CREATE_IMMEDIATE	(1u << 0)
#define DRM_VGPUVM_VM_CREATE_PUT_LOCKED	(1u << 1)

/*
 * VM_CREATE: a VA space [va_start, va_start + va_range), with an optional kernel-reserved node
 * [reserve_start, reserve_start + reserve_range) inside it (reserve_range 0: none). VM ids are unique
 * module-wide (never two live VMs with one id, whichever files made them), so BO_QUERY can name the VM of
 * each pair; the id is usable only on the file that made the VM.
 */
struct drm_vgpuvm_vm_create {
	__u64 va_start;
	__u64 va_range;
	__u64 reserve_start;
	__u64 reserve_range;
	__u32 flags;		/* DRM_VGPUVM_VM_CREATE_* */
	__u32 vm_id;		/* out */
};

/* VM_DESTROY: unmaps everything, then drops the VM. */
struct drm_vgpuvm_vm_destroy {
	__u32 vm_id;
	__u32 pad;
};

#define DRM_VGPUVM_BIND_OP_MAP		0
#define DRM_VGPUVM_BIND_OP_UNMAP	1
#define DRM_VGPUVM_BIND_OP_PREFETCH	2
#define DRM_VGPUVM_BIND_OP_MADVISE	3

/* A MAP with no BO: a sparse (NULL) mapping; handle and bo_offset must be 0. */
#define DRM_VGPUVM_BIND_SPARSE		(1u << 0)

/*
 * One bind request: drm_gpuvm_sm_map() for MAP, drm_gpuvm_sm_unmap() for UNMAP. PREFETCH and MADVISE go
 * through GPUVM's list generators instead, and only in synchronous binds (EINVAL on a queue):
 * drm_gpuvm_prefetch_ops_create() gives one PREFETCH op per mapping the range overlaps and changes nothing; drm_gpuvm_madvise_ops_create() splits the sparse
 * mappings the range overlaps at its ends (REMAP and MAP ops; the new pieces stay sparse) and leaves
 * mappings of BOs alone. Both take flags, handle and bo_offset 0, and their range is checked as a MAP's.
 */
struct drm_vgpuvm_bind_op {
	__u32 op;		/* DRM_VGPUVM_BIND_OP_* */
	__u32 flags;		/* DRM_VGPUVM_BIND_* (MAP only) */
	__u32 handle;		/* MAP without SPARSE: the BO; otherwise 0 */
	__u32 pad;
	__u64 addr;
	__u64 range;
	__u64 bo_offset;	/* MAP without SPARSE: offset into the BO; otherwise 0 */
};

/*
 * A syncobj of this file that a queued job waits for (in-sync) or signals (out-sync). Binary: @point 0.
 * DRM_VGPUVM_SYNC_TIMELINE: @point is a point on a timeline syncobj, at least 1 (an in-sync waits for it
 * to be submitted and signalled; an out-sync adds it, with the job's fence, as drm_syncobj_add_point does).
 */
#define DRM_VGPUVM_SYNC_TIMELINE	(1u << 0)

struct drm_vgpuvm_sync {
	__u32 handle;
	__u32 flags;		/* 0 or DRM_VGPUVM_SYNC_TIMELINE */
	__u64 point;
};

#define DRM_VGPUVM_MAX_SYNCS	64

/*
 * VM_BIND: runs @count ops in order. Every op is checked before any runs, so EINVAL (bad fields, zero
 * range, overflow, outside the VA space, touching the reserved node, beyond the BO, a BO private to
 * another VM, a BO of the other mode), ENOENT (unknown handle) and EFAULT change nothing; @failed_op then
 * names the op at fault.
 *
 * Synchronous (@queue_id 0, no syncs): it first waits (interruptibly) for every job fence in the VM's
 * reservation, so no job of the VM runs while the VA space changes; then the ops run. A later failure
 * (ENOMEM, or EINTR while waiting for a lock) leaves ops [0, @done) applied and the rest not; the one that
 * failed changed nothing. QUERY_OPS then lists the ops GPUVM generated.
 *
 * Asynchronous (@queue_id a queue of the VM): the ops become a job on that queue, allocated and checked
 * here, applied all together when the job runs: after the queue's earlier jobs, the in-syncs, and every
 * job fence in the VM's reservation when the bind was submitted. Only immediate-mode VMs take them (the
 * staged design must hold the BOs' reservations while GPUVM walks, which a job may not take): EINVAL on a
 * staged VM. @done stays 0, @job_id names the job (JOB_QUERY), and the out-syncs get its fence. The job
 * fails with ENOENT, applying nothing, if the VM was destroyed first. QUERY_OPS does not list its ops.
 * With @queue_id 0 the sync counts must be 0.
 */
struct drm_vgpuvm_vm_bind {
	__u32 vm_id;
	__u32 count;		/* at most DRM_VGPUVM_BIND_MAX_OPS */
	__u64 ops;		/* user pointer to count struct drm_vgpuvm_bind_op */
	__u32 stride;		/* sizeof(struct drm_vgpuvm_bind_op) */
	__u32 done;		/* out: ops applied */
	__u32 failed_op;	/* out: index of the op rejected by the checks, or ~0 */
	__u32 queue_id;		/* 0: synchronous; else a queue (QUEUE_CREATE) of this VM */
	__u32 num_in_syncs;	/* at most DRM_VGPUVM_MAX_SYNCS */
	__u32 num_out_syncs;	/* at most DRM_VGPUVM_MAX_SYNCS */
	__u64 in_syncs;		/* user pointer to struct drm_vgpuvm_sync */
	__u64 out_syncs;	/* user pointer to struct drm_vgpuvm_sync */
	__u64 job_id;		/* out: the job's id on its queue (asynchronous), else 0 */
};

#define DRM_VGPUVM_BIND_MAX_OPS	4096

/* A mapping as GPUVM holds it; bo_id 0 means no BO (a sparse mapping). */
struct drm_vgpuvm_va {
	__u64 addr;
	__u64 range;
	__u64 bo_offset;	/* the drm_gpuva's gem.offset, as GPUVM computed it (also for sparse) */
	__u64 bo_id;
	__u32 flags;		/* the drm_gpuva's flags: DRM_VGPUVM_VA_* */
	__u32 pad;
};

#define DRM_VGPUVM_VA_SPARSE		(1u << 1)	/* = DRM_GPUVA_SPARSE */

#define DRM_VGPUVM_OP_MAP	1
#define DRM_VGPUVM_OP_REMAP	2
#define DRM_VGPUVM_OP_UNMAP	3
#define DRM_VGPUVM_OP_PREFETCH	4

/*
 * One op GPUVM generated, in generation order. MAP: @va is the new mapping. UNMAP: @va is the mapping
 * removed. REMAP: @va is the mapping removed, @prev and @next the pieces kept (range 0: absent). @keep is
 * the op's keep hint (UNMAP and REMAP). PREFETCH: @va is the mapping to prefetch.
 */
struct drm_vgpuvm_op {
	__u32 kind;		/* DRM_VGPUVM_OP_* */
	__u32 keep;
	struct drm_vgpuvm_va va;
	struct drm_vgpuvm_va prev;
	struct drm_vgpuvm_va next;
};

/*
 * A (VM, BO) pair, a drm_gpuvm_bo, as the debug queries report it: its kernel refcount (one per mapping
 * linked to it, plus any reference a bind in progress holds), its mappings, and which of the VM's lists it
 * is on. A zombie (refcount 0, waiting for drm_gpuvm_bo_deferred_cleanup) may still be on the extobj and
 * evict lists until the cleanup runs.
 */
#define DRM_VGPUVM_PAIR_EXTOBJ		(1u << 0)	/* on the VM's extobj list */
#define DRM_VGPUVM_PAIR_EVICT_LISTED	(1u << 1)	/* on the VM's evict list */
#define DRM_VGPUVM_PAIR_EVICTED		(1u << 2)	/* drm_gpuvm_bo.evicted */

struct drm_vgpuvm_pair {
	__u64 bo_id;
	__u32 vm_id;
	__u32 refcount;		/* kref_read of the drm_gpuvm_bo */
	__u32 vas;		/* drm_gpuvas linked to the pair */
	__u32 flags;		/* DRM_VGPUVM_PAIR_* */
};

#define DRM_VGPUVM_QUERY_TREE		0	/* the VM's mappings in address order, as struct drm_vgpuvm_va */
#define DRM_VGPUVM_QUERY_OPS		1	/* the ops of the last VM_BIND, as struct drm_vgpuvm_op */
#define DRM_VGPUVM_QUERY_EXTOBJ		2	/* the VM's extobj list in order, as struct drm_vgpuvm_pair */
#define DRM_VGPUVM_QUERY_EVICT		3	/* the VM's evict list in order, as struct drm_vgpuvm_pair */
#define DRM_VGPUVM_QUERY_ZOMBIES	4	/* pairs awaiting deferred cleanup, as struct drm_vgpuvm_pair */

/*
 * VM_QUERY: copies up to @capacity records to @records and sets @count to the number there are (call
 * with capacity 0 to size the buffer). The reserved node is not a mapping and is never listed.
 */
struct drm_vgpuvm_vm_query {
	__u32 vm_id;
	__u32 what;		/* DRM_VGPUVM_QUERY_* */
	__u32 capacity;
	__u32 count;		/* out */
	__u64 records;		/* user pointer */
};

/* STATS: module-wide counts of live objects, for leak checks after a test. */
struct drm_vgpuvm_stats {
	__u64 vms;		/* drm_gpuvm instances not yet freed */
	__u64 bos;		/* GEM objects not yet freed */
	__u64 vm_bos;		/* drm_gpuvm_bo instances not yet freed */
	__u64 vas;		/* drm_gpuva instances not yet freed */
	__u64 queues;		/* queues (drm_sched schedulers) not yet torn down */
	__u64 jobs;		/* jobs (binds and EXECs) not yet freed by their scheduler */
};

/*
 * BO_QUERY: the BO's pairs in the order of the GEM's list of drm_gpuvm_bos (a zombie has left that list),
 * up to @capacity records (at most DRM_VGPUVM_BIND_MAX_OPS are written; @count is the true number), and
 * facts about the BO.
 */
#define DRM_VGPUVM_BO_PRIVATE		(1u << 0)	/* VM-private: shares a VM's reservation */
#define DRM_VGPUVM_BO_IMPORTED		(1u << 1)	/* imported from another driver's dma-buf */

struct drm_vgpuvm_bo_query {
	__u32 handle;		/* in */
	__u32 capacity;		/* in: room in @records */
	__u64 records;		/* user pointer to struct drm_vgpuvm_pair */
	__u32 count;		/* out: pairs there are */
	__u32 flags;		/* out: DRM_VGPUVM_BO_* */
	__u64 bo_id;		/* out */
	__u64 size;		/* out */
};

/*
 * BO_EVICT: marks the BO evicted (@evict 1) or resident (@evict 0) in every VM it is bound in, as a memory
 * manager does when it moves a BO: drm_gpuvm_bo_gem_evict under the BO's resv (and its gpuva mutex). The
 * pairs go on (or off) their VMs' evict lists; VM_VALIDATE takes them off again.
 */
struct drm_vgpuvm_bo_evict {
	__u32 handle;
	__u32 evict;		/* 0 or 1 */
};

/*
 * VM_VALIDATE: drm_gpuvm_exec_lock (the VM's resv and every extobj's), then drm_gpuvm_validate: every pair
 * on the evict list is validated (its evicted mark cleared, off the list), as a submission does first.
 */
struct drm_vgpuvm_vm_validate {
	__u32 vm_id;
	__u32 validated;	/* out: pairs validated */
};

/*
 * VM_RW: the CPU reads or writes @size bytes at GPU address @addr of the VM through its mappings, exactly
 * as the GPU would: the kernel walks its drm_gpuvm tree and copies to or from the pages of the BO behind
 * each mapping, at the mapping's BO offset (also for BOs imported from another driver). A sparse mapping
 * reads as zeros and drops writes, as a NULL binding of a GPU does; with DRM_VGPUVM_RW_SPARSE_FAULT a
 * sparse byte faults like an unmapped one. Eviction marks (BO_EVICT) are bookkeeping only: the pages stay.
 *
 * The whole range is resolved before any byte moves: if any byte of it lies in no mapping (a hole, the
 * kernel-reserved node, outside the VA space), or in a sparse one with SPARSE_FAULT, the call fails with
 * EFAULT, @fault_addr names the first such byte, and nothing is read or written. A WRITE reads all of
 * @data before it writes any byte. EFAULT with @fault_addr ~0 means @data itself could not be read (WRITE:
 * nothing written) or written (READ). EINVAL: not exactly one of READ and WRITE, an unknown flag, a
 * non-zero pad, @size 0 or above DRM_VGPUVM_RW_MAX_SIZE, or @addr + @size beyond 2^64 - 1. ENOENT: no such
 * VM on this file. ENOMEM: the BOs' pages could not be mapped (nothing was written).
 */
#define DRM_VGPUVM_RW_READ		(1u << 0)
#define DRM_VGPUVM_RW_WRITE		(1u << 1)
#define DRM_VGPUVM_RW_SPARSE_FAULT	(1u << 2)

#define DRM_VGPUVM_RW_MAX_SIZE		(64u << 20)

struct drm_vgpuvm_vm_rw {
	__u32 vm_id;
	__u32 flags;		/* DRM_VGPUVM_RW_READ or _WRITE, optionally | _SPARSE_FAULT */
	__u64 addr;		/* GPU virtual address of the first byte */
	__u64 data;		/* user pointer to @size bytes: filled by READ, read by WRITE */
	__u32 size;		/* bytes, 1 to DRM_VGPUVM_RW_MAX_SIZE */
	__u32 pad;
	__u64 fault_addr;	/* out: the first GPU address not backed by a BO (EFAULT), else ~0 */
};

/*
 * QUEUE_CREATE: a queue on a VM of this file: a drm_sched scheduler with one entity, running that VM's
 * asynchronous binds and EXEC jobs one at a time in submission order. It holds the VM: VM_DESTROY of the
 * VM first destroys its queues. Queue ids are per file. @flags must be 0.
 */
struct drm_vgpuvm_queue_create {
	__u32 vm_id;
	__u32 flags;
	__u32 queue_id;		/* out */
	__u32 pad;
};

/*
 * QUEUE_DESTROY: waits (up to about a second, as drm_sched_entity_flush does, and not at all when the
 * process is being killed) for the queue's jobs, kills the ones left (their fences signal with an error),
 * and frees the queue.
 */
struct drm_vgpuvm_queue_destroy {
	__u32 queue_id;
	__u32 pad;
};

/*
 * The commands of an EXEC job, run in order through the VM's mappings at the time the job runs. Every
 * byte a command reads or writes must lie in a mapping of a BO: an unmapped byte, the reserved node, or a
 * sparse mapping makes the command fault, as a GPU page fault does: the job stops there, that command
 * writes nothing, the commands before it stay done, and the job's fence (and so its out-syncs) signal
 * with EFAULT; JOB_QUERY names the command and the address.
 *
 * COPY: [dst, dst + size) gets the bytes [src, src + size) held before the command (overlap is allowed).
 * FILL: byte i of [dst, dst + size) gets byte (i % 8) of @value, little-endian; @src must be 0.
 * CHECKSUM: the 64-bit FNV-1a hash of [src, src + size) (offset basis 0xcbf29ce484222325, prime
 *   0x100000001b3) is written little-endian at [dst, dst + 8).
 * @value must be 0 except for FILL; @size is 1 to DRM_VGPUVM_CMD_MAX_SIZE.
 */
#define DRM_VGPUVM_CMD_COPY		0
#define DRM_VGPUVM_CMD_FILL		1
#define DRM_VGPUVM_CMD_CHECKSUM		2

#define DRM_VGPUVM_CMD_MAX_SIZE		(64u << 20)
#define DRM_VGPUVM_EXEC_MAX_CMDS	256

struct drm_vgpuvm_cmd {
	__u32 op;		/* DRM_VGPUVM_CMD_* */
	__u32 pad;
	__u64 src;
	__u64 dst;
	__u64 size;
	__u64 value;
};

/*
 * EXEC: a job of @count commands on a queue. At submission the VM's reservation and every external
 * object's are locked (drm_gpuvm_exec_lock), evicted BOs are validated (drm_gpuvm_validate), and the job's
 * scheduler fence is added to all of them with BOOKKEEP usage (drm_gpuvm_exec_resv_add_fence); the
 * out-syncs get the same fence. The job runs after the queue's earlier jobs and its in-syncs. EINVAL (a
 * bad field; @failed_cmd names a bad command), ENOENT (no such queue, or a syncobj that is not there or
 * has no fence), EFAULT: nothing was queued.
 */
struct drm_vgpuvm_exec {
	__u32 queue_id;
	__u32 count;		/* 1 to DRM_VGPUVM_EXEC_MAX_CMDS */
	__u64 cmds;		/* user pointer to count struct drm_vgpuvm_cmd */
	__u32 stride;		/* sizeof(struct drm_vgpuvm_cmd) */
	__u32 failed_cmd;	/* out: index of the command rejected by the checks, or ~0 */
	__u32 num_in_syncs;
	__u32 num_out_syncs;
	__u64 in_syncs;		/* user pointer to struct drm_vgpuvm_sync */
	__u64 out_syncs;	/* user pointer to struct drm_vgpuvm_sync */
	__u64 job_id;		/* out: the job's id on its queue: 1, 2, 3, ... in submission order */
};

/*
 * JOB_QUERY: the state of one of the last DRM_VGPUVM_JOB_HISTORY jobs of a queue (binds and EXECs share
 * the ids). ENOENT: no such queue, or a job id never handed out or already forgotten.
 */
#define DRM_VGPUVM_JOB_PENDING		0	/* not finished yet */
#define DRM_VGPUVM_JOB_DONE		1	/* finished; @error tells how */

#define DRM_VGPUVM_JOB_HISTORY		4096

struct drm_vgpuvm_job_query {
	__u32 queue_id;
	__u32 pad;
	__u64 job_id;
	__u32 state;		/* out: DRM_VGPUVM_JOB_* */
	__s32 error;		/* out: 0, or a negative errno: -EFAULT (a command faulted), -ENOENT (the VM
				 * was gone), -ENOMEM, or the error it was killed or cancelled with */
	__u32 fault_cmd;	/* out: the command that faulted, or ~0 */
	__u32 pad2;
	__u64 fault_addr;	/* out: the first GPU address it could not reach, or ~0 */
};

#define DRM_IOCTL_VGPUVM_BO_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_BO_CREATE, struct drm_vgpuvm_bo_create)
#define DRM_IOCTL_VGPUVM_BO_INFO	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_BO_INFO, struct drm_vgpuvm_bo_info)
#define DRM_IOCTL_VGPUVM_VM_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_CREATE, struct drm_vgpuvm_vm_create)
#define DRM_IOCTL_VGPUVM_VM_DESTROY	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPUVM_VM_DESTROY, struct drm_vgpuvm_vm_destroy)
#define DRM_IOCTL_VGPUVM_VM_BIND	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_BIND, struct drm_vgpuvm_vm_bind)
#define DRM_IOCTL_VGPUVM_VM_QUERY	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_QUERY, struct drm_vgpuvm_vm_query)
#define DRM_IOCTL_VGPUVM_STATS		DRM_IOR(DRM_COMMAND_BASE + DRM_VGPUVM_STATS, struct drm_vgpuvm_stats)
#define DRM_IOCTL_VGPUVM_BO_QUERY	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_BO_QUERY, struct drm_vgpuvm_bo_query)
#define DRM_IOCTL_VGPUVM_BO_EVICT	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPUVM_BO_EVICT, struct drm_vgpuvm_bo_evict)
#define DRM_IOCTL_VGPUVM_VM_VALIDATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_VALIDATE, struct drm_vgpuvm_vm_validate)
#define DRM_IOCTL_VGPUVM_VM_RW		DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_RW, struct drm_vgpuvm_vm_rw)
#define DRM_IOCTL_VGPUVM_QUEUE_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_QUEUE_CREATE, struct drm_vgpuvm_queue_create)
#define DRM_IOCTL_VGPUVM_QUEUE_DESTROY	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPUVM_QUEUE_DESTROY, struct drm_vgpuvm_queue_destroy)
#define DRM_IOCTL_VGPUVM_EXEC		DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_EXEC, struct drm_vgpuvm_exec)
#define DRM_IOCTL_VGPUVM_JOB_QUERY	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_JOB_QUERY, struct drm_vgpuvm_job_query)

#endif /* VGPUVM_DRM_H */
