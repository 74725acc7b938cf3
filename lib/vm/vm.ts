// SPDX-License-Identifier: MIT
// The GPU VM users call: every request is a transaction around the pure model (lib/gpuvm). A request takes
// the VM's request lock, generates its ops, locks the reservation of every BO they touch (drm_exec, with
// wound-wait back-off), commits the ops through the backend, and only then applies them to the tree. A
// rejected commit leaves the tree, the pairs and the refcounts exactly as they were.
//
// Lock order, checked at run time by lib/locks:
//   VA range (requests) -> dma_resv (the VM's and the BOs', one ww context) -> gem.gpuva -> extobj/evict list
// A request first locks its footprint in the VM's VA range lock: the request's range widened to every
// mapping it overlaps, since those are what its ops remove or split. Requests whose footprints overlap are
// serialised; disjoint ones interleave, and meet only on the reservations of the BOs they share.
import { GpuVmStateError, invalidArgType } from '../gpuvm/errors.js';
import type { GemObject } from '../gpuvm/gem.js';
import { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVa } from '../gpuvm/gpuva.js';
import type { GpuVmLockHooks } from '../gpuvm/lock-hooks.js';
import { GpuVaOps, opsListKey, type OpMap, type OpPrefetch, type OpRemap, type OpUnmap } from '../gpuvm/ops.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import { hasVaAccess, type GpuVaAccess, type GpuVmBackend } from '../backends/backend.js';
import { TrackOnlyBackend } from '../backends/track-only.js';
import { LockError } from '../locks/errors.js';
import { DrmExec } from '../locks/exec.js';
import type { LockGuard } from '../locks/guard.js';
import { RangeLock, type RangeHold } from '../locks/range-lock.js';
import { ResvLock } from '../locks/resv.js';
import { continueTask, currentTask, enterSyncSection, leaveSyncSection, LockTask, requireTask, runSync, runTask } from '../locks/task.js';
import { toU64, U64_MAX, type U64Like } from '../u64.js';
import { Bo, boOf } from './bo.js';
import { VmError } from './errors.js';
import { policyIsImmediate, type VmBoPolicy } from './policy.js';
import { registerVm, type PairEvictor } from './registry.js';
import { VmBoList } from './vm-bo-list.js';
import { VmBoRef, type VmBoRefOwner } from './vm-bo-ref.js';

/** How to create a {@link Vm}. */
export interface VmOptions {
  /** For messages and lock names. */
  name?: string;
  /** Who may drop the last reference to a pair, and under which lock. */
  policy: VmBoPolicy;
  /** First address of the VA space (u64). */
  start: U64Like;
  /** Size of the VA space (u64). */
  range: U64Like;
  /** Kernel-reserved node start (u64). */
  reserveOffset?: U64Like;
  /** Kernel-reserved node size (u64); 0 or absent for none. */
  reserveRange?: U64Like;
  /** DRM_GPUVM_RESV_PROTECTED: the extobj and evict lists are guarded by the VM's reservation. */
  resvProtected?: boolean;
  /** Where committed ops go; defaults to a {@link TrackOnlyBackend}. */
  backend?: GpuVmBackend;
  /** ops->vm_bo_validate: makes an evicted pair's BO resident again; without it validate() is EOPNOTSUPP. */
  validate?: (vmBo: VmBo, exec: DrmExec) => void | Promise<void>;
}

/** A map request: `[addr, addr+range)` of `bo` at `offset`; no bo means a sparse mapping. */
export interface VmMapRequest {
  addr: U64Like;
  range: U64Like;
  bo?: Bo | null;
  offset?: U64Like;
}

/** Options of {@link Vm.execLock}. */
export interface ExecLockOptions {
  /** More BOs to lock (drm_gpuvm_exec_lock_array). */
  objects?: readonly Bo[];
  /** Locks more inside the retry loop (vm_exec->extra.fn). */
  extra?: (exec: DrmExec) => Promise<void>;
}

/** What one request touches; see Vm.#touched. */
interface Touched {
  ops: GpuVaOps;
  resvs: ResvLock[];
  mapped: Bo[];
  relinked: Bo[];
  /** `[lo, hi)`: the request's own range widened to every VA its ops unmap or remap. */
  lo: bigint;
  hi: bigint;
}

/** What a transaction is: names its task and its ww acquire context. */
type RequestKind = 'map' | 'unmap' | 'commit';

/**
 * A request whose footprint its task holds and whose ops are generated. Its reservations are then taken,
 * one by trylock (`resv`) or several through `exec`; `spares` is set once they are held.
 */
