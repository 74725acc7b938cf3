// SPDX-License-Identifier: MIT
// The transaction engine of a Vm: every map, unmap and commit goes through it. A request
//   1. locks its footprint in the VM's VA range lock (its range widened to every mapping it overlaps),
//   2. generates its ops and finds what they touch,
//   3. locks the reservation of every BO they touch (one by trylock, several through a DrmExec with
//      wound-wait back-off), obtaining first the pairs immediate mode may not allocate later,
//   4. commits the ops through the backend,
//   5. applies them to the tree (under the gpuva lock of every BO whose pair list changes), then unlocks.
// A rejected commit leaves the tree, the pairs and the refcounts exactly as they were.
//
// The uncontended request takes every lock without waiting, in synchronous code that knows its task, and
// holds them without guards (it releases them itself). A backend that is done when commit() returns lets
// the whole request run in that one synchronous stretch; one that returns a promise is awaited once. No
// AsyncLocalStorage (whose promise hooks tax every promise once enabled) on that path. A request that must
// wait for a lock goes on from where it stopped, carried by AsyncLocalStorage. Requests made inside a task
// run in it; others get their own, which the next request may reuse when this one ends in its first
// stretch (no await ever carried it, so nothing can still run as it).
import type { CommitFences } from '../backends/backend.js';
import { GpuVmStateError } from '../gpuvm/errors.js';
import { opsListKey, type GpuVaOps, type OpMap, type OpPrefetch, type OpRemap, type OpUnmap } from '../gpuvm/ops.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import { DrmExec } from '../locks/exec.js';
import type { RangeHold } from '../locks/range-lock.js';
import type { ResvLock } from '../locks/resv.js';
import { continueTask, currentTask, enterSyncSection, leaveSyncSection, LockTask } from '../locks/task.js';
import { U64_MAX } from '../u64.js';
import { boOf, type Bo } from './bo.js';
import type { VmReferences } from './references.js';
import type { Vm } from './vm.js';

/** What one request touches; see {@link touchedBy}. */
export interface Touched {
  ops: GpuVaOps;
  resvs: ResvLock[];
  mapped: Bo[];
  relinked: Bo[];
  /** `[lo, hi)`: the request's own range widened to every VA its ops unmap or remap. */
  lo: bigint;
  hi: bigint;
}

/** What a transaction is: names its task and its ww acquire context. */
export type RequestKind = 'map' | 'unmap' | 'commit';

/**
 * A request whose footprint its task holds and whose ops are generated. Its reservations are then taken,
 * one by trylock (`resv`) or several through `exec`; `spares` is set once they are held.
 */
interface InFlightRequest {
  task: LockTask;
  /** The task is the request's own and never ran under AsyncLocalStorage: a later request may reuse it. */
  taskReusable: boolean;
  kind: RequestKind;
  /** Generates the request's ops against the tree as it is now. */
  makeOps: () => GpuVaOps;
  /** A list generated before a disjoint request changed the tree is generated again and compared at apply. */
  regenerate: boolean;
  /** The bind's fences, handed to the backend with the ops; null for a bind without. */
  fences: CommitFences | null;
  footprint: RangeHold;
  touched: Touched;
  resv: ResvLock | null;
  exec: DrmExec | null;
  spares: readonly VmBo[];
}

// The regenerated list of a request must be the committed one, op for op, VA for VA; the footprint lock
// guarantees it, and this says so loudly if that ever fails.
function sameOpsOrThrow(committed: GpuVaOps, fresh: GpuVaOps): GpuVaOps {
  const a = committed.ops;
  const b = fresh.ops;
  const samePiece = (x: OpMap | null, y: OpMap | null): boolean =>
    x === y || (x !== null && y !== null && x.addr === y.addr && x.range === y.range && x.obj === y.obj && x.offset === y.offset);
  const same = a.length === b.length && a.every((op, i) => {
    const other = b[i]!;
    if (op.type !== other.type) return false;
    if (op.type === 'map') return samePiece(op, other as OpMap);
    if (op.type === 'unmap') return op.va === (other as OpUnmap).va && op.keep === (other as OpUnmap).keep;
    if (op.type === 'remap') {
      const o = other as OpRemap;
      return op.unmap.va === o.unmap.va && op.unmap.keep === o.unmap.keep && samePiece(op.prev, o.prev) && samePiece(op.next, o.next);
    }
    return op.va === (other as OpPrefetch).va;
  });
  if (!same) throw new GpuVmStateError('ERR_GPUVM_STALE_OPS', 'a request\'s ops changed while its footprint was locked: the VA range lock failed to isolate it');
  return fresh;
}

