// SPDX-License-Identifier: MIT
import type { OwnedLock } from './owned-lock.js';

/**
 * Throws ERR_LOCK_NOT_HELD unless the calling task holds `lock`: the TypeScript lockdep_assert_held, placed
 * wherever the kernel asserts a lock.
 */
export function assertHeld(lock: OwnedLock, what?: string): void {
  lock.assertHeld(what);
}
