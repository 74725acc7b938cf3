// SPDX-License-Identifier: MIT
// msm (drm/msm_drm.h, Qualcomm Adreno, VM_BIND merged in the 6.17 cycle): VM_BIND mode, bind queues,
// GEM_NEW and VM_BIND. Each DRM file has one VM; SET_PARAM(EN_VM_BIND) switches it to VM_BIND mode, once
// and before any BO, and binds run on a submitqueue created with MSM_SUBMITQUEUE_VM_BIND. VM_BIND takes an
// array of ops (inline when there is exactly one) and arrays of in and out syncobjs.
import { BindRefusedError } from './bind-refused-error.js';
import { prepareBind, type BindRequest, type VaRules } from './bind-requests.js';
import type { BindSyncs, SyncobjPoint } from './bind-syncs.js';
import type { DriverUapi } from './driver-uapi.js';
import type { GpuVaOp } from '../gpuvm/ops.js';
import type { GemHandles } from './gem-handles.js';
import { driverIoctl, ioctlCall, IOC_READ, IOC_WRITE, type IoctlCall, type PointerSlot } from './ioctl-call.js';
import { toUnsigned } from '../u64.js';
import { defineStruct, encodeArray, encodeStruct, type StructValues } from './uapi-struct.js';

const DRIVER = 'msm';

/** msm uAPI constants the encoders write. */
export const MSM = {
  MSM_PIPE_3D0: 0x10,
  MSM_PARAM_VA_START: 0x0e,
  MSM_PARAM_VA_SIZE: 0x0f,
  MSM_PARAM_HAS_PRR: 0x15,
  MSM_PARAM_EN_VM_BIND: 0x16,
  MSM_SUBMITQUEUE_VM_BIND: 0x2,
  MSM_BO_NO_SHARE: 0x00000004,
  MSM_BO_WC: 0x00020000,
  MSM_VM_BIND_OP_UNMAP: 0,
  MSM_VM_BIND_OP_MAP: 1,
  MSM_VM_BIND_OP_MAP_NULL: 2,
} as const;

/** struct drm_msm_param (GET_PARAM and SET_PARAM). */
export const MSM_PARAM = defineStruct('struct drm_msm_param', 24, { pipe: 0, param: 4, value: [8, 'u64'], len: 16, pad: 20 });
/** struct drm_msm_submitqueue. */
export const MSM_SUBMITQUEUE = defineStruct('struct drm_msm_submitqueue', 12, { flags: 0, prio: 4, id: 8 });
/** The bare `__u32` queue id SUBMITQUEUE_CLOSE takes. */
export const MSM_QUEUE_ID = defineStruct('__u32', 4, {});
/** struct drm_msm_gem_new. */
export const MSM_GEM_NEW = defineStruct('struct drm_msm_gem_new', 16, { size: [0, 'u64'], flags: 8, handle: 12 });
/** struct drm_msm_syncobj. */
export const MSM_SYNCOBJ = defineStruct('struct drm_msm_syncobj', 16, { handle: 0, flags: 4, point: [8, 'u64'] });
/** struct drm_msm_vm_bind_op. */
export const MSM_VM_BIND_OP = defineStruct('struct drm_msm_vm_bind_op', 40, {
  op: 0, handle: 4, obj_offset: [8, 'u64'], iova: [16, 'u64'], range: [24, 'u64'], flags: 32, pad: 36,
});
/** struct drm_msm_vm_bind; `op` (inline) and `ops` share offset 48. */
export const MSM_VM_BIND = defineStruct('struct drm_msm_vm_bind', 88, {
  flags: 0, nr_ops: 4, fence_fd: [8, 's32'], queue_id: 12, in_syncobjs: [16, 'u64'], out_syncobjs: [24, 'u64'],
  nr_in_syncobjs: 32, nr_out_syncobjs: 36, syncobj_stride: 40, op_stride: 44, op: [48, MSM_VM_BIND_OP], ops: [48, 'u64'],
});

export const DRM_IOCTL_MSM_SET_PARAM = driverIoctl('DRM_IOCTL_MSM_SET_PARAM', 0x01, IOC_WRITE, MSM_PARAM);
export const DRM_IOCTL_MSM_GEM_NEW = driverIoctl('DRM_IOCTL_MSM_GEM_NEW', 0x02, IOC_READ | IOC_WRITE, MSM_GEM_NEW);
export const DRM_IOCTL_MSM_SUBMITQUEUE_NEW = driverIoctl('DRM_IOCTL_MSM_SUBMITQUEUE_NEW', 0x0a, IOC_READ | IOC_WRITE, MSM_SUBMITQUEUE);
export const DRM_IOCTL_MSM_SUBMITQUEUE_CLOSE = driverIoctl('DRM_IOCTL_MSM_SUBMITQUEUE_CLOSE', 0x0b, IOC_WRITE, MSM_QUEUE_ID);
export const DRM_IOCTL_MSM_VM_BIND = driverIoctl('DRM_IOCTL_MSM_VM_BIND', 0x0d, IOC_READ | IOC_WRITE, MSM_VM_BIND);

