// SPDX-License-Identifier: MIT
// The options every asynchronous wait of the package takes (a fence, a reservation, a dma-buf, a
// sync_file): a timeout that resolves false and an AbortSignal that rejects, read once before the wait.
import { assertOptionsObject, invalidArgType, outOfRange } from '../arg-errors.js';

/** The timeout and abort signal every wait of the package takes. */
export interface WaitOptions {
  /** Give up after this many milliseconds and resolve false. Default: wait without limit. */
  timeoutMs?: number;
  /** Abort the wait: the promise rejects with an AbortError (code ABORT_ERR). */
  signal?: AbortSignal;
}

/** WaitOptions read and checked once: what a wait starts from, with no getter left to run. */
export interface CheckedWait {
  /** Milliseconds, or -1 for no timeout. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** Whether the signal had already aborted when the options were read. */
  readonly aborted: boolean;
}

/** Reads and checks `options` (each property once, before any wait starts). */
export function readWaitOptions(options: WaitOptions): CheckedWait {
  assertOptionsObject(options);
  const timeoutMs = options.timeoutMs ?? -1;
  const signal = options.signal;
  if (typeof timeoutMs !== 'number') throw invalidArgType('options.timeoutMs', 'number', timeoutMs);
  if (Number.isNaN(timeoutMs) || timeoutMs > 0xffffffff) {
    throw outOfRange('options.timeoutMs', 'a number of milliseconds below 2^32', timeoutMs);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'AbortSignal', signal);
  return { timeoutMs: timeoutMs < 0 ? -1 : Math.ceil(timeoutMs), signal, aborted: signal?.aborted === true };
}

/** A wait ended by its AbortSignal: an AbortError (code ABORT_ERR), as Node's own APIs throw. */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.code = 'ABORT_ERR';
  return err;
}
