// SPDX-License-Identifier: MIT
// One GPU virtual address space, the kernel's struct drm_gpuvm: the VA tree, the kernel-reserved node,
// lookups, the op generators, the helpers that apply ops, and the VmBo lifetime entry points.
// Pure and synchronous. GPUVM takes no locks of its own: where the kernel asserts one, a lock hook runs.
import { toU64, U64_LIMIT, type U64Like } from '../u64.js';
import { assertOptionsObject, invalidArgType } from '../arg-errors.js';
import { GpuVmRequestError, GpuVmStateError, type GpuVmRequestReason } from './errors.js';
import { GemObject } from './gem.js';
import { GpuVa, initGpuVa } from './gpuva.js';
import { noLockHooks, type GpuVmLockHooks } from './lock-hooks.js';
import {
  GpuVaOps, OpMap, OpMapped, OpPrefetch, OpRemap, OpRemapped, OpUnmap, OpUnmapped, opsListKey, opTokenKey, type GpuVaOp,
} from './ops.js';
import { splitMergeMap, splitMergeUnmap, type CheckedMapRequest, type SplitMergeSink } from './split-merge.js';
import { EXACT_LIMIT, keyOf } from './u64-key.js';
import { VaTree } from './va-tree.js';
import { VaWalk } from './va-walk.js';
import { VmBo } from './vm-bo.js';

/** How to create a GpuVm (drm_gpuvm_init). */
export interface GpuVmOptions {
  /** A name for messages; defaults to `'unknown'` like the kernel. */
  name?: string;
  /** First address of the VA space (u64). */
  start: U64Like;
  /** Size of the VA space (u64); start + range must not pass 2^64-1. */
  range: U64Like;
  /** Start of the kernel-reserved node, if any. */
  reserveOffset?: U64Like;
  /** Size of the kernel-reserved node; 0 or absent for none. */
  reserveRange?: U64Like;
  /**
   * DRM_GPUVM_IMMEDIATE_MODE: VmBo lists are guarded by the GEM's gpuva mutex, putDeferred,
   * unlinkDefer and obtainPrealloc are allowed and obtain (obtain_locked) is not.
   */
  immediateMode?: boolean;
  /** Lock hooks called where the kernel asserts or takes a lock; default: none. */
  lockHooks?: GpuVmLockHooks;
  /** ops->vm_bo_free: called once when a VmBo is freed (final put, deferred cleanup, spare disposal). */
  vmBoFree?: (vmBo: VmBo) => void;
}

/** A map request (struct drm_gpuvm_map_req): `[addr, addr+range)` of `obj` at `offset`; no obj means sparse. */
export interface GpuVmMapRequest {
  /** Start address. */
  addr: U64Like;
  /** Length, > 0. */
  range: U64Like;
  /** The GEM, or null/absent for a sparse mapping. */
  obj?: GemObject | null;
  /** Offset into the GEM; defaults to 0. */
  offset?: U64Like;
}

/** Step callbacks of {@link GpuVm.smMap} (the kernel's sm_step_map/remap/unmap). Each applies its op. */
export interface SmMapSteps {
  /** Apply the MAP op (e.g. with `vm.applyMap`) and return its token. */
  map(op: OpMap): OpMapped;
  /** Apply the REMAP op (`vm.applyRemap`) and return its token. */
  remap(op: OpRemap): OpRemapped;
  /** Apply the UNMAP op (`vm.applyUnmap`) and return its token. */
  unmap(op: OpUnmap): OpUnmapped;
}

/** Step callbacks of {@link GpuVm.smUnmap}. */
export type SmUnmapSteps = Pick<SmMapSteps, 'remap' | 'unmap'>;

/** What {@link GpuVm.apply} did. */
export interface AppliedOps {
  /** The VAs inserted (MAP ops and remap pieces), in op order. */
  readonly inserted: GpuVa[];
  /** The VAs removed (UNMAP ops and remapped VAs), in op order: the Rust abstraction's `GpuVaRemoved`. */
  readonly removed: GpuVa[];
}

/** A GPU VA space `[start, start+range)`. */
export class GpuVm {
  /** Name given at creation. */
  readonly name: string;
  /** First address (the kernel's mm_start). */
  readonly start: bigint;
  /** Size (mm_range). */
  readonly range: bigint;
  /** DRM_GPUVM_IMMEDIATE_MODE. */
  readonly immediateMode: boolean;
  /** The lock hooks given at creation. */
  readonly lockHooks: GpuVmLockHooks;
  /** The kernel-reserved node (kernel_alloc_node), a VA in the tree without a GEM; null if none. */
  readonly kernelAllocNode: GpuVa | null;
  /** @internal the address-ordered tree (the kernel's rb.tree and rb.list). */
  readonly vaTree: VaTree = new VaTree(this);
  /** @internal the cursor op lists reuse: they run no callback mid-walk, so their walks never nest. */
  readonly listWalk: VaWalk = new VaWalk(this.vaTree);
  /** @internal bumped by every insert and remove, so op lists can tell they went stale. */
  generation = 0;
  /** @internal the kernel's bo_defer: zombies waiting for deferredCleanup. */
  boDefer: VmBo[] = [];
  private readonly end: bigint;
  // The keys of start and end, and of the reserved node's bounds (an empty interval at 0 when there is none).
  private readonly startKey: number;
  private readonly endKey: number;
  private nodeStartKey = 0;
  private nodeEndKey = 0;
  private readonly vmBoFreeCallback: ((vmBo: VmBo) => void) | undefined;

