// SPDX-License-Identifier: MIT
// Bad input: wrong types and u64 edges give typed errors (Node-style codes, the trace spec's reason words
// in the spec's check order) and change nothing; 2^64-1 works exactly.
import { describe, expect, it } from 'vitest';
import { GpuVmRequestError } from '../../../lib/gpuvm/errors.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm, type GpuVmMapRequest } from '../../../lib/gpuvm/gpuvm.js';
import { U64_MAX } from '../../../lib/u64.js';

const TOP = U64_MAX; // 2^64-1
const bo = new GemObject(0x10000, 'bo');

describe('request checks, in the spec order', () => {
  const vm = new GpuVm({ start: 0x1000, range: 0x100000, reserveOffset: 0x1000, reserveRange: 0x1000 });
  it.each<[string, GpuVmMapRequest, string]>([
    ['zero range (before everything else)', { addr: TOP, range: 0, obj: bo, offset: TOP }, 'zero_range'],
    ['addr + range past 2^64-1', { addr: TOP, range: 1 }, 'overflow'],
    ['addr + range exactly 2^64', { addr: TOP - 0xfffn, range: 0x1000 }, 'overflow'],
    ['below the VM', { addr: 0, range: 0x1000 }, 'out_of_range'],
    ['past the VM end', { addr: 0x100000, range: 0x2000 }, 'out_of_range'],
    ['overlapping the reserved node', { addr: 0x1800, range: 0x1000, obj: bo, offset: 0x100000 }, 'reserved'],
    ['beyond the BO', { addr: 0x4000, range: 0x2000, obj: bo, offset: 0xf000 }, 'bo_bounds'],
    ['BO offset + range overflowing u64', { addr: 0x4000, range: 0x1000, obj: bo, offset: TOP }, 'bo_bounds'],
  ])('smMapOps refuses %s', (_name, req, reason) => {
    const before = vm.generation;
    let caught: unknown;
    try {
      vm.smMapOps(req);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GpuVmRequestError);
    expect(caught).toMatchObject({ reason, code: `ERR_GPUVM_${reason.toUpperCase()}` });
    expect(vm.generation).toBe(before);
  });

  it('smUnmapOps and madviseOps use the same checks', () => {
    expect(() => vm.smUnmapOps(0x2000, 0)).toThrow(expect.objectContaining({ reason: 'zero_range' }));
    expect(() => vm.smUnmapOps(0x1000, 0x2000)).toThrow(expect.objectContaining({ reason: 'reserved' }));
    expect(() => vm.madviseOps(TOP, 2)).toThrow(expect.objectContaining({ reason: 'overflow' }));
  });

  it('a sparse map is not checked against any BO size', () => {
    expect(vm.smMapOps({ addr: 0x4000, range: 0x20000 }).length).toBe(1);
  });
});

describe('wrong types', () => {
  const vm = new GpuVm({ start: 0, range: 0x100000 });
  it.each<[string, () => unknown, string]>([
    ['a string address', () => vm.smMapOps({ addr: '0x1000' as never, range: 0x1000 }), 'ERR_INVALID_ARG_TYPE'],
    ['a negative range', () => vm.smUnmapOps(0, -1), 'ERR_OUT_OF_RANGE'],
    ['an unsafe number', () => vm.smUnmapOps(2 ** 53, 0x1000), 'ERR_OUT_OF_RANGE'],
    ['a fractional offset', () => vm.smMapOps({ addr: 0, range: 0x1000, obj: bo, offset: 0.5 }), 'ERR_OUT_OF_RANGE'],
    ['a non-GEM obj', () => vm.smMapOps({ addr: 0, range: 0x1000, obj: {} as never }), 'ERR_INVALID_ARG_TYPE'],
    ['no request object', () => vm.smMapOps(null as never), 'ERR_INVALID_ARG_TYPE'],
    ['a bigint past u64', () => vm.findFirst(1n << 64n, 1), 'ERR_OUT_OF_RANGE'],
    ['apply of a non-list', () => vm.apply([] as never), 'ERR_INVALID_ARG_TYPE'],
    ['obtain of a non-GEM', () => vm.obtain({} as never), 'ERR_INVALID_ARG_TYPE'],
    ['insert of a non-VA', () => vm.insert({ addr: 0n, range: 1n } as never), 'ERR_INVALID_ARG_TYPE'],
    ['VA flags that are not an int31', () => new GpuVa({ addr: 0, range: 1, flags: -1 }), 'ERR_OUT_OF_RANGE'],
    ['a VM without options', () => new GpuVm(undefined as never), 'ERR_INVALID_ARG_TYPE'],
    ['lock hooks missing a function', () => new GpuVm({ start: 0, range: 1, lockHooks: {} as never }), 'ERR_INVALID_ARG_TYPE'],
  ])('%s is refused with %s', (_name, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });
});

