// SPDX-License-Identifier: MIT
// Seeded generator of GPUVM request streams in the trace format (docs/trace-format.md), so one
// stream can be replayed by this package, by the test-only reference models and, later, by a kernel driver.
// Pure and deterministic: the same (seed, params) always gives the same commands, on any machine, because the
// only source of randomness is the sfc32 generator below and every draw happens in a fixed order. A change
// that alters any stream for existing (seed, params) must bump TRACE_GENERATOR_VERSION.
import { invalidArgValue, outOfRange } from '../arg-errors.js';

/** Bumped whenever the stream for some (seed, params) changes; traces print it in their header. */
export const TRACE_GENERATOR_VERSION = 1;

/**
 * One generated trace line in object form; `bo: null` is a sparse map. Unlike the parser's TraceCommand
 * (trace.ts) it carries comments and no source line numbers: it is what gets written, not what was read.
 */
export type GeneratedTraceCommand =
  | { kind: 'comment'; text: string }
  | { kind: 'vm'; start: bigint; range: bigint; reserve: { start: bigint; range: bigint } | null }
  | { kind: 'bo'; name: string; size: bigint }
  | { kind: 'map'; addr: bigint; range: bigint; bo: string | null; offset: bigint }
  | { kind: 'unmap'; addr: bigint; range: bigint }
  | { kind: 'dump' };

/**
 * `mixed`: a correctness stream in one of three VMs (low 4 GiB with or without a reserved node, a VM ending
 * at 2^64-1, the whole u64 space), crowded into a small window so requests overlap: BO maps, identity-offset
 * maps of one BO (same-BO contiguous requests, keep=1), sparse maps, unmaps, identical re-maps, requests
 * ending at the VM's last byte, and invalid requests of every kind at the u64 edges; a `dump` now and then.
 *
 * `steady`: a benchmark stream. It first maps `liveMappings` whole 64 KiB slots chosen at random among
 * 2 x `liveMappings` slots (the fill), then `requests` random map/unmap requests over the same slots, mostly
 * whole slots, some parts of one, so the number of live mappings stays near `liveMappings`.
 */
export type TraceProfile = 'mixed' | 'steady';

/** What a stream is generated from. */
export interface TraceGeneratorParams {
  /** Any integer in [0, 2^32-1]; the stream depends on nothing else besides the fields below. */
  seed: number;
  /** Which kind of stream: a correctness mix or a steady benchmark load (see {@link TraceProfile}). */
  profile: TraceProfile;
  /** Requests after the VM and BO lines (mixed) or after the fill (steady). */
  requests: number;
  /** steady only: mappings the fill creates (10,000, 100,000 and 1,000,000 in the bench). */
  liveMappings?: number;
}

