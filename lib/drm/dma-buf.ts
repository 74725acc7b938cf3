// SPDX-License-Identifier: MIT
// A dma-buf fd: the kernel's cross-device buffer handle (Documentation/driver-api/dma-buf.rst). It can be
// mapped, bracketed for CPU access, and asked about its implicit fences: poll readable means no writer
// is pending (safe to read), writable means nothing is pending (safe to write).
//
// The software device hands out memfds through the same class (kind 'memfd'): they map the same way
// and have no fences, so they are always idle and the fence ioctls answer ENOTTY.
import { constants } from 'node:buffer';
import { native } from '../native.js';
import { toU64, type U64Like } from '../u64.js';
import { assertOptionsObject, invalidArgType, invalidArgValue, outOfRange } from '../arg-errors.js';
import { abortError, callNative, type CallSite, unsafeMapping, useAfterClose } from './errors.js';
import { takeFd } from './fd.js';
import { type CheckedWait, readWaitOptions, settledWait, type WaitOptions, WaitSet } from './fd-wait.js';
import { type Mapping, MappingSet } from './mapping.js';
import { isInstance, Resource } from './resource.js';
import { SyncFile } from './sync-file.js';

/** The CPU access a fence query or bracket is about. */
export type Access = 'read' | 'write' | 'readwrite';

/** Options of DmaBuf.map and Buffer.map: a byte range, page-aligned at the start. */
export interface MapOptions {
  /** Byte offset, a multiple of the page size. Default 0. */
  offset?: U64Like;
  /** Byte length. Default: to the end of the buffer. */
  length?: U64Like;
}

/**
 * Says whether this exporter maps dma-buf sub-ranges correctly: throws an ERR_DRM_UNSAFE_MAPPING error
 * that says why not. See DrmDevice.checkSubrangeMapping.
 */
export type SubrangeCheck = () => void;

/** What a dma-buf idle wait takes: a wait's timeout and signal, and which fences it waits for. */
export interface IdleWaitOptions extends WaitOptions {
  /** 'read' waits for writers only; 'write' and 'readwrite' for every fence. Default 'write'. */
  access?: Access;
}

// DMA_BUF_SYNC_* (include/uapi/linux/dma-buf.h).
const SYNC_READ = 1n;
const SYNC_WRITE = 2n;
const SYNC_END = 4n;

function accessFlags(access: unknown): bigint {
  if (access === 'read') return SYNC_READ;
  if (access === 'write') return SYNC_WRITE;
  if (access === 'readwrite') return SYNC_READ | SYNC_WRITE;
  throw invalidArgValue('access', access, "must be 'read', 'write' or 'readwrite'");
}

/** Checks and resolves a MapOptions range against a buffer of `size` bytes. */
export function mapRange(options: MapOptions, size: bigint): { offset: bigint; length: bigint } {
  assertOptionsObject(options);
  const offset = toU64(options.offset ?? 0, 'options.offset');
  if (offset >= size) throw outOfRange('options.offset', `below the buffer size (${size})`, offset);
  const length = options.length === undefined ? size - offset : toU64(options.length, 'options.length');
  if (length === 0n || length > size - offset) {
    throw outOfRange('options.length', `in [1, ${size - offset}] (buffer size ${size}, offset ${offset})`, length);
  }
  // A mapping is one ArrayBuffer, and Node makes none longer than this: such a buffer is mapped in parts.
  if (length > BigInt(constants.MAX_LENGTH)) {
    throw outOfRange('options.length', `at most ${constants.MAX_LENGTH} (the largest ArrayBuffer); map the buffer in parts`, length);
  }
  return { offset, length };
}

/** A dma-buf (or, from the software device, a memfd) fd. */
export class DmaBuf extends Resource {
  /** The fd, owned by this object. */
  readonly fd: number;
  /** Size in bytes. */
  readonly size: bigint;
  /** 'dma-buf' for DRM exports and imports, 'memfd' for the software device. */
  readonly kind: 'dma-buf' | 'memfd';
  readonly #site: CallSite;
  readonly #subrangeCheck: SubrangeCheck | undefined;
  readonly #mappings = new MappingSet();
  readonly #waits = new WaitSet();

  /** @internal Takes ownership of `fd`. Use DmaBuf.fromFd for an fd you keep. */
  constructor(fd: number, size: bigint, kind: 'dma-buf' | 'memfd', site: CallSite, subrangeCheck?: SubrangeCheck) {
    super(() => native().close(fd));
    this.fd = fd;
    this.size = size;
    this.kind = kind;
    this.#site = site;
    this.#subrangeCheck = subrangeCheck;
  }

  /**
   * Wraps a duplicate of `fd` (a dma-buf or a sealed memfd); the caller keeps its own fd. Sub-range maps
   * of a dma-buf from an unknown exporter cannot be verified and are refused.
   */
  static fromFd(fd: number): DmaBuf {
    const own = takeFd(fd, ['dma-buf', 'memfd'], 'fd');
    let kind: string;
    let size: bigint;
    try {
      ({ kind, size } = callNative({}, () => native().fdKind(own)));
    } catch (error) {
      native().close(own);
      throw error;
    }
    return new DmaBuf(own, size, kind === 'memfd' ? 'memfd' : 'dma-buf', kind === 'memfd' ? { driver: 'software' } : {});
  }

