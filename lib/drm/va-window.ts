// SPDX-License-Identifier: MIT
// A window of CPU address space in which buffers are placed at chosen offsets, the way a GPU VA space
// places them at GPU addresses: the primitive an emulated "VA window" backend stands on. The window is
// reserved PROT_NONE; map() puts a buffer range at an offset (MAP_FIXED), unmap() turns a range back into
// a hole (splitting mapped ranges at its edges), and view() reads a mapped span as one ArrayBuffer, even
// across several buffers. Views are detached before the memory under them changes (native/va_window.cc).
import { native } from '../native.js';
import { toU64, type U64Like } from '../u64.js';
import type { Buffer } from './device.js';
import { DmaBuf } from './dma-buf.js';
import { assertOptionsObject, invalidArgType, outOfRange } from '../arg-errors.js';
import { callNative, type CallSite, toDrmError } from './errors.js';
import { GemBuffer } from './gem-buffer.js';
import { isInstance, Resource } from './resource.js';
import { SoftwareBuffer } from './software-device.js';

/** What VaWindow.map places: a buffer of a device, or a dma-buf. */
export type WindowSource = Buffer | DmaBuf;

/** Options of VaWindow.map. */
export interface WindowMapOptions {
  /** Byte offset in the source, page-aligned. Default 0. */
  sourceOffset?: U64Like;
  /** Bytes to map. Default: the rest of the source. */
  length?: U64Like;
}

/** A mapped range of the window, [offset, end). */
export interface WindowRange {
  /** First byte of the range, from the window's start. */
  offset: bigint;
  /** One past the last byte. */
  end: bigint;
}

