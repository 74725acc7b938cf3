// SPDX-License-Identifier: MIT
// A fence signalled by code: the software device's jobs, the out-fence of a bind on the model, and tests.
// Waiting costs a promise and, with a timeout, one timer; nothing polls.
import { assertOptionsObject, invalidArgType } from '../arg-errors.js';
import { FenceError } from './errors.js';
import { allocFenceContext, type Fence } from './fence.js';
import { abortError, readWaitOptions, type WaitOptions } from './wait-options.js';

/** Options of {@link SoftwareFence}. */
export interface SoftwareFenceOptions {
  /** For messages. Default 'software'. */
  name?: string;
  /** The timeline (see {@link Fence.context}); default a new one of its own. */
  context?: number;
}

/** A {@link Fence} that {@link signal} signals. */
export class SoftwareFence implements Fence {
  readonly context: number;
  readonly name: string;
  #signaled = false;
  #error: Error | null = null;
  // What each pending wait runs when the fence signals; null while none waits.
  #waiters: Set<() => void> | null = null;

  constructor(options: SoftwareFenceOptions = {}) {
    assertOptionsObject(options);
    const name = options.name ?? 'software';
    const context = options.context ?? allocFenceContext();
    if (typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    if (!Number.isSafeInteger(context)) throw invalidArgType('options.context', 'an integer', context);
    this.name = name;
    this.context = context;
  }

  /** A fence that is signalled already (dma_fence_get_stub). */
  static signaled(name = 'stub'): SoftwareFence {
    const fence = new SoftwareFence({ name });
    fence.signal();
    return fence;
  }

  get signaled(): boolean {
    return this.#signaled;
  }

  get error(): Error | null {
    return this.#error;
  }

  /**
   * Signals the fence, with `error` when the work failed (dma_fence_set_error, then dma_fence_signal).
   * Every pending wait resolves true. Signalling twice is refused (ERR_FENCE_SIGNALED) and changes nothing.
   */
  signal(error?: Error): void {
    if (error !== undefined && !(error instanceof Error)) throw invalidArgType('error', 'Error', error);
    if (this.#signaled) throw new FenceError('ERR_FENCE_SIGNALED', `fence '${this.name}' (context ${this.context}) is signalled already`);
    this.#signaled = true;
    this.#error = error ?? null;
    const waiters = this.#waiters;
    this.#waiters = null;
    if (waiters !== null) for (const wake of waiters) wake();
  }

  wait(options: WaitOptions = {}): Promise<boolean> {
    let wait;
    try {
      wait = readWaitOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal, timeoutMs } = wait;
    if (wait.aborted) return Promise.reject(abortError(signal!));
    if (this.#signaled) return Promise.resolve(true);
    if (timeoutMs === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (): void => {
        this.#waiters?.delete(wake);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = (): void => {
        settle();
        resolve(true);
      };
      const onAbort = (): void => {
        settle();
        reject(abortError(signal!));
      };
      (this.#waiters ??= new Set()).add(wake);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          settle();
          resolve(false);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
