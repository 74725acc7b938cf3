// SPDX-License-Identifier: MIT
// The kernel drivers a Gpu drives through their VM_BIND backend, by DRM driver name.
import type { KernelDriver } from './kernel-support.js';
import { VGPUVM_DRIVER } from './vgpuvm-driver.js';

/** Kernel drivers by name. */
export const KERNEL_DRIVERS: Readonly<Record<string, KernelDriver>> = {
  vgpuvm: VGPUVM_DRIVER,
};
