// SPDX-License-Identifier: MIT
// Lookups and iteration of GpuVm (find, findFirst, findPrev, findNext, vas, vasInRange) and the tree
// under them: many VAs (so leaves split and merge), addresses near 2^64 that round to the same double.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { U64_MAX } from '../../../lib/u64.js';

const A = new GemObject(1n << 40n, 'A');

function vmWith(spans: [bigint | number, bigint | number][], options: { start?: bigint; range?: bigint } = {}): GpuVm {
  const vm = new GpuVm({ start: options.start ?? 0n, range: options.range ?? 1n << 40n });
  for (const [addr, range] of spans) vm.insert(new GpuVa({ addr, range, obj: A, offset: 0 }));
  return vm;
}

const spanOf = (va: GpuVa | null): [bigint, bigint] | null => (va === null ? null : [va.addr, va.range]);

describe('findFirst / find', () => {
  const vm = vmWith([[0x1000, 0x1000], [0x3000, 0x2000]]);

  it.each<[string, number, number, [bigint, bigint] | null]>([
    ['a range inside a VA', 0x1800, 0x10, [0x1000n, 0x1000n]],
    ['a range starting in a gap and reaching a VA', 0x2000, 0x1001, [0x3000n, 0x2000n]],
    ['a range ending exactly where a VA starts', 0x2000, 0x1000, null],
    ['a range starting exactly where a VA ends', 0x2000, 0x800, null],
    ['a range covering both returns the lowest', 0, 0x10000, [0x1000n, 0x1000n]],
    ['a range past every VA', 0x5000, 0x1000, null],
    ['an empty range overlaps nothing', 0x1800, 0, null],
  ])('findFirst: %s', (_name, addr, range, expected) => {
    expect(spanOf(vm.findFirst(addr, range))).toEqual(expected);
  });

  it('find returns only an exact match', () => {
    expect(spanOf(vm.find(0x3000, 0x2000))).toEqual([0x3000n, 0x2000n]);
    expect(vm.find(0x3000, 0x1000)).toBeNull();
    expect(vm.find(0x2000, 0x2000)).toBeNull();
  });

  it('accepts a lookup that reaches 2^64 and refuses one past it', () => {
    expect(spanOf(vm.findFirst(0x4000, (1n << 64n) - 0x4000n))).toEqual([0x3000n, 0x2000n]);
    expect(() => vm.findFirst(0x4000, U64_MAX)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_OVERFLOW' }));
  });
});

describe('findPrev / findNext keep the kernel quirks', () => {
  const vm = vmWith([[0x1000, 0x1000], [0x3000, 0x1000]], { start: 0x1000n, range: 0x10000n });

  it('findPrev returns the VA covering start-1', () => {
    expect(spanOf(vm.findPrev(0x2000))).toEqual([0x1000n, 0x1000n]);
  });
  it('findPrev returns a VA starting at start when nothing covers start-1', () => {
    expect(spanOf(vm.findPrev(0x3000))).toEqual([0x3000n, 0x1000n]);
  });
  it('findPrev is null when start-1 is outside the VM', () => {
    expect(vm.findPrev(0x1000)).toBeNull();
    expect(vm.findPrev(0)).toBeNull();
  });
  it('findNext returns the VA covering end', () => {
    expect(spanOf(vm.findNext(0x3800))).toEqual([0x3000n, 0x1000n]);
  });
  it('findNext returns a VA starting at end+1 when nothing covers end', () => {
    expect(spanOf(vm.findNext(0x2fff))).toEqual([0x3000n, 0x1000n]);
  });
  it('findNext is null when end is outside the VM', () => {
    expect(vm.findNext(0x11000)).toBeNull();
  });
});

describe('iteration', () => {
  it('vas() walks in address order and includes the kernel-reserved node', () => {
    const vm = new GpuVm({ start: 0, range: 0x10000, reserveOffset: 0x8000, reserveRange: 0x1000 });
    vm.insert(new GpuVa({ addr: 0x9000, range: 0x1000 }));
    vm.insert(new GpuVa({ addr: 0x1000, range: 0x1000 }));
    expect([...vm.vas()].map((va) => va.addr)).toEqual([0x1000n, 0x8000n, 0x9000n]);
    expect([...vm.vas()][1]).toBe(vm.kernelAllocNode);
    expect(vm.vaCount).toBe(2);
  });

  it('vasInRange() yields the VAs overlapping [start, end) and tolerates removing the current one', () => {
    const vm = vmWith([[0x1000, 0x1000], [0x2000, 0x1000], [0x3000, 0x1000], [0x5000, 0x1000]]);
    const seen: bigint[] = [];
    for (const va of vm.vasInRange(0x1800, 0x3001)) {
      seen.push(va.addr);
      vm.remove(va);
    }
    expect(seen).toEqual([0x1000n, 0x2000n, 0x3000n]);
    expect([...vm.vas()].map((va) => va.addr)).toEqual([0x5000n]);
  });

  it('nextVa / prevVa step through the sorted list', () => {
    const vm = vmWith([[0x1000, 0x1000], [0x2000, 0x1000]]);
    const first = vm.findFirst(0, 0x10000) as GpuVa;
    const second = vm.nextVa(first) as GpuVa;
    expect(second.addr).toBe(0x2000n);
    expect(vm.nextVa(second)).toBeNull();
    expect(vm.prevVa(second)).toBe(first);
    expect(vm.prevVa(first)).toBeNull();
  });
});

describe('insert / remove', () => {
  it('insert refuses an overlap with EEXIST semantics and changes nothing', () => {
    const vm = vmWith([[0x1000, 0x2000]]);
    expect(() => vm.insert(new GpuVa({ addr: 0x2000, range: 0x2000 }))).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_VA_EXISTS' }));
    expect(vm.vaCount).toBe(1);
  });

  it('insert refuses a VA overlapping the reserved node, outside the VM, or empty', () => {
    const vm = new GpuVm({ start: 0x1000, range: 0x10000, reserveOffset: 0x1000, reserveRange: 0x1000 });
    expect(() => vm.insert(new GpuVa({ addr: 0x1800, range: 0x1000 }))).toThrow(expect.objectContaining({ reason: 'reserved' }));
    expect(() => vm.insert(new GpuVa({ addr: 0x10800, range: 0x1000 }))).toThrow(expect.objectContaining({ reason: 'out_of_range' }));
    expect(() => vm.insert(new GpuVa({ addr: 0x3000, range: 0 }))).toThrow(expect.objectContaining({ reason: 'zero_range' }));
    expect(vm.vaCount).toBe(0);
  });

  it('a VA cannot be inserted twice, and remove refuses a VA not in the tree', () => {
    const vm = vmWith([]);
    const va = new GpuVa({ addr: 0x1000, range: 0x1000 });
    vm.insert(va);
    expect(() => vm.insert(va)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_VA_STATE' }));
    vm.remove(va);
    expect(va.vm).toBeNull();
    expect(() => vm.remove(va)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_VA_STATE' }));
  });

  it('remove refuses the kernel-reserved node', () => {
    const vm = new GpuVm({ start: 0, range: 0x10000, reserveOffset: 0, reserveRange: 0x1000 });
    expect(() => vm.remove(vm.kernelAllocNode as GpuVa)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_KERNEL_NODE' }));
  });

  it('remove refuses a VA of another VM', () => {
    const a = vmWith([[0x1000, 0x1000]]);
    const b = vmWith([]);
    expect(() => b.remove(a.findFirst(0, 0x10000) as GpuVa)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_WRONG_VM' }));
  });
});

describe('the tree against a sorted array (fast-check)', () => {
  // Slots of `width` bytes at `base + slot*width`; near 2^64 with width 1 many addresses round to one double.
  const layouts: [string, bigint, bigint][] = [
    ['low addresses', 0n, 0x1000n],
    ['addresses near 2^64 that share doubles', U64_MAX - 5000n, 1n],
  ];
  it.each(layouts)('random inserts and removes keep order and lookups exact: %s', (_name, base, width) => {
    // Two adds per remove on average, so the tree grows past several leaves (128 VAs each) and shrinks back.
    const step = fc.tuple(fc.integer({ min: 0, max: 2 }).map((n) => n > 0), fc.integer({ min: 0, max: 1999 }));
    fc.assert(fc.property(fc.array(step, { minLength: 1500, maxLength: 3000 }), (steps) => {
      const vm = new GpuVm({ start: base, range: U64_MAX - base });
      const live = new Map<number, GpuVa>();
      for (const [add, slot] of steps) {
        const have = live.get(slot);
        if (add && have === undefined) {
          const va = new GpuVa({ addr: base + BigInt(slot) * width, range: width });
          vm.insert(va);
          live.set(slot, va);
        } else if (!add && have !== undefined) {
          vm.remove(have);
          live.delete(slot);
        }
      }
      const sorted = [...live.keys()].sort((x, y) => x - y);
      expect(sorted.length).toBeGreaterThan(300);
      expect([...vm.vas()].map((va) => Number((va.addr - base) / width))).toEqual(sorted);
      expect(vm.vaCount).toBe(sorted.length);
      for (let slot = 0; slot < 2000; slot += 7) {
        const addr = base + BigInt(slot) * width;
        expect(vm.find(addr, width)).toBe(live.get(slot) ?? null);
        const next = sorted.find((s) => s >= slot);
        expect(vm.findFirst(addr, U64_MAX - addr)).toBe(next === undefined ? null : live.get(next));
      }
    }), { numRuns: 40 });
  }, 120_000); // about 1.5 s on an idle machine; the shared build machine can be 10x slower
});

describe('range checks on both sides of 2^53', () => {
  // rangeValid decides on numbers while addr + range stays below 2^53 and on bigints past it; a VM, a
  // reserved node and requests straddling 2^53 take both paths and must agree with the plain bigint rule.
  const TOP = 1n << 53n;
  const vms: { start: bigint; range: bigint; node: [bigint, bigint] | null }[] = [
    { start: TOP - 16n, range: 32n, node: null },
    { start: TOP - 16n, range: 32n, node: [TOP - 2n, 4n] },
    { start: TOP - 16n, range: 32n, node: [TOP - 8n, 4n] },
    { start: TOP, range: 16n, node: [TOP + 4n, 4n] },
    { start: 0n, range: TOP + 8n, node: [TOP - 1n, 1n] },
    { start: TOP - 40n, range: 40n, node: [TOP - 4n, 4n] },
    { start: TOP - 64n, range: 32n, node: [TOP - 40n, 4n] },
  ];
  for (const { start, range, node } of vms) {
    it(`VM [2^53${start - TOP >= 0n ? '+' : ''}${start - TOP}, +${range}) node ${node === null ? 'none' : `[2^53${node[0] - TOP >= 0n ? '+' : ''}${node[0] - TOP}, +${node[1]})`}`, () => {
      const vm = new GpuVm({ start, range, reserveOffset: node?.[0] ?? 0n, reserveRange: node?.[1] ?? 0n });
      const end = start + range;
      // Every address within 24 of 2^53, of the VM's bounds and of the node's.
      const near = new Set<bigint>();
      for (const p of [TOP, start, end, ...(node === null ? [] : [node[0], node[0] + node[1]])]) {
        for (let d = -24n; d <= 24n; d++) if (p + d >= 0n) near.add(p + d);
      }
      for (const a of near) {
        for (let r = 0n; r <= 24n; r++) {
          const e = a + r;
          const expected = a >= start && e <= end && (node === null || !(a < node[0] + node[1] && node[0] < e));
          expect(vm.rangeValid(a, r), `addr 2^53${a - TOP >= 0n ? '+' : ''}${a - TOP} range ${r}`).toBe(expected);
        }
      }
    });
  }
});

describe('inserts that follow removes at leaf boundaries', () => {
  // Insert reuses the position of the last insert or remove when the neighbouring keys and separators allow
  // it. For every fourth slot i: VA i is removed (at a leaf's start its separator stays where VA i began),
  // VA i-1 is replaced by one reaching past i's start, and a map request at i's start splits it. The
  // remap's right piece and the MAP start at or past that separator: they belong to the next leaf, not to
  // the end of the leaf where the removed VA was, which is where the last remove left the guess.
  it('keeps every VA findable and the tree in address order', () => {
    const SLOT = 0x10000n;
    const vm = vmWith(Array.from({ length: 3000 }, (_, i): [bigint, bigint] => [BigInt(i) * SLOT, 0x1000n]));
    for (let i = 4; i < 3000; i += 4) {
      const at = BigInt(i) * SLOT;
      vm.remove(vm.find(at, 0x1000n) as GpuVa);
      vm.remove(vm.find(at - SLOT, 0x1000n) as GpuVa);
      vm.insert(new GpuVa({ addr: at - SLOT, range: SLOT + 0x1000n, obj: A }));
      vm.apply(vm.smMapOps({ addr: at, range: 0x800n, obj: A, offset: 0n }));
    }
    const starts = [...vm.vas()].map((va) => va.addr);
    expect(starts.length).toBe(vm.vaCount);
    for (let k = 1; k < starts.length; k++) expect(starts[k]! > starts[k - 1]!, `VA ${k} at 0x${starts[k]!.toString(16)}`).toBe(true);
    for (const va of vm.vas()) expect(vm.find(va.addr, va.range)).toBe(va);
  });
});

describe("a VA's values, in the tree and out of it", () => {
  // A removed VA's id in the tree goes to the next insert; nothing of the VA may go with it (the tree has
  // kept per-id data beside its VAs, and a change that moves a VA's values there must hand them back).
  it('a removed VA keeps its values after its id is reused, at u64 edges too', () => {
    const vm = new GpuVm({ start: 0n, range: U64_MAX });
    const top = new GemObject(U64_MAX, 'top');
    const old = vm.apply(vm.smMapOps({ addr: U64_MAX - 0x2000n, range: 0x1000n, obj: top, offset: U64_MAX - 0x1000n })).inserted[0]!;
    expect([old.addr, old.range, old.offset]).toEqual([U64_MAX - 0x2000n, 0x1000n, U64_MAX - 0x1000n]);
    const { removed } = vm.apply(vm.smUnmapOps(U64_MAX - 0x2000n, 0x1000n));
    expect(removed).toEqual([old]);
    // The next VA takes the id the removed one freed.
    const next = vm.apply(vm.smMapOps({ addr: (1n << 53n) + 1n, range: 3n, obj: top, offset: 7n })).inserted[0]!;
    expect([old.addr, old.range, old.offset, old.end, old.inserted]).toEqual([U64_MAX - 0x2000n, 0x1000n, U64_MAX - 0x1000n, U64_MAX - 0x1000n, false]);
    expect([next.addr, next.range, next.offset]).toEqual([(1n << 53n) + 1n, 3n, 7n]);
    // Inserting the removed VA again stores its values once more.
    vm.insert(old);
    expect(vm.find(U64_MAX - 0x2000n, 0x1000n)).toBe(old);
    expect(old.offset).toBe(U64_MAX - 0x1000n);
  });

  it('every VA reads back what it was given across many ids, through removes and reinserts', () => {
    const vm = new GpuVm({ start: 0n, range: 1n << 48n });
    const count = 5000;
    const want = (i: number): [bigint, bigint, bigint] => [BigInt(i) * 0x10000n + BigInt(i % 7), 0x100n + BigInt(i % 5), BigInt(i) * 3n];
    const vas = Array.from({ length: count }, (_, i) => {
      const [addr, range, offset] = want(i);
      const va = new GpuVa({ addr, range, obj: A, offset });
      vm.insert(va);
      return va;
    });
    // Remove every third VA, then put them back in reverse order: ids come back in another order.
    const gone = vas.filter((_, i) => i % 3 === 0);
    for (const va of gone) vm.remove(va);
    for (const va of gone.reverse()) vm.insert(va);
    vas.forEach((va, i) => expect([va.addr, va.range, va.offset], `VA ${i}`).toEqual(want(i)));
    expect([...vm.vas()]).toEqual(vas);
  });

  it('a spare VA passed to applyMap takes the op\'s values and keeps them once removed', () => {
    const vm = new GpuVm({ start: 0n, range: 1n << 40n });
    const spare = new GpuVa();
    const [op] = vm.smMapOps({ addr: 0x5000n, range: 0x3000n, obj: A, offset: 0x2000n }).ops;
    const { va } = vm.applyMap(op as never, spare);
    expect(va).toBe(spare);
    expect([spare.addr, spare.range, spare.offset, spare.inserted]).toEqual([0x5000n, 0x3000n, 0x2000n, true]);
    vm.remove(spare);
    expect([spare.addr, spare.range, spare.offset, spare.inserted]).toEqual([0x5000n, 0x3000n, 0x2000n, false]);
  });
});
