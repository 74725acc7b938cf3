// SPDX-License-Identifier: MIT
// A VA allocator: the piece userspace drivers keep beside the kernel's GPUVM (Mesa's util_vma_heap), because
// the kernel only checks that a requested range is free and never picks one. The heap is the set of free
// ranges ("holes") of [start, start+size); allocating carves a range out of a hole, freeing puts it back and
// merges it with its neighbours, so two holes never touch.
//
// The holes live in a treap ordered by address, each node also keeping the longest hole of its subtree.
// That bound prunes every subtree whose holes are all too short, so with n holes:
//   free, allocAt                  O(log n) expected
//   alloc                          O(log n + k) expected, k = holes long enough for `size` that still fail
//                                  because of the alignment or the window (none when every hole of length
//                                  >= size + alignment - 1 in the window fits, which is the common case)
//   memory                         one node per hole
// Treap priorities come from a fixed-seed generator: the same calls build the same tree on every run.
//
// It sits in lib/gpuvm although the kernel's drm_gpuvm has no allocator: it is pure and synchronous like the
// model, is built from a GpuVm's VAs (fromGpuVm), and touches no device, lock or backend, so any layer that
// may use the model may use it (it needs nothing beyond lib/u64 and lib/arg-errors, as the rest of lib/gpuvm).
import { assertOptionsObject, invalidArgValue, outOfRange } from '../arg-errors.js';
import { toU64, U64_LIMIT, type U64Like } from '../u64.js';
import type { GpuVm } from './gpuvm.js';

/** Which end of the window an allocation is taken from. */
export type VaHeapDirection = 'bottom-up' | 'top-down';

/** Where and how {@link VaHeap.alloc} looks for a free range. */
export interface VaHeapAllocOptions {
  /**
   * `'top-down'` (the default, as util_vma_heap's `alloc_high`) returns the highest fitting address,
   * `'bottom-up'` the lowest.
   */
  direction?: VaHeapDirection;
  /** Only ranges inside [start, start+size) are considered; it must lie inside the heap. Default: the heap. */
  window?: { start: U64Like; size: U64Like };
}

/** A free range of the heap, [start, start+size). */
export interface VaHole {
  /** First free address. */
  start: bigint;
  /** Free bytes from there. */
  size: bigint;
}

/** Codes of {@link VaHeapError}. */
export type VaHeapErrorCode =
  /** `free` named a range that is free in part or in whole: a double free, or a range never allocated. */
  'ERR_VA_HEAP_NOT_ALLOCATED';

/** A request that conflicts with the heap's state (as opposed to a malformed argument, a RangeError). */
export class VaHeapError extends Error {
  /** Which rule the request broke. */
  readonly code: VaHeapErrorCode;

  constructor(code: VaHeapErrorCode, message: string) {
    super(message);
    this.name = 'VaHeapError';
    this.code = code;
  }
}

interface HoleNode {
  start: bigint;
  end: bigint;
  priority: number;
  left: HoleNode | null;
  right: HoleNode | null;
  /** The longest hole in this subtree. */
  longest: bigint;
}

/**
 * A VA allocator over [start, start+size): finds free ranges of a given size and power-of-two alignment,
 * top-down or bottom-up, optionally inside a window. All values are exact u64 (bigint; a number is accepted
 * while it is a safe integer). A refused call changes nothing.
 */
export class VaHeap {
  /** First address managed by the heap. */
  readonly start: bigint;
  /** Number of addresses managed by the heap. */
  readonly size: bigint;
  #root: HoleNode | null = null;
  #holeCount = 0;
  #freeSize = 0n;
  #seed = 0x9e3779b9;

  /** An empty heap: all of [start, start+size) is free. `start + size` may be 2^64 but not more. */
  constructor(start: U64Like, size: U64Like) {
    this.start = toU64(start, 'start');
    this.size = toU64(size, 'size');
    if (this.size === 0n) throw outOfRange('size', 'a non-zero size', size);
    if (this.start + this.size > U64_LIMIT) throw outOfRange('size', 'a size that keeps start + size <= 2^64', size);
    this.#insert(this.start, this.start + this.size);
  }

  /**
   * A heap whose free ranges are the gaps of `vm` now: its VA space minus its mappings and its reserved
   * node. Later changes to `vm` are not tracked; free what an unmap released, allocAt what a map took.
   */
  static fromGpuVm(vm: GpuVm): VaHeap {
    const heap = new VaHeap(vm.start, vm.range);
    // Rebuilt in one pass over the sorted VAs (the reserved node is one of them, as in the kernel's
    // drm_gpuvm_for_each_va) rather than carving each VA out of the full heap.
    heap.#root = null;
    heap.#holeCount = 0;
    heap.#freeSize = 0n;
    let cursor = heap.start;
    for (const va of vm.vas()) {
      if (va.addr > cursor) heap.#insert(cursor, va.addr);
      cursor = va.addr + va.range;
    }
    if (cursor < heap.start + heap.size) heap.#insert(cursor, heap.start + heap.size);
    return heap;
  }

