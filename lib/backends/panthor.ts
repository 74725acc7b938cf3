// SPDX-License-Identifier: MIT
// panthor (drm/panthor_drm.h, Arm Mali CSF, merged 6.10): VM create/destroy, BO create and VM_BIND.
// VM_BIND takes an array of ops (a drm_panthor_obj_array whose stride versions the op layout); syncs belong
// to each op, so the waits go on the first op and the signals on the last: the VM's bind queue runs the ops
// in order. With syncs the bind is ASYNC; without, the kernel runs it synchronously.
import { prepareBind, type BindRequest, type VaRules } from './bind-requests.js';
import type { BindSyncs, SyncobjPoint } from './bind-syncs.js';
import type { DriverUapi } from './driver-uapi.js';
import type { GpuVaOp } from '../gpuvm/ops.js';
import type { GemHandles } from './gem-handles.js';
import { driverIoctl, ioctlCall, IOC_READ, IOC_WRITE, type IoctlCall, type PointerSlot } from './ioctl-call.js';
import { defineStruct, encodeArray, encodeStruct, type StructValues } from './uapi-struct.js';

const DRIVER = 'panthor';

/** panthor uAPI constants the encoders write. */
export const PANTHOR = {
  DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC: 1 << 1,
  DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE: 1 << 3,
  DRM_PANTHOR_VM_BIND_OP_TYPE_MAP: 0 << 28,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP: 1 << 28,
  DRM_PANTHOR_VM_BIND_ASYNC: 1 << 0,
  DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ: 0,
  DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ: 1,
  DRM_PANTHOR_SYNC_OP_WAIT: 0,
  DRM_PANTHOR_SYNC_OP_SIGNAL: -0x80000000,
  DRM_PANTHOR_BO_NO_MMAP: 1 << 0,
} as const;

/** struct drm_panthor_obj_array: how panthor passes every array, with the element size as a version. */
export const PANTHOR_OBJ_ARRAY = defineStruct('struct drm_panthor_obj_array', 16, { stride: 0, count: 4, array: [8, 'u64'] });
/** struct drm_panthor_sync_op. */
export const PANTHOR_SYNC_OP = defineStruct('struct drm_panthor_sync_op', 16, { flags: 0, handle: 4, timeline_value: [8, 'u64'] });
/** struct drm_panthor_vm_create. */
export const PANTHOR_VM_CREATE = defineStruct('struct drm_panthor_vm_create', 16, { flags: 0, id: 4, user_va_range: [8, 'u64'] });
/** struct drm_panthor_vm_destroy. */
export const PANTHOR_VM_DESTROY = defineStruct('struct drm_panthor_vm_destroy', 8, { id: 0, pad: 4 });
/** struct drm_panthor_vm_bind_op. */
export const PANTHOR_VM_BIND_OP = defineStruct('struct drm_panthor_vm_bind_op', 48, {
  flags: 0, bo_handle: 4, bo_offset: [8, 'u64'], va: [16, 'u64'], size: [24, 'u64'], syncs: [32, PANTHOR_OBJ_ARRAY],
});
/** struct drm_panthor_vm_bind. */
export const PANTHOR_VM_BIND = defineStruct('struct drm_panthor_vm_bind', 24, { vm_id: 0, flags: 4, ops: [8, PANTHOR_OBJ_ARRAY] });
/** struct drm_panthor_bo_create. */
export const PANTHOR_BO_CREATE = defineStruct('struct drm_panthor_bo_create', 24, {
  size: [0, 'u64'], flags: 8, exclusive_vm_id: 12, handle: 16, pad: 20,
});

export const DRM_IOCTL_PANTHOR_VM_CREATE = driverIoctl('DRM_IOCTL_PANTHOR_VM_CREATE', 1, IOC_READ | IOC_WRITE, PANTHOR_VM_CREATE);
export const DRM_IOCTL_PANTHOR_VM_DESTROY = driverIoctl('DRM_IOCTL_PANTHOR_VM_DESTROY', 2, IOC_READ | IOC_WRITE, PANTHOR_VM_DESTROY);
export const DRM_IOCTL_PANTHOR_VM_BIND = driverIoctl('DRM_IOCTL_PANTHOR_VM_BIND', 3, IOC_READ | IOC_WRITE, PANTHOR_VM_BIND);
export const DRM_IOCTL_PANTHOR_BO_CREATE = driverIoctl('DRM_IOCTL_PANTHOR_BO_CREATE', 5, IOC_READ | IOC_WRITE, PANTHOR_BO_CREATE);

/** Everything this backend takes from drm/panthor_drm.h, for the ABI test. */
export const PANTHOR_UAPI: DriverUapi = {
  driver: DRIVER,
  header: 'drm/panthor_drm.h',
  structs: [PANTHOR_OBJ_ARRAY, PANTHOR_SYNC_OP, PANTHOR_VM_CREATE, PANTHOR_VM_DESTROY, PANTHOR_VM_BIND_OP, PANTHOR_VM_BIND, PANTHOR_BO_CREATE],
  ioctls: [DRM_IOCTL_PANTHOR_VM_CREATE, DRM_IOCTL_PANTHOR_VM_DESTROY, DRM_IOCTL_PANTHOR_VM_BIND, DRM_IOCTL_PANTHOR_BO_CREATE],
  constants: PANTHOR,
};

