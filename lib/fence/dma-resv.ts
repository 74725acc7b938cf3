// SPDX-License-Identifier: MIT
// struct dma_resv: a reservation lock (ResvLock, the ww_mutex side) and the fences of the work that uses
// the buffer, each with its usage (drivers/dma-buf/dma-resv.c). The kernel's rules, checked:
//   - adding a fence requires the lock held (dma_resv_assert_held) and a slot reserved with
//     dma_resv_reserve_fences since the lock was taken: unlocking drops the reservation, as the kernel
//     checks with CONFIG_DEBUG_MUTEXES (dma_resv_reset_max_fences), so a missing reserve fails every time;
//   - a fence replaces the one of the same context whose usage is as weak or weaker, and any signalled
//     one, without needing a slot;
//   - queries (dma_resv_iter, dma_resv_test_signaled, dma_resv_wait_timeout) read without the lock and
//     see only unsignalled fences of the usage asked for and every stronger one.
// Signalled fences are pruned whenever the list is written, so a long-lived buffer keeps only live work.
import { outOfRange } from '../arg-errors.js';
import { ResvLock } from '../locks/resv.js';
import { FenceError } from './errors.js';
import { checkFence, type Fence } from './fence.js';
import { checkUsage, usageIncludes, usageRank, type DmaResvUsage } from './usage.js';
import { waitAll } from './wait-all.js';
import { abortError, readWaitOptions, type WaitOptions } from './wait-options.js';

/** A fence in a reservation, with how it is used. */
export interface ResvFence {
  readonly fence: Fence;
  readonly usage: DmaResvUsage;
}

/** A buffer's reservation: its ww lock and its fences. */
export class DmaResv extends ResvLock {
  #fences: ResvFence[] = [];
  // dma_resv_list.max_fences: slots in use plus those reserved in this holding of the lock.
  #maxFences = 0;
  #resetOnUnlock = false;

  /**
   * dma_resv_reserve_fences: makes room for `count` more fences. Requires the lock held by the caller
   * (ERR_LOCK_NOT_HELD); the room lasts until the lock is released.
   */
  reserveFences(count: number): void {
    this.assertHeld(`dma_resv_reserve_fences on ${this.name}`);
    if (!Number.isSafeInteger(count) || count < 0) throw outOfRange('count', 'an integer >= 0', count);
    this.#prune();
    if (this.#fences.length + count > this.#maxFences) this.#maxFences = this.#fences.length + count;
    if (!this.#resetOnUnlock) {
      this.#resetOnUnlock = true;
      this.whenReleased(() => {
        this.#resetOnUnlock = false;
        this.#maxFences = this.#fences.length;
      });
    }
  }

  /**
   * dma_resv_add_fence: adds `fence` with `usage`. Requires the lock held (ERR_LOCK_NOT_HELD) and, unless
   * it replaces a fence of its context with a usage as weak or weaker, or a signalled one, a slot reserved
   * since locking (ERR_FENCE_NO_SLOT). Refused calls change nothing.
   */
  addFence(fence: Fence, usage: DmaResvUsage): void {
    const slot = this.slotFor(fence, usage);
    if (slot < this.#fences.length) this.#fences[slot] = { fence, usage };
    else this.#fences.push({ fence, usage });
  }

  /**
   * @internal The checks of {@link addFence} without the change: where `fence` would go (an index past
   * the last fence: a new slot). For callers that add one fence to several reservations all or nothing.
   */
  slotFor(fence: Fence, usage: DmaResvUsage): number {
    this.assertHeld(`dma_resv_add_fence on ${this.name}`);
    checkFence(fence, 'fence');
    checkUsage(usage, 'usage');
    const fences = this.#fences;
    const rank = usageRank(usage);
    for (let i = 0; i < fences.length; i++) {
      const old = fences[i]!;
      if ((old.fence.context === fence.context && usageRank(old.usage) >= rank) || old.fence.signaled) return i;
    }
    if (fences.length >= this.#maxFences) {
      throw new FenceError('ERR_FENCE_NO_SLOT', `dma_resv_add_fence on ${this.name} without a reserved slot: call reserveFences() ` +
        '(or pass numFences to execLock) after locking the reservation; unlocking drops what was reserved');
    }
    return fences.length;
  }

  /** @internal True when some fence, signalled or not, is still listed: the cheap test before a query. */
  get hasFences(): boolean {
    return this.#fences.length !== 0;
  }

  /**
   * dma_resv_iter / dma_resv_get_fences: the unsignalled fences a wait for `usage` would wait for (that
   * usage and every stronger one), in the order they were added. A snapshot; no lock needed.
   */
  fences(usage: DmaResvUsage = 'bookkeep'): ResvFence[] {
    checkUsage(usage, 'usage');
    return this.#fences.filter((f) => !f.fence.signaled && usageIncludes(usage, f.usage));
  }

  /** dma_resv_test_signaled: true when no unsignalled fence of `usage` or a stronger one remains. */
  testSignaled(usage: DmaResvUsage = 'bookkeep'): boolean {
    checkUsage(usage, 'usage');
    return this.#fences.every((f) => f.fence.signaled || !usageIncludes(usage, f.usage));
  }

  /**
   * dma_resv_wait_timeout: waits until no unsignalled fence of `usage` or a stronger one remains, including
   * fences added meanwhile. Resolves true, or false once `timeoutMs` passed; an aborted `signal` rejects
   * with an AbortError. Needs no lock, and holding this one is allowed.
   */
  async waitIdle(usage: DmaResvUsage = 'bookkeep', options: WaitOptions = {}): Promise<boolean> {
    checkUsage(usage, 'usage');
    const wait = readWaitOptions(options);
    if (wait.aborted) throw abortError(wait.signal!);
    const deadline = wait.timeoutMs < 0 ? Infinity : performance.now() + wait.timeoutMs;
    // Fences whose wait said signalled: a Fence whose state reads otherwise afterwards is not waited for
    // again, so the loop always ends.
    const done = new Set<Fence>();
    for (;;) {
      const pending = this.fences(usage).map((f) => f.fence).filter((fence) => !done.has(fence));
      if (pending.length === 0) return true;
      const left = deadline === Infinity ? undefined : Math.max(0, deadline - performance.now());
      if (!(await waitAll(pending, { timeoutMs: left, signal: wait.signal }))) return false;
      for (const fence of pending) done.add(fence);
    }
  }

  // Drops the signalled fences (dma_resv_reserve_fences does when it reallocates the list).
  #prune(): void {
    if (this.#fences.some((f) => f.fence.signaled)) this.#fences = this.#fences.filter((f) => !f.fence.signaled);
  }
}