const U64_MAX = (1n << 64n) - 1n;
const PAGE = 0x1000n;
/** A steady-profile slot: 16 pages. */
const SLOT = 0x10000n;
const STEADY_BO_SIZE = 0x40000000n;

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through splitmix32. */
class Sfc32 {
  #a: number;
  #b: number;
  #c: number;
  #d = 1;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n) for 1 <= n <= 2^32 (multiply-high; the bias is below 2^-32 * n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** A u64 in [0, n) for 1n <= n <= 2^64 (two draws, reduced; the bias is below n * 2^-64). */
  bigBelow(n: bigint): bigint {
    const wide = (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    return wide % n;
  }

  /** Picks by weight: returns the index of the chosen weight. */
  weighted(weights: readonly number[]): number {
    let roll = this.below(weights.reduce((sum, w) => sum + w, 0));
    for (let i = 0; i < weights.length; i++) {
      roll -= weights[i]!;
      if (roll < 0) return i;
    }
    return weights.length - 1;
  }
}

/** Generates the stream for `params`, lazily: a steady stream of 1M mappings is never held in memory. */
export function* generateTrace(params: TraceGeneratorParams): Generator<GeneratedTraceCommand> {
  const { seed, profile, requests } = checkParams(params);
  const rng = new Sfc32(seed);
  const live = params.liveMappings ?? 0;
  yield { kind: 'comment', text: `drm-gpuvm trace-gen v${TRACE_GENERATOR_VERSION} seed=${seed} profile=${profile} requests=${requests}${profile === 'steady' ? ` live=${live}` : ''}` };
  if (profile === 'steady') yield* steady(rng, live, requests);
  else yield* mixed(rng, requests);
}

function checkParams(params: TraceGeneratorParams): TraceGeneratorParams {
  const { seed, profile, requests, liveMappings } = params;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw outOfRange('seed', 'an integer in [0, 2^32-1]', seed);
  if (profile !== 'mixed' && profile !== 'steady') throw invalidArgValue('profile', profile, "must be 'mixed' or 'steady'");
  if (!Number.isSafeInteger(requests) || requests < 0) throw outOfRange('requests', 'a non-negative safe integer', requests);
  if (profile === 'steady' && (!Number.isInteger(liveMappings) || liveMappings! < 1 || liveMappings! > 0x40000000)) {
    throw outOfRange('liveMappings', 'an integer in [1, 2^30] for the steady profile', liveMappings);
  }
  return params;
}

function* steady(rng: Sfc32, live: number, requests: number): Generator<GeneratedTraceCommand> {
  const slots = 2 * live;
  yield { kind: 'vm', start: 0n, range: 1n << 48n, reserve: null };
  const bos = ['a', 'b', 'c', 'd'];
  for (const name of bos) yield { kind: 'bo', name, size: STEADY_BO_SIZE };
  const boMap = (addr: bigint, range: bigint): GeneratedTraceCommand => ({
    kind: 'map', addr, range, bo: bos[rng.below(bos.length)]!, offset: BigInt(rng.below(Number((STEADY_BO_SIZE - SLOT) / PAGE) + 1)) * PAGE,
  });
  // The fill visits `live` distinct slots in a scrambled order: an odd multiplier and an xor-shift are both
  // bijections modulo a power of two, so walking i = 0, 1, 2... and skipping values >= slots never repeats.
  const bits = Math.max(1, Math.ceil(Math.log2(slots)));
  const mask = 2 ** bits - 1;
  const mul = (rng.u32() | 1) & mask;
  const add = rng.u32() & mask;
  let filled = 0;
  for (let i = 0; filled < live; i++) {
    let x = ((Math.imul(i, mul) & mask) + add) & mask;
    x = (x ^ (x >>> Math.ceil(bits / 2))) & mask;
    if (x >= slots) continue;
    filled++;
    yield boMap(BigInt(x) * SLOT, SLOT);
  }
  yield { kind: 'comment', text: `fill done: ${live} mappings; ${requests} steady requests follow` };
  for (let i = 0; i < requests; i++) {
    const base = BigInt(rng.below(slots)) * SLOT;
    const kind = rng.weighted([38, 6, 50, 6]);
    if (kind === 0) { yield boMap(base, SLOT); continue; }
    if (kind === 2) { yield { kind: 'unmap', addr: base, range: SLOT }; continue; }
    const first = rng.below(16);
    const addr = base + BigInt(first) * PAGE;
    const range = BigInt(rng.between(1, 16 - first)) * PAGE;
    yield kind === 1 ? boMap(addr, range) : { kind: 'unmap', addr, range };
  }
}

/** The three VMs of the mixed profile and the window where most requests land. */
function mixedVm(rng: Sfc32): { vm: GeneratedTraceCommand & { kind: 'vm' }; window: bigint } {
  const choice = rng.weighted([2, 1, 1]);
  if (choice === 0) {
    const reserve = rng.below(2) === 0 ? { start: 0n, range: 0x100000n } : null;
    return { vm: { kind: 'vm', start: 0n, range: 0x100000000n, reserve }, window: 0x100000n };
  }
  if (choice === 1) {
    // Ends at 2^64-1, the highest end a VM can have; the window is its last 256 KiB.
    const range = 0x100000000n;
    const start = U64_MAX - range;
    const reserve = rng.below(2) === 0 ? { start, range: 0x10000n } : null;
    return { vm: { kind: 'vm', start, range, reserve }, window: U64_MAX - 0x40000n };
  }
  const reserve = rng.below(2) === 0 ? { start: 0n, range: 0x100000n } : null;
  return { vm: { kind: 'vm', start: 0n, range: U64_MAX, reserve }, window: 0x100000n };
}

function* mixed(rng: Sfc32, requests: number): Generator<GeneratedTraceCommand> {
  const { vm, window } = mixedVm(rng);
  const vmEnd = vm.start + vm.range;
  yield vm;
  // `id` maps the whole window at offset (addr - window), so any two id maps that overlap line up (keep=1).
  const WINDOW = 0x40000n;
  const bos: [string, bigint][] = [['a', 0x1000000n], ['b', 0x1000000n], ['c', 0x20000n], ['id', WINDOW]];
  for (const [name, size] of bos) yield { kind: 'bo', name, size };
  let previous: GeneratedTraceCommand & { kind: 'map' } = { kind: 'map', addr: window, range: PAGE, bo: 'id', offset: 0n };
  const pageIn = (span: bigint): bigint => BigInt(rng.below(Number(span / PAGE))) * PAGE;
  const length = (): bigint => BigInt(rng.between(1, 16)) * PAGE;
  for (let i = 0; i < requests; i++) {
    if (i > 0 && i % 64 === 0) yield { kind: 'dump' };
    const addr = window + pageIn(WINDOW - 0x10000n);
    const range = length();
    switch (rng.weighted([6, 6, 3, 6, 2, 1, 1, 1, 1, 1, 1, 1])) {
      case 0: { // BO map anywhere in a, b or c.
        const [name, size] = bos[rng.below(3)]!;
        previous = { kind: 'map', addr, range, bo: name, offset: pageIn(size - range + PAGE) };
        yield previous;
        break;
      }
      case 1: // Same-BO contiguous: the id BO at the offset that lines up with every other id map.
        previous = { kind: 'map', addr, range, bo: 'id', offset: addr - window };
        yield previous;
        break;
      case 2: yield { kind: 'map', addr, range, bo: null, offset: 0n }; break;
      case 3: yield { kind: 'unmap', addr, range: range * BigInt(rng.between(1, 3)) }; break;
      case 4: yield { ...previous }; break; // an identical re-map: unmap keep=1 then map.
      case 5: yield { kind: 'map', addr: vmEnd - range, range, bo: null, offset: 0n }; break; // ends at the VM's last byte
      case 6: yield rng.below(2) === 0 ? { kind: 'unmap', addr, range: 0n } : { kind: 'map', addr, range: 0n, bo: 'a', offset: 0n }; break;
      case 7: { // Overflow: [addr, addr+range) crosses 2^64.
        const top = U64_MAX - pageIn(0x10000n);
        yield { kind: 'map', addr: top, range: U64_MAX - top + 1n + pageIn(0x10000n), bo: null, offset: 0n };
        break;
      }
      case 8: // Out of range: across the VM start or end. The whole-u64 VM has no outside: its top edge instead.
        if (vm.start > 0n) yield { kind: 'unmap', addr: vm.start - PAGE, range: 2n * PAGE };
        else if (vmEnd < U64_MAX) yield { kind: 'unmap', addr: vmEnd - PAGE, range: 2n * PAGE };
        else yield { kind: 'unmap', addr: U64_MAX - 1n, range: rng.below(2) === 0 ? 1n : 2n };
        break;
      case 9: // Over the reserved node when there is one, else the u64 top edge exactly: 2^64-1 fits, 2^64 does not.
        yield vm.reserve !== null
          ? { kind: 'map', addr: vm.reserve.start + vm.reserve.range - PAGE, range: 2n * PAGE, bo: 'a', offset: 0n }
          : { kind: 'unmap', addr: U64_MAX - 1n, range: rng.below(2) === 0 ? 1n : 2n };
        break;
      case 10: // BO bounds: past the end of c, or an offset so large that offset + range overflows.
        yield rng.below(2) === 0
          ? { kind: 'map', addr, range: 0x20000n, bo: 'c', offset: PAGE }
          : { kind: 'map', addr, range, bo: 'a', offset: U64_MAX - PAGE + 1n };
        break;
      default: // A wide unmap that clears the window.
        yield { kind: 'unmap', addr: window, range: WINDOW };
    }
  }
  yield { kind: 'dump' };
}

/** One command as one trace line (no newline). */
export function formatTraceCommand(command: GeneratedTraceCommand): string {
  const hex = (v: bigint): string => `0x${v.toString(16)}`;
  switch (command.kind) {
    case 'comment': return `# ${command.text}`;
    case 'vm': return `vm ${hex(command.start)} ${hex(command.range)}${command.reserve ? ` reserve ${hex(command.reserve.start)} ${hex(command.reserve.range)}` : ''}`;
    case 'bo': return `bo ${command.name} ${hex(command.size)}`;
    case 'map': return command.bo === null ? `map ${hex(command.addr)} ${hex(command.range)} sparse` : `map ${hex(command.addr)} ${hex(command.range)} ${command.bo} ${hex(command.offset)}`;
    case 'unmap': return `unmap ${hex(command.addr)} ${hex(command.range)}`;
    case 'dump': return 'dump';
  }
}
