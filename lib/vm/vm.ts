// SPDX-License-Identifier: MIT
// The GPU VM users call: every request is a transaction around the pure model (lib/gpuvm), run by the
// request engine (request.ts). This file is the Vm itself: what it is made of, where the model's lock
// hooks meet the VM's policy, and its lifetime. References live in references.ts, exec/evict/validate
// helpers in exec.ts, CPU reads and writes in cpu-access.ts.
//
// Lock order, checked at run time by lib/locks:
//   VA range (requests) -> dma_resv (the VM's and the BOs', one ww context) -> gem.gpuva -> extobj/evict list
// A request first locks its footprint in the VM's VA range lock: the request's range widened to every
// mapping it overlaps, since those are what its ops remove or split. Requests whose footprints overlap are
// serialised; disjoint ones interleave, and meet only on the reservations of the BOs they share.
import { assertOptionsObject, invalidArgType, invalidArgValue } from '../arg-errors.js';
import { GpuVmStateError } from '../gpuvm/errors.js';
import { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVa } from '../gpuvm/gpuva.js';
import type { GpuVmLockHooks } from '../gpuvm/lock-hooks.js';
import { GpuVaOps } from '../gpuvm/ops.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import type { GpuVmBackend } from '../backends/backend.js';
import { TrackOnlyBackend } from '../backends/track-only.js';
import { LockError } from '../locks/errors.js';
import type { DrmExec } from '../locks/exec.js';
import type { LockGuard } from '../locks/guard.js';
import { RangeLock } from '../locks/range-lock.js';
import type { ResvLock } from '../locks/resv.js';
import { DmaResv } from '../fence/dma-resv.js';
import { currentTask, requireTask, runTask } from '../locks/task.js';
import { toU64, type U64Like } from '../u64.js';
import { Bo, boOf } from './bo.js';
import { accessVa } from './cpu-access.js';
import { VmError } from './errors.js';
import { VmExecHelpers, type VmBoValidate } from './exec.js';
import { addVmFence, gatedBind, readBindFences, type AddFenceOptions, type BindFenceOptions, type CheckedBindFences } from './fences.js';
import type { Fence } from '../fence/fence.js';
import { policyIsImmediate, type VmBoPolicy } from './policy.js';
import { inTask, VmReferences } from './references.js';
import { registerVm } from './registry.js';
import { RequestEngine } from './request.js';
import { VmBoList } from './vm-bo-list.js';
import { VmBoRef } from './vm-bo-ref.js';

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
  validate?: VmBoValidate;
  /**
   * Every bind waits for the VM's BOOKKEEP fences, not only one that takes memory out of the VA space: for
   * a backend whose bind ioctl itself waits for every job of the VM (vgpuvm), so that the wait happens here,
   * without blocking the thread. Default false.
   */
  bindsWaitForJobs?: boolean;
}

/**
 * A map request: `[addr, addr+range)` of `bo` at `offset`; no bo means a sparse mapping. The fence
 * options say what the bind waits for first and what it signals at the end.
 */
export interface VmMapRequest extends BindFenceOptions {
  /** GPU virtual address where the mapping starts. */
  addr: U64Like;
  /** Length of the mapping in bytes. */
  range: U64Like;
  /** The BO mapped there; absent or null makes the range sparse. */
  bo?: Bo | null;
  /** Offset into the BO where the mapping starts (default 0). */
  offset?: U64Like;
}

/** Options of {@link Vm.execLock}. */
export interface ExecLockOptions {
  /** More BOs to lock (drm_gpuvm_exec_lock_array). */
  objects?: readonly Bo[];
  /** Locks more inside the retry loop (vm_exec->extra.fn). */
  extra?: (exec: DrmExec) => Promise<void>;
  /**
   * vm_exec->num_fences: fence slots reserved in every reservation locked (drm_exec_prepare_obj), for
   * {@link Vm.addFence}. Default 0, as in the kernel: adding a fence then fails with ERR_FENCE_NO_SLOT.
   */
  numFences?: number;
}

