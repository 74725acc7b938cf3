// SPDX-License-Identifier: MIT
// What every lock here shares: it knows the task (and, for a reservation, the ww acquire context) holding
// it, hands out guards as proof of holding, queues waiters, and refuses at once any wait that could not end.
import { LockError } from './errors.js';
import { LockGuard } from './guard.js';
import { checkLockOrder, lockClassNode, recordLockOrder, type LockClassNode } from './lock-order.js';
import { countAcquisition } from './stats.js';
import { currentTask, isSectionTask, type LockTask } from './task.js';
import type { WwAcquireContext } from './ww-context.js';

/** Who holds a lock, as {@link OwnedLock.owner} reports it. */
export interface LockOwner {
  /** The holding task, `name#id`. */
  task: string;
  /** The ww acquire context it was taken with, `name@stamp`, or null. */
  context: string | null;
}

/** A task queued on a lock. */
export interface LockWaiter {
  task: LockTask;
  ctx: WwAcquireContext | null;
  since: number;
  resolve(guard: LockGuard<OwnedLock>): void;
  reject(err: Error): void;
}

// Shared by every lock that has never queued a waiter; only enqueue() adds to a queue, and it replaces this first.
const NO_WAITERS: LockWaiter[] = [];

/** Base of {@link Mutex} and {@link ResvLock}: ownership, waiting, guards, the checks around them. */
export abstract class OwnedLock {
  readonly #name: string;
  /** The lock-order class (see lock-order.ts); locks of one class are interchangeable for ordering. */
  readonly lockClass: string;
  /** @internal the class's node in the order graph. */
  readonly classNode: LockClassNode;
  #holder: LockTask | null = null;
  #holderCtx: WwAcquireContext | null = null;
  #guard: LockGuard<OwnedLock> | null = null;
  // The class bit this holding put in its task's heldClassMask, or 0 if it counted as irregular.
  #maskBit = 0;
  // What waits for the current holding to end (whenReleased); null while nothing does, as for nearly every lock.
  #afterRelease: (() => void)[] | null = null;
  /**
   * Queued tasks, in the order they will be granted the lock. Most locks never queue anyone (a request's
   * range hold is created and dropped uncontended), so they share one empty array until the first enqueue.
   */
  protected waiters: LockWaiter[] = NO_WAITERS;

  /** `classNode` is the node of `lockClass`, for a caller that has it already (a range lock's holds). */
  constructor(name: string, lockClass: string, classNode: LockClassNode = lockClassNode(lockClass)) {
    this.#name = name;
    this.lockClass = lockClass;
    this.classNode = classNode;
  }

  /** For messages and dumps. */
  get name(): string {
    return this.#name;
  }

