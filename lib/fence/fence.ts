// SPDX-License-Identifier: MIT
// A fence (struct dma_fence): a one-shot completion of some work, which may carry an error. Everything in
// the package that waits for work does it through this interface, whether the fence is signalled by code
// (SoftwareFence) or by the kernel (a vgem fence read back through its dma-buf, a sync_file). A wait
// never blocks the thread: it is a promise the event loop settles.
import { invalidArgType } from '../arg-errors.js';
import type { WaitOptions } from './wait-options.js';

/** A one-shot completion. */
export interface Fence {
  /**
   * The fence's timeline (dma_fence.context): a reservation keeps one fence per context and usage, a
   * newer fence of the same context replacing an older one (see DmaResv.addFence).
   */
  readonly context: number;
  /** For messages: the timeline or driver the fence comes from. */
  readonly name: string;
  /** True once signalled (dma_fence_is_signaled); never false again. */
  readonly signaled: boolean;
  /** The error the work ended with (dma_fence_get_status < 0), once signalled; else null. */
  readonly error: Error | null;
  /**
   * Waits until signalled: resolves true, or false once `timeoutMs` passed (a timeout of 0 only tests).
   * An aborted `signal` rejects with an AbortError (code ABORT_ERR). A fence that signalled with an error
   * resolves true too; read {@link error}.
   */
  wait(options?: WaitOptions): PromiseLike<boolean>;
}

let lastContext = 0;

/** dma_fence_context_alloc(1): a new timeline number, distinct from every other one in the process. */
export function allocFenceContext(): number {
  return ++lastContext;
}

/** Checks that `value` looks like a {@link Fence}; `name` names the argument in the error. */
export function checkFence(value: unknown, name: string): Fence {
  if (typeof value === 'object' && value !== null) {
    const fence = value as Partial<Fence>;
    if (typeof fence.wait === 'function' && typeof fence.context === 'number') return value as Fence;
  }
  throw invalidArgType(name, 'Fence', value);
}
