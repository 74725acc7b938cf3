// SPDX-License-Identifier: MIT
// A lock over an address range (the VA space of one VM): holders of disjoint ranges go ahead together,
// overlapping ones queue in arrival order. Each granted range is a lock of its own (a RangeHold), so it has an
// owner, appears in dumps, is checked for order and recursion, and is released through its guard.
import { outOfRange } from '../arg-errors.js';
import { LockError } from './errors.js';
import type { LockGuard } from './guard.js';
import { lockClassNode, type LockClassNode } from './lock-order.js';
import { OwnedLock } from './owned-lock.js';
import { requireTask, type LockTask } from './task.js';

const hex = (n: bigint): string => `0x${n.toString(16)}`;

/** One granted range `[start, end)` of a {@link RangeLock}. */
export class RangeHold extends OwnedLock {
  /** First address. */
  readonly start: bigint;
  /** One past the last address. */
  readonly end: bigint;
  readonly #owner: RangeLock;

  /** @internal made by {@link RangeLock}. */
  constructor(owner: RangeLock, start: bigint, end: bigint) {
    super(owner.name, owner.lockClass, owner.classNode);
    this.#owner = owner;
    this.start = start;
    this.end = end;
  }

  /** The range lock's name and the range, built only when a message or dump asks for it. */
  override get name(): string {
    return `${this.#owner.name}[${hex(this.start)}, ${hex(this.end)})`;
  }

  /** True if `[start, end)` overlaps this range. */
  overlaps(start: bigint, end: bigint): boolean {
    return start < this.end && this.start < end;
  }

  /** @internal the recursion and order checks of a new holding by `task`; true if its order is recorded already. */
  check(task: LockTask): boolean {
    return this.checkAcquire(task, null);
  }

  /** @internal grants this range to `task`. */
  grantTo(task: LockTask, waitedSince: number | null): LockGuard<RangeHold> {
    this.guardless = false;
    return this.grant(task, null, waitedSince) as LockGuard<RangeHold>;
  }

  /** @internal grants this range to `task` without a guard (see {@link RangeLock.tryHold}). */
  takeFor(task: LockTask, orderKnown: boolean): void {
    this.guardless = true;
    this.take(task, null, null, orderKnown);
  }

  /** @internal true while held, or last held, without a guard: no guard can refer to it. */
  guardless = false;

  /** @internal makes this released hold the range `[start, end)` of a new holding (see RangeLock.#spare). */
  reuseFor(start: bigint, end: bigint): this {
    (this as { start: bigint }).start = start;
    (this as { end: bigint }).end = end;
    return this;
  }

  /** @internal releases the range, then lets the range lock start whoever it unblocks. */
  override releaseHeld(task: LockTask | null): void {
    super.releaseHeld(task);
    this.#owner.released(this);
  }
}

interface RangeWaiter {
  hold: RangeHold;
  task: LockTask;
  since: number;
  resolve(guard: LockGuard<RangeHold>): void;
}

/** Ranges of one address space, locked independently. */
export class RangeLock {
  /** For messages and dumps. */
  readonly name: string;
  /** The lock-order class of every range. */
  readonly lockClass: string;
  /** @internal the class's node in the order graph, looked up once rather than for every hold. */
  readonly classNode: LockClassNode;
  readonly #held: RangeHold[] = [];
  readonly #waiters: RangeWaiter[] = [];
  // Holds handed out by tryHold carry no guard, so once released nothing refers to them any more, unless a
  // waiter still points at one as what it waits for: such a hold, released while nobody waited, is kept
  // here and reused by the next tryHold, since a request's hold is the one allocation of an uncontended
  // request that the garbage collector would otherwise see every time.
  #spare: RangeHold | null = null;

  constructor(name: string, lockClass: string = name) {
    this.name = name;
    this.lockClass = lockClass;
    this.classNode = lockClassNode(lockClass);
  }

  /**
   * The ranges held now (the live list). A hold taken by tryHold is reused for a later range once released,
   * so read a hold's range while it is held.
   */
  get held(): readonly RangeHold[] {
    return this.#held;
  }

  /** True when no range is held and no task waits. */
  get idle(): boolean {
    return this.#held.length === 0 && this.#waiters.length === 0;
  }