/** DRM_IOCTL_PANTHOR_VM_CREATE; `userVaRange` 0 lets the kernel choose. The kernel writes `id` (and the range) back. */
export function panthorVmCreate(userVaRange = 0n): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_PANTHOR_VM_CREATE, encodeStruct(PANTHOR_VM_CREATE, { user_va_range: userVaRange }));
}

/** DRM_IOCTL_PANTHOR_VM_DESTROY of `vmId`. */
export function panthorVmDestroy(vmId: number): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_PANTHOR_VM_DESTROY, encodeStruct(PANTHOR_VM_DESTROY, { id: vmId }));
}

/** What DRM_IOCTL_PANTHOR_BO_CREATE needs; a non-zero `exclusiveVmId` ties the BO to that VM (never exportable). */
export interface PanthorBoCreate {
  /** BO size in bytes. */
  readonly size: bigint;
  /** DRM_PANTHOR_BO_* flags (NO_MMAP); 0 by default. */
  readonly flags?: number;
  /** A VM id to make the BO private to (it then shares that VM's reservation); 0 or absent: shareable. */
  readonly exclusiveVmId?: number;
}

/** DRM_IOCTL_PANTHOR_BO_CREATE; the kernel writes `handle` and the page-rounded `size` back. */
export function panthorBoCreate(req: PanthorBoCreate): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_PANTHOR_BO_CREATE, encodeStruct(PANTHOR_BO_CREATE, {
    size: req.size, flags: req.flags ?? 0, exclusive_vm_id: req.exclusiveVmId ?? 0,
  }));
}

/** The VM a bind goes to; `rules.pageSize` is the VM page size (the smallest GPU page size, normally 4 KiB). */
export interface PanthorVm extends GemHandles {
  /** The VM id from DRM_IOCTL_PANTHOR_VM_CREATE. */
  readonly vmId: number;
  /** The VM's VA space and page size. */
  readonly rules: VaRules;
}

/** Translates an op list into one DRM_IOCTL_PANTHOR_VM_BIND, or none when the list is empty. */
export function panthorVmBind(vm: PanthorVm, ops: Iterable<GpuVaOp>, syncs?: BindSyncs): IoctlCall[] {
  const bind = prepareBind(DRIVER, vm, ops, syncs);
  if (bind === null) return [];
  const { requests, waits, signals } = bind;

  // Buffer 1 is the op array; each op's sync array follows it and is referenced from inside buffer 1.
  const opBytes = new Uint8Array(PANTHOR_VM_BIND_OP.size * requests.length);
  const arrays: Uint8Array[] = [opBytes];
  const pointers: PointerSlot[] = [{ buffer: 0, offset: PANTHOR_VM_BIND.fields.ops!.offset + PANTHOR_OBJ_ARRAY.fields.array!.offset, target: 1 }];
  const last = requests.length - 1;
  requests.forEach((req, i) => {
    const opSyncs = [
      ...(i === 0 ? waits.map((s) => panthorSync(s, PANTHOR.DRM_PANTHOR_SYNC_OP_WAIT)) : []),
      ...(i === last ? signals.map((s) => panthorSync(s, PANTHOR.DRM_PANTHOR_SYNC_OP_SIGNAL)) : []),
    ];
    const base = i * PANTHOR_VM_BIND_OP.size;
    opBytes.set(encodeStruct(PANTHOR_VM_BIND_OP, {
      ...bindOp(req),
      syncs: { stride: PANTHOR_SYNC_OP.size, count: opSyncs.length },
    }), base);
    if (opSyncs.length === 0) return;
    arrays.push(encodeArray(PANTHOR_SYNC_OP, opSyncs));
    pointers.push({ buffer: 1, offset: base + PANTHOR_VM_BIND_OP.fields.syncs!.offset + PANTHOR_OBJ_ARRAY.fields.array!.offset, target: arrays.length });
  });
  const arg = encodeStruct(PANTHOR_VM_BIND, {
    vm_id: vm.vmId,
    flags: waits.length + signals.length > 0 ? PANTHOR.DRM_PANTHOR_VM_BIND_ASYNC : 0,
    ops: { stride: PANTHOR_VM_BIND_OP.size, count: requests.length },
  });
  return [ioctlCall(DRIVER, DRM_IOCTL_PANTHOR_VM_BIND, arg, arrays, pointers)];
}

function bindOp(req: BindRequest): StructValues {
  if (req.kind === 'unmap') return { flags: PANTHOR.DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP, va: req.addr, size: req.range };
  // A sparse mapping has no BO (handle and offset must be 0) and must be non-executable.
  if (req.handle === null) {
    return {
      flags: PANTHOR.DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | PANTHOR.DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE | PANTHOR.DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC,
      va: req.addr, size: req.range,
    };
  }
  return { flags: PANTHOR.DRM_PANTHOR_VM_BIND_OP_TYPE_MAP, bo_handle: req.handle, bo_offset: req.offset, va: req.addr, size: req.range };
}

function panthorSync(s: SyncobjPoint, direction: number): StructValues {
  // SIGNAL is bit 31; the header spells it as a negative int, the field is a u32.
  const flags = (direction | (s.point === undefined
    ? PANTHOR.DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ
    : PANTHOR.DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ)) >>> 0;
  return s.point === undefined ? { flags, handle: s.handle } : { flags, handle: s.handle, timeline_value: s.point };
}