// Shared empty lists for requests that have no spare pairs or take no gpuva lock (resv policy); never written.
const NO_PAIRS: readonly VmBo[] = [];
const NO_BOS: readonly Bo[] = [];

// What a request whose backend finished synchronously returns: settled already, and never changes.
const DONE: Promise<void> = Promise.resolve();

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function addOnce<T>(list: T[], item: T): void {
  if (!list.includes(item)) list.push(item);
}

/**
 * The kernel's refcount dance, done for the caller: a request never frees a BO under its own locks. The
 * BOs among `bos` that their creator closed, whose last pair the request may free, get a GEM reference
 * here, before the locked section, and lose it in {@link putKeptBos} after the request unlocks. Null
 * when there is none, as for nearly every request.
 */
function keepClosedBos(bos: readonly Bo[]): Bo[] | null {
  let kept: Bo[] | null = null;
  for (let i = 0; i < bos.length; i++) {
    const bo = bos[i]!;
    if (!bo.closed) continue;
    bo.gem.get();
    (kept ??= []).push(bo);
  }
  return kept;
}

function putKeptBos(kept: readonly Bo[]): void {
  for (const bo of kept) bo.putWhenUnlocked();
}

/**
 * What `ops` of `vm` on [start, end) touch: the reservations to lock (with `withVmResv` the VM's first, since
 * it guards the lists the request edits, as drm_gpuvm_prepare_vm would; then each op's BO, as
 * sm_map_exec_lock would), the BOs it maps, the BOs whose pair lists change, and the range its ops reach.
 * Without RESV_PROTECTED the VM's reservation is not needed, and leaving it alone is what lets disjoint
 * requests interleave.
 */
export function touchedBy(vm: Vm, ops: GpuVaOps, withVmResv: boolean, start: bigint, end: bigint): Touched {
  const resvs = withVmResv ? [vm.resv] : [];
  const mapped: Bo[] = [];
  const relinked: Bo[] = [];
  let lo = start;
  let hi = end;
  // The list itself, by index: ops.ops would copy and freeze it, and an iterator is an object per request.
  const list = ops[opsListKey];
  for (let i = 0; i < list.length; i++) {
    const op = list[i]!;
    if (op.type === 'map') {
      if (op.obj === null) continue;
      const bo = boOf(op.obj);
      addOnce(mapped, bo);
      addOnce(relinked, bo);
      addOnce(resvs, bo.resv);
    } else if (op.type !== 'prefetch') {
      const va = op.type === 'remap' ? op.unmap.va : op.va;
      if (va.addr < lo) lo = va.addr;
      const vaEnd = va.addr + va.range;
      if (vaEnd > hi) hi = vaEnd;
      if (va.obj === null) continue;
      const bo = boOf(va.obj);
      addOnce(relinked, bo);
      addOnce(resvs, bo.resv);
    }
  }
  return { ops, resvs, mapped, relinked, lo, hi };
}

/** Runs the requests of one Vm. */
export class RequestEngine {
  readonly #vm: Vm;
  readonly #refs: VmReferences;
  readonly #immediate: boolean;
  readonly #taskNames: Readonly<Record<RequestKind, string>>;
  readonly #spareTasks: Record<RequestKind, LockTask | null> = { map: null, unmap: null, commit: null };
  #inFlight = 0;

  constructor(vm: Vm, refs: VmReferences, immediate: boolean) {
    this.#vm = vm;
    this.#refs = refs;
    this.#immediate = immediate;
    this.#taskNames = { map: `${vm.name}.map`, unmap: `${vm.name}.unmap`, commit: `${vm.name}.commit` };
  }