  /** drm_gpuvm_init. Throws GpuVmRequestError if the space or the reserved node is invalid. */
  constructor(options: GpuVmOptions) {
    assertOptionsObject(options);
    const start = toU64(options.start, 'start');
    const range = toU64(options.range, 'range');
    const reserveOffset = toU64(options.reserveOffset ?? 0n, 'reserveOffset');
    const reserveRange = toU64(options.reserveRange ?? 0n, 'reserveRange');
    const hooks = options.lockHooks ?? noLockHooks;
    for (const key of ['assertGpuvaLockHeld', 'lockGpuva', 'unlockGpuva', 'mightSleep'] as const) {
      if (typeof hooks[key] !== 'function') throw invalidArgType(`lockHooks.${key}`, 'function', hooks[key]);
    }
    if (hooks.lastGemReference !== undefined && typeof hooks.lastGemReference !== 'function') {
      throw invalidArgType('lockHooks.lastGemReference', 'function', hooks.lastGemReference);
    }
    if (options.vmBoFree !== undefined && typeof options.vmBoFree !== 'function') {
      throw invalidArgType('vmBoFree', 'function', options.vmBoFree);
    }
    if (start + range >= U64_LIMIT) throw new GpuVmRequestError('overflow', `VM start 0x${start.toString(16)} + range 0x${range.toString(16)} passes 2^64-1`);
    this.name = options.name ?? 'unknown';
    this.start = start;
    this.range = range;
    this.end = start + range;
    this.startKey = keyOf(start);
    this.endKey = keyOf(this.end);
    this.immediateMode = options.immediateMode === true;
    this.lockHooks = hooks;
    this.vmBoFreeCallback = options.vmBoFree;
    this.kernelAllocNode = null;
    if (reserveRange !== 0n) {
      const reason = this.rangeProblem(reserveOffset, reserveRange);
      if (reason !== null) throw new GpuVmRequestError(reason, `reserved node [0x${reserveOffset.toString(16)}, +0x${reserveRange.toString(16)}) is ${reason.replace('_', ' ')}`);
      const node = initGpuVa(new GpuVa(), reserveOffset, reserveRange, null, 0n);
      this.kernelAllocNode = node;
      this.nodeStartKey = keyOf(reserveOffset);
      this.nodeEndKey = keyOf(reserveOffset + reserveRange);
      this.insertNode(node);
    }
  }

  // ---- the VA space -------------------------------------------------------------------------------

  /**
   * drm_gpuvm_range_valid: `[addr, addr+range)` does not overflow, lies inside the VM and does not
   * overlap the reserved node. Like the kernel it does not refuse a zero range.
   */
  rangeValid(addr: U64Like, range: U64Like): boolean {
    const a = toU64(addr, 'addr');
    const r = toU64(range, 'range');
    return this.rangeProblem(a, r) === null;
  }

  /** drm_gpuvm_interval_empty: no VA (the reserved node included) overlaps `[addr, addr+range)`. */
  intervalEmpty(addr: U64Like, range: U64Like): boolean {
    return this.findFirst(addr, range) === null;
  }

  /** Number of VAs in the tree, not counting the reserved node. */
  get vaCount(): number {
    return this.vaTree.size - (this.kernelAllocNode === null ? 0 : 1);
  }

  // ---- lookups ------------------------------------------------------------------------------------

  /**
   * drm_gpuva_find_first: the lowest VA overlapping `[addr, addr+range)` (the reserved node included).
   * addr + range may be 2^64 (to the top of the space); an empty range overlaps nothing.
   */
  findFirst(addr: U64Like, range: U64Like): GpuVa | null {
    const a = toU64(addr, 'addr');
    const end = lookupEnd(a, toU64(range, 'range'));
    return this.vaTree.firstOverlap(a, end);
  }

  /** drm_gpuva_find: the VA that is exactly `[addr, addr+range)`, or null. */
  find(addr: U64Like, range: U64Like): GpuVa | null {
    const a = toU64(addr, 'addr');
    const r = toU64(range, 'range');
    const va = this.vaTree.firstOverlap(a, lookupEnd(a, r));
    return va !== null && va.addr === a && va.range === r ? va : null;
  }

  /**
   * drm_gpuva_find_prev: the VA covering `start-1`, null when `[start-1, start)` is not a valid range.
   * Kernel quirk kept: when nothing covers start-1 but a VA begins at `start`, that VA is returned.
   */
  findPrev(start: U64Like): GpuVa | null {
    const s = toU64(start, 'start');
    if (s === 0n || this.rangeProblem(s - 1n, 1n) !== null) return null;
    return this.vaTree.firstOverlap(s - 1n, s + 1n);
  }

