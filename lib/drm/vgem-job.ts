// SPDX-License-Identifier: MIT
// A job on vgem, the way a GPU job meets the kernel: a vgem fence attached to each buffer it uses, so the
// kernel adds it to their dma_resv (VGEM_FENCE_ATTACH), where dma-buf poll, DMA_BUF_IOCTL_SYNC and
// sync_file export see it. The job is a Fence read back from the kernel through a sync_file exported from
// the buffers' dma-bufs when it started (so it also covers the work they carried then, as a GPU job waits
// for it); signal() ends it (VGEM_FENCE_SIGNAL). It can be a bind's out-fence: the bind signals it when done.
import { assertOptionsObject, invalidArgType } from '../arg-errors.js';
import type { Fence } from '../fence/fence.js';
import type { WaitOptions } from '../fence/wait-options.js';
import { DrmError } from './errors.js';
import { GemBuffer } from './gem-buffer.js';
import type { SyncFile } from './sync-file.js';
import { SyncFileFence } from './sync-file-fence.js';
import { attachVgemFence, type VgemFence } from './vgem-fence.js';
import { isInstance } from './resource.js';

/** Options of {@link VgemJob.start}. */
export interface VgemJobOptions {
  /** Writes its buffers (exclusive fences) instead of reading them. Default false. */
  write?: boolean;
  /** For messages. Default 'vgem-job'. */
  name?: string;
}

/** A pending unit of work on vgem buffers, as a {@link Fence}. */
export class VgemJob implements Fence, Disposable {
  /** One vgem fence per buffer, in the order given. */
  readonly vgemFences: readonly VgemFence[];
  readonly #fence: SyncFileFence;

  private constructor(vgemFences: VgemFence[], fence: SyncFileFence) {
    this.vgemFences = vgemFences;
    this.#fence = fence;
  }

  /**
   * Starts a job on `buffers` (vgem GEM buffers, at least one): attaches a vgem fence to each. vgem refuses
   * (EBUSY) a write job on a buffer with pending work, and a read job on one with a pending writer; then
   * nothing stays attached.
   */
  static start(buffers: readonly GemBuffer[], options: VgemJobOptions = {}): VgemJob {
    if (!Array.isArray(buffers as unknown) || buffers.length === 0) throw invalidArgType('buffers', 'a non-empty array of GemBuffer', buffers);
    buffers.forEach((buffer, i) => {
      if (!isInstance(buffer, GemBuffer)) throw invalidArgType(`buffers[${i}]`, 'GemBuffer', buffer);
    });
    assertOptionsObject(options);
    const write = options.write ?? false;
    const name = options.name ?? 'vgem-job';
    if (typeof write !== 'boolean') throw invalidArgType('options.write', 'boolean', write);
    if (typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    const fences: VgemFence[] = [];
    let syncFile: SyncFile | null = null;
    try {
      for (const buffer of buffers) {
        fences.push(attachVgemFence(buffer, { write }));
        using dmaBuf = buffer.exportDmaBuf();
        const part: SyncFile = dmaBuf.exportSyncFile('write');
        if (syncFile === null) syncFile = part;
        else {
          const merged: SyncFile = syncFile.merge(part, name);
          syncFile.close();
          part.close();
          syncFile = merged;
        }
      }
      return new VgemJob(fences, new SyncFileFence(syncFile!, name));
    } catch (err) {
      syncFile?.close();
      for (const fence of fences) fence.signal();
      throw err;
    }
  }

  get context(): number {
    return this.#fence.context;
  }

  get name(): string {
    return this.#fence.name;
  }

  /** Read from the kernel: every fence of the job's sync_file has signalled. */
  get signaled(): boolean {
    return this.#fence.signaled;
  }

  get error(): Error | null {
    return this.#fence.error;
  }

  /** The job's sync_file (owned by the job), to hand to another device or process. */
  get syncFile(): SyncFile {
    return this.#fence.syncFile;
  }

  wait(options?: WaitOptions): PromiseLike<boolean> {
    return this.#fence.wait(options);
  }

  /**
   * Ends the job: signals each of its vgem fences not signalled yet (the kernel's 10 s timer may have). vgem
   * fences carry no error, so a bind that signals this job as its failed out-fence only shows it signalled;
   * the bind's promise has the error.
   */
  signal(_error?: Error): void {
    for (const fence of this.vgemFences) {
      if (fence.signaled) continue;
      try {
        fence.signal();
      } catch (err) {
        // ETIMEDOUT: the kernel signalled the forgotten fence itself; it is signalled all the same.
        if (!(err instanceof DrmError && err.code === 'ETIMEDOUT')) throw err;
      }
    }
  }

  /** Closes the job's sync_file (its vgem fences stay until signalled or their DRM file closes). */
  close(): void {
    this.#fence.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
