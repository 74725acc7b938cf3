// SPDX-License-Identifier: MIT
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutAxis, pixelOf, addressOf, type AxisItem, type AxisLayout } from '../../../lib/va-map/va-axis.js';
import { aggregateColumns, itemSpan } from '../../../lib/va-map/va-columns.js';

const LAYOUT: AxisLayout = { pixels: 1168, breakWidth: 22, minSegmentWidth: 8, maxBreaks: 19 };
const items = (...spans: Array<[bigint, bigint]>): AxisItem[] => spans.map(([start, size]) => ({ start, end: start + size }));
const segmentOf = (segments: ReturnType<typeof layoutAxis>['segments'], item: AxisItem) =>
  segments.find((s) => s.kind === 'linear' && s.start <= item.start && item.end <= s.end);

describe('layoutAxis', () => {
  it('draws an empty VA space as one linear segment', () => {
    const axis = layoutAxis(0n, 1n << 48n, [], LAYOUT);
    expect(axis.form).toBe('linear');
    expect(axis.segments).toEqual([{ kind: 'linear', start: 0n, end: 1n << 48n, px0: 0, px1: 1168 }]);
  });
  it('gives each of a few mappings its own piece (schematic), however small against the VA space', () => {
    const few = items([0x1000n, 0x1000n], [1n << 40n, 1n << 30n], [2n ** 64n - 0x2000n, 0x1000n]);
    const axis = layoutAxis(0n, 2n ** 64n - 1n, few, LAYOUT);
    expect(axis.form).toBe('schematic');
    for (const item of few) {
      const seg = segmentOf(axis.segments, item)!;
      expect([seg.start, seg.end]).toEqual([item.start, item.end]);
      expect(seg.px1 - seg.px0).toBeGreaterThanOrEqual(3 * LAYOUT.minSegmentWidth);
    }
  });
  it('widens schematic pieces with log2 of their size', () => {
    const axis = layoutAxis(0n, 1n << 32n, items([0n, 0x1000n], [0x1000n, 1n << 24n]), LAYOUT);
    const [small, large] = axis.segments;
    expect(large!.px1 - large!.px0).toBeGreaterThan(small!.px1 - small!.px0);
  });
  it('switches to one linear scale past 64 mappings', () => {
    const many = items(...Array.from({ length: 65 }, (_, i) => [BigInt(i) * 0x2000n, 0x1000n] as [bigint, bigint]));
    expect(layoutAxis(0n, 1n << 20n, many, LAYOUT).form).toBe('linear');
  });
  it('collapses a free range that would dwarf the mappings into a break, and keeps small gaps linear', () => {
    const clusters = [
      ...Array.from({ length: 40 }, (_, i) => [0x100000n + BigInt(i) * 0x2000n, 0x1000n] as [bigint, bigint]),
      ...Array.from({ length: 40 }, (_, i) => [(1n << 47n) + BigInt(i) * 0x2000n, 0x1000n] as [bigint, bigint]),
    ];
    const axis = layoutAxis(0n, 1n << 48n, items(...clusters), LAYOUT);
    const breaks = axis.segments.filter((s) => s.kind === 'break');
    expect(axis.form).toBe('linear');
    expect(breaks.map((b) => [b.start, b.end])).toContainEqual([0x100000n + 39n * 0x2000n + 0x1000n, 1n << 47n]);
    expect(breaks.every((b) => b.end - b.start > 0x1000n)).toBe(true);
  });
  it('addressOf inverts pixelOf at column edges', () => {
    const seg = { kind: 'linear' as const, start: 0x1000n, end: 0x1000n + 1000n * 0x1234n, px0: 10, px1: 1010 };
    for (const px of [10, 11, 500, 1009]) {
      const addr = addressOf(seg, px);
      expect(pixelOf(seg, addr)).toBe(BigInt(px));
      if (px > seg.px0) expect(pixelOf(seg, addr - 1n)).toBe(BigInt(px - 1));
    }
  });
});

