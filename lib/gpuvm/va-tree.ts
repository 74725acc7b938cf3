// SPDX-License-Identifier: MIT
// The VM's address-ordered VA tree, the job of the kernel's interval tree plus its sorted rb.list.
// Mappings never overlap, so ordering by start address answers every interval query: the first VA
// overlapping [a, e) is the last VA starting at or before a (if it reaches past a), else the next one
// (if it starts before e).
//
// Shape: a two-level B+tree. Leaves hold up to LEAF_MAX VAs in address order; a top index holds one
// separator per leaf (every VA of leaf j starts at or after separator j and before separator j+1).
// Search runs on Float64Array copies of the start addresses, which keeps it in a few cache lines
// instead of two dependent loads (node, then its bigint) per level: lookups took about half the time of
// a red-black tree of GpuVa nodes at 100k mappings on this machine. Doubles round u64 values, but rounding is
// monotonic, so a double comparison is exact except between equal doubles, and those ties are settled
// on the exact bigint. Each GpuVa points at its leaf, which gives O(1) membership and cheap neighbours.
//
// Leaves hold small integer ids of their VAs, not the VAs: the tree's table maps an id to its VA. Shifting a
// leaf on insert and remove is then a plain memmove of numbers. Shifting an array of objects (splice) paid
// a write barrier per moved pointer and allocated the array splice returns: about 450 ns per remove +
// insert pair against 50 ns for the numbers, measured on this machine. A leaf keeps each VA's start key,
// end key and id side by side in one Float64Array, so a shift is one copyWithin (a call into the runtime,
// about 30 ns here whatever it moves), not one per array.
import type { GpuVa } from './gpuva.js';
import type { GpuVm } from './gpuvm.js';
import { U64_LIMIT } from '../u64.js';
import { EXACT_LIMIT, keyOf, TWO_POW_64 } from './u64-key.js';

/** Most VAs a leaf holds; a full leaf splits in two. */
const LEAF_MAX = 128;
/** A leaf below this many VAs is merged into a neighbour that has room. */
const LEAF_MIN = LEAF_MAX / 4;
/** Most dropped leaves kept for reuse (a tree that shrinks for good does not hold on to more). */
const SPARE_LEAVES = 8;
/** Doubles per VA in a leaf's `slots`: start key, end key, id. @internal */
export const STRIDE = 3;
/** Offset of the end key in a VA's entry. @internal */
export const END = 1;
/** Offset of the id in a VA's entry. @internal */
export const ID = 2;

/** A run of VAs in address order. @internal */
export class VaLeaf {
  /**
   * Per VA, in address order, STRIDE doubles: at STRIDE*i the start address (the search key), at
   * STRIDE*i+END the end address as the double sum of the start's key and the range's, at STRIDE*i+ID the
   * VA's id (its index in `table`). The end is exact while below 2^53, so the overlap test needs no look at
   * the VA (a cache miss) nor a bigint sum (an allocation). The first `count` entries are in use.
   */
  readonly slots = new Float64Array(STRIDE * LEAF_MAX);
  /** How many VAs the leaf holds. */
  count = 0;
  /** Exact separator: every VA here starts at or after it (0n for the first leaf). */
  sep: bigint;
  /** keyOf(sep). */
  sepKey: number;
  /** Neighbouring leaves, for walking in address order. */
  prev: VaLeaf | null = null;
  /** @see prev */
  next: VaLeaf | null = null;
  /** True while a merge has dropped this leaf from the tree (until a split reuses it), so a remembered leaf can be told stale. */
  dropped = false;

  constructor(
    /** The VM whose tree this leaf belongs to. */
    readonly vm: GpuVm,
    /** The tree's table of VAs by id, shared by all its leaves. */
    readonly table: (GpuVa | null)[],
    sep: bigint,
  ) {
    this.sep = sep;
    this.sepKey = keyOf(sep);
  }
}

// The VA at index i of a leaf.
function vaAt(leaf: VaLeaf, i: number): GpuVa {
  return leaf.table[leaf.slots[STRIDE * i + ID] as number] as GpuVa;
}