  /** Maps a byte range for reading and writing. */
  map(options: MapOptions = {}): Mapping {
    const { offset, length } = mapRange(options, this.size);
    // After the options: a getter among them may have closed this dma-buf.
    this.assertOpen();
    this.assertMappableAt(offset);
    return callNative(this.#site, () => this.#mappings.map(this.fd, offset, length, offset));
  }

  /** @internal Throws ERR_DRM_UNSAFE_MAPPING unless a map at `offset` is known to give the right pages. */
  assertMappableAt(offset: bigint): void {
    if (offset === 0n || this.kind === 'memfd') return;
    if (this.#subrangeCheck === undefined) {
      throw unsafeMapping('cannot verify that this dma-buf\'s exporter maps a non-zero offset correctly ' +
        '(some kernels silently map page 0 instead); map from offset 0 and take a subarray');
    }
    this.#subrangeCheck();
  }

  /**
   * Starts CPU access (DMA_BUF_IOCTL_SYNC START): waits for the fences that `access` conflicts with. This
   * blocks the thread, and its event loop, until they signal (a vgem fence: up to 10 s);
   * beginCpuAccessAsync waits without blocking.
   */
  beginCpuAccess(access: Access = 'readwrite'): void {
    const flags = accessFlags(access);
    this.assertOpen();
    callNative(this.#site, () => native().dmaBufSync(this.fd, flags));
  }

  /**
   * Starts CPU access without blocking the event loop: waits asynchronously (as waitIdle) until no fence
   * conflicts with `access`, then issues DMA_BUF_IOCTL_SYNC START. Resolves true once access has begun
   * (end it with endCpuAccess), false if `timeoutMs` passed first (no access begun). A fence attached
   * between the wait and the ioctl is waited for by the ioctl itself.
   */
  async beginCpuAccessAsync(access: Access = 'readwrite', options: WaitOptions = {}): Promise<boolean> {
    const flags = accessFlags(access);
    const wait = readWaitOptions(options);
    this.assertOpen();
    if (!(await this.#idleWait(flags !== SYNC_READ, wait))) return false;
    this.assertOpen();
    callNative(this.#site, () => native().dmaBufSync(this.fd, flags));
    return true;
  }

  /** Ends CPU access begun with the same `access` (DMA_BUF_IOCTL_SYNC END). */
  endCpuAccess(access: Access = 'readwrite'): void {
    const flags = accessFlags(access) | SYNC_END;
    this.assertOpen();
    callNative(this.#site, () => native().dmaBufSync(this.fd, flags));
  }

  /** A sync_file of the fences a CPU `access` would wait on now ('read': writers; else all). */
  exportSyncFile(access: Access = 'write'): SyncFile {
    const flags = Number(accessFlags(access));
    this.assertOpen();
    return new SyncFile(callNative(this.#site, () => native().exportSyncFile(this.fd, flags)));
  }

  /** Adds `syncFile`'s fences to this buffer as readers ('read') or writers ('write', 'readwrite'). */
  importSyncFile(syncFile: SyncFile, access: Access = 'write'): void {
    if (!isInstance(syncFile, SyncFile)) throw invalidArgType('syncFile', 'SyncFile', syncFile);
    const flags = Number(accessFlags(access));
    this.assertOpen();
    if (syncFile.closed) throw invalidArgValue('syncFile', syncFile, 'is closed');
    callNative(this.#site, () => native().importSyncFile(this.fd, syncFile.fd, flags));
  }

  /** Whether a CPU `access` could start now without waiting on a fence (a zero-timeout poll). */
  isIdle(access: Access = 'write'): boolean {
    accessFlags(access);
    this.assertOpen();
    const ready = callNative(this.#site, () => native().pollNow(this.fd));
    return access === 'read' ? ready.readable : ready.writable;
  }

  /** Waits until a CPU `access` could start: resolves true, or false on timeout. */
  waitIdle(options: IdleWaitOptions = {}): PromiseLike<boolean> {
    const wait = readWaitOptions(options);
    const access = options.access ?? 'write';
    accessFlags(access);
    this.assertOpen();
    return this.#idleWait(access !== 'read', wait);
  }

  // A wait until no fence conflicts: none at all when `writable`, else no writer.
  #idleWait(writable: boolean, wait: CheckedWait): PromiseLike<boolean> {
    // poll(2): a regular file is always ready, and epoll refuses it; a memfd has no fences to wait for.
    if (this.kind === 'memfd') return settledWait(wait.aborted ? abortError(wait.signal as AbortSignal) : true);
    return this.#waits.start(this.fd, writable, wait, this.#site.path ?? `dma-buf fd ${this.fd}`);
  }

  /** Live mappings of this fd (each one unmapped by close()). */
  get mappingCount(): number {
    return this.#mappings.size;
  }

  protected describe(): string {
    return `DmaBuf fd ${this.fd}`;
  }

  protected release(): void {
    this.#waits.cancelAll(useAfterClose('DmaBuf (closed while waiting)'));
    this.#mappings.unmapAll();
    native().close(this.fd);
  }
}
