// SPDX-License-Identifier: MIT
// openGpu's table of kernel drivers: every driver with a kernel VM_BIND backend in the catalogue has one,
// under its own name, saying what it refuses; and the VM-order rules each declares.
import { describe, expect, it } from 'vitest';
import { KERNEL_BACKEND_DRIVERS } from '../../../lib/backends/kernel-backend-catalogue.js';
import { KERNEL_DRIVERS } from '../../../lib/gpu/hardware-drivers.js';
import { GPU_DRIVERS } from '../../../lib/gpu/open-gpu.js';

describe('openGpu kernel drivers', () => {
  it('cover every driver of the kernel backend catalogue, each under its own name', () => {
    expect(Object.keys(KERNEL_DRIVERS).sort()).toEqual([...KERNEL_BACKEND_DRIVERS].sort());
    for (const [name, driver] of Object.entries(KERNEL_DRIVERS)) expect(driver.name).toBe(name);
    expect(GPU_DRIVERS).toEqual(['software', 'vgem', ...Object.keys(KERNEL_DRIVERS)]);
  });

  it('declare the file-VM drivers (one VM per DRM file) and those whose VM comes before any BO', () => {
    const rules = Object.fromEntries(Object.entries(KERNEL_DRIVERS).map(([n, d]) => [n, [d.oneVmPerFile, d.vmFirst, d.kernelPrivateBos]]));
    expect(rules).toEqual({
      vgpuvm: [false, false, true], xe: [false, false, true], panthor: [false, false, true],
      nouveau: [true, true, true], msm: [true, true, true], amdgpu: [true, false, true],
    });
  });

  it('say how sparse mappings go or why they are refused, with page sizes', () => {
    for (const driver of Object.values(KERNEL_DRIVERS)) {
      expect(driver.sparse.how.length).toBeGreaterThan(10);
      expect(driver.pageSizes.length).toBeGreaterThan(0);
    }
    expect(KERNEL_DRIVERS.nouveau!.sparse.supported).toBe(false);
  });
});
