// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { backendFor, describeBackend, KERNEL_BACKEND_DRIVERS } from '../../../lib/backends/kernel-backend-catalogue.js';

describe('backendFor', () => {
  it.each(['xe', 'nouveau', 'panthor', 'msm', 'amdgpu'])('has a backend for %s', (driver) => {
    expect(backendFor(driver)?.driver).toBe(driver);
  });

  it.each(['vgem', 'i915', 'radeon', 'panfrost', 'XE', '', 'constructor', '__proto__'])('has none for %j', (driver) => {
    expect(backendFor(driver)).toBeUndefined();
  });

  it('lists exactly the five drivers', () => {
    expect([...KERNEL_BACKEND_DRIVERS].sort()).toEqual(['amdgpu', 'msm', 'nouveau', 'panthor', 'vgpuvm', 'xe']);
  });

  it('says amdgpu binds one request per ioctl and replaces occupied ranges', () => {
    expect(backendFor('amdgpu')).toMatchObject({ batch: 'ioctl-per-request', mapOverOccupied: 'replace', syncobjs: false });
  });
});

describe('describeBackend', () => {
  it('names the bind ioctl and says the backend is checked by tests only', () => {
    expect(describeBackend('xe')).toMatch(/^xe: DRM_IOCTL_XE_VM_BIND .*checked by ABI and translation tests only$/);
  });

  it('says vgpuvm ran against the kernel, not only tests of bytes', () => {
    expect(describeBackend('vgpuvm')).toMatch(/^vgpuvm: DRM_IOCTL_VGPUVM_VM_BIND .*run against the kernel's drm_gpuvm in the test VM$/);
  });

  it('says plainly when a driver has no kernel backend', () => {
    expect(describeBackend('vgem')).toBe('vgem: no kernel VM_BIND backend');
  });
});
