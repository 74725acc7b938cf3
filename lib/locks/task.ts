// SPDX-License-Identifier: MIT
// A task is the holder identity of every lock: one logical thread of async work. Node runs JavaScript on one
// thread, so "who holds this lock" cannot be the thread; it is the async call chain, which AsyncLocalStorage
// carries across every `await`, timer and promise continuation started inside runTask().
import { AsyncLocalStorage } from 'node:async_hooks';
import { LockError } from './errors.js';
import type { OwnedLock } from './owned-lock.js';

const storage = new AsyncLocalStorage<LockTask>();
let nextTaskId = 1;

// Tasks that hold or wait for at least one lock, for lockDump(): an intrusive list, since a task joins and
// leaves it on nearly every lock and unlock, and a Set churned that way keeps the garbage collector busy.
let firstActive: LockTask | null = null;

/** The tasks that hold or wait for a lock now. */
export function* activeTasks(): IterableIterator<LockTask> {
  for (let task = firstActive; task !== null; task = task.nextActive) yield task;
}

/** One holder of locks: the async call chain started by {@link runTask}. */
export class LockTask {
  /** Unique, increasing. */
  readonly id: number;
  /** Given to runTask, for messages and dumps. */
  readonly name: string;
  /** Locks held now, in acquisition order. */
  readonly held: OwnedLock[] = [];
  /** The lock this task is blocked on, if any. */
  waitingFor: OwnedLock | null = null;

  constructor(name: string) {
    this.id = nextTaskId++;
    this.name = name;
  }

  /** `name#id`, as messages print it. */
  get label(): string {
    return `${this.name}#${this.id}`;
  }

  /** @internal links of the active-task list. */
  nextActive: LockTask | null = null;
  /** @internal */
  prevActive: LockTask | null = null;
  #active = false;

  /** Keeps {@link activeTasks} equal to the tasks that hold or wait. */
  updateActivity(): void {
    const active = this.held.length > 0 || this.waitingFor !== null;
    if (active === this.#active) return;
    this.#active = active;
    if (active) {
      this.nextActive = firstActive;
      if (firstActive !== null) firstActive.prevActive = this;
      firstActive = this;
      return;
    }
    if (this.prevActive === null) firstActive = this.nextActive;
    else this.prevActive.nextActive = this.nextActive;
    if (this.nextActive !== null) this.nextActive.prevActive = this.prevActive;
    this.nextActive = null;
    this.prevActive = null;
  }
}

/** Runs `fn` as a new task: every lock taken inside, across awaits, is owned by that task. */
export function runTask<T>(name: string, fn: () => T): T {
  return storage.run(new LockTask(name), fn);
}

/** The task the caller runs in, or null outside any task. */
export function currentTask(): LockTask | null {
  return storage.getStore() ?? null;
}

/**
 * The caller's task; outside any task, a clear error rather than a guess at who the holder is. `action` and
 * `lockName` only make the message ("locking", "vm.resv"), so nothing is built on the fast path.
 */
export function requireTask(action: string, lockName = ''): LockTask {
  const task = storage.getStore();
  if (task === undefined) {
    const what = lockName === '' ? action : `${action} ${lockName}`;
    throw new LockError('ERR_LOCK_NO_TASK', `${what} outside a lock task: wrap the caller in runTask(name, fn) so the lock knows its holder`);
  }
  return task;
}