  /**
   * drm_gpuva_find_next: the VA covering `end`, null when `[end, end+1)` is not a valid range.
   * Kernel quirk kept: when nothing covers `end` but a VA begins at end+1, that VA is returned.
   */
  findNext(end: U64Like): GpuVa | null {
    const e = toU64(end, 'end');
    if (this.rangeProblem(e, 1n) !== null) return null;
    return this.vaTree.firstOverlap(e, e + 2n);
  }

  /**
   * drm_gpuvm_for_each_va_safe: every VA in address order, the reserved node included. The current VA
   * may be removed while iterating.
   */
  *vas(): IterableIterator<GpuVa> {
    let va = this.vaTree.first();
    while (va !== null) {
      const next = this.vaTree.next(va);
      yield va;
      va = next;
    }
  }

  /**
   * drm_gpuvm_for_each_va_range_safe: the VAs overlapping `[start, end)` in address order (the reserved
   * node included when it overlaps); `end` may be 2^64. The current VA may be removed while iterating.
   */
  *vasInRange(start: U64Like, end: U64Like): IterableIterator<GpuVa> {
    const s = toU64(start, 'start');
    const e = toU64Or2p64(end, 'end');
    let va = this.vaTree.firstOverlap(s, e);
    while (va !== null && va.addr < e) {
      const next = this.vaTree.next(va);
      yield va;
      va = next;
    }
  }

  /** Same as {@link GpuVm.vas}. */
  [Symbol.iterator](): IterableIterator<GpuVa> {
    return this.vas();
  }

  /** The VA after `va` in address order (the sorted list's next), or null. */
  nextVa(va: GpuVa): GpuVa | null {
    this.checkOwnVa(va, 'nextVa');
    return this.vaTree.next(va);
  }

  /** The VA before `va` in address order, or null. */
  prevVa(va: GpuVa): GpuVa | null {
    this.checkOwnVa(va, 'prevVa');
    return this.vaTree.prev(va);
  }

  // ---- insert / remove ----------------------------------------------------------------------------

  /**
   * drm_gpuva_insert: inserts a VA that is in no tree. Throws GpuVmRequestError when the range is not
   * valid (zero range included), GpuVmStateError ERR_GPUVM_VA_EXISTS when it overlaps a VA.
   */
  insert(va: GpuVa): void {
    if (!(va instanceof GpuVa)) throw invalidArgType('va', 'GpuVa', va);
    if (va.vm !== null) throw new GpuVmStateError('ERR_GPUVM_VA_STATE', 'insert: the VA is already in a tree');
    this.checkRequestRange(va.addr, va.range, 'insert');
    if (this.vaTree.firstOverlap(va.addr, va.addr + va.range) !== null) {
      throw new GpuVmStateError('ERR_GPUVM_VA_EXISTS', `insert: [0x${va.addr.toString(16)}, +0x${va.range.toString(16)}) overlaps a VA`);
    }
    this.insertNode(va);
  }

  /** drm_gpuva_remove: takes a VA of this VM out of the tree. The reserved node is refused. */
  remove(va: GpuVa): void {
    this.checkOwnVa(va, 'remove');
    if (va === this.kernelAllocNode) throw new GpuVmStateError('ERR_GPUVM_KERNEL_NODE', 'remove: the kernel-reserved node cannot be removed');
    this.removeNode(va);
  }

  // ---- op generators ------------------------------------------------------------------------------

  /**
   * drm_gpuvm_sm_map_ops_create: the ops that make room for `req` and map it, computed against the
   * current tree, which is not changed. Throws GpuVmRequestError for an invalid request.
   */
  smMapOps(req: GpuVmMapRequest): GpuVaOps {
    const checked = this.checkMapRequest(req);
    const sink = new OpListSink();
    splitMergeMap(this, checked, sink, false);
    return new GpuVaOps(this, this.generation, sink.list());
  }

  /** drm_gpuvm_sm_unmap_ops_create: the ops that clear `[addr, addr+range)`; keep is always false. */
  smUnmapOps(addr: U64Like, range: U64Like): GpuVaOps {
    const a = toU64(addr, 'addr');
    const r = toU64(range, 'range');
    this.checkRequestRange(a, r, 'unmap');
    const sink = new OpListSink();
    splitMergeUnmap(this, a, r, sink);
    return new GpuVaOps(this, this.generation, sink.list());
  }

  /**
   * drm_gpuvm_madvise_ops_create: splits only sparse (GEM-less) VAs at the boundaries of
   * `[addr, addr+range)` with REMAP and MAP ops, never UNMAP; GEM-backed VAs are left alone.
   */
  madviseOps(addr: U64Like, range: U64Like): GpuVaOps {
    const a = toU64(addr, 'addr');
    const r = toU64(range, 'range');
    this.checkRequestRange(a, r, 'madvise');
    const sink = new OpListSink();
    splitMergeMap(this, { addr: a, range: r, obj: null, offset: 0n }, sink, true);
    return new GpuVaOps(this, this.generation, sink.list());
  }

