// SPDX-License-Identifier: MIT
// A guard is the proof that its task holds a lock: functions that need a lock take the guard as a
// parameter, so a caller without one is a type error, and the guard re-checks at run time what TypeScript
// cannot see (which lock, still held, by this task).
import { LockError } from './errors.js';
import type { OwnedLock } from './owned-lock.js';
import { currentTask, type LockTask } from './task.js';

/** Proof of holding `lock`; release it once, by `release()` or by leaving a `using` block. */
export class LockGuard<L extends OwnedLock> implements Disposable {
  readonly #lock: L;
  #released = false;
  /**
   * @internal The misuse to report when the holder next uses this guard: it kept a synchronous-only lock
   * past its synchronous section, and the lock was released for the others (see SyncLock.lockSync).
   */
  escaped: LockError | null = null;

  /** Internal: only a lock creates guards, when it grants itself. */
  constructor(lock: L) {
    this.#lock = lock;
  }

  /** The lock this guard holds (or held). */
  get lock(): L {
    return this.#lock;
  }

  /** True until released. */
  get held(): boolean {
    return !this.#released;
  }

  /** Releases the lock. The calling task must be the holder (ERR_LOCK_NOT_OWNER otherwise). */
  release(): void {
    this.releaseBy(currentTask());
  }

  /** @internal {@link release} for a caller that already looked up its task (DrmExec.unlockAll). */
  releaseBy(task: LockTask | null): void {
    if (this.escaped !== null) this.#reportEscape(task);
    if (this.#released) throw new LockError('ERR_LOCK_NOT_HELD', `guard of ${this.#lock.name} released twice`, this.#lock.name);
    this.#lock.release(this, task);
    this.#released = true;
  }

  // The lock is already free; this guard's holder learns why, once.
  #reportEscape(task: LockTask | null): never {
    const err = this.escaped!;
    this.escaped = null;
    this.#released = true;
    if (task !== null && task.fault === err) task.fault = null;
    throw err;
  }

  /** Releases unless already released, so an explicit early release and `using` can be combined. */
  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }

  /**
   * Throws unless this guard is live, guards `lock`, and the calling task holds it: the run-time half of
   * "the guard is the proof". Each way to fail has its code: ERR_LOCK_GUARD_WRONG_LOCK (a guard of another
   * lock), ERR_LOCK_NOT_HELD (a released guard), ERR_LOCK_GUARD_WRONG_TASK (another task's live guard).
   */
  assertHolds(lock: OwnedLock, what = 'this operation'): void {
    if (this.escaped !== null) throw this.escaped;
    if (this.#lock !== lock) {
      throw new LockError('ERR_LOCK_GUARD_WRONG_LOCK', `${what} requires a guard of ${lock.name}, got a guard of ${this.#lock.name}`, lock.name);
    }
    if (this.#released || !this.#lock.isCurrentGuard(this)) {
      throw new LockError('ERR_LOCK_NOT_HELD', `${what} requires ${lock.name} held, but this guard was released`, lock.name);
    }
    const task = currentTask();
    if (lock.holderTask !== task) {
      throw new LockError('ERR_LOCK_GUARD_WRONG_TASK', `${what} requires ${lock.name} held by the caller (${task?.label ?? 'no task'}), ` +
        `but the guard given is ${lock.holderTask!.label}'s`, lock.name);
    }
  }
}
