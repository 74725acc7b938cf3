// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { renderVaMapSvg, vaMapElementBound, VaMapInputError, type VaMapInput, type VaMapMapping } from '../../../lib/va-map/va-map-svg.js';
import { allElements, parseXml, type XmlElement } from './xml.js';

const U64_MAX = 2n ** 64n - 1n;
const map = (addr: bigint, range: bigint, bo: string | null, offset = 0n): VaMapMapping => ({ addr, range, bo, offset });

// The shape of spec trace 11 after replay, plus a reserved node.
const TEN: VaMapInput = {
  start: 0n, range: 1n << 32n, reserved: { addr: 0n, range: 0x100000n },
  mappings: [
    map(0x100000n, 0x10000n, 'a'), map(0x110000n, 0x10000n, 'a', 0x10000n), map(0x120000n, 0x20000n, null),
    map(0x200000n, 0x10000n, 'b'), map(0x210000n, 0x10000n, null), map(0x220000n, 0x20000n, 'b', 0x20000n),
    map(0x10000000n, 0x400000n, 'vertex'), map(0x10400000n, 0x1000n, 'c', 0x3000n),
    map(0x80000000n, 0x8000000n, 'texture'), map(0xfffff000n, 0x1000n, 'c'),
  ],
};

/** Deterministic 100,000 mappings: `bos` BOs round-robin, sizes 4-64 KiB, gaps 0-`maxGapPages` pages. */
function many(count: number, bos: number, maxGapPages: number, seed = 1): VaMapMapping[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: VaMapMapping[] = [];
  let addr = 0x100000n;
  for (let i = 0; i < count; i++) {
    addr += BigInt(Math.floor(next() * (maxGapPages + 1))) * 0x1000n;
    const range = BigInt(1 + Math.floor(next() * 16)) * 0x1000n;
    out.push(map(addr, range, i % 11 === 0 ? null : `bo${i % bos}`));
    addr += range;
  }
  return out;
}

const parse = (input: VaMapInput, width?: number) => {
  const svg = renderVaMapSvg(input, width === undefined ? {} : { width });
  return { svg, root: parseXml(svg), elements: allElements(parseXml(svg)) };
};
const barRects = (elements: XmlElement[]) => elements.filter((e) => e.name === 'rect' && e.attrs.class === undefined &&
  e.attrs.height !== undefined && e.attrs.fill !== undefined && e.attrs.fill !== 'none' && Number(e.attrs.height) > 14 && e.attrs.width !== undefined && Number(e.attrs.width) < 4800);
const legendFill = (elements: XmlElement[], bo: string) =>
  elements.find((e) => e.name === 'g' && e.attrs['data-bo'] === bo)!.children.find((c) => c.name === 'rect')!.attrs.fill!;

