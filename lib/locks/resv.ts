// SPDX-License-Identifier: MIT
// The reservation lock of a buffer object (dma_resv, a ww_mutex of reservation_ww_class), with the kernel's
// wound-wait rule: when an older context wants a lock a younger one holds, the younger is wounded and its
// next wait fails with EDEADLK, so it releases everything and retries; a younger context simply waits.
import { LockError } from './errors.js';
import type { LockGuard } from './guard.js';
import { OwnedLock } from './owned-lock.js';
import { countBackoff } from './stats.js';
import { requireTask, type LockTask } from './task.js';
import type { WwAcquireContext } from './ww-context.js';

/** Thrown to a ww context that must back off; `contended` is the lock to take first on the retry. */
export class WwBackoffError extends LockError {
  /** The lock whose wait was refused. */
  readonly contended: ResvLock;
  /** The context that must back off. */
  readonly context: WwAcquireContext;

  constructor(contended: ResvLock, ctx: WwAcquireContext) {
    super('EDEADLK', `ww acquire context ${ctx.label} must back off: an older context needs a lock it holds ` +
      `(contended: ${contended.name}); release every lock and retry`, contended.name);
    this.contended = contended;
    this.context = ctx;
  }
}

/** All reservation locks share one lock class, as all dma_resv share reservation_ww_class. */
export const RESV_LOCK_CLASS = 'dma_resv';

/** A buffer object's reservation lock. */
export class ResvLock extends OwnedLock {
  constructor(name: string) {
    super(name, RESV_LOCK_CLASS);
  }

  /**
   * Locks with `ctx` (ww semantics: may fail with {@link WwBackoffError}, or EALREADY if `ctx` holds it), or
   * without a context (a single reservation; nesting a second one without a context is ERR_LOCK_ORDER).
   */
  async lock(ctx?: WwAcquireContext): Promise<LockGuard<ResvLock>> {
    const task = requireTask('locking', this.name);
    const ww = ctx ?? null;
    ww?.checkUsableBy(task);
    this.checkAcquire(task, ww);
    if (ww !== null && ww.acquired === 0) ww.wounded = false;
    if (this.holderTask === null) return this.grant(task, ww, null) as LockGuard<ResvLock>;
    if (ww === null) return (await this.enqueue(task, null, this.waiters.length)) as LockGuard<ResvLock>;
    if (ww.wounded) {
      countBackoff();
      throw new WwBackoffError(this, ww);
    }
    const holderCtx = this.holderContext;
    if (holderCtx !== null && ww.stamp < holderCtx.stamp) this.wound(holderCtx);
    return (await this.enqueue(task, ww, this.queuePosition(ww))) as LockGuard<ResvLock>;
  }

  /**
   * dma_resv_trylock (ww_mutex_trylock with `ctx`): takes the lock if it is free, else returns null; never
   * waits and never backs off. The same checks as {@link lock} apply.
   */
  tryLock(ctx?: WwAcquireContext): LockGuard<ResvLock> | null {
    const task = requireTask('locking', this.name);
    const ww = ctx ?? null;
    ww?.checkUsableBy(task);
    return this.tryLockAs(task, ww);
  }

  /** @internal {@link tryLock} for a caller that has already checked `task` and `ww` (DrmExec.tryLockAll). */
  tryLockAs(task: LockTask, ww: WwAcquireContext | null): LockGuard<ResvLock> | null {
    this.checkAcquire(task, ww);
    if (this.holderTask !== null) return null;
    if (ww !== null && ww.acquired === 0) ww.wounded = false;
    return this.grant(task, ww, null) as LockGuard<ResvLock>;
  }

  /**
   * @internal dma_resv_trylock without a context and without a guard, for a request that takes its one
   * reservation and never waits while holding it; release with {@link OwnedLock.releaseHeld}. The checks of
   * {@link tryLock} apply. True if taken.
   */
  tryAcquire(task: LockTask): boolean {
    const orderKnown = this.checkAcquire(task, null);
    if (this.holderTask !== null) return false;
    this.take(task, null, null, orderKnown);
    return true;
  }

  /** Older contexts queue ahead of younger ones; waiters without a context keep their FIFO place. */
  private queuePosition(ctx: WwAcquireContext): number {
    const i = this.waiters.findIndex((w) => w.ctx !== null && w.ctx.stamp > ctx.stamp);
    return i < 0 ? this.waiters.length : i;
  }

  /** Marks a younger holder to back off; if it is already waiting elsewhere, its wait fails now. */
  private wound(victim: WwAcquireContext): void {
    if (victim.acquired === 0) return;
    victim.wounded = true;
    const pending = victim.pending;
    if (pending !== null && pending.lock instanceof ResvLock) {
      countBackoff();
      pending.lock.cancelWaiter(pending.waiter, new WwBackoffError(pending.lock, victim));
    }
  }
}
