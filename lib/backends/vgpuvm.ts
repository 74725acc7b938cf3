// SPDX-License-Identifier: MIT
// vgpuvm (kmod/vgpuvm/vgpuvm_drm.h): the project's test-only DRM driver whose VM_BIND runs the kernel's own
// drm_gpuvm and records the ops it generated. Calls to create BOs and VMs, bind map/unmap requests, and read
// back the kernel's VA tree and op list, so our model can be compared with the kernel's, request by request;
// and calls of its software GPU: queues (drm_sched), asynchronous binds and EXEC jobs with syncobjs.
// Only inside `drm-gpuvm vm --kernel sid --with-vgpuvm`; like every driver-private ioctl, each call checks
// the driver name first.
import type { GpuVaOp } from '../gpuvm/ops.js';
import { invalidArgType, invalidArgValue, outOfRange } from '../arg-errors.js';
import { toU64 } from '../u64.js';
import { BindRefusedError } from './bind-refused-error.js';
import type { DriverUapi } from './driver-uapi.js';
import { bindRequestsFromOps } from './bind-requests.js';
import { normalizeSyncs } from './bind-syncs.js';
import type { GemHandles } from './gem-handles.js';
import { driverIoctl, ioctlCall, IOC_READ, IOC_WRITE, type IoctlCall } from './ioctl-call.js';
import type { KernelBinder } from './kernel-vm-bind-backend.js';
import { defineStruct, encodeArray, encodeStruct, readField, type UapiStruct } from './uapi-struct.js';

const DRIVER = 'vgpuvm';

/** vgpuvm uAPI constants. */
export const VGPUVM = {
  DRM_VGPUVM_VM_CREATE_IMMEDIATE: 1 << 0,
  DRM_VGPUVM_VM_CREATE_PUT_LOCKED: 1 << 1,
  DRM_VGPUVM_BIND_OP_MAP: 0,
  DRM_VGPUVM_BIND_OP_UNMAP: 1,
  DRM_VGPUVM_BIND_OP_PREFETCH: 2,
  DRM_VGPUVM_BIND_OP_MADVISE: 3,
  DRM_VGPUVM_BIND_SPARSE: 1 << 0,
  DRM_VGPUVM_BIND_MAX_OPS: 4096,
  DRM_VGPUVM_VA_SPARSE: 1 << 1,
  DRM_VGPUVM_OP_MAP: 1,
  DRM_VGPUVM_OP_REMAP: 2,
  DRM_VGPUVM_OP_UNMAP: 3,
  DRM_VGPUVM_OP_PREFETCH: 4,
  DRM_VGPUVM_QUERY_TREE: 0,
  DRM_VGPUVM_QUERY_OPS: 1,
  DRM_VGPUVM_QUERY_EXTOBJ: 2,
  DRM_VGPUVM_QUERY_EVICT: 3,
  DRM_VGPUVM_QUERY_ZOMBIES: 4,
  DRM_VGPUVM_PAIR_EXTOBJ: 1 << 0,
  DRM_VGPUVM_PAIR_EVICT_LISTED: 1 << 1,
  DRM_VGPUVM_PAIR_EVICTED: 1 << 2,
  DRM_VGPUVM_BO_PRIVATE: 1 << 0,
  DRM_VGPUVM_BO_IMPORTED: 1 << 1,
  DRM_VGPUVM_RW_READ: 1 << 0,
  DRM_VGPUVM_RW_WRITE: 1 << 1,
  DRM_VGPUVM_RW_SPARSE_FAULT: 1 << 2,
  DRM_VGPUVM_RW_MAX_SIZE: 64 << 20,
  DRM_VGPUVM_SYNC_TIMELINE: 1 << 0,
  DRM_VGPUVM_MAX_SYNCS: 64,
  DRM_VGPUVM_CMD_COPY: 0,
  DRM_VGPUVM_CMD_FILL: 1,
  DRM_VGPUVM_CMD_CHECKSUM: 2,
  DRM_VGPUVM_CMD_MAX_SIZE: 64 << 20,
  DRM_VGPUVM_EXEC_MAX_CMDS: 256,
  DRM_VGPUVM_JOB_PENDING: 0,
  DRM_VGPUVM_JOB_DONE: 1,
  DRM_VGPUVM_JOB_HISTORY: 4096,
} as const;

