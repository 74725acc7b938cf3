// SPDX-License-Identifier: MIT
// The fuzzer's inputs: a seeded generator, the hostile values every argument is tried with (wrong types,
// NaN, infinities, -1, 2^31, 2^32, 2^53+1, 2^64 and past it as bigints, huge lengths, objects whose
// getters, valueOf or Symbol.toPrimitive run code mid-call), and fds of every kind. A hostile value's code
// either does nothing visible, throws a sentinel (the caller must let it through untouched), or, when the
// batch enables the 'reentrant' class, sabotages live objects: closes, unmaps, detaches, resizes.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { label } from './describe.mjs';

/** xorshift32, seeded: the same seed gives the same calls. */
export function rng(seed) {
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 0x100000000;
  };
  const pick = (items) => items[Math.floor(random() * items.length)];
  return { random, pick, chance: (p) => random() < p };
}

/** Thrown by hostile getters; a call must pass it through as is (it is the caller's own error). */
export class Sentinel extends Error {
  constructor() {
    super('fuzz sentinel thrown from user code');
    this.name = 'Sentinel';
  }
}

export const SPECIAL_NUMBERS = [
  0, -0, 1, -1, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32,
  2 ** 32 + 4096, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE,
];
export const SPECIAL_BIGINTS = [0n, 1n, -1n, 4096n, 2n ** 31n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 64n + 1n, 2n ** 128n, -(2n ** 64n)];
const LONG_STRING = 'x'.repeat(1 << 16);
const OTHERS = [undefined, null, true, false, '', 'x', '4096', 'a\0b', LONG_STRING, {}, [], [1, 'a'], () => 0, Symbol('fuzz'),
  new Uint8Array(4), new ArrayBuffer(8), new Date(0), /re/, new Map(), Object.create(null), new Proxy({}, {})];

/**
 * The value pools of one batch. `sabotage` is what hostile code does when the batch covers reentrancy
 * (close or unmap something live); otherwise hostile code only throws the sentinel or returns a value.
 */
export function values(r, { sizes, sabotage, reentrant }) {
  const hostileRun = () => {
    if (reentrant && r.chance(0.5)) sabotage();
    if (r.chance(0.1)) throw new Sentinel();
  };
  // An object that runs code when converted or read: valueOf, toPrimitive, toString, a getter on every
  // option name the API reads, or a Proxy that intercepts everything.
  const hostile = () => {
    const inner = () => (r.chance(0.7) ? r.pick(sizes) : r.pick(SPECIAL_NUMBERS));
    switch (Math.floor(r.random() * 4)) {
      case 0: return label({ valueOf() { hostileRun(); return inner(); } }, 'hostile(valueOf)');
      case 1: return label({ [Symbol.toPrimitive]() { hostileRun(); return inner(); }, toString() { hostileRun(); return 'x'; } }, 'hostile(toPrimitive)');
      case 2: {
        const target = {};
        for (const key of OPTION_NAMES) Object.defineProperty(target, key, { get() { hostileRun(); return optionValue(key); }, enumerable: true });
        return label(target, 'hostile(getters)');
      }
      default: return label(new Proxy({}, {
        get(_t, key) { hostileRun(); return typeof key === 'string' ? optionValue(key) : undefined; },
        has() { hostileRun(); return true; },
        ownKeys() { hostileRun(); return OPTION_NAMES; },
        getOwnPropertyDescriptor(_t, key) { hostileRun(); return { value: optionValue(key), enumerable: true, configurable: true }; },
        getPrototypeOf() { hostileRun(); return Object.prototype; },
      }), 'hostile(Proxy)');
    }
  };
  const optionValue = (key) => {
    if (key === 'access') return r.pick(['read', 'write', 'readwrite', 'rw', 1]);
    if (key === 'signal') return r.chance(0.5) ? undefined : r.pick([AbortSignal.abort(), new AbortController().signal, {}]);
    if (key === 'write' || key === 'writable' || key === 'signaled') return r.pick([true, false, 1]);
    if (key === 'timeoutMs') return r.pick([0, 1, -1, 5, NaN, 2 ** 32, 'x']);
    return r.chance(0.8) ? r.pick(sizes) : any();
  };
  const number = () => (r.chance(0.6) ? r.pick(sizes) : r.pick(SPECIAL_NUMBERS));
  const bigint = () => (r.chance(0.5) ? BigInt(r.pick(sizes)) : r.pick(SPECIAL_BIGINTS));
  const any = () => {
    const x = r.random();
    if (x < 0.3) return number();
    if (x < 0.5) return bigint();
    if (x < 0.65) return hostile();
    return r.pick(OTHERS);
  };
  // A u64-ish argument: mostly plausible, often hostile.
  const size = () => (r.chance(0.55) ? r.pick(sizes) : any());
  const options = (make) => (r.chance(0.25) ? any() : r.chance(0.2) ? hostile() : make());
  return { any, number, bigint, size, hostile, options };
}

const OPTION_NAMES = ['offset', 'length', 'sourceOffset', 'access', 'timeoutMs', 'signal', 'writable', 'write', 'width', 'height', 'bpp', 'signaled'];

/**
 * Fds of every kind this process owns for the whole batch: a pipe (a FIFO), a socket (stdio from the
 * parent), a directory, /dev/null, a regular file, and numbers that are not open (closed, negative, huge). The caller adds its
 * memfds and dma-bufs. `close()` releases them.
 */
export function fdKinds() {
  const dir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-fuzz-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const fifo = openSync(join(dir, 'fifo'), constants.O_RDWR | constants.O_NONBLOCK);
  const directory = openSync(dir, 'r');
  const devNull = openSync('/dev/null', 'r+');
  const file = openSync(join(dir, 'file'), 'w+');
  const closed = openSync('/dev/null', 'r');
  closeSync(closed);
  const opened = [fifo, directory, devNull, file];
  return {
    // A closed number is reused by the next open, so `closed` may be live again: only for calls that
    // cannot close or write through it (the public API duplicates every fd it is given).
    numbers: [...opened, 0, 1, 2, closed, -1, 2 ** 31 - 1, 0x7ffffffe],
    close() {
      for (const fd of opened) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
