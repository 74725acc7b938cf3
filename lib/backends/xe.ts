// SPDX-License-Identifier: MIT
// Intel xe (drm/xe_drm.h, merged 6.8): VM create/destroy, GEM create and VM_BIND.
// VM_BIND takes an array of bind ops in one ioctl (inline when there is exactly one) and an array of
// drm_xe_sync; binds are asynchronous, so completion is observed through a signalled syncobj.
import { prepareBind, type BindRequest, type VaRules } from './bind-requests.js';
import type { BindSyncs, SyncobjPoint } from './bind-syncs.js';
import type { DriverUapi } from './driver-uapi.js';
import type { GpuVaOp } from '../gpuvm/ops.js';
import type { GemHandles } from './gem-handles.js';
import { driverIoctl, ioctlCall, IOC_READ, IOC_WRITE, type IoctlCall, type PointerSlot } from './ioctl-call.js';
import { defineStruct, encodeArray, encodeStruct, type StructValues } from './uapi-struct.js';

const DRIVER = 'xe';

/** xe uAPI constants the encoders write. */
export const XE = {
  DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE: 1 << 0,
  DRM_XE_VM_CREATE_FLAG_LR_MODE: 1 << 1,
  DRM_XE_VM_CREATE_FLAG_FAULT_MODE: 1 << 2,
  DRM_XE_VM_BIND_OP_MAP: 0x0,
  DRM_XE_VM_BIND_OP_UNMAP: 0x1,
  DRM_XE_VM_BIND_FLAG_READONLY: 1 << 0,
  DRM_XE_VM_BIND_FLAG_NULL: 1 << 2,
  DRM_XE_SYNC_TYPE_SYNCOBJ: 0x0,
  DRM_XE_SYNC_TYPE_TIMELINE_SYNCOBJ: 0x1,
  DRM_XE_SYNC_FLAG_SIGNAL: 1 << 0,
  DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING: 1 << 0,
  DRM_XE_GEM_CREATE_FLAG_SCANOUT: 1 << 1,
  DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM: 1 << 2,
  DRM_XE_GEM_CPU_CACHING_WB: 1,
  DRM_XE_GEM_CPU_CACHING_WC: 2,
} as const;

/** struct drm_xe_vm_create. */
export const XE_VM_CREATE = defineStruct('struct drm_xe_vm_create', 32, {
  extensions: [0, 'u64'], flags: 8, vm_id: 12,
});
/** struct drm_xe_vm_destroy. */
export const XE_VM_DESTROY = defineStruct('struct drm_xe_vm_destroy', 24, { vm_id: 0, pad: 4 });
/** struct drm_xe_vm_bind_op. */
export const XE_VM_BIND_OP = defineStruct('struct drm_xe_vm_bind_op', 80, {
  extensions: [0, 'u64'], obj: 8, pat_index: [12, 'u16'], pad: [14, 'u16'], obj_offset: [16, 'u64'],
  range: [24, 'u64'], addr: [32, 'u64'], op: 40, flags: 44, prefetch_mem_region_instance: 48, pad2: 52,
});
/** struct drm_xe_vm_bind; `bind` (inline op) and `vector_of_binds` share offset 24. */
export const XE_VM_BIND = defineStruct('struct drm_xe_vm_bind', 136, {
  extensions: [0, 'u64'], vm_id: 8, exec_queue_id: 12, pad: 16, num_binds: 20, bind: [24, XE_VM_BIND_OP],
  vector_of_binds: [24, 'u64'], pad2: 104, num_syncs: 108, syncs: [112, 'u64'],
});
/** struct drm_xe_sync. */
export const XE_SYNC = defineStruct('struct drm_xe_sync', 48, {
  extensions: [0, 'u64'], type: 8, flags: 12, handle: 16, timeline_value: [24, 'u64'],
});
/** struct drm_xe_gem_create. */
export const XE_GEM_CREATE = defineStruct('struct drm_xe_gem_create', 56, {
  extensions: [0, 'u64'], size: [8, 'u64'], placement: 16, flags: 20, vm_id: 24, handle: 28, cpu_caching: [32, 'u16'],
});

export const DRM_IOCTL_XE_GEM_CREATE = driverIoctl('DRM_IOCTL_XE_GEM_CREATE', 0x01, IOC_READ | IOC_WRITE, XE_GEM_CREATE);
export const DRM_IOCTL_XE_VM_CREATE = driverIoctl('DRM_IOCTL_XE_VM_CREATE', 0x03, IOC_READ | IOC_WRITE, XE_VM_CREATE);
export const DRM_IOCTL_XE_VM_DESTROY = driverIoctl('DRM_IOCTL_XE_VM_DESTROY', 0x04, IOC_WRITE, XE_VM_DESTROY);
export const DRM_IOCTL_XE_VM_BIND = driverIoctl('DRM_IOCTL_XE_VM_BIND', 0x05, IOC_WRITE, XE_VM_BIND);

/** Everything this backend takes from drm/xe_drm.h, for the ABI test. */
export const XE_UAPI: DriverUapi = {
  driver: DRIVER,
  header: 'drm/xe_drm.h',
  structs: [XE_VM_CREATE, XE_VM_DESTROY, XE_VM_BIND_OP, XE_VM_BIND, XE_SYNC, XE_GEM_CREATE],
  ioctls: [DRM_IOCTL_XE_GEM_CREATE, DRM_IOCTL_XE_VM_CREATE, DRM_IOCTL_XE_VM_DESTROY, DRM_IOCTL_XE_VM_BIND],
  constants: XE,
};

