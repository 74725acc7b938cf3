// SPDX-License-Identifier: MIT
// How the VM runner reports its first-use steps (downloading a kernel, building the initramfs, building the
// vgpuvm chroot and module): a function called with one line per step, which may also take the byte counts
// of the step's download as it goes. A plain `(line) => void` is a StepLog that ignores them.

/** Receives each step's line, and where it has `bytes`, a download's progress. */
export interface StepLog {
  (line: string): void;
  /** The current step's download has `done` of its `total` bytes (total 0: not known). */
  readonly bytes?: (done: number, total: number) => void;
}