  /**
   * drm_gpuvm_prefetch_ops_create: one PREFETCH per VA overlapping `[addr, addr+range)`, sparse ones
   * included, nothing split. Like the kernel, whose walk is drm_gpuvm_for_each_va_range over the interval
   * tree, this reports the kernel-reserved node too when the range overlaps it: the node is a drm_gpuva
   * in that tree. Applying a PREFETCH changes nothing, so the node is never touched.
   */
  prefetchOps(addr: U64Like, range: U64Like): GpuVaOps {
    const a = toU64(addr, 'addr');
    const r = toU64(range, 'range');
    if (r === 0n) throw new GpuVmRequestError('zero_range', 'prefetch: range is 0');
    const end = a + r;
    if (end >= U64_LIMIT) throw new GpuVmRequestError('overflow', 'prefetch: addr + range passes 2^64-1');
    const ops: GpuVaOp[] = [];
    for (let va = this.vaTree.firstOverlap(a, end); va !== null && va.addr < end; va = this.vaTree.next(va)) {
      ops.push(new OpPrefetch(va));
    }
    return new GpuVaOps(this, this.generation, ops);
  }

  /**
   * drm_gpuvm_bo_unmap_ops_create: one UNMAP (keep false) per VA linked to `vmBo`, in link order.
   * Asserts the GEM gpuva lock.
   */
  boUnmapOps(vmBo: VmBo): GpuVaOps {
    this.checkOwnVmBo(vmBo, 'boUnmapOps');
    this.lockHooks.assertGpuvaLockHeld(this, vmBo.obj, 'drm_gpuvm_bo_unmap_ops_create');
    const ops: GpuVaOp[] = [];
    for (let va = vmBo.vaHead; va !== null; va = va.boNext) ops.push(new OpUnmap(va, false));
    return new GpuVaOps(this, this.generation, ops);
  }

  /**
   * drm_gpuvm_sm_map: the step form. Each op goes to its callback as soon as it is known, and the callback
   * must apply it and return the token only applying yields (else ERR_GPUVM_OP_NOT_APPLIED). As in the
   * kernel, a callback that throws stops the walk and what was applied stays applied.
   */
  smMap(req: GpuVmMapRequest, steps: SmMapSteps): void {
    checkSteps(steps, ['map', 'remap', 'unmap']);
    const checked = this.checkMapRequest(req);
    splitMergeMap(this, checked, stepSink(steps), false);
  }

  /** drm_gpuvm_sm_unmap: the step form of {@link GpuVm.smUnmapOps}; see {@link GpuVm.smMap}. */
  smUnmap(addr: U64Like, range: U64Like, steps: SmUnmapSteps): void {
    checkSteps(steps, ['remap', 'unmap']);
    const a = toU64(addr, 'addr');
    const r = toU64(range, 'range');
    this.checkRequestRange(a, r, 'unmap');
    splitMergeUnmap(this, a, r, stepSink(steps as SmMapSteps));
  }

  // ---- applying ops -------------------------------------------------------------------------------

  /**
   * drm_gpuva_map: inserts a VA initialised from `op` (a new one, or `va` if given: a preallocated VA
   * that is in no tree). Does not link it. Refuses an op whose range is not free any more.
   */
  applyMap(op: OpMap, va: GpuVa = new GpuVa()): OpMapped {
    if (!(op instanceof OpMap)) throw invalidArgType('op', 'OpMap', op);
    this.checkSpare(va, 'va');
    this.checkPiece(op, 'applyMap');
    if (this.vaTree.firstOverlap(op.addr, op.addr + op.range) !== null) {
      throw new GpuVmStateError('ERR_GPUVM_STALE_OP', `applyMap: [0x${op.addr.toString(16)}, +0x${op.range.toString(16)}) is not free`);
    }
    initFromOp(va, op);
    this.insertNode(va);
    return new OpMapped(opTokenKey, op, va);
  }

  /**
   * drm_gpuva_remap: removes `op.unmap.va` and inserts its prev/next pieces (into `prev`/`next` if given).
   * Flags and links are not carried over: that is the caller's job, as in the kernel.
   */
  applyRemap(op: OpRemap, prev: GpuVa = new GpuVa(), next: GpuVa = new GpuVa()): OpRemapped {
    if (!(op instanceof OpRemap)) throw invalidArgType('op', 'OpRemap', op);
    const old = op.unmap.va;
    this.checkLiveOpVa(old, 'applyRemap');
    if (op.prev !== null) this.checkSpare(prev, 'prev');
    if (op.next !== null) this.checkSpare(next, 'next');
    if (op.prev !== null && op.next !== null && prev === next) throw new GpuVmStateError('ERR_GPUVM_VA_STATE', 'applyRemap: prev and next must be distinct VAs');
    checkRemapPieces(op);
    this.removeNode(old);
    let prevVa: GpuVa | null = null;
    let nextVa: GpuVa | null = null;
    if (op.prev !== null) {
      prevVa = initFromOp(prev, op.prev);
      this.insertNode(prevVa);
    }
    if (op.next !== null) {
      nextVa = initFromOp(next, op.next);
      this.insertNode(nextVa);
    }
    return new OpRemapped(opTokenKey, op, old, prevVa, nextVa);
  }

