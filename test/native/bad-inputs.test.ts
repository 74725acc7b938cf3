// SPDX-License-Identifier: MIT
// Every exported function refuses bad input with a typed, coded error before any syscall: wrong type,
// negative, NaN, 2^64, fractions, closed objects. First the public API (on the software device: this
// machine has no DRM; the DrmDevice methods get the same table in test/guest/drm-device.test.ts), then
// every function of the native addon directly, its second wall.
import { describe, expect, it } from 'vitest';
import {
  attachVgemFence, createUdmabuf, describeDevice, DmaBuf, DrmDevice, listDevices, openDevice, renderVaMapSvg, SoftwareDevice, SyncFile, Syncobj, VaHeap, vaMapElementBound, VaWindow,
} from '../../lib/index.js';
import { native } from '../../lib/native.js';

const TYPE = 'ERR_INVALID_ARG_TYPE';
const RANGE = 'ERR_OUT_OF_RANGE';
const VALUE = 'ERR_INVALID_ARG_VALUE';
const CLOSED = 'ERR_USE_AFTER_CLOSE';
const TWO_64 = 1n << 64n;
// Far above any fd this process opens (closed fd numbers are reused at once, so they cannot serve).
const UNUSED_FD = 0x7ffffffe;

function fixtures() {
  const device = new SoftwareDevice();
  const buffer = device.createBuffer(8192);
  const dmaBuf = buffer.exportDmaBuf();
  const closedDevice = new SoftwareDevice();
  closedDevice.close();
  const closedBuffer = device.createBuffer(4096);
  closedBuffer.close();
  const closedDmaBuf = buffer.exportDmaBuf();
  closedDmaBuf.close();
  const nullFd = native().open('/dev/null', true);
  // A raw window with one source added (the 8 KiB buffer) and one added and removed again.
  const window = native().vaReserve(4n * 4096n);
  const source = native().vaAddSource(window, buffer.fd);
  const removedSource = native().vaAddSource(window, buffer.fd);
  native().vaRemoveSource(window, removedSource);
  return { device, buffer, dmaBuf, closedDevice, closedBuffer, closedDmaBuf, nullFd, window, source, removedSource };
}

const f = fixtures();

