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
    if (this.#released) throw new LockError('ERR_LOCK_NOT_HELD', `guard of ${this.#lock.name} released twice`, this.#lock.name);
    this.#lock.release(this, task);
    this.#released = true;
  }

  /** Releases unless already released, so an explicit early release and `using` can be combined. */
  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }

  /**
   * Throws ERR_LOCK_NOT_HELD unless this guard is live, guards `lock`, and the calling task holds it:
   * the run-time half of "the guard is the proof".
   */
  assertHolds(lock: OwnedLock, what = 'this operation'): void {
    if (this.#lock !== lock) {
      throw new LockError('ERR_LOCK_NOT_HELD', `${what} requires a guard of ${lock.name}, got a guard of ${this.#lock.name}`, lock.name);
    }
    if (this.#released || !this.#lock.isCurrentGuard(this)) {
      throw new LockError('ERR_LOCK_NOT_HELD', `${what} requires ${lock.name} held, but this guard was released`, lock.name);
    }
    lock.assertHeld(what);
  }
}