  /** Requests between locking their footprint and applying their ops. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Runs one request on [start, start+range): `makeOps` generates its ops against the tree as it is when
   * the footprint is held; `fences` go to the backend with them. Never throws: the promise says.
   */
  run(kind: RequestKind, start: bigint, range: bigint, makeOps: () => GpuVaOps, regenerate: boolean, fences: CommitFences | null = null): Promise<void> {
    const vm = this.#vm;
    if (vm.closed) return Promise.reject(vm.closedError());
    const outer = currentTask();
    let task = outer;
    if (task === null) {
      task = this.#spareTasks[kind] ?? new LockTask(this.#taskNames[kind]);
      this.#spareTasks[kind] = null;
    }
    let req: InFlightRequest | null = null;
    const section = enterSyncSection(task);
    try {
      if (vm.vaLock.idle) {
        // No request in flight and none waiting: nothing can change the tree before this one holds its
        // footprint, so it generates its ops first and locks exactly the range they touch.
        const touched = this.#generate(makeOps, start, start + range);
        req = this.#inFlightRequest(task, vm.vaLock.tryHold(task, touched.lo, touched.hi)!, kind, makeOps, regenerate, fences, touched);
      } else {
        const [lo, hi] = this.#footprint(start, range);
        const hold = vm.vaLock.tryHold(task, lo, hi);
        if (hold !== null) req = this.#generateHolding(task, hold, kind, start, range, makeOps, regenerate, fences);
      }
      if (req !== null && this.#tryLockObjects(req)) {
        req.taskReusable = outer === null;
        return this.#commit(req);
      }
    } catch (err) {
      return Promise.reject(err);
    } finally {
      leaveSyncSection(section);
    }
    const held = req;
    const wait = held === null
      ? (): Promise<void> => this.#waitFootprintThenRun(task, kind, start, range, makeOps, regenerate, fences)
      : (): Promise<void> => this.#waitObjectsThenCommit(held);
    return outer !== null ? wait() : continueTask(task, wait);
  }

