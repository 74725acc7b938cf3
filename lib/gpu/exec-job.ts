// SPDX-License-Identifier: MIT
// A job of vm.exec: commands the device runs through a VM's GPU virtual addresses, as a Fence the device
// signals. The fence is a sync_file of the job's out-syncobj, so the VM layer waits for it without
// blocking; the syncobj itself stays with the job, so that a later job of the same Gpu can wait for this
// one in the kernel (an in-sync) instead of in JavaScript. Once signalled with an error, the job asks the
// kernel which command faulted and where.
import type { Syncobj } from '../drm/syncobj.js';
import type { SyncFile } from '../drm/sync-file.js';
import type { SyncFileFence } from '../drm/sync-file-fence.js';
import type { Fence } from '../fence/fence.js';
import type { WaitOptions } from '../fence/wait-options.js';
import type { VgpuvmCommand } from '../backends/vgpuvm.js';
import { GpuError } from './errors.js';

/**
 * A command of vm.exec, through GPU virtual addresses of the VM: `fill` writes `size` bytes of the
 * little-endian u64 `value` pattern at `dst`, `copy` moves `size` bytes from `src` to `dst` (as memmove),
 * `checksum` writes the 64-bit FNV-1a of `size` bytes at `src` as a little-endian u64 at `dst`.
 */
export type GpuCommand = VgpuvmCommand;

/** Where a job stopped: the index of the command that faulted and the first address it could not reach. */
export interface GpuJobFault {
  readonly command: number;
  readonly address: bigint;
}

/** @internal What a driver gives for one submitted job. */
export interface ExecJobInit {
  readonly name: string;
  /** The job's out-syncobj, owned by the job from now on. */
  readonly syncobj: Syncobj;
  /** A sync_file of that syncobj, owned by the job from now on. */
  readonly fence: SyncFileFence;
  /** Asks the device where the job faulted; null when it did not fault or the device forgot. */
  readonly fault: () => GpuJobFault | null;
}

/** A job the device runs, from {@link DeviceVm.exec}: a Fence, with the fault it ended with as its error. */
export class ExecJob implements Fence, Disposable {
  readonly name: string;
  readonly #init: ExecJobInit;
  #error: Error | null | undefined;
  #closed = false;

  /** @internal Made by DeviceVm.exec. */
  constructor(init: ExecJobInit) {
    this.name = init.name;
    this.#init = init;
  }

  get context(): number {
    return this.#init.fence.context;
  }

  get signaled(): boolean {
    return this.#init.fence.signaled;
  }

  /**
   * Null until signalled, and after a job that ran every command. A job that faulted: ERR_GPU_JOB_FAULT
   * with the `address` and `command` (the index) where it stopped; the commands before it ran, that one
   * wrote nothing, the rest did not run. Any other failure: the fence's error (a DrmError).
   */
  get error(): Error | null {
    if (!this.signaled) return null;
    if (this.#error === undefined) {
      const cause = this.#init.fence.error;
      const fault = cause === null ? null : this.#init.fault();
      this.#error = fault === null ? cause : new GpuError('ERR_GPU_JOB_FAULT',
        `job '${this.name}' faulted at command ${fault.command}: GPU address 0x${fault.address.toString(16)} is not backed by a BO (the kernel's VA tree)`,
        { address: fault.address, command: fault.command, cause });
    }
    return this.#error;
  }

  /** Resolves true once the job is done (faulted or not; read {@link error}), false after `timeoutMs`. */
  wait(options?: WaitOptions): PromiseLike<boolean> {
    return this.#init.fence.wait(options);
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The job's fence as a sync_file (while the job is open): what a bind's in-sync or another device waits on. */
  get syncFile(): SyncFile {
    return this.#init.fence.syncFile;
  }

  /** @internal The out-syncobj, for a later job of the same device to wait for in the kernel. */
  get syncobj(): Syncobj {
    return this.#init.syncobj;
  }

  /**
   * Releases the job's syncobj and sync_file. Refused while the job runs (ERR_GPU_BUSY): a fence released
   * unsignalled would never read as signalled again, and the reservations holding it would stay busy. The
   * Gpu releases its jobs on gpu.close(). Closing twice is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    if (!this.signaled) throw new GpuError('ERR_GPU_BUSY', `job '${this.name}' is still running: wait for it before closing it`);
    this.release();
  }

  /** @internal Releases the job's fds whether it is done or not (gpu.close, after its VMs are destroyed). */
  release(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Read the outcome while the fds are open: it stays readable after close.
    if (this.signaled) void this.error;
    try {
      this.#init.fence.close();
    } finally {
      this.#init.syncobj.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