/** struct drm_vgpuvm_bo_create. */
export const VGPUVM_BO_CREATE = defineStruct('struct drm_vgpuvm_bo_create', 24, { size: [0, 'u64'], handle: 8, vm_id: 12, bo_id: [16, 'u64'] });
/** struct drm_vgpuvm_vm_create. */
export const VGPUVM_VM_CREATE = defineStruct('struct drm_vgpuvm_vm_create', 40, {
  va_start: [0, 'u64'], va_range: [8, 'u64'], reserve_start: [16, 'u64'], reserve_range: [24, 'u64'], flags: 32, vm_id: 36,
});
/** struct drm_vgpuvm_vm_destroy. */
export const VGPUVM_VM_DESTROY = defineStruct('struct drm_vgpuvm_vm_destroy', 8, { vm_id: 0, pad: 4 });
/** struct drm_vgpuvm_bind_op. */
export const VGPUVM_BIND_OP = defineStruct('struct drm_vgpuvm_bind_op', 40, {
  op: 0, flags: 4, handle: 8, pad: 12, addr: [16, 'u64'], range: [24, 'u64'], bo_offset: [32, 'u64'],
});
/** struct drm_vgpuvm_sync. */
export const VGPUVM_SYNC = defineStruct('struct drm_vgpuvm_sync', 16, { handle: 0, flags: 4, point: [8, 'u64'] });
/** struct drm_vgpuvm_vm_bind. */
export const VGPUVM_VM_BIND = defineStruct('struct drm_vgpuvm_vm_bind', 64, {
  vm_id: 0, count: 4, ops: [8, 'u64'], stride: 16, done: 20, failed_op: 24, queue_id: 28, num_in_syncs: 32, num_out_syncs: 36,
  in_syncs: [40, 'u64'], out_syncs: [48, 'u64'], job_id: [56, 'u64'],
});
/** struct drm_vgpuvm_va. */
export const VGPUVM_VA = defineStruct('struct drm_vgpuvm_va', 40, {
  addr: [0, 'u64'], range: [8, 'u64'], bo_offset: [16, 'u64'], bo_id: [24, 'u64'], flags: 32, pad: 36,
});
/** struct drm_vgpuvm_op. */
export const VGPUVM_OP = defineStruct('struct drm_vgpuvm_op', 128, { kind: 0, keep: 4, va: [8, VGPUVM_VA], prev: [48, VGPUVM_VA], next: [88, VGPUVM_VA] });
/** struct drm_vgpuvm_vm_query. */
export const VGPUVM_VM_QUERY = defineStruct('struct drm_vgpuvm_vm_query', 24, { vm_id: 0, what: 4, capacity: 8, count: 12, records: [16, 'u64'] });
/** struct drm_vgpuvm_stats. */
export const VGPUVM_STATS = defineStruct('struct drm_vgpuvm_stats', 48, {
  vms: [0, 'u64'], bos: [8, 'u64'], vm_bos: [16, 'u64'], vas: [24, 'u64'], queues: [32, 'u64'], jobs: [40, 'u64'],
});
/** struct drm_vgpuvm_pair. */
export const VGPUVM_PAIR = defineStruct('struct drm_vgpuvm_pair', 24, { bo_id: [0, 'u64'], vm_id: 8, refcount: 12, vas: 16, flags: 20 });
/** struct drm_vgpuvm_bo_query. */
export const VGPUVM_BO_QUERY = defineStruct('struct drm_vgpuvm_bo_query', 40, {
  handle: 0, capacity: 4, records: [8, 'u64'], count: 16, flags: 20, bo_id: [24, 'u64'], size: [32, 'u64'],
});
/** struct drm_vgpuvm_bo_evict. */
export const VGPUVM_BO_EVICT = defineStruct('struct drm_vgpuvm_bo_evict', 8, { handle: 0, evict: 4 });
/** struct drm_vgpuvm_vm_validate. */
export const VGPUVM_VM_VALIDATE = defineStruct('struct drm_vgpuvm_vm_validate', 8, { vm_id: 0, validated: 4 });
/** struct drm_vgpuvm_vm_rw. */
export const VGPUVM_VM_RW = defineStruct('struct drm_vgpuvm_vm_rw', 40, {
  vm_id: 0, flags: 4, addr: [8, 'u64'], data: [16, 'u64'], size: 24, pad: 28, fault_addr: [32, 'u64'],
});
/** struct drm_vgpuvm_queue_create. */
export const VGPUVM_QUEUE_CREATE = defineStruct('struct drm_vgpuvm_queue_create', 16, { vm_id: 0, flags: 4, queue_id: 8, pad: 12 });
/** struct drm_vgpuvm_queue_destroy. */
export const VGPUVM_QUEUE_DESTROY = defineStruct('struct drm_vgpuvm_queue_destroy', 8, { queue_id: 0, pad: 4 });
/** struct drm_vgpuvm_cmd. */
export const VGPUVM_CMD = defineStruct('struct drm_vgpuvm_cmd', 40, {
  op: 0, pad: 4, src: [8, 'u64'], dst: [16, 'u64'], size: [24, 'u64'], value: [32, 'u64'],
});
/** struct drm_vgpuvm_exec. */
export const VGPUVM_EXEC = defineStruct('struct drm_vgpuvm_exec', 56, {
  queue_id: 0, count: 4, cmds: [8, 'u64'], stride: 16, failed_cmd: 20, num_in_syncs: 24, num_out_syncs: 28,
  in_syncs: [32, 'u64'], out_syncs: [40, 'u64'], job_id: [48, 'u64'],
});
/** struct drm_vgpuvm_job_query. */
export const VGPUVM_JOB_QUERY = defineStruct('struct drm_vgpuvm_job_query', 40, {
  queue_id: 0, pad: 4, job_id: [8, 'u64'], state: 16, error: [20, 's32'], fault_cmd: 24, pad2: 28, fault_addr: [32, 'u64'],
});