describe('renderVaMapSvg: a small VA space (10 mappings)', () => {
  const { root, elements } = parse(TEN);
  it('is a well-formed standalone SVG document', () => {
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
  });
  it('has one legend entry per BO, with the mapping count and bytes', () => {
    const entries = elements.filter((e) => e.name === 'g' && e.attrs['data-bo'] !== undefined);
    expect(entries.map((e) => e.attrs['data-bo']).sort()).toEqual(['a', 'b', 'c', 'texture', 'vertex']);
    const c = entries.find((e) => e.attrs['data-bo'] === 'c')!;
    expect(c.children.find((k) => k.name === 'text')!.text).toBe('c: 2 mappings, 8 KiB');
  });
  it('gives each BO its own colour', () => {
    const fills = ['a', 'b', 'c', 'texture', 'vertex'].map((bo) => legendFill(elements, bo));
    expect(new Set(fills).size).toBe(5);
  });
  it('fills sparse mappings with the hatch pattern', () => {
    expect(elements.some((e) => e.name === 'pattern' && e.attrs.id === 'sparse')).toBe(true);
    expect(barRects(elements).filter((e) => e.attrs.fill === 'url(#sparse)').length).toBe(2);
  });
  it('marks the reserved node: its own fill and a labelled marker', () => {
    expect(barRects(elements).some((e) => e.attrs.fill === 'url(#reserved)')).toBe(true);
    expect(elements.some((e) => e.attrs.class === 'reserved-marker')).toBe(true);
    expect(elements.some((e) => e.name === 'text' && e.text === 'reserved 1 MiB')).toBe(true);
  });
  it('labels every mapping with its BO (or sparse) and shows offsets', () => {
    const texts = elements.filter((e) => e.name === 'text').map((e) => e.text);
    for (const name of ['a', 'b', 'c', 'texture', 'vertex']) expect(texts).toContain(name);
    expect(texts.filter((t) => t === 'sparse').length).toBe(2);
    expect(texts).toContain('+0x3000');
    expect(texts).toContain('+0x0 128 MiB');
  });
  it('leaves gaps visible: mappings with free VA between them do not touch', () => {
    const aFill = legendFill(elements, 'a');
    const bFill = legendFill(elements, 'b');
    const rects = barRects(elements);
    const aEnd = Math.max(...rects.filter((e) => e.attrs.fill === aFill).map((e) => Number(e.attrs.x) + Number(e.attrs.width)));
    const sparseEnd = Number(rects.filter((e) => e.attrs.fill === 'url(#sparse)')[0]!.attrs.x) + Number(rects.filter((e) => e.attrs.fill === 'url(#sparse)')[0]!.attrs.width);
    const bStart = Math.min(...rects.filter((e) => e.attrs.fill === bFill).map((e) => Number(e.attrs.x)));
    expect(aEnd).toBeLessThanOrEqual(sparseEnd);
    expect(bStart).toBeGreaterThan(sparseEnd);
  });
  it('draws a separator between touching mappings of the same BO', () => {
    expect(elements.filter((e) => e.attrs.class === 'separator').length).toBeGreaterThanOrEqual(5);
  });
  it('labels the start address of each mapping on the axis', () => {
    const texts = elements.filter((e) => e.name === 'text').map((e) => e.text);
    for (const addr of ['0x10_0000', '0x12_0000', '0x20_0000', '0x1000_0000', '0x8000_0000']) expect(texts).toContain(addr);
  });
});

describe('renderVaMapSvg: huge VA spaces keep tiny mappings visible', () => {
  it('a 4 KiB mapping in a 2^64-1 VA space, schematic axis', () => {
    const { elements } = parse({ start: 0n, range: U64_MAX, mappings: [map(0x7fff_0000_0000n, 0x1000n, 'tiny')] });
    const rect = barRects(elements).find((e) => e.attrs.fill === legendFill(elements, 'tiny'))!;
    expect(Number(rect.attrs.width)).toBeGreaterThanOrEqual(20);
  });
  it('a 4 KiB mapping far from 100 GiB-sized ones, linear axis with breaks', () => {
    const big = Array.from({ length: 100 }, (_, i) => map(BigInt(i) << 36n, 1n << 36n, `big${i % 3}`));
    const { elements } = parse({ start: 0n, range: U64_MAX, mappings: [...big, map(0xffff_0000_0000_0000n, 0x1000n, 'tiny')] });
    const rect = barRects(elements).find((e) => e.attrs.fill === legendFill(elements, 'tiny'));
    expect(rect).toBeDefined();
    expect(Number(rect!.attrs.width)).toBeGreaterThanOrEqual(1);
    expect(elements.some((e) => e.attrs.class === 'break')).toBe(true);
  });
  it('writes the collapsed size on a break mark and in its tooltip', () => {
    const mappings = Array.from({ length: 70 }, (_, i) => map(BigInt(i) * 0x2000n, 0x1000n, 'x'));
    const { elements } = parse({ start: 0n, range: 1n << 48n, mappings });
    const mark = elements.find((e) => e.attrs.class === 'break')!;
    expect(mark.children[0]!.text).toMatch(/^free \[0x8_b000, 0x1_0000_0000_0000\): \u2248256\.0 TiB, not to scale$/);
  });
});

