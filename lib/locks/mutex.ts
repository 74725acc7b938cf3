// SPDX-License-Identifier: MIT
// A sleeping lock with a known owner (the kernel's struct mutex as lockdep sees it): FIFO hand-over,
// recursion refused, order checked against every lock the task already holds.
import type { LockGuard } from './guard.js';
import { OwnedLock } from './owned-lock.js';
import { requireTask } from './task.js';

/** An owner-tracked async mutex. */
export class Mutex extends OwnedLock {
  /** `lockClass` defaults to `name`; give locks that play the same role one class. */
  constructor(name: string, lockClass: string = name) {
    super(name, lockClass);
  }

  /** Waits for the lock; the guard proves holding it. Refused at once if the wait could never end. */
  async lock(): Promise<LockGuard<Mutex>> {
    const task = requireTask('locking', this.name);
    this.checkAcquire(task, null);
    if (this.holderTask === null) return this.grant(task, null, null) as LockGuard<Mutex>;
    return (await this.enqueue(task, null, this.waiters.length)) as LockGuard<Mutex>;
  }

  /** Takes the lock if it is free, else returns null; never waits. */
  tryLock(): LockGuard<Mutex> | null {
    const task = requireTask('locking', this.name);
    this.checkAcquire(task, null);
    if (this.holderTask !== null) return null;
    return this.grant(task, null, null) as LockGuard<Mutex>;
  }
}