export const DRM_IOCTL_VGPUVM_BO_CREATE = driverIoctl('DRM_IOCTL_VGPUVM_BO_CREATE', 0x00, IOC_READ | IOC_WRITE, VGPUVM_BO_CREATE);
export const DRM_IOCTL_VGPUVM_VM_CREATE = driverIoctl('DRM_IOCTL_VGPUVM_VM_CREATE', 0x02, IOC_READ | IOC_WRITE, VGPUVM_VM_CREATE);
export const DRM_IOCTL_VGPUVM_VM_DESTROY = driverIoctl('DRM_IOCTL_VGPUVM_VM_DESTROY', 0x03, IOC_WRITE, VGPUVM_VM_DESTROY);
export const DRM_IOCTL_VGPUVM_VM_BIND = driverIoctl('DRM_IOCTL_VGPUVM_VM_BIND', 0x04, IOC_READ | IOC_WRITE, VGPUVM_VM_BIND);
export const DRM_IOCTL_VGPUVM_VM_QUERY = driverIoctl('DRM_IOCTL_VGPUVM_VM_QUERY', 0x05, IOC_READ | IOC_WRITE, VGPUVM_VM_QUERY);
export const DRM_IOCTL_VGPUVM_STATS = driverIoctl('DRM_IOCTL_VGPUVM_STATS', 0x06, IOC_READ, VGPUVM_STATS);
/** DRM_IOCTL_VGPUVM_BO_QUERY. */
export const DRM_IOCTL_VGPUVM_BO_QUERY = driverIoctl('DRM_IOCTL_VGPUVM_BO_QUERY', 0x07, IOC_READ | IOC_WRITE, VGPUVM_BO_QUERY);
/** DRM_IOCTL_VGPUVM_BO_EVICT. */
export const DRM_IOCTL_VGPUVM_BO_EVICT = driverIoctl('DRM_IOCTL_VGPUVM_BO_EVICT', 0x08, IOC_WRITE, VGPUVM_BO_EVICT);
/** DRM_IOCTL_VGPUVM_VM_VALIDATE. */
export const DRM_IOCTL_VGPUVM_VM_VALIDATE = driverIoctl('DRM_IOCTL_VGPUVM_VM_VALIDATE', 0x09, IOC_READ | IOC_WRITE, VGPUVM_VM_VALIDATE);
/** DRM_IOCTL_VGPUVM_VM_RW. */
export const DRM_IOCTL_VGPUVM_VM_RW = driverIoctl('DRM_IOCTL_VGPUVM_VM_RW', 0x0a, IOC_READ | IOC_WRITE, VGPUVM_VM_RW);
/** DRM_IOCTL_VGPUVM_QUEUE_CREATE. */
export const DRM_IOCTL_VGPUVM_QUEUE_CREATE = driverIoctl('DRM_IOCTL_VGPUVM_QUEUE_CREATE', 0x0b, IOC_READ | IOC_WRITE, VGPUVM_QUEUE_CREATE);
/** DRM_IOCTL_VGPUVM_QUEUE_DESTROY. */
export const DRM_IOCTL_VGPUVM_QUEUE_DESTROY = driverIoctl('DRM_IOCTL_VGPUVM_QUEUE_DESTROY', 0x0c, IOC_WRITE, VGPUVM_QUEUE_DESTROY);
/** DRM_IOCTL_VGPUVM_EXEC. */
export const DRM_IOCTL_VGPUVM_EXEC = driverIoctl('DRM_IOCTL_VGPUVM_EXEC', 0x0d, IOC_READ | IOC_WRITE, VGPUVM_EXEC);
/** DRM_IOCTL_VGPUVM_JOB_QUERY. */
export const DRM_IOCTL_VGPUVM_JOB_QUERY = driverIoctl('DRM_IOCTL_VGPUVM_JOB_QUERY', 0x0e, IOC_READ | IOC_WRITE, VGPUVM_JOB_QUERY);

/** Everything this backend takes from kmod/vgpuvm/vgpuvm_drm.h, for the ABI test (the header path is relative to kmod/vgpuvm). */
export const VGPUVM_UAPI: DriverUapi = {
  driver: DRIVER,
  header: 'vgpuvm_drm.h',
  structs: [
    VGPUVM_BO_CREATE, VGPUVM_VM_CREATE, VGPUVM_VM_DESTROY, VGPUVM_BIND_OP, VGPUVM_VM_BIND, VGPUVM_VA, VGPUVM_OP, VGPUVM_VM_QUERY, VGPUVM_STATS,
    VGPUVM_PAIR, VGPUVM_BO_QUERY, VGPUVM_BO_EVICT, VGPUVM_VM_VALIDATE, VGPUVM_VM_RW, VGPUVM_SYNC, VGPUVM_QUEUE_CREATE,
    VGPUVM_QUEUE_DESTROY, VGPUVM_CMD, VGPUVM_EXEC, VGPUVM_JOB_QUERY,
  ],
  ioctls: [
    DRM_IOCTL_VGPUVM_BO_CREATE, DRM_IOCTL_VGPUVM_VM_CREATE, DRM_IOCTL_VGPUVM_VM_DESTROY, DRM_IOCTL_VGPUVM_VM_BIND, DRM_IOCTL_VGPUVM_VM_QUERY,
    DRM_IOCTL_VGPUVM_STATS, DRM_IOCTL_VGPUVM_BO_QUERY, DRM_IOCTL_VGPUVM_BO_EVICT, DRM_IOCTL_VGPUVM_VM_VALIDATE, DRM_IOCTL_VGPUVM_VM_RW,
    DRM_IOCTL_VGPUVM_QUEUE_CREATE, DRM_IOCTL_VGPUVM_QUEUE_DESTROY, DRM_IOCTL_VGPUVM_EXEC, DRM_IOCTL_VGPUVM_JOB_QUERY,
  ],
  constants: Object.fromEntries(Object.entries(VGPUVM)),
};

/**
 * A request as VM_BIND takes it: a map (`bo` null is a sparse mapping), an unmap, or (synchronous binds
 * only) a prefetch, which reports the mappings the range overlaps and changes nothing, or an madvise, which
 * splits the sparse mappings at the range's ends (drm_gpuvm_prefetch_ops_create and
 * drm_gpuvm_madvise_ops_create in the kernel).
 */
export type VgpuvmBindRequest =
  | { op: 'map'; addr: bigint; range: bigint; bo: { handle: number; offset: bigint } | null }
  | { op: 'unmap' | 'prefetch' | 'madvise'; addr: bigint; range: bigint };

