// SPDX-License-Identifier: MIT
// The lock layer: owner-tracked locks, ww reservations, drm_exec, guards, dumps and counters.
export { LockError, isDeadlockBackoff, type LockErrorCode } from './errors.js';
export { runTask, currentTask, LockTask } from './task.js';
export { OwnedLock, type LockOwner } from './owned-lock.js';
export { LockGuard } from './guard.js';
export { Mutex } from './mutex.js';
export { SyncLock } from './sync-lock.js';
export { RangeLock, RangeHold } from './range-lock.js';
export { ResvLock, WwBackoffError, RESV_LOCK_CLASS } from './resv.js';
export { WwAcquireContext } from './ww-context.js';
export { DrmExec, type DrmExecOptions } from './exec.js';
export { assertHeld } from './assert-held.js';
export { lockDump, formatLockDump, type LockDumpEntry } from './dump.js';
export { lockStats, resetLockStats, type LockStats } from './stats.js';
