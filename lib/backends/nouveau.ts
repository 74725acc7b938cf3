// SPDX-License-Identifier: MIT
// nouveau (drm/nouveau_drm.h, VM_BIND since 6.6): VM_INIT, GEM_NEW and VM_BIND.
// There is no VM create or destroy: each DRM file has one VM, which VM_INIT switches to VM_BIND mode before any
// BO or channel exists, and which lives as long as the file. VM_BIND takes an array of ops and, with RUN_ASYNC,
// arrays of syncs to wait on and signal; without syncs it runs synchronously.
import { BindRefusedError } from './bind-refused-error.js';
import { prepareBind, type BindRequest, type VaRules } from './bind-requests.js';
import type { BindSyncs, SyncobjPoint } from './bind-syncs.js';
import type { DriverUapi } from './driver-uapi.js';
import type { GpuVaOp } from '../gpuvm/ops.js';
import type { GemHandles } from './gem-handles.js';
import { driverIoctl, ioctlCall, IOC_READ, IOC_WRITE, type IoctlCall, type PointerSlot } from './ioctl-call.js';
import { defineStruct, encodeArray, encodeStruct, type StructValues } from './uapi-struct.js';

const DRIVER = 'nouveau';

/** nouveau uAPI constants the encoders write. */
export const NOUVEAU = {
  NOUVEAU_GEM_DOMAIN_CPU: 1 << 0,
  NOUVEAU_GEM_DOMAIN_VRAM: 1 << 1,
  NOUVEAU_GEM_DOMAIN_GART: 1 << 2,
  NOUVEAU_GEM_DOMAIN_MAPPABLE: 1 << 3,
  NOUVEAU_GEM_DOMAIN_COHERENT: 1 << 4,
  NOUVEAU_GEM_DOMAIN_NO_SHARE: 1 << 5,
  DRM_NOUVEAU_VM_BIND_OP_MAP: 0x0,
  DRM_NOUVEAU_VM_BIND_OP_UNMAP: 0x1,
  DRM_NOUVEAU_VM_BIND_SPARSE: 1 << 8,
  DRM_NOUVEAU_VM_BIND_RUN_ASYNC: 0x1,
  DRM_NOUVEAU_SYNC_SYNCOBJ: 0x0,
  DRM_NOUVEAU_SYNC_TIMELINE_SYNCOBJ: 0x1,
} as const;

/** struct drm_nouveau_vm_init. */
export const NOUVEAU_VM_INIT = defineStruct('struct drm_nouveau_vm_init', 16, {
  kernel_managed_addr: [0, 'u64'], kernel_managed_size: [8, 'u64'],
});
/** struct drm_nouveau_vm_bind_op. */
export const NOUVEAU_VM_BIND_OP = defineStruct('struct drm_nouveau_vm_bind_op', 40, {
  op: 0, flags: 4, handle: 8, pad: 12, addr: [16, 'u64'], bo_offset: [24, 'u64'], range: [32, 'u64'],
});
/** struct drm_nouveau_vm_bind. */
export const NOUVEAU_VM_BIND = defineStruct('struct drm_nouveau_vm_bind', 40, {
  op_count: 0, flags: 4, wait_count: 8, sig_count: 12, wait_ptr: [16, 'u64'], sig_ptr: [24, 'u64'], op_ptr: [32, 'u64'],
});
/** struct drm_nouveau_sync. */
export const NOUVEAU_SYNC = defineStruct('struct drm_nouveau_sync', 16, { flags: 0, handle: 4, timeline_value: [8, 'u64'] });
/** struct drm_nouveau_gem_info (embedded in gem_new). */
export const NOUVEAU_GEM_INFO = defineStruct('struct drm_nouveau_gem_info', 40, {
  handle: 0, domain: 4, size: [8, 'u64'], offset: [16, 'u64'], map_handle: [24, 'u64'], tile_mode: 32, tile_flags: 36,
});
/** struct drm_nouveau_gem_new. */
export const NOUVEAU_GEM_NEW = defineStruct('struct drm_nouveau_gem_new', 48, {
  info: [0, NOUVEAU_GEM_INFO], channel_hint: 40, align: 44,
});

export const DRM_IOCTL_NOUVEAU_VM_INIT = driverIoctl('DRM_IOCTL_NOUVEAU_VM_INIT', 0x10, IOC_READ | IOC_WRITE, NOUVEAU_VM_INIT);
export const DRM_IOCTL_NOUVEAU_VM_BIND = driverIoctl('DRM_IOCTL_NOUVEAU_VM_BIND', 0x11, IOC_READ | IOC_WRITE, NOUVEAU_VM_BIND);
export const DRM_IOCTL_NOUVEAU_GEM_NEW = driverIoctl('DRM_IOCTL_NOUVEAU_GEM_NEW', 0x40, IOC_READ | IOC_WRITE, NOUVEAU_GEM_NEW);

/** Everything this backend takes from drm/nouveau_drm.h, for the ABI test. */
export const NOUVEAU_UAPI: DriverUapi = {
  driver: DRIVER,
  header: 'drm/nouveau_drm.h',
  structs: [NOUVEAU_VM_INIT, NOUVEAU_VM_BIND_OP, NOUVEAU_VM_BIND, NOUVEAU_SYNC, NOUVEAU_GEM_INFO, NOUVEAU_GEM_NEW],
  ioctls: [DRM_IOCTL_NOUVEAU_VM_INIT, DRM_IOCTL_NOUVEAU_VM_BIND, DRM_IOCTL_NOUVEAU_GEM_NEW],
  constants: NOUVEAU,
};