  /** drm_gpuva_unmap: removes `op.va` from the tree. Does not unlink it. */
  applyUnmap(op: OpUnmap): OpUnmapped {
    if (!(op instanceof OpUnmap)) throw invalidArgType('op', 'OpUnmap', op);
    this.checkLiveOpVa(op.va, 'applyUnmap');
    this.removeNode(op.va);
    return new OpUnmapped(opTokenKey, op, op.va);
  }

  /**
   * Applies a whole op list the way a driver commits one: MAP ops and remap pieces become VAs linked to
   * the GEM's VmBo, removed VAs are unlinked last, so a VmBo that keeps mappings is never torn down in
   * between. In staged mode a missing VmBo is created here (drm_gpuvm_bo_obtain_locked may allocate under
   * the gpuva lock); in immediate mode the kernel forbids allocating there, so every GEM a MAP op maps must
   * already have its VmBo (from {@link GpuVm.obtainPrealloc} before the locked section), else ERR_GPUVM_MODE
   * and nothing changes. The list must have been generated for this VM's current tree, else
   * ERR_GPUVM_STALE_OPS and nothing changes; after the checks nothing can fail halfway.
   *
   * Locking: the caller holds the gpuva lock of every GEM touched (asserted once per op, up front, as
   * drm_gpuva_link/unlink would). A VmBo losing its last VA is destroyed (staged mode, after the
   * `mightSleep` hook) or becomes a zombie for {@link GpuVm.deferredCleanup} (immediate mode: the lock is
   * already held, so nothing is taken and nothing is freed here).
   */
  apply(ops: GpuVaOps): AppliedOps {
    if (!(ops instanceof GpuVaOps)) throw invalidArgType('ops', 'GpuVaOps', ops);
    if (ops.vm !== this) throw new GpuVmStateError('ERR_GPUVM_WRONG_VM', `apply: the ops were generated for VM '${ops.vm.name}'`);
    if (ops.generation !== this.generation) {
      throw new GpuVmStateError('ERR_GPUVM_STALE_OPS', 'apply: the VA tree changed since these ops were generated (or they were applied already)');
    }
    const list = ops[opsListKey];
    const hooks = this.lockHooks;
    let unlinks = false;
    let insertCount = 0;
    let removeCount = 0;
    for (const op of list) {
      if (op.type === 'map') {
        insertCount++;
        if (op.obj !== null) {
          if (this.immediateMode && !op.obj.gpuvaList.has(this)) throw this.missingPairError(op.obj);
          hooks.assertGpuvaLockHeld(this, op.obj, 'drm_gpuva_link');
        }
      } else if (op.type !== 'prefetch') {
        const va = op.type === 'remap' ? op.unmap.va : op.va;
        removeCount++;
        if (op.type === 'remap') insertCount += (op.prev === null ? 0 : 1) + (op.next === null ? 0 : 1);
        if (va.vmBo !== null) {
          hooks.assertGpuvaLockHeld(this, va.vmBo.obj, 'drm_gpuva_unlink');
          unlinks = true;
        }
      }
    }
    if (unlinks && !this.immediateMode) hooks.mightSleep(this, 'drm_gpuvm_bo_put');

    // Exact-size results: arrays grown by push start with room for 17.
    const inserted = new Array<GpuVa>(insertCount);
    const removed = new Array<GpuVa>(removeCount);
    let ins = 0;
    let rem = 0;
    for (const op of list) {
      if (op.type === 'map') {
        const va = initFromOp(new GpuVa(), op);
        this.insertNode(va);
        if (op.obj !== null) this.linkInternal(va, this.listedVmBo(op.obj));
        inserted[ins++] = va;
      } else if (op.type === 'remap') {
        const old = op.unmap.va;
        this.removeNode(old);
        removed[rem++] = old;
        if (op.prev !== null) {
          const prev = initFromOp(new GpuVa(), op.prev);
          this.insertNode(prev);
          this.linkPiece(prev, old);
          inserted[ins++] = prev;
        }
        if (op.next !== null) {
          const next = initFromOp(new GpuVa(), op.next);
          this.insertNode(next);
          this.linkPiece(next, old);
          inserted[ins++] = next;
        }
      } else if (op.type === 'unmap') {
        this.removeNode(op.va);
        removed[rem++] = op.va;
      }
    }
    for (let k = 0; k < removeCount; k++) this.unlinkInternal(removed[k] as GpuVa);
    return { inserted, removed };
  }

  // ---- VmBo lifetime ------------------------------------------------------------------------------

