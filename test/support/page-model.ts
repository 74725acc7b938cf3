// SPDX-License-Identifier: MIT
// Page-level reference model of drm_gpuvm for tests: the VM is an array of pages, each page remembers which
// mapping covers it and which BO byte it shows. Everything is read off the pages, so it is slow and plainly
// right: a mapping is a run of pages with one id, a request touches the mappings whose ids it finds, the keep
// hint compares page by page. Written from gpuvm-semantics.md §2 and the trace spec, not from lib/gpuvm.
import {
  wrapU64, type ReferenceModel, type RefError, type RefMapRequest, type RefOp, type RefResult, type RefVa,
  type RefVmConfig,
} from './reference-ops.js';

const U64_MAX = (1n << 64n) - 1n;
/** Enough pages for any VM a test builds; more only makes the model slower. */
const MAX_PAGES = 1 << 20;

interface Page {
  /** Which mapping covers the page; a new id for every mapping ever inserted, so neighbours never merge. */
  id: number;
  bo: string | null;
  /** The BO offset shown at this page (for sparse, the offset the kernel would carry along). */
  offset: bigint;
}

/**
 * A VM of `range / unit` pages starting at `start`. Requests inside the VM must be `unit`-aligned relative to
 * `start` (the model refuses anything else as a bug in the test); requests outside it may be anything,
 * including u64-edge values, since they are answered before any page is touched. `unit` 1 makes every
 * address representable, which is how the u64 edge of a tiny VM at the top of the address space is modelled.
 */
export class PageModel implements ReferenceModel {
  readonly #pages: (Page | undefined)[];
  readonly #reserved: boolean[];
  readonly #config: RefVmConfig;
  readonly #unit: bigint;
  #nextId = 1;

  constructor(config: RefVmConfig, unit: bigint) {
    if (unit <= 0n || config.range % unit !== 0n || config.range / unit > BigInt(MAX_PAGES)) {
      throw new Error(`page model cannot hold a VM of ${config.range} bytes in pages of ${unit}`);
    }
    if (config.start + config.range > U64_MAX) throw new Error('page model VM must end at or below 2^64-1');
    this.#config = config;
    this.#unit = unit;
    const count = Number(config.range / unit);
    this.#pages = new Array<Page | undefined>(count).fill(undefined);
    this.#reserved = new Array<boolean>(count).fill(false);
    if (config.reserve !== null && config.reserve.range !== 0n) {
      const [first, end] = this.#pageSpan(config.reserve.start, config.reserve.range);
      for (let p = first; p < end; p++) this.#reserved[p] = true;
    }
  }

