// SPDX-License-Identifier: MIT
// A lock held only across synchronous code. JavaScript runs one task at a time until it awaits, so a
// section that never awaits cannot be contended: taking the lock never waits, and a holder from another
// task can only mean that someone held it across an await, which is refused. Recursion and lock order are
// checked as for any lock. This is how the GEM gpuva lock and the extobj/evict list locks are modelled:
// the kernel holds them for short sections that must not allocate or wait.
import { LockError } from './errors.js';
import type { LockGuard } from './guard.js';
import { checkLockOrder } from './lock-order.js';
import { OwnedLock } from './owned-lock.js';
import { currentTask, LockTask, requireTask, runSync } from './task.js';

/** A never-waiting lock for synchronous critical sections. */
export class SyncLock extends OwnedLock {
  /** `lockClass` defaults to `name`. */
  constructor(name: string, lockClass: string = name) {
    super(name, lockClass);
  }

  /**
   * Takes the lock now and hands out its guard; release it before the synchronous section ends. Prefer
   * {@link hold}, which cannot be misused that way. A guard still holding the lock when the task's
   * synchronous section has ended (an await came before the release) is caught then, in that task: the
   * lock is taken back so that no other task is blocked by it, and the guard's release (or the task's next
   * lock call) throws ERR_LOCK_HELD_ACROSS_AWAIT. Several locks of this class may be held together while
   * the task holds `nestLock`, the outer lock that orders them.
   */
  lockSync(nestLock: OwnedLock | null = null): LockGuard<SyncLock> {
    const task = requireTask('locking', this.name);
    const guard = this.#grantNow(task, nestLock);
    // Microtasks never run inside a synchronous stretch: when this one runs, the holder's section is over.
    queueMicrotask(() => this.#takeBackIfKept(guard, task));
    return guard;
  }

  #grantNow(task: LockTask, nestLock: OwnedLock | null): LockGuard<SyncLock> {
    this.#checkFree(task, nestLock);
    return this.grant(task, null, null) as LockGuard<SyncLock>;
  }

  // The holder's synchronous section ended with the lock held: the misuse is the holder's, so it is
  // reported to the holder, and the lock is released for everyone else.
  #takeBackIfKept(guard: LockGuard<SyncLock>, task: LockTask): void {
    if (!this.isCurrentGuard(guard)) return;
    const err = new LockError('ERR_LOCK_HELD_ACROSS_AWAIT', `${task.label} still held ${this.name} when its synchronous section ended ` +
      `(an await came between lockSync() and release()); it guards synchronous sections only, so it was released for the other ` +
      `tasks: use ${this.name}.hold(section)`, this.name);
    this.releaseHeld(task);
    guard.escaped = err;
    task.fault = err;
  }

  /**
   * @internal {@link lockSync} for `task` without a guard, for lib/vm's own sections; release with
   * {@link OwnedLock.releaseHeld} before the next await. The same checks apply.
   */
  acquireSync(task: LockTask, nestLock: OwnedLock | null = null): void {
    // The checks of lockSync, unrolled for the held-by-nobody case every request meets.
    if (this.holderTask !== null) this.#refuse(task, nestLock);
    this.take(task, null, null, task.held.length === 0 || checkLockOrder(task, this, null, nestLock));
  }

  // checkAcquire's answer, once the lock is known to be free.
  #checkFree(task: LockTask, nestLock: OwnedLock | null): boolean {
    const orderKnown = this.checkAcquire(task, null, nestLock);
    if (this.holderTask !== null) this.#busy();
    return orderKnown;
  }

  // A held lock: recursion, then order, then busy, in the order lockSync reports them.
  #refuse(task: LockTask, nestLock: OwnedLock | null): never {
    this.checkAcquire(task, null, nestLock);
    this.#busy();
  }

  #busy(): never {
    throw new LockError('ERR_LOCK_BUSY', `${this.name} is held by ${this.holderTask!.label}: it guards synchronous sections only, ` +
      'and never waits for another task\'s', this.name);
  }

  /**
   * Runs the synchronous `section` holding the lock and releases it, also on a throw. Outside any task the
   * section runs as a task of its own, since nothing else can run before it ends.
   */
  hold<T>(section: (guard: LockGuard<SyncLock>) => T): T {
    const task = currentTask();
    if (task === null) return runSync(new LockTask(this.name), () => this.hold(section));
    task.reportFault();
    const guard = this.#grantNow(task, null);
    let result: T;
    try {
      result = section(guard);
    } finally {
      guard.release();
    }
    if (result instanceof Promise) {
      throw new LockError('ERR_LOCK_ASYNC_SECTION', `${this.name}.hold() was given an async section: the lock was released at its first await`, this.name);
    }
    return result;
  }
}