const publicCases: Array<[string, () => unknown, string]> = [
  ['createBuffer("4096")', () => f.device.createBuffer('4096' as never), TYPE],
  ['createBuffer(-1)', () => f.device.createBuffer(-1), RANGE],
  ['createBuffer(NaN)', () => f.device.createBuffer(Number.NaN), RANGE],
  ['createBuffer(2^64)', () => f.device.createBuffer(TWO_64), RANGE],
  ['createBuffer(1.5)', () => f.device.createBuffer(1.5), RANGE],
  ['createBuffer(0)', () => f.device.createBuffer(0), RANGE],
  ['createBuffer on a closed device', () => f.closedDevice.createBuffer(4096), CLOSED],
  ['importDmaBuf("fd")', () => f.device.importDmaBuf('fd' as never), TYPE],
  ['importDmaBuf(3)', () => f.device.importDmaBuf(3 as never), TYPE],
  ['importDmaBuf of a closed DmaBuf', () => f.device.importDmaBuf(f.closedDmaBuf), CLOSED],
  ['importDmaBuf on a closed device', () => f.closedDevice.importDmaBuf(f.dmaBuf), CLOSED],
  ['map({ offset: "0" })', () => f.buffer.map({ offset: '0' as never }), TYPE],
  ['map({ offset: -4096 })', () => f.buffer.map({ offset: -4096 }), RANGE],
  ['map({ offset: NaN })', () => f.buffer.map({ offset: Number.NaN }), RANGE],
  ['map({ offset: 2^64 })', () => f.buffer.map({ offset: TWO_64 }), RANGE],
  ['map({ length: 0 })', () => f.buffer.map({ length: 0 }), RANGE],
  ['map({ length: 2^64 - 1 })', () => f.buffer.map({ length: TWO_64 - 1n }), RANGE],
  ['map(null)', () => f.buffer.map(null as never), TYPE],
  ['map on a closed buffer', () => f.closedBuffer.map(), CLOSED],
  ['exportDmaBuf on a closed buffer', () => f.closedBuffer.exportDmaBuf(), CLOSED],
  ['DmaBuf.fromFd("3")', () => DmaBuf.fromFd('3' as never), TYPE],
  ['DmaBuf.fromFd(-1)', () => DmaBuf.fromFd(-1), VALUE],
  ['DmaBuf.fromFd(NaN)', () => DmaBuf.fromFd(Number.NaN), VALUE],
  ['DmaBuf.fromFd(2^64)', () => DmaBuf.fromFd(2 ** 64), VALUE],
  ['DmaBuf.fromFd(/dev/null)', () => DmaBuf.fromFd(f.nullFd), VALUE],
  ['DmaBuf.fromFd(an fd that is not open)', () => DmaBuf.fromFd(UNUSED_FD), 'EBADF'],
  ['dmaBuf.map({ offset: -1 })', () => f.dmaBuf.map({ offset: -1 }), RANGE],
  ['dmaBuf.map on a closed DmaBuf', () => f.closedDmaBuf.map(), CLOSED],
  ['beginCpuAccess("rw")', () => f.dmaBuf.beginCpuAccess('rw' as never), VALUE],
  ['endCpuAccess(1)', () => f.dmaBuf.endCpuAccess(1 as never), VALUE],
  ['beginCpuAccess on a closed DmaBuf', () => f.closedDmaBuf.beginCpuAccess(), CLOSED],
  ['exportSyncFile("all")', () => f.dmaBuf.exportSyncFile('all' as never), VALUE],
  ['importSyncFile("fd")', () => f.dmaBuf.importSyncFile('fd' as never), TYPE],
  ['isIdle("both")', () => f.dmaBuf.isIdle('both' as never), VALUE],
  ['isIdle on a closed DmaBuf', () => f.closedDmaBuf.isIdle(), CLOSED],
  ['waitIdle({ timeoutMs: "1" })', () => f.dmaBuf.waitIdle({ timeoutMs: '1' as never }), TYPE],
  ['waitIdle({ timeoutMs: NaN })', () => f.dmaBuf.waitIdle({ timeoutMs: Number.NaN }), RANGE],
  ['waitIdle({ timeoutMs: 2^64 })', () => f.dmaBuf.waitIdle({ timeoutMs: 2 ** 64 }), RANGE],
  ['waitIdle({ signal: {} })', () => f.dmaBuf.waitIdle({ signal: {} as never }), TYPE],
  ['waitIdle on a closed DmaBuf', () => f.closedDmaBuf.waitIdle(), CLOSED],
  ['SyncFile.fromFd("3")', () => SyncFile.fromFd('3' as never), TYPE],
  ['SyncFile.fromFd(-1)', () => SyncFile.fromFd(-1), VALUE],
  ['SyncFile.fromFd(a memfd)', () => SyncFile.fromFd(f.buffer.fd), VALUE],
  ['openDevice(42)', () => openDevice(42 as never), TYPE],
  ['DrmDevice.open(null)', () => DrmDevice.open(null as never), TYPE],
  ['DrmDevice.open("/dev/null")', () => DrmDevice.open('/dev/null'), VALUE],
  ['attachVgemFence("buffer")', () => attachVgemFence('buffer' as never), TYPE],
  ['attachVgemFence(a software buffer)', () => attachVgemFence(f.buffer as never), TYPE],
  ['Syncobj.create("device")', () => Syncobj.create('device' as never), TYPE],
  ['Syncobj.create(a software device)', () => Syncobj.create(f.device as never), TYPE],
  ['new VaHeap(…).alloc(size, alignment, null)', () => new VaHeap(0n, 1n << 20n).alloc(4096, 4096, null as never), TYPE],
  ['renderVaMapSvg(input, null)', () => renderVaMapSvg({ start: 0n, range: 1n << 20n, mappings: [] }, null as never), TYPE],
  ['vaMapElementBound(null)', () => vaMapElementBound(null as never), TYPE],
  ['listDevices(5)', () => listDevices(5 as never), TYPE],
  ['describeDevice({})', () => describeDevice({} as never), TYPE],
  // A Proxy (whose traps could name any fd) or an object made from a prototype is not the real object.
  ['importDmaBuf(a Proxy of a DmaBuf)', () => f.device.importDmaBuf(new Proxy(f.dmaBuf, {})), TYPE],
  ['importDmaBuf(a Proxy lying about its fd)', () => f.device.importDmaBuf(new Proxy(f.dmaBuf, { get: (t, k) => (k === 'fd' ? 1 : Reflect.get(t, k) as unknown) })), TYPE],
  ['importDmaBuf(Object.create(DmaBuf.prototype))', () => f.device.importDmaBuf(Object.create(DmaBuf.prototype) as DmaBuf), TYPE],
  ['VaWindow.map of a Proxy of a buffer', () => { using w = VaWindow.reserve(4096); w.map(0, new Proxy(f.buffer, {})); }, TYPE],
  ['createUdmabuf(a Proxy of a DmaBuf)', () => createUdmabuf(new Proxy(f.dmaBuf, {}), 0, 4096), TYPE],
  ['a Proxy of the device: createBuffer', () => new Proxy(f.device, {}).createBuffer(4096), 'ERR_INVALID_THIS'],
  ['a Proxy of a buffer: map', () => new Proxy(f.buffer, {}).map(), 'ERR_INVALID_THIS'],
  ['a Proxy of a buffer: close', () => new Proxy(f.buffer, {}).close(), 'ERR_INVALID_THIS'],
  ['a Proxy of a DmaBuf: map', () => new Proxy(f.dmaBuf, {}).map(), 'ERR_INVALID_THIS'],
  ['a Proxy of a window: view', () => { using w = VaWindow.reserve(4096); new Proxy(w, {}).view(0, 4096); }, 'ERR_INVALID_THIS'],
  ['a Proxy of a mapping: unmap', () => { using m = f.buffer.map(); new Proxy(m, {}).unmap(); }, 'ERR_INVALID_THIS'],
];

