// SPDX-License-Identifier: MIT
// The split/merge walk's cursor: the VAs overlapping a request [addr, end) in address order, each compared
// with the request's bounds. While the request lies below 2^53 the comparisons run on the leaf keys, which
// are exact then (see u64-key.ts), so deciding a case never loads the VA's bigints: in a large tree the VA
// and each of its bigints are a cache miss apiece, and most VAs a request meets are only unmapped whole.
// A request reaching 2^53 or past compares the bigints.
import type { GpuVa } from './gpuva.js';
import { EXACT_LIMIT, keyOf } from './u64-key.js';
import { END, ID, STRIDE, type VaLeaf, type VaTree } from './va-tree.js';

/** @internal */
export class VaWalk {
  /** The current VA; null once the walk is past the request. */
  va: GpuVa | null = null;
  private leaf: VaLeaf | null = null;
  private index = 0;
  private addr = 0n;
  private end = 0n;
  private addrKey = 0;
  private endKey = 0;
  private exact = true;

  constructor(private readonly tree: VaTree) {}

  /** Starts at the first VA overlapping [addr, end); `end` is below 2^64 (a validated request). */
  start(addr: bigint, end: bigint): this {
    this.addr = addr;
    this.end = end;
    this.addrKey = keyOf(addr);
    this.endKey = keyOf(end);
    this.exact = this.endKey < EXACT_LIMIT;
    const tree = this.tree;
    if (tree.locateOverlap(addr, this.addrKey, end, this.endKey)) this.settle(tree.foundLeaf, tree.foundIndex);
    else this.settle(null, 0);
    return this;
  }

  /** Negative, zero or positive as the current VA starts before, at or after the request's start. */
  startVsAddr(): number {
    if (this.exact) return ((this.leaf as VaLeaf).slots[STRIDE * this.index] as number) - this.addrKey;
    const start = (this.va as GpuVa).addr;
    return start < this.addr ? -1 : start === this.addr ? 0 : 1;
  }

  /**
   * Negative, zero or positive as the current VA ends before, at or after the request's end. On keys: the
   * stored end key is exact below 2^53, and at or past it the VA's end is too, past the request's end.
   */
  endVsEnd(): number {
    if (this.exact) return ((this.leaf as VaLeaf).slots[STRIDE * this.index + END] as number) - this.endKey;
    const va = this.va as GpuVa;
    const end = va.addr + va.range;
    return end < this.end ? -1 : end === this.end ? 0 : 1;
  }

  /** The VA after the current one in address order, overlapping or not, without moving. */
  peek(): GpuVa | null {
    const leaf = this.leaf as VaLeaf;
    const i = this.index + 1;
    if (i < leaf.count) return leaf.table[leaf.slots[STRIDE * i + ID] as number] as GpuVa;
    const next = leaf.next;
    return next === null || next.count === 0 ? null : next.table[next.slots[ID] as number] as GpuVa;
  }

  /** Moves to the next VA (the walk ends past the request). */
  advance(): void {
    const leaf = this.leaf as VaLeaf;
    const i = this.index + 1;
    if (i < leaf.count) this.settle(leaf, i);
    else this.settle(leaf.next, 0);
  }

  /** Moves to `va`, in the tree, after the tree changed under the walk (a step applied its op); null ends it. */
  moveTo(va: GpuVa | null): void {
    if (va === null) this.settle(null, 0);
    else this.settle(va.leaf as VaLeaf, this.tree.indexInLeaf(va));
  }

  // Makes index i of `leaf` current if a VA there starts before the request's end; else ends the walk.
  private settle(leaf: VaLeaf | null, i: number): void {
    if (leaf !== null && i < leaf.count) {
      const va = leaf.table[leaf.slots[STRIDE * i + ID] as number] as GpuVa;
      if (this.exact ? (leaf.slots[STRIDE * i] as number) < this.endKey : va.addr < this.end) {
        this.leaf = leaf;
        this.index = i;
        this.va = va;
        return;
      }
    }
    this.leaf = null;
    this.va = null;
  }
}