  /** drm_gpuvm_bo_create: a new VmBo with one reference, not in the GEM's list (a spare for obtainPrealloc). */
  createVmBo(obj: GemObject): VmBo {
    if (!(obj instanceof GemObject)) throw invalidArgType('obj', 'GemObject', obj);
    return new VmBo(this, obj);
  }

  /** drm_gpuvm_bo_find: the VmBo of `obj` in this VM with a new reference, or null. Asserts the GEM gpuva lock. */
  findVmBo(obj: GemObject): VmBo | null {
    if (!(obj instanceof GemObject)) throw invalidArgType('obj', 'GemObject', obj);
    this.lockHooks.assertGpuvaLockHeld(this, obj, 'drm_gpuvm_bo_find');
    const vmBo = obj.gpuvaList.get(this);
    if (vmBo === undefined) return null;
    vmBo.kref++;
    return vmBo;
  }

  /**
   * drm_gpuvm_bo_obtain_locked (staged mode only): the VmBo of `obj`, found or created and listed, with a
   * new reference. Asserts the GEM gpuva lock. In immediate mode use obtainPrealloc (ERR_GPUVM_MODE).
   */
  obtain(obj: GemObject): VmBo {
    if (!(obj instanceof GemObject)) throw invalidArgType('obj', 'GemObject', obj);
    if (this.immediateMode) throw this.modeError('obtain', false);
    this.lockHooks.assertGpuvaLockHeld(this, obj, 'drm_gpuvm_bo_obtain_locked');
    const found = obj.gpuvaList.get(this);
    if (found !== undefined) {
      found.kref++;
      return found;
    }
    const vmBo = new VmBo(this, obj);
    vmBo.lifeState = 'listed';
    obj.gpuvaList.set(this, vmBo);
    return vmBo;
  }

  /**
   * drm_gpuvm_bo_obtain_prealloc (immediate mode only): takes the GEM gpuva lock itself; returns the
   * existing VmBo with a new reference and frees the spare after unlocking, or lists the spare.
   */
  obtainPrealloc(spare: VmBo): VmBo {
    if (!(spare instanceof VmBo)) throw invalidArgType('spare', 'VmBo', spare);
    if (!this.immediateMode) throw this.modeError('obtainPrealloc', true);
    this.checkOwnVmBo(spare, 'obtainPrealloc');
    if (spare.lifeState !== 'created' || spare.kref !== 1) {
      throw new GpuVmStateError('ERR_GPUVM_REFCOUNT', 'obtainPrealloc: the spare must come fresh from createVmBo');
    }
    const obj = spare.obj;
    this.lockHooks.lockGpuva(this, obj, 'drm_gpuvm_bo_obtain_prealloc');
    const found = obj.gpuvaList.get(this);
    if (found !== undefined) found.kref++;
    else {
      spare.lifeState = 'listed';
      obj.gpuvaList.set(this, spare);
    }
    this.lockHooks.unlockGpuva(this, obj, 'drm_gpuvm_bo_obtain_prealloc');
    if (found === undefined) return spare;
    spare.kref = 0;
    this.freeVmBo(spare);
    return found;
  }

  /**
   * drm_gpuvm_bo_deferred_cleanup: frees every zombie queued by putDeferred/unlinkDefer (through the
   * vmBoFree callback) and returns how many there were.
   */
  deferredCleanup(): number {
    const zombies = this.boDefer;
    // Asked for every zombie first, so that a refusal leaves them all queued.
    const hook = this.lockHooks.lastGemReference;
    if (hook !== undefined) for (const vmBo of zombies) if (vmBo.obj.kref === 1) hook.call(this.lockHooks, this, vmBo.obj, 'drm_gpuvm_bo_deferred_cleanup');
    this.boDefer = [];
    for (const vmBo of zombies) this.freeVmBo(vmBo);
    return zombies.length;
  }