interface LockedRequest {
  task: LockTask;
  /** The task is the request's own and never ran under AsyncLocalStorage: a later request may reuse it. */
  taskReusable: boolean;
  kind: RequestKind;
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

// Runs the synchronous `fn` in the caller's task, or in a task of its own named after the VM and the action.
function inTask<T>(vm: Vm, action: string, fn: () => T): T {
  return currentTask() === null ? runSync(new LockTask(`${vm.name}.${action}`), fn) : fn();
}

/** An asynchronous, transactional GPU VM over the GPUVM model, with a VmBo lifetime policy. */
export class Vm implements VmBoRefOwner, PairEvictor, Disposable {
  /** Name given at creation. */
  readonly name: string;
  /** The VmBo lifetime policy. */
  readonly policy: VmBoPolicy;
  /** DRM_GPUVM_RESV_PROTECTED. */
  readonly resvProtected: boolean;
  /** The pure model. Read it freely; change it only through this Vm. */
  readonly gpuvm: GpuVm;
  /** The VM's common reservation (r_obj's resv), shared by its private BOs. */
  readonly resv: ResvLock;
  /** The VM's VA range lock: a request holds its footprint from op generation to apply. */
  readonly vaLock: RangeLock;
  /** Where committed ops go. */
  readonly backend: GpuVmBackend;
  /** vm->extobj: pairs whose BO has its own reservation. */
  readonly extobjList: VmBoList;
  /** vm->evict: pairs to validate before the next submission. */
  readonly evictList: VmBoList;
  readonly #immediate: boolean;
  readonly #validate: VmOptions['validate'];
  readonly #pairs = new Set<VmBo>();
  readonly #refs = new Map<VmBo, number>();
  readonly #evicted = new Set<VmBo>();
  readonly #taskNames: Readonly<Record<RequestKind, string>>;
  readonly #spareTasks: Record<RequestKind, LockTask | null> = { map: null, unmap: null, commit: null };
  #inFlight = 0;
  #closed = false;

  constructor(options: VmOptions) {
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
    if (!['resv', 'gpuva-lock', 'deferred'].includes(options.policy)) throw invalidArgType('policy', `'resv', 'gpuva-lock' or 'deferred'`, options.policy);
    if (options.validate !== undefined && typeof options.validate !== 'function') throw invalidArgType('validate', 'a function', options.validate);
    this.name = options.name ?? 'vm';
    this.policy = options.policy;
    this.resvProtected = options.resvProtected === true;
    this.#immediate = policyIsImmediate(this.policy);
    this.#validate = options.validate;
    this.#taskNames = { map: `${this.name}.map`, unmap: `${this.name}.unmap`, commit: `${this.name}.commit` };
    this.resv = new ResvLock(`${this.name}.resv`);
    this.vaLock = new RangeLock(`${this.name}.va`, 'gpuvm.va_range');
    this.backend = options.backend ?? new TrackOnlyBackend();
    const listResv = this.resvProtected ? this.resv : null;
    this.extobjList = new VmBoList(`${this.name}.extobj`, 'gpuvm.extobj', listResv);
    this.evictList = new VmBoList(`${this.name}.evict`, 'gpuvm.evict', listResv);
    this.gpuvm = new GpuVm({
      name: this.name,
      start: options.start,
      range: options.range,
      reserveOffset: options.reserveOffset,
      reserveRange: options.reserveRange,
      immediateMode: this.#immediate,
      lockHooks: this.#lockHooks(),
      vmBoFree: (vmBo) => this.#forgetPair(vmBo),
    });
    registerVm(this.gpuvm, this);
  }

  // ---- lock hooks: where drm_gpuvm asserts or takes a lock, this policy answers ----------------------

  #lockHooks(): GpuVmLockHooks {
    return {
      assertGpuvaLockHeld: (_vm, obj, site) => {
        const bo = boOf(obj);
        if (this.#immediate) bo.gpuvaLock.assertHeld(site);
        else bo.resv.assertHeld(site);
        // bo_destroy edits the VM's lists; with RESV_PROTECTED that needs the VM's reservation too.
        if (site === 'drm_gpuvm_bo_put' && this.resvProtected) this.resv.assertHeld(`${site} (RESV_PROTECTED: freeing a pair edits the VM's lists)`);
      },
      lockGpuva: (_vm, obj) => {
        const lock = boOf(obj).gpuvaLock;
        lock.acquireSync(currentTask() ?? requireTask('locking', lock.name));
      },
      unlockGpuva: (_vm, obj) => {
        boOf(obj).gpuvaLock.releaseHeld(currentTask());
      },
      // No dma-fence signalling section is modelled, so there is no context in which sleeping is forbidden.
      mightSleep: () => {},
    };
  }

  #forgetPair(vmBo: VmBo): void {
    this.extobjList.remove(vmBo);
    this.evictList.remove(vmBo);
    this.#evicted.delete(vmBo);
    this.#pairs.delete(vmBo);
  }