/** An ordered set of non-overlapping GpuVas. */
export class VaTree {
  /** How many VAs the tree holds. */
  size = 0;
  // The top index: separator keys in order, and beside them the id (index in leafById) of each leaf.
  // Both are typed arrays so that a leaf split or merge shifts them with a memmove: shifting JS arrays of
  // ~10^4 leaves (a write barrier per element) took ~100 us per split at 1M mappings.
  private sepKeys = new Float64Array(64);
  private leafIds = new Int32Array(64);
  private leafCount = 1;
  private readonly leafById: (VaLeaf | null)[];
  private readonly freeIds: number[] = [];
  // Leaves merges dropped, for the next splits: a new leaf allocates two ArrayBuffers, a C++ allocation
  // each, and in a tree of steady size splits and merges come in turn.
  private readonly spareLeaves: VaLeaf[] = [];
  private readonly firstLeaf: VaLeaf;
  // The VAs by id (GpuVa.treeId); a removed VA's slot is null until its id is reused.
  private readonly table: (GpuVa | null)[] = [];
  private readonly freeVaIds: number[] = [];
  // The leaf the last search landed in. A map request looks up its address twice (the walk's first
  // overlap, then the insert), and the second lookup is answered here without the top-level search.
  private lastLeaf: VaLeaf;
  // The separator keys around lastLeaf, [lastLowKey, lastHighKey), valid while `reshapes` (splits and
  // merges, the only changes to separators) still equals lastStamp. For keys below 2^53 they answer the
  // lastLeaf test on numbers held here, where the bigint test loads the leaf, its neighbour and both
  // separators: cache misses in a large tree, paid by every request whose address lies elsewhere.
  private lastLowKey = 0;
  private lastHighKey = Infinity;
  private lastStamp = 0;
  private reshapes = 0;
  /**
   * @internal where the last locateOverlap that returned true found its VA (the leaf and the index in it),
   * read right after the search; inserts and removes move it on to the entry after the change.
   */
  foundLeaf: VaLeaf;
  /** @internal */
  foundIndex = 0;
  // A guess at where the next insert goes: after the floor of the last search's address, or next to the
  // last insert or remove. Insert checks the guess against the neighbouring keys (and separators) before
  // it takes it, so a stale guess only costs the search it failed to save. Op lists are in address order:
  // a map request searches its address in the walk and inserts it in apply, and a remap's piece goes where
  // the VA it replaces was. Remove likewise first tries foundIndex (set by the search, and moved along by
  // every insert and remove) before it scans the leaf's ids.
  private hintLeaf: VaLeaf;
  private hintIndex = 0;

  constructor(vm: GpuVm) {
    this.firstLeaf = new VaLeaf(vm, this.table, 0n);
    this.leafById = [this.firstLeaf];
    this.lastLeaf = this.firstLeaf;
    this.foundLeaf = this.firstLeaf;
    this.hintLeaf = this.firstLeaf;
  }

  /** The first VA overlapping [addr, end), or null. `end` may be 2^64; an empty interval overlaps nothing. */
  firstOverlap(addr: bigint, end: bigint): GpuVa | null {
    if (!this.locateOverlap(addr, keyOf(addr), end, end < U64_LIMIT ? keyOf(end) : TWO_POW_64)) return null;
    return vaAt(this.foundLeaf, this.foundIndex);
  }

  /**
   * Finds the first VA overlapping [addr, end) (`key`, `endKey`: their keys, TWO_POW_64 for an end of 2^64);
   * if there is one, returns true with its place in foundLeaf and foundIndex.
   * @internal
   */
  locateOverlap(addr: bigint, key: number, end: bigint, endKey: number): boolean {
    if (endKey <= key && (endKey < EXACT_LIMIT || end <= addr)) return false;
    const leaf = this.leafFor(addr, key);
    const i = floorIndex(leaf, addr, key);
    this.hintLeaf = leaf;
    this.hintIndex = i + 1;
    if (i >= 0) {
      if (reachesPast(leaf, i, addr, key)) return this.found(leaf, i);
    } else {
      // Nothing in this leaf starts at or before addr: the floor, if any, ends the previous leaf.
      const prev = leaf.prev;
      if (prev !== null && prev.count > 0 && reachesPast(prev, prev.count - 1, addr, key)) return this.found(prev, prev.count - 1);
    }
    // Else the first VA starting after addr overlaps if it starts before end.
    let at: VaLeaf | null = leaf;
    let j = i + 1;
    if (j === leaf.count) {
      at = leaf.next;
      j = 0;
    }
    if (at === null || j >= at.count) return false;
    return startsBefore(at, j, end, endKey) && this.found(at, j);
  }

