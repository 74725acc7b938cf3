// SPDX-License-Identifier: MIT
// fast-check arbitraries for GPUVM property tests: random VMs (with or without a reserved node), BOs and
// sequences of map, unmap and madvise requests, in four worlds. "Small": a VM of a few dozen 4 KiB pages, where requests collide all the
// time and an identity-offset BO makes same-BO contiguous (keep=1) requests common. "u64 edge": VMs that end
// at 2^64-1 or span the whole u64 space, with requests at and across the top of the address space. "Across
// 2^53": a tiny VM around the address where doubles stop being exact.
import fc from 'fast-check';
import type { RefMapRequest, RefVmConfig } from './reference-ops.js';

const U64_MAX = (1n << 64n) - 1n;
/** The page size of the small world. */
export const SMALL_PAGE = 0x1000n;

/** One request of a generated sequence. */
export type RefRequest =
  | { kind: 'map'; req: RefMapRequest }
  | { kind: 'unmap'; addr: bigint; range: bigint };

/** A madvise request; only worlds asked for with `madvise` true contain them. */
export interface RefMadviseRequest {
  kind: 'madvise';
  addr: bigint;
  range: bigint;
}

/** Any request of a world made with madvise requests. */
export type AnyRefRequest = RefRequest | RefMadviseRequest;

/** A VM, its BOs and a request sequence; `unit` is the page size the page model can use for it. */
export interface World<R extends AnyRefRequest = RefRequest> {
  config: RefVmConfig;
  unit: bigint;
  requests: R[];
}

/** Map and unmap requests, 3:2, with madvise requests (weight 1) when asked for. */
function mix(map: fc.Arbitrary<RefRequest>, unmap: fc.Arbitrary<RefRequest>, madvise: fc.Arbitrary<AnyRefRequest> | null, maxRequests: number): fc.Arbitrary<AnyRefRequest[]> {
  const kinds: fc.WeightedArbitrary<AnyRefRequest>[] = [{ weight: 3, arbitrary: map }, { weight: 2, arbitrary: unmap }];
  if (madvise !== null) kinds.push({ weight: 1, arbitrary: madvise });
  return fc.array(fc.oneof(...kinds), { minLength: 1, maxLength: maxRequests, size: 'max' });
}

/**
 * The small world. BO `id` is as large as the VM and is most often mapped at offset (addr - start), so
 * requests over it line up with earlier mappings of it; `a` and `b` are small BOs mapped anywhere.
 */
export function smallWorld(maxRequests?: number): fc.Arbitrary<World>;
export function smallWorld(maxRequests: number, madvise: true): fc.Arbitrary<World<AnyRefRequest>>;
export function smallWorld(maxRequests = 24, madvise = false): fc.Arbitrary<World<AnyRefRequest>> {
  return fc.record({
    startPage: fc.integer({ min: 0, max: 6 }),
    pages: fc.integer({ min: 1, max: 40 }).map((n) => Math.max(n, 4)),
    reserve: fc.option(fc.record({ at: fc.nat({ max: 39 }), len: fc.integer({ min: 1, max: 6 }) }), { freq: 2 }),
    sizeA: fc.integer({ min: 1, max: 24 }),
    sizeB: fc.integer({ min: 1, max: 24 }),
  }).chain(({ startPage, pages, reserve, sizeA, sizeB }) => {
    const start = BigInt(startPage) * SMALL_PAGE;
    const range = BigInt(pages) * SMALL_PAGE;
    const reserveNode = reserve === null || reserve.at >= pages ? null : {
      start: start + BigInt(reserve.at) * SMALL_PAGE,
      range: BigInt(Math.min(reserve.len, pages - reserve.at)) * SMALL_PAGE,
    };
    const bos = new Map<string, bigint>([['id', range], ['a', BigInt(sizeA) * SMALL_PAGE], ['b', BigInt(sizeB) * SMALL_PAGE]]);
    // Most requests fit the VM; now and then one strays up to two pages past an edge or has range 0, so
    // out_of_range, zero_range and the VM edges get their share without crowding out requests that do something.
    const span = fc.integer({ min: startPage, max: startPage + pages - 1 }).chain((at) => fc.record({
      at: fc.constant(at),
      len: fc.integer({ min: 1, max: Math.min(12, startPage + pages - at) }),
    }));
    const stray = fc.record({
      at: fc.integer({ min: Math.max(0, startPage - 2), max: startPage + pages + 1 }),
      len: fc.integer({ min: 0, max: 12 }),
    });
    const where = fc.oneof({ weight: 6, arbitrary: span }, { weight: 1, arbitrary: stray });
    const map = fc.record({
      where,
      target: fc.oneof(
        { weight: 4, arbitrary: fc.constant({ bo: 'id', offsetPage: null as number | null }) },
        { weight: 3, arbitrary: fc.record({ bo: fc.constantFrom('a', 'b', 'id'), offsetPage: fc.integer({ min: 0, max: 26 }) as fc.Arbitrary<number | null> }) },
        { weight: 2, arbitrary: fc.constant({ bo: null as string | null, offsetPage: 0 as number | null }) },
      ),
    }).map(({ where: { at, len }, target }): RefRequest => {
      const addr = BigInt(at) * SMALL_PAGE;
      const offset = target.offsetPage === null ? (addr >= start ? addr - start : 0n) : BigInt(target.offsetPage) * SMALL_PAGE;
      return { kind: 'map', req: { addr, range: BigInt(len) * SMALL_PAGE, bo: target.bo, offset } };
    });
    const unmap = where.map(({ at, len }): RefRequest =>
      ({ kind: 'unmap', addr: BigInt(at) * SMALL_PAGE, range: BigInt(len) * SMALL_PAGE }));
    const advise = where.map(({ at, len }): AnyRefRequest =>
      ({ kind: 'madvise', addr: BigInt(at) * SMALL_PAGE, range: BigInt(len) * SMALL_PAGE }));
    return mix(map, unmap, madvise ? advise : null, maxRequests)
      .map((requests): World<AnyRefRequest> => ({ config: { start, range, reserve: reserveNode, bos }, unit: SMALL_PAGE, requests }));
  });
}