  // ---- references ----------------------------------------------------------------------------------

  /**
   * A counted reference to the pair of `bo` in this VM, created if needed. `resv` policy:
   * drm_gpuvm_bo_obtain_locked, which needs the BO's reservation (pass its guard; the reference's drop at
   * scope exit then uses it). Other policies: drm_gpuvm_bo_obtain_prealloc, which allocates the spare
   * first and takes the gpuva lock itself.
   */
  obtain(bo: Bo, guard?: LockGuard<ResvLock>): VmBoRef {
    if (!(bo instanceof Bo)) throw invalidArgType('bo', 'a Bo', bo);
    this.#checkOpen();
    return new VmBoRef(this, this.#obtainPair(bo, guard ?? null), guard ?? null);
  }

  // One counted reference, recorded in #refs until it is dropped.
  #obtainPair(bo: Bo, guard: LockGuard<ResvLock> | null): VmBo {
    bo.claimMode(this.#immediate, this.name);
    let vmBo: VmBo;
    if (this.#immediate) {
      const spare = this.gpuvm.createVmBo(bo.gem);
      vmBo = currentTask() === null ? inTask(this, 'obtain', () => this.gpuvm.obtainPrealloc(spare)) : this.gpuvm.obtainPrealloc(spare);
    } else {
      guard?.assertHolds(bo.resv, 'drm_gpuvm_bo_obtain_locked');
      vmBo = this.gpuvm.obtain(bo.gem);
    }
    this.#pairs.add(vmBo);
    this.#refs.set(vmBo, (this.#refs.get(vmBo) ?? 0) + 1);
    // drm_gpuvm_bo_extobj_add as soon as the lock allows: an extobj pair that can be evicted must also be
    // locked by prepareObjects. Under RESV_PROTECTED that waits for the next map, which holds the VM's
    // reservation; until then an eviction only marks the pair, so it never reaches the evict list unlocked.
    if (!this.resvProtected && this.isExtobj(bo)) this.extobjList.add(vmBo);
    return vmBo;
  }

  /** @internal {@link VmBoRef.put}: drops one reference by this VM's policy. */
  releaseRef(ref: VmBoRef, guard: LockGuard<ResvLock> | null): void {
    const vmBo = ref.vmBo;
    const bo = boOf(vmBo.obj);
    if (this.policy === 'resv') {
      const proof = guard ?? ref.guard;
      if (vmBo.refcount === 1) {
        if (proof === null) {
          throw new LockError('ERR_LOCK_NOT_HELD', `the last reference to the pair of BO '${bo.name}' in VM '${this.name}' can only be ` +
            `dropped holding ${bo.resv.name} (resv policy): put(guard), or obtain(bo, guard) so that the drop uses it`, bo.resv.name);
        }
        proof.assertHolds(bo.resv, `the final put of the pair of BO '${bo.name}'`);
      }
      inTask(this, 'put', () => vmBo.put());
    } else if (this.policy === 'gpuva-lock') {
      inTask(this, 'put', () => bo.gpuvaLock.hold(() => vmBo.put()));
    } else {
      inTask(this, 'put', () => vmBo.putDeferred());
    }
    this.#dropRefCount(vmBo);
  }

  #dropRefCount(vmBo: VmBo): void {
    const n = this.#refs.get(vmBo)! - 1;
    if (n === 0) this.#refs.delete(vmBo);
    else this.#refs.set(vmBo, n);
  }

  /** References this VM's callers (and requests in flight) hold on `vmBo`, beyond those of its mappings. */
  refsHeld(vmBo: VmBo): number {
    return this.#refs.get(vmBo) ?? 0;
  }