  /** Number of free addresses. */
  get freeSize(): bigint {
    return this.#freeSize;
  }

  /** Number of holes (maximal free ranges). */
  get holeCount(): number {
    return this.#holeCount;
  }

  /**
   * Allocates `size` addresses aligned to `alignment` (a power of two) and returns the first address, or
   * null when no free range fits. Throws a RangeError (code ERR_OUT_OF_RANGE) for a zero size, an alignment
   * that is not a power of two, or a window that is empty or not inside the heap.
   */
  alloc(size: U64Like, alignment: U64Like, options: VaHeapAllocOptions = {}): bigint | null {
    const length = toU64(size, 'size');
    if (length === 0n) throw outOfRange('size', 'a non-zero size', size);
    const align = toU64(alignment, 'alignment');
    if (align === 0n || (align & (align - 1n)) !== 0n) {
      throw outOfRange('alignment', 'a power of two', alignment);
    }
    assertOptionsObject(options);
    const direction = options.direction ?? 'top-down';
    if (direction !== 'top-down' && direction !== 'bottom-up') {
      throw invalidArgValue('options.direction', direction, "must be 'top-down' or 'bottom-up'");
    }
    let low = this.start;
    let high = this.start + this.size;
    if (options.window !== undefined) {
      low = toU64(options.window.start, 'options.window.start');
      const windowSize = toU64(options.window.size, 'options.window.size');
      if (windowSize === 0n) throw outOfRange('options.window.size', 'a non-zero size', options.window.size);
      high = low + windowSize;
      if (low < this.start || high > this.start + this.size) {
        throw outOfRange('options.window', `a range inside the heap [0x${this.start.toString(16)}, 0x${(this.start + this.size).toString(16)})`,
          `[0x${low.toString(16)}, 0x${high.toString(16)})`);
      }
    }
    const search = { length, align, low, high };
    const found = direction === 'bottom-up' ? lowestFit(this.#root, search) : highestFit(this.#root, search);
    if (found === null) return null;
    this.#carve(found, found + length);
    return found;
  }

  /**
   * Allocates exactly [addr, addr+size) (util_vma_heap_alloc_addr) and returns true, or returns false and
   * changes nothing when part of it is not free. Throws a RangeError for a zero size or a range outside
   * the heap.
   */
  allocAt(addr: U64Like, size: U64Like): boolean {
    const [start, end] = this.#checkRange(addr, size);
    const hole = this.#holeAtOrBefore(start);
    if (hole === null || hole.end < end) return false;
    this.#carve(start, end);
    return true;
  }

  /**
   * Returns [addr, addr+size) to the heap. The range must be inside the heap and wholly allocated: any part
   * already free means a double free or a range never allocated, and throws a {@link VaHeapError}
   * (code ERR_VA_HEAP_NOT_ALLOCATED) without changing anything. Any allocated sub-range may be freed, as
   * with util_vma_heap (a heap built from a VM frees what an unmap released).
   */
  free(addr: U64Like, size: U64Like): void {
    const [start, end] = this.#checkRange(addr, size);
    const before = this.#holeBefore(end);
    if (before !== null && before.end > start) {
      throw new VaHeapError('ERR_VA_HEAP_NOT_ALLOCATED',
        `Cannot free [0x${start.toString(16)}, 0x${end.toString(16)}): ` +
        `[0x${max(before.start, start).toString(16)}, 0x${min(before.end, end).toString(16)}) is free already ` +
        '(a double free, or a range that was never allocated)');
    }
    let mergedStart = start;
    let mergedEnd = end;
    if (before !== null && before.end === start) {
      mergedStart = before.start;
      this.#remove(before.start);
    }
    const after = this.#holeAtOrBefore(end);
    if (after !== null && after.start === end) {
      mergedEnd = after.end;
      this.#remove(after.start);
    }
    this.#insert(mergedStart, mergedEnd);
  }

  /** The holes in ascending address order. */
  *holes(): IterableIterator<VaHole> {
    const stack: HoleNode[] = [];
    let node = this.#root;
    while (node !== null || stack.length > 0) {
      while (node !== null) {
        stack.push(node);
        node = node.left;
      }
      const top = stack.pop()!;
      yield { start: top.start, size: top.end - top.start };
      node = top.right;
    }
  }

  #checkRange(addr: U64Like, size: U64Like): [bigint, bigint] {
    const start = toU64(addr, 'addr');
    const length = toU64(size, 'size');
    if (length === 0n) throw outOfRange('size', 'a non-zero size', size);
    const end = start + length;
    if (start < this.start || end > this.start + this.size) {
      throw outOfRange('addr', `a range inside the heap [0x${this.start.toString(16)}, 0x${(this.start + this.size).toString(16)})`,
        `[0x${start.toString(16)}, 0x${end.toString(16)})`);
    }
    return [start, end];
  }

