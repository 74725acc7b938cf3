// SPDX-License-Identifier: MIT
// openGpu: a device and the backend its driver name calls for (never guessed: a driver-private ioctl number
// means something else on another driver). vgem and the software device get the VA window backend; every
// driver with a kernel VM_BIND backend gets it, with the driver's own VM and BO create.
import { listDevices } from '../drm/discovery.js';
import { DrmDevice } from '../drm/drm-device.js';
import { SoftwareDevice } from '../drm/software-device.js';
import { invalidArgType } from '../arg-errors.js';
import type { DriverSupport } from './driver-support.js';
import { GpuError } from './errors.js';
import { Gpu } from './gpu.js';
import { KERNEL_DRIVERS } from './hardware-drivers.js';
import { KernelSupport } from './kernel-support.js';
import { WindowSupport } from './window-support.js';

/** Drivers openGpu drives: the VA window ones, then those with a kernel backend. */
export const GPU_DRIVERS: readonly string[] = ['software', 'vgem', ...Object.keys(KERNEL_DRIVERS)];

/** The backend support for an open DRM device, by its driver name; refuses drivers without one. */
function supportFor(device: DrmDevice): DriverSupport {
  const kernel = Object.hasOwn(KERNEL_DRIVERS, device.driver) ? KERNEL_DRIVERS[device.driver] : undefined;
  if (kernel !== undefined) return new KernelSupport(device, kernel);
  if (device.driver === 'vgem') return new WindowSupport(device);
  throw new GpuError('ERR_GPU_UNSUPPORTED', `${device.path} is driven by ${device.driver}, which has no backend here ` +
    `(drivers: ${GPU_DRIVERS.join(', ')}); its buffers are still usable through openDevice()`);
}

function gpuOn(device: DrmDevice): Gpu {
  try {
    return new Gpu(supportFor(device));
  } catch (error) {
    device.close();
    throw error;
  }
}

// A Gpu on `path` that can make a BO (a vgem render node cannot), or null; never throws. Kernel drivers are
// not probed with a BO: nouveau and msm make the file's VM only before the first one.
function usableGpu(path: string): Gpu | null {
  let gpu: Gpu | null = null;
  try {
    gpu = gpuOn(DrmDevice.open(path));
    if (gpu.backend === 'va-window') gpu.createBo(1).close();
    return gpu;
  } catch {
    gpu?.close();
    return null;
  }
}

/**
 * A Gpu on the DRM node at `path` ('software': the software device). Without a path: the first usable DRM
 * node, those of drivers with a kernel VM_BIND backend (a real GPU, or vgpuvm) before vgem, card nodes
 * before render nodes; else the software device. Refuses a node whose driver has no backend here
 * (ERR_GPU_UNSUPPORTED), closing it.
 */
export function openGpu(path?: string): Gpu {
  if (path !== undefined && typeof path !== 'string') throw invalidArgType('path', 'string', path);
  if (path === 'software') return new Gpu(new WindowSupport(new SoftwareDevice()));
  if (path !== undefined) return gpuOn(DrmDevice.open(path));
  const nodes = listDevices();
  const driverOf = new Map(nodes.map((node) => [node.path, driverName(node.path)]));
  const rank = (driver: string | null): number => (driver === null ? 2 : Object.hasOwn(KERNEL_DRIVERS, driver) ? 0 : driver === 'vgem' ? 1 : 2);
  const ordered = nodes.filter((node) => rank(driverOf.get(node.path)!) < 2).sort((a, b) => rank(driverOf.get(a.path)!) - rank(driverOf.get(b.path)!));
  for (const node of ordered) {
    const gpu = usableGpu(node.path);
    if (gpu !== null) return gpu;
  }
  return new Gpu(new WindowSupport(new SoftwareDevice()));
}

// DRM_IOCTL_VERSION of the node at `path`, or null when it does not open here.
function driverName(path: string): string | null {
  try {
    using device = DrmDevice.open(path);
    return device.driver;
  } catch {
    return null;
  }
}
