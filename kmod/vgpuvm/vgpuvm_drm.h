/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vgpuvm: user-space interface of a test-only DRM driver whose VM_BIND runs the kernel's own drm_gpuvm, so
 * that a user-space model of GPUVM can be compared, op by op, with the real split/merge code.
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

/* BO_CREATE: a shmem-backed GEM object of at least @size bytes (rounded up to whole pages). */
struct drm_vgpuvm_bo_create {
	__u64 size;		/* in: bytes; out: the page-rounded size */
	__u32 handle;		/* out */
	__u32 pad;
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
 * VM_CREATE_IMMEDIATE: the VM uses DRM_GPUVM_IMMEDIATE_MODE (GEM gpuva lists guarded by the GEM's gpuva
 * mutex, vm_bos pre-allocated with obtain_prealloc, released with the deferred put). Without it the VM is
 * "staged": the GEM lists are guarded by the GEMs' reservation locks, taken with drm_exec. A BO takes the
 * mode of the first VM it is bound in and cannot be bound in a VM of the other mode (GPUVM requires all VMs
 * of one GEM to agree).
 */
#define DRM_VGPUVM_VM_CREATE_IMMEDIATE	(1u << 0)

/*
 * VM_CREATE: a VA space [va_start, va_start + va_range), with an optional kernel-reserved node
 * [reserve_start, reserve_start + reserve_range) inside it (reserve_range 0: none).
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

/* A MAP with no BO: a sparse (NULL) mapping; handle and bo_offset must be 0. */
#define DRM_VGPUVM_BIND_SPARSE		(1u << 0)

/* One bind request: drm_gpuvm_sm_map() for MAP, drm_gpuvm_sm_unmap() for UNMAP. */
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
 * VM_BIND: runs @count ops in order. Every op is checked before any runs, so EINVAL (bad fields, zero
 * range, overflow, outside the VA space, touching the reserved node, beyond the BO), ENOENT (unknown
 * handle) and EFAULT change nothing; @failed_op then names the op at fault. A later failure (ENOMEM, or
 * EINTR while waiting for a lock) leaves ops [0, @done) applied and the rest not; the one that failed
 * changed nothing.
 */
struct drm_vgpuvm_vm_bind {
	__u32 vm_id;
	__u32 count;		/* at most DRM_VGPUVM_BIND_MAX_OPS */
	__u64 ops;		/* user pointer to count struct drm_vgpuvm_bind_op */
	__u32 stride;		/* sizeof(struct drm_vgpuvm_bind_op) */
	__u32 done;		/* out: ops applied */
	__u32 failed_op;	/* out: index of the op rejected by the checks, or ~0 */
	__u32 pad;
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

/*
 * One op GPUVM generated, in generation order. MAP: @va is the new mapping. UNMAP: @va is the mapping
 * removed. REMAP: @va is the mapping removed, @prev and @next the pieces kept (range 0: absent). @keep is
 * the op's keep hint (UNMAP and REMAP).
 */
struct drm_vgpuvm_op {
	__u32 kind;		/* DRM_VGPUVM_OP_* */
	__u32 keep;
	struct drm_vgpuvm_va va;
	struct drm_vgpuvm_va prev;
	struct drm_vgpuvm_va next;
};

#define DRM_VGPUVM_QUERY_TREE	0	/* the VM's mappings in address order, as struct drm_vgpuvm_va */
#define DRM_VGPUVM_QUERY_OPS	1	/* the ops of the last VM_BIND, as struct drm_vgpuvm_op */

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
};

#define DRM_IOCTL_VGPUVM_BO_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_BO_CREATE, struct drm_vgpuvm_bo_create)
#define DRM_IOCTL_VGPUVM_BO_INFO	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_BO_INFO, struct drm_vgpuvm_bo_info)
#define DRM_IOCTL_VGPUVM_VM_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_CREATE, struct drm_vgpuvm_vm_create)
#define DRM_IOCTL_VGPUVM_VM_DESTROY	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPUVM_VM_DESTROY, struct drm_vgpuvm_vm_destroy)
#define DRM_IOCTL_VGPUVM_VM_BIND	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_BIND, struct drm_vgpuvm_vm_bind)
#define DRM_IOCTL_VGPUVM_VM_QUERY	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPUVM_VM_QUERY, struct drm_vgpuvm_vm_query)
#define DRM_IOCTL_VGPUVM_STATS		DRM_IOR(DRM_COMMAND_BASE + DRM_VGPUVM_STATS, struct drm_vgpuvm_stats)

#endif /* VGPUVM_DRM_H */