/** The requests that name only a range, with their DRM_VGPUVM_BIND_OP_* codes. */
const RANGE_OPS: ReadonlyMap<unknown, number> = new Map([
  ['unmap', VGPUVM.DRM_VGPUVM_BIND_OP_UNMAP],
  ['prefetch', VGPUVM.DRM_VGPUVM_BIND_OP_PREFETCH],
  ['madvise', VGPUVM.DRM_VGPUVM_BIND_OP_MADVISE],
]);

/** A mapping as the kernel's drm_gpuvm holds it; `boId` 0n is sparse. */
export interface VgpuvmVa {
  /** Start of the mapping in the VM. */
  addr: bigint;
  /** Length of the mapping in bytes. */
  range: bigint;
  /** The drm_gpuva's gem.offset as GPUVM computed it (sparse pieces get extrapolated offsets too). */
  offset: bigint;
  /** The id of the BO the kernel module gave it at creation; 0n for a sparse mapping. */
  boId: bigint;
  /** DRM_VGPUVM_VA_* bits (SPARSE) of the drm_gpuva. */
  flags: number;
}

/** One op the kernel generated, in order. */
export type VgpuvmOp =
  | { kind: 'map'; va: VgpuvmVa }
  | { kind: 'unmap'; va: VgpuvmVa; keep: boolean }
  | { kind: 'remap'; va: VgpuvmVa; keep: boolean; prev: VgpuvmVa | null; next: VgpuvmVa | null }
  | { kind: 'prefetch'; va: VgpuvmVa };

/**
 * BO_CREATE of `size` bytes (rounded up to pages), private to VM `privateVmId` (sharing its reservation)
 * when one is given; outputs `handle`, `size`, `bo_id` in buffers[0].
 */
export function vgpuvmBoCreate(size: bigint | number, privateVmId = 0): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_BO_CREATE, encodeStruct(VGPUVM_BO_CREATE, { size: toU64(size, 'size'), vm_id: privateVmId }));
}

/**
 * The module's three VmBo lifetime designs, named as lib/vm names its policies (`VmBoPolicy`), which
 * lib/gpu passes here: the staged pair list under the GEM's reservation, the GEM's gpuva lock, and deferred
 * cleanup.
 */
export type VgpuvmDesign = 'resv' | 'gpuva-lock' | 'deferred';

/** The VM_CREATE flags of each VmBo lifetime design (vgpuvm_drm.h). */
export const VGPUVM_DESIGN_FLAGS: Readonly<Record<VgpuvmDesign, number>> = {
  'resv': 0,
  'gpuva-lock': VGPUVM.DRM_VGPUVM_VM_CREATE_IMMEDIATE | VGPUVM.DRM_VGPUVM_VM_CREATE_PUT_LOCKED,
  'deferred': VGPUVM.DRM_VGPUVM_VM_CREATE_IMMEDIATE,
};

/**
 * VM_CREATE of `[start, start+range)`, with an optional kernel-reserved node, in one VmBo lifetime design
 * (`design`; default `resv`, or `deferred` where only `immediate` is given); outputs `vm_id`.
 */
export function vgpuvmVmCreate(options: {
  start: bigint;
  range: bigint;
  reserve?: { start: bigint; range: bigint } | null;
  immediate?: boolean;
  design?: VgpuvmDesign;
}): IoctlCall {
  const design = options.design ?? (options.immediate === true ? 'deferred' : 'resv');
  if (options.immediate !== undefined && options.immediate !== (design !== 'resv')) {
    throw new RangeError(`vgpuvm VM_CREATE: design '${design}' is ${design === 'resv' ? 'staged' : 'immediate'}, but immediate is ${options.immediate}`);
  }
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_VM_CREATE, encodeStruct(VGPUVM_VM_CREATE, {
    va_start: toU64(options.start, 'start'),
    va_range: toU64(options.range, 'range'),
    reserve_start: toU64(options.reserve?.start ?? 0n, 'reserve.start'),
    reserve_range: toU64(options.reserve?.range ?? 0n, 'reserve.range'),
    flags: VGPUVM_DESIGN_FLAGS[design],
  }));
}

/** VM_DESTROY of `vmId`: ends a VM that vgpuvmVmCreate made. */
export function vgpuvmVmDestroy(vmId: number): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_VM_DESTROY, encodeStruct(VGPUVM_VM_DESTROY, { vm_id: vmId }));
}

/**
 * VM_BIND of `requests`, run in order by the kernel; outputs `done`, `failed_op` and (queued) `job_id`.
 * Without `queue` it is synchronous; with it, the requests become a job on that queue (an immediate-mode VM
 * only), run after the queue's earlier jobs, the `inSyncs` and the VM's jobs submitted so far, and the
 * `outSyncs` get its fence.
 */