/** An asynchronous, transactional GPU VM over the GPUVM model, with a VmBo lifetime policy. */
// A VmBoRefOwner and a PairEvictor by shape only: releaseRef and evictPair are internal, so the published
// declarations leave them out, and an implements clause there would name members that are not there.
export class Vm implements Disposable {
  /** Name given at creation. */
  readonly name: string;
  /** The VmBo lifetime policy. */
  readonly policy: VmBoPolicy;
  /** DRM_GPUVM_RESV_PROTECTED. */
  readonly resvProtected: boolean;
  /** The pure model. Read it freely; change it only through this Vm. */
  readonly gpuvm: GpuVm;
  /** The VM's common reservation (r_obj's resv), shared by its private BOs; it holds the VM's fences. */
  readonly resv: DmaResv;
  /** The VM's VA range lock: a request holds its footprint from op generation to apply. */
  readonly vaLock: RangeLock;
  /** Where committed ops go. */
  readonly backend: GpuVmBackend;
  /**
   * vm->extobj: pairs whose BO has its own reservation. The kernel keeps this list and the evict list in
   * struct drm_gpuvm; here they live on the Vm rather than on its GpuVm because both are guarded by locks
   * (an internal one, or the VM's reservation with RESV_PROTECTED), and lib/gpuvm is the pure model that
   * takes no lock and only asserts through its hooks; every user of the lists (extobj_add at obtain and
   * map, prepare_objects, evict, validate) is one of this layer's lock-taking helpers.
   */
  readonly extobjList: VmBoList;
  /** vm->evict: pairs to validate before the next submission (see {@link extobjList} for where it lives). */
  readonly evictList: VmBoList;
  readonly #immediate: boolean;
  readonly #refs: VmReferences;
  readonly #requests: RequestEngine;
  readonly #exec: VmExecHelpers;
  readonly #bindsWaitForJobs: boolean;
  #closed = false;

