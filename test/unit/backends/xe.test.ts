// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { readField } from '../../../lib/backends/uapi-struct.js';
import { OpPrefetch } from '../../../lib/gpuvm/ops.js';
import { XE, XE_VM_CREATE, xeGemCreate, xeVmBind, xeVmCreate, xeVmDestroy, type XeVm } from '../../../lib/backends/xe.js';
import { A, array, B, bytes, C, handleOf, map, remap, unmap, va, type At } from './layout-bytes.js';

const vm: XeVm = { vmId: 5, patIndex: 3, rules: { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 48n }, handleOf };

// struct drm_xe_vm_bind_op fields at their header offsets, shifted by `base` (24 when inline in drm_xe_vm_bind).
const bindOp = (base: number, f: { obj?: number; off?: number; range: number; addr: number; op: number; flags?: number }): At[] => [
  [base + 8, 4, f.obj ?? 0], [base + 12, 2, 3], [base + 16, 8, f.off ?? 0], [base + 24, 8, f.range], [base + 32, 8, f.addr],
  [base + 40, 4, f.op], [base + 44, 4, f.flags ?? 0],
];

describe('xe ioctl numbers', () => {
  it.each([
    ['VM_CREATE', xeVmCreate(), 0xc0206443],
    ['VM_DESTROY', xeVmDestroy(1), 0x40186444],
    ['VM_BIND', xeVmBind(vm, [map(0, 0x1000, A)])[0]!, 0x40886445],
    ['GEM_CREATE', xeGemCreate({ size: 0x1000n, placement: 1, cpuCaching: 1 }), 0xc0386441],
  ])('%s is 0x%s', (_name, call, request) => {
    expect(call.request).toBe(request);
    expect(call.driver).toBe('xe');
  });
});

describe('xe VM and BO payloads', () => {
  it('VM_CREATE carries the flags and nothing else', () => {
    expect(xeVmCreate(XE.DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE).buffers).toEqual([bytes(32, [[8, 4, 1]])]);
  });

  it('vm_id is read back from where the kernel writes it', () => {
    const call = xeVmCreate();
    new DataView(call.buffers[0]!.buffer).setUint32(12, 42, true);
    expect(readField(XE_VM_CREATE, call.buffers[0]!, 'vm_id')).toBe(42n);
  });

  it('VM_DESTROY names the VM', () => {
    expect(xeVmDestroy(7).buffers).toEqual([bytes(24, [[0, 4, 7]])]);
  });

  it('GEM_CREATE carries size, placement, VM and CPU caching', () => {
    const call = xeGemCreate({ size: 0x10000n, placement: 0b10, cpuCaching: XE.DRM_XE_GEM_CPU_CACHING_WC, vmId: 3 });
    expect(call.buffers).toEqual([bytes(56, [[8, 8, 0x10000], [16, 4, 2], [24, 4, 3], [32, 2, 2]])]);
  });
});

describe('xe VM_BIND translation', () => {
  it('a map on empty space is one inline MAP op', () => {
    const [call] = xeVmBind(vm, [map(0x100000, 0x1000, A, 0x2000)]);
    expect(call!.buffers).toEqual([bytes(136, [[8, 4, 5], [20, 4, 1], ...bindOp(24, { obj: 1, off: 0x2000, range: 0x1000, addr: 0x100000, op: 0 })])]);
    expect(call!.pointers).toEqual([]);
  });

  it('a map that splits a VA (M6) sends only the MAP: the kernel derives the REMAP', () => {
    const [call] = xeVmBind(vm, [remap(va(0, 0x2000, A), null, va(0x1000, 0x1000, A, 0x1000)), map(0, 0x1000, B)]);
    expect(call!.buffers).toEqual([bytes(136, [[8, 4, 5], [20, 4, 1], ...bindOp(24, { obj: 2, range: 0x1000, addr: 0, op: 0 })])]);
  });

  it('three unmaps go as a vector of UNMAP ops referenced from vector_of_binds', () => {
    const [call] = xeVmBind(vm, [unmap(va(0, 0x1000, A)), unmap(va(0x2000, 0x1000, B)), unmap(va(0x3000, 0x1000, C))]);
    expect(call!.buffers).toEqual([
      bytes(136, [[8, 4, 5], [20, 4, 3]]),
      array(80, [bindOp(0, { range: 0x1000, addr: 0, op: 1 }), bindOp(0, { range: 0x1000, addr: 0x2000, op: 1 }), bindOp(0, { range: 0x1000, addr: 0x3000, op: 1 })]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 24, target: 1 }]);
  });

  it('waits and signals become drm_xe_sync entries, binary and timeline', () => {
    const [call] = xeVmBind(vm, [map(0, 0x1000, A)], { waits: [{ handle: 9 }], signals: [{ handle: 10, point: 5n }] });
    expect(call!.buffers).toEqual([
      bytes(136, [[8, 4, 5], [20, 4, 1], ...bindOp(24, { obj: 1, range: 0x1000, addr: 0, op: 0 }), [108, 4, 2]]),
      array(48, [[[8, 4, 0], [12, 4, 0], [16, 4, 9]], [[8, 4, 1], [12, 4, 1], [16, 4, 10], [24, 8, 5]]]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 112, target: 1 }]);
  });

  it('a sparse map is a NULL bind without object or offset', () => {
    const [call] = xeVmBind(vm, [map(0x4000, 0x2000, null)]);
    expect(call!.buffers[0]).toEqual(bytes(136, [[8, 4, 5], [20, 4, 1], ...bindOp(24, { range: 0x2000, addr: 0x4000, op: 0, flags: 4 })]));
  });

  it('a non-default bind queue is named', () => {
    const [call] = xeVmBind({ ...vm, execQueueId: 8 }, [map(0, 0x1000, A)]);
    expect(call!.buffers[0]!.subarray(12, 16)).toEqual(new Uint8Array([8, 0, 0, 0]));
  });

  it('an empty op list needs no ioctl', () => {
    expect(xeVmBind(vm, [])).toEqual([]);
  });

  it.each([
    ['an address off the 64 KiB minimum alignment', { ...vm, rules: { ...vm.rules, pageSize: 0x10000n } }, [map(0x1000, 0x10000, A)], 'ERR_BIND_ALIGNMENT'],
    ['a range past VA_BITS', vm, [map(0xffff_ffff_f000, 0x2000, A)], 'ERR_BIND_RANGE'],
    ['a PREFETCH op', vm, [new OpPrefetch(va(0, 0x1000, A))], 'ERR_BIND_UNSUPPORTED'],
  ])('refuses %s before any ioctl', (_name, target, ops, code) => {
    expect(() => xeVmBind(target, ops)).toThrow(expect.objectContaining({ code, driver: 'xe' }));
  });

  it('refuses syncobjs on an empty op list', () => {
    expect(() => xeVmBind(vm, [], { signals: [{ handle: 1 }] })).toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED' }));
  });

  it('refuses timeline point 0', () => {
    expect(() => xeVmBind(vm, [map(0, 0x1000, A)], { signals: [{ handle: 1, point: 0n }] })).toThrow(expect.objectContaining({ code: 'ERR_BIND_RANGE' }));
  });

  it('refuses syncobj handle 0', () => {
    expect(() => xeVmBind(vm, [map(0, 0x1000, A)], { waits: [{ handle: 0 }] })).toThrow(expect.objectContaining({ code: 'ERR_BIND_RANGE' }));
  });
});
