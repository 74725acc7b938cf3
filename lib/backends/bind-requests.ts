// SPDX-License-Identifier: MIT
// From a GPUVM op list to the requests a driver's bind ioctl takes.
//
// A VM_BIND driver runs drm_gpuvm's split/merge itself: it is given map and unmap *requests* and derives the
// remap/unmap steps from its own tree, which mirrors ours. So the op list is turned back into the requests
// that regenerate it:
//
//   REMAP(V1,p,-)  UNMAP(V2)  REMAP(V3,-,n)  MAP(req)      one map request: the kernel derives the three
//   |---V1--|==|---V2---|==|--V3---|                       steps before MAP from req over its own tree,
//           [========== req ==========)                    keep hints included
//
//   REMAP(V1,p,n)                                          an unmap request of the part REMAP removes:
//   |--p--[ removed )--n--|                                the kernel splits V1 the same way
//
// A REMAP or UNMAP is implied by the MAP it precedes when what it removes lies inside that MAP's range; any
// other REMAP or UNMAP becomes an unmap request of the range it removes. Sending the unmaps of a map request
// explicitly would give the same tree but open a window in which the range is unmapped, and lose `keep`.
import { BindRefusedError } from './bind-refused-error.js';
import type { GemObject } from '../gpuvm/gem.js';
import { remapToUnmapRange, type GpuVaOp, type OpMap, type OpRemap, type OpUnmap } from '../gpuvm/ops.js';
import type { GemHandles } from './gem-handles.js';
import { normalizeSyncs, type BindSyncs, type SyncobjPoint } from './bind-syncs.js';
import { toUnsigned } from '../u64.js';

/**
 * Map `[addr, addr+range)` to GEM `handle` at `offset` (handle null: sparse); `overOccupied` when the kernel
 * will find VAs there to split or replace.
 */
export interface BindMapRequest {
  readonly kind: 'map';
  readonly addr: bigint;
  readonly range: bigint;
  readonly handle: number | null;
  readonly offset: bigint;
  readonly overOccupied: boolean;
}

/**
 * Unmap `[addr, addr+range)`. `wholeHandle` is set when exactly one VA is removed entirely (an UNMAP op):
 * the GEM handle behind it, or null for a sparse VA; undefined when part of a VA goes (a REMAP).
 */
export interface BindUnmapRequest {
  readonly kind: 'unmap';
  readonly addr: bigint;
  readonly range: bigint;
  readonly wholeHandle?: number | null;
}

/** What a bind ioctl is asked to do, in order. */
export type BindRequest = BindMapRequest | BindUnmapRequest;

type Removal = OpUnmap | OpRemap;

/** The `[start, end)` a REMAP or UNMAP takes away. */
function removedRange(op: Removal): { start: bigint; end: bigint } {
  if (op.type === 'unmap') return { start: op.va.addr, end: op.va.addr + op.va.range };
  const { start, range } = remapToUnmapRange(op);
  return { start, end: start + range };
}

/**
 * Turns an op list (one or more sm_map / sm_unmap results, in order) into the bind requests that regenerate
 * it, with GEM objects resolved to their handles. PREFETCH ops are refused: no backend here sends them.
 */
export function bindRequestsFromOps(driver: string, ops: Iterable<GpuVaOp>, gem: GemHandles): BindRequest[] {
  const requests: BindRequest[] = [];
  let pending: Removal[] = [];
  const handle = (obj: GemObject | null): number | null => (obj === null ? null : Number(toUnsigned(gem.handleOf(obj), 'handle', 0xffffffffn)));
  const flush = (map: OpMap | null): void => {
    let implied = 0;
    for (const removal of pending) {
      const r = removedRange(removal);
      if (map !== null && r.start >= map.addr && r.end <= map.addr + map.range) implied += 1;
      else requests.push(unmapRequest(removal, handle));
    }
    pending = [];
    if (map !== null) {
      requests.push({ kind: 'map', addr: map.addr, range: map.range, handle: handle(map.obj), offset: map.offset, overOccupied: implied > 0 });
    }
  };
  for (const op of ops) {
    if (op.type === 'prefetch') throw new BindRefusedError(driver, 'ERR_BIND_UNSUPPORTED', 'PREFETCH ops are not sent to the kernel by this backend');
    if (op.type === 'map') flush(op);
    else pending.push(op);
  }
  flush(null);
  return requests;
}

