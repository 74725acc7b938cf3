// SPDX-License-Identifier: MIT
// The shape of the C++ addon (native/*.cc), one entry per exported function. Only lib/drm uses it;
// the public API is lib/drm. Errors from failed syscalls carry `errno` (positive), `syscall` and, for
// ioctls, `ioctl`; lib/drm/errors.ts turns them into Node-shaped errors.

/** DRM_IOCTL_VERSION's answer. */
export interface NativeVersion {
  major: number;
  minor: number;
  patchlevel: number;
  name: string;
  date: string;
  desc: string;
}

/** What an fd is, from fstat and /proc/self. */
export interface NativeFdKind {
  kind: 'drm' | 'dma-buf' | 'sync-file' | 'memfd' | 'other';
  /** st_size: the buffer size for dma-bufs and memfds. */
  size: bigint;
  /** The DRM minor, for kind 'drm'. */
  minor?: number;
}

/** One fence of a sync_file. */
export interface NativeFenceInfo {
  timeline: string;
  driver: string;
  /** 1 signalled, 0 active, < 0 error (a negative errno). */
  status: number;
  flags: number;
  timestampNs: bigint;
}

/** SYNC_IOC_FILE_INFO's answer. */
export interface NativeSyncFileInfo {
  name: string;
  status: number;
  fences: NativeFenceInfo[];
}

/** Counts of the native records of one environment (main thread or worker). */
export interface NativeRecords {
  /** Live mmaps handed out by map(). */
  mappings: number;
  /** Pending fd waits. */
  waits: number;
  /** Reserved VA windows. */
  windows: number;
  /** VA window views whose ArrayBuffer may still be reachable. */
  views: number;
  /** Fds VA windows keep to map their sources from. */
  windowSources: number;
  /** Fds made by the addon and not closed yet. */
  fds: number;
}

/** The functions of build/Release/drm-gpuvm.node. */
export interface NativeBinding {
  /** SHA-256 of binding.gyp and native/*.{cc,h} at build time. */
  readonly sourceDigest: string;
  /** sysconf(_SC_PAGESIZE). */
  readonly pageSize: number;

  open(path: string, readWrite: boolean): number;
  close(fd: number): void;
  dup(fd: number): number;
  fdKind(fd: number): NativeFdKind;

  version(fd: number): NativeVersion;
  setVersion(fd: number, interfaceMajor: number, interfaceMinor: number, driverMajor: number, driverMinor: number): {
    interfaceMajor: number; interfaceMinor: number; driverMajor: number; driverMinor: number;
  };
  getCap(fd: number, capability: bigint | number): bigint;
  setClientCap(fd: number, capability: bigint | number, value: bigint | number): void;

  /** MODE_CREATE_DUMB: returns the size; writes the handle to out[0] and the pitch to out[1]. */
  createDumb(fd: number, width: number, height: number, bpp: number, out: Uint32Array): bigint;
  mapDumb(fd: number, handle: number): bigint;
  gemClose(fd: number, handle: number): void;
  gemFlink(fd: number, handle: number): number;
  gemOpen(fd: number, name: number): { handle: number; size: bigint };

  primeHandleToFd(fd: number, handle: number, writable: boolean): number;
  primeFdToHandle(fd: number, dmaBufFd: number): number;

  map(fd: number, offset: bigint | number, length: bigint | number): ArrayBuffer;
  unmap(mapping: ArrayBuffer): void;
  liveMappings(): number;

  dmaBufSync(fd: number, flags: bigint | number): void;
  exportSyncFile(fd: number, flags: number): number;
  importSyncFile(fd: number, syncFileFd: number, flags: number): void;

  syncFileInfo(fd: number): NativeSyncFileInfo;
  syncFileMerge(fd: number, otherFd: number, name: string): number;

  waitStart(fd: number, writable: boolean, timeoutMs: number, callback: (result: number) => void): number;
  waitRef(id: number, keepAlive: boolean): boolean;
  waitCancel(id: number): boolean;
  pollNow(fd: number): { readable: boolean; writable: boolean };
  pendingWaits(): number;

  vgemFenceAttach(fd: number, handle: number, write: boolean): number;
  vgemFenceSignal(fd: number, fence: number): void;

  syncobjCreate(fd: number, signaled: boolean): number;
  syncobjDestroy(fd: number, handle: number): void;
  syncobjWait(fd: number, handles: number[], deadlineNs: bigint | number, waitAll: boolean): number;
  syncobjReset(fd: number, handles: number[]): void;
  syncobjSignal(fd: number, handles: number[]): void;
  syncobjHandleToFd(fd: number, handle: number, asSyncFile: boolean): number;
  syncobjFdToHandle(fd: number, syncobjFd: number): number;
  syncobjImportSyncFile(fd: number, handle: number, syncFileFd: number): void;

  memfdCreate(name: string, size: bigint | number): number;

  vaReserve(length: bigint | number): number;
  /** Checks `fd` once and keeps a duplicate of it to map from: a source id for vaMap. */
  vaAddSource(window: number, fd: number): number;
  /** Closes the window's fd of a source; false if the window or the source is not listed. */
  vaRemoveSource(window: number, source: number): boolean;
  vaMap(window: number, offset: bigint | number, source: number, fileOffset: bigint | number, length: bigint | number, faultIn: boolean): void;
  vaUnmap(window: number, offset: bigint | number, length: bigint | number): void;
  vaView(window: number, offset: bigint | number, length: bigint | number): ArrayBuffer;
  /** [offset, end, offset, end, ...]. */
  vaMappedRanges(window: number): BigUint64Array;
  vaRelease(window: number): boolean;

  /** UDMABUF_CREATE on /dev/udmabuf: a dma-buf over [offset, offset + size) of a sealed memfd. */
  udmabufCreate(memfd: number, offset: bigint | number, size: bigint | number): number;

  /** A driver-private ioctl of native/driver_ioctl_table.cc; `pointers` holds (buffer, offset, target) triples. */
  driverIoctl(fd: number, driver: string, name: string, request: number, buffers: Uint8Array[], pointers: Uint32Array): number;
  driverIoctlRules(): { driver: string; name: string; request: number; struct: string }[];

  /** The address-space budget of all VA windows of the process and what they hold; sets the budget first when given. */
  vaLimits(limit?: bigint | number): { limit: bigint; reserved: bigint };

  /** What this environment's native side holds, for leak checks. */
  nativeRecords(): NativeRecords;
}