  private found(leaf: VaLeaf, index: number): true {
    this.foundLeaf = leaf;
    this.foundIndex = index;
    return true;
  }

  /** The lowest-address VA, or null. */
  first(): GpuVa | null {
    return firstOf(this.firstLeaf);
  }

  /** The VA after `va` in address order, or null. */
  next(va: GpuVa): GpuVa | null {
    const leaf = va.leaf as VaLeaf;
    const i = indexOf(leaf, va);
    return i + 1 < leaf.count ? vaAt(leaf, i + 1) : firstOf(leaf.next);
  }

  /** The VA before `va` in address order, or null. */
  prev(va: GpuVa): GpuVa | null {
    const leaf = va.leaf as VaLeaf;
    const i = indexOf(leaf, va);
    if (i > 0) return vaAt(leaf, i - 1);
    const before = leaf.prev;
    return before === null || before.count === 0 ? null : vaAt(before, before.count - 1);
  }

  /** Links `va` in by its address. The caller has checked that it overlaps nothing. */
  insert(va: GpuVa): void {
    const addr = va.addr;
    const key = keyOf(addr);
    let leaf: VaLeaf;
    let at: number;
    if (key < EXACT_LIMIT && fitsAt(this.hintLeaf, this.hintIndex, key)) {
      leaf = this.hintLeaf;
      at = this.hintIndex;
    } else {
      leaf = this.leafFor(addr, key);
      if (leaf.count === LEAF_MAX) {
        const right = this.split(leaf);
        if (addr >= right.sep) leaf = right;
      }
      at = floorIndex(leaf, addr, key) + 1;
    }
    const count = leaf.count;
    const slots = leaf.slots;
    if (at < count) slots.copyWithin(STRIDE * (at + 1), STRIDE * at, STRIDE * count);
    const id = this.freeVaIds.length > 0 ? this.freeVaIds.pop() as number : this.table.length;
    this.table[id] = va;
    slots[STRIDE * at] = key;
    slots[STRIDE * at + END] = key + keyOf(va.range);
    slots[STRIDE * at + ID] = id;
    leaf.count = count + 1;
    va.treeId = id;
    va.leaf = leaf;
    this.size++;
    this.hintLeaf = leaf;
    this.hintIndex = at + 1;
    this.foundLeaf = leaf;
    this.foundIndex = at + 1;
  }

  /** @internal the index of `va` (in this tree) in its leaf. */
  indexInLeaf(va: GpuVa): number {
    return indexOf(va.leaf as VaLeaf, va);
  }

  /** Unlinks `va`, which must be in this tree. */
  remove(va: GpuVa): void {
    const leaf = va.leaf as VaLeaf;
    const found = this.foundIndex;
    const at = leaf === this.foundLeaf && found < leaf.count && leaf.slots[STRIDE * found + ID] === va.treeId ? found : indexOf(leaf, va);
    const count = leaf.count;
    if (at < count - 1) leaf.slots.copyWithin(STRIDE * at, STRIDE * (at + 1), STRIDE * count);
    leaf.count = count - 1;
    this.table[va.treeId] = null;
    this.freeVaIds.push(va.treeId);
    va.treeId = -1;
    va.leaf = null;
    this.size--;
    this.hintLeaf = leaf;
    this.hintIndex = at;
    this.foundLeaf = leaf;
    this.foundIndex = at;
    if (count - 1 < LEAF_MIN) this.rebalance(leaf);
  }

