// SPDX-License-Identifier: MIT
// Worked examples of drm_gpuvm's split/merge (drm_gpuvm.c) as tables: sm_map (M1-M23), sm_unmap
// (U1-U6), remap_to_unmap_range and madvise (D1-D4). Ops are written as in the kernel's documentation:
// `[s,e) X@o` is a range backed by GEM X at offset o (NULL: sparse), Vn the n-th existing VA.
import { describe, expect, it } from 'vitest';
import { GpuVmRequestError } from '../../../lib/gpuvm/errors.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { remapToUnmapRange, type GpuVaOp, type GpuVaOps, type OpMap } from '../../../lib/gpuvm/ops.js';

const gems: Record<string, GemObject> = {
  A: new GemObject(0x100000, 'A'),
  B: new GemObject(0x100000, 'B'),
  C: new GemObject(0x100000, 'C'),
  D: new GemObject(0x100000, 'D'),
};

const num = (v: bigint): string => (v === 0n ? '0' : `0x${v.toString(16)}`);

/** Parses `[s,e) X@o` (X a GEM name or NULL). */
function parseRange(text: string): { addr: bigint; range: bigint; obj: GemObject | null; offset: bigint } {
  const m = /^\[(\w+),(\w+)\) (\w+)@(\w+)$/.exec(text.trim());
  if (m === null) throw new Error(`bad range text ${text}`);
  const addr = BigInt(m[1] as string);
  return { addr, range: BigInt(m[2] as string) - addr, obj: m[3] === 'NULL' ? null : gems[m[3] as string] as GemObject, offset: BigInt(m[4] as string) };
}

function piece(op: { addr: bigint; range: bigint; obj: GemObject | null; offset: bigint } | null): string {
  if (op === null) return '-';
  return `[${num(op.addr)},${num(op.addr + op.range)}) ${op.obj === null ? 'NULL' : op.obj.name}@${num(op.offset)}`;
}

/** A VM [0, 0x100000) holding `existing` as V1, V2, ...; returns the VM and a namer for its VAs. */
function world(existing: string[], reserve?: [number, number]): { vm: GpuVm; name: (va: GpuVa) => string } {
  const vm = new GpuVm({ start: 0, range: 0x100000, ...(reserve ? { reserveOffset: reserve[0], reserveRange: reserve[1] } : {}) });
  const names = new Map<GpuVa, string>();
  existing.forEach((text, i) => {
    const va = new GpuVa(parseRange(text));
    vm.insert(va);
    names.set(va, `V${i + 1}`);
  });
  return { vm, name: (va) => names.get(va) ?? '?' };
}

function show(ops: GpuVaOps, name: (va: GpuVa) => string): string[] {
  return ops.ops.map((op: GpuVaOp) => {
    switch (op.type) {
      case 'map': return `MAP(${piece(op)})`;
      case 'unmap': return `UNMAP(${name(op.va)},${op.keep ? 'T' : 'F'})`;
      case 'remap': return `REMAP(${name(op.unmap.va)},${op.unmap.keep ? 'T' : 'F'}; p=${piece(op.prev)}; n=${piece(op.next)})`;
      case 'prefetch': return `PREFETCH(${name(op.va)})`;
    }
  });
}

