// SPDX-License-Identifier: MIT
// Which kernel VM_BIND backend serves a device, chosen from the driver name DRM_IOCTL_VERSION reports (never
// from a guess: private ioctl numbers overlap between drivers), and what it supports, for `drm-gpuvm info`.

/** What a kernel backend does on its driver. */
export interface KernelBackend {
  /** DRM driver name, as DRM_IOCTL_VERSION reports it. */
  readonly driver: string;
  /** The uAPI header the encoders follow. */
  readonly header: string;
  /** First kernel release with this uAPI. */
  readonly since: string;
  /** How a VM comes to exist and goes away. */
  readonly vm: string;
  /** The driver's own BO-create ioctl (dumb buffers are refused on render nodes). */
  readonly boCreate: string;
  /** The ioctl that binds. */
  readonly bindIoctl: string;
  /** Whether a whole op list goes down in one ioctl, or one ioctl per request (not atomic). */
  readonly batch: 'one-ioctl' | 'ioctl-per-request';
  /** Whether in/out syncobjs are passed with the bind. */
  readonly syncobjs: boolean;
  /** How sparse (NULL-object) VAs are expressed, or why they are refused. */
  readonly sparse: string;
  /** What the kernel does with a map over occupied VA. */
  readonly mapOverOccupied: 'gpuvm-split' | 'replace';
  /** Where this backend has been exercised: by ABI and translation tests only, or on a running kernel. */
  readonly verified: 'abi-and-translation-tests' | 'kernel-in-vm';
}

const BACKENDS: Readonly<Record<string, KernelBackend>> = {
  xe: {
    driver: 'xe', header: 'drm/xe_drm.h', since: '6.8', vm: 'VM_CREATE / VM_DESTROY', boCreate: 'DRM_IOCTL_XE_GEM_CREATE',
    bindIoctl: 'DRM_IOCTL_XE_VM_BIND', batch: 'one-ioctl', syncobjs: true, sparse: 'NULL binds (DRM_XE_VM_BIND_FLAG_NULL)',
    mapOverOccupied: 'gpuvm-split', verified: 'abi-and-translation-tests',
  },
  nouveau: {
    driver: 'nouveau', header: 'drm/nouveau_drm.h', since: '6.6', vm: 'one per file, VM_INIT before any BO', boCreate: 'DRM_IOCTL_NOUVEAU_GEM_NEW',
    bindIoctl: 'DRM_IOCTL_NOUVEAU_VM_BIND', batch: 'one-ioctl', syncobjs: true,
    sparse: 'refused: nouveau sparse regions lie beneath mappings and do not split like GPUVM VAs',
    mapOverOccupied: 'gpuvm-split', verified: 'abi-and-translation-tests',
  },
  panthor: {
    driver: 'panthor', header: 'drm/panthor_drm.h', since: '6.10', vm: 'VM_CREATE / VM_DESTROY', boCreate: 'DRM_IOCTL_PANTHOR_BO_CREATE',
    bindIoctl: 'DRM_IOCTL_PANTHOR_VM_BIND', batch: 'one-ioctl', syncobjs: true,
    sparse: 'MAP_SPARSE (newer kernels; older ones answer EINVAL)', mapOverOccupied: 'gpuvm-split', verified: 'abi-and-translation-tests',
  },
  msm: {
    driver: 'msm', header: 'drm/msm_drm.h', since: '6.17', vm: 'one per file, SET_PARAM(EN_VM_BIND) + a VM_BIND submitqueue',
    boCreate: 'DRM_IOCTL_MSM_GEM_NEW', bindIoctl: 'DRM_IOCTL_MSM_VM_BIND', batch: 'one-ioctl', syncobjs: true,
    sparse: 'MAP_NULL where MSM_PARAM_HAS_PRR', mapOverOccupied: 'gpuvm-split', verified: 'abi-and-translation-tests',
  },
  amdgpu: {
    driver: 'amdgpu', header: 'drm/amdgpu_drm.h', since: '4.2 (REPLACE/CLEAR ≈4.11)', vm: 'one per file, made at open',
    boCreate: 'DRM_IOCTL_AMDGPU_GEM_CREATE', bindIoctl: 'DRM_IOCTL_AMDGPU_GEM_VA', batch: 'ioctl-per-request',
    syncobjs: false, sparse: 'PRT mappings', mapOverOccupied: 'replace', verified: 'abi-and-translation-tests',
  },
  vgpuvm: {
    driver: 'vgpuvm', header: 'kmod/vgpuvm/vgpuvm_drm.h (this project\'s test module)', since: '7.2 (Debian sid, built by drm-gpuvm vm --with-vgpuvm)',
    vm: 'VM_CREATE / VM_DESTROY, staged or immediate mode', boCreate: 'DRM_IOCTL_VGPUVM_BO_CREATE', bindIoctl: 'DRM_IOCTL_VGPUVM_VM_BIND',
    batch: 'one-ioctl', syncobjs: true, sparse: 'sparse MAP ops', mapOverOccupied: 'gpuvm-split', verified: 'kernel-in-vm',
  },
};

/** Names of the drivers that have a kernel VM_BIND backend. */
export const KERNEL_BACKEND_DRIVERS: readonly string[] = Object.keys(BACKENDS);

/** The kernel backend for a DRM driver name, or undefined when the driver has none (vgem, i915, ...). */
export function backendFor(driverName: string): KernelBackend | undefined {
  return Object.hasOwn(BACKENDS, driverName) ? BACKENDS[driverName] : undefined;
}

/** One line for `drm-gpuvm info`: the backend and its features, or that the driver has no kernel backend. */
export function describeBackend(driverName: string): string {
  const b = backendFor(driverName);
  if (b === undefined) return `${driverName}: no kernel VM_BIND backend`;
  const batch = b.batch === 'one-ioctl' ? 'one ioctl per op list' : 'one ioctl per request';
  return `${b.driver}: ${b.bindIoctl} (${b.header}, ${b.since}+); VM: ${b.vm}; BOs: ${b.boCreate}; ${batch}; `
    + `syncobjs: ${b.syncobjs ? 'yes' : 'no'}; sparse: ${b.sparse}; `
    + (b.verified === 'kernel-in-vm' ? 'run against the kernel\'s drm_gpuvm in the test VM' : 'checked by ABI and translation tests only');
}
