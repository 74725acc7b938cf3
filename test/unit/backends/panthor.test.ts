// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { PANTHOR, panthorBoCreate, panthorVmBind, panthorVmCreate, panthorVmDestroy, type PanthorVm } from '../../../lib/backends/panthor.js';
import { A, array, B, bytes, handleOf, map, unmap, va, type At } from './layout-bytes.js';

const vm: PanthorVm = { vmId: 2, rules: { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 32n }, handleOf };
const MAP = 0;
const UNMAP = 1 << 28;
const op = (f: { flags: number; handle?: number; off?: number; va: number; size: number; syncs?: number }): At[] =>
  [[0, 4, f.flags], [4, 4, f.handle ?? 0], [8, 8, f.off ?? 0], [16, 8, f.va], [24, 8, f.size], [32, 4, 16], [36, 4, f.syncs ?? 0]];

describe('panthor ioctl numbers', () => {
  it.each([
    ['VM_CREATE', panthorVmCreate(), 0xc0106441],
    ['VM_DESTROY', panthorVmDestroy(1), 0xc0086442],
    ['VM_BIND', panthorVmBind(vm, [map(0, 0x1000, A)])[0]!, 0xc0186443],
    ['BO_CREATE', panthorBoCreate({ size: 0x1000n }), 0xc0186445],
  ])('%s is 0x%s', (_name, call, request) => {
    expect(call.request).toBe(request);
    expect(call.driver).toBe('panthor');
  });
});

describe('panthor VM and BO payloads', () => {
  it('VM_CREATE passes the requested user VA range', () => {
    expect(panthorVmCreate(1n << 32n).buffers).toEqual([bytes(16, [[8, 8, 1n << 32n]])]);
  });

  it('VM_DESTROY names the VM', () => {
    expect(panthorVmDestroy(9).buffers).toEqual([bytes(8, [[0, 4, 9]])]);
  });

  it('BO_CREATE carries size, flags and the exclusive VM', () => {
    expect(panthorBoCreate({ size: 0x3000n, flags: PANTHOR.DRM_PANTHOR_BO_NO_MMAP, exclusiveVmId: 2 }).buffers)
      .toEqual([bytes(24, [[0, 8, 0x3000], [8, 4, 1], [12, 4, 2]])]);
  });
});

describe('panthor VM_BIND translation', () => {
  it('a synchronous bind: op array with its stride, no ASYNC, no syncs', () => {
    const [call] = panthorVmBind(vm, [unmap(va(0x4000, 0x1000, B)), map(0x10000, 0x2000, A, 0x1000)]);
    expect(call!.buffers).toEqual([
      bytes(24, [[0, 4, 2], [8, 4, 48], [12, 4, 2]]),
      array(48, [op({ flags: UNMAP, va: 0x4000, size: 0x1000 }), op({ flags: MAP, handle: 1, off: 0x1000, va: 0x10000, size: 0x2000 })]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 16, target: 1 }]);
  });

  it('waits go on the first op and signals on the last, and the bind becomes ASYNC', () => {
    const [call] = panthorVmBind(vm, [unmap(va(0x4000, 0x1000, B)), map(0x10000, 0x1000, A)], { waits: [{ handle: 5 }], signals: [{ handle: 6, point: 3n }] });
    expect(call!.buffers).toEqual([
      bytes(24, [[0, 4, 2], [4, 4, 1], [8, 4, 48], [12, 4, 2]]),
      array(48, [op({ flags: UNMAP, va: 0x4000, size: 0x1000, syncs: 1 }), op({ flags: MAP, handle: 1, va: 0x10000, size: 0x1000, syncs: 1 })]),
      array(16, [[[0, 4, 0], [4, 4, 5]]]),
      array(16, [[[0, 4, 0x80000001], [4, 4, 6], [8, 8, 3]]]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 16, target: 1 }, { buffer: 1, offset: 40, target: 2 }, { buffer: 1, offset: 48 + 40, target: 3 }]);
  });

  it('a sparse map is MAP_SPARSE and NOEXEC without a BO', () => {
    const [call] = panthorVmBind(vm, [map(0x20000, 0x4000, null)]);
    expect(call!.buffers[1]).toEqual(array(48, [op({ flags: MAP | (1 << 3) | (1 << 1), va: 0x20000, size: 0x4000 })]));
  });

  it('refuses a size that is not a multiple of the VM page size', () => {
    expect(() => panthorVmBind({ ...vm, rules: { ...vm.rules, pageSize: 0x10000n } }, [map(0x10000, 0x1000, A)]))
      .toThrow(expect.objectContaining({ code: 'ERR_BIND_ALIGNMENT', driver: 'panthor' }));
  });
});