  /** Zombie VmBos waiting for deferredCleanup. */
  get deferredCount(): number {
    return this.boDefer.length;
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** @internal releases a VmBo whose last reference is gone, then the reference it held on its GEM. */
  freeVmBo(vmBo: VmBo): void {
    vmBo.lifeState = 'freed';
    vmBo.kref = 0;
    this.vmBoFreeCallback?.(vmBo);
    vmBo.obj.put();
  }

  /** @internal the error for a call made in the wrong mode. */
  modeError(what: string, needsImmediate: boolean): GpuVmStateError {
    return new GpuVmStateError('ERR_GPUVM_MODE', needsImmediate
      ? `${what} needs an immediate-mode VM (DRM_GPUVM_IMMEDIATE_MODE); VM '${this.name}' is in staged mode`
      : `${what} is not allowed on immediate-mode VM '${this.name}': it allocates under the gpuva lock; use createVmBo + obtainPrealloc`);
  }

  private missingPairError(obj: GemObject): GpuVmStateError {
    return new GpuVmStateError('ERR_GPUVM_MODE', `apply: GEM '${obj.name}' has no VmBo in immediate-mode VM '${this.name}', ` +
      'and none may be allocated under the gpuva lock; obtain it with createVmBo + obtainPrealloc first');
  }

  /** @internal */
  insertNode(va: GpuVa): void {
    this.vaTree.insert(va);
    this.generation++;
  }

  /** @internal */
  removeNode(va: GpuVa): void {
    this.vaTree.remove(va);
    this.generation++;
  }

  // The GEM's VmBo; staged mode creates a missing one (apply's checks made sure immediate mode has it).
  private listedVmBo(obj: GemObject): VmBo {
    let vmBo = obj.gpuvaList.get(this);
    if (vmBo === undefined) {
      vmBo = new VmBo(this, obj);
      vmBo.kref = 0; // the link below takes the first reference
      vmBo.lifeState = 'listed';
      obj.gpuvaList.set(this, vmBo);
    }
    return vmBo;
  }

  private linkInternal(va: GpuVa, vmBo: VmBo): void {
    vmBo.kref++;
    vmBo.appendVa(va);
    va.vmBo = vmBo;
  }

  // A remap piece joins the VmBo its old VA was linked to; an unlinked old VA leaves its pieces unlinked.
  private linkPiece(piece: GpuVa, old: GpuVa): void {
    if (old.vmBo !== null && piece.obj !== null) this.linkInternal(piece, old.vmBo);
  }

  private unlinkInternal(va: GpuVa): void {
    const vmBo = va.vmBo;
    if (vmBo === null) return;
    vmBo.removeVa(va);
    va.vmBo = null;
    if (--vmBo.kref !== 0) return;
    vmBo.unlist();
    if (this.immediateMode) {
      vmBo.lifeState = 'zombie';
      this.boDefer.push(vmBo);
    } else {
      this.freeVmBo(vmBo);
    }
  }

  private rangeProblem(addr: bigint, range: bigint): GpuVmRequestReason | null {
    // Below 2^53 the keys are the values, and an exact key compares with any u64's key as the values do
    // (u64-key.ts), so the checks run on numbers: a bigint sum allocates and each comparison is a call.
    const addrKey = keyOf(addr);
    const endKey = addrKey + keyOf(range);
    if (endKey < EXACT_LIMIT) {
      if (addrKey < this.startKey || endKey > this.endKey) return 'out_of_range';
      return endKey > this.nodeStartKey && addrKey < this.nodeEndKey ? 'reserved' : null;
    }
    const end = addr + range;
    if (end >= U64_LIMIT) return 'overflow';
    if (addr < this.start || end > this.end) return 'out_of_range';
    const node = this.kernelAllocNode;
    if (node !== null && addr < node.addr + node.range && node.addr < end) return 'reserved';
    return null;
  }

  private checkRequestRange(addr: bigint, range: bigint, what: string): void {
    if (range === 0n) throw new GpuVmRequestError('zero_range', `${what}: range is 0`);
    const reason = this.rangeProblem(addr, range);
    if (reason !== null) throw requestError(reason, what, addr, range, this);
  }

  private checkMapRequest(req: GpuVmMapRequest): CheckedMapRequest {
    if (typeof req !== 'object' || req === null) throw invalidArgType('req', 'object', req);
    const addr = toU64(req.addr, 'addr');
    const range = toU64(req.range, 'range');
    const offset = req.offset === undefined ? 0n : toU64(req.offset, 'offset');
    const obj = req.obj ?? null;
    if (obj !== null && !(obj instanceof GemObject)) throw invalidArgType('obj', ['GemObject', 'null'], obj);
    this.checkRequestRange(addr, range, 'map');
    if (obj !== null && offset + range > obj.size) {
      throw new GpuVmRequestError('bo_bounds', `map: offset 0x${offset.toString(16)} + range 0x${range.toString(16)} is beyond GEM '${obj.name}' (size 0x${obj.size.toString(16)})`);
    }
    return { addr, range, obj, offset };
  }

  private checkOwnVa(va: GpuVa, what: string): void {
    if (!(va instanceof GpuVa)) throw invalidArgType('va', 'GpuVa', va);
    if (va.vm !== this) {
      throw va.vm === null
        ? new GpuVmStateError('ERR_GPUVM_VA_STATE', `${what}: the VA is not in a tree`)
        : new GpuVmStateError('ERR_GPUVM_WRONG_VM', `${what}: the VA belongs to VM '${va.vm.name}'`);
    }
  }

  private checkOwnVmBo(vmBo: VmBo, what: string): void {
    if (!(vmBo instanceof VmBo)) throw invalidArgType('vmBo', 'VmBo', vmBo);
    if (vmBo.vm !== this) throw new GpuVmStateError('ERR_GPUVM_WRONG_VM', `${what}: the VmBo belongs to VM '${vmBo.vm.name}'`);
  }

  private checkLiveOpVa(va: GpuVa, what: string): void {
    if (!(va instanceof GpuVa) || va.vm !== this) {
      throw new GpuVmStateError('ERR_GPUVM_STALE_OP', `${what}: the op's VA is not in this VM's tree any more`);
    }
    if (va === this.kernelAllocNode) throw new GpuVmStateError('ERR_GPUVM_KERNEL_NODE', `${what}: the kernel-reserved node is not a mapping`);
  }

  private checkSpare(va: GpuVa, name: string): void {
    if (!(va instanceof GpuVa)) throw invalidArgType(name, 'GpuVa', va);
    if (va.vm !== null || va === this.kernelAllocNode) throw new GpuVmStateError('ERR_GPUVM_VA_STATE', `the "${name}" VA is already in a tree`);
  }

  private checkPiece(op: OpMap, what: string): void {
    if (typeof op.addr !== 'bigint' || typeof op.range !== 'bigint' || typeof op.offset !== 'bigint') {
      throw invalidArgType('op', 'an op with bigint addr, range and offset', op);
    }
    if (op.obj !== null && !(op.obj instanceof GemObject)) throw invalidArgType('op.obj', ['GemObject', 'null'], op.obj);
    this.checkRequestRange(op.addr, op.range, what);
  }
}

function initFromOp(va: GpuVa, op: OpMap): GpuVa {
  return initGpuVa(va, op.addr, op.range, op.obj, op.offset);
}

// The pieces of a remap must lie inside the VA they replace and not overlap each other, so that removing
// it and inserting them can never collide with anything else in the tree.
function checkRemapPieces(op: OpRemap): void {
  const old = op.unmap.va;
  const oldEnd = old.addr + old.range;
  let floor = old.addr;
  for (const piece of [op.prev, op.next]) {
    if (piece === null) continue;
    if (!(piece instanceof OpMap) || typeof piece.addr !== 'bigint' || typeof piece.range !== 'bigint' || typeof piece.offset !== 'bigint') {
      throw invalidArgType('op', 'an OpRemap with OpMap pieces', op);
    }
    if (piece.range === 0n || piece.addr < floor || piece.addr + piece.range > oldEnd) {
      throw new GpuVmStateError('ERR_GPUVM_STALE_OP', 'applyRemap: a piece does not lie inside the remapped VA');
    }
    floor = piece.addr + piece.range;
  }
}

function requestError(reason: GpuVmRequestReason, what: string, addr: bigint, range: bigint, vm: GpuVm): GpuVmRequestError {
  const span = `[0x${addr.toString(16)}, +0x${range.toString(16)})`;
  const why = reason === 'overflow' ? 'passes 2^64-1'
    : reason === 'out_of_range' ? `is outside VM '${vm.name}' [0x${vm.start.toString(16)}, +0x${vm.range.toString(16)})`
      : 'overlaps the kernel-reserved node';
  return new GpuVmRequestError(reason, `${what}: ${span} ${why}`);
}

function lookupEnd(addr: bigint, range: bigint): bigint {
  const end = addr + range;
  if (end > U64_LIMIT) throw new GpuVmRequestError('overflow', `lookup: addr + range passes 2^64`);
  return end;
}

function toU64Or2p64(value: unknown, name: string): bigint {
  return value === U64_LIMIT ? U64_LIMIT : toU64(value, name);
}

// Collects ops into a list. Most requests make one op, so the list is an exact-size array made when the
// walk ends: an array grown by push starts with room for 17 (152 bytes for one op).
class OpListSink implements SplitMergeSink {
  readonly steps = false;
  private first: GpuVaOp | null = null;
  private more: GpuVaOp[] | null = null;