  /** Every pair of this VM that is not freed yet: listed ones and zombies. */
  pairs(): VmBo[] {
    return [...this.#pairs];
  }

  /** True when `vmBo` is marked evicted (vm_bo->evicted). */
  isEvicted(vmBo: VmBo): boolean {
    return this.#evicted.has(vmBo);
  }

  /** drm_gpuvm_is_extobj: the BO has a reservation of its own rather than the VM's. */
  isExtobj(bo: Bo): boolean {
    return bo.resv !== this.resv;
  }

  // ---- requests ------------------------------------------------------------------------------------

  /** Maps `[addr, addr+range)` of `bo` at `offset` (sparse without bo), splitting or replacing what was there. */
  map(req: VmMapRequest): Promise<void> {
    if (typeof req !== 'object' || req === null) return Promise.reject(invalidArgType('req', 'a map request object', req));
    const bo = req.bo ?? null;
    if (bo !== null && !(bo instanceof Bo)) return Promise.reject(invalidArgType('bo', 'a Bo or null', bo));
    let start: bigint;
    let range: bigint;
    try {
      start = toU64(req.addr, 'addr');
      range = toU64(req.range, 'range');
    } catch (err) {
      return Promise.reject(err);
    }
    const mapReq = { addr: start, range, obj: bo?.gem ?? null, offset: req.offset };
    return this.#request('map', start, range, () => this.gpuvm.smMapOps(mapReq), true);
  }

  /** Unmaps `[addr, addr+range)`, splitting mappings that straddle its ends. */
  unmap(addr: U64Like, range: U64Like): Promise<void> {
    let start: bigint;
    let r: bigint;
    try {
      start = toU64(addr, 'addr');
      r = toU64(range, 'range');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#request('unmap', start, r, () => this.gpuvm.smUnmapOps(start, r), true);
  }

  /**
   * Commits an op list generated from `vm.gpuvm` (staged use): the same transaction as map/unmap, holding
   * the whole VA space. A list generated against an older tree is refused before any reservation is taken
   * or anything committed (ERR_GPUVM_STALE_OPS).
   */
  commit(ops: GpuVaOps): Promise<void> {
    if (!(ops instanceof GpuVaOps)) return Promise.reject(invalidArgType('ops', 'a GpuVaOps list', ops));
    const makeOps = (): GpuVaOps => {
      if (ops.vm !== this.gpuvm) throw new GpuVmStateError('ERR_GPUVM_WRONG_VM', `commit: the ops were generated for VM '${ops.vm.name}'`);
      if (ops.generation !== this.gpuvm.generation) {
        throw new GpuVmStateError('ERR_GPUVM_STALE_OPS', `commit: the tree of VM '${this.name}' changed since these ops were generated (or they were committed already)`);
      }
      return ops;
    };
    return this.#request('commit', this.gpuvm.start, this.gpuvm.range, makeOps, false);
  }

  /**
   * Reads `length` bytes at GPU address `addr` as the GPU would see them, through a backend that gives the
   * CPU a view of the VA space (the VA window): BO memory where mapped, zeros where sparse; an unmapped byte
   * refuses the whole read. Holds the range meanwhile, so no request changes it between tree and memory.
   */
  read(addr: U64Like, length: U64Like): Promise<Uint8Array> {
    return this.#access('read', addr, length, (backend, start, n) => backend.read(start, n));
  }

  /** Writes `bytes` at GPU address `addr` (see {@link Vm.read}): into BO memory, dropped where sparse. */
  write(addr: U64Like, bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(invalidArgType('bytes', 'a Uint8Array', bytes));
    return this.#access('write', addr, bytes.byteLength, (backend, start) => backend.write(start, bytes));
  }

  // A CPU access to [addr, addr+length) under the VA range lock: requests whose footprint overlaps it
  // finish first, so the backend's memory and the tree agree while it reads or writes.
  #access<T>(kind: string, addr: U64Like, length: U64Like, access: (backend: GpuVaAccess, start: bigint, n: bigint) => T): Promise<T> {
    let start: bigint;
    let n: bigint;
    try {
      this.#checkOpen();
      start = toU64(addr, 'addr');
      n = toU64(length, 'length');
      if (!hasVaAccess(this.backend)) {
        throw new VmError('ERR_VM_NO_VA_ACCESS', `${kind}: the '${this.backend.name}' backend of VM '${this.name}' gives the CPU no view of its VA space (use the VA window backend)`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const backend = this.backend;
    // An empty or overflowing range still locks one unit at its start; the backend then refuses it properly.
    const end = n === 0n || start + n > U64_MAX ? start + 1n : start + n;
    const locked = async (): Promise<T> => {
      const guard = await this.vaLock.lock(start, end);
      try {
        this.#checkOpen();
        return access(backend, start, n);
      } finally {
        guard.release();
      }
    };
    const outer = currentTask();
    return outer !== null ? locked() : continueTask(new LockTask(`${this.name}.${kind}`), locked);
  }

  /** Requests between locking their footprint and applying their ops. */
  get requestsInFlight(): number {
    return this.#inFlight;
  }

  // The uncontended request takes every lock without waiting, in synchronous code that knows its task, and
  // holds them without guards (it releases them itself). A backend that is done when commit() returns lets
  // the whole request run in that one synchronous stretch; one that returns a promise is awaited once. No
  // AsyncLocalStorage (whose promise hooks tax every promise once enabled) on that path. A request that must
  // wait for a lock goes on from where it stopped, carried by AsyncLocalStorage. Requests made inside a task
  // run in it; others get their own, which the next request may reuse when this one ends in its first
  // stretch (no await ever carried it, so nothing can still run as it).
  #request(kind: RequestKind, start: bigint, range: bigint, makeOps: () => GpuVaOps, regenerate: boolean): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const outer = currentTask();
    let task = outer;
    if (task === null) {
      task = this.#spareTasks[kind] ?? new LockTask(this.#taskNames[kind]);
      this.#spareTasks[kind] = null;
    }
    let begun: LockedRequest | null = null;
    const section = enterSyncSection(task);
    try {
      if (this.vaLock.idle) {
        // No request in flight and none waiting: nothing can change the tree before this one holds its
        // footprint, so it generates its ops first and locks exactly the range they touch.
        const touched = this.#generate(makeOps, start, start + range);
        begun = this.#started(task, this.vaLock.tryHold(task, touched.lo, touched.hi)!, kind, touched);
      } else {
        const [lo, hi] = this.#footprint(start, range);
        const hold = this.vaLock.tryHold(task, lo, hi);
        if (hold !== null) begun = this.#begin(task, hold, kind, start, range, makeOps);
      }
      if (begun !== null && this.#lockObjectsNow(begun)) {
        begun.taskReusable = outer === null;
        return this.#commit(begun, makeOps, regenerate);
      }
    } catch (err) {
      return Promise.reject(err);
    } finally {
      leaveSyncSection(section);
    }
    const started = begun;
    const wait = started === null
      ? (): Promise<void> => this.#transact(task, kind, start, range, makeOps, regenerate)
      : (): Promise<void> => this.#lockObjectsAndCommit(started, makeOps, regenerate);
    return outer !== null ? wait() : continueTask(task, wait);
  }

  // What a request on [start, start+range) may touch: that range widened to every mapping overlapping it.
  // An invalid range locks one unit at its start; op generation then refuses it with the proper error. VAs
  // do not overlap, so only the one covering the first address can start before the range and only the one
  // covering the last address can end after it: two lookups, however many mappings lie in between.
  #footprint(start: bigint, range: bigint): [bigint, bigint] {
    if (range === 0n || start + range - 1n > U64_MAX) return [start, start + 1n];
    const end = start + range;
    const first = this.gpuvm.vaTree.firstOverlap(start, start + 1n);
    const last = this.gpuvm.vaTree.firstOverlap(end - 1n, end);
    const lo = first !== null && first.addr < start ? first.addr : start;
    const lastEnd = last === null ? end : last.addr + last.range;
    return [lo, lastEnd > end ? lastEnd : end];
  }

  // Locks the footprint for `task`, widening the lock until it covers the footprint as it is once held.
  async #lockFootprint(task: LockTask, start: bigint, range: bigint): Promise<RangeHold> {
    let [lo, hi] = this.#footprint(start, range);
    // Taken without waiting, nothing can have moved in between: the footprint is still [lo, hi).
    const now = this.vaLock.tryHold(task, lo, hi);
    if (now !== null) return now;
    let hold = (await this.vaLock.lock(lo, hi)).lock;
    for (;;) {
      const [l, h] = this.#footprint(start, range);
      if (l >= lo && h <= hi) return hold;
      hold.releaseHeld(task);
      if (l < lo) lo = l;
      if (h > hi) hi = h;
      hold = (await this.vaLock.lock(lo, hi)).lock;
    }
  }

  // A request whose footprint `task` holds and whose ops are generated; no reservation taken yet.
  #started(task: LockTask, footprint: RangeHold, kind: RequestKind, touched: Touched): LockedRequest {
    this.#inFlight++;
    return { task, taskReusable: false, kind, footprint, touched, resv: null, exec: null, spares: NO_PAIRS };
  }