describe('u64 edges', () => {
  it('a VM ending at 2^64-1 maps its last page and finds it exactly', () => {
    const vm = new GpuVm({ start: 0, range: TOP });
    const addr = TOP - 0x1000n;
    vm.apply(vm.smMapOps({ addr, range: 0x1000n }));
    const va = vm.find(addr, 0x1000n) as GpuVa;
    expect(va.addr).toBe(addr);
    expect(va.end).toBe(TOP);
    expect(vm.findNext(addr)).toBe(va);
  });

  it('remap piece offsets wrap modulo 2^64 as in the kernel, and keep compares wrapped offsets', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x3000, offset: TOP }));
    const [remap] = vm.smMapOps({ addr: 0x1000, range: 0x1000 }).ops;
    expect(remap?.type === 'remap' && remap.next?.offset).toBe(0xfffn);
    const big = new GemObject(TOP, 'big');
    const va = new GpuVa({ addr: 0x10000, range: 0x2000, obj: big, offset: TOP - 0x800n });
    vm.insert(va);
    const [split] = vm.smMapOps({ addr: 0x11000, range: 0x1000, obj: big, offset: 0x7ff }).ops;
    expect(split?.type === 'remap' && [split.unmap.keep, split.prev?.offset]).toEqual([true, TOP - 0x800n]);
  });

  it('numbers and bigints give the same VA', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj: bo, offset: 0x10 }));
    expect(vm.find(0x1000n, 0x1000n)).toBe(vm.find(0x1000, 0x1000));
  });

  it('a VM whose end would pass 2^64-1 is refused, and so is a reserved node outside the VM', () => {
    expect(() => new GpuVm({ start: 1, range: TOP })).toThrow(expect.objectContaining({ reason: 'overflow' }));
    expect(() => new GpuVm({ start: 0x1000, range: 0x1000, reserveOffset: 0, reserveRange: 0x1000 })).toThrow(expect.objectContaining({ reason: 'out_of_range' }));
  });

  it('rangeValid follows drm_gpuvm_range_valid, zero range included', () => {
    const vm = new GpuVm({ start: 0x1000, range: 0x10000, reserveOffset: 0x2000, reserveRange: 0x1000 });
    expect(vm.rangeValid(0x1000, 0x1000)).toBe(true);
    expect(vm.rangeValid(0x1000, 0)).toBe(true);
    expect(vm.rangeValid(0x1800, 0x1000)).toBe(false);
    expect(vm.rangeValid(0x10000, 0x1001)).toBe(false);
    expect(vm.rangeValid(TOP, 1)).toBe(false);
  });

  it('intervalEmpty counts the reserved node as occupied', () => {
    const vm = new GpuVm({ start: 0, range: 0x10000, reserveOffset: 0x2000, reserveRange: 0x1000 });
    expect(vm.intervalEmpty(0x2800, 0x10)).toBe(false);
    expect(vm.intervalEmpty(0x3000, 0x1000)).toBe(true);
  });
});
