// SPDX-License-Identifier: MIT
// amdgpu (drm/amdgpu_drm.h): GEM_CREATE and GEM_VA. amdgpu does not use drm_gpuvm; its VM is per DRM file
// (made at open, no create ioctl) and GEM_VA does one operation per ioctl, with its own rules:
//   MAP      the range must be free (EINVAL otherwise);
//   REPLACE  clears the range (splitting VAs at its edges) and maps: drm_gpuvm's map semantics;
//   UNMAP    names one whole mapping of one BO by its start address;
//   CLEAR    removes everything in a range, splitting at the edges: drm_gpuvm's unmap semantics.
// So a map over free space is MAP, a map over occupied space is REPLACE, an UNMAP op (one whole VA) is UNMAP
// and a REMAP (part of a VA) is CLEAR. Sparse VAs are PRT mappings, which have no BO.
import { BindRefusedError } from './bind-refused-error.js';
import { prepareBind, type BindRequest, type VaRules } from './bind-requests.js';
import type { BindSyncs } from './bind-syncs.js';
import type { DriverUapi } from './driver-uapi.js';
import type { GpuVaOp } from '../gpuvm/ops.js';
import type { GemHandles } from './gem-handles.js';
import { driverIoctl, ioctlCall, IOC_READ, IOC_WRITE, type IoctlCall } from './ioctl-call.js';
import { defineStruct, encodeStruct, type StructValues } from './uapi-struct.js';

const DRIVER = 'amdgpu';

/** amdgpu uAPI constants the encoders write. */
export const AMDGPU = {
  AMDGPU_GEM_DOMAIN_CPU: 0x1,
  AMDGPU_GEM_DOMAIN_GTT: 0x2,
  AMDGPU_GEM_DOMAIN_VRAM: 0x4,
  AMDGPU_GEM_CREATE_CPU_ACCESS_REQUIRED: 1 << 0,
  AMDGPU_GEM_CREATE_VM_ALWAYS_VALID: 1 << 6,
  AMDGPU_VA_OP_MAP: 1,
  AMDGPU_VA_OP_UNMAP: 2,
  AMDGPU_VA_OP_CLEAR: 3,
  AMDGPU_VA_OP_REPLACE: 4,
  AMDGPU_VM_PAGE_READABLE: 1 << 1,
  AMDGPU_VM_PAGE_WRITEABLE: 1 << 2,
  AMDGPU_VM_PAGE_EXECUTABLE: 1 << 3,
  AMDGPU_VM_PAGE_PRT: 1 << 4,
} as const;

/**
 * struct drm_amdgpu_gem_va, 64 bytes since the user-queue timeline fields (≈6.16). Kernels with the 40-byte
 * struct copy only the first 40 bytes, which is safe while the new fields are zero, as they always are here.
 */
export const AMDGPU_GEM_VA = defineStruct('struct drm_amdgpu_gem_va', 64, {
  handle: 0, _pad: 4, operation: 8, flags: 12, va_address: [16, 'u64'], offset_in_bo: [24, 'u64'], map_size: [32, 'u64'],
  vm_timeline_point: [40, 'u64'], vm_timeline_syncobj_out: 48, num_syncobj_handles: 52, input_fence_syncobj_handles: [56, 'u64'],
});
/** union drm_amdgpu_gem_create: `in` is what we write, `out` what the kernel writes back over it. */
export const AMDGPU_GEM_CREATE = defineStruct('union drm_amdgpu_gem_create', 32, {
  'in.bo_size': [0, 'u64'], 'in.alignment': [8, 'u64'], 'in.domains': [16, 'u64'], 'in.domain_flags': [24, 'u64'],
  'out.handle': 0,
});

export const DRM_IOCTL_AMDGPU_GEM_CREATE = driverIoctl('DRM_IOCTL_AMDGPU_GEM_CREATE', 0x00, IOC_READ | IOC_WRITE, AMDGPU_GEM_CREATE);
/** DRM_IOCTL_AMDGPU_GEM_VA (`_IOW`: nothing comes back). */
export const DRM_IOCTL_AMDGPU_GEM_VA = driverIoctl('DRM_IOCTL_AMDGPU_GEM_VA', 0x08, IOC_WRITE, AMDGPU_GEM_VA);

/** Everything this backend takes from drm/amdgpu_drm.h, for the ABI test. */
export const AMDGPU_UAPI: DriverUapi = {
  driver: DRIVER,
  header: 'drm/amdgpu_drm.h',
  structs: [AMDGPU_GEM_VA, AMDGPU_GEM_CREATE],
  ioctls: [DRM_IOCTL_AMDGPU_GEM_CREATE, DRM_IOCTL_AMDGPU_GEM_VA],
  constants: AMDGPU,
};

/** What DRM_IOCTL_AMDGPU_GEM_CREATE needs; `domains` is a mask of AMDGPU.AMDGPU_GEM_DOMAIN_*. */
export interface AmdgpuGemCreate {
  /** BO size in bytes. */
  readonly size: bigint;
  /** Alignment of the BO's backing memory in bytes (the GPU page size at least). */
  readonly alignment: bigint;
  /** Where the BO may live: a mask of AMDGPU_GEM_DOMAIN_* (VRAM, GTT, CPU...). */
  readonly domains: number;
  /** AMDGPU_GEM_CREATE_* flags; 0 by default. */
  readonly domainFlags?: bigint;
  /**
   * Private to the file's VM (AMDGPU_GEM_CREATE_VM_ALWAYS_VALID): it shares the VM's reservation, is
   * always mapped valid, and cannot be exported.
   */
  readonly vmPrivate?: boolean;
}

