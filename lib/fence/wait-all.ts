// SPDX-License-Identifier: MIT
// One wait for several fences under one deadline and one AbortSignal, as dma_resv_wait_timeout waits for
// the fences of a reservation one after the other with what is left of its timeout.
import { abortError, readWaitOptions, type WaitOptions } from './wait-options.js';
import type { Fence } from './fence.js';

/**
 * Waits until every fence of `fences` has signalled: resolves true, false once `timeoutMs` passed, and
 * rejects with an AbortError when `signal` aborts. Fences already signalled cost nothing.
 */
export async function waitAll(fences: Iterable<Fence>, options: WaitOptions = {}): Promise<boolean> {
  const wait = readWaitOptions(options);
  const { signal, timeoutMs } = wait;
  if (wait.aborted) throw abortError(signal!);
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  for (const fence of fences) {
    if (fence.signaled) continue;
    const left = deadline === Infinity ? undefined : Math.max(0, deadline - performance.now());
    if (!(await fence.wait({ timeoutMs: left, signal }))) return false;
  }
  return true;
}