  map(op: OpMap): void {
    this.add(op);
  }

  remap(op: OpRemap): void {
    this.add(op);
  }

  unmap(op: OpUnmap): void {
    this.add(op);
  }

  /** The ops in the order they came. */
  list(): GpuVaOp[] {
    return this.more ?? (this.first === null ? [] : [this.first]);
  }

  private add(op: GpuVaOp): void {
    if (this.first === null) this.first = op;
    else if (this.more === null) this.more = [this.first, op];
    else this.more.push(op);
  }
}

function checkSteps(steps: unknown, names: readonly string[]): void {
  if (typeof steps !== 'object' || steps === null) throw invalidArgType('steps', 'object', steps);
  for (const name of names) {
    const fn = (steps as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw invalidArgType(`steps.${name}`, 'function', fn);
  }
}

function stepSink(steps: SmMapSteps): SplitMergeSink {
  const notApplied = (kind: string): GpuVmStateError =>
    new GpuVmStateError('ERR_GPUVM_OP_NOT_APPLIED', `the ${kind} step returned without the token of applying its op (use vm.apply${kind[0]!.toUpperCase()}${kind.slice(1)})`);
  return {
    steps: true,
    map(op) {
      const token: unknown = steps.map(op);
      if (!(token instanceof OpMapped) || token.op !== op) throw notApplied('map');
    },
    remap(op) {
      const token: unknown = steps.remap(op);
      if (!(token instanceof OpRemapped) || token.op !== op) throw notApplied('remap');
    },
    unmap(op) {
      const token: unknown = steps.unmap(op);
      if (!(token instanceof OpUnmapped) || token.op !== op) throw notApplied('unmap');
    },
  };
}