/** Everything this backend takes from drm/msm_drm.h, for the ABI test. */
export const MSM_UAPI: DriverUapi = {
  driver: DRIVER,
  header: 'drm/msm_drm.h',
  structs: [MSM_PARAM, MSM_SUBMITQUEUE, MSM_QUEUE_ID, MSM_GEM_NEW, MSM_SYNCOBJ, MSM_VM_BIND_OP, MSM_VM_BIND],
  ioctls: [DRM_IOCTL_MSM_SET_PARAM, DRM_IOCTL_MSM_GEM_NEW, DRM_IOCTL_MSM_SUBMITQUEUE_NEW, DRM_IOCTL_MSM_SUBMITQUEUE_CLOSE, DRM_IOCTL_MSM_VM_BIND],
  constants: MSM,
};

/** SET_PARAM(EN_VM_BIND, 1): write-once, before any BO; fails on GPUs without per-process page tables. */
export function msmEnableVmBind(): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_MSM_SET_PARAM, encodeStruct(MSM_PARAM, {
    pipe: MSM.MSM_PIPE_3D0, param: MSM.MSM_PARAM_EN_VM_BIND, value: 1,
  }));
}

/** SUBMITQUEUE_NEW for a VM_BIND queue; the kernel writes `id` back. */
export function msmBindQueueNew(): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_MSM_SUBMITQUEUE_NEW, encodeStruct(MSM_SUBMITQUEUE, { flags: MSM.MSM_SUBMITQUEUE_VM_BIND }));
}

/** SUBMITQUEUE_CLOSE of `queueId`. */
export function msmQueueClose(queueId: number): IoctlCall {
  const arg = new Uint8Array(4);
  new DataView(arg.buffer).setUint32(0, Number(toUnsigned(queueId, 'queueId', 0xffffffffn)), true);
  return ioctlCall(DRIVER, DRM_IOCTL_MSM_SUBMITQUEUE_CLOSE, arg);
}

/**
 * DRM_IOCTL_MSM_GEM_NEW with MSM_BO_* `flags` (MSM_BO_WC by default); the kernel writes `handle` back.
 * `vmPrivate` adds MSM_BO_NO_SHARE: the BO belongs to the file's VM_BIND VM, shares its reservation and
 * cannot be exported.
 */
export function msmGemNew(size: bigint, flags: number = MSM.MSM_BO_WC, vmPrivate = false): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_MSM_GEM_NEW, encodeStruct(MSM_GEM_NEW, { size, flags: vmPrivate ? flags | MSM.MSM_BO_NO_SHARE : flags }));
}

/** The file's VM in VM_BIND mode; rules from MSM_PARAM_VA_START/VA_SIZE and the CPU page size. */
export interface MsmVm extends GemHandles {
  /** A queue from msmBindQueueNew(). */
  readonly queueId: number;
  /** The VM's VA space and page size. */
  readonly rules: VaRules;
  /** MSM_PARAM_HAS_PRR: whether NULL (sparse) mappings exist on this GPU. */
  readonly hasPrr: boolean;
}

/** Translates an op list into one DRM_IOCTL_MSM_VM_BIND, or none when the list is empty. */
export function msmVmBind(vm: MsmVm, ops: Iterable<GpuVaOp>, syncs?: BindSyncs): IoctlCall[] {
  const bind = prepareBind(DRIVER, vm, ops, syncs, (req, i) => {
    if (req.kind === 'map' && req.handle === null && !vm.hasPrr) {
      throw new BindRefusedError(DRIVER, 'ERR_BIND_UNSUPPORTED', `request ${i}: this GPU has no PRR, so NULL (sparse) mappings are not available`);
    }
  });
  if (bind === null) return [];
  const { requests, waits, signals } = bind;

  const binds = requests.map(bindOp);
  const arrays: Uint8Array[] = [];
  const pointers: PointerSlot[] = [];
  const refer = (bytes: Uint8Array, field: 'ops' | 'in_syncobjs' | 'out_syncobjs'): void => {
    arrays.push(bytes);
    pointers.push({ buffer: 0, offset: MSM_VM_BIND.fields[field]!.offset, target: arrays.length });
  };
  // The kernel reads the op inline when nr_ops is 1 and from `ops` otherwise.
  const single = binds.length === 1 ? binds[0] : undefined;
  if (single === undefined) refer(encodeArray(MSM_VM_BIND_OP, binds), 'ops');
  if (waits.length > 0) refer(encodeArray(MSM_SYNCOBJ, waits.map(msmSyncobj)), 'in_syncobjs');
  if (signals.length > 0) refer(encodeArray(MSM_SYNCOBJ, signals.map(msmSyncobj)), 'out_syncobjs');
  const arg = encodeStruct(MSM_VM_BIND, {
    nr_ops: binds.length, queue_id: vm.queueId,
    nr_in_syncobjs: waits.length, nr_out_syncobjs: signals.length,
    syncobj_stride: MSM_SYNCOBJ.size, op_stride: MSM_VM_BIND_OP.size,
    ...(single === undefined ? {} : { op: single }),
  });
  return [ioctlCall(DRIVER, DRM_IOCTL_MSM_VM_BIND, arg, arrays, pointers)];
}

function bindOp(req: BindRequest): StructValues {
  if (req.kind === 'unmap') return { op: MSM.MSM_VM_BIND_OP_UNMAP, iova: req.addr, range: req.range };
  if (req.handle === null) return { op: MSM.MSM_VM_BIND_OP_MAP_NULL, iova: req.addr, range: req.range };
  return { op: MSM.MSM_VM_BIND_OP_MAP, handle: req.handle, obj_offset: req.offset, iova: req.addr, range: req.range };
}

function msmSyncobj(s: SyncobjPoint): StructValues {
  return s.point === undefined ? { handle: s.handle } : { handle: s.handle, point: s.point };
}