  constructor(options: VmOptions) {
    assertOptionsObject(options);
    if (!['resv', 'gpuva-lock', 'deferred'].includes(options.policy)) throw invalidArgValue('options.policy', options.policy, "must be one of 'resv', 'gpuva-lock' or 'deferred'");
    if (options.validate !== undefined && typeof options.validate !== 'function') throw invalidArgType('validate', 'function', options.validate);
    if (options.bindsWaitForJobs !== undefined && typeof options.bindsWaitForJobs !== 'boolean') throw invalidArgType('options.bindsWaitForJobs', 'boolean', options.bindsWaitForJobs);
    this.#bindsWaitForJobs = options.bindsWaitForJobs === true;
    this.name = options.name ?? 'vm';
    this.policy = options.policy;
    this.resvProtected = options.resvProtected === true;
    this.#immediate = policyIsImmediate(this.policy);
    this.resv = new DmaResv(`${this.name}.resv`);
    this.vaLock = new RangeLock(`${this.name}.va`, 'gpuvm.va_range');
    this.backend = options.backend ?? new TrackOnlyBackend();
    const listResv = this.resvProtected ? this.resv : null;
    this.extobjList = new VmBoList(`${this.name}.extobj`, 'gpuvm.extobj', listResv);
    this.evictList = new VmBoList(`${this.name}.evict`, 'gpuvm.evict', listResv);
    this.#refs = new VmReferences(this, this.#immediate);
    this.#requests = new RequestEngine(this, this.#refs, this.#immediate);
    this.#exec = new VmExecHelpers(this, options.validate);
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
      // A put or cleanup that frees the pair holding a BO's last GEM reference would free the BO's locks.
      // If one is held: `resv` and `gpuva-lock` keep the GEM until it is released (their final puts run
      // under the BO's own lock by design, resv under the caller's, gpuva-lock under the one put takes);
      // `deferred` refuses, since nothing in that policy frees under a BO lock: its puts only queue, and
      // its cleanup belongs where no BO lock is held, outside what would be the signalling path.
      lastGemReference: (_vm, obj, site) => {
        const bo = boOf(obj);
        const held = bo.heldLock();
        if (held === null) return;
        if (this.policy !== 'deferred') {
          bo.keepUntilUnlocked();
          return;
        }
        throw new LockError('ERR_LOCK_FREE_WHILE_HELD', `${site} would free BO '${bo.name}' (the pair held its last reference) while ` +
          `${held.name} is held by ${held.holderTask!.label}: under the deferred policy put with putDeferred (ref.put()) and run ` +
          'deferredCleanup() where no BO lock is held; nothing changed', held.name);
      },
    };
  }

  #forgetPair(vmBo: VmBo): void {
    this.extobjList.remove(vmBo);
    this.evictList.remove(vmBo);
    this.#exec.forget(vmBo);
    this.#refs.forget(vmBo);
  }

  // ---- references ----------------------------------------------------------------------------------

  /**
   * A counted reference to the pair of `bo` in this VM, created if needed. `resv` policy:
   * drm_gpuvm_bo_obtain_locked, which needs the BO's reservation (pass its guard; the reference's drop at
   * scope exit then uses it). Other policies: drm_gpuvm_bo_obtain_prealloc, which allocates the spare
   * first and takes the gpuva lock itself.
   */
  obtain(bo: Bo, guard?: LockGuard<ResvLock>): VmBoRef {
    if (!(bo instanceof Bo)) throw invalidArgType('bo', 'Bo', bo);
    this.checkOpen();
    bo.checkOpen(`obtain in VM '${this.name}'`);
    // Where the reference was obtained, for close() to name it; the stack is formatted only if asked for.
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, this.obtain);
    return this.#refs.handOut(new VmBoRef(this, this.#refs.obtainPair(bo, guard ?? null), guard ?? null, site));
  }

  /** @internal {@link VmBoRef.put}: drops one reference by this VM's policy. */
  releaseRef(ref: VmBoRef, guard: LockGuard<ResvLock> | null): void {
    this.#refs.release(ref, guard);
  }

  /**
   * The references whose last drop was refused (a `resv` drop without the reservation's guard, say) and
   * not completed since: each is still held and counted; `put` it again with the proof to complete it.
   */
  refusedDrops(): VmBoRef[] {
    return this.#refs.refusedDrops();
  }

  /** References this VM's callers (and requests in flight) hold on `vmBo`, beyond those of its mappings. */
  refsHeld(vmBo: VmBo): number {
    return this.#refs.held(vmBo);
  }

  /** Every pair of this VM that is not freed yet: listed ones and zombies. */
  pairs(): VmBo[] {
    return this.#refs.pairs();
  }

  /** True when `vmBo` is marked evicted (vm_bo->evicted). */
  isEvicted(vmBo: VmBo): boolean {
    return this.#exec.isEvicted(vmBo);
  }

  /** drm_gpuvm_is_extobj: the BO has a reservation of its own rather than the VM's. */
  isExtobj(bo: Bo): boolean {
    return bo.resv !== this.resv;
  }

  // ---- requests ------------------------------------------------------------------------------------
  // Each is a bind: it first waits, holding nothing, for its in-fences and the VM's fences (see fences.ts),
  // then runs as one transaction, then signals its out-fence. A wait that is aborted or times out changes
  // nothing.

  /** Maps `[addr, addr+range)` of `bo` at `offset` (sparse without bo), splitting or replacing what was there. */
  map(req: VmMapRequest): Promise<void> {
    if (typeof req !== 'object' || req === null) return Promise.reject(invalidArgType('req', 'object', req));
    const bo = req.bo ?? null;
    if (bo !== null && !(bo instanceof Bo)) return Promise.reject(invalidArgType('bo', ['Bo', 'null'], bo));
    let start: bigint;
    let range: bigint;
    let fences: CheckedBindFences | null;
    try {
      start = toU64(req.addr, 'addr');
      range = toU64(req.range, 'range');
      fences = readBindFences(req);
    } catch (err) {
      return Promise.reject(err);
    }
    const mapReq = { addr: start, range, obj: bo?.gem ?? null, offset: req.offset };
    const makeOps = (): GpuVaOps => this.gpuvm.smMapOps(mapReq);
    // Nothing to wait for and nothing to signal, the common case: the request runs now.
    if (fences === null && !this.resv.hasFences) return this.#requests.run('map', start, range, makeOps, true);
    return gatedBind(this, fences, () => this.#waitsForJobs(start, range), () => this.#requests.run('map', start, range, makeOps, true, fences));
  }

  /** Unmaps `[addr, addr+range)`, splitting mappings that straddle its ends. */
  unmap(addr: U64Like, range: U64Like, options?: BindFenceOptions): Promise<void> {
    let start: bigint;
    let r: bigint;
    let fences: CheckedBindFences | null = null;
    try {
      start = toU64(addr, 'addr');
      r = toU64(range, 'range');
      if (options !== undefined) {
        assertOptionsObject(options);
        fences = readBindFences(options);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const makeOps = (): GpuVaOps => this.gpuvm.smUnmapOps(start, r);
    if (fences === null && !this.resv.hasFences) return this.#requests.run('unmap', start, r, makeOps, true);
    return gatedBind(this, fences, () => this.#waitsForJobs(start, r), () => this.#requests.run('unmap', start, r, makeOps, true, fences));
  }

  // Whether a bind on [start, start+range) waits for the VM's BOOKKEEP fences: every bind does with
  // bindsWaitForJobs, else one that takes memory out of the VA space, overlapping a mapping. An invalid
  // range overlaps nothing; the request refuses it once it runs.
  #waitsForJobs(start: bigint, range: bigint): boolean {
    if (this.#bindsWaitForJobs) return true;
    try {
      return range > 0n && this.gpuvm.vaTree.firstOverlap(start, start + range) !== null;
    } catch {
      return false;
    }
  }

  /**
   * Commits an op list generated from `vm.gpuvm` (staged use): the same transaction as map/unmap, holding
   * the whole VA space. A list generated against an older tree is refused before any reservation is taken
   * or anything committed (ERR_GPUVM_STALE_OPS).
   */
  commit(ops: GpuVaOps, options: BindFenceOptions = {}): Promise<void> {
    if (!(ops instanceof GpuVaOps)) return Promise.reject(invalidArgType('ops', 'GpuVaOps', ops));
    let fences: CheckedBindFences | null;
    try {
      assertOptionsObject(options);
      fences = readBindFences(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const removes = (): boolean => this.#bindsWaitForJobs || ops.ops.some((op) => op.type === 'unmap' || op.type === 'remap');
    const makeOps = (): GpuVaOps => {
      if (ops.vm !== this.gpuvm) throw new GpuVmStateError('ERR_GPUVM_WRONG_VM', `commit: the ops were generated for VM '${ops.vm.name}'`);
      if (ops.generation !== this.gpuvm.generation) {
        throw new GpuVmStateError('ERR_GPUVM_STALE_OPS', `commit: the tree of VM '${this.name}' changed since these ops were generated (or they were committed already)`);
      }
      return ops;
    };
    return gatedBind(this, fences, removes, () => this.#requests.run('commit', this.gpuvm.start, this.gpuvm.range, makeOps, false, fences));
  }

  /**
   * drm_gpuvm_exec_resv_add_fence (without `exec`): adds a job's `fence` to the VM's reservation with
   * `usage` and to every extobj's with `extobjUsage` (default `usage`); all of them must be held by the
   * caller (execLock; ERR_LOCK_NOT_HELD) with a slot reserved (execLock's numFences; ERR_FENCE_NO_SLOT).
   * With `exec`, drm_gpuvm_resv_add_fence: to every reservation `exec` holds, `extobjUsage` for those
   * that are not the VM's. Every reservation is checked before the fence is added to any.
   */
  addFence(fence: Fence, options: AddFenceOptions): void {
    addVmFence(this, fence, options);
  }

  /** Requests between locking their footprint and applying their ops. */
  get requestsInFlight(): number {
    return this.#requests.inFlight;
  }

  // ---- CPU access ----------------------------------------------------------------------------------

  /**
   * Reads `length` bytes at GPU address `addr` as the GPU would see them, through a backend that gives the
   * CPU a view of the VA space (the VA window): BO memory where mapped, zeros where sparse; an unmapped byte
   * refuses the whole read. Holds the range meanwhile, so no request changes it between tree and memory.
   */
  read(addr: U64Like, length: U64Like): Promise<Uint8Array> {
    return accessVa(this, 'read', addr, length, (backend, start, n) => backend.read(start, n));
  }

  /** Writes `bytes` at GPU address `addr` (see {@link Vm.read}): into BO memory, dropped where sparse. */
  write(addr: U64Like, bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(invalidArgType('bytes', 'Uint8Array', bytes));
    return accessVa(this, 'write', addr, bytes.byteLength, (backend, start) => backend.write(start, bytes));
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

  // ---- eviction, validation and exec helpers (exec.ts) ------------------------------------------

  /** @internal drm_gpuvm_bo_evict for one pair; reached through {@link Bo.evict}, which holds the BO's resv. */
  evictPair(vmBo: VmBo, evict: boolean): void {
    this.#exec.evictPair(vmBo, evict);
  }

  /** drm_gpuvm_prepare_vm: locks the VM's reservation in `exec`. */
  prepareVm(exec: DrmExec, numFences?: number): Promise<void> {
    return this.#exec.prepareVm(exec, numFences);
  }

  /**
   * drm_gpuvm_prepare_objects: locks the reservation of every extobj in `exec`. With RESV_PROTECTED the
   * VM's reservation must already be held (prepareVm first), and evicted extobjs join the evict list.
   */
  prepareObjects(exec: DrmExec, numFences?: number): Promise<void> {
    return this.#exec.prepareObjects(exec, numFences);
  }

  /** drm_gpuvm_prepare_range: locks the BO of every mapping overlapping `[addr, addr+range)` (sparse ones have none). */
  prepareRange(exec: DrmExec, addr: U64Like, range: U64Like, numFences?: number): Promise<void> {
    return this.#exec.prepareRange(exec, addr, range, numFences);
  }

  /**
   * drm_gpuvm_exec_lock (+ _array with `objects`): a DrmExec holding the VM's reservation, every extobj's,
   * `objects`' and whatever `extra` locks. Dispose it to unlock. Call it inside a task (runTask).
   */
  execLock(options: ExecLockOptions = {}): Promise<DrmExec> {
    return this.#exec.execLock(options);
  }

  /** drm_gpuvm_exec_lock_array. */
  execLockArray(objects: readonly Bo[], numFences?: number): Promise<DrmExec> {
    return this.#exec.execLock({ objects, numFences });
  }

  /** drm_gpuvm_exec_lock_range: only the BOs mapped in the range (not the VM's reservation, as in the kernel). */
  execLockRange(addr: U64Like, range: U64Like, numFences?: number): Promise<DrmExec> {
    return this.#exec.execLockRange(addr, range, numFences);
  }

  /**
   * drm_gpuvm_validate: runs the validate callback for every pair on the evict list whose BO reservation the
   * caller holds (execLock) and takes it off the list. Stops at the first error, leaving that pair and the
   * rest on the list. With RESV_PROTECTED every listed pair's reservation must be held (the VM's reservation
   * orders list changes against execLock). Without it, requests do not take the VM's reservation, so a pair
   * can join the lists after execLock's prepareObjects ran; it stays listed for the next validate.
   */
  validate(exec: DrmExec): Promise<void> {
    return this.#exec.validate(exec);
  }

  /**
   * drm_gpuvm_sm_map_exec_lock: locks, in `exec`, the BO of the request and of every mapping the request
   * would remap or unmap, before anything changes.
   */
  smMapExecLock(exec: DrmExec, req: VmMapRequest): Promise<void> {
    return this.#exec.smMapExecLock(exec, req);
  }

  /** drm_gpuvm_sm_unmap_exec_lock: the same for an unmap request. */
  smUnmapExecLock(exec: DrmExec, addr: U64Like, range: U64Like): Promise<void> {
    return this.#exec.smUnmapExecLock(exec, addr, range);
  }

  // ---- lifetime ------------------------------------------------------------------------------------

  /** The mappings, in address order (the kernel-reserved node left out). */
  mappings(): GpuVa[] {
    return [...this.gpuvm.vas()].filter((va) => va !== this.gpuvm.kernelAllocNode);
  }

  /**
   * drm_gpuvm_put of the last reference: refused (ERR_VM_BUSY, the kernel's EBUSY; nothing changed) while
   * mappings, pairs, references or zombies remain, which the kernel only WARNs about. The error names every
   * reference still held and where it was obtained (also as `err.references`). Closing twice is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    const mappings = this.mappings().length;
    const zombies = this.gpuvm.deferredCount;
    const pairs = this.#refs.pairCount - zombies;
    const refs = this.#refs.heldTotal;
    if (mappings + this.#refs.pairCount > 0) {
      const held = this.#refs.outstanding();
      const named = held.map((ref) => `the pair of BO '${ref.boName}', obtained ${ref.obtainedAt}` +
        (ref.refusal === null ? '' : ` (its drop was refused: ${ref.refusal.code})`));
      throw new VmError('ERR_VM_BUSY', `VM '${this.name}' still has ${mappings} mapping(s), ${pairs} pair(s) (${refs} reference(s) held) ` +
        `and ${zombies} zombie(s): unmap, put every reference and run deferredCleanup() before closing` +
        (named.length === 0 ? '' : `; references held: ${named.join('; ')}`), { kernelError: 'EBUSY', references: held });
    }
    this.#closed = true;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** close(), for `using`: throws as close() does while mappings or references remain. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal throws ERR_VM_CLOSED once the VM is closed. */
  checkOpen(): void {
    if (this.#closed) throw this.closedError();
  }

  /** @internal the error of a call on a closed VM. */
  closedError(): VmError {
    return new VmError('ERR_VM_CLOSED', `VM '${this.name}' is closed`);
  }
}
