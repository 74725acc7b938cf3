// SPDX-License-Identifier: MIT
// What each driver's binder hands KernelVmBindBackend: the drivers whose binds complete asynchronously get
// the backend's completion syncobj as an out-sync; the synchronous ones carry no syncs at all.
import { describe, expect, it } from 'vitest';
import { amdgpuBinder, KernelVmBindBackend, msmBinder, nouveauBinder, panthorBinder, xeBinder } from '../../../lib/backends/kernel-vm-bind-backend.js';
import type { DrmDevice } from '../../../lib/drm/drm-device.js';
import { A, handleOf, map } from './layout-bytes.js';

const rules = { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 40n };
const ops = [map(0x10000, 0x1000, A)];
const done = { handle: 77 };

describe('binders', () => {
  it('xe completes asynchronously and signals the completion syncobj', () => {
    const binder = xeBinder({ vmId: 1, patIndex: 0, rules, handleOf });
    const [call] = binder.calls(ops, done);
    expect(binder.completesAsync).toBe(true);
    expect(new DataView(call!.buffers[1]!.buffer).getUint32(16, true)).toBe(77);
    expect(new DataView(call!.buffers[1]!.buffer).getUint32(12, true)).toBe(1);
  });

  it('msm completes asynchronously and signals the completion syncobj', () => {
    const binder = msmBinder({ queueId: 1, hasPrr: false, rules, handleOf });
    const [call] = binder.calls(ops, done);
    expect(binder.completesAsync).toBe(true);
    expect(call!.buffers[1]!.subarray(0, 4)).toEqual(new Uint8Array([77, 0, 0, 0]));
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 24, target: 1 }]);
  });

  it.each([
    ['nouveau', nouveauBinder({ rules, kernel: { addr: 0xff_0000_0000n, size: 0x1000n }, handleOf })],
    ['panthor', panthorBinder({ vmId: 1, rules, handleOf })],
    ['amdgpu', amdgpuBinder({ rules, handleOf })],
  ])('%s binds synchronously with one ioctl and no syncs', (driver, binder) => {
    const calls = binder.calls(ops, null);
    expect(binder.completesAsync).toBe(false);
    expect(binder.driver).toBe(driver);
    expect(calls).toHaveLength(1);
  });
});

describe('KernelVmBindBackend', () => {
  it('refuses a device driven by another driver than its binder, before any ioctl', () => {
    // Only the identity the constructor reads; nothing here reaches a device.
    const vgem = { driver: 'vgem', path: '/dev/dri/renderD128' } as DrmDevice;
    expect(() => new KernelVmBindBackend(vgem, xeBinder({ vmId: 1, patIndex: 0, rules, handleOf })))
      .toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED', driver: 'xe', message: expect.stringMatching(/driven by vgem/) }));
  });
});
