// SPDX-License-Identifier: MIT
// Who holds what and who waits for whom, for a debugger or an error report.
import { activeTasks } from './task.js';

/** One task's part in the lock graph. */
export interface LockDumpEntry {
  /** `name#id`. */
  task: string;
  /** Names of the locks it holds, in acquisition order. */
  holds: string[];
  /** The lock it waits for and that lock's holder, or null. */
  waitsFor: { lock: string; heldBy: string | null } | null;
}

/** Every task that holds or waits for a lock now. */
export function lockDump(): LockDumpEntry[] {
  return [...activeTasks()].map((task) => ({
    task: task.label,
    holds: task.held.map((lock) => lock.name),
    waitsFor: task.waitingFor === null ? null : { lock: task.waitingFor.name, heldBy: task.waitingFor.holderTask?.label ?? null },
  }));
}

/** {@link lockDump} as text, one task per line. */
export function formatLockDump(): string {
  const lines = lockDump().map((e) => {
    const waits = e.waitsFor === null ? '' : `; waits for ${e.waitsFor.lock} (held by ${e.waitsFor.heldBy ?? 'nobody'})`;
    return `${e.task} holds [${e.holds.join(', ')}]${waits}`;
  });
  return lines.length === 0 ? 'no task holds or waits for a lock' : lines.join('\n');
}