export function vgpuvmVmBind(vmId: number, requests: readonly VgpuvmBindRequest[], queue?: VgpuvmQueued): IoctlCall {
  if (requests.length === 0 || requests.length > VGPUVM.DRM_VGPUVM_BIND_MAX_OPS) {
    throw new RangeError(`vgpuvm VM_BIND takes 1 to ${VGPUVM.DRM_VGPUVM_BIND_MAX_OPS} requests, got ${requests.length}`);
  }
  const ops = encodeArray(VGPUVM_BIND_OP, requests.map((req, i) => {
    const where = { addr: toU64(req.addr, `requests[${i}].addr`), range: toU64(req.range, `requests[${i}].range`) };
    const rangeOp = RANGE_OPS.get(req.op);
    if (rangeOp !== undefined) return { op: rangeOp, ...where };
    if (req.op !== 'map') throw invalidArgValue(`requests[${i}].op`, req.op, "must be 'map', 'unmap', 'prefetch' or 'madvise'");
    if (req.bo === null) return { op: VGPUVM.DRM_VGPUVM_BIND_OP_MAP, flags: VGPUVM.DRM_VGPUVM_BIND_SPARSE, ...where };
    return { op: VGPUVM.DRM_VGPUVM_BIND_OP_MAP, handle: req.bo.handle, bo_offset: toU64(req.bo.offset, `requests[${i}].bo.offset`), ...where };
  }));
  const syncs = queue === undefined ? null : queuedSyncs(VGPUVM_VM_BIND, queue, 2);
  const arg = encodeStruct(VGPUVM_VM_BIND, { vm_id: vmId, count: requests.length, stride: VGPUVM_BIND_OP.size, ...syncs?.fields });
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_VM_BIND, arg, [ops, ...(syncs?.buffers ?? [])],
    [{ buffer: 0, offset: VGPUVM_VM_BIND.fields['ops']!.offset, target: 1 }, ...(syncs?.pointers ?? [])]);
}

/** A syncobj point a queued job waits for or signals: `point` 0n (or absent) is a binary syncobj. */
export interface VgpuvmSync {
  /** The syncobj's handle on the same DRM file. */
  handle: number;
  /** A timeline point, at least 1n; absent or 0n for a binary syncobj. */
  point?: bigint;
}

/** Where a job goes and what it waits for and signals. */
export interface VgpuvmQueued {
  /** A queue of the VM, from vgpuvmQueueCreate. */
  queueId: number;
  /** Syncobjs (points) the job waits for; at most DRM_VGPUVM_MAX_SYNCS. */
  inSyncs?: readonly VgpuvmSync[];
  /** Syncobjs (points) that get the job's fence; at most DRM_VGPUVM_MAX_SYNCS. */
  outSyncs?: readonly VgpuvmSync[];
}

function encodeSyncs(syncs: readonly VgpuvmSync[], name: string): Uint8Array {
  if (!Array.isArray(syncs as unknown)) throw invalidArgType(name, 'Array', syncs);
  if (syncs.length > VGPUVM.DRM_VGPUVM_MAX_SYNCS) throw outOfRange(`${name}.length`, `at most DRM_VGPUVM_MAX_SYNCS (${VGPUVM.DRM_VGPUVM_MAX_SYNCS})`, syncs.length);
  return encodeArray(VGPUVM_SYNC, syncs.map((sync, i) => {
    if (sync === null || typeof sync !== 'object') throw invalidArgType(`${name}[${i}]`, 'object', sync);
    if (!Number.isInteger(sync.handle) || sync.handle < 1 || sync.handle > 0xffff_ffff) throw outOfRange(`${name}[${i}].handle`, 'a u32 syncobj handle', sync.handle);
    const point = toU64(sync.point ?? 0n, `${name}[${i}].point`);
    return { handle: sync.handle, flags: point === 0n ? 0 : VGPUVM.DRM_VGPUVM_SYNC_TIMELINE, point };
  }));
}

/**
 * The queue fields of a queued ioctl (`queue_id` and the sync counts) and its sync arrays, as buffers that
 * follow the call's `first - 1` others, with the pointers to them.
 */
function queuedSyncs(struct: UapiStruct, queued: VgpuvmQueued, first: number): { fields: Record<string, number>; buffers: Uint8Array[]; pointers: { buffer: number; offset: number; target: number }[] } {
  if (queued === null || typeof queued !== 'object') throw invalidArgType('queue', 'object', queued);
  if (!Number.isInteger(queued.queueId) || queued.queueId < 1 || queued.queueId > 0x7fff_ffff) throw outOfRange('queue.queueId', 'a queue id from QUEUE_CREATE', queued.queueId);
  const fields: Record<string, number> = { queue_id: queued.queueId };
  const buffers: Uint8Array[] = [];
  const pointers: { buffer: number; offset: number; target: number }[] = [];
  for (const [key, field, count] of [['inSyncs', 'in_syncs', 'num_in_syncs'], ['outSyncs', 'out_syncs', 'num_out_syncs']] as const) {
    const syncs = queued[key] ?? [];
    const bytes = encodeSyncs(syncs, `queue.${key}`);
    fields[count] = syncs.length;
    if (syncs.length === 0) continue;
    pointers.push({ buffer: 0, offset: struct.fields[field]!.offset, target: first + buffers.length });
    buffers.push(bytes);
  }
  return { fields, buffers, pointers };
}

/** QUEUE_CREATE: a queue (a drm_sched scheduler) on VM `vmId`; outputs `queue_id`. */
export function vgpuvmQueueCreate(vmId: number): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_QUEUE_CREATE, encodeStruct(VGPUVM_QUEUE_CREATE, { vm_id: vmId }));
}

/** QUEUE_DESTROY: waits briefly for the queue's jobs, kills the rest, frees the queue. */
export function vgpuvmQueueDestroy(queueId: number): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_QUEUE_DESTROY, encodeStruct(VGPUVM_QUEUE_DESTROY, { queue_id: queueId }));
}

/** A command of an EXEC job, through the VM's GPU virtual addresses (vgpuvm_drm.h, DRM_VGPUVM_CMD_*). */
export type VgpuvmCommand =
  | { op: 'copy'; src: bigint; dst: bigint; size: bigint }
  | { op: 'fill'; dst: bigint; size: bigint; value: bigint }
  | { op: 'checksum'; src: bigint; size: bigint; dst: bigint };