/**
 * A tiny VM of at most 48 bytes whose end is exactly 2^64-1 (the highest end a VM can have: 2^64 does not
 * fit in a u64), addressed byte by byte, so the page model holds it with 1-byte pages.
 */
export function topOfU64World(maxRequests?: number): fc.Arbitrary<World>;
export function topOfU64World(maxRequests: number, madvise: true): fc.Arbitrary<World<AnyRefRequest>>;
export function topOfU64World(maxRequests = 16, madvise = false): fc.Arbitrary<World<AnyRefRequest>> {
  return fc.record({
    size: fc.integer({ min: 1, max: 48 }),
    reserve: fc.option(fc.record({ at: fc.nat({ max: 47 }), len: fc.integer({ min: 1, max: 8 }) }), { freq: 2 }),
  }).chain(({ size, reserve }) => {
    const range = BigInt(size);
    const start = U64_MAX - range;
    const reserveNode = reserve === null || reserve.at >= size ? null : {
      start: start + BigInt(reserve.at), range: BigInt(Math.min(reserve.len, size - reserve.at)),
    };
    const bos = new Map<string, bigint>([['a', 64n], ['top', U64_MAX]]);
    const addr = fc.oneof(
      fc.bigInt({ min: start - 4n, max: U64_MAX }),
      fc.constantFrom(0n, start, U64_MAX - 1n, U64_MAX),
    );
    const rangeFor = (a: bigint): fc.Arbitrary<bigint> => fc.oneof(
      { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: a < U64_MAX - 1n ? U64_MAX - a : 1n }).map((r) => (r > 50n ? r % 50n + 1n : r)) },
      fc.bigInt({ min: 0n, max: 50n }),
      // The exact boundary: a + range = 2^64 - 1 fits, 2^64 overflows.
      fc.constantFrom(...[U64_MAX - a, U64_MAX - a + 1n, U64_MAX].filter((r) => r >= 0n && r <= U64_MAX)),
    );
    const offset = fc.oneof(fc.bigInt({ min: 0n, max: 64n }), fc.constantFrom(U64_MAX - 8n, U64_MAX));
    const map = addr.chain((a) => fc.record({
      range: rangeFor(a), bo: fc.constantFrom<string | null>('a', 'top', null), offset,
    }).map(({ range, bo, offset: o }): RefRequest => ({ kind: 'map', req: { addr: a, range, bo, offset: bo === null ? 0n : o } })));
    const unmap = addr.chain((a) => rangeFor(a).map((range): RefRequest => ({ kind: 'unmap', addr: a, range })));
    const advise = addr.chain((a) => rangeFor(a).map((range): AnyRefRequest => ({ kind: 'madvise', addr: a, range })));
    return mix(map, unmap, madvise ? advise : null, maxRequests)
      .map((requests): World<AnyRefRequest> => ({ config: { start, range, reserve: reserveNode, bos }, unit: 1n, requests }));
  });
}

/**
 * A tiny VM of at most 48 bytes across 2^53, addressed byte by byte: below 2^53 the model compares addresses
 * as doubles, which are exact there, and from 2^53 up it falls back to the bigints (neighbouring addresses
 * round to the same double). Requests end below, at and past 2^53, next to VAs that do the same, and the BO
 * `id` is mapped at offset (addr - start) so that same-BO neighbours merge (keep=1) across the boundary.
 */
