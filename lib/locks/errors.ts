// SPDX-License-Identifier: MIT
// Every lock misuse is reported at once with a Node-shaped error: a stable `code` to branch on, and a
// message that names the lock, the task and what to do instead.

/** The codes a {@link LockError} carries. */
export type LockErrorCode =
  /** Wound-wait back-off: a younger acquire context lost to an older one (kernel -EDEADLK). */
  | 'EDEADLK'
  /** The same ww acquire context already holds this reservation (kernel -EALREADY). */
  | 'EALREADY'
  /** The calling task already holds this lock: waiting would never end. */
  | 'ERR_LOCK_RECURSIVE'
  /** A guard was released by a task that does not hold the lock. */
  | 'ERR_LOCK_NOT_OWNER'
  /** Something that requires the lock ran without it (lockdep_assert_held), or through a released guard. */
  | 'ERR_LOCK_NOT_HELD'
  /** A call that needs proof of holding a lock was given no guard. */
  | 'ERR_LOCK_NO_GUARD'
  /** The guard given as proof holds another lock (another BO's reservation, another kind of lock). */
  | 'ERR_LOCK_GUARD_WRONG_LOCK'
  /** The guard given as proof is live, but it is another task's: the caller does not hold the lock. */
  | 'ERR_LOCK_GUARD_WRONG_TASK'
  /** A wait that would close a cycle of tasks, each waiting for the next: a lock-order bug, not a back-off. */
  | 'ERR_LOCK_DEADLOCK'
  /** Two locks taken in both orders, or two reservations nested without a ww acquire context. */
  | 'ERR_LOCK_ORDER'
  /** A synchronous-only lock wanted while another task holds it (it never waits). */
  | 'ERR_LOCK_BUSY'
  /**
   * Reported to the task that kept a synchronous-only lock past the end of its synchronous section (an
   * await before the release); the lock was released for the others.
   */
  | 'ERR_LOCK_HELD_ACROSS_AWAIT'
  /** A synchronous-only lock's hold() was given an async section. */
  | 'ERR_LOCK_ASYNC_SECTION'
  /** Freeing the object that embeds a lock while the lock is held (lockdep's "held lock freed"), refused. */
  | 'ERR_LOCK_FREE_WHILE_HELD'
  /** A lock was taken outside any task (see runTask). */
  | 'ERR_LOCK_NO_TASK'
  /** A ww acquire context was misused: used by another task, or finished while still holding locks. */
  | 'ERR_LOCK_CONTEXT';

/** An error from the lock layer; `code` says which rule was broken. */
export class LockError extends Error {
  /** Which rule was broken. */
  readonly code: LockErrorCode;
  /** The lock concerned, by name, when there is one. */
  readonly lockName: string | undefined;

  constructor(code: LockErrorCode, message: string, lockName?: string) {
    super(message);
    this.name = 'LockError';
    this.code = code;
    this.lockName = lockName;
  }
}

/**
 * True when `err` is the wound-wait back-off signal: release everything and retry. A wait refused because
 * it would close a cycle of tasks (ERR_LOCK_DEADLOCK) is not one: retrying would meet the same cycle.
 */
export function isDeadlockBackoff(err: unknown): err is LockError {
  return err instanceof LockError && err.code === 'EDEADLK';
}