describe('the public API refuses bad input with a coded error', () => {
  it.each(publicCases)('%s', (_name, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  it('changes nothing when it refuses: the buffer still maps and reads what was written', () => {
    using mapping = f.buffer.map();
    mapping.bytes[0] = 0x33;
    expect(() => f.buffer.map({ offset: -1 })).toThrow();
    expect(f.buffer.mappingCount).toBe(1);
    expect(mapping.bytes[0]).toBe(0x33);
  });
});

// Native functions: the kind of each argument, and a valid value for it (the call itself may still fail
// with a syscall error; only argument errors are asserted).
type Kind = 'fd' | 'i32' | 'u32' | 'u64' | 'bool' | 'string' | 'function' | 'handles' | 'timeout' | 'byteArrays' | 'pointers' | 'u32Out2';
const valid: Record<Kind, unknown> = {
  fd: f.nullFd, i32: -1, u32: 1, u64: 0n, bool: false, string: 'x', function: () => undefined, handles: [1], timeout: 0,
  byteArrays: [new Uint8Array(8)], pointers: new Uint32Array(0), u32Out2: new Uint32Array(2),
};
const bad: Record<Kind, Array<[string, unknown, string]>> = {
  fd: [['"3"', '3', TYPE], ['-1', -1, RANGE], ['NaN', Number.NaN, RANGE], ['2^64', 2 ** 64, RANGE], ['1.5', 1.5, RANGE], ['3n', 3n, TYPE]],
  i32: [['"1"', '1', TYPE], ['1n', 1n, TYPE], ['NaN', Number.NaN, RANGE], ['2^31', 2 ** 31, RANGE], ['-2^31-1', -(2 ** 31) - 1, RANGE], ['0.5', 0.5, RANGE]],
  u32: [['"1"', '1', TYPE], ['-1', -1, RANGE], ['NaN', Number.NaN, RANGE], ['2^32', 2 ** 32, RANGE], ['Infinity', Infinity, RANGE]],
  u64: [['"0"', '0', TYPE], ['-1', -1, RANGE], ['-1n', -1n, RANGE], ['NaN', Number.NaN, RANGE], ['2^64', TWO_64, RANGE], ['2^53', 2 ** 53, RANGE]],
  bool: [['1', 1, TYPE], ['undefined', undefined, TYPE]],
  string: [['1', 1, TYPE], ['"a\\0b"', 'a\0b', VALUE]],
  function: [['{}', {}, TYPE]],
  handles: [['"1"', '1', TYPE], ['[]', [], RANGE], ['[-1]', [-1], RANGE], ['[NaN]', [Number.NaN], RANGE], ['["1"]', ['1'], RANGE]],
  timeout: [['"1"', '1', TYPE], ['NaN', Number.NaN, RANGE], ['2^33', 2 ** 33, RANGE]],
  byteArrays: [['"x"', 'x', TYPE], ['[]', [], RANGE], ['[[1]]', [[1]], TYPE]],
  pointers: [['[]', [], TYPE], ['Uint32Array(1)', new Uint32Array(1), RANGE]],
  u32Out2: [['[0, 0]', [0, 0], TYPE], ['Int32Array(2)', new Int32Array(2), TYPE], ['Uint32Array(1)', new Uint32Array(1), RANGE]],
};
const signatures: Record<string, Kind[]> = {
  open: ['string', 'bool'], close: ['fd'], dup: ['fd'], fdKind: ['fd'],
  version: ['fd'], setVersion: ['fd', 'i32', 'i32', 'i32', 'i32'], getCap: ['fd', 'u64'], setClientCap: ['fd', 'u64', 'u64'],
  createDumb: ['fd', 'u32', 'u32', 'u32', 'u32Out2'], mapDumb: ['fd', 'u32'], gemClose: ['fd', 'u32'], gemFlink: ['fd', 'u32'], gemOpen: ['fd', 'u32'],
  primeHandleToFd: ['fd', 'u32', 'bool'], primeFdToHandle: ['fd', 'fd'],
  map: ['fd', 'u64', 'u64'],
  dmaBufSync: ['fd', 'u64'], exportSyncFile: ['fd', 'u32'], importSyncFile: ['fd', 'fd', 'u32'],
  syncFileInfo: ['fd'], syncFileMerge: ['fd', 'fd', 'string'],
  waitStart: ['fd', 'bool', 'timeout', 'function'], waitRef: ['u32', 'bool'], waitCancel: ['u32'], pollNow: ['fd'],
  vgemFenceAttach: ['fd', 'u32', 'bool'], vgemFenceSignal: ['fd', 'u32'],
  syncobjCreate: ['fd', 'bool'], syncobjDestroy: ['fd', 'u32'], syncobjWait: ['fd', 'handles', 'u64', 'bool'],
  syncobjReset: ['fd', 'handles'], syncobjSignal: ['fd', 'handles'], syncobjHandleToFd: ['fd', 'u32', 'bool'],
  syncobjFdToHandle: ['fd', 'fd'], syncobjImportSyncFile: ['fd', 'u32', 'fd'],
  memfdCreate: ['string', 'u64'],
  udmabufCreate: ['fd', 'u64', 'u64'],
  vaReserve: ['u64'], vaAddSource: ['u32', 'fd'], vaRemoveSource: ['u32', 'u32'],
  vaMap: ['u32', 'u64', 'u32', 'u64', 'u64', 'bool'], vaUnmap: ['u32', 'u64', 'u64'],
  vaView: ['u32', 'u64', 'u64'], vaMappedRanges: ['u32'], vaRelease: ['u32'], vaLimits: ['u64'],
  // lib/backends' generic driver ioctl (native/driver_bind.cc).
  driverIoctl: ['fd', 'string', 'string', 'u32', 'byteArrays', 'pointers'],
};

const nativeCases: Array<[string, () => unknown, string]> = [];
for (const [name, kinds] of Object.entries(signatures)) {
  kinds.forEach((kind, position) => {
    for (const [label, value, code] of bad[kind]) {
      const args = kinds.map((k, i) => (i === position ? value : valid[k]));
      nativeCases.push([`${name} argument ${position + 1} = ${label}`, () => (native() as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args), code]);
    }
  });
}
nativeCases.push(
  ['unmap("x")', () => native().unmap('x' as never), TYPE],
  ['unmap(a plain ArrayBuffer)', () => native().unmap(new ArrayBuffer(8)), 'ERR_DRM_NOT_MAPPED'],
  ['map of /dev/null', () => native().map(f.nullFd, 0n, 4096n), 'ERR_DRM_UNSAFE_MAPPING'],
  ['map at an unaligned offset', () => native().map(f.buffer.fd, 1n, 4096n), RANGE],
  ['map past the end of a memfd', () => native().map(f.buffer.fd, 4096n, 8192n), RANGE],
  ['version of an fd that is not open', () => native().version(UNUSED_FD), 'EBADF'],
  ['vaView of a window that does not exist', () => native().vaView(0xfffffff0, 0, 4096), 'ERR_DRM_NO_SUCH_WINDOW'],
  ['vaAddSource to a window that does not exist', () => native().vaAddSource(0xfffffff0, f.buffer.fd), 'ERR_DRM_NO_SUCH_WINDOW'],
  ['vaAddSource of /dev/null', () => native().vaAddSource(f.window, f.nullFd), 'ERR_DRM_UNSAFE_MAPPING'],
  ['vaAddSource of an fd that is not open', () => native().vaAddSource(f.window, UNUSED_FD), 'EBADF'],
  ['vaMap of a source that was never added', () => native().vaMap(f.window, 0n, 0xfffffff0, 0n, 4096n, false), 'ERR_DRM_NO_SUCH_SOURCE'],
  ['vaMap of a removed source', () => native().vaMap(f.window, 0n, f.removedSource, 0n, 4096n, false), 'ERR_DRM_NO_SUCH_SOURCE'],
  ['vaMap past the end of a memfd source', () => native().vaMap(f.window, 0n, f.source, 4096n, 8192n, false), RANGE],
  ['vaMap at an unaligned source offset', () => native().vaMap(f.window, 0n, f.source, 1n, 4096n, false), RANGE],
);

describe('the native addon refuses bad input with a coded error', () => {
  it('covers every native function', () => {
    const functions = Object.entries(native()).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
    const covered = new Set([...Object.keys(signatures), 'unmap', 'liveMappings', 'pendingWaits', 'driverIoctlRules', 'nativeRecords']);
    expect(functions.filter((name) => !covered.has(name))).toEqual([]);
  });

  it.each(nativeCases)('%s', (_name, call, code) => {
    try {
      call();
      expect.unreachable('no error thrown');
    } catch (error) {
      const e = error as { code?: string; errno?: number };
      // Syscall failures from the raw addon carry a positive errno; EBADF is 9.
      expect(e.code ?? (e.errno === 9 ? 'EBADF' : String(e.errno))).toBe(code);
    }
  });
});
