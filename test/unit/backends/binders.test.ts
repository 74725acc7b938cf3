// SPDX-License-Identifier: MIT
// What each driver's binder hands KernelVmBindBackend. The syncobj drivers carry a bind's syncs as the
// backend gives them: in-syncobjs (the bind's sync_file in-fences, imported), then out-syncobjs (a Syncobj
// out-fence of the device, then the backend's completion syncobj). The bytes are checked at the offsets of
// the uAPI headers, written here by hand (test/native/abi-uapi.test.ts checks lib/backends' tables against
// the headers themselves).
import { describe, expect, it } from 'vitest';
import { amdgpuBinder, KernelVmBindBackend, msmBinder, nouveauBinder, panthorBinder, xeBinder } from '../../../lib/backends/kernel-vm-bind-backend.js';
import { backendFor } from '../../../lib/backends/kernel-backend-catalogue.js';
import { vgpuvmBinder } from '../../../lib/backends/vgpuvm.js';
import type { DrmDevice } from '../../../lib/drm/drm-device.js';
import { A, array, bytes, handleOf, map } from './layout-bytes.js';

const rules = { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 40n };
const ops = [map(0x10000, 0x1000, A)];
// Two imported in-fences (21, 23); the caller's out-syncobj (22) and the backend's completion syncobj (77).
const syncs = { waits: [{ handle: 21 }, { handle: 23 }], signals: [{ handle: 22 }, { handle: 77 }] };

describe('binders of drivers whose bind takes syncobjs', () => {
  it('xe: four drm_xe_sync, the signals with DRM_XE_SYNC_FLAG_SIGNAL, referenced from syncs', () => {
    const binder = xeBinder({ vmId: 1, patIndex: 0, rules, handleOf });
    const [call] = binder.calls(ops, syncs);
    expect({ async: binder.completesAsync, syncobjs: binder.syncobjs }).toEqual({ async: true, syncobjs: true });
    expect(call!.buffers[0]!.subarray(108, 112)).toEqual(bytes(4, [[0, 4, 4]]));
    expect(call!.buffers[1]).toEqual(array(48, [
      [[8, 4, 0], [12, 4, 0], [16, 4, 21]], [[8, 4, 0], [12, 4, 0], [16, 4, 23]],
      [[8, 4, 0], [12, 4, 1], [16, 4, 22]], [[8, 4, 0], [12, 4, 1], [16, 4, 77]],
    ]));
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 112, target: 1 }]);
  });

  it('msm: in_syncobjs and out_syncobjs arrays of drm_msm_syncobj with their counts and stride', () => {
    const binder = msmBinder({ queueId: 1, hasPrr: false, rules, handleOf });
    const [call] = binder.calls(ops, syncs);
    expect({ async: binder.completesAsync, syncobjs: binder.syncobjs }).toEqual({ async: true, syncobjs: true });
    expect(call!.buffers[0]!.subarray(32, 44)).toEqual(bytes(12, [[0, 4, 2], [4, 4, 2], [8, 4, 16]]));
    expect(call!.buffers.slice(1)).toEqual([array(16, [[[0, 4, 21]], [[0, 4, 23]]]), array(16, [[[0, 4, 22]], [[0, 4, 77]]])]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 16, target: 1 }, { buffer: 0, offset: 24, target: 2 }]);
  });

  it('panthor: a one-op bind carries every drm_panthor_sync_op on that op and becomes ASYNC', () => {
    const binder = panthorBinder({ vmId: 1, rules, handleOf });
    const [call] = binder.calls(ops, syncs);
    expect({ async: binder.completesAsync, syncobjs: binder.syncobjs }).toEqual({ async: false, syncobjs: true });
    expect(call!.buffers[0]!.subarray(4, 8)).toEqual(bytes(4, [[0, 4, 1]]));
    expect(call!.buffers[1]!.subarray(32, 40)).toEqual(bytes(8, [[0, 4, 16], [4, 4, 4]]));
    expect(call!.buffers[2]).toEqual(array(16, [[[0, 4, 0], [4, 4, 21]], [[0, 4, 0], [4, 4, 23]], [[0, 4, 0x80000000], [4, 4, 22]], [[0, 4, 0x80000000], [4, 4, 77]]]));
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 16, target: 1 }, { buffer: 1, offset: 40, target: 2 }]);
  });

  it('nouveau: wait and sig arrays of drm_nouveau_sync, and RUN_ASYNC', () => {
    const binder = nouveauBinder({ rules, kernel: { addr: 0xff_0000_0000n, size: 0x1000n }, handleOf });
    const [call] = binder.calls(ops, syncs);
    expect({ async: binder.completesAsync, syncobjs: binder.syncobjs }).toEqual({ async: false, syncobjs: true });
    expect(call!.buffers[0]!.subarray(0, 16)).toEqual(bytes(16, [[0, 4, 1], [4, 4, 1], [8, 4, 2], [12, 4, 2]]));
    expect(call!.buffers.slice(2)).toEqual([array(16, [[[4, 4, 21]], [[4, 4, 23]]]), array(16, [[[4, 4, 22]], [[4, 4, 77]]])]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 32, target: 1 }, { buffer: 0, offset: 16, target: 2 }, { buffer: 0, offset: 24, target: 3 }]);
  });

  it.each([
    ['nouveau', nouveauBinder({ rules, kernel: { addr: 0xff_0000_0000n, size: 0x1000n }, handleOf })],
    ['panthor', panthorBinder({ vmId: 1, rules, handleOf })],
  ])('%s without syncs binds synchronously, with one ioctl', (driver, binder) => {
    const calls = binder.calls(ops, {});
    expect(binder.driver).toBe(driver);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.buffers[0]!.subarray(4, 8)).toEqual(new Uint8Array(4));
  });
});