  /** Number of tasks queued. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Locks `[start, end)`: at once if no held or earlier-queued range overlaps it, else after them. A task
   * that holds a range of this lock may not take a second one (ERR_LOCK_RECURSIVE if they overlap, else
   * ERR_LOCK_ORDER), and a wait that would close a cycle of tasks is refused (ERR_LOCK_DEADLOCK).
   */
  async lock(start: bigint, end: bigint): Promise<LockGuard<RangeHold>> {
    const task = requireTask('locking', this.name);
    const hold = this.#newHold(task, start, end);
    hold.check(task);
    const blockers = this.#blockers(start, end, this.#waiters.length);
    if (blockers.length === 0) return this.#grant(hold, task, null);
    for (const blocker of blockers) {
      for (let t = blocker.holderTask; t !== null; t = t.waitingFor?.holderTask ?? null) {
        if (t === task) throw new LockError('ERR_LOCK_DEADLOCK', `deadlock: ${task.label} would wait for ${blocker.name}, which waits for it`, blocker.name);
        if (t.waitingFor === null) break;
      }
    }
    return new Promise((resolve) => {
      this.#waiters.push({ hold, task, since: performance.now(), resolve });
      task.waitingFor = blockers[0]!;
      task.updateActivity();
    });
  }

  /** Takes `[start, end)` if that needs no wait, else returns null. */
  tryLock(start: bigint, end: bigint): LockGuard<RangeHold> | null {
    const task = requireTask('locking', this.name);
    const hold = this.#newHold(task, start, end);
    hold.check(task);
    if (this.#mustWait(start, end)) return null;
    this.#held.push(hold);
    return hold.grantTo(task, null);
  }

  /**
   * @internal {@link tryLock} for `task` without a guard, for a request of lib/vm: the hold, or null if
   * `[start, end)` must wait. Release it with {@link OwnedLock.releaseHeld}. The same checks apply.
   */
  tryHold(task: LockTask, start: bigint, end: bigint): RangeHold | null {
    const hold = this.#newHold(task, start, end);
    const orderKnown = hold.check(task);
    if (this.#mustWait(start, end)) return null;
    this.#held.push(hold);
    hold.takeFor(task, orderKnown);
    return hold;
  }

  #mustWait(start: bigint, end: bigint): boolean {
    if (this.#held.length === 0 && this.#waiters.length === 0) return false;
    return this.#blockers(start, end, this.#waiters.length).length > 0;
  }

  // A holding not granted yet, after the recursion check; its own checks (RangeHold.check) come next.
  #newHold(task: LockTask, start: bigint, end: bigint): RangeHold {
    if (!(start < end)) this.#emptyRange(start, end);
    if (task.held.length > 0) this.#refuseOverlapHeldBy(task, start, end);
    const spare = this.#spare;
    if (spare === null) return new RangeHold(this, start, end);
    this.#spare = null;
    return spare.reuseFor(start, end);
  }

  #emptyRange(start: bigint, end: bigint): never {
    throw outOfRange('end', `greater than start (${hex(start)}): range lock ${this.name} locks no empty range`, `[${hex(start)}, ${hex(end)})`);
  }

  #refuseOverlapHeldBy(task: LockTask, start: bigint, end: bigint): void {
    for (const held of task.held) {
      if (held instanceof RangeHold && held.lockClass === this.lockClass && held.overlaps(start, end)) {
        throw new LockError('ERR_LOCK_RECURSIVE', `${task.label} takes ${this.name}[${hex(start)}, ${hex(end)}), overlapping ${held.name} which it holds`, held.name);
      }
    }
  }

  // Held ranges overlapping [start, end), then queued ones ahead of position `before`, so an overlapping
  // request never overtakes one that arrived earlier.
  #blockers(start: bigint, end: bigint, before: number): OwnedLock[] {
    const out: OwnedLock[] = [];
    for (const held of this.#held) if (held.overlaps(start, end)) out.push(held);
    for (let i = 0; i < before; i++) {
      const w = this.#waiters[i]!;
      if (w.hold.overlaps(start, end)) out.push(w.hold);
    }
    return out;
  }

  #grant(hold: RangeHold, task: LockTask, since: number | null): LockGuard<RangeHold> {
    this.#held.push(hold);
    return hold.grantTo(task, since);
  }

  /** @internal a range was released: drop it and start every waiter nothing blocks any more. */
  released(hold: RangeHold): void {
    // Usually the newest hold: pop it rather than splice, which allocates the array of what it removed.
    const held = this.#held;
    if (held[held.length - 1] === hold) held.pop();
    else held.splice(held.lastIndexOf(hold), 1);
    if (this.#waiters.length === 0) {
      if (hold.guardless) this.#spare = hold;
      return;
    }
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i]!;
      if (this.#blockers(w.hold.start, w.hold.end, i).length > 0) continue;
      this.#waiters.splice(i--, 1);
      w.task.waitingFor = null;
      w.task.updateActivity();
      w.resolve(this.#grant(w.hold, w.task, w.since));
    }
  }
}
