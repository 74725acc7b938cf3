// SPDX-License-Identifier: MIT
// Lock order checking in the manner of lockdep: every lock has a class, and the first time class B is taken
// while class A is held, "A before B" is recorded. Taking A while holding B afterwards is an inversion, and
// fails at once, whether or not another task happens to be in the opposite order at that moment: a deadlock
// that did not strike this time is reported as surely as one that did.
import { LockError } from './errors.js';
import type { OwnedLock } from './owned-lock.js';
import type { LockTask } from './task.js';
import type { WwAcquireContext } from './ww-context.js';

/** One lock class in the order graph: the classes ever taken while this one was held. */
export interface LockClassNode {
  readonly name: string;
  /** Small and unique: the class's bit in other classes' {@link afterBits}. */
  readonly id: number;
  readonly after: Set<LockClassNode>;
  /**
   * `after` as a bitset of class ids, 32 per word: the check an uncontended acquire makes for every lock
   * its task holds is then one array read and a mask, not a hash lookup.
   */
  readonly afterBits: number[];
  /**
   * The class's bit in a task's {@link LockTask.heldClassMask} and in other classes' {@link beforeMask}: one
   * of the first 31 classes made has one, later ones 0 (they always take the full check).
   */
  readonly bit: number;
  /** The classes with a bit that were recorded before this one: the whole check when the task is regular. */
  beforeMask: number;
}

// Classes past this many have no bit: 31 keeps the masks small integers.
const MASKED_CLASSES = 31;

const classes = new Map<string, LockClassNode>();

/** The order-graph node of class `name`, created on first use; locks keep it so checks skip the lookup. */
export function lockClassNode(name: string): LockClassNode {
  let node = classes.get(name);
  if (node === undefined) {
    const id = classes.size;
    node = { name, id, after: new Set(), afterBits: [], bit: id < MASKED_CLASSES ? 1 << id : 0, beforeMask: 0 };
    classes.set(name, node);
  }
  return node;
}

// True once "`from` before `to`" has been recorded directly.
function recordedBefore(from: LockClassNode, to: LockClassNode): boolean {
  const word = from.afterBits[to.id >>> 5];
  return word !== undefined && ((word >>> (to.id & 31)) & 1) === 1;
}

function reaches(from: LockClassNode, to: LockClassNode): boolean {
  const seen = new Set<LockClassNode>();
  const stack = [from];
  while (stack.length > 0) {
    const cls = stack.pop()!;
    if (cls === to) return true;
    if (seen.has(cls)) continue;
    seen.add(cls);
    for (const next of cls.after) stack.push(next);
  }
  return false;
}

/**
 * Throws ERR_LOCK_ORDER if `task` taking `lock` (with `ctx`, for a reservation) would invert a recorded
 * order, or would nest two locks of one class outside a ww acquire context or a held `nestLock` (the
 * kernel's mutex_lock_nest_lock: an outer lock that serialises everyone who nests this class). Returns true
 * when every order this acquisition implies is recorded already, so granting it has nothing to record.
 */
export function checkLockOrder(task: LockTask, lock: OwnedLock, ctx: WwAcquireContext | null, nestLock: OwnedLock | null = null): boolean {
  const cls = lock.classNode;
  // Every held lock has a class bit of its own (see LockTask.heldClassMask), and each of those classes was
  // recorded before this one: no inversion, no nesting within a class (a class is never before itself).
  if (task.irregularHolds === 0 && cls.bit !== 0 && (task.heldClassMask & ~cls.beforeMask) === 0) return true;
  const heldLocks = task.held;
  let known = true;
  for (let i = 0; i < heldLocks.length; i++) {
    const held = heldLocks[i]!;
    const heldCls = held.classNode;
    if (heldCls === cls) {
      if (!(ctx !== null && held.holderContext === ctx) && !(nestLock !== null && nestLock.holderTask === task)) sameClassNested(task, lock, held);
    } else if (!recordedBefore(heldCls, cls)) {
      known = false;
      if (reaches(cls, heldCls)) inverted(task, lock, held);
    }
  }
  return known;
}

function sameClassNested(task: LockTask, lock: OwnedLock, held: OwnedLock): never {
  throw new LockError('ERR_LOCK_ORDER',
    `${task.label} takes ${lock.name} while holding ${held.name}: two '${lock.classNode.name}' locks nested without ` +
    `one ww acquire context have no defined order; lock both through the same WwAcquireContext (or DrmExec)`, lock.name);
}

function inverted(task: LockTask, lock: OwnedLock, held: OwnedLock): never {
  const cls = lock.classNode.name;
  const heldCls = held.classNode.name;
  throw new LockError('ERR_LOCK_ORDER',
    `lock order inversion: ${task.label} takes '${cls}' (${lock.name}) while holding '${heldCls}' ` +
    `(${held.name}), but '${cls}' was earlier taken before '${heldCls}'`, lock.name);
}

/** Records "held before lock" for every lock `task` holds; called once `lock` is granted. */
export function recordLockOrder(task: LockTask, lock: OwnedLock): void {
  const cls = lock.classNode;
  const heldLocks = task.held;
  for (let i = 0; i < heldLocks.length; i++) {
    const heldCls = heldLocks[i]!.classNode;
    if (heldCls === cls || recordedBefore(heldCls, cls)) continue;
    heldCls.after.add(cls);
    const word = cls.id >>> 5;
    while (heldCls.afterBits.length <= word) heldCls.afterBits.push(0);
    heldCls.afterBits[word]! |= 1 << (cls.id & 31);
    cls.beforeMask |= heldCls.bit;
  }
}
