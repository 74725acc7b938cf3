// SPDX-License-Identifier: MIT
// What `gpu.describe()` and `drm-gpuvm info` say about one device: plain JSON-ready data.

/** A feature and how the device provides it, or why it does not. */
export interface GpuFeature {
  /** Whether the feature is there. */
  readonly supported: boolean;
  /** How it is done, or why it is refused. */
  readonly how: string;
}

/** Something the backend refuses on this device, and the reason. */
export interface GpuRefusal {
  /** What is refused. */
  readonly what: string;
  /** The reason, as `drm-gpuvm info` prints it after what is refused. */
  readonly why: string;
}

/** One device as lib/gpu drives it. */
export interface GpuDescription {
  /** 'drm' for a kernel DRM node, 'software' for the memfd-backed stand-in. */
  readonly kind: 'drm' | 'software';
  /** The node path, or 'software'. */
  readonly path: string;
  /** The driver name DRM_IOCTL_VERSION reports ('software' for the software device): what chose the backend. */
  readonly driver: string;
  /** The backend every VM of this device commits through ('va-window', 'vgpuvm-vm-bind', 'xe-vm-bind', ...). */
  readonly backend: string;
  /** How a VM comes to exist, how BOs are made and how binds reach the device. */
  readonly binds: string;
  /** Sparse (BO-less) mappings. */
  readonly sparse: GpuFeature;
  /** vm.read / vm.write: a CPU view of the GPU VA space as the GPU sees it. */
  readonly cpuVaAccess: GpuFeature;
  /** bo.map(): a CPU mapping of one BO. */
  readonly boCpuMapping: GpuFeature;
  /** createBo({ private: vm }): BOs that share their VM's reservation. */
  readonly privateBos: GpuFeature;
  /** importBo(fd) / bo.exportDmaBuf(). */
  readonly dmaBuf: GpuFeature;
  /** gpu.startJob(bos): GPU work as a fence on the BOs, which its caller signals. */
  readonly jobs: GpuFeature;
  /** vm.exec(commands): jobs the device runs through the VM's GPU addresses, signalled by the device. */
  readonly exec: GpuFeature;
  /** A bind's waitFor and outFence carried by the driver's bind ioctl as in- and out-syncobjs. */
  readonly bindSyncobjs: GpuFeature;
  /** Page sizes mappings may use, in bytes, smallest first (addresses, sizes and BO offsets are multiples of the first). */
  readonly pageSizes: readonly number[];
  /** Where the backend has been exercised: 'kernel-in-vm' (a running kernel in this project's tests) or 'abi-and-translation-tests'. */
  readonly verified: 'kernel-in-vm' | 'abi-and-translation-tests' | 'host';
  /** What the backend refuses on this device, and why. */
  readonly refused: readonly GpuRefusal[];
}