/** The VA window the kernel keeps for itself; userspace binds only outside it. */
export interface NouveauKernelWindow {
  /** Start of the kernel's window, the `kernel_managed_addr` given to VM_INIT. */
  readonly addr: bigint;
  /** Size of the kernel's window in bytes, `kernel_managed_size`. */
  readonly size: bigint;
}

/** DRM_IOCTL_NOUVEAU_VM_INIT: must come before any BO or channel on this file (else ENOSYS). */
export function nouveauVmInit(kernel: NouveauKernelWindow): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_NOUVEAU_VM_INIT, encodeStruct(NOUVEAU_VM_INIT, {
    kernel_managed_addr: kernel.addr, kernel_managed_size: kernel.size,
  }));
}

/** What DRM_IOCTL_NOUVEAU_GEM_NEW needs; `domain` is a mask of NOUVEAU.NOUVEAU_GEM_DOMAIN_*. */
export interface NouveauGemNew {
  /** BO size in bytes. */
  readonly size: bigint;
  /** Where the BO may live: a mask of VRAM, GART and CPU domains. */
  readonly domain: number;
  /** Alignment in bytes; 0 (the default) lets the kernel choose. */
  readonly align?: number;
  /**
   * Private to the file's VM (NOUVEAU_GEM_DOMAIN_NO_SHARE, needs VM_INIT first): it shares the VM's
   * reservation and cannot be exported.
   */
  readonly vmPrivate?: boolean;
}

/** DRM_IOCTL_NOUVEAU_GEM_NEW; the kernel writes `info.handle` back. */
export function nouveauGemNew(req: NouveauGemNew): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_NOUVEAU_GEM_NEW, encodeStruct(NOUVEAU_GEM_NEW, {
    info: { domain: req.vmPrivate === true ? req.domain | NOUVEAU.NOUVEAU_GEM_DOMAIN_NO_SHARE : req.domain, size: req.size }, align: req.align ?? 0,
  }));
}

/** The file's VM after VM_INIT: the bindable space and the kernel's window inside it. */
export interface NouveauVm extends GemHandles {
  /** The bindable VA space and page size. */
  readonly rules: VaRules;
  /** The part of the VA space VM_INIT gave to the kernel; binds must stay out of it. */
  readonly kernel: NouveauKernelWindow;
}

/** Translates an op list into one DRM_IOCTL_NOUVEAU_VM_BIND, or none when the list is empty. */
export function nouveauVmBind(vm: NouveauVm, ops: Iterable<GpuVaOp>, syncs?: BindSyncs): IoctlCall[] {
  const bind = prepareBind(DRIVER, vm, ops, syncs, (req, i) => checkNouveau(vm, req, i));
  if (bind === null) return [];
  const { requests, waits, signals } = bind;

  const arrays: Uint8Array[] = [encodeArray(NOUVEAU_VM_BIND_OP, requests.map(bindOp))];
  const pointers: PointerSlot[] = [{ buffer: 0, offset: NOUVEAU_VM_BIND.fields.op_ptr!.offset, target: 1 }];
  for (const [list, field] of [[waits, 'wait_ptr'], [signals, 'sig_ptr']] as const) {
    if (list.length === 0) continue;
    arrays.push(encodeArray(NOUVEAU_SYNC, list.map(nouveauSync)));
    pointers.push({ buffer: 0, offset: NOUVEAU_VM_BIND.fields[field]!.offset, target: arrays.length });
  }
  const async = waits.length + signals.length > 0;
  const arg = encodeStruct(NOUVEAU_VM_BIND, {
    op_count: requests.length, flags: async ? NOUVEAU.DRM_NOUVEAU_VM_BIND_RUN_ASYNC : 0,
    wait_count: waits.length, sig_count: signals.length,
  });
  return [ioctlCall(DRIVER, DRM_IOCTL_NOUVEAU_VM_BIND, arg, arrays, pointers)];
}

function checkNouveau(vm: NouveauVm, req: BindRequest, index: number): void {
  // nouveau's sparse regions are not GPUVM VAs: they sit beneath the mappings (an unmap inside one puts
  // sparse PTEs back) and are removed only whole, so a sparse GPUVM VA has no faithful nouveau form.
  if (req.kind === 'map' && req.handle === null) {
    throw new BindRefusedError(DRIVER, 'ERR_BIND_UNSUPPORTED', `request ${index}: nouveau sparse regions do not split like GPUVM sparse VAs; map a BO instead`);
  }
  const kEnd = vm.kernel.addr + vm.kernel.size;
  if (req.addr < kEnd && vm.kernel.addr < req.addr + req.range) {
    throw new BindRefusedError(DRIVER, 'ERR_BIND_RANGE',
      `request ${index}: overlaps the kernel-managed window [0x${vm.kernel.addr.toString(16)}, 0x${kEnd.toString(16)})`);
  }
}

function bindOp(req: BindRequest): StructValues {
  if (req.kind === 'unmap') return { op: NOUVEAU.DRM_NOUVEAU_VM_BIND_OP_UNMAP, addr: req.addr, range: req.range };
  // checkNouveau has refused sparse maps, so there is a handle.
  return { op: NOUVEAU.DRM_NOUVEAU_VM_BIND_OP_MAP, handle: req.handle ?? 0, addr: req.addr, bo_offset: req.offset, range: req.range };
}

function nouveauSync(s: SyncobjPoint): StructValues {
  return s.point === undefined
    ? { flags: NOUVEAU.DRM_NOUVEAU_SYNC_SYNCOBJ, handle: s.handle }
    : { flags: NOUVEAU.DRM_NOUVEAU_SYNC_TIMELINE_SYNCOBJ, handle: s.handle, timeline_value: s.point };
}
