// SPDX-License-Identifier: MIT
// DrmExec, after the kernel's drm_exec: lock a set of reservations through one ww acquire context, and when
// wound-wait says back off, release everything, take the contended lock first, and run the locking step
// again until it completes holding all of them. Any other error releases everything.
import { LockError } from './errors.js';
import type { LockGuard } from './guard.js';
import { WwBackoffError, type ResvLock } from './resv.js';
import { currentTask, requireTask } from './task.js';
import { WwAcquireContext } from './ww-context.js';
import { assertOptionsObject } from '../arg-errors.js';

/** Options of {@link DrmExec}. */
export interface DrmExecOptions {
  /** Locking an object twice is a no-op instead of EALREADY (DRM_EXEC_IGNORE_DUPLICATES). */
  ignoreDuplicates?: boolean;
  /** Names the ww acquire context in messages. */
  name?: string;
}

/** Locks a set of reservations; `using exec = new DrmExec()` releases them all at the end. */
export class DrmExec implements Disposable {
  /** The ww acquire context every lock goes through. */
  readonly ctx: WwAcquireContext;
  readonly #ignoreDuplicates: boolean;
  // The guards held, in locking order. An array rather than a map keyed by lock: an uncontended request
  // holds one or two, and the lock itself says whether this exec's context holds it (see #guardOf).
  readonly #guards: LockGuard<ResvLock>[] = [];
  #prelocked: ResvLock | null = null;
  #retries = 0;

  constructor(options: DrmExecOptions = {}) {
    assertOptionsObject(options);
    this.ctx = new WwAcquireContext(options.name ?? 'drm_exec');
    this.#ignoreDuplicates = options.ignoreDuplicates ?? false;
  }

  /** How many times the locking step was restarted after a back-off. */
  get retries(): number {
    return this.#retries;
  }

  /** The locks held, in locking order. */
  get objects(): ResvLock[] {
    return this.#guards.map((guard) => guard.lock);
  }

  /** The guard of `resv` if this exec holds it. */
  guardOf(resv: ResvLock): LockGuard<ResvLock> | undefined {
    // Only a lock held through this exec's context can be one of its own, so the search runs only then.
    if (resv.holderContext !== this.ctx) return undefined;
    for (const guard of this.#guards) if (guard.lock === resv) return guard;
    return undefined;
  }

  /**
   * Runs `step` (which calls {@link lock} for each object) until it completes without a back-off
   * (drm_exec_until_all_locked). On any other error every lock is released and the error is rethrown.
   */
  async untilAllLocked(step: (exec: DrmExec) => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await step(this);
        this.#prelocked = null;
        return;
      } catch (err) {
        this.unlockAll();
        if (!(err instanceof WwBackoffError) || err.context !== this.ctx) throw err;
        this.#retries++;
        // Wait for the contended lock holding nothing else, so the retry starts from it (ww_mutex_lock_slow).
        this.#guards.push(await err.contended.lock(this.ctx));
        this.#prelocked = err.contended;
      }
    }
  }

  /**
   * Tries to lock every one of `resvs` without waiting (those already held by this exec are skipped). On
   * the first busy one it releases what it took here and returns false, leaving the exec as it was; the
   * caller then falls back to {@link untilAllLocked}. Uncontended requests never pay for the retry loop.
   */
  tryLockAll(resvs: Iterable<ResvLock>): boolean {
    const task = requireTask('locking through ww acquire context', this.ctx.name);
    this.ctx.checkUsableBy(task);
    // What this call takes is what lies past `before`.
    const before = this.#guards.length;
    for (const resv of resvs) {
      if (this.guardOf(resv) !== undefined) continue;
      const guard = resv.tryLockAs(task, this.ctx);
      if (guard === null) {
        while (this.#guards.length > before) this.#guards.pop()!.releaseBy(task);
        return false;
      }
      this.#guards.push(guard);
    }
    return true;
  }

  /** Locks `resv` through the context; inside {@link untilAllLocked}, a back-off restarts the step. */
  async lock(resv: ResvLock): Promise<LockGuard<ResvLock>> {
    const held = this.guardOf(resv);
    if (held !== undefined) {
      if (this.#prelocked === resv) {
        this.#prelocked = null;
        return held;
      }
      if (this.#ignoreDuplicates) return held;
      throw new LockError('EALREADY', `${resv.name} is already locked by this exec`, resv.name);
    }
    const guard = await resv.lock(this.ctx);
    this.#guards.push(guard);
    return guard;
  }

  /** Releases every lock held, newest first. */
  unlockAll(): void {
    if (this.#guards.length === 0) return;
    this.#prelocked = null;
    const task = currentTask();
    while (this.#guards.length > 0) this.#guards.pop()!.releaseBy(task);
  }

  /** Releases everything and finishes the context (drm_exec_fini). */
  [Symbol.dispose](): void {
    this.unlockAll();
    this.ctx.fini();
  }
}