  mappings(): RefVa[] {
    const out: RefVa[] = [];
    for (let p = 0; p < this.#pages.length;) {
      const page = this.#pages[p];
      if (page === undefined) { p++; continue; }
      const end = this.#runEnd(p);
      out.push({ addr: this.#addrOf(p), range: BigInt(end - p) * this.#unit, bo: page.bo, offset: page.offset });
      p = end;
    }
    return out;
  }

  map(req: RefMapRequest): RefResult {
    const error = this.#check(req.addr, req.range, req.bo, req.offset);
    if (error) return { error };
    const [first, end] = this.#pageSpan(req.addr, req.range);
    const ops: RefOp[] = [];
    for (const touched of this.#touchedRuns(first, end)) {
      const { start, stop, page } = touched;
      // keep: the old mapping shows, on every page the request covers, exactly the BO byte the request asks for.
      let keep = page.bo !== null && page.bo === req.bo;
      for (let p = Math.max(start, first); keep && p < Math.min(stop, end); p++) {
        keep = this.#pages[p]!.offset === wrapU64(req.offset + BigInt(p - first) * this.#unit);
      }
      ops.push(this.#opFor(start, stop, first, end, keep));
    }
    ops.push({ kind: 'map', va: { ...req } });
    this.#cutAround(first, end);
    const id = this.#nextId++;
    for (let p = first; p < end; p++) {
      this.#pages[p] = { id, bo: req.bo, offset: wrapU64(req.offset + BigInt(p - first) * this.#unit) };
    }
    return { ops };
  }

  unmap(addr: bigint, range: bigint): RefResult {
    const error = this.#check(addr, range, undefined, 0n);
    if (error) return { error };
    const [first, end] = this.#pageSpan(addr, range);
    const ops = this.#touchedRuns(first, end).map(({ start, stop }) => this.#opFor(start, stop, first, end, false));
    this.#cutAround(first, end);
    for (let p = first; p < end; p++) this.#pages[p] = undefined;
    return { ops };
  }

  /**
   * madvise (gpuvm-semantics.md §2.3) read off the pages: every sparse mapping the request cuts through is
   * split where the request's edges cross it, as a REMAP of the parts outside the request followed at once
   * by a MAP (sparse, offset 0) of the part inside. Mappings with a BO, and sparse ones the request covers
   * whole, give nothing.
   */
  madvise(addr: bigint, range: bigint): RefResult {
    const error = this.#check(addr, range, undefined, 0n);
    if (error) return { error };
    const [first, end] = this.#pageSpan(addr, range);
    const ops: RefOp[] = [];
    const cut: { start: number; stop: number }[] = [];
    for (const { start, stop, page } of this.#touchedRuns(first, end)) {
      if (page.bo !== null || (start >= first && stop <= end)) continue;
      const middle = { start: Math.max(start, first), stop: Math.min(stop, end) };
      ops.push(this.#opFor(start, stop, first, end, false));
      ops.push({ kind: 'map', va: { addr: this.#addrOf(middle.start), range: BigInt(middle.stop - middle.start) * this.#unit, bo: null, offset: 0n } });
      cut.push(middle);
    }
    for (const middle of cut) {
      this.#cutAround(middle.start, middle.stop);
      const id = this.#nextId++;
      for (let p = middle.start; p < middle.stop; p++) {
        this.#pages[p] = { id, bo: null, offset: wrapU64(BigInt(p - middle.start) * this.#unit) };
      }
    }
    return { ops };
  }

  /** The spec's checks in its order; `bo` undefined means an unmap request (no BO check). */
  #check(addr: bigint, range: bigint, bo: string | null | undefined, offset: bigint): RefError | null {
    if (range === 0n) return 'zero_range';
    if (addr + range > U64_MAX) return 'overflow';
    const { start, range: vmRange } = this.#config;
    if (addr < start || addr + range > start + vmRange) return 'out_of_range';
    const [first, end] = this.#pageSpan(addr, range);
    for (let p = first; p < end; p++) if (this.#reserved[p]) return 'reserved';
    if (typeof bo === 'string') {
      const size = this.#config.bos.get(bo);
      if (size === undefined) throw new Error(`page model: unknown BO ${bo}`);
      if (offset + range > size) return 'bo_bounds';
    }
    return null;
  }

  /** Each mapping with a page in [first, end), in address order, with its whole page span. */
  #touchedRuns(first: number, end: number): { start: number; stop: number; page: Page }[] {
    const runs: { start: number; stop: number; page: Page }[] = [];
    for (let p = first; p < end; p++) {
      const page = this.#pages[p];
      if (page === undefined) continue;
      let start = p;
      while (start > 0 && this.#pages[start - 1]?.id === page.id) start--;
      const stop = this.#runEnd(p);
      runs.push({ start, stop, page: this.#pages[start]! });
      p = stop - 1;
    }
    return runs;
  }

  /** The op for a mapping on pages [start, stop) hit by a request on pages [first, end). */
  #opFor(start: number, stop: number, first: number, end: number, keep: boolean): RefOp {
    const va = this.#vaOf(start, stop);
    const prev = start < first ? this.#vaOf(start, first) : null;
    const next = stop > end ? this.#vaOf(end, stop) : null;
    if (prev === null && next === null) return { kind: 'unmap', va, keep };
    return { kind: 'remap', unmap: va, keep, prev, next };
  }

  /** The pieces of mappings that stick out of [first, end) become mappings of their own (new ids). */
  #cutAround(first: number, end: number): void {
    for (const edge of [first, end]) {
      const inside = this.#pages[edge - 1];
      const outside = this.#pages[edge];
      if (inside === undefined || outside === undefined || inside.id !== outside.id) continue;
      const id = this.#nextId++;
      const step = edge === first ? -1 : 1;
      for (let p = edge === first ? first - 1 : end; this.#pages[p]?.id === inside.id; p += step) {
        this.#pages[p] = { ...this.#pages[p]!, id };
      }
    }
  }

  #vaOf(start: number, stop: number): RefVa {
    const page = this.#pages[start]!;
    return { addr: this.#addrOf(start), range: BigInt(stop - start) * this.#unit, bo: page.bo, offset: page.offset };
  }

  #runEnd(p: number): number {
    const id = this.#pages[p]!.id;
    let end = p + 1;
    while (end < this.#pages.length && this.#pages[end]?.id === id) end++;
    return end;
  }

  #addrOf(page: number): bigint {
    return this.#config.start + BigInt(page) * this.#unit;
  }

  #pageSpan(addr: bigint, range: bigint): [number, number] {
    const rel = addr - this.#config.start;
    if (rel < 0n || rel % this.#unit !== 0n || range % this.#unit !== 0n || rel + range > this.#config.range) {
      throw new Error(`page model: [${addr}, +${range}) is not whole pages of the VM`);
    }
    return [Number(rel / this.#unit), Number((rel + range) / this.#unit)];
  }
}
