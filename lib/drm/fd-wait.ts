// SPDX-License-Identifier: MIT
// An asynchronous wait for an fd (dma-buf or sync_file) to become ready, polled by libuv on this
// thread's own loop (native/fd_wait.cc). The wait keeps the process alive only once something awaits
// it: then() is what references the loop handles, so a wait that nobody awaits never holds Node open.
import { native } from '../native.js';
import { abortError, type CheckedWait } from '../fence/wait-options.js';
import { DrmError, useAfterClose } from './errors.js';

// The options are the fence layer's, so that a dma-buf, a sync_file and a fence wait alike.
export { readWaitOptions, type CheckedWait, type WaitOptions } from '../fence/wait-options.js';

const READY = 0;
const TIMED_OUT = 1;

/**
 * A wait that has ended before it started (an already aborted signal, or an fd that is always ready). Like
 * every wait, it neither keeps the process alive nor, left unawaited, becomes an unhandled rejection.
 */
export function settledWait(outcome: boolean | Error): PromiseLike<boolean> {
  const promise = outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  promise.catch(() => undefined);
  return promise;
}

/** A pending wait: await it for true (ready) or false (timed out). */
export class FdWait implements PromiseLike<boolean> {
  readonly #promise: Promise<boolean>;
  #id: number | undefined;
  #cancelReason: Error | undefined;

  /** @internal Made by DmaBuf.waitIdle and SyncFile.wait, from options read by readWaitOptions. */
  constructor(fd: number, writable: boolean, wait: CheckedWait, path: string, onSettled: (wait: FdWait) => void) {
    const signal = wait.signal;
    if (wait.aborted) {
      this.#promise = Promise.reject(abortError(signal as AbortSignal));
    } else {
      this.#promise = new Promise<boolean>((resolve, reject) => {
        const onAbort = (): void => this.cancel(abortError(signal as AbortSignal));
        this.#id = native().waitStart(fd, writable, wait.timeoutMs, (result) => {
          this.#id = undefined;
          signal?.removeEventListener('abort', onAbort);
          onSettled(this);
          if (result === READY) resolve(true);
          else if (result === TIMED_OUT) resolve(false);
          else if (result < 0) reject(new DrmError(-result, 'poll', { path }));
          else reject(this.#cancelReason ?? useAfterClose('wait'));
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    // Nobody may ever await this wait; its rejection must not become an unhandled one.
    this.#promise.catch(() => undefined);
  }

  /** Whether the wait is still pending. */
  get pending(): boolean {
    return this.#id !== undefined;
  }

  /** Ends a pending wait: the promise rejects with `reason`. */
  cancel(reason: Error): void {
    if (this.#id === undefined) return;
    this.#cancelReason = reason;
    native().waitCancel(this.#id);
  }

  /** Awaiting the wait keeps the process alive until it ends. */
  then<T = boolean, E = never>(
    onFulfilled?: ((value: boolean) => T | PromiseLike<T>) | null,
    onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    if (this.#id !== undefined) native().waitRef(this.#id, true);
    return this.#promise.then(onFulfilled, onRejected);
  }
}

/** The pending waits of one owner, cancelled when it closes. */
export class WaitSet {
  readonly #pending = new Set<FdWait>();

  /** Starts a wait on `fd` (readable, or writable when `writable`) and tracks it while pending. */
  start(fd: number, writable: boolean, options: CheckedWait, path: string): FdWait {
    const wait = new FdWait(fd, writable, options, path, (w) => this.#pending.delete(w));
    if (wait.pending) this.#pending.add(wait);
    return wait;
  }

  /** Ends every pending wait with `reason`. */
  cancelAll(reason: Error): void {
    for (const wait of [...this.#pending]) wait.cancel(reason);
  }
}