describe('amdgpu', () => {
  it('binds synchronously without syncobjs, and refuses syncs before any ioctl', () => {
    const binder = amdgpuBinder({ rules, handleOf });
    expect({ async: binder.completesAsync, syncobjs: binder.syncobjs }).toEqual({ async: false, syncobjs: false });
    expect(binder.calls(ops, {})).toHaveLength(1);
    expect(() => binder.calls(ops, syncs)).toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED', driver: 'amdgpu' }));
  });
});

describe('the vgpuvm binder', () => {
  it('with the VM\'s queue, a bind with syncs is a queued VM_BIND: queue_id, the waits as in-syncs, the signals as out-syncs', () => {
    let made = 0;
    const binder = vgpuvmBinder({ vmId: 3, handleOf, queue: () => (made++, 5) });
    expect({ async: binder.completesAsync, syncobjs: binder.syncobjs }).toEqual({ async: false, syncobjs: true });
    const [sync] = binder.calls(ops, {});
    expect(made).toBe(0);
    expect(sync!.buffers[0]!.subarray(28, 40)).toEqual(new Uint8Array(12));
    const [call] = binder.calls(ops, syncs);
    expect(made).toBe(1);
    expect(call!.buffers[0]!.subarray(28, 40)).toEqual(bytes(12, [[0, 4, 5], [4, 4, 2], [8, 4, 2]]));
    expect(call!.buffers.slice(2)).toEqual([array(16, [[[0, 4, 21]], [[0, 4, 23]]]), array(16, [[[0, 4, 22]], [[0, 4, 77]]])]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 8, target: 1 }, { buffer: 0, offset: 40, target: 2 }, { buffer: 0, offset: 48, target: 3 }]);
  });

  it('without a queue (a staged VM) it takes no syncobjs and binds synchronously', () => {
    const binder = vgpuvmBinder({ vmId: 3, handleOf });
    expect(binder.syncobjs).toBe(false);
    expect(binder.calls(ops, syncs)[0]!.buffers[0]!.subarray(28, 40)).toEqual(new Uint8Array(12));
  });
});

describe('every binder', () => {
  it('takes syncobjs exactly where the catalogue (drm-gpuvm info, gpu.describe()) says the driver does', () => {
    const binders = [
      xeBinder({ vmId: 1, patIndex: 0, rules, handleOf }), msmBinder({ queueId: 1, hasPrr: false, rules, handleOf }),
      panthorBinder({ vmId: 1, rules, handleOf }), nouveauBinder({ rules, kernel: { addr: 0xff_0000_0000n, size: 0x1000n }, handleOf }),
      amdgpuBinder({ rules, handleOf }), vgpuvmBinder({ vmId: 1, handleOf, queue: () => 1 }),
    ];
    expect(binders.map((b) => [b.driver, b.syncobjs])).toEqual(binders.map((b) => [b.driver, backendFor(b.driver)!.syncobjs]));
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
