// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { NOUVEAU, nouveauGemNew, nouveauVmBind, nouveauVmInit, type NouveauVm } from '../../../lib/backends/nouveau.js';
import { A, array, B, bytes, handleOf, map, remap, unmap, va, type At } from './layout-bytes.js';

const vm: NouveauVm = {
  rules: { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 40n }, kernel: { addr: 0xff_0000_0000n, size: 0x1_0000_0000n }, handleOf,
};
const op = (f: { op: number; handle?: number; addr: number; off?: number; range: number }): At[] =>
  [[0, 4, f.op], [8, 4, f.handle ?? 0], [16, 8, f.addr], [24, 8, f.off ?? 0], [32, 8, f.range]];

describe('nouveau ioctl numbers', () => {
  it.each([
    ['VM_INIT', nouveauVmInit({ addr: 0n, size: 0n }), 0xc0106450],
    ['VM_BIND', nouveauVmBind(vm, [map(0, 0x1000, A)])[0]!, 0xc0286451],
    ['GEM_NEW', nouveauGemNew({ size: 0x1000n, domain: 2 }), 0xc0306480],
  ])('%s is 0x%s', (_name, call, request) => {
    expect(call.request).toBe(request);
    expect(call.driver).toBe('nouveau');
  });
});

describe('nouveau VM and BO payloads', () => {
  it('VM_INIT declares the kernel-managed window', () => {
    expect(nouveauVmInit(vm.kernel).buffers).toEqual([bytes(16, [[0, 8, 0xff_0000_0000n], [8, 8, 0x1_0000_0000n]])]);
  });

  it('GEM_NEW carries domain, size and alignment in drm_nouveau_gem_info', () => {
    const call = nouveauGemNew({ size: 0x20000n, domain: NOUVEAU.NOUVEAU_GEM_DOMAIN_VRAM, align: 0x10000 });
    expect(call.buffers).toEqual([bytes(48, [[4, 4, 2], [8, 8, 0x20000], [44, 4, 0x10000]])]);
  });

  it('a VM-private BO adds NOUVEAU_GEM_DOMAIN_NO_SHARE (1 << 5) to the domain', () => {
    const call = nouveauGemNew({ size: 0x1000n, domain: NOUVEAU.NOUVEAU_GEM_DOMAIN_GART, vmPrivate: true });
    expect(call.buffers).toEqual([bytes(48, [[4, 4, 0x24], [8, 8, 0x1000]])]);
  });
});

describe('nouveau VM_BIND translation', () => {
  it('a synchronous bind has no syncs and no RUN_ASYNC, its ops in an array behind op_ptr', () => {
    const [call] = nouveauVmBind(vm, [map(0x10000, 0x2000, A, 0x1000)]);
    expect(call!.buffers).toEqual([bytes(40, [[0, 4, 1]]), array(40, [op({ op: 0, handle: 1, addr: 0x10000, off: 0x1000, range: 0x2000 })])]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 32, target: 1 }]);
  });

  it('an unmap request and a map request keep their order', () => {
    const [call] = nouveauVmBind(vm, [remap(va(0, 0x3000, A), va(0, 0x1000, A), va(0x2000, 0x1000, A, 0x2000)), unmap(va(0x8000, 0x1000, B), false), map(0x8000, 0x1000, A)]);
    expect(call!.buffers[1]).toEqual(array(40, [op({ op: 1, addr: 0x1000, range: 0x1000 }), op({ op: 0, handle: 1, addr: 0x8000, range: 0x1000 })]));
  });

  it('syncs make the bind RUN_ASYNC with wait and signal arrays', () => {
    const [call] = nouveauVmBind(vm, [map(0, 0x1000, A)], { waits: [{ handle: 3, point: 7n }], signals: [{ handle: 4 }] });
    expect(call!.buffers).toEqual([
      bytes(40, [[0, 4, 1], [4, 4, 1], [8, 4, 1], [12, 4, 1]]),
      array(40, [op({ op: 0, handle: 1, addr: 0, range: 0x1000 })]),
      array(16, [[[0, 4, 1], [4, 4, 3], [8, 8, 7]]]),
      array(16, [[[0, 4, 0], [4, 4, 4]]]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 32, target: 1 }, { buffer: 0, offset: 16, target: 2 }, { buffer: 0, offset: 24, target: 3 }]);
  });

  it('refuses a sparse map: nouveau sparse regions are not GPUVM VAs', () => {
    expect(() => nouveauVmBind(vm, [map(0, 0x1000, null)])).toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED', driver: 'nouveau' }));
  });

  it('refuses a request overlapping the kernel-managed window', () => {
    expect(() => nouveauVmBind(vm, [map(0xfe_ffff_f000, 0x2000, A)])).toThrow(expect.objectContaining({ code: 'ERR_BIND_RANGE' }));
  });

  it('refuses an unaligned BO offset', () => {
    expect(() => nouveauVmBind(vm, [map(0, 0x1000, A, 0x800)])).toThrow(expect.objectContaining({ code: 'ERR_BIND_ALIGNMENT' }));
  });
});