const COMMAND_OPS = { copy: VGPUVM.DRM_VGPUVM_CMD_COPY, fill: VGPUVM.DRM_VGPUVM_CMD_FILL, checksum: VGPUVM.DRM_VGPUVM_CMD_CHECKSUM } as const;

/**
 * The drm_vgpuvm_cmd array of `commands`, every one checked (typed errors; nothing is issued): what EXEC
 * sends, and what a caller that must refuse bad commands before it takes locks checks first.
 */
export function encodeVgpuvmCommands(commands: readonly VgpuvmCommand[]): Uint8Array {
  if (!Array.isArray(commands as unknown)) throw invalidArgType('commands', 'Array', commands);
  if (commands.length === 0 || commands.length > VGPUVM.DRM_VGPUVM_EXEC_MAX_CMDS) {
    throw outOfRange('commands.length', `1 to DRM_VGPUVM_EXEC_MAX_CMDS (${VGPUVM.DRM_VGPUVM_EXEC_MAX_CMDS})`, commands.length);
  }
  return encodeArray(VGPUVM_CMD, commands.map((cmd, i) => {
    if (cmd === null || typeof cmd !== 'object' || !Object.hasOwn(COMMAND_OPS, cmd.op)) throw invalidArgType(`commands[${i}]`, "a command with op 'copy', 'fill' or 'checksum'", cmd);
    const size = toU64(cmd.size, `commands[${i}].size`);
    if (size === 0n || size > BigInt(VGPUVM.DRM_VGPUVM_CMD_MAX_SIZE)) throw outOfRange(`commands[${i}].size`, `1 to DRM_VGPUVM_CMD_MAX_SIZE (${VGPUVM.DRM_VGPUVM_CMD_MAX_SIZE})`, cmd.size);
    return {
      op: COMMAND_OPS[cmd.op], size, dst: toU64(cmd.dst, `commands[${i}].dst`),
      src: cmd.op === 'fill' ? 0n : toU64(cmd.src, `commands[${i}].src`),
      value: cmd.op === 'fill' ? toU64(cmd.value, `commands[${i}].value`) : 0n,
    };
  }));
}

/**
 * EXEC of `commands` on `queued.queueId`, after its in-syncs; the out-syncs get the job's fence. Outputs
 * `job_id` (or `failed_cmd`, the command the kernel refused).
 */
export function vgpuvmExec(commands: readonly VgpuvmCommand[], queued: VgpuvmQueued): IoctlCall {
  const cmds = encodeVgpuvmCommands(commands);
  const syncs = queuedSyncs(VGPUVM_EXEC, queued, 2);
  const arg = encodeStruct(VGPUVM_EXEC, { count: commands.length, stride: VGPUVM_CMD.size, ...syncs.fields });
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_EXEC, arg, [cmds, ...syncs.buffers],
    [{ buffer: 0, offset: VGPUVM_EXEC.fields['cmds']!.offset, target: 1 }, ...syncs.pointers]);
}

/** How a queued job stands, as JOB_QUERY reports it. */
export interface VgpuvmJob {
  /** Whether the job has finished. */
  done: boolean;
  /** 0, or the negative errno it ended with: -EFAULT when a command faulted. */
  error: number;
  /** The index of the command that faulted, or null. */
  faultCmd: number | null;
  /** The first GPU address the faulting command could not reach, or null. */
  faultAddr: bigint | null;
}

/** JOB_QUERY of job `jobId` on queue `queueId` (one of its last DRM_VGPUVM_JOB_HISTORY jobs). */
export function vgpuvmJobQuery(queueId: number, jobId: bigint): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_JOB_QUERY, encodeStruct(VGPUVM_JOB_QUERY, { queue_id: queueId, job_id: toU64(jobId, 'jobId') }));
}

/** What a completed JOB_QUERY returned. */
export function decodeVgpuvmJob(call: IoctlCall): VgpuvmJob {
  const field = (name: string): bigint => readField(VGPUVM_JOB_QUERY, call.buffers[0]!, name);
  const faultCmd = Number(field('fault_cmd'));
  const faultAddr = field('fault_addr');
  return {
    done: Number(field('state')) === VGPUVM.DRM_VGPUVM_JOB_DONE,
    error: Number(field('error')),
    faultCmd: faultCmd === 0xffff_ffff ? null : faultCmd,
    faultAddr: faultAddr === 0xffff_ffff_ffff_ffffn ? null : faultAddr,
  };
}

/** What VM_QUERY can list: the tree, the last bind's ops, or one of the VM's lists of pairs. */
export type VgpuvmQueryKind = 'tree' | 'ops' | 'extobj' | 'evict' | 'zombies';

const QUERY_KINDS: Readonly<Record<VgpuvmQueryKind, { what: number; record: UapiStruct }>> = {
  tree: { what: VGPUVM.DRM_VGPUVM_QUERY_TREE, record: VGPUVM_VA },
  ops: { what: VGPUVM.DRM_VGPUVM_QUERY_OPS, record: VGPUVM_OP },
  extobj: { what: VGPUVM.DRM_VGPUVM_QUERY_EXTOBJ, record: VGPUVM_PAIR },
  evict: { what: VGPUVM.DRM_VGPUVM_QUERY_EVICT, record: VGPUVM_PAIR },
  zombies: { what: VGPUVM.DRM_VGPUVM_QUERY_ZOMBIES, record: VGPUVM_PAIR },
};