  /** Takes [start, end) out of the hole that contains it. */
  #carve(start: bigint, end: bigint): void {
    const hole = this.#holeAtOrBefore(start)!;
    const holeStart = hole.start;
    const holeEnd = hole.end;
    this.#remove(holeStart);
    if (holeStart < start) this.#insert(holeStart, start);
    if (end < holeEnd) this.#insert(end, holeEnd);
  }

  /** The hole with the greatest start <= addr. */
  #holeAtOrBefore(addr: bigint): HoleNode | null {
    return this.#holeBefore(addr + 1n);
  }

  /** The hole with the greatest start < addr. */
  #holeBefore(addr: bigint): HoleNode | null {
    let best: HoleNode | null = null;
    let node = this.#root;
    while (node !== null) {
      if (node.start < addr) {
        best = node;
        node = node.right;
      } else {
        node = node.left;
      }
    }
    return best;
  }

  #insert(start: bigint, end: bigint): void {
    const node: HoleNode = { start, end, priority: this.#nextPriority(), left: null, right: null, longest: end - start };
    const [lower, upper] = split(this.#root, start);
    this.#root = merge(merge(lower, node), upper);
    this.#holeCount++;
    this.#freeSize += end - start;
  }

  #remove(start: bigint): void {
    const [lower, rest] = split(this.#root, start);
    const [found, upper] = split(rest, start + 1n);
    this.#root = merge(lower, upper);
    this.#holeCount--;
    this.#freeSize -= found!.end - found!.start;
  }

  /** xorshift32: cheap, deterministic treap priorities. */
  #nextPriority(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}

interface FitSearch {
  length: bigint;
  align: bigint;
  low: bigint;
  high: bigint;
}

/** The lowest aligned address where `length` fits in a hole inside [low, high), or null. */
function lowestFit(node: HoleNode | null, s: FitSearch): bigint | null {
  if (node === null || node.longest < s.length) return null;
  // Holes of the left subtree end at or before node.start; they matter only if that is above the window's low.
  if (node.start > s.low) {
    const left = lowestFit(node.left, s);
    if (left !== null) return left;
  }
  const from = max(node.start, s.low);
  const to = min(node.end, s.high);
  const addr = (from + s.align - 1n) & ~(s.align - 1n);
  if (addr + s.length <= to) return addr;
  return node.end < s.high ? lowestFit(node.right, s) : null;
}

/** The highest aligned address where `length` fits in a hole inside [low, high), or null. */
function highestFit(node: HoleNode | null, s: FitSearch): bigint | null {
  if (node === null || node.longest < s.length) return null;
  if (node.end < s.high) {
    const right = highestFit(node.right, s);
    if (right !== null) return right;
  }
  const from = max(node.start, s.low);
  const to = min(node.end, s.high);
  if (to - from >= s.length) {
    const addr = (to - s.length) & ~(s.align - 1n);
    if (addr >= from) return addr;
  }
  return node.start > s.low ? highestFit(node.left, s) : null;
}

function pull(node: HoleNode): HoleNode {
  let longest = node.end - node.start;
  if (node.left !== null && node.left.longest > longest) longest = node.left.longest;
  if (node.right !== null && node.right.longest > longest) longest = node.right.longest;
  node.longest = longest;
  return node;
}

/** Splits a treap into the holes that start below `key` and the rest. */
function split(node: HoleNode | null, key: bigint): [HoleNode | null, HoleNode | null] {
  if (node === null) return [null, null];
  if (node.start < key) {
    const [lower, upper] = split(node.right, key);
    node.right = lower;
    return [pull(node), upper];
  }
  const [lower, upper] = split(node.left, key);
  node.left = upper;
  return [lower, pull(node)];
}

/** Joins two treaps where every hole of `a` lies below every hole of `b`. */
function merge(a: HoleNode | null, b: HoleNode | null): HoleNode | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return pull(a);
  }
  b.left = merge(a, b.left);
  return pull(b);
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
