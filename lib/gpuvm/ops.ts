// SPDX-License-Identifier: MIT
// The ops GPUVM generates (struct drm_gpuva_op and its map/remap/unmap/prefetch members), the op list
// (struct drm_gpuva_ops) and the completion tokens that only applying an op yields.
// Ops carry no VA flags: a driver that wants SPARSE or user bits on remap pieces copies them itself.
import type { GemObject } from './gem.js';
import type { GpuVa } from './gpuva.js';
import type { GpuVm } from './gpuvm.js';

/** DRM_GPUVA_OP_MAP: insert a new mapping `[addr, addr+range)` of `obj` at `offset` (obj null: sparse). */
export class OpMap {
  /** Op type tag. */
  readonly type = 'map' as const;
  /** @param addr - start; @param range - length; @param obj - GEM or null; @param offset - GEM offset. */
  constructor(
    readonly addr: bigint,
    readonly range: bigint,
    readonly obj: GemObject | null,
    readonly offset: bigint,
  ) {}
}

/**
 * DRM_GPUVA_OP_UNMAP: remove `va`. `keep` is the kernel's merge hint: the new MAP covers the same GEM pages
 * at the same addresses, so page-table entries may be kept. Never true for sparse VAs nor in unmap requests.
 */
export class OpUnmap {
  /** Op type tag. */
  readonly type = 'unmap' as const;
  /** @param va - the VA to remove; @param keep - the merge hint. */
  constructor(
    readonly va: GpuVa,
    readonly keep: boolean,
  ) {}
}

/**
 * DRM_GPUVA_OP_REMAP: remove `unmap.va` and insert what is left of it on either side of the request:
 * `prev` (same start and offset) and/or `next` (ends where the old VA ended).
 */
export class OpRemap {
  /** Op type tag. */
  readonly type = 'remap' as const;
  /** @param prev - left piece or null; @param next - right piece or null; @param unmap - the VA split. */
  constructor(
    readonly prev: OpMap | null,
    readonly next: OpMap | null,
    readonly unmap: OpUnmap,
  ) {}
}

/** DRM_GPUVA_OP_PREFETCH: the driver should make `va`'s backing resident. Applying it changes nothing. */
export class OpPrefetch {
  /** Op type tag. */
  readonly type = 'prefetch' as const;
  /** @param va - a VA overlapping the prefetch range. */
  constructor(readonly va: GpuVa) {}
}

/** Any op. */
export type GpuVaOp = OpMap | OpRemap | OpUnmap | OpPrefetch;

const listKey: unique symbol = Symbol('gpuva ops list');

/** @internal the key under which GpuVaOps keeps its list for GpuVm.apply, out of users' reach. */
export const opsListKey: typeof listKey = listKey;

/**
 * drm_gpuva_ops: an ordered op list computed against the tree of `vm` as it was at generation time.
 * `vm.apply(ops)` refuses it once the tree has changed (ERR_GPUVM_STALE_OPS). The list itself cannot be
 * edited: `ops` is a frozen copy, so what apply validated is what it applies.
 */
export class GpuVaOps implements Iterable<GpuVaOp> {
  /** @internal */
  readonly [listKey]: readonly GpuVaOp[];
  private frozen: readonly GpuVaOp[] | null = null;

  /** @internal use the GpuVm generators. */
  constructor(
    /** The VM the ops were computed for. */
    readonly vm: GpuVm,
    /** @internal the VM's tree generation when computed. */
    readonly generation: number,
    list: readonly GpuVaOp[],
  ) {
    this[listKey] = list;
  }

  /** The ops in kernel order, as a frozen array. */
  get ops(): readonly GpuVaOp[] {
    this.frozen ??= Object.freeze(this[listKey].slice());
    return this.frozen;
  }

  /** Number of ops. */
  get length(): number {
    return this[listKey].length;
  }

  /** Iterates the ops in order (drm_gpuva_for_each_op). */
  [Symbol.iterator](): Iterator<GpuVaOp> {
    return this[listKey][Symbol.iterator]();
  }
}

/**
 * drm_gpuva_op_remap_to_unmap_range: the hole a remap leaves, `[start, start+range)`: from the end of
 * `prev` (or the old start) to the start of `next` (or the old end).
 */
export function remapToUnmapRange(op: OpRemap): { start: bigint; range: bigint } {
  const old = op.unmap.va;
  const start = op.prev !== null ? op.prev.addr + op.prev.range : old.addr;
  const end = op.next !== null ? op.next.addr : old.addr + old.range;
  return { start, range: end - start };
}

const tokenKey: unique symbol = Symbol('gpuva op token');

/** Proof that an OpMap was applied (the Rust abstraction's `OpMapped`). Only `vm.applyMap` makes one. */
export class OpMapped {
  /** The op applied. */
  readonly op: OpMap;
  /** The VA now in the tree. */
  readonly va: GpuVa;
  /** @internal */
  constructor(key: typeof tokenKey, op: OpMap, va: GpuVa) {
    if (key !== tokenKey) throw new TypeError('OpMapped is made only by GpuVm.applyMap');
    this.op = op;
    this.va = va;
  }
}

/** Proof that an OpRemap was applied (`OpRemapped`). Only `vm.applyRemap` makes one. */
export class OpRemapped {
  /** The op applied. */
  readonly op: OpRemap;
  /** The VA removed from the tree (the Rust `GpuVaRemoved`): release it after the locked section. */
  readonly removed: GpuVa;
  /** The inserted left piece, if any. */
  readonly prev: GpuVa | null;
  /** The inserted right piece, if any. */
  readonly next: GpuVa | null;
  /** @internal */
  constructor(key: typeof tokenKey, op: OpRemap, removed: GpuVa, prev: GpuVa | null, next: GpuVa | null) {
    if (key !== tokenKey) throw new TypeError('OpRemapped is made only by GpuVm.applyRemap');
    this.op = op;
    this.removed = removed;
    this.prev = prev;
    this.next = next;
  }
}

/** Proof that an OpUnmap was applied (`OpUnmapped`). Only `vm.applyUnmap` makes one. */
export class OpUnmapped {
  /** The op applied. */
  readonly op: OpUnmap;
  /** The VA removed from the tree. */
  readonly removed: GpuVa;
  /** @internal */
  constructor(key: typeof tokenKey, op: OpUnmap, removed: GpuVa) {
    if (key !== tokenKey) throw new TypeError('OpUnmapped is made only by GpuVm.applyUnmap');
    this.op = op;
    this.removed = removed;
  }
}

/** @internal the key the GpuVm apply helpers use to mint tokens. */
export const opTokenKey: typeof tokenKey = tokenKey;