describe('sm_map worked examples (M1-M20)', () => {
  it.each<[string, string[], string, string[]]>([
    ['M1', [], '[0x1000,0x3000) A@0', ['MAP([0x1000,0x3000) A@0)']],
    ['M2 identical request', ['[0,0x1000) A@0'], '[0,0x1000) A@0', ['UNMAP(V1,T)', 'MAP([0,0x1000) A@0)']],
    ['M3', ['[0,0x1000) A@0'], '[0,0x1000) A@0x2000', ['UNMAP(V1,F)', 'MAP([0,0x1000) A@0x2000)']],
    ['M4', ['[0,0x1000) A@0'], '[0,0x1000) B@0', ['UNMAP(V1,F)', 'MAP([0,0x1000) B@0)']],
    ['M5', ['[0,0x1000) A@0'], '[0,0x2000) A@0', ['UNMAP(V1,T)', 'MAP([0,0x2000) A@0)']],
    ['M6', ['[0,0x2000) A@0'], '[0,0x1000) B@0', ['REMAP(V1,F; p=-; n=[0x1000,0x2000) A@0x1000)', 'MAP([0,0x1000) B@0)']],
    ['M7', ['[0,0x2000) A@0'], '[0,0x1000) A@0', ['REMAP(V1,T; p=-; n=[0x1000,0x2000) A@0x1000)', 'MAP([0,0x1000) A@0)']],
    ['M8', ['[0,0x2000) A@0'], '[0x1000,0x2000) B@0', ['REMAP(V1,F; p=[0,0x1000) A@0; n=-)', 'MAP([0x1000,0x2000) B@0)']],
    ['M9', ['[0,0x2000) A@0'], '[0x1000,0x2000) A@0x1000', ['REMAP(V1,T; p=[0,0x1000) A@0; n=-)', 'MAP([0x1000,0x2000) A@0x1000)']],
    ['M10', ['[0,0x2000) A@0'], '[0x1000,0x3000) B@0', ['REMAP(V1,F; p=[0,0x1000) A@0; n=-)', 'MAP([0x1000,0x3000) B@0)']],
    ['M11', ['[0,0x3000) A@0'], '[0x1000,0x2000) B@0x5000', ['REMAP(V1,F; p=[0,0x1000) A@0; n=[0x2000,0x3000) A@0x2000)', 'MAP([0x1000,0x2000) B@0x5000)']],
    ['M12', ['[0,0x3000) A@0'], '[0x1000,0x2000) A@0x1000', ['REMAP(V1,T; p=[0,0x1000) A@0; n=[0x2000,0x3000) A@0x2000)', 'MAP([0x1000,0x2000) A@0x1000)']],
    ['M13', ['[0x1000,0x2000) A@0x1000'], '[0,0x3000) A@0', ['UNMAP(V1,T)', 'MAP([0,0x3000) A@0)']],
    ['M14', ['[0x1000,0x3000) A@0'], '[0,0x2000) B@0', ['REMAP(V1,F; p=-; n=[0x2000,0x3000) A@0x1000)', 'MAP([0,0x2000) B@0)']],
    ['M15', ['[0,0x2000) A@0', '[0x2000,0x3000) B@0', '[0x3000,0x5000) C@0'], '[0x1000,0x4000) D@0', [
      'REMAP(V1,F; p=[0,0x1000) A@0; n=-)', 'UNMAP(V2,F)', 'REMAP(V3,F; p=-; n=[0x4000,0x5000) C@0x1000)', 'MAP([0x1000,0x4000) D@0)']],
    ['M16', ['[0,0x1000) A@0', '[0x1000,0x2000) A@0x1000'], '[0,0x2000) A@0', ['UNMAP(V1,T)', 'UNMAP(V2,T)', 'MAP([0,0x2000) A@0)']],
    ['M17 fills a hole, no coalescing', ['[0,0x1000) A@0', '[0x2000,0x3000) A@0x2000'], '[0x1000,0x2000) A@0x1000', ['MAP([0x1000,0x2000) A@0x1000)']],
    ['M18 sparse', ['[0,0x3000) NULL@0'], '[0x1000,0x2000) NULL@0', ['REMAP(V1,F; p=[0,0x1000) NULL@0; n=[0x2000,0x3000) NULL@0x2000)', 'MAP([0x1000,0x2000) NULL@0)']],
    ['M19', ['[0,0x2000) A@0'], '[0,0x2000) NULL@0', ['UNMAP(V1,F)', 'MAP([0,0x2000) NULL@0)']],
    ['M20', ['[0,0x2000) NULL@0'], '[0,0x2000) A@0', ['UNMAP(V1,F)', 'MAP([0,0x2000) A@0)']],
  ])('%s', (_id, existing, request, expected) => {
    const { vm, name } = world(existing);
    expect(show(vm.smMapOps(parseRange(request)), name)).toEqual(expected);
  });

  it('M21: a request overlapping the kernel-reserved node is refused with no ops', () => {
    const { vm } = world([], [0, 0x1000]);
    expect(() => vm.smMapOps(parseRange('[0x800,0x1800) A@0'))).toThrow(expect.objectContaining({ reason: 'reserved', code: 'ERR_GPUVM_RESERVED' }));
  });

  it('M22: a request leaving the VA space is refused with no ops', () => {
    const { vm } = world([]);
    expect(() => vm.smMapOps(parseRange('[0xFF000,0x101000) A@0'))).toThrow(GpuVmRequestError);
    expect(() => vm.smMapOps(parseRange('[0xFF000,0x101000) A@0'))).toThrow(expect.objectContaining({ reason: 'out_of_range' }));
  });

  it('M23: a second request against the applied tree splits the new next piece again', () => {
    const { vm } = world(['[0,0x4000) A@0']);
    const first = vm.smMapOps(parseRange('[0x1000,0x2000) A@0x1000'));
    expect(show(first, () => 'V1')).toEqual(['REMAP(V1,T; p=[0,0x1000) A@0; n=[0x2000,0x4000) A@0x2000)', 'MAP([0x1000,0x2000) A@0x1000)']);
    vm.apply(first);
    const n = vm.find(0x2000, 0x2000) as GpuVa;
    expect(n).not.toBeNull();
    const second = vm.smMapOps(parseRange('[0x2000,0x3000) A@0x2000'));
    expect(show(second, (va) => (va === n ? 'N' : '?'))).toEqual(['REMAP(N,T; p=-; n=[0x3000,0x4000) A@0x3000)', 'MAP([0x2000,0x3000) A@0x2000)']);
  });
});