  // A request whose footprint `task` holds: its ops generated, no reservation taken yet.
  #begin(task: LockTask, footprint: RangeHold, kind: RequestKind, start: bigint, range: bigint, makeOps: () => GpuVaOps): LockedRequest {
    let touched: Touched;
    try {
      touched = this.#generate(makeOps, start, start + range);
    } catch (err) {
      footprint.releaseHeld(task);
      throw err;
    }
    return this.#started(task, footprint, kind, touched);
  }

  // Takes every reservation the request needs if none is contended (false, holding none, if one is): one
  // reservation by a plain trylock (a request that never waits while holding it needs no ww context), more
  // through a DrmExec.
  #lockObjectsNow(req: LockedRequest): boolean {
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
      this.#release(req);
      throw err;
    }
  }

  // The drm_exec loop with wound-wait back-off, then commit and apply; runs as the request's task.
  async #lockObjectsAndCommit(req: LockedRequest, makeOps: () => GpuVaOps, regenerate: boolean): Promise<void> {
    const exec = (req.exec ??= new DrmExec({ ignoreDuplicates: true, name: req.kind }));
    try {
      await exec.untilAllLocked(async (e) => {
        for (const resv of req.touched.resvs) await e.lock(resv);
      });
      req.spares = this.#spares(req.touched);
    } catch (err) {
      this.#release(req);
      throw err;
    }
    return this.#commit(req, makeOps, regenerate);
  }

  // A request whose footprint was contended: waits for it (in `task`, carried by AsyncLocalStorage), then
  // goes on as an uncontended one would.
  async #transact(task: LockTask, kind: RequestKind, start: bigint, range: bigint, makeOps: () => GpuVaOps, regenerate: boolean): Promise<void> {
    const req = this.#begin(task, await this.#lockFootprint(task, start, range), kind, start, range, makeOps);
    if (this.#lockObjectsNow(req)) return this.#commit(req, makeOps, regenerate);
    return this.#lockObjectsAndCommit(req, makeOps, regenerate);
  }

  // The ops of a request on [start, end), and what they touch.
  #generate(makeOps: () => GpuVaOps, start: bigint, end: bigint): Touched {
    this.#checkOpen();
    const touched = this.#touched(makeOps(), this.resvProtected, start, end);
    for (const bo of touched.mapped) bo.claimMode(this.#immediate, this.name);
    return touched;
  }

  // Immediate mode may not allocate under the gpuva lock: the pairs the MAP ops need exist beforehand.
  #spares(touched: Touched): readonly VmBo[] {
    return this.#immediate ? touched.mapped.map((bo) => this.#obtainPair(bo, null)) : NO_PAIRS;
  }

  // Commits the request's ops, running as its task (its caller made the task current). The backend starts
  // in that task; it sees it across its own awaits only when the request was made inside a task. A backend
  // that is done when commit() returns lets the request finish now; a promise is awaited, and each stretch
  // after it is a synchronous section of the task, which holds the locks. Never throws: the promise says.
  #commit(req: LockedRequest, makeOps: () => GpuVaOps, regenerate: boolean): Promise<void> {
    let pending: unknown;
    try {
      pending = this.backend.commit(this.gpuvm, req.touched.ops);
    } catch (err) {
      return Promise.reject(this.#failed(req, err));
    }
    if (!isThenable(pending)) {
      try {
        this.#finish(req, makeOps, regenerate);
      } catch (err) {
        return Promise.reject(err);
      }
      if (req.taskReusable && req.task.held.length === 0) this.#spareTasks[req.kind] = req.task;
      return DONE;
    }
    return this.#finishLater(req, pending, makeOps, regenerate);
  }

  // try/finally rather than `using` in this path: TypeScript's downlevel `using` allocates per scope.
  async #finishLater(req: LockedRequest, pending: PromiseLike<unknown>, makeOps: () => GpuVaOps, regenerate: boolean): Promise<void> {
    let failure: { err: unknown } | null = null;
    try {
      await pending;
    } catch (err) {
      failure = { err };
    }
    const section = enterSyncSection(req.task);
    try {
      if (failure !== null) throw this.#failed(req, failure.err);
      this.#finish(req, makeOps, regenerate);
    } finally {
      leaveSyncSection(section);
    }
  }

  // A commit failed: frees the pairs this request created at once (put under the gpuva lock, leaving no
  // zombie behind) and releases every lock. Returns `err`, for the caller to throw.
  #failed(req: LockedRequest, err: unknown): unknown {
    try {
      for (const vmBo of req.spares) {
        boOf(vmBo.obj).gpuvaLock.hold(() => vmBo.put());
        this.#dropRefCount(vmBo);
      }
    } finally {
      this.#release(req);
    }
    return err;
  }

  // A commit succeeded: applies its ops, then releases every lock whatever happened.
  #finish(req: LockedRequest, makeOps: () => GpuVaOps, regenerate: boolean): void {
    try {
      // A disjoint request may have changed the tree meanwhile, which makes the list stale though nothing
      // in this footprint moved: generate it again and check that it is the list the backend committed.
      let ops = req.touched.ops;
      if (regenerate && ops.generation !== this.gpuvm.generation) ops = sameOpsOrThrow(ops, makeOps());
      this.#apply(req, ops);
    } finally {
      this.#release(req);
    }
  }

  // Releases what a request holds, newest first, as its task.
  #release(req: LockedRequest): void {
    try {
      if (req.exec !== null) req.exec[Symbol.dispose]();
      else if (req.resv !== null) req.resv.releaseHeld(req.task);
    } finally {
      this.#inFlight--;
      req.footprint.releaseHeld(req.task);
    }
  }

  // What a request on [start, end) touches: the reservations to lock (with RESV_PROTECTED the VM's first,
  // since it guards the lists the request edits, as drm_gpuvm_prepare_vm would; then each op's BO, as
  // sm_map_exec_lock would), the BOs it maps, the BOs whose pair lists change, and the range its ops reach.
  // Without RESV_PROTECTED the VM's reservation is not needed, and leaving it alone is what lets disjoint
  // requests interleave.
  #touched(ops: GpuVaOps, withVmResv: boolean, start: bigint, end: bigint): Touched {
    const resvs = withVmResv ? [this.resv] : [];
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

  // Synchronous: nothing else runs until the tree, pairs and lists agree again. In immediate mode the gpuva
  // lock of every BO whose pair list changes is held meanwhile, nested under the request's footprint.
  #apply(req: LockedRequest, ops: GpuVaOps): void {
    const { task, touched } = req;
    const relinked = this.#immediate ? touched.relinked : NO_BOS;
    let locked = 0;
    try {
      for (; locked < relinked.length; locked++) relinked[locked]!.gpuvaLock.acquireSync(task, req.footprint);
      this.gpuvm.apply(ops);
      // Staged mode created the pairs just now. Immediate mode obtained them before (the spares), which
      // listed them already, unless RESV_PROTECTED lists wait for a holder of the VM's reservation: this one.
      if (!this.#immediate || this.resvProtected) {
        for (const bo of touched.mapped) {
          const vmBo = bo.gem.gpuvaList.get(this.gpuvm)!;
          this.#pairs.add(vmBo);
          if (this.isExtobj(bo)) this.extobjList.add(vmBo);
        }
      }
      for (const vmBo of req.spares) {
        vmBo.put(); // the new mapping holds a reference now, so this is never the last
        this.#dropRefCount(vmBo);
      }
    } finally {
      while (locked > 0) relinked[--locked]!.gpuvaLock.releaseHeld(task);
    }
    // The gpuva-lock policy frees at once: pairs that lost their last mapping go now, under the request's locks.
    if (this.policy === 'gpuva-lock' && this.gpuvm.deferredCount > 0) this.gpuvm.deferredCleanup();
  }

  async #lockOpObjects(exec: DrmExec, ops: GpuVaOps): Promise<void> {
    for (const resv of this.#touched(ops, false, this.gpuvm.start, this.gpuvm.start).resvs) await exec.lock(resv);
  }

  // ---- deferred cleanup ----------------------------------------------------------------------------

  /**
   * drm_gpuvm_bo_deferred_cleanup: frees the zombies left by deferred puts and returns how many. With
   * RESV_PROTECTED it takes the VM's reservation itself (the caller must not hold it).
   */
  async deferredCleanup(): Promise<number> {
    if (this.gpuvm.deferredCount === 0) return 0;
    if (!this.resvProtected) return inTask(this, 'deferredCleanup', () => this.gpuvm.deferredCleanup());
    const locked = async (): Promise<number> => {
      using _resv = await this.resv.lock();
      return this.gpuvm.deferredCleanup();
    };
    return currentTask() === null ? runTask(`${this.name}.deferredCleanup`, locked) : locked();
  }

  // ---- eviction and validation ----------------------------------------------------------------------

  /** @internal drm_gpuvm_bo_evict for one pair; reached through {@link Bo.evict}, which holds the BO's resv. */
  evictPair(vmBo: VmBo, evict: boolean): void {
    const bo = boOf(vmBo.obj);
    bo.resv.assertHeld('drm_gpuvm_bo_evict');
    if (evict) this.#evicted.add(vmBo);
    else this.#evicted.delete(vmBo);
    // An extobj's list update waits for prepareObjects, which runs with the VM's reservation held.
    if (this.isExtobj(bo) && this.resvProtected) return;
    if (evict) this.evictList.add(vmBo);
    else this.evictList.remove(vmBo);
  }

  /** drm_gpuvm_prepare_vm: locks the VM's reservation in `exec`. */
  async prepareVm(exec: DrmExec): Promise<void> {
    await exec.lock(this.resv);
  }

  /**
   * drm_gpuvm_prepare_objects: locks the reservation of every extobj in `exec`. With RESV_PROTECTED the
   * VM's reservation must already be held (prepareVm first), and evicted extobjs join the evict list.
   */
  async prepareObjects(exec: DrmExec): Promise<void> {
    const extobjs = this.extobjList.entries();
    for (const vmBo of extobjs) await exec.lock(boOf(vmBo.obj).resv);
    if (this.resvProtected) for (const vmBo of extobjs) if (this.#evicted.has(vmBo)) this.evictList.add(vmBo);
  }

  /** drm_gpuvm_prepare_range: locks the BO of every mapping overlapping `[addr, addr+range)` (sparse ones have none). */
  async prepareRange(exec: DrmExec, addr: U64Like, range: U64Like): Promise<void> {
    const start = toU64(addr, 'addr');
    const end = start + toU64(range, 'range');
    const gems = new Set<GemObject>();
    for (const va of this.gpuvm.vasInRange(start, end)) if (va.obj !== null) gems.add(va.obj);
    for (const gem of gems) await exec.lock(boOf(gem).resv);
  }

  /**
   * drm_gpuvm_exec_lock (+ _array with `objects`): a DrmExec holding the VM's reservation, every extobj's,
   * `objects`' and whatever `extra` locks. Dispose it to unlock. Call it inside a task (runTask).
   */
  async execLock(options: ExecLockOptions = {}): Promise<DrmExec> {
    return this.#lockedExec('exec_lock', async (e) => {
      await this.prepareVm(e);
      await this.prepareObjects(e);
      for (const bo of options.objects ?? []) await e.lock(bo.resv);
      await options.extra?.(e);
    });
  }

  /** drm_gpuvm_exec_lock_array. */
  async execLockArray(objects: readonly Bo[]): Promise<DrmExec> {
    return this.execLock({ objects });
  }

  /** drm_gpuvm_exec_lock_range: only the BOs mapped in the range (not the VM's reservation, as in the kernel). */
  async execLockRange(addr: U64Like, range: U64Like): Promise<DrmExec> {
    return this.#lockedExec('exec_lock_range', (e) => this.prepareRange(e, addr, range));
  }

  async #lockedExec(what: string, step: (exec: DrmExec) => Promise<void>): Promise<DrmExec> {
    this.#checkOpen();
    const exec = new DrmExec({ ignoreDuplicates: true, name: `${this.name}.${what}` });
    try {
      await exec.untilAllLocked(step);
    } catch (err) {
      exec[Symbol.dispose]();
      throw err;
    }
    return exec;
  }

  /**
   * drm_gpuvm_validate: runs the validate callback for every pair on the evict list whose BO reservation the
   * caller holds (execLock) and takes it off the list. Stops at the first error, leaving that pair and the
   * rest on the list. With RESV_PROTECTED every listed pair's reservation must be held (the VM's reservation
   * orders list changes against execLock). Without it, requests do not take the VM's reservation, so a pair
   * can join the lists after execLock's prepareObjects ran; it stays listed for the next validate.
   */
  async validate(exec: DrmExec): Promise<void> {
    const validate = this.#validate;
    if (validate === undefined) throw new VmError('EOPNOTSUPP', `VM '${this.name}' was created without a validate callback`);
    for (const vmBo of this.evictList.entries()) {
      const resv = boOf(vmBo.obj).resv;
      if (this.resvProtected) resv.assertHeld('drm_gpuvm_validate');
      else if (!resv.isHeld()) continue;
      await validate(vmBo, exec);
      if (vmBo.state === 'freed') continue;
      this.#evicted.delete(vmBo);
      this.evictList.remove(vmBo);
    }
  }

  /**
   * drm_gpuvm_sm_map_exec_lock: locks, in `exec`, the BO of the request and of every mapping the request
   * would remap or unmap, before anything changes.
   */
  async smMapExecLock(exec: DrmExec, req: VmMapRequest): Promise<void> {
    const bo = req.bo ?? null;
    if (bo !== null && !(bo instanceof Bo)) throw invalidArgType('bo', 'a Bo or null', bo);
    await this.#lockOpObjects(exec, this.gpuvm.smMapOps({ addr: req.addr, range: req.range, obj: bo?.gem ?? null, offset: req.offset }));
  }

  /** drm_gpuvm_sm_unmap_exec_lock: the same for an unmap request. */
  async smUnmapExecLock(exec: DrmExec, addr: U64Like, range: U64Like): Promise<void> {
    await this.#lockOpObjects(exec, this.gpuvm.smUnmapOps(addr, range));
  }

  // ---- lifetime ------------------------------------------------------------------------------------

  /** The mappings, in address order (the kernel-reserved node left out). */
  mappings(): GpuVa[] {
    return [...this.gpuvm.vas()].filter((va) => va !== this.gpuvm.kernelAllocNode);
  }

  /**
   * drm_gpuvm_put of the last reference: refused (EBUSY, nothing changed) while mappings, pairs, references
   * or zombies remain, which the kernel only WARNs about. Closing twice is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    const mappings = this.mappings().length;
    const zombies = this.gpuvm.deferredCount;
    const pairs = this.#pairs.size - zombies;
    let refs = 0;
    for (const n of this.#refs.values()) refs += n;
    if (mappings + this.#pairs.size > 0) {
      throw new VmError('EBUSY', `VM '${this.name}' still has ${mappings} mapping(s), ${pairs} pair(s) (${refs} reference(s) held) ` +
        `and ${zombies} zombie(s): unmap, put every reference and run deferredCleanup() before closing`);
    }
    this.#closed = true;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): VmError {
    return new VmError('ERR_VM_CLOSED', `VM '${this.name}' is closed`);
  }
}