/** DRM_IOCTL_AMDGPU_GEM_CREATE; the kernel writes `out.handle` back. */
export function amdgpuGemCreate(req: AmdgpuGemCreate): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_AMDGPU_GEM_CREATE, encodeStruct(AMDGPU_GEM_CREATE, {
    'in.bo_size': req.size, 'in.alignment': req.alignment, 'in.domains': req.domains,
    'in.domain_flags': (req.domainFlags ?? 0n) | (req.vmPrivate === true ? BigInt(AMDGPU.AMDGPU_GEM_CREATE_VM_ALWAYS_VALID) : 0n),
  }));
}

/** The file's VM; rules from AMDGPU_INFO_DEV_INFO (virtual_address_offset / max, and the 4 KiB GPU page). */
export interface AmdgpuVm extends GemHandles {
  /** The VM's VA space and page size. */
  readonly rules: VaRules;
  /** AMDGPU_VM_PAGE_* / MTYPE bits for new mappings; readable, writeable and executable by default. */
  readonly mapFlags?: number;
}

/**
 * Translates an op list into DRM_IOCTL_AMDGPU_GEM_VA calls, one per request, in order. They are separate
 * ioctls: if one fails, the ones before it have taken effect.
 */
export function amdgpuGemVa(vm: AmdgpuVm, ops: Iterable<GpuVaOp>, syncs?: BindSyncs): IoctlCall[] {
  refuseSyncs(syncs);
  const bind = prepareBind(DRIVER, vm, ops, undefined);
  return bind === null ? [] : bind.requests.map((req) => gemVaCall(gemVa(req, mapFlagsOf(vm))));
}

/**
 * The one DRM_IOCTL_AMDGPU_GEM_VA that commits the op list of ONE request (one sm_map or sm_unmap result,
 * such as a lib/gpuvm GpuVaOps), or null when the list is empty. A map request is MAP or REPLACE; an unmap
 * request is a single CLEAR from the first removed address to the last: every VA overlapping that span
 * overlaps the request, so the walk visited it and everything in the span goes, as CLEAR does. Syncobjs are
 * refused, as by amdgpuGemVa.
 */
export function amdgpuGemVaRequest(vm: AmdgpuVm, ops: Iterable<GpuVaOp>, syncs?: BindSyncs): IoctlCall | null {
  refuseSyncs(syncs);
  const bind = prepareBind(DRIVER, vm, ops, undefined);
  if (bind === null) return null;
  const { requests } = bind;
  const map = requests.find((r) => r.kind === 'map');
  if (map !== undefined) {
    if (requests.length !== 1) throw new BindRefusedError(DRIVER, 'ERR_BIND_UNSUPPORTED', 'this op list holds more than one request; commit them one at a time');
    return gemVaCall(gemVa(map, mapFlagsOf(vm)));
  }
  const start = requests[0]!.addr;
  const last = requests[requests.length - 1]!;
  return gemVaCall({ operation: AMDGPU.AMDGPU_VA_OP_CLEAR, va_address: start, map_size: last.addr + last.range - start });
}

// A kernel with the 40-byte struct would drop the syncobj fields without an error; refusing is honest.
function refuseSyncs(syncs: BindSyncs | undefined): void {
  if ((syncs?.waits?.length ?? 0) + (syncs?.signals?.length ?? 0) > 0) {
    throw new BindRefusedError(DRIVER, 'ERR_BIND_UNSUPPORTED', 'GEM_VA syncobjs exist only on user-queue kernels, and older kernels drop them silently; wait and signal around the call instead');
  }
}

function mapFlagsOf(vm: AmdgpuVm): number {
  return vm.mapFlags ?? (AMDGPU.AMDGPU_VM_PAGE_READABLE | AMDGPU.AMDGPU_VM_PAGE_WRITEABLE | AMDGPU.AMDGPU_VM_PAGE_EXECUTABLE);
}

function gemVaCall(values: StructValues): IoctlCall {
  return ioctlCall(DRIVER, DRM_IOCTL_AMDGPU_GEM_VA, encodeStruct(AMDGPU_GEM_VA, values));
}

function gemVa(req: BindRequest, mapFlags: number): StructValues {
  if (req.kind === 'map') {
    const operation = req.overOccupied ? AMDGPU.AMDGPU_VA_OP_REPLACE : AMDGPU.AMDGPU_VA_OP_MAP;
    if (req.handle === null) return { operation, flags: AMDGPU.AMDGPU_VM_PAGE_PRT, va_address: req.addr, map_size: req.range };
    return { operation, handle: req.handle, flags: mapFlags, va_address: req.addr, offset_in_bo: req.offset, map_size: req.range };
  }
  if (req.wholeHandle === undefined) return { operation: AMDGPU.AMDGPU_VA_OP_CLEAR, va_address: req.addr, map_size: req.range };
  return req.wholeHandle === null
    ? { operation: AMDGPU.AMDGPU_VA_OP_UNMAP, flags: AMDGPU.AMDGPU_VM_PAGE_PRT, va_address: req.addr, map_size: req.range }
    : { operation: AMDGPU.AMDGPU_VA_OP_UNMAP, handle: req.wholeHandle, va_address: req.addr, map_size: req.range };
}
