// SPDX-License-Identifier: MIT
// A backend with no device: it keeps its own copy of what has been committed, span by span, so tests can
// check that the model's tree and "the device" never disagree, and so a benchmark measures the request path
// without device latency.
import type { GemObject } from '../gpuvm/gem.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOps, OpMap } from '../gpuvm/ops.js';
import type { GpuVmBackend } from './backend.js';

/** A committed mapping as the backend recorded it. */
export interface TrackedSpan {
  /** Start of the span. */
  readonly addr: bigint;
  /** Length of the span in bytes. */
  readonly range: bigint;
  /** The GEM object mapped there; null for a sparse span. */
  readonly obj: GemObject | null;
  /** Offset into `obj` where the span starts. */
  readonly offset: bigint;
}

/** Thrown when an op list does not fit what was committed before: the caller's tree and this copy diverged. */
export class TrackOnlyDivergenceError extends Error {
  /** Node-style code. */
  readonly code = 'ERR_BACKEND_DIVERGED';

  constructor(message: string) {
    super(message);
    this.name = 'TrackOnlyDivergenceError';
  }
}

/** Commits by recording; an op list that does not fit the record is refused whole. */
export class TrackOnlyBackend implements GpuVmBackend {
  readonly name = 'track-only';
  readonly #spans = new Map<bigint, TrackedSpan>();
  #commits = 0;

  /** Op lists committed so far. */
  get commits(): number {
    return this.#commits;
  }

  /** The committed mappings in address order. */
  spans(): TrackedSpan[] {
    return [...this.#spans.values()].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  }

  /** Synchronous: the record is updated (or the list refused) before it returns. */
  commit(_vm: GpuVm, ops: GpuVaOps): void {
    // Checked against an overlay first, so a list that fails halfway changes nothing.
    const overlay = new Map<bigint, TrackedSpan | null>();
    const current = (addr: bigint) => (overlay.has(addr) ? overlay.get(addr)! : this.#spans.get(addr) ?? null);
    const remove = (va: TrackedSpan) => {
      const had = current(va.addr);
      if (had === null || had.range !== va.range || had.obj !== va.obj || had.offset !== va.offset) {
        throw new TrackOnlyDivergenceError(`op removes [0x${va.addr.toString(16)}, +0x${va.range.toString(16)}) which was never committed`);
      }
      overlay.set(va.addr, null);
    };
    const add = (m: OpMap) => {
      if (current(m.addr) !== null) throw new TrackOnlyDivergenceError(`op maps 0x${m.addr.toString(16)} which is already mapped`);
      overlay.set(m.addr, { addr: m.addr, range: m.range, obj: m.obj, offset: m.offset });
    };
    for (const op of ops) {
      if (op.type === 'map') add(op);
      else if (op.type === 'unmap') remove(op.va);
      else if (op.type === 'remap') {
        remove(op.unmap.va);
        if (op.prev !== null) add(op.prev);
        if (op.next !== null) add(op.next);
      }
    }
    for (const [addr, span] of overlay) {
      if (span === null) this.#spans.delete(addr);
      else this.#spans.set(addr, span);
    }
    this.#commits++;
  }
}