// Whether `check` (a subrange probe: it throws unless a mapping that starts past page 0 shows the right
// pages) passes. Where it does not, a window mapping is faulted in whole while it still starts at page 0,
// since unmapping its start or middle later leaves pieces that start elsewhere (native/va_window.cc).
function honoursOffsets(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

// Which of the kinds a window maps `source` is (null: none), told once per map.
type SourceKind = 'software' | 'dma-buf' | 'gem';

function sourceKind(source: unknown): SourceKind | null {
  if (isInstance(source, SoftwareBuffer)) return 'software';
  if (isInstance(source, DmaBuf)) return 'dma-buf';
  if (isInstance(source, GemBuffer)) return 'gem';
  return null;
}

// Where a window maps `source` from: the fd, the object that owns that fd (a GemBuffer is mapped through
// its device's fd), and the file offset.
interface ResolvedSource {
  fd: number;
  owner: Resource;
  fileOffset: bigint;
  path: string;
  faultIn: boolean;
}

// The fd and file offset through which `source` (of kind `kind`) is mapped, with the checks its kind
// needs, and whether the mapping must be faulted in whole when it is made.
function resolveSource(source: WindowSource, kind: SourceKind, sourceOffset: bigint): ResolvedSource {
  if (kind === 'software') {
    const buffer = source as SoftwareBuffer;
    return { fd: buffer.fd, owner: buffer, fileOffset: sourceOffset, path: 'software', faultIn: false };
  }
  if (kind === 'dma-buf') {
    const dmaBuf = source as DmaBuf;
    dmaBuf.assertMappableAt(sourceOffset);
    const faultIn = !honoursOffsets(() => dmaBuf.assertMappableAt(BigInt(native().pageSize)));
    return { fd: dmaBuf.fd, owner: dmaBuf, fileOffset: sourceOffset, path: `dma-buf fd ${dmaBuf.fd}`, faultIn };
  }
  const gem = source as GemBuffer;
  const device = gem.device;
  device.assertUsable();
  if (sourceOffset !== 0n) device.checkSubrangeMapping();
  const faultIn = !honoursOffsets(() => device.checkSubrangeMapping());
  const fake = callNative(device.callSite, () => native().mapDumb(device.fd, gem.handle));
  return { fd: device.fd, owner: device, fileOffset: fake + sourceOffset, path: device.path, faultIn };
}

const NO_SITE: CallSite = {};

// What a window keeps per source: how to stop hearing of its owner (its close listener, its entry below).
type SourceTracking = Map<number, () => void>;

// Lets a window's copy of a source's fd go when the object owning the fd is collected unclosed.
const sourcesOfCollected = new FinalizationRegistry<{ window: number; source: number; tracking: SourceTracking }>(
  ({ window, source, tracking }) => {
    tracking.delete(source);
    native().vaRemoveSource(window, source);
  },
);

function addSource(window: number, fd: number, path: string): number {
  return callNative({ path }, () => native().vaAddSource(window, fd));
}

// Lets `window`'s copy of `source` go when `owner` closes or is collected, and keeps in `tracking` what
// stops that. The callbacks are made here, where no variable they share a scope with holds the owner or
// the window object: V8 keeps a function's scope alive for its closures, and one that held the owner would
// keep it from ever being collected.
function trackSource(owner: Resource, tracking: SourceTracking, window: number, source: number): void {
  const token = {};
  const stopListening = owner.whenClosed(() => {
    tracking.delete(source);
    sourcesOfCollected.unregister(token);
    native().vaRemoveSource(window, source);
  });
  sourcesOfCollected.register(owner, { window, source, tracking }, token);
  tracking.set(source, () => {
    stopListening();
    sourcesOfCollected.unregister(token);
  });
}

/** A reserved range of CPU address space that buffers are mapped into at fixed offsets. */
export class VaWindow extends Resource {
  /** Size of the window in bytes. */
  readonly size: bigint;
  readonly #id: number;
  // Source ids (native vaAddSource) by the object owning the fd. The addon checks an fd once and maps
  // through its own copy of it, which goes when the owner closes or is collected, or with the window.
  readonly #sources = new WeakMap<Resource, number>();
  // The sources listed now, by id: what stops the window hearing of each owner once the window is closed.
  readonly #tracking: SourceTracking = new Map();

  private constructor(id: number, size: bigint) {
    super(() => native().vaRelease(id));
    this.#id = id;
    this.size = size;
  }

  /**
   * Reserves `size` bytes (a multiple of the page size, at most 2^46) of address space, all holes. All
   * windows of the process share one budget of address space (VaWindow.reserveLimit, 2^46 bytes unless
   * set): past it the reservation is refused with ERR_DRM_VA_LIMIT, which carries `limit` and `reserved`.
   */
  static reserve(size: U64Like): VaWindow {
    const bytes = toU64(size, 'size');
    return new VaWindow(callNative({}, () => native().vaReserve(bytes)), bytes);
  }

  /** The address space all VA windows of this process may hold together, in bytes. */
  static get reserveLimit(): bigint {
    return native().vaLimits().limit;
  }

  /** The address space the VA windows of this process hold now, in bytes. */
  static get reservedBytes(): bigint {
    return native().vaLimits().reserved;
  }

  /**
   * Sets the budget of address space for the VA windows of this process (every thread). It applies to
   * new reservations; windows already reserved keep their space.
   */
  static setReserveLimit(bytes: U64Like): void {
    const limit = toU64(bytes, 'bytes');
    native().vaLimits(limit);
  }

  /**
   * Maps `source` (from `sourceOffset`, `length` bytes) at `offset`; the range must be a hole. A source
   * whose driver faults pages in without the mapping's page offset (DrmDevice.checkSubrangeMapping fails)
   * maps from `sourceOffset` 0 only (ERR_DRM_UNSAFE_MAPPING), and is faulted in whole here, so the pieces a
   * later unmap leaves of it keep their pages.
   */
  map(offset: U64Like, source: WindowSource, options: WindowMapOptions = {}): void {
    const at = toU64(offset, 'offset');
    const kind = sourceKind(source);
    if (kind === null) throw invalidArgType('source', 'an open GemBuffer, SoftwareBuffer or DmaBuf', source);
    assertOptionsObject(options);
    const sourceOffset = toU64(options.sourceOffset ?? 0, 'options.sourceOffset');
    const requested = options.length;
    if (sourceOffset >= source.size) throw outOfRange('options.sourceOffset', `below the source size (${source.size})`, sourceOffset);
    const length = requested === undefined ? source.size - sourceOffset : toU64(requested, 'options.length');
    if (length > source.size - sourceOffset) throw outOfRange('options.length', `at most the ${source.size - sourceOffset} bytes from sourceOffset to the end of the source`, length);
    // After the options: a getter among them may have closed this window or the source.
    this.assertOpen();
    if (source.closed) throw invalidArgType('source', 'an open GemBuffer, SoftwareBuffer or DmaBuf', source);
    const resolved = resolveSource(source, kind, sourceOffset);
    const sourceId = this.#sourceId(resolved);
    // callNative's work without its closure: a map is on every bind's path.
    try {
      native().vaMap(this.#id, at, sourceId, resolved.fileOffset, length, resolved.faultIn);
    } catch (error) {
      throw toDrmError(error, { path: resolved.path });
    }
  }

  // The id of the source behind `resolved`, added to the window the first time its owner is mapped.
  #sourceId(resolved: ResolvedSource): number {
    const known = this.#sources.get(resolved.owner);
    if (known !== undefined) return known;
    const source = addSource(this.#id, resolved.fd, resolved.path);
    this.#sources.set(resolved.owner, source);
    trackSource(resolved.owner, this.#tracking, this.#id, source);
    return source;
  }

  /** Turns [offset, offset + length) back into a hole; views over any of it are detached. */
  unmap(offset: U64Like, length: U64Like): void {
    this.assertOpen();
    const at = toU64(offset, 'offset');
    const bytes = toU64(length, 'length');
    try {
      native().vaUnmap(this.#id, at, bytes);
    } catch (error) {
      throw toDrmError(error, NO_SITE);
    }
  }

  /** An ArrayBuffer over [offset, offset + length), which must be mapped end to end (ERR_DRM_VA_HOLE). */
  view(offset: U64Like, length: U64Like): ArrayBuffer {
    this.assertOpen();
    const at = toU64(offset, 'offset');
    const bytes = toU64(length, 'length');
    return callNative({}, () => native().vaView(this.#id, at, bytes));
  }

  /** The mapped ranges, in address order (adjacent mappings are listed separately). */
  mappedRanges(): WindowRange[] {
    this.assertOpen();
    const flat = native().vaMappedRanges(this.#id);
    // Array.from defines each element: no setter JS may have put on Array.prototype runs.
    return Array.from({ length: flat.length / 2 }, (_, i) => ({ offset: flat[2 * i]!, end: flat[2 * i + 1]! }));
  }

  protected describe(): string {
    return `VaWindow ${this.#id}`;
  }

  protected release(): void {
    // Its sources' owners need not tell this window anything any more.
    for (const stop of this.#tracking.values()) stop();
    this.#tracking.clear();
    native().vaRelease(this.#id);
  }
}
