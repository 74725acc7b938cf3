// SPDX-License-Identifier: MIT
// A task is the holder identity of every lock: one logical thread of async work. Node runs JavaScript on one
// thread, so "who holds this lock" cannot be the thread; it is the async call chain, which AsyncLocalStorage
// carries across every `await`, timer and promise continuation started inside runTask().
// AsyncLocalStorage has a price on Node 20: once used, its promise hooks run for every promise in the
// process. Code that knows its task (a request made outside any task carries the one it created) makes it
// current for each synchronous stretch instead, with runSync() or enterSyncSection(), and turns to
// AsyncLocalStorage (continueTask) only when it must wait.
import { AsyncLocalStorage } from 'node:async_hooks';
import { LockError } from './errors.js';
import type { OwnedLock } from './owned-lock.js';

const storage = new AsyncLocalStorage<LockTask>();
let nextTaskId = 1;

// The task of the synchronous section running now, if one was entered. JavaScript cannot switch to other
// work inside a synchronous stretch, so this is null whenever the stack unwinds to the event loop: each
// section restores what it found before it returns or throws.
let syncTask: LockTask | null = null;

// Tasks that hold or wait for at least one lock, for lockDump(): an intrusive list, since a task joins and
// leaves it on nearly every lock and unlock, and a Set churned that way keeps the garbage collector busy.
let firstActive: LockTask | null = null;

// The tasks of the synchronous sections entered and not yet left, innermost last. A task that takes its
// first lock inside its own section does not join the active list: until that section ends only its own
// code runs, and activeTasks() finds it here. Only if it still holds locks when the section ends does it
// join the list. An uncontended request, whose locks live and die in one section, never touches the list.
const sectionTasks: LockTask[] = [];

/** The tasks that hold or wait for a lock now. */
export function* activeTasks(): IterableIterator<LockTask> {
  for (let task = firstActive; task !== null; task = task.nextActive) yield task;
  for (let i = 0; i < sectionTasks.length; i++) {
    const task = sectionTasks[i]!;
    if (!task.listed && task.held.length > 0 && sectionTasks.indexOf(task) === i) yield task;
  }
}

/** One holder of locks: the async call chain started by {@link runTask}. */
export class LockTask {
  /** Unique, increasing. */
  readonly id: number;
  /** Given to runTask, for messages and dumps. */
  readonly name: string;
  /** Locks held now, in acquisition order. */
  readonly held: OwnedLock[] = [];
  /**
   * @internal The class bits of the held locks, while each holds a bit of its own (irregularHolds is 0):
   * with it the lock-order check of an acquisition is one mask test instead of a walk over `held`.
   */
  heldClassMask = 0;
  /** @internal Held locks whose class has no bit, or whose bit another held lock of the class set. */
  irregularHolds = 0;
  /** The lock this task is blocked on, if any. */
  waitingFor: OwnedLock | null = null;
  /**
   * @internal A misuse found after this task's synchronous section ended (a synchronous-only lock kept
   * across an await), thrown by its next lock call unless the guard concerned reports it first.
   */
  fault: LockError | null = null;

  constructor(name: string) {
    this.id = nextTaskId++;
    this.name = name;
  }

  /** `name#id`, as messages print it. */
  get label(): string {
    return `${this.name}#${this.id}`;
  }

  /** @internal Throws the pending {@link fault}, once. */
  reportFault(): void {
    const err = this.fault;
    if (err === null) return;
    this.fault = null;
    throw err;
  }

  /** @internal links of the active-task list. */
  nextActive: LockTask | null = null;
  /** @internal */
  prevActive: LockTask | null = null;
  #active = false;

  /** @internal True while on the active list (see {@link activeTasks}). */
  get listed(): boolean {
    return this.#active;
  }

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
  return continueTask(new LockTask(name), fn);
}

/** Runs `fn` as the existing `task`, carried across every await inside it (AsyncLocalStorage). */
export function continueTask<T>(task: LockTask, fn: () => T): T {
  // The synchronous section of the caller, if any, must not shadow the task `fn` runs in.
  const outer = syncTask;
  syncTask = null;
  try {
    return storage.run(task, fn);
  } finally {
    syncTask = outer;
  }
}

/**
 * Makes `task` the current task until {@link leaveSyncSection} is given the returned value. Pair the two in
 * try/finally with no await between them: the task is not carried across an await.
 */
export function enterSyncSection(task: LockTask): LockTask | null {
  const outer = syncTask;
  syncTask = task;
  sectionTasks.push(task);
  return outer;
}

/** Ends the section begun by {@link enterSyncSection}; `outer` is what that returned. */
export function leaveSyncSection(outer: LockTask | null): void {
  const leaving = sectionTasks.pop()!;
  syncTask = outer;
  // Still holding locks as its last section ends: from now on the active list shows it.
  if (leaving.held.length > 0 && !leaving.listed && !sectionTasks.includes(leaving)) leaving.updateActivity();
}

/** True when `task` is the task of the synchronous section running now. */
export function isSectionTask(task: LockTask): boolean {
  return task === syncTask;
}

/** Runs the synchronous `fn` as `task`, without AsyncLocalStorage; a promise `fn` returns continues taskless. */
export function runSync<T>(task: LockTask, fn: () => T): T {
  const outer = enterSyncSection(task);
  try {
    return fn();
  } finally {
    leaveSyncSection(outer);
  }
}

/** The task the caller runs in, or null outside any task. */
export function currentTask(): LockTask | null {
  return syncTask ?? storage.getStore() ?? null;
}

/**
 * The caller's task; outside any task, a clear error rather than a guess at who the holder is. `action` and
 * `lockName` only make the message ("locking", "vm.resv"), so nothing is built on the fast path.
 */
export function requireTask(action: string, lockName = ''): LockTask {
  const task = syncTask ?? storage.getStore();
  if (task === undefined) {
    const what = lockName === '' ? action : `${action} ${lockName}`;
    throw new LockError('ERR_LOCK_NO_TASK', `${what} outside a lock task: wrap the caller in runTask(name, fn) so the lock knows its holder`);
  }
  if (task.fault !== null) task.reportFault();
  return task;
}
