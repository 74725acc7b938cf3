// SPDX-License-Identifier: MIT
// Applying ops: generating never changes the tree, an op list applies whole or not at all, stale lists
// and stale single ops are refused unchanged, the step form demands completion tokens, and the
// prefetch / bo_unmap generators.
import { describe, expect, it } from 'vitest';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { OpMap, OpMapped, OpRemap, OpUnmap, type OpRemapped, type OpUnmapped } from '../../../lib/gpuvm/ops.js';

const A = new GemObject(0x100000, 'A');
const B = new GemObject(0x100000, 'B');

function layout(vm: GpuVm): string[] {
  return [...vm.vas()].map((va) => `${va.addr.toString(16)}+${va.range.toString(16)}:${va.obj?.name ?? 'sparse'}@${va.offset.toString(16)}`);
}

function freshVm(): GpuVm {
  const vm = new GpuVm({ start: 0, range: 0x100000 });
  vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x3000, obj: A, offset: 0 }));
  return vm;
}

describe('apply(ops)', () => {
  it('generating ops leaves the tree untouched', () => {
    const vm = freshVm();
    const before = layout(vm);
    const generation = vm.generation;
    vm.smMapOps({ addr: 0x2000, range: 0x1000, obj: B, offset: 0 });
    vm.smUnmapOps(0, 0x10000);
    vm.madviseOps(0, 0x10000);
    vm.prefetchOps(0, 0x10000);
    expect(layout(vm)).toEqual(before);
    expect(vm.generation).toBe(generation);
  });

  it('applies a remap: pieces inserted and linked to the old VmBo, the old VA removed and unlinked', () => {
    const vm = freshVm();
    const old = vm.findFirst(0, 0x10000) as GpuVa;
    const vmBo = old.vmBo;
    const { inserted, removed } = vm.apply(vm.smMapOps({ addr: 0x2000, range: 0x1000, obj: B, offset: 0 }));
    expect(layout(vm)).toEqual(['1000+1000:A@0', '2000+1000:B@0', '3000+1000:A@2000']);
    expect(removed).toEqual([old]);
    expect(old.vm).toBeNull();
    expect(old.vmBo).toBeNull();
    expect(inserted.map((va) => va.addr)).toEqual([0x1000n, 0x3000n, 0x2000n]);
    expect(vmBo?.vaCount).toBe(2);
    expect(vmBo?.state).toBe('listed');
    expect(B.gpuvaList.get(vm)?.vaCount).toBe(1);
  });

  it('keeps a VmBo alive across an identical re-map (links first, unlinks last)', () => {
    const freed: unknown[] = [];
    const vm = new GpuVm({ start: 0, range: 0x100000, vmBoFree: (b) => freed.push(b) });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj: A, offset: 0 }));
    const vmBo = A.gpuvaList.get(vm);
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj: A, offset: 0 }));
    expect(A.gpuvaList.get(vm)).toBe(vmBo);
    expect(freed).toEqual([]);
  });

  it('frees the VmBo when its last VA is unmapped (staged mode)', () => {
    const freed: unknown[] = [];
    const vm = new GpuVm({ start: 0, range: 0x100000, vmBoFree: (b) => freed.push(b) });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj: A, offset: 0 }));
    const vmBo = A.gpuvaList.get(vm);
    vm.apply(vm.smUnmapOps(0, 0x10000));
    expect(freed).toEqual([vmBo]);
    expect(A.gpuvaList.has(vm)).toBe(false);
  });

  it('refuses a list once the tree changed, and a list applied twice, with nothing changed', () => {
    const vm = freshVm();
    const stale = vm.smMapOps({ addr: 0x2000, range: 0x1000, obj: B, offset: 0 });
    const fresh = vm.smUnmapOps(0x1000, 0x1000);
    vm.apply(fresh);
    const before = layout(vm);
    expect(() => vm.apply(stale)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_STALE_OPS' }));
    expect(() => vm.apply(fresh)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_STALE_OPS' }));
    expect(layout(vm)).toEqual(before);
  });

  it('an op list cannot be edited between generation and apply', () => {
    const vm = freshVm();
    const ops = vm.smUnmapOps(0x1000, 0x1000);
    expect(() => (ops.ops as unknown as unknown[]).push({ type: 'unmap' })).toThrow(TypeError);
    vm.apply(ops);
    expect(vm.vaCount).toBe(1);
  });

  it('refuses a list generated for another VM', () => {
    const vm = freshVm();
    const other = freshVm();
    expect(() => vm.apply(other.smUnmapOps(0, 0x10000))).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_WRONG_VM' }));
  });

  it('applies prefetch ops as no change', () => {
    const vm = freshVm();
    const ops = vm.prefetchOps(0, 0x10000);
    expect(ops.ops.map((op) => op.type)).toEqual(['prefetch']);
    const before = layout(vm);
    vm.apply(ops);
    expect(layout(vm)).toEqual(before);
  });
});