  // What a request on [start, start+range) may touch: that range widened to every mapping overlapping it.
  // An invalid range locks one unit at its start; op generation then refuses it with the proper error. VAs
  // do not overlap, so only the one covering the first address can start before the range and only the one
  // covering the last address can end after it: two lookups, however many mappings lie in between.
  #footprint(start: bigint, range: bigint): [bigint, bigint] {
    if (range === 0n || start + range - 1n > U64_MAX) return [start, start + 1n];
    const end = start + range;
    const tree = this.#vm.gpuvm.vaTree;
    const first = tree.firstOverlap(start, start + 1n);
    const last = tree.firstOverlap(end - 1n, end);
    const lo = first !== null && first.addr < start ? first.addr : start;
    const lastEnd = last === null ? end : last.addr + last.range;
    return [lo, lastEnd > end ? lastEnd : end];
  }

  // Locks the footprint for `task`, widening the lock until it covers the footprint as it is once held.
  async #lockFootprint(task: LockTask, start: bigint, range: bigint): Promise<RangeHold> {
    const vaLock = this.#vm.vaLock;
    let [lo, hi] = this.#footprint(start, range);
    // Taken without waiting, nothing can have moved in between: the footprint is still [lo, hi).
    const now = vaLock.tryHold(task, lo, hi);
    if (now !== null) return now;
    let hold = (await vaLock.lock(lo, hi)).lock;
    for (;;) {
      const [l, h] = this.#footprint(start, range);
      if (l >= lo && h <= hi) return hold;
      hold.releaseHeld(task);
      if (l < lo) lo = l;
      if (h > hi) hi = h;
      hold = (await vaLock.lock(lo, hi)).lock;
    }
  }

  // The ops of a request on [start, end), and what they touch.
  #generate(makeOps: () => GpuVaOps, start: bigint, end: bigint): Touched {
    const vm = this.#vm;
    vm.checkOpen();
    const touched = touchedBy(vm, makeOps(), vm.resvProtected, start, end);
    for (const bo of touched.mapped) {
      bo.checkOpen(`map in VM '${vm.name}'`);
      bo.claimMode(this.#immediate, vm.name);
    }
    return touched;
  }

  // The record of a request whose footprint `task` holds and whose ops are generated; no reservation yet.
  #inFlightRequest(task: LockTask, footprint: RangeHold, kind: RequestKind, makeOps: () => GpuVaOps, regenerate: boolean, fences: CommitFences | null, touched: Touched): InFlightRequest {
    this.#inFlight++;
    return { task, taskReusable: false, kind, makeOps, regenerate, fences, footprint, touched, resv: null, exec: null, spares: NO_PAIRS };
  }

  // Generates the ops of a request whose footprint `task` holds; a refused generation releases the footprint.
  #generateHolding(task: LockTask, footprint: RangeHold, kind: RequestKind, start: bigint, range: bigint, makeOps: () => GpuVaOps, regenerate: boolean, fences: CommitFences | null): InFlightRequest {
    let touched: Touched;
    try {
      touched = this.#generate(makeOps, start, start + range);
    } catch (err) {
      footprint.releaseHeld(task);
      throw err;
    }
    return this.#inFlightRequest(task, footprint, kind, makeOps, regenerate, fences, touched);
  }

  // A request whose footprint was contended: waits for it (in `task`, carried by AsyncLocalStorage), then
  // goes on as an uncontended one would.
  async #waitFootprintThenRun(task: LockTask, kind: RequestKind, start: bigint, range: bigint, makeOps: () => GpuVaOps, regenerate: boolean, fences: CommitFences | null): Promise<void> {
    const req = this.#generateHolding(task, await this.#lockFootprint(task, start, range), kind, start, range, makeOps, regenerate, fences);
    if (this.#tryLockObjects(req)) return this.#commit(req);
    return this.#waitObjectsThenCommit(req);
  }

  // Takes every reservation the request needs if none is contended (false, holding none, if one is): one
  // reservation by a plain trylock (a request that never waits while holding it needs no ww context), more
  // through a DrmExec.
  #tryLockObjects(req: InFlightRequest): boolean {
    try {
      const resvs = req.touched.resvs;
      if (resvs.length === 1) {
        if (!resvs[0]!.tryAcquire(req.task)) return false;
        req.resv = resvs[0]!;
      } else if (resvs.length > 1) {
        req.exec ??= new DrmExec({ ignoreDuplicates: true, name: req.kind });
        if (!req.exec.tryLockAll(resvs)) return false;
      }
      req.spares = this.#spares(req.touched);
      return true;
    } catch (err) {
      this.#unlock(req);
      throw err;
    }
  }

  // The drm_exec loop with wound-wait back-off, then commit and apply; runs as the request's task.
  async #waitObjectsThenCommit(req: InFlightRequest): Promise<void> {
    const exec = (req.exec ??= new DrmExec({ ignoreDuplicates: true, name: req.kind }));
    try {
      await exec.untilAllLocked(async (e) => {
        for (const resv of req.touched.resvs) await e.lock(resv);
      });
      req.spares = this.#spares(req.touched);
    } catch (err) {
      this.#unlock(req);
      throw err;
    }
    return this.#commit(req);
  }

  // Immediate mode may not allocate under the gpuva lock: the pairs the MAP ops need exist beforehand.
  #spares(touched: Touched): readonly VmBo[] {
    return this.#immediate ? touched.mapped.map((bo) => this.#refs.obtainPair(bo, null)) : NO_PAIRS;
  }

  // Commits the request's ops, running as its task (its caller made the task current). The backend starts
  // in that task; it sees it across its own awaits only when the request was made inside a task. A backend
  // that is done when commit() returns lets the request finish now; a promise is awaited, and each stretch
  // after it is a synchronous section of the task, which holds the locks. Never throws: the promise says.
  #commit(req: InFlightRequest): Promise<void> {
    const vm = this.#vm;
    let pending: unknown;
    try {
      pending = vm.backend.commit(vm.gpuvm, req.touched.ops, req.fences);
    } catch (err) {
      return Promise.reject(this.#abort(req, err));
    }
    if (!isThenable(pending)) {
      try {
        this.#applyAndUnlock(req);
      } catch (err) {
        return Promise.reject(err);
      }
      if (req.taskReusable && req.task.held.length === 0) this.#spareTasks[req.kind] = req.task;
      return DONE;
    }
    return this.#applyAfterBackend(req, pending);
  }

  // try/finally rather than `using` in this path: TypeScript's downlevel `using` allocates per scope.
  async #applyAfterBackend(req: InFlightRequest, pending: PromiseLike<unknown>): Promise<void> {
    let failure: { err: unknown } | null = null;
    try {
      await pending;
    } catch (err) {
      failure = { err };
    }
    const section = enterSyncSection(req.task);
    try {
      if (failure !== null) throw this.#abort(req, failure.err);
      this.#applyAndUnlock(req);
    } finally {
      leaveSyncSection(section);
    }
  }

  // A commit failed: frees the pairs this request created at once (put under the gpuva lock, leaving no
  // zombie behind) and releases every lock. Returns `err`, for the caller to throw.
  #abort(req: InFlightRequest, err: unknown): unknown {
    const kept = keepClosedBos(req.touched.relinked);
    try {
      for (const vmBo of req.spares) {
        boOf(vmBo.obj).gpuvaLock.hold(() => vmBo.put());
        this.#refs.dropCount(vmBo);
      }
    } finally {
      this.#unlock(req);
      if (kept !== null) putKeptBos(kept);
    }
    return err;
  }

  // A commit succeeded: applies its ops, then releases every lock whatever happened.
  #applyAndUnlock(req: InFlightRequest): void {
    const kept = keepClosedBos(req.touched.relinked);
    try {
      // A disjoint request may have changed the tree meanwhile, which makes the list stale though nothing
      // in this footprint moved: generate it again and check that it is the list the backend committed.
      let ops = req.touched.ops;
      if (req.regenerate && ops.generation !== this.#vm.gpuvm.generation) ops = sameOpsOrThrow(ops, req.makeOps());
      this.#apply(req, ops);
    } finally {
      this.#unlock(req);
      if (kept !== null) putKeptBos(kept);
    }
  }

  // Releases what a request holds, newest first, as its task.
  #unlock(req: InFlightRequest): void {
    try {
      if (req.exec !== null) req.exec[Symbol.dispose]();
      else if (req.resv !== null) req.resv.releaseHeld(req.task);
    } finally {
      this.#inFlight--;
      req.footprint.releaseHeld(req.task);
    }
  }

  // Synchronous: nothing else runs until the tree, pairs and lists agree again. In immediate mode the gpuva
  // lock of every BO whose pair list changes is held meanwhile, nested under the request's footprint.
  #apply(req: InFlightRequest, ops: GpuVaOps): void {
    const vm = this.#vm;
    const { task, touched } = req;
    const relinked = this.#immediate ? touched.relinked : NO_BOS;
    let locked = 0;
    try {
      for (; locked < relinked.length; locked++) relinked[locked]!.gpuvaLock.acquireSync(task, req.footprint);
      vm.gpuvm.apply(ops);
      // Staged mode created the pairs just now. Immediate mode obtained them before (the spares), which
      // listed them already, unless RESV_PROTECTED lists wait for a holder of the VM's reservation: this one.
      if (!this.#immediate || vm.resvProtected) {
        for (const bo of touched.mapped) {
          const vmBo = bo.gem.gpuvaList.get(vm.gpuvm)!;
          this.#refs.track(vmBo);
          if (vm.isExtobj(bo)) vm.extobjList.add(vmBo);
        }
      }
      for (const vmBo of req.spares) {
        vmBo.put(); // the new mapping holds a reference now, so this is never the last
        this.#refs.dropCount(vmBo);
      }
    } finally {
      while (locked > 0) relinked[--locked]!.gpuvaLock.releaseHeld(task);
    }
    // The gpuva-lock policy frees at once: pairs that lost their last mapping go now, under the request's locks.
    if (vm.policy === 'gpuva-lock' && vm.gpuvm.deferredCount > 0) vm.gpuvm.deferredCleanup();
  }
}
