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
   * Takes the lock now; release the guard before the next await. Several locks of this class may be held
   * together while the task holds `nestLock`, the outer lock that orders them.
   */
  lockSync(nestLock: OwnedLock | null = null): LockGuard<SyncLock> {
    const task = requireTask('locking', this.name);
    this.#checkFree(task, nestLock);
    return this.grant(task, null, null) as LockGuard<SyncLock>;
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
    throw new LockError('ERR_LOCK_BUSY', `${this.name} is held by ${this.holderTask!.label} across an await; it guards synchronous sections only`, this.name);
  }

  /**
   * Runs the synchronous `section` holding the lock and releases it, also on a throw. Outside any task the
   * section runs as a task of its own, since nothing else can run before it ends.
   */
  hold<T>(section: (guard: LockGuard<SyncLock>) => T): T {
    if (currentTask() === null) return runSync(new LockTask(this.name), () => this.hold(section));
    const guard = this.lockSync();
    let result: T;
    try {
      result = section(guard);
    } finally {
      guard.release();
    }
    if (result instanceof Promise) {
      throw new LockError('ERR_LOCK_BUSY', `${this.name}.hold() was given an async section: the lock was released at its first await`, this.name);
    }
    return result;
  }
}