  /** Who holds the lock now, or null when it is free. */
  get owner(): LockOwner | null {
    if (this.#holder === null) return null;
    return { task: this.#holder.label, context: this.#holderCtx?.label ?? null };
  }

  /** The holding task, or null. */
  get holderTask(): LockTask | null {
    return this.#holder;
  }

  /** The ww acquire context the lock is held with, or null. */
  get holderContext(): WwAcquireContext | null {
    return this.#holderCtx;
  }

  /** Tasks waiting, by label. */
  get waitingTasks(): string[] {
    return this.waiters.map((w) => w.task.label);
  }

  /** True when the calling task holds this lock. */
  isHeld(): boolean {
    return this.#holder !== null && this.#holder === currentTask();
  }

  /** Throws ERR_LOCK_NOT_HELD unless the calling task holds this lock (lockdep_assert_held). */
  assertHeld(what = 'this operation'): void {
    // Kept tiny, every error path in a function of its own, so that V8 inlines it where GPUVM asserts.
    if (this.#holder === null || this.#holder !== currentTask()) this.#notHeld(what);
  }

  #notHeld(what: string): never {
    const task = currentTask();
    const holder = this.#holder === null ? 'nobody holds it' : `it is held by ${this.#holder.label}`;
    throw new LockError('ERR_LOCK_NOT_HELD', `${what} requires ${this.name} held by the caller (${task?.label ?? 'no task'}), but ${holder}`, this.name);
  }

  /** The guard of the current holding, if `guard` is it. */
  isCurrentGuard(guard: LockGuard<OwnedLock>): boolean {
    return this.#guard === guard;
  }

  /** Grants the free lock to `task` and hands out the guard that proves it; the caller has run every check. */
  protected grant(task: LockTask, ctx: WwAcquireContext | null, waitedSince: number | null): LockGuard<OwnedLock> {
    this.take(task, ctx, waitedSince);
    const guard = new LockGuard<OwnedLock>(this);
    this.#guard = guard;
    return guard;
  }

  /**
   * Grants the free lock to `task` without a guard, for lib/vm's own short holdings, which release it with
   * {@link releaseHeld}; the caller has run every check. Ownership, order and dumps are as for a guarded hold.
   * `orderKnown` is what {@link checkAcquire} returned just before, in the same synchronous stretch.
   */
  protected take(task: LockTask, ctx: WwAcquireContext | null, waitedSince: number | null, orderKnown = false): void {
    this.#holder = task;
    this.#holderCtx = ctx;
    const held = task.held;
    if (!orderKnown && held.length > 0) recordLockOrder(task, this);
    const bit = this.classNode.bit;
    if (bit !== 0 && (task.heldClassMask & bit) === 0) {
      task.heldClassMask |= bit;
      this.#maskBit = bit;
    } else {
      task.irregularHolds++;
      this.#maskBit = 0;
    }
    // Only a task's first lock can make it active, and not inside its own synchronous section (see
    // activeTasks, which finds it there).
    if (held.push(this) === 1 && !isSectionTask(task)) task.updateActivity();
    if (ctx !== null) ctx.acquired++;
    countAcquisition(waitedSince);
  }

  /**
   * Refuses what no wait could fix: taking a lock the task holds, or breaking lock order. True when the
   * order this acquisition implies is recorded already (see {@link take}).
   */
  protected checkAcquire(task: LockTask, ctx: WwAcquireContext | null, nestLock: OwnedLock | null = null): boolean {
    if (this.#holder === task) this.#recursive(task, ctx);
    return task.held.length === 0 || checkLockOrder(task, this, ctx, nestLock);
  }

  #recursive(task: LockTask, ctx: WwAcquireContext | null): never {
    if (ctx !== null && this.#holderCtx === ctx) {
      throw new LockError('EALREADY', `${this.name} is already held by ww acquire context ${ctx.label}`, this.name);
    }
    throw new LockError('ERR_LOCK_RECURSIVE', `${task.label} takes ${this.name}, which it already holds: this would wait forever`, this.name);
  }

  /** Queues `task`; the promise settles with a guard when the lock is handed over, or with an error. */
  protected enqueue(task: LockTask, ctx: WwAcquireContext | null, at: number): Promise<LockGuard<OwnedLock>> {
    this.refuseWaitCycle(task);
    if (this.waiters === NO_WAITERS) this.waiters = [];
    return new Promise((resolve, reject) => {
      const waiter: LockWaiter = { task, ctx, since: performance.now(), resolve, reject };
      this.waiters.splice(at, 0, waiter);
      task.waitingFor = this;
      task.updateActivity();
      if (ctx !== null) ctx.pending = { lock: this, waiter };
    });
  }

  /** Takes `waiter` out of the queue and fails it with `err` (used by wound-wait). */
  cancelWaiter(waiter: LockWaiter, err: Error): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    this.clearWaiting(waiter);
    waiter.reject(err);
  }

  private clearWaiting(waiter: LockWaiter): void {
    waiter.task.waitingFor = null;
    waiter.task.updateActivity();
    if (waiter.ctx !== null) waiter.ctx.pending = null;
  }

  /** A wait that closes a cycle of tasks each waiting for the next would never end: refuse it. */
  private refuseWaitCycle(task: LockTask): void {
    const chain = [task.label];
    for (let holder = this.#holder; holder !== null; holder = holder.waitingFor?.holderTask ?? null) {
      chain.push(holder.label);
      if (holder === task) {
        throw new LockError('ERR_LOCK_DEADLOCK', `deadlock: ${task.label} would wait for ${this.name}, closing the cycle ${chain.join(' -> ')}`, this.name);
      }
      if (holder.waitingFor === null) return;
    }
  }

  /** Internal, for {@link LockGuard.release}: checks the guard and the releasing `task`, then hands the lock on. */
  release(guard: LockGuard<OwnedLock>, task: LockTask | null = currentTask()): void {
    if (this.#guard !== guard) {
      throw new LockError('ERR_LOCK_NOT_HELD', `release of ${this.name} through a guard that no longer holds it`, this.name);
    }
    this.releaseHeld(task);
  }

  /**
   * @internal Releases the holding of `task` (ERR_LOCK_NOT_OWNER if another task holds the lock, ERR_LOCK_NOT_HELD
   * if nobody does), then hands the lock on. A guard of that holding no longer releases anything.
   */
  releaseHeld(task: LockTask | null): void {
    const holder = this.#holder;
    if (holder === null || task !== holder) this.#notOwner(task);
    const held = holder.held;
    if (held[held.length - 1] === this) held.pop();
    else held.splice(held.lastIndexOf(this), 1);
    if (held.length === 0) holder.updateActivity();
    if (this.#maskBit !== 0) holder.heldClassMask &= ~this.#maskBit;
    else holder.irregularHolds--;
    if (this.#holderCtx !== null) this.#holderCtx.acquired--;
    this.#holder = null;
    this.#holderCtx = null;
    this.#guard = null;
    if (this.waiters.length !== 0) this.#handOn();
    if (this.#afterRelease !== null) this.#runAfterRelease();
  }

  /**
   * @internal Runs `fn` once the current holding is released, after the lock was handed on to a waiter if
   * there is one (so `fn` may find it held again). For what must not happen while the lock is held: freeing
   * the object that embeds it.
   */
  whenReleased(fn: () => void): void {
    (this.#afterRelease ??= []).push(fn);
  }

  #runAfterRelease(): void {
    const pending = this.#afterRelease!;
    this.#afterRelease = null;
    for (const fn of pending) fn();
  }

  #notOwner(task: LockTask | null): never {
    if (this.#holder === null) throw new LockError('ERR_LOCK_NOT_HELD', `release of ${this.name}, which nobody holds`, this.name);
    throw new LockError('ERR_LOCK_NOT_OWNER', `${task?.label ?? 'code outside any task'} releases ${this.name}, which is held by ${this.#holder.label}`, this.name);
  }

  #handOn(): void {
    const next = this.waiters.shift()!;
    this.clearWaiting(next);
    next.resolve(this.grant(next.task, next.ctx, next.since));
  }
}