function unmapRequest(op: Removal, handle: (obj: GemObject | null) => number | null): BindUnmapRequest {
  const r = removedRange(op);
  const base = { kind: 'unmap', addr: r.start, range: r.end - r.start } as const;
  return op.type === 'unmap' ? { ...base, wholeHandle: handle(op.va.obj) } : base;
}

/** The VA space a backend accepts and the granule its driver checks addresses, sizes and BO offsets against. */
export interface VaRules {
  /** Page size the driver requires (`PAGE_SIZE`, the VM page size, or a larger minimum alignment). */
  readonly pageSize: bigint;
  /** First address userspace may bind (inclusive). */
  readonly vaStart: bigint;
  /** End of the bindable VA space (exclusive). */
  readonly vaEnd: bigint;
}

/** Refuses, before any ioctl, a request the driver's alignment and range checks would reject. */
export function checkRequest(driver: string, rules: VaRules, req: BindRequest, index: number): void {
  const what = `request ${index} (${req.kind} 0x${req.addr.toString(16)}+0x${req.range.toString(16)})`;
  if (req.range === 0n) throw new BindRefusedError(driver, 'ERR_BIND_RANGE', `${what}: the range is empty`);
  const misaligned = (v: bigint): boolean => v % rules.pageSize !== 0n;
  const page = `0x${rules.pageSize.toString(16)}`;
  if (misaligned(req.addr)) throw new BindRefusedError(driver, 'ERR_BIND_ALIGNMENT', `${what}: the address is not a multiple of the page size ${page}`);
  if (misaligned(req.range)) throw new BindRefusedError(driver, 'ERR_BIND_ALIGNMENT', `${what}: the size is not a multiple of the page size ${page}`);
  if (req.kind === 'map' && misaligned(req.offset)) {
    throw new BindRefusedError(driver, 'ERR_BIND_ALIGNMENT', `${what}: the BO offset 0x${req.offset.toString(16)} is not a multiple of the page size ${page}`);
  }
  if (req.kind === 'map' && req.handle === null && req.offset !== 0n) {
    throw new BindRefusedError(driver, 'ERR_BIND_RANGE', `${what}: a sparse mapping has no BO, so its offset must be 0`);
  }
  if (req.addr < rules.vaStart || req.addr + req.range > rules.vaEnd) {
    throw new BindRefusedError(driver, 'ERR_BIND_RANGE',
      `${what}: outside the bindable VA space [0x${rules.vaStart.toString(16)}, 0x${rules.vaEnd.toString(16)})`);
  }
}

/** A bind ready to encode: its checked requests (never empty) and syncobjs. */
export interface PreparedBind {
  readonly requests: readonly BindRequest[];
  readonly waits: readonly SyncobjPoint[];
  readonly signals: readonly SyncobjPoint[];
}

/**
 * The shared front of every driver's bind: translate the op list, check each request against the VA rules
 * and the driver's own `check`, and check the syncobjs; all before any ioctl. Returns null when there is
 * nothing to bind, and refuses syncobjs then: there is no bind to carry them, and signalling them anyway
 * would claim page-table work that never happened.
 */
export function prepareBind(
  driver: string,
  vm: GemHandles & { readonly rules: VaRules },
  ops: Iterable<GpuVaOp>,
  syncs: BindSyncs | undefined,
  check?: (req: BindRequest, index: number) => void,
): PreparedBind | null {
  const requests = bindRequestsFromOps(driver, ops, vm);
  requests.forEach((req, i) => {
    checkRequest(driver, vm.rules, req, i);
    check?.(req, i);
  });
  const { waits, signals } = normalizeSyncs(driver, syncs);
  if (requests.length > 0) return { requests, waits, signals };
  if (waits.length + signals.length > 0) {
    throw new BindRefusedError(driver, 'ERR_BIND_UNSUPPORTED', 'the op list is empty, so there is no bind to wait or signal syncobjs; signal them with SYNCOBJ_SIGNAL instead');
  }
  return null;
}
