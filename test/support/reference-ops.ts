// SPDX-License-Identifier: MIT
// The vocabulary of the test-only reference models of drm_gpuvm (page-model.ts, interval-model.ts): mappings,
// requests, ops and request errors, written from drm_gpuvm.c's split/merge and docs/trace-format.md,
// not from lib/gpuvm. Also an op applier that checks an op list against the tree it claims to change, and
// the trace-format text of ops and mappings.

/** One mapping: [addr, addr+range) backed by `bo` at `offset`, or sparse when `bo` is null. */
export interface RefVa {
  addr: bigint;
  range: bigint;
  bo: string | null;
  offset: bigint;
}

/** A map request has the same shape as the mapping it asks for. */
export type RefMapRequest = RefVa;

/** One op, as the kernel's sm_map / sm_unmap emit them. */
export type RefOp =
  | { kind: 'map'; va: RefVa }
  | { kind: 'unmap'; va: RefVa; keep: boolean }
  | { kind: 'remap'; unmap: RefVa; keep: boolean; prev: RefVa | null; next: RefVa | null };

/** The trace spec's invalid-request words, in the order the checks run. */
export const REF_ERRORS = ['zero_range', 'overflow', 'out_of_range', 'reserved', 'bo_bounds'] as const;
/** One of the trace spec's invalid-request words. */
export type RefError = (typeof REF_ERRORS)[number];

/** What a request gives: the ops (already applied to the model), or the error (nothing changed). */
export type RefResult = { ops: RefOp[] } | { error: RefError };

/** The VM a reference model stands for. */
export interface RefVmConfig {
  start: bigint;
  range: bigint;
  reserve: { start: bigint; range: bigint } | null;
  /** BO name to size in bytes. */
  bos: ReadonlyMap<string, bigint>;
}

/** What both reference models offer. */
export interface ReferenceModel {
  /** Every mapping, in address order. */
  mappings(): RefVa[];
  map(req: RefMapRequest): RefResult;
  unmap(addr: bigint, range: bigint): RefResult;
  /** drm_gpuvm_madvise_ops_create with a sparse request at offset 0, ops applied. */
  madvise(addr: bigint, range: bigint): RefResult;
}

const U64_MASK = (1n << 64n) - 1n;

/** Kernel offsets are u64 and wrap; only a sparse mapping given a large offset can get there. */
export function wrapU64(value: bigint): bigint {
  return value & U64_MASK;
}

/** True when the two mappings are the same mapping. */
export function sameVa(a: RefVa, b: RefVa): boolean {
  return a.addr === b.addr && a.range === b.range && a.bo === b.bo && a.offset === b.offset;
}

/**
 * Applies `ops` to the sorted mapping list `before` the way the kernel's drm_gpuva_map/remap/unmap helpers
 * would, and returns the new sorted list. Throws when the list is not one the tree could have produced:
 * an unmapped VA that does not exist exactly, a remap piece outside its VA, an insert that overlaps.
 */
export function applyOpsToList(before: readonly RefVa[], ops: readonly RefOp[]): RefVa[] {
  const list = before.map((va) => ({ ...va }));
  const remove = (va: RefVa): void => {
    const at = list.findIndex((v) => sameVa(v, va));
    if (at < 0) throw new Error(`op removes ${formatVa(va)}, which is not in the tree`);
    list.splice(at, 1);
  };
  const insert = (va: RefVa): void => {
    if (va.range === 0n) throw new Error(`op inserts an empty mapping at ${hex(va.addr)}`);
    const clash = list.find((v) => v.addr < va.addr + va.range && va.addr < v.addr + v.range);
    if (clash) throw new Error(`op inserts ${formatVa(va)} over ${formatVa(clash)}`);
    list.push({ ...va });
  };
  for (const op of ops) {
    if (op.kind === 'map') insert(op.va);
    else if (op.kind === 'unmap') remove(op.va);
    else {
      const old = op.unmap;
      if (op.prev === null && op.next === null) throw new Error(`remap of ${formatVa(old)} with neither prev nor next`);
      if (op.prev && (op.prev.addr !== old.addr || op.prev.addr + op.prev.range >= old.addr + old.range ||
        op.prev.bo !== old.bo || op.prev.offset !== old.offset)) {
        throw new Error(`remap prev ${formatVa(op.prev)} is not a head of ${formatVa(old)}`);
      }
      if (op.next && (op.next.addr <= old.addr || op.next.addr + op.next.range !== old.addr + old.range ||
        op.next.bo !== old.bo || op.next.offset !== wrapU64(old.offset + (op.next.addr - old.addr)))) {
        throw new Error(`remap next ${formatVa(op.next)} is not a tail of ${formatVa(old)}`);
      }
      remove(old);
      if (op.prev) insert(op.prev);
      if (op.next) insert(op.next);
    }
  }
  return list.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
}

/** Lowercase hex with 0x and no leading zeros, as the trace format prints every number. */
export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** The trace format prints offset 0x0 for every sparse mapping. */
function shownOffset(va: RefVa): bigint {
  return va.bo === null ? 0n : va.offset;
}

function piece(va: RefVa | null): string {
  return va === null ? '-' : `${hex(va.addr)}:${hex(va.range)}:${va.bo ?? 'sparse'}:${hex(shownOffset(va))}`;
}

/** `<addr> <range> <bo>|sparse <offset>` as the trace format prints a mapping. */
export function formatVa(va: RefVa): string {
  return `${hex(va.addr)} ${hex(va.range)} ${va.bo ?? 'sparse'} ${hex(shownOffset(va))}`;
}

/** One op as one trace-output line. */
export function formatOp(op: RefOp): string {
  switch (op.kind) {
    case 'map': return `map ${formatVa(op.va)}`;
    case 'unmap': return `unmap ${formatVa(op.va)} keep=${op.keep ? 1 : 0}`;
    case 'remap': return `remap unmap=${piece(op.unmap)} keep=${op.keep ? 1 : 0} prev=${piece(op.prev)} next=${piece(op.next)}`;
  }
}

/** The trace-output lines of one request's result, `end` included. */
export function formatResult(result: RefResult): string[] {
  return 'error' in result ? [`error ${result.error}`, 'end'] : [...result.ops.map(formatOp), 'end'];
}
