// SPDX-License-Identifier: MIT
// DrmExec, after the kernel's drm_exec: lock a set of reservations through one ww acquire context, and when
// wound-wait says back off, release everything, take the contended lock first, and run the locking step
// again until it completes holding all of them. Any other error releases everything.
import { LockError } from './errors.js';
import type { LockGuard } from './guard.js';
import { WwBackoffError, type ResvLock } from './resv.js';
import { currentTask, requireTask } from './task.js';
import { WwAcquireContext } from './ww-context.js';

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
  readonly #guards = new Map<ResvLock, LockGuard<ResvLock>>();
  #prelocked: ResvLock | null = null;
  #retries = 0;

  constructor(options: DrmExecOptions = {}) {
    this.ctx = new WwAcquireContext(options.name ?? 'drm_exec');
    this.#ignoreDuplicates = options.ignoreDuplicates ?? false;
  }

  /** How many times the locking step was restarted after a back-off. */
  get retries(): number {
    return this.#retries;
  }

  /** The locks held, in locking order. */
  get objects(): ResvLock[] {
    return [...this.#guards.keys()];
  }

  /** The guard of `resv` if this exec holds it. */
  guardOf(resv: ResvLock): LockGuard<ResvLock> | undefined {
    return this.#guards.get(resv);
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
        this.#guards.set(err.contended, await err.contended.lock(this.ctx));
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
    // The map keeps insertion order, so what this call took is what lies past `before`.
    const before = this.#guards.size;
    for (const resv of resvs) {
      if (this.#guards.has(resv)) continue;
      const guard = resv.tryLockAs(task, this.ctx);
      if (guard === null) {
        const taken = [...this.#guards.values()].slice(before);
        for (let i = taken.length - 1; i >= 0; i--) {
          this.#guards.delete(taken[i]!.lock);
          taken[i]!.releaseBy(task);
        }
        return false;
      }
      this.#guards.set(resv, guard);
    }
    return true;
  }

  /** Locks `resv` through the context; inside {@link untilAllLocked}, a back-off restarts the step. */
  async lock(resv: ResvLock): Promise<LockGuard<ResvLock>> {
    const held = this.#guards.get(resv);
    if (held !== undefined) {
      if (this.#prelocked === resv) {
        this.#prelocked = null;
        return held;
      }
      if (this.#ignoreDuplicates) return held;
      throw new LockError('EALREADY', `${resv.name} is already locked by this exec`, resv.name);
    }
    const guard = await resv.lock(this.ctx);
    this.#guards.set(resv, guard);
    return guard;
  }

  /** Releases every lock held, newest first. */
  unlockAll(): void {
    if (this.#guards.size === 0) return;
    const guards = [...this.#guards.values()];
    this.#guards.clear();
    this.#prelocked = null;
    const task = currentTask();
    for (let i = guards.length - 1; i >= 0; i--) guards[i]!.releaseBy(task);
  }

  /** Releases everything and finishes the context (drm_exec_fini). */
  [Symbol.dispose](): void {
    this.unlockAll();
    this.ctx.fini();
  }
}