describe('prefetchOps and boUnmapOps', () => {
  it('prefetch reports every overlapping VA, sparse included, splitting nothing', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x2000, obj: A, offset: 0 }));
    vm.apply(vm.smMapOps({ addr: 0x3000, range: 0x1000 }));
    const ops = vm.prefetchOps(0x1800, 0x2000);
    expect(ops.ops.map((op) => (op.type === 'prefetch' ? op.va.addr : -1n))).toEqual([0x1000n, 0x3000n]);
  });

  // drm_gpuvm_prefetch_ops_create walks drm_gpuvm_for_each_va_range, the interval tree that also holds
  // kernel_alloc_node, so the kernel hands out a PREFETCH for the reserved node as for any drm_gpuva.
  it('prefetch reports the kernel-reserved node when the range overlaps it, as the kernel walk does', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000, reserveOffset: 0, reserveRange: 0x1000 });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x2000, obj: A, offset: 0 }));
    const ops = vm.prefetchOps(0, 0x1800);
    expect(ops.ops.map((op) => (op.type === 'prefetch' ? op.va : null))).toEqual([vm.kernelAllocNode, vm.findFirst(0x1000, 1)]);
    const before = layout(vm);
    vm.apply(ops);
    expect(layout(vm)).toEqual(before);
  });

  it('boUnmapOps gives one UNMAP keep=false per VA of the VmBo, and applying it frees the VmBo', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj: A, offset: 0 }));
    vm.apply(vm.smMapOps({ addr: 0x3000, range: 0x1000, obj: A, offset: 0x1000 }));
    vm.apply(vm.smMapOps({ addr: 0x5000, range: 0x1000, obj: B, offset: 0 }));
    const vmBo = A.gpuvaList.get(vm);
    if (vmBo === undefined) throw new Error('no VmBo');
    const ops = vm.boUnmapOps(vmBo);
    expect(ops.ops.map((op) => (op.type === 'unmap' ? [op.va.addr, op.keep] : null))).toEqual([[0x1000n, false], [0x3000n, false]]);
    vm.apply(ops);
    expect(layout(vm)).toEqual(['5000+1000:B@0']);
    expect(vmBo.state).toBe('freed');
  });
});

describe('single-op helpers (drm_gpuva_map / remap / unmap)', () => {
  it('applyMap inserts into a preallocated VA and returns the token', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    const va = new GpuVa();
    const token = vm.applyMap(new OpMap(0x1000n, 0x1000n, A, 0n), va);
    expect(token).toBeInstanceOf(OpMapped);
    expect(token.va).toBe(va);
    expect(vm.find(0x1000, 0x1000)).toBe(va);
  });

  it('applyMap refuses a range that is not free, unchanged', () => {
    const vm = freshVm();
    const before = layout(vm);
    expect(() => vm.applyMap(new OpMap(0x2000n, 0x1000n, B, 0n))).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_STALE_OP' }));
    expect(layout(vm)).toEqual(before);
  });

  it('applyUnmap and applyRemap refuse an op whose VA has left the tree', () => {
    const vm = freshVm();
    const ops = vm.smMapOps({ addr: 0x2000, range: 0x1000, obj: B, offset: 0 });
    const remap = ops.ops[0] as OpRemap;
    vm.applyUnmap(new OpUnmap(remap.unmap.va, false));
    expect(() => vm.applyRemap(remap)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_STALE_OP' }));
    expect(() => vm.applyUnmap(remap.unmap)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_STALE_OP' }));
  });

  it('applyRemap refuses pieces outside the VA they replace, unchanged', () => {
    const vm = freshVm();
    const old = vm.findFirst(0, 0x10000) as GpuVa;
    const bad = new OpRemap(new OpMap(0x800n, 0x1000n, A, 0n), null, new OpUnmap(old, false));
    expect(() => vm.applyRemap(bad)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_STALE_OP' }));
    expect(old.vm).toBe(vm);
  });

  it('the kernel-reserved node cannot be unmapped through an op', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000, reserveOffset: 0, reserveRange: 0x1000 });
    expect(() => vm.applyUnmap(new OpUnmap(vm.kernelAllocNode as GpuVa, false))).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_KERNEL_NODE' }));
  });
});

describe('step form (drm_gpuvm_sm_map / sm_unmap) with completion tokens', () => {
  it('runs the callbacks in kernel order and leaves the tree as apply(ops) would', () => {
    const vm = freshVm();
    const twin = freshVm();
    const seen: string[] = [];
    vm.smMap({ addr: 0x2000, range: 0x1000, obj: B, offset: 0 }, {
      map: (op) => { seen.push('map'); return vm.applyMap(op); },
      remap: (op) => { seen.push('remap'); return vm.applyRemap(op); },
      unmap: (op) => { seen.push('unmap'); return vm.applyUnmap(op); },
    });
    twin.apply(twin.smMapOps({ addr: 0x2000, range: 0x1000, obj: B, offset: 0 }));
    expect(seen).toEqual(['remap', 'map']);
    expect(layout(vm)).toEqual(layout(twin));
  });

  it('a callback that does not return its own token stops the walk with ERR_GPUVM_OP_NOT_APPLIED', () => {
    const vm = freshVm();
    expect(() => vm.smUnmap(0, 0x10000, {
      remap: (op) => vm.applyRemap(op),
      unmap: () => ({}) as OpUnmapped,
    })).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_OP_NOT_APPLIED' }));
  });

  it('a token of another op is not accepted', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj: A, offset: 0 }));
    vm.apply(vm.smMapOps({ addr: 0x2000, range: 0x1000, obj: A, offset: 0 }));
    let first: OpUnmapped | undefined;
    expect(() => vm.smUnmap(0, 0x10000, {
      remap: (op) => vm.applyRemap(op) as OpRemapped,
      unmap: (op) => {
        const token = vm.applyUnmap(op);
        first ??= token;
        return first;
      },
    })).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_OP_NOT_APPLIED' }));
  });

  it('refuses missing callbacks before doing anything', () => {
    const vm = freshVm();
    expect(() => vm.smMap({ addr: 0, range: 0x1000 }, { map: (op: OpMap) => vm.applyMap(op) } as never)).toThrow(TypeError);
  });
});