  // The leaf whose separator range holds addr (`key` is keyOf(addr)): the last leaf with separator <= addr.
  private leafFor(addr: bigint, key: number): VaLeaf {
    if (key < this.lastHighKey && key >= this.lastLowKey && key < EXACT_LIMIT && this.lastStamp === this.reshapes) {
      return this.lastLeaf;
    }
    const last = this.lastLeaf;
    if (key >= EXACT_LIMIT && !last.dropped && last.sep <= addr && (last.next === null || addr < last.next.sep)) return last;
    const n = this.leafCount;
    const keys = this.sepKeys;
    let lo = lowerBound(keys, n, key);
    // Separators before lo are below addr; among equal doubles, compare exactly.
    while (lo < n && (keys[lo] as number) === key && (key < EXACT_LIMIT || this.leafAt(lo).sep <= addr)) lo++;
    const at = lo === 0 ? 0 : lo - 1;
    const leaf = this.leafAt(at);
    this.lastLeaf = leaf;
    this.lastLowKey = keys[at] as number;
    this.lastHighKey = at + 1 < n ? keys[at + 1] as number : Infinity;
    this.lastStamp = this.reshapes;
    return leaf;
  }

  private leafAt(index: number): VaLeaf {
    return this.leafById[this.leafIds[index] as number] as VaLeaf;
  }

  private topIndex(leaf: VaLeaf): number {
    let lo = lowerBound(this.sepKeys, this.leafCount, keyOf(leaf.sep));
    while (this.leafAt(lo) !== leaf) lo++;
    return lo;
  }

  // Moves the upper half of a full leaf into a new leaf placed right after it; returns the new leaf.
  private split(leaf: VaLeaf): VaLeaf {
    const half = LEAF_MAX >>> 1;
    const count = leaf.count;
    const sep = vaAt(leaf, half).addr;
    const right = this.spareLeaves.pop() ?? new VaLeaf(leaf.vm, this.table, sep);
    right.sep = sep;
    right.sepKey = keyOf(sep);
    right.dropped = false;
    right.slots.set(leaf.slots.subarray(STRIDE * half, STRIDE * count));
    right.count = count - half;
    leaf.count = half;
    for (let k = 0; k < right.count; k++) vaAt(right, k).leaf = right;
    right.prev = leaf;
    right.next = leaf.next;
    if (leaf.next !== null) leaf.next.prev = right;
    leaf.next = right;
    const at = this.topIndex(leaf) + 1;
    const n = this.leafCount;
    if (n === this.sepKeys.length) {
      const keys = new Float64Array(n * 2);
      keys.set(this.sepKeys);
      this.sepKeys = keys;
      const ids = new Int32Array(n * 2);
      ids.set(this.leafIds);
      this.leafIds = ids;
    }
    this.sepKeys.copyWithin(at + 1, at, n);
    this.sepKeys[at] = keyOf(right.sep);
    this.leafIds.copyWithin(at + 1, at, n);
    const id = this.freeIds.pop() ?? this.leafById.length;
    this.leafById[id] = right;
    this.leafIds[at] = id;
    this.leafCount = n + 1;
    this.reshapes++;
    return right;
  }

  // Keeps leaves from thinning out: an underfull leaf merges into a neighbour when both fit in 3/4 of
  // a leaf (so a merge is not undone by the next insert), and an empty leaf always goes.
  private rebalance(leaf: VaLeaf): void {
    const count = leaf.count;
    const limit = (LEAF_MAX * 3) >>> 2;
    if (leaf.next !== null && (count === 0 || count + leaf.next.count <= limit)) {
      this.absorbNext(leaf);
    } else if (leaf.prev !== null && (count === 0 || count + leaf.prev.count <= limit)) {
      this.absorbNext(leaf.prev);
    }
  }

