// SPDX-License-Identifier: MIT
// Process-wide lock counters, so a benchmark can say what the locking design cost: how often a lock was
// contended, how long tasks waited, how often wound-wait made a context back off.

/** Counters since the last {@link resetLockStats}. */
export interface LockStats {
  /** Locks granted, contended or not. */
  acquisitions: number;
  /** Acquisitions that had to wait. */
  contended: number;
  /** Total time tasks spent waiting for locks, in milliseconds. */
  waitMs: number;
  /** EDEADLK back-offs handed to ww acquire contexts. */
  backoffs: number;
}

const stats: LockStats = { acquisitions: 0, contended: 0, waitMs: 0, backoffs: 0 };

/** A copy of the counters. */
export function lockStats(): LockStats {
  return { ...stats };
}

/** Zeroes the counters. */
export function resetLockStats(): void {
  stats.acquisitions = 0;
  stats.contended = 0;
  stats.waitMs = 0;
  stats.backoffs = 0;
}

/** Internal: counts one acquisition; `waitedSince` is the performance.now() when waiting began, if it did. */
export function countAcquisition(waitedSince: number | null): void {
  stats.acquisitions++;
  if (waitedSince !== null) {
    stats.contended++;
    stats.waitMs += performance.now() - waitedSince;
  }
}

/** Internal: counts one EDEADLK back-off. */
export function countBackoff(): void {
  stats.backoffs++;
}
