// SPDX-License-Identifier: MIT
// A ww acquire context (the kernel's ww_acquire_ctx): one attempt by one task to hold a set of reservation
// locks. Its stamp gives it an age; an older context wins a conflict and a younger one backs off. The stamp
// survives a back-off, so a context that keeps retrying grows relatively older and ends up winning.
import { LockError } from './errors.js';
import type { LockWaiter, OwnedLock } from './owned-lock.js';
import { requireTask, type LockTask } from './task.js';

let nextStamp = 1;

/** Ages reservation-lock attempts for wound-wait; finish it (dispose) once every lock is released. */
export class WwAcquireContext implements Disposable {
  /** Smaller is older. */
  readonly stamp: number;
  /** The task that created it and alone may use it. */
  readonly task: LockTask;
  /** For messages. */
  readonly name: string;
  /** Locks held through this context now. */
  acquired = 0;
  /** Set when an older context needs a lock this one holds: the next wait must back off. */
  wounded = false;
  /** The lock this context is queued on, so a wound can cancel the wait. */
  pending: { lock: OwnedLock; waiter: LockWaiter } | null = null;
  #finished = false;

  constructor(name = 'ww') {
    this.task = requireTask('creating a ww acquire context');
    this.stamp = nextStamp++;
    this.name = name;
  }

  /** `name@stamp`. */
  get label(): string {
    return `${this.name}@${this.stamp}`;
  }

  /** Throws ERR_LOCK_CONTEXT unless `task` may lock through this context now. */
  checkUsableBy(task: LockTask): void {
    if (this.#finished) throw new LockError('ERR_LOCK_CONTEXT', `ww acquire context ${this.label} is finished`);
    if (task !== this.task) {
      throw new LockError('ERR_LOCK_CONTEXT', `ww acquire context ${this.label} belongs to ${this.task.label}, not ${task.label}`);
    }
  }

  /** Ends the context; every lock taken through it must have been released (ww_acquire_fini). */
  fini(): void {
    if (this.acquired > 0) {
      throw new LockError('ERR_LOCK_CONTEXT', `ww acquire context ${this.label} finished while holding ${this.acquired} lock(s)`);
    }
    this.#finished = true;
  }

  /** fini() unless already finished, for `using`: throws as fini() does while locks are held. */
  [Symbol.dispose](): void {
    if (!this.#finished) this.fini();
  }
}