  // Appends the next leaf's VAs to `leaf` and drops the next leaf; `leaf` inherits its separator range.
  private absorbNext(leaf: VaLeaf): void {
    const gone = leaf.next as VaLeaf;
    const base = leaf.count;
    leaf.slots.set(gone.slots.subarray(0, STRIDE * gone.count), STRIDE * base);
    leaf.count = base + gone.count;
    for (let k = base; k < leaf.count; k++) vaAt(leaf, k).leaf = leaf;
    leaf.next = gone.next;
    if (gone.next !== null) gone.next.prev = leaf;
    gone.dropped = true;
    gone.prev = null;
    gone.next = null;
    if (this.spareLeaves.length < SPARE_LEAVES) this.spareLeaves.push(gone);
    const at = this.topIndex(gone);
    const n = this.leafCount;
    const id = this.leafIds[at] as number;
    this.leafById[id] = null;
    this.freeIds.push(id);
    this.sepKeys.copyWithin(at, at + 1, n);
    this.leafIds.copyWithin(at, at + 1, n);
    this.leafCount = n - 1;
    this.reshapes++;
  }
}

// First index in keys[0, n) whose value is >= key (keys ascending).
function lowerBound(keys: Float64Array, n: number, key: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// First index i in [0, n) whose entry's start key, slots[STRIDE*i], is >= key (keys ascending).
function lowerBoundOfEntries(slots: Float64Array, n: number, key: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((slots[STRIDE * mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Whether the VA at index i of `leaf` ends past addr (whose key is `key`): addr < va.addr + va.range. A double
// sum of two keys below 2^53 is exact (a sum at or past 2^53 cannot round below it), and then so is the
// comparison (an addr of 2^53 or more is past that end either way); otherwise the exact bigint sum decides.
function reachesPast(leaf: VaLeaf, i: number, addr: bigint, key: number): boolean {
  const end = leaf.slots[STRIDE * i + END] as number;
  if (end < EXACT_LIMIT) return key < end;
  const va = vaAt(leaf, i);
  return addr < va.addr + va.range;
}

// Whether the VA at index i of `leaf` starts before `end` (whose key is `endKey`). Equal keys below 2^53 are
// equal values: a VA starting right at `end` (the usual neighbour) is told apart without loading it, a cache
// miss; only equal rounded keys need the exact bigint.
function startsBefore(leaf: VaLeaf, i: number, end: bigint, endKey: number): boolean {
  const startKey = leaf.slots[STRIDE * i] as number;
  if (startKey !== endKey || endKey < EXACT_LIMIT) return startKey < endKey;
  return vaAt(leaf, i).addr < end;
}

// Whether an exact `key` (below 2^53, of a VA overlapping nothing) goes at index `at` of `leaf`, where the
// search would put it: the leaf is in the tree and has room, the entry before `at` (or the leaf's separator)
// is below the key, and the entry at `at` (or the next leaf's separator) above it. Separators strictly
// increase and bound their leaves' entries, so no other leaf can be the search's answer then.
function fitsAt(leaf: VaLeaf, at: number, key: number): boolean {
  const count = leaf.count;
  if (leaf.dropped || count === LEAF_MAX || at > count) return false;
  const slots = leaf.slots;
  if (at === 0 ? leaf.sepKey > key : (slots[STRIDE * (at - 1)] as number) >= key) return false;
  if (at < count) return key < (slots[STRIDE * at] as number);
  return leaf.next === null || key < leaf.next.sepKey;
}

function firstOf(leaf: VaLeaf | null): GpuVa | null {
  return leaf === null || leaf.count === 0 ? null : vaAt(leaf, 0);
}

// Index of the last VA in `leaf` starting at or before addr (`key` is keyOf(addr)), or -1.
function floorIndex(leaf: VaLeaf, addr: bigint, key: number): number {
  const n = leaf.count;
  const slots = leaf.slots;
  let lo = lowerBoundOfEntries(slots, n, key);
  while (lo < n && (slots[STRIDE * lo] as number) === key && (key < EXACT_LIMIT || vaAt(leaf, lo).addr <= addr)) lo++;
  return lo - 1;
}

// Index of `va` in its leaf: a scan of the leaf's ids for va's. A binary search on va's key would first load
// va's address, a bigint elsewhere in memory (a cache miss in a large tree); the ids are in the leaf.
function indexOf(leaf: VaLeaf, va: GpuVa): number {
  const slots = leaf.slots;
  const id = va.treeId;
  let i = 0;
  while (slots[STRIDE * i + ID] !== id) i++;
  return i;
}