export function across2p53World(maxRequests = 16): fc.Arbitrary<World<AnyRefRequest>> {
  const TWO_P53 = 1n << 53n;
  return fc.record({
    below: fc.integer({ min: 1, max: 24 }),
    above: fc.integer({ min: 1, max: 24 }),
    reserve: fc.option(fc.record({ at: fc.nat({ max: 47 }), len: fc.integer({ min: 1, max: 4 }) }), { freq: 3 }),
  }).chain(({ below, above, reserve }) => {
    const start = TWO_P53 - BigInt(below);
    const range = BigInt(below + above);
    const reserveNode = reserve === null || reserve.at >= below + above ? null : {
      start: start + BigInt(reserve.at), range: BigInt(Math.min(reserve.len, below + above - reserve.at)),
    };
    const bos = new Map<string, bigint>([['a', 64n], ['id', range]]);
    const addr = fc.oneof(
      fc.bigInt({ min: start - 2n, max: start + range + 2n }),
      fc.constantFrom(TWO_P53 - 2n, TWO_P53 - 1n, TWO_P53, TWO_P53 + 1n, TWO_P53 + 2n),
    );
    const rangeFor = (a: bigint): fc.Arbitrary<bigint> => fc.oneof(
      { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 12n }) },
      fc.bigInt({ min: 0n, max: 50n }),
      // Ends right at 2^53 and either side of it.
      fc.constantFrom(...[TWO_P53 - 1n - a, TWO_P53 - a, TWO_P53 + 1n - a, 1n].filter((r) => r >= 0n)),
    );
    const map = addr.chain((a) => fc.record({
      range: rangeFor(a), bo: fc.constantFrom<string | null>('a', 'id', 'id', null), offset: fc.bigInt({ min: 0n, max: 16n }),
    }).map(({ range: r, bo, offset }): RefRequest => ({
      kind: 'map', req: { addr: a, range: r, bo, offset: bo === 'id' ? (a >= start ? a - start : 0n) : bo === null ? 0n : offset },
    })));
    const unmap = addr.chain((a) => rangeFor(a).map((r): RefRequest => ({ kind: 'unmap', addr: a, range: r })));
    const advise = addr.chain((a) => rangeFor(a).map((r): AnyRefRequest => ({ kind: 'madvise', addr: a, range: r })));
    return mix(map, unmap, advise, maxRequests)
      .map((requests): World<AnyRefRequest> => ({ config: { start, range, reserve: reserveNode, bos }, unit: 1n, requests }));
  });
}

/**
 * A VM covering all of [0, 2^64-1) or a large window of it, optionally reserving the bottom or the top,
 * with requests of any size anywhere (only the interval model holds it). Sparse requests carry offsets
 * here too (the API allows them; the trace format does not), kept to offset + range <= 2^64-1 so that no
 * remap piece wraps: wrapping has its own test in property-model.test.ts.
 */
export function wholeU64World(maxRequests?: number): fc.Arbitrary<Omit<World, 'unit'>>;
export function wholeU64World(maxRequests: number, madvise: true): fc.Arbitrary<Omit<World<AnyRefRequest>, 'unit'>>;
export function wholeU64World(maxRequests = 16, madvise = false): fc.Arbitrary<Omit<World<AnyRefRequest>, 'unit'>> {
  const vm = fc.oneof(
    fc.constant({ start: 0n, range: U64_MAX }),
    fc.bigInt({ min: 0x400000n, max: 1n << 63n }).map((range) => ({ start: U64_MAX - range, range })),
    fc.bigInt({ min: 0n, max: 1n << 62n }).map((start) => ({ start, range: 1n << 62n })),
  );
  const between = (min: bigint, max: bigint): fc.Arbitrary<bigint> =>
    fc.bigInt({ min: min < 0n ? 0n : min, max: max > U64_MAX ? U64_MAX : max });
  return vm.chain(({ start, range }) => {
    const end = start + range;
    const reserve = fc.option(fc.oneof(
      fc.constant({ start, range: 0x100000n }),
      fc.constant({ start: end - 0x100000n, range: 0x100000n }),
    ), { freq: 2 });
    const point = fc.oneof(
      between(start, end),
      fc.constantFrom(0n, start, end - 1n, end, U64_MAX),
      between(start, start + 0x400000n),
      between(end - 0x400000n, end),
    );
    const span = (a: bigint): fc.Arbitrary<bigint> => fc.oneof(
      fc.bigInt({ min: 0n, max: 0x300000n }),
      fc.bigInt({ min: 0n, max: U64_MAX }),
      fc.constantFrom(...[U64_MAX - a, U64_MAX - a + 1n, end - a].filter((r) => r >= 0n && r <= U64_MAX)),
    );
    const bos = new Map<string, bigint>([['a', 0x200000n], ['top', U64_MAX]]);
    const map = point.chain((a) => fc.record({
      range: span(a), bo: fc.constantFrom<string | null>('a', 'top', null), offset: fc.oneof(fc.bigInt({ min: 0n, max: 0x200000n }), fc.bigInt({ min: 0n, max: U64_MAX })),
    }).map(({ range, bo, offset }): RefRequest => ({ kind: 'map', req: { addr: a, range, bo, offset: bo === null ? offset % (U64_MAX - range + 1n) : offset } })));
    const unmap = point.chain((a) => span(a).map((range): RefRequest => ({ kind: 'unmap', addr: a, range })));
    const advise = point.chain((a) => span(a).map((range): AnyRefRequest => ({ kind: 'madvise', addr: a, range })));
    return fc.tuple(reserve, mix(map, unmap, madvise ? advise : null, maxRequests))
      .map(([reserveNode, requests]) => ({ config: { start, range, reserve: reserveNode, bos }, requests }));
  });
}
