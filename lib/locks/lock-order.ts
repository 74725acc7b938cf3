// SPDX-License-Identifier: MIT
// Lock order checking in the manner of lockdep: every lock has a class, and the first time class B is taken
// while class A is held, "A before B" is recorded. Taking A while holding B afterwards is an inversion, and
// fails at once, whether or not another task happens to be in the opposite order at that moment: a deadlock
// that did not strike this time is reported as surely as one that did.
import { LockError } from './errors.js';
import type { OwnedLock } from './owned-lock.js';
import type { LockTask } from './task.js';
import type { WwAcquireContext } from './ww-context.js';

const after = new Map<string, Set<string>>();

function reaches(from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const cls = stack.pop()!;
    if (cls === to) return true;
    if (seen.has(cls)) continue;
    seen.add(cls);
    for (const next of after.get(cls) ?? []) stack.push(next);
  }
  return false;
}

/**
 * Throws ERR_LOCK_ORDER if `task` taking `lock` (with `ctx`, for a reservation) would invert a recorded
 * order, or would nest two locks of one class outside a ww acquire context or a held `nestLock` (the
 * kernel's mutex_lock_nest_lock: an outer lock that serialises everyone who nests this class).
 */
export function checkLockOrder(task: LockTask, lock: OwnedLock, ctx: WwAcquireContext | null, nestLock: OwnedLock | null = null): void {
  for (const held of task.held) {
    if (held.lockClass === lock.lockClass) {
      if (ctx !== null && held.holderContext === ctx) continue;
      if (nestLock !== null && nestLock.holderTask === task) continue;
      throw new LockError('ERR_LOCK_ORDER',
        `${task.label} takes ${lock.name} while holding ${held.name}: two '${lock.lockClass}' locks nested without ` +
        `one ww acquire context have no defined order; lock both through the same WwAcquireContext (or DrmExec)`, lock.name);
    }
    if (after.get(held.lockClass)?.has(lock.lockClass)) continue;
    if (reaches(lock.lockClass, held.lockClass)) {
      throw new LockError('ERR_LOCK_ORDER',
        `lock order inversion: ${task.label} takes '${lock.lockClass}' (${lock.name}) while holding '${held.lockClass}' ` +
        `(${held.name}), but '${lock.lockClass}' was earlier taken before '${held.lockClass}'`, lock.name);
    }
  }
}

/** Records "held before lock" for every lock `task` holds; called once `lock` is granted. */
export function recordLockOrder(task: LockTask, lock: OwnedLock): void {
  for (const held of task.held) {
    if (held === lock || held.lockClass === lock.lockClass) continue;
    let set = after.get(held.lockClass);
    if (set === undefined) after.set(held.lockClass, (set = new Set()));
    set.add(lock.lockClass);
  }
}
