// SPDX-License-Identifier: MIT
// A sync_file: an fd holding a snapshot of one or more fences (Documentation/driver-api/sync_file.rst).
// It polls readable once every fence has signalled.
import { native } from '../native.js';
import type { NativeFenceInfo } from '../native-types.js';
import { invalidArgType, invalidArgValue } from '../arg-errors.js';
import { callNative, useAfterClose } from './errors.js';
import { type FdWait, readWaitOptions, type WaitOptions, WaitSet } from './fd-wait.js';
import { isInstance, Resource } from './resource.js';
import { takeFd } from './fd.js';

/** Status of a sync_file or one of its fences. */
export type FenceStatus = 'active' | 'signaled' | 'error';

/** One fence in a sync_file. */
export interface FenceInfo {
  /** The timeline's name (vgem: 'unbound'). */
  timeline: string;
  /** The driver that made the fence ('vgem'). */
  driver: string;
  /** 'active' until the fence signals, then 'signaled', or 'error' when it signalled with an error. */
  status: FenceStatus;
  /** The negative errno of a failed fence, else 0. */
  error: number;
  /** When the fence signalled (CLOCK_MONOTONIC ns), 0n while active. */
  timestampNs: bigint;
}

/** SYNC_IOC_FILE_INFO, decoded. */
export interface SyncFileInfo {
  /** The sync_file's name as the kernel reports it. */
  name: string;
  /** 'signaled' once every fence has, 'error' when one failed, else 'active'. */
  status: FenceStatus;
  /** Each fence the sync_file holds. */
  fences: FenceInfo[];
}

function statusOf(value: number): FenceStatus {
  return value > 0 ? 'signaled' : value === 0 ? 'active' : 'error';
}

function fenceInfo(fence: NativeFenceInfo): FenceInfo {
  return {
    timeline: fence.timeline,
    driver: fence.driver,
    status: statusOf(fence.status),
    error: fence.status < 0 ? fence.status : 0,
    timestampNs: fence.timestampNs,
  };
}

/** A sync_file fd. */
export class SyncFile extends Resource {
  /** The sync_file fd, owned by this object. */
  readonly fd: number;
  readonly #waits = new WaitSet();

  /** @internal Takes ownership of `fd`. Use SyncFile.fromFd for an fd you keep. */
  constructor(fd: number) {
    super(() => native().close(fd));
    this.fd = fd;
  }

  /** Wraps a duplicate of `fd`, which must be a sync_file; the caller keeps its own fd. */
  static fromFd(fd: number): SyncFile {
    return new SyncFile(takeFd(fd, 'sync-file', 'fd'));
  }

  /** The fences and their status. */
  info(): SyncFileInfo {
    this.assertOpen();
    const info = callNative({}, () => native().syncFileInfo(this.fd));
    return { name: info.name, status: statusOf(info.status), fences: info.fences.map(fenceInfo) };
  }

  /** Whether every fence has signalled (a zero-timeout poll). */
  isSignaled(): boolean {
    this.assertOpen();
    return callNative({}, () => native().pollNow(this.fd)).readable;
  }

  /** Waits until every fence has signalled: resolves true, or false on timeout. */
  wait(options: WaitOptions = {}): FdWait {
    const wait = readWaitOptions(options);
    this.assertOpen();
    return this.#waits.start(this.fd, false, wait, `sync_file fd ${this.fd}`);
  }

  /** A new sync_file that signals once both this one and `other` have. */
  merge(other: SyncFile, name = 'merged'): SyncFile {
    if (!isInstance(other, SyncFile)) throw invalidArgType('other', 'SyncFile', other);
    this.assertOpen();
    if (other.closed) throw invalidArgValue('other', other, 'is closed');
    return new SyncFile(callNative({}, () => native().syncFileMerge(this.fd, other.fd, name)));
  }

  protected describe(): string {
    return `SyncFile fd ${this.fd}`;
  }

  protected release(): void {
    this.#waits.cancelAll(useAfterClose('SyncFile (closed while waiting)'));
    native().close(this.fd);
  }
}