/**
 * VM_QUERY of the tree, of the last bind's ops, or of the VM's extobj list, evict list or zombies, into
 * room for `capacity` records (buffers[1]); `count` in buffers[0] says how many there are: query again
 * with more room when it exceeds `capacity`.
 */
export function vgpuvmVmQuery(vmId: number, what: VgpuvmQueryKind, capacity: number): IoctlCall {
  const { what: code, record } = QUERY_KINDS[what];
  const arg = encodeStruct(VGPUVM_VM_QUERY, { vm_id: vmId, what: code, capacity });
  const room = new Uint8Array(record.size * capacity);
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_VM_QUERY, arg, capacity > 0 ? [room] : [], capacity > 0 ? [{ buffer: 0, offset: 16, target: 1 }] : []);
}

/** A vgpuvm VM as the backend knows it: its id, and the GEM handle of each object on the same DRM file. */
export interface VgpuvmVm extends GemHandles {
  /** The VM id from DRM_IOCTL_VGPUVM_VM_CREATE. */
  readonly vmId: number;
  /**
   * The VM's queue (QUEUE_CREATE), made when first asked for: a bind that carries syncs becomes a job on it.
   * Only for an immediate-mode VM (the module refuses queued binds on a staged one); absent, binds are
   * synchronous and carry no syncs.
   */
  readonly queue?: () => number;
}

/**
 * The VM_BIND for an op list of our model: the requests that make the kernel's drm_gpuvm regenerate the
 * same ops (bind-requests.ts), in one ioctl, so the list is applied whole or not at all. An empty list
 * needs no ioctl.
 */
export function vgpuvmVmBindFromOps(vm: VgpuvmVm, ops: Iterable<GpuVaOp>, queue?: VgpuvmQueued): IoctlCall[] {
  const requests = bindRequestsFromOps(DRIVER, ops, vm);
  if (requests.length === 0) return [];
  if (requests.length > VGPUVM.DRM_VGPUVM_BIND_MAX_OPS) {
    throw new BindRefusedError(DRIVER, 'ERR_BIND_UNSUPPORTED', `${requests.length} bind requests in one op list; VM_BIND takes at most ${VGPUVM.DRM_VGPUVM_BIND_MAX_OPS}`);
  }
  return [vgpuvmVmBind(vm.vmId, requests.map((req): VgpuvmBindRequest => (req.kind === 'unmap'
    ? { op: 'unmap', addr: req.addr, range: req.range }
    : { op: 'map', addr: req.addr, range: req.range, bo: req.handle === null ? null : { handle: req.handle, offset: req.offset } })), queue)];
}

/**
 * The binder for a vgpuvm VM: synchronous binds; with the VM's `queue`, a bind that carries syncs is a job
 * on it instead (waits as in-syncs, signals as out-syncs), as on xe and panthor.
 */
export function vgpuvmBinder(vm: VgpuvmVm): KernelBinder {
  const queue = vm.queue;
  return {
    driver: DRIVER, completesAsync: false, syncobjs: queue !== undefined,
    calls: (ops, syncs) => {
      const { waits, signals } = normalizeSyncs(DRIVER, syncs);
      if (queue === undefined || waits.length + signals.length === 0) return vgpuvmVmBindFromOps(vm, ops);
      return vgpuvmVmBindFromOps(vm, ops, { queueId: queue(), inSyncs: waits, outSyncs: signals });
    },
  };
}

/** A (VM, BO) pair as the kernel's debug queries report it. */
export interface VgpuvmPair {
  /** The BO's module-wide id. */
  boId: bigint;
  /** The VM's module-wide id. */
  vmId: number;
  /** The drm_gpuvm_bo's kernel refcount. */
  refcount: number;
  /** Mappings linked to the pair. */
  vas: number;
  /** On the VM's extobj list. */
  extobj: boolean;
  /** On the VM's evict list. */
  evictListed: boolean;
  /** The pair's evicted mark. */
  evicted: boolean;
}

/**
 * BO_QUERY of the BO `handle`: its pairs in GEM list order into room for `capacity` records (buffers[1]),
 * with its `bo_id`, `size`, `flags` (PRIVATE, IMPORTED) and `count` in buffers[0].
 */
export function vgpuvmBoQuery(handle: number, capacity: number): IoctlCall {
  const arg = encodeStruct(VGPUVM_BO_QUERY, { handle, capacity });
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_BO_QUERY, arg, capacity > 0 ? [new Uint8Array(VGPUVM_PAIR.size * capacity)] : [],
    capacity > 0 ? [{ buffer: 0, offset: VGPUVM_BO_QUERY.fields['records']!.offset, target: 1 }] : []);
}

/** BO_EVICT: marks the BO `handle` evicted (or resident again) in every VM it is bound in. */
export function vgpuvmBoEvict(handle: number, evict: boolean): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_BO_EVICT, encodeStruct(VGPUVM_BO_EVICT, { handle, evict: evict ? 1 : 0 }));
}

/** VM_VALIDATE: locks the VM and its extobjs and validates every evicted pair; outputs `validated`. */
export function vgpuvmVmValidate(vmId: number): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_VM_VALIDATE, encodeStruct(VGPUVM_VM_VALIDATE, { vm_id: vmId }));
}

/**
 * VM_RW: reads GPU addresses `[addr, addr + data.byteLength)` of VM `vmId` into `data`, or (`write`) writes
 * `data` there, through the kernel's drm_gpuvm tree; at most DRM_VGPUVM_RW_MAX_SIZE bytes. On EFAULT the
 * call's `fault_addr` names the first byte no BO backs (U64_MAX: `data` itself faulted).
 */
