// SPDX-License-Identifier: MIT
// A sync_file as a Fence: the kernel's fences, read back through the fd (a zero-timeout poll for the state,
// SYNC_IOC_FILE_INFO for the error, a libuv poll for the wait), so the VM layer waits for real GPU or vgem
// work the same way it waits for a SoftwareFence.
import { invalidArgType, invalidArgValue } from '../arg-errors.js';
import { allocFenceContext, type Fence } from '../fence/fence.js';
import { abortError, readWaitOptions, type WaitOptions } from '../fence/wait-options.js';
import { DrmError } from './errors.js';
import { SyncFile } from './sync-file.js';
import { isInstance } from './resource.js';

/** A {@link Fence} over a sync_file, which it owns: close() closes the fd. */
export class SyncFileFence implements Fence, Disposable {
  /** A timeline of its own: a sync_file is a snapshot, never a later fence of another one's timeline. */
  readonly context = allocFenceContext();
  readonly name: string;
  /** The sync_file; hand `syncFile.fd` to another device or process to share the fence. */
  readonly syncFile: SyncFile;
  // Once seen signalled it stays so, even after close(); a fence closed while pending never signals here.
  #signaled = false;
  #error: Error | null | undefined;

  /** Takes ownership of `syncFile`. */
  constructor(syncFile: SyncFile, name = 'sync_file') {
    if (!isInstance(syncFile, SyncFile)) throw invalidArgType('syncFile', 'SyncFile', syncFile);
    if (typeof name !== 'string') throw invalidArgType('name', 'string', name);
    if (syncFile.closed) throw invalidArgValue('syncFile', syncFile, 'is closed');
    this.syncFile = syncFile;
    this.name = name;
  }

  get signaled(): boolean {
    if (!this.#signaled && !this.syncFile.closed && this.syncFile.isSignaled()) this.#signaled = true;
    return this.#signaled;
  }

  /** The first failed fence's errno as a DrmError (syscall 'fence'), once signalled. */
  get error(): Error | null {
    if (!this.signaled) return null;
    if (this.#error === undefined) {
      const failed = this.syncFile.closed ? undefined : this.syncFile.info().fences.find((f) => f.status === 'error');
      this.#error = failed === undefined ? null : new DrmError(-failed.error, 'fence', { path: `sync_file ${this.name} (${failed.driver} ${failed.timeline})` });
    }
    return this.#error;
  }

  wait(options: WaitOptions = {}): PromiseLike<boolean> {
    try {
      const wait = readWaitOptions(options);
      if (wait.aborted) return Promise.reject(abortError(wait.signal!));
      if (this.#signaled) return Promise.resolve(true);
      return this.syncFile.wait(options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Closes the sync_file. */
  close(): void {
    // Read the state while the fd is open: a fence that signalled before close() stays signalled after it.
    if (!this.syncFile.closed) void this.signaled;
    this.syncFile.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
