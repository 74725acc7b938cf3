// SPDX-License-Identifier: MIT
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VaHeap, VaHeapError, type VaHeapAllocOptions } from '../../../lib/gpuvm/va-heap.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { U64_MAX } from '../../../lib/u64.js';

const holesOf = (heap: VaHeap) => [...heap.holes()].map((h) => [h.start, h.start + h.size]);

describe('VaHeap: construction', () => {
  it('starts with the whole range free as one hole', () => {
    const heap = new VaHeap(0x1000, 0x10000);
    expect(holesOf(heap)).toEqual([[0x1000n, 0x11000n]]);
    expect(heap.freeSize).toBe(0x10000n);
    expect(heap.holeCount).toBe(1);
  });
  it('covers the u64 space up to 2^64 exactly', () => {
    const heap = new VaHeap(1, U64_MAX);
    expect(holesOf(heap)).toEqual([[1n, 2n ** 64n]]);
  });
  it.each([
    ['a zero size', 0, 0],
    ['an end past 2^64', 2, U64_MAX],
    ['a negative start', -1, 1],
  ])('refuses %s with ERR_OUT_OF_RANGE', (_name, start, size) => {
    expect(() => new VaHeap(start, size)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('VaHeap: alloc', () => {
  // Heap [0x0, 0x10000) with [0x4000, 0x5000) and [0xa000, 0xb000) taken: holes [0,4000) [5000,a000) [b000,10000).
  const fresh = () => {
    const heap = new VaHeap(0, 0x10000);
    heap.allocAt(0x4000, 0x1000);
    heap.allocAt(0xa000, 0x1000);
    return heap;
  };
  it.each<[string, bigint, bigint, VaHeapAllocOptions, bigint | null]>([
    ['top-down by default: highest fitting address', 0x1000n, 0x1000n, {}, 0xf000n],
    ['bottom-up: lowest fitting address', 0x1000n, 0x1000n, { direction: 'bottom-up' }, 0x0n],
    ['bottom-up skips a hole too short', 0x4800n, 0x1n, { direction: 'bottom-up' }, 0x5000n],
    ['top-down takes the top of the highest hole long enough', 0x4800n, 0x1n, { direction: 'top-down' }, 0xb800n],
    ['alignment moves the start up (bottom-up)', 0x100n, 0x8000n, { direction: 'bottom-up' }, 0x0n],
    ['alignment moves the start down (top-down)', 0x100n, 0x8000n, { direction: 'top-down' }, 0x8000n],
    ['alignment rules the upper holes out', 0x3000n, 0x8000n, { direction: 'top-down' }, 0x0n],
    ['fills a hole exactly', 0x5000n, 0x1000n, { direction: 'bottom-up' }, 0x5000n],
    ['window clips the holes (bottom-up)', 0x800n, 0x1n, { direction: 'bottom-up', window: { start: 0x4800n, size: 0x1000n } }, 0x5000n],
    ['window clips the holes (top-down)', 0x800n, 0x1n, { direction: 'top-down', window: { start: 0x1000n, size: 0x3800n } }, 0x3800n],
    ['window with no room', 0x1000n, 0x1n, { window: { start: 0x3800n, size: 0x1800n } }, null],
    ['larger than any hole', 0x5001n, 0x1n, {}, null],
  ])('%s', (_name, size, alignment, options, expected) => {
    const heap = fresh();
    const before = holesOf(heap);
    const addr = heap.alloc(size, alignment, options);
    expect(addr).toBe(expected);
    if (addr === null) {
      expect(holesOf(heap)).toEqual(before);
    } else {
      expect(heap.freeSize).toBe(0xe000n - size);
      expect(heap.allocAt(addr, size)).toBe(false);
    }
  });
  it('carves the allocation out of its hole, leaving the pieces around it', () => {
    const heap = new VaHeap(0, 0x10000);
    expect(heap.alloc(0x1000, 0x4000, { direction: 'bottom-up', window: { start: 0x100, size: 0xff00 } })).toBe(0x4000n);
    expect(holesOf(heap)).toEqual([[0n, 0x4000n], [0x5000n, 0x10000n]]);
  });
  it('finds the last page of the u64 space', () => {
    const heap = new VaHeap(0, U64_MAX);
    expect(heap.alloc(0x1000, 0x1000)).toBe(2n ** 64n - 0x2000n);
    const full = new VaHeap(1, U64_MAX);
    expect(full.alloc(0x1000, 0x1000)).toBe(2n ** 64n - 0x1000n);
    expect(full.alloc(1n << 63n, 1n << 63n)).toBeNull();
    expect(full.alloc(1n << 62n, 1n << 62n)).toBe(2n ** 63n);
  });
  it.each<[string, unknown, unknown, VaHeapAllocOptions]>([
    ['zero size', 0, 1, {}],
    ['zero alignment', 1, 0, {}],
    ['alignment not a power of two', 1, 0x3000, {}],
    ['window below the heap', 1, 1, { window: { start: 0x0, size: 0x2000 } }],
    ['window past the heap', 1, 1, { window: { start: 0x10000, size: 0x1001 } }],
    ['empty window', 1, 1, { window: { start: 0x2000, size: 0 } }],
  ])('refuses %s with ERR_OUT_OF_RANGE and changes nothing', (_name, size, alignment, options) => {
    const heap = new VaHeap(0x1000, 0x10000);
    expect(() => heap.alloc(size as bigint, alignment as bigint, options)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(holesOf(heap)).toEqual([[0x1000n, 0x11000n]]);
  });
  it('refuses an unknown direction with ERR_INVALID_ARG_VALUE and changes nothing', () => {
    const heap = new VaHeap(0x1000, 0x10000);
    expect(() => heap.alloc(1, 1, { direction: 'sideways' as 'top-down' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(holesOf(heap)).toEqual([[0x1000n, 0x11000n]]);
  });
  it('refuses a size that is not a u64 with the toU64 error', () => {
    const heap = new VaHeap(0, 0x1000);
    expect(() => heap.alloc('1' as unknown as bigint, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => heap.alloc(2 ** 53, 1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('VaHeap: allocAt', () => {
  it('takes an exact free range', () => {
    const heap = new VaHeap(0, 0x10000);
    expect(heap.allocAt(0x2000, 0x1000)).toBe(true);
    expect(holesOf(heap)).toEqual([[0n, 0x2000n], [0x3000n, 0x10000n]]);
  });
  it('returns false and changes nothing when part of the range is taken', () => {
    const heap = new VaHeap(0, 0x10000);
    heap.allocAt(0x2000, 0x1000);
    expect(heap.allocAt(0x1800, 0x1000)).toBe(false);
    expect(holesOf(heap)).toEqual([[0n, 0x2000n], [0x3000n, 0x10000n]]);
  });
  it('refuses a range outside the heap', () => {
    const heap = new VaHeap(0x1000, 0x1000);
    expect(() => heap.allocAt(0x1800, 0x1000)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('VaHeap: free', () => {
  it('merges with both neighbouring holes', () => {
    const heap = new VaHeap(0, 0x10000);
    heap.allocAt(0x2000, 0x3000);
    heap.free(0x3000, 0x1000);
    expect(holesOf(heap)).toEqual([[0n, 0x2000n], [0x3000n, 0x4000n], [0x5000n, 0x10000n]]);
    heap.free(0x2000, 0x1000);
    heap.free(0x4000, 0x1000);
    expect(holesOf(heap)).toEqual([[0n, 0x10000n]]);
    expect(heap.holeCount).toBe(1);
  });
  it('refuses a double free with ERR_VA_HEAP_NOT_ALLOCATED and changes nothing', () => {
    const heap = new VaHeap(0, 0x10000);
    heap.allocAt(0x2000, 0x2000);
    heap.free(0x2000, 0x1000);
    const before = holesOf(heap);
    const err = (() => { try { heap.free(0x2000, 0x1000); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(VaHeapError);
    expect(err).toMatchObject({ code: 'ERR_VA_HEAP_NOT_ALLOCATED' });
    expect(holesOf(heap)).toEqual(before);
  });
  it.each([
    ['a range never allocated', 0x8000, 0x1000],
    ['a range that is allocated only in part', 0x3000, 0x2000],
    ['a range that ends in a hole', 0x1000, 0x2000],
  ])('refuses %s', (_name, addr, size) => {
    const heap = new VaHeap(0, 0x10000);
    heap.allocAt(0x2000, 0x2000);
    expect(() => heap.free(addr, size)).toThrow(expect.objectContaining({ code: 'ERR_VA_HEAP_NOT_ALLOCATED' }));
    expect(holesOf(heap)).toEqual([[0n, 0x2000n], [0x4000n, 0x10000n]]);
  });
  it.each([['zero size', 0x2000, 0], ['outside the heap', 0xf000, 0x2000]])('refuses %s with ERR_OUT_OF_RANGE', (_n, addr, size) => {
    const heap = new VaHeap(0, 0x10000);
    heap.allocAt(0, 0x10000);
    expect(() => heap.free(addr, size)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(heap.freeSize).toBe(0n);
  });
});

describe('VaHeap.fromGpuVm', () => {
  // A GpuVm with `mappings` applied through the core's own map path.
  const vmWith = (start: bigint, range: bigint, reserve: [bigint, bigint] | null, mappings: Array<[bigint, bigint]>) => {
    const vm = new GpuVm({ start, range, reserveOffset: reserve?.[0], reserveRange: reserve?.[1] });
    const bo = new GemObject(0x100000, 'bo');
    for (const [addr, size] of mappings) vm.apply(vm.smMapOps({ addr, range: size, obj: bo, offset: 0 }));
    return vm;
  };
  it('frees the gaps between mappings, minus the reserved node', () => {
    const vm = vmWith(0n, 0x100000n, [0x0n, 0x10000n], [[0x20000n, 0x10000n], [0x30000n, 0x8000n], [0x80000n, 0x80000n]]);
    expect(holesOf(VaHeap.fromGpuVm(vm))).toEqual([[0x10000n, 0x20000n], [0x38000n, 0x80000n]]);
  });
  it('keeps out a reserved node in the middle of the VA space', () => {
    const vm = vmWith(0x1000n, 0xf000n, [0x8000n, 0x1000n], [[0x2000n, 0x1000n], [0xa000n, 0x1000n]]);
    expect(holesOf(VaHeap.fromGpuVm(vm))).toEqual([[0x1000n, 0x2000n], [0x3000n, 0x8000n], [0x9000n, 0xa000n], [0xb000n, 0x10000n]]);
  });
  it('reaches the last address of a VM that ends at 2^64-1', () => {
    const vm = vmWith(0n, U64_MAX, null, [[0x1000n, 0x1000n]]);
    expect(holesOf(VaHeap.fromGpuVm(vm))).toEqual([[0n, 0x1000n], [0x2000n, U64_MAX]]);
  });
  it('gives an empty heap for a full VM; freeing what an unmap released makes room again', () => {
    const vm = vmWith(0n, 0x2000n, null, [[0n, 0x2000n]]);
    const heap = VaHeap.fromGpuVm(vm);
    expect(heap.holeCount).toBe(0);
    expect(heap.alloc(1, 1)).toBeNull();
    vm.apply(vm.smUnmapOps(0x1000, 0x1000));
    heap.free(0x1000, 0x1000);
    expect(holesOf(heap)).toEqual(holesOf(VaHeap.fromGpuVm(vm)));
  });
  it('hands out addresses the VM accepts', () => {
    const vm = vmWith(0n, 0x100000n, [0x0n, 0x1000n], [[0x10000n, 0x20000n]]);
    const heap = VaHeap.fromGpuVm(vm);
    const addr = heap.alloc(0x20000, 0x10000, { direction: 'bottom-up' })!;
    expect(addr).toBe(0x30000n);
    expect(vm.rangeValid(addr, 0x20000n) && vm.intervalEmpty(addr, 0x20000n)).toBe(true);
  });
});

// Reference model: one boolean per address of a small heap placed anywhere in the u64 space.
class BitmapHeap {
  readonly used: boolean[];
  constructor(readonly start: bigint, size: number) {
    this.used = new Array<boolean>(size).fill(false);
  }
  isFree(from: number, to: number) {
    for (let i = from; i < to; i++) if (this.used[i]) return false;
    return true;
  }
  alloc(size: number, align: bigint, topDown: boolean, low: number, high: number): bigint | null {
    const candidates: number[] = [];
    for (let i = low; i + size <= high; i++) if ((this.start + BigInt(i)) % align === 0n) candidates.push(i);
    if (topDown) candidates.reverse();
    for (const i of candidates) {
      if (this.isFree(i, i + size)) {
        this.used.fill(true, i, i + size);
        return this.start + BigInt(i);
      }
    }
    return null;
  }
  holes(): bigint[][] {
    const out: bigint[][] = [];
    for (let i = 0; i < this.used.length; i++) {
      if (this.used[i]) continue;
      let j = i;
      while (j < this.used.length && !this.used[j]) j++;
      out.push([this.start + BigInt(i), this.start + BigInt(j)]);
      i = j;
    }
    return out;
  }
}

const SIZE = 96;
const command = fc.oneof(
  fc.record({
    kind: fc.constant('alloc' as const),
    size: fc.integer({ min: 0, max: 40 }),
    alignShift: fc.integer({ min: 0, max: 6 }),
    topDown: fc.boolean(),
    window: fc.option(fc.tuple(fc.integer({ min: 0, max: SIZE + 4 }), fc.integer({ min: 0, max: SIZE })), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('allocAt' as const), at: fc.integer({ min: 0, max: SIZE + 4 }), size: fc.integer({ min: 0, max: 24 }) }),
  fc.record({ kind: fc.constant('free' as const), at: fc.integer({ min: 0, max: SIZE + 4 }), size: fc.integer({ min: 0, max: 24 }) }),
);

describe('VaHeap against a bitmap reference (fast-check)', () => {
  it('matches the reference after every call, including refused ones', () => {
    fc.assert(
      fc.property(
        // Heap starts with interesting alignment near 0, mid-space and the top of the u64 space.
        fc.constantFrom(0n, 0x1000n, 1n << 63n, 2n ** 64n - BigInt(SIZE), 2n ** 64n - BigInt(SIZE) - 3n),
        fc.array(command, { maxLength: 60 }),
        (start, commands) => {
          const heap = new VaHeap(start, SIZE);
          const ref = new BitmapHeap(start, SIZE);
          for (const c of commands) {
            if (c.kind === 'alloc') {
              const align = 1n << BigInt(c.alignShift);
              const [low, high] = c.window === undefined ? [0, SIZE] : [c.window[0], c.window[0] + c.window[1]];
              const options: VaHeapAllocOptions = { direction: c.topDown ? 'top-down' : 'bottom-up' };
              if (c.window !== undefined) options.window = { start: start + BigInt(c.window[0]), size: c.window[1] };
              if (c.size === 0 || c.window !== undefined && (c.window[1] === 0 || high > SIZE)) {
                expect(() => heap.alloc(c.size, align, options)).toThrow(RangeError);
              } else {
                expect(heap.alloc(c.size, align, options)).toBe(ref.alloc(c.size, align, c.topDown, low, high));
              }
            } else if (c.kind === 'allocAt') {
              if (c.size === 0 || c.at + c.size > SIZE) {
                expect(() => heap.allocAt(start + BigInt(c.at), c.size)).toThrow(RangeError);
              } else {
                const free = ref.isFree(c.at, c.at + c.size);
                if (free) ref.used.fill(true, c.at, c.at + c.size);
                expect(heap.allocAt(start + BigInt(c.at), c.size)).toBe(free);
              }
            } else if (c.size === 0 || c.at + c.size > SIZE) {
              expect(() => heap.free(start + BigInt(c.at), c.size)).toThrow(RangeError);
            } else if (ref.used.slice(c.at, c.at + c.size).every((u) => u)) {
              heap.free(start + BigInt(c.at), c.size);
              ref.used.fill(false, c.at, c.at + c.size);
            } else {
              expect(() => heap.free(start + BigInt(c.at), c.size)).toThrow(VaHeapError);
            }
            const holes = ref.holes();
            expect(holesOf(heap)).toEqual(holes);
            expect(heap.holeCount).toBe(holes.length);
            expect(heap.freeSize).toBe(BigInt(ref.used.filter((u) => !u).length));
          }
        },
      ),
      { numRuns: 2000 },
    );
  }, 60_000);
});