describe('sm_unmap worked examples (U1-U6)', () => {
  it.each<[string, string[], [number, number], string[]]>([
    ['U1', ['[0,0x3000) A@0'], [0x1000, 0x2000], ['REMAP(V1,F; p=[0,0x1000) A@0; n=[0x2000,0x3000) A@0x2000)']],
    ['U2', ['[0,0x2000) A@0', '[0x2000,0x4000) B@0x10'], [0x1000, 0x3000], ['REMAP(V1,F; p=[0,0x1000) A@0; n=-)', 'REMAP(V2,F; p=-; n=[0x3000,0x4000) B@0x1010)']],
    ['U3', ['[0,0x1000) A@0'], [0, 0x1000], ['UNMAP(V1,F)']],
    ['U4', ['[0,0x1000) A@0', '[0x2000,0x3000) B@0', '[0x3000,0x4000) C@0'], [0, 0x4000], ['UNMAP(V1,F)', 'UNMAP(V2,F)', 'UNMAP(V3,F)']],
    ['U5 nothing there', ['[0,0x1000) A@0'], [0x4000, 0x5000], []],
    ['U6 sparse', ['[0,0x3000) NULL@0'], [0, 0x1000], ['REMAP(V1,F; p=-; n=[0x1000,0x3000) NULL@0x1000)']],
  ])('%s', (_id, existing, [start, end], expected) => {
    const { vm, name } = world(existing);
    expect(show(vm.smUnmapOps(start, end - start), name)).toEqual(expected);
  });
});

describe('remapToUnmapRange (drm_gpuva_op_remap_to_unmap_range)', () => {
  it.each<[string, string[], 'map' | 'unmap', string, number, [number, number]]>([
    ['U1', ['[0,0x3000) A@0'], 'unmap', '[0x1000,0x2000) A@0', 0, [0x1000, 0x2000]],
    ['U2/V1', ['[0,0x2000) A@0', '[0x2000,0x4000) B@0x10'], 'unmap', '[0x1000,0x3000) A@0', 0, [0x1000, 0x2000]],
    ['U2/V2', ['[0,0x2000) A@0', '[0x2000,0x4000) B@0x10'], 'unmap', '[0x1000,0x3000) A@0', 1, [0x2000, 0x3000]],
    ['M6', ['[0,0x2000) A@0'], 'map', '[0,0x1000) B@0', 0, [0, 0x1000]],
  ])('%s gives the hole the remap leaves', (_id, existing, kind, request, index, [start, end]) => {
    const { vm } = world(existing);
    const req = parseRange(request);
    const ops = kind === 'map' ? vm.smMapOps(req) : vm.smUnmapOps(req.addr, req.range);
    const op = ops.ops[index];
    if (op?.type !== 'remap') throw new Error('expected a remap op');
    expect(remapToUnmapRange(op)).toEqual({ start: BigInt(start), range: BigInt(end - start) });
  });
});

describe('madvise worked examples (D1-D4): only sparse VAs are split, never unmapped', () => {
  it.each<[string, string[], [number, number], string[]]>([
    ['D1', ['[0,0x4000) NULL@0'], [0x1000, 0x2000], ['REMAP(V1,F; p=[0,0x1000) NULL@0; n=[0x2000,0x4000) NULL@0x2000)', 'MAP([0x1000,0x2000) NULL@0)']],
    ['D2', ['[0,0x2000) NULL@0', '[0x2000,0x3000) NULL@0', '[0x3000,0x5000) NULL@0'], [0x1000, 0x4000], [
      'REMAP(V1,F; p=[0,0x1000) NULL@0; n=-)', 'MAP([0x1000,0x2000) NULL@0)', 'REMAP(V3,F; p=-; n=[0x4000,0x5000) NULL@0x1000)', 'MAP([0x3000,0x4000) NULL@0)']],
    ['D3 GEM-backed VAs are skipped', ['[0,0x4000) A@0'], [0x1000, 0x2000], []],
    ['D4 boundaries already line up', ['[0,0x1000) NULL@0', '[0x1000,0x2000) NULL@0'], [0, 0x2000], []],
  ])('%s', (_id, existing, [start, end], expected) => {
    const { vm, name } = world(existing);
    expect(show(vm.madviseOps(start, end - start), name)).toEqual(expected);
  });

  it('applying D2 leaves the request boundaries as VA boundaries', () => {
    const { vm } = world(['[0,0x2000) NULL@0', '[0x2000,0x3000) NULL@0', '[0x3000,0x5000) NULL@0']);
    vm.apply(vm.madviseOps(0x1000, 0x3000));
    expect([...vm.vas()].map((va) => piece(va as unknown as OpMap))).toEqual([
      '[0,0x1000) NULL@0', '[0x1000,0x2000) NULL@0', '[0x2000,0x3000) NULL@0', '[0x3000,0x4000) NULL@0', '[0x4000,0x5000) NULL@0x1000',
    ]);
  });
});