/** DRM_IOCTL_XE_VM_CREATE with `flags` (XE.DRM_XE_VM_CREATE_FLAG_*); the kernel writes `vm_id` back. */
export function xeVmCreate(flags = 0): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_XE_VM_CREATE, encodeStruct(XE_VM_CREATE, { flags }));
}

/** DRM_IOCTL_XE_VM_DESTROY of `vmId`. */
export function xeVmDestroy(vmId: number): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_XE_VM_DESTROY, encodeStruct(XE_VM_DESTROY, { vm_id: vmId }));
}

/** What DRM_IOCTL_XE_GEM_CREATE needs: placement is a mask of memory-region instances from DEVICE_QUERY. */
export interface XeGemCreate {
  /** BO size in bytes, a multiple of the device's minimum page size. */
  readonly size: bigint;
  /** Bit mask of memory-region instances (from DRM_XE_DEVICE_QUERY_MEM_REGIONS) the BO may live in. */
  readonly placement: number;
  /** How CPU mappings of the BO are cached: write-back or write-combined. */
  readonly cpuCaching: typeof XE.DRM_XE_GEM_CPU_CACHING_WB | typeof XE.DRM_XE_GEM_CPU_CACHING_WC;
  /** Non-zero makes the BO private to that VM (it shares the VM's reservation and cannot be exported). */
  readonly vmId?: number;
  /** DRM_XE_GEM_CREATE_FLAG_* bits; 0 by default. */
  readonly flags?: number;
}

/** DRM_IOCTL_XE_GEM_CREATE; the kernel writes `handle` back. */
export function xeGemCreate(req: XeGemCreate): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_XE_GEM_CREATE, encodeStruct(XE_GEM_CREATE, {
    size: req.size, placement: req.placement, flags: req.flags ?? 0, vm_id: req.vmId ?? 0, cpu_caching: req.cpuCaching,
  }));
}

/** The VM a bind goes to, and the rules its device imposes. */
export interface XeVm extends GemHandles {
  /** The VM id from DRM_IOCTL_XE_VM_CREATE. */
  readonly vmId: number;
  /** A VM_BIND-class exec queue of this VM; 0 (the default) is the VM's own bind queue. */
  readonly execQueueId?: number;
  /** The platform's PAT index for the mappings (from the platform's PAT table; WB needs one at least 1-way coherent). */
  readonly patIndex: number;
  /** PAGE_SIZE, or DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT where VRAM needs 64 KiB; vaEnd = 2^VA_BITS. */
  readonly rules: VaRules;
}

/** Translates an op list into one DRM_IOCTL_XE_VM_BIND, or none when the list is empty. */
export function xeVmBind(vm: XeVm, ops: Iterable<GpuVaOp>, syncs?: BindSyncs): IoctlCall[] {
  const bind = prepareBind(DRIVER, vm, ops, syncs);
  if (bind === null) return [];
  const { requests, waits, signals } = bind;

  const binds = requests.map((req) => bindOp(vm, req));
  const syncArray = encodeArray(XE_SYNC, [...waits.map((s) => xeSync(s, 0)), ...signals.map((s) => xeSync(s, XE.DRM_XE_SYNC_FLAG_SIGNAL))]);
  const arrays: Uint8Array[] = [];
  const pointers: PointerSlot[] = [];
  const refer = (bytes: Uint8Array, offset: number): void => {
    arrays.push(bytes);
    pointers.push({ buffer: 0, offset, target: arrays.length });
  };
  // The kernel reads the op inline when num_binds is 1 and from vector_of_binds otherwise.
  const single = binds.length === 1 ? binds[0] : undefined;
  if (single === undefined) refer(encodeArray(XE_VM_BIND_OP, binds), XE_VM_BIND.fields.vector_of_binds!.offset);
  if (syncArray.byteLength > 0) refer(syncArray, XE_VM_BIND.fields.syncs!.offset);
  const arg = encodeStruct(XE_VM_BIND, {
    vm_id: vm.vmId, exec_queue_id: vm.execQueueId ?? 0, num_binds: binds.length,
    ...(single === undefined ? {} : { bind: single }),
    num_syncs: waits.length + signals.length,
  });
  return [ioctlCall(DRIVER, DRM_IOCTL_XE_VM_BIND, arg, arrays, pointers)];
}

function bindOp(vm: XeVm, req: BindRequest): StructValues {
  if (req.kind === 'unmap') return { op: XE.DRM_XE_VM_BIND_OP_UNMAP, addr: req.addr, range: req.range, pat_index: vm.patIndex };
  // A null mapping (sparse) has no object: obj and obj_offset must be zero.
  if (req.handle === null) {
    return { op: XE.DRM_XE_VM_BIND_OP_MAP, flags: XE.DRM_XE_VM_BIND_FLAG_NULL, addr: req.addr, range: req.range, pat_index: vm.patIndex };
  }
  return { op: XE.DRM_XE_VM_BIND_OP_MAP, obj: req.handle, obj_offset: req.offset, addr: req.addr, range: req.range, pat_index: vm.patIndex };
}

function xeSync(s: SyncobjPoint, flags: number): StructValues {
  return s.point === undefined
    ? { type: XE.DRM_XE_SYNC_TYPE_SYNCOBJ, flags, handle: s.handle }
    : { type: XE.DRM_XE_SYNC_TYPE_TIMELINE_SYNCOBJ, flags, handle: s.handle, timeline_value: s.point };
}
