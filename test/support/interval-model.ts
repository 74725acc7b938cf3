// SPDX-License-Identifier: MIT
// Interval-list reference model of drm_gpuvm for tests: a sorted array of mappings scanned in full for every
// request, with the ops taken literally from the case table of gpuvm-semantics.md §2.1 (cases A, B, C and
// their offset formulas) and §2.2. Exact over the whole u64 space, so it covers what the page model cannot
// (VMs of any size, requests at 2^64-1). Written from the notes and the trace spec, not from lib/gpuvm.
import {
  wrapU64, type ReferenceModel, type RefError, type RefMapRequest, type RefOp, type RefResult, type RefVa,
  type RefVmConfig,
} from './reference-ops.js';

const U64_MAX = (1n << 64n) - 1n;

/** The whole VM as a sorted list of mappings; see the file comment. */
export class IntervalModel implements ReferenceModel {
  #list: RefVa[] = [];
  readonly #config: RefVmConfig;

  constructor(config: RefVmConfig) {
    this.#config = config;
  }

  mappings(): RefVa[] {
    return this.#list.map((va) => ({ ...va }));
  }

  map(req: RefMapRequest): RefResult {
    const error = this.#check(req.addr, req.range, req.bo, req.offset);
    if (error) return { error };
    const reqEnd = req.addr + req.range;
    const ops: RefOp[] = [];
    for (const v of this.#overlapping(req.addr, reqEnd)) {
      const vEnd = v.addr + v.range;
      const sameBo = v.bo !== null && v.bo === req.bo;
      if (v.addr === req.addr) {
        // Case A: the mapping starts where the request starts.
        const keep = sameBo && v.offset === req.offset;
        if (vEnd <= reqEnd) ops.push({ kind: 'unmap', va: v, keep });
        else ops.push({ kind: 'remap', unmap: v, keep, prev: null, next: this.#piece(v, reqEnd, vEnd, v.offset + req.range) });
      } else if (v.addr < req.addr) {
        // Case B: the mapping starts before the request (only ever the first one visited).
        const ls = req.addr - v.addr;
        const keep = sameBo && v.offset + ls === req.offset;
        const prev = this.#piece(v, v.addr, req.addr, v.offset);
        const next = vEnd > reqEnd ? this.#piece(v, reqEnd, vEnd, v.offset + ls + req.range) : null;
        ops.push({ kind: 'remap', unmap: v, keep, prev, next });
      } else {
        // Case C: the mapping starts inside the request.
        const keep = sameBo && v.offset === req.offset + (v.addr - req.addr);
        if (vEnd <= reqEnd) ops.push({ kind: 'unmap', va: v, keep });
        else ops.push({ kind: 'remap', unmap: v, keep, prev: null, next: this.#piece(v, reqEnd, vEnd, v.offset + (reqEnd - v.addr)) });
      }
    }
    ops.push({ kind: 'map', va: { ...req } });
    this.#replace(req.addr, reqEnd, ops, { ...req });
    return { ops };
  }

  unmap(addr: bigint, range: bigint): RefResult {
    const error = this.#check(addr, range, undefined, 0n);
    if (error) return { error };
    const end = addr + range;
    const ops: RefOp[] = this.#overlapping(addr, end).map((v): RefOp => {
      const vEnd = v.addr + v.range;
      const prev = v.addr < addr ? this.#piece(v, v.addr, addr, v.offset) : null;
      const next = vEnd > end ? this.#piece(v, end, vEnd, v.offset + (end - v.addr)) : null;
      return prev === null && next === null ? { kind: 'unmap', va: v, keep: false } : { kind: 'remap', unmap: v, keep: false, prev, next };
    });
    this.#replace(addr, end, ops, null);
    return { ops };
  }

  /**
   * madvise, taken literally from gpuvm-semantics.md §2.3: the sm_map walk over sparse VAs only, with no
   * UNMAP, a MAP right after a REMAP that leaves part of the VA inside the request, and the final MAP only
   * when a case asked for it.
   */
  madvise(addr: bigint, range: bigint): RefResult {
    const error = this.#check(addr, range, undefined, 0n);
    if (error) return { error };
    const reqEnd = addr + range;
    const ops: RefOp[] = [];
    let finalMap = false;
    const sparseMap = (from: bigint, to: bigint): RefOp => ({ kind: 'map', va: { addr: from, range: to - from, bo: null, offset: 0n } });
    for (const v of this.#overlapping(addr, reqEnd)) {
      if (v.bo !== null) continue;
      const vEnd = v.addr + v.range;
      if (v.addr === addr) {
        if (vEnd <= reqEnd) continue;
        ops.push({ kind: 'remap', unmap: v, keep: false, prev: null, next: this.#piece(v, reqEnd, vEnd, v.offset + range) });
        finalMap = true;
        break;
      } else if (v.addr < addr) {
        const ls = addr - v.addr;
        const prev = this.#piece(v, v.addr, addr, v.offset);
        if (vEnd >= reqEnd) {
          const next = vEnd > reqEnd ? this.#piece(v, reqEnd, vEnd, v.offset + ls + range) : null;
          ops.push({ kind: 'remap', unmap: v, keep: false, prev, next });
          finalMap = true;
          break;
        }
        ops.push({ kind: 'remap', unmap: v, keep: false, prev, next: null }, sparseMap(addr, vEnd));
      } else {
        if (vEnd <= reqEnd) continue;
        ops.push({ kind: 'remap', unmap: v, keep: false, prev: null, next: this.#piece(v, reqEnd, vEnd, v.offset + (reqEnd - v.addr)) });
        ops.push(sparseMap(v.addr, reqEnd));
        break;
      }
    }
    if (finalMap) ops.push(sparseMap(addr, reqEnd));
    const list = this.#list.filter((v) => !ops.some((op) => op.kind === 'remap' && op.unmap.addr === v.addr));
    for (const op of ops) {
      if (op.kind === 'remap') list.push(...[op.prev, op.next].filter((piece) => piece !== null));
      else list.push({ ...op.va });
    }
    this.#list = list.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    return { ops };
  }

  /** The spec's checks in its order; `bo` undefined means an unmap request (no BO check). */
  #check(addr: bigint, range: bigint, bo: string | null | undefined, offset: bigint): RefError | null {
    if (range === 0n) return 'zero_range';
    const end = addr + range;
    if (end > U64_MAX) return 'overflow';
    const { start, range: vmRange, reserve } = this.#config;
    if (addr < start || end > start + vmRange) return 'out_of_range';
    if (reserve !== null && reserve.range !== 0n && addr < reserve.start + reserve.range && reserve.start < end) return 'reserved';
    if (typeof bo === 'string') {
      const size = this.#config.bos.get(bo);
      if (size === undefined) throw new Error(`interval model: unknown BO ${bo}`);
      if (offset + range > size) return 'bo_bounds';
    }
    return null;
  }

  #overlapping(addr: bigint, end: bigint): RefVa[] {
    return this.#list.filter((v) => v.addr < end && addr < v.addr + v.range).map((v) => ({ ...v }));
  }

  #piece(v: RefVa, addr: bigint, end: bigint, offset: bigint): RefVa {
    return { addr, range: end - addr, bo: v.bo, offset: wrapU64(offset) };
  }

  /** Drops what [addr, end) overlapped, keeps the remap pieces, adds `inserted`; the list stays sorted. */
  #replace(addr: bigint, end: bigint, ops: RefOp[], inserted: RefVa | null): void {
    const kept = this.#list.filter((v) => !(v.addr < end && addr < v.addr + v.range));
    for (const op of ops) {
      if (op.kind !== 'remap') continue;
      if (op.prev) kept.push(op.prev);
      if (op.next) kept.push(op.next);
    }
    if (inserted) kept.push(inserted);
    this.#list = kept.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  }
}
