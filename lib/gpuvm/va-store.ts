// SPDX-License-Identifier: MIT
// Where a VA tree keeps its VAs by id: the table from id to GpuVa, and beside it each VA's start, length and
// GEM offset as three u64s in BigUint64Array pages. A VA in a tree holds no bigint of its own: its `addr`,
// `range` and `offset` getters read the store, which makes a fresh bigint (an inline allocation, about 5 ns
// here, where Number -> BigInt is a runtime call of about 45 ns).
//
// Why: a mapping lives for thousands of requests, so whatever it references is copied by the scavenger and
// promoted, then found dead by the next full GC. Three bigints of 24 bytes each doubled what every mapping
// cost the GC, and in the steady 10k replay the collector ran about a third of all instructions. Values in
// a typed array are neither copied nor marked, and they take 24 bytes a mapping instead of 72 plus the
// three field slots.
//
// Pages of PAGE_IDS ids rather than one array that doubles: a doubling array holds up to twice what it
// needs (48 MB for 1.06M mappings) and copies everything on each growth.
import type { GpuVa } from './gpuva.js';

/** u64 values per VA id: start, length, GEM offset. */
const VALUES = 3;
const PAGE_BITS = 10;
const PAGE_IDS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_IDS - 1;

/** The values a VA in no tree keeps itself (a tree's VA keeps none: they are in the tree's store). @internal */
export class VaValues {
  constructor(
    readonly addr: bigint,
    readonly range: bigint,
    readonly offset: bigint,
  ) {}
}

/** The VAs of one tree by id, with their u64 values. @internal */
export class VaStore {
  /** The VA of each id; a released id's slot is null until it is reused. */
  readonly table: (GpuVa | null)[] = [];
  private readonly pages: BigUint64Array[] = [];
  private readonly freeIds: number[] = [];

  /** Gives `va` an id and stores its values there; returns the id. Values must be u64 (they are not checked). */
  add(va: GpuVa, addr: bigint, range: bigint, offset: bigint): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop() as number : this.table.length;
    const page = id >>> PAGE_BITS;
    if (page === this.pages.length) this.pages.push(new BigUint64Array(VALUES * PAGE_IDS));
    const values = this.pages[page] as BigUint64Array;
    const at = VALUES * (id & PAGE_MASK);
    values[at] = addr;
    values[at + 1] = range;
    values[at + 2] = offset;
    this.table[id] = va;
    return id;
  }

  /** Frees `id` for reuse; returns the values it held, for the VA that leaves the tree to keep. */
  release(id: number): VaValues {
    const values = this.pages[id >>> PAGE_BITS] as BigUint64Array;
    const at = VALUES * (id & PAGE_MASK);
    this.table[id] = null;
    this.freeIds.push(id);
    return new VaValues(values[at] as bigint, values[at + 1] as bigint, values[at + 2] as bigint);
  }

  /** The start address stored for `id`. */
  addrOf(id: number): bigint {
    return (this.pages[id >>> PAGE_BITS] as BigUint64Array)[VALUES * (id & PAGE_MASK)] as bigint;
  }

  /** The length stored for `id`. */
  rangeOf(id: number): bigint {
    return (this.pages[id >>> PAGE_BITS] as BigUint64Array)[VALUES * (id & PAGE_MASK) + 1] as bigint;
  }

  /** The GEM offset stored for `id`. */
  offsetOf(id: number): bigint {
    return (this.pages[id >>> PAGE_BITS] as BigUint64Array)[VALUES * (id & PAGE_MASK) + 2] as bigint;
  }
}
