// SPDX-License-Identifier: MIT
// In- and out-fences of a bind, as DRM syncobjs: what the bind waits for before it runs and what it signals
// when the page tables are updated.
import { BindRefusedError } from './bind-refused-error.js';
import { toUnsigned } from '../u64.js';

/** A syncobj handle; with `point` it is a timeline syncobj at that point, without it a binary one. */
export interface SyncobjPoint {
  /** The syncobj handle on the same DRM file (never 0). */
  readonly handle: number;
  /** The timeline point (not 0); absent for a binary syncobj. */
  readonly point?: bigint;
}

/** Syncobjs a bind waits on and signals. Both empty (or absent) means a synchronous bind where the driver has one. */
export interface BindSyncs {
  /** Syncobjs the bind waits for before it changes the page tables. */
  readonly waits?: readonly SyncobjPoint[];
  /** Syncobjs the bind signals once the page tables are updated. */
  readonly signals?: readonly SyncobjPoint[];
}

/** The waits and signals of `syncs`, with handles and points checked as u32 / u64 and timeline point 0 refused. */
export function normalizeSyncs(driver: string, syncs: BindSyncs | undefined): { waits: SyncobjPoint[]; signals: SyncobjPoint[] } {
  const check = (list: readonly SyncobjPoint[] | undefined, name: string): SyncobjPoint[] =>
    (list ?? []).map((s, i) => {
      const handle = Number(toUnsigned(s.handle, `${name}[${i}].handle`, 0xffffffffn));
      if (handle === 0) throw new BindRefusedError(driver, 'ERR_BIND_RANGE', `${name}[${i}]: syncobj handle 0 is never valid`);
      if (s.point === undefined) return { handle };
      const point = toUnsigned(s.point, `${name}[${i}].point`, 0xffffffffffffffffn);
      // Timeline point 0 would mean "binary syncobj" to every driver here; say so instead of guessing.
      if (point === 0n) throw new BindRefusedError(driver, 'ERR_BIND_RANGE', `${name}[${i}]: timeline point 0 is not a point; leave 'point' out for a binary syncobj`);
      return { handle, point };
    });
  return { waits: check(syncs?.waits, 'waits'), signals: check(syncs?.signals, 'signals') };
}