export function vgpuvmVmRw(vmId: number, addr: bigint, data: Uint8Array, write: boolean): IoctlCall {
  if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'Uint8Array', data);
  if (data.byteLength === 0 || data.byteLength > VGPUVM.DRM_VGPUVM_RW_MAX_SIZE) {
    throw outOfRange('data.byteLength', `1 to DRM_VGPUVM_RW_MAX_SIZE (${VGPUVM.DRM_VGPUVM_RW_MAX_SIZE}) bytes`, data.byteLength);
  }
  const arg = encodeStruct(VGPUVM_VM_RW, {
    vm_id: vmId, flags: write ? VGPUVM.DRM_VGPUVM_RW_WRITE : VGPUVM.DRM_VGPUVM_RW_READ, addr: toU64(addr, 'addr'), size: data.byteLength,
  });
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_VM_RW, arg, [data], [{ buffer: 0, offset: VGPUVM_VM_RW.fields['data']!.offset, target: 1 }]);
}

/** The pair records a completed BO_QUERY or extobj / evict / zombies VM_QUERY returned (at most its capacity). */
export function decodeVgpuvmPairs(call: IoctlCall): VgpuvmPair[] {
  const struct = call.ioctl.struct;
  const count = Math.min(Number(readField(struct, call.buffers[0]!, 'count')), Number(readField(struct, call.buffers[0]!, 'capacity')));
  const records = call.buffers[1] ?? new Uint8Array(0);
  return Array.from({ length: count }, (_, i) => {
    const bytes = records.subarray(i * VGPUVM_PAIR.size, (i + 1) * VGPUVM_PAIR.size);
    const field = (name: string): bigint => readField(VGPUVM_PAIR, bytes, name);
    const flags = Number(field('flags'));
    return {
      boId: field('bo_id'), vmId: Number(field('vm_id')), refcount: Number(field('refcount')), vas: Number(field('vas')),
      extobj: (flags & VGPUVM.DRM_VGPUVM_PAIR_EXTOBJ) !== 0,
      evictListed: (flags & VGPUVM.DRM_VGPUVM_PAIR_EVICT_LISTED) !== 0,
      evicted: (flags & VGPUVM.DRM_VGPUVM_PAIR_EVICTED) !== 0,
    };
  });
}

/** STATS: live VMs, BOs, vm_bos, mappings, queues and jobs module-wide (outputs in buffers[0]). */
export function vgpuvmStats(): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_VGPUVM_STATS, new Uint8Array(VGPUVM_STATS.size));
}

/** A scalar output of a completed call (`handle`, `bo_id`, `vm_id`, `count`, `done`, a STATS counter...). */
export function readVgpuvmField(call: IoctlCall, field: string): bigint {
  return readField(call.ioctl.struct, call.buffers[0]!, field);
}

function readVa(bytes: Uint8Array): VgpuvmVa {
  const field = (name: string): bigint => readField(VGPUVM_VA, bytes, name);
  return { addr: field('addr'), range: field('range'), offset: field('bo_offset'), boId: field('bo_id'), flags: Number(field('flags')) };
}

function nested(struct: UapiStruct, bytes: Uint8Array, field: string): Uint8Array {
  const spec = struct.fields[field]!;
  return bytes.subarray(spec.offset, spec.offset + (spec.type as UapiStruct).size);
}

/** The records a completed tree query returned (at most its capacity). */
export function decodeVgpuvmTree(call: IoctlCall): VgpuvmVa[] {
  const count = Math.min(Number(readField(VGPUVM_VM_QUERY, call.buffers[0]!, 'count')), Number(readField(VGPUVM_VM_QUERY, call.buffers[0]!, 'capacity')));
  const records = call.buffers[1] ?? new Uint8Array(0);
  return Array.from({ length: count }, (_, i) => readVa(records.subarray(i * VGPUVM_VA.size, (i + 1) * VGPUVM_VA.size)));
}

/** The ops a completed ops query returned (at most its capacity). */
export function decodeVgpuvmOps(call: IoctlCall): VgpuvmOp[] {
  const count = Math.min(Number(readField(VGPUVM_VM_QUERY, call.buffers[0]!, 'count')), Number(readField(VGPUVM_VM_QUERY, call.buffers[0]!, 'capacity')));
  const records = call.buffers[1] ?? new Uint8Array(0);
  const ops: VgpuvmOp[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = records.subarray(i * VGPUVM_OP.size, (i + 1) * VGPUVM_OP.size);
    const kind = Number(readField(VGPUVM_OP, bytes, 'kind'));
    const keep = readField(VGPUVM_OP, bytes, 'keep') !== 0n;
    const va = readVa(nested(VGPUVM_OP, bytes, 'va'));
    if (kind === VGPUVM.DRM_VGPUVM_OP_MAP) {
      ops.push({ kind: 'map', va });
    } else if (kind === VGPUVM.DRM_VGPUVM_OP_UNMAP) {
      ops.push({ kind: 'unmap', va, keep });
    } else if (kind === VGPUVM.DRM_VGPUVM_OP_PREFETCH) {
      ops.push({ kind: 'prefetch', va });
    } else if (kind === VGPUVM.DRM_VGPUVM_OP_REMAP) {
      const piece = (name: string): VgpuvmVa | null => {
        const p = readVa(nested(VGPUVM_OP, bytes, name));
        return p.range === 0n ? null : p;
      };
      ops.push({ kind: 'remap', va, keep, prev: piece('prev'), next: piece('next') });
    } else {
      throw new Error(`vgpuvm: unknown op kind ${kind} in a VM_QUERY record`);
    }
  }
  return ops;
}