// Random sorted items anywhere in a u64 VA space, as gap/length pairs.
const scene = fc.record({
  vmStart: fc.bigInt({ min: 0n, max: 1n << 40n }),
  pieces: fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 1n << 56n }), fc.bigInt({ min: 1n, max: 1n << 40n })), { maxLength: 200, size: 'max' }),
  tail: fc.bigInt({ min: 0n, max: 1n << 56n }),
  rows: fc.integer({ min: 1, max: 4 }),
}).map(({ vmStart, pieces, tail, rows }) => {
  const list: AxisItem[] = [];
  let at = vmStart;
  for (const [gap, length] of pieces) {
    at += gap;
    list.push({ start: at, end: at + length });
    at += length;
  }
  const pixels = rows * 1168;
  const layout: AxisLayout = { pixels, breakWidth: 22, minSegmentWidth: 8, maxBreaks: Math.min(64, Math.floor((pixels - 8) / 60)) };
  return { vmStart, vmEnd: at + tail + 1n, items: list, layout };
});

describe('layoutAxis and aggregateColumns (fast-check)', () => {
  it('cover the VA space and the pixels exactly, keep every mapping on a linear segment and visible', () => {
    const forms = new Set<string>();
    fc.assert(fc.property(scene, ({ vmStart, vmEnd, items: list, layout }) => {
      const { form, segments } = layoutAxis(vmStart, vmEnd, list, layout);
      forms.add(form + (segments.some((s) => s.kind === 'break') ? '+breaks' : ''));
      expect(segments[0]!.start).toBe(vmStart);
      expect(segments[0]!.px0).toBe(0);
      expect(segments.at(-1)!.end).toBe(vmEnd);
      expect(segments.at(-1)!.px1).toBe(layout.pixels);
      for (let i = 1; i < segments.length; i++) {
        expect(segments[i]!.start).toBe(segments[i - 1]!.end);
        expect(segments[i]!.px0).toBe(segments[i - 1]!.px1);
      }
      for (const s of segments) expect(s.px1 - s.px0).toBeGreaterThanOrEqual(s.kind === 'break' ? layout.breakWidth : layout.minSegmentWidth);
      expect(segments.filter((s) => s.kind === 'break').length).toBeLessThanOrEqual(layout.maxBreaks);

      const touched = new Set<number>();
      const problems: string[] = [];
      let previousFirst = -1;
      let s = 0;
      for (const item of list) {
        while (s < segments.length && segments[s]!.end <= item.start) s++;
        const seg = segments[s];
        if (seg === undefined || seg.kind !== 'linear' || item.end > seg.end) {
          problems.push(`item at ${item.start} is not inside one linear segment`);
          continue;
        }
        const span = itemSpan(seg, item.start, item.end);
        if (span.end - span.first < 1 || span.first < seg.px0 || span.end > seg.px1 || span.first < previousFirst) {
          problems.push(`item at ${item.start} spans columns [${span.first}, ${span.end}) in segment [${seg.px0}, ${seg.px1})`);
        }
        previousFirst = span.first;
        for (let c = span.first; c < span.end; c++) touched.add(c);
      }
      expect(problems).toEqual([]);
      const columns = aggregateColumns(segments, list.map((it, i) => ({ ...it, cls: i % 3 })), layout.pixels);
      const wrong: number[] = [];
      for (let c = 0; c < layout.pixels; c++) {
        if (columns.cls[c]! >= 0 !== touched.has(c) || touched.has(c) && !(columns.cover[c]! > 0)) wrong.push(c);
      }
      expect(wrong).toEqual([]);
    }), { numRuns: 300 });
    // Both forms, and breaks, were exercised.
    expect([...forms].sort()).toEqual(['linear', 'linear+breaks', 'schematic']);
  }, 60_000);
});

describe('aggregateColumns', () => {
  const seg = { kind: 'linear' as const, start: 0n, end: 1000n, px0: 0, px1: 10 };
  it('gives a shared column to the class covering most of it', () => {
    const cols = aggregateColumns([seg], [{ start: 100n, end: 130n, cls: 1 }, { start: 130n, end: 190n, cls: 2 }], 10);
    expect(cols.cls[1]).toBe(2);
    expect(cols.cover[1]).toBeCloseTo(0.9, 2);
  });
  it('counts a wide mapping as covering its edge columns', () => {
    const cols = aggregateColumns([seg], [{ start: 150n, end: 650n, cls: 4 }], 10);
    expect(Array.from(cols.cls)).toEqual([-1, 4, 4, 4, 4, 4, 4, -1, -1, -1]);
    expect(cols.cover[1]).toBe(1);
    expect(cols.cover[6]).toBe(1);
  });
  it('keeps a one-byte mapping visible in its column', () => {
    const cols = aggregateColumns([seg], [{ start: 555n, end: 556n, cls: 7 }], 10);
    expect(cols.cls[5]).toBe(7);
    expect(cols.cover[5]).toBeGreaterThan(0);
  });
});