describe('renderVaMapSvg: 100,000 mappings', () => {
  const bound = vaMapElementBound();
  it.each([
    ['packed, 8 BOs', many(100_000, 8, 1)],
    ['scattered, 300 BOs', many(100_000, 300, 4000, 7)],
  ])('%s: element count and bytes stay under the bound', (_name, mappings) => {
    const { svg, elements } = parse({ start: 0n, range: 1n << 48n, mappings });
    expect(elements.length).toBeLessThanOrEqual(bound);
    expect(svg.length).toBeLessThanOrEqual(200 * bound);
    expect(svg.length).toBeLessThan(1 << 20);
  }, 60_000);
  it.each([
    // 64 mappings with free VA around each: the most pieces a schematic axis has, all labelled.
    ['schematic, most pieces', Array.from({ length: 64 }, (_, i) => map(BigInt(2 * i + 1) << 20n, 1n << 20n, `b${i % 25}`))],
    // One-byte mappings at 2^0 .. 2^63, free ranges doubling between them: the most breaks a linear axis has.
    ['linear, most breaks', Array.from({ length: 64 }, (_, i) => map(1n << BigInt(i), 1n, `b${i % 25}`))],
  ])('%s: element count stays under the bound', (_name, mappings) => {
    const reserved = { addr: U64_MAX - 0x1000n, range: 0x1000n };
    const { elements } = parse({ start: 0n, range: U64_MAX, reserved, mappings });
    expect(elements.length).toBeLessThanOrEqual(bound);
    if (_name.startsWith('linear')) expect(elements.filter((e) => e.attrs.class === 'break').length).toBeGreaterThanOrEqual(50);
  });
  it('the bound itself is a few thousand elements at the default width, independent of the input', () => {
    expect(bound).toBeLessThan(10_000);
    expect(vaMapElementBound({ width: 4800 })).toBeLessThan(40_000);
  });
  it('caps the legend at 20 entries for BOs: 19 of their own, then one for the rest', () => {
    const { elements } = parse({ start: 0n, range: 1n << 48n, mappings: many(2000, 300, 4) });
    expect(elements.filter((e) => e.name === 'g' && e.attrs['data-bo'] !== undefined).length).toBe(19);
    expect(elements.some((e) => e.name === 'text' && /^281 other BOs: /.test(e.text))).toBe(true);
  });
});

describe('renderVaMapSvg: refused input', () => {
  it.each<[string, VaMapInput]>([
    ['an empty VA space', { start: 0n, range: 0n, mappings: [] }],
    ['a VA space past 2^64', { start: 1n, range: U64_MAX + 1n, mappings: [] }],
    ['a mapping outside the VA space', { start: 0x1000n, range: 0x1000n, mappings: [map(0n, 0x1000n, 'a')] }],
    ['an empty mapping', { start: 0n, range: 0x10000n, mappings: [map(0x1000n, 0n, 'a')] }],
    ['mappings out of order', { start: 0n, range: 0x10000n, mappings: [map(0x2000n, 0x1000n, 'a'), map(0x1000n, 0x1000n, 'a')] }],
    ['overlapping mappings', { start: 0n, range: 0x10000n, mappings: [map(0x1000n, 0x2000n, 'a'), map(0x2000n, 0x1000n, 'a')] }],
    ['a mapping over the reserved node', { start: 0n, range: 0x10000n, reserved: { addr: 0n, range: 0x2000n }, mappings: [map(0x1000n, 0x2000n, 'a')] }],
    ['a reserved node outside the VA space', { start: 0n, range: 0x10000n, reserved: { addr: 0x10000n, range: 0x1000n }, mappings: [] }],
    ['numbers instead of bigints', { start: 0, range: 0x10000, mappings: [] } as unknown as VaMapInput],
    ['a mapping without an offset', { start: 0n, range: 0x10000n, mappings: [{ addr: 0n, range: 0x1000n, bo: 'a' }] } as unknown as VaMapInput],
    ['a BO name that is not a string', { start: 0n, range: 0x10000n, mappings: [map(0n, 0x1000n, 7 as unknown as string)] }],
    ['no mappings array', { start: 0n, range: 0x10000n } as unknown as VaMapInput],
  ])('%s: VaMapInputError', (_name, input) => {
    expect(() => renderVaMapSvg(input)).toThrow(VaMapInputError);
  });
  it.each([599, 4801, 1200.5])('width %s: ERR_OUT_OF_RANGE', (width) => {
    expect(() => renderVaMapSvg(TEN, { width })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
  it('escapes a title and BO names that look like markup', () => {
    const { elements } = parse({ start: 0n, range: 0x10000n, mappings: [map(0x1000n, 0x1000n, '<b>&"x"')], title: 'a <title> & more' });
    expect(elements.some((e) => e.attrs['data-bo'] === '&#60;b&#62;&#38;&#34;x&#34;')).toBe(true);
  });
});
