// SPDX-License-Identifier: MIT
// The VA map picture: a GPU VA space drawn as SVG. One bar (wrapped over up to four rows) is the address
// axis; mappings are coloured by BO, sparse mappings hatched, the kernel-reserved node cross-hatched and
// marked above the bar, free VA left light. The axis is schematic for a few mappings and linear, broken
// over large free ranges, for many (va-axis.ts); the bar is drawn per pixel column (va-columns.ts). So the
// picture stays readable and bounded at any size: at most `vaMapElementBound()` SVG elements whether the
// VA space holds ten mappings or a million.
import { assertOptionsObject, outOfRange } from '../arg-errors.js';
import { BREAK_COLOUR, FREE_COLOUR, OTHER_BOS_COLOUR, boColour } from './palette.js';
import { formatAddress, formatSize } from './format.js';
import { addressOf, layoutAxis, pixelOf, SCHEMATIC_MAX_PIECES, type Axis, type AxisLayout, type AxisSegment } from './va-axis.js';
import { aggregateColumns, itemSpan, WIDE_ITEM_COLUMNS, type ColumnItem, type ItemSpan } from './va-columns.js';

/** One mapping to draw. */
export interface VaMapMapping {
  /** First address. */
  readonly addr: bigint;
  /** Length, non-zero. */
  readonly range: bigint;
  /** Name of the BO, or null for a sparse mapping. */
  readonly bo: string | null;
  /** Offset into the BO (ignored for sparse mappings). */
  readonly offset: bigint;
}

/** What the picture shows: a VA space, its reserved node and its mappings in ascending address order. */
export interface VaMapInput {
  /** First address of the VA space. */
  readonly start: bigint;
  /** Length of the VA space (start + range <= 2^64). */
  readonly range: bigint;
  /** The kernel-reserved node, if any. */
  readonly reserved?: { readonly addr: bigint; readonly range: bigint } | undefined;
  /** Mappings sorted by address, not overlapping each other nor the reserved node. */
  readonly mappings: readonly VaMapMapping[];
  /** Heading of the picture; default `VA space`. */
  readonly title?: string;
}

/** Drawing options. */
export interface VaMapOptions {
  /** Width of the picture in pixels, 600 to 4800; default 1200. */
  readonly width?: number;
}

/** The input broke a rule of {@link VaMapInput}; `code` is `ERR_VA_MAP_INPUT`, the message says which. */
export class VaMapInputError extends Error {
  /** Always `ERR_VA_MAP_INPUT`. */
  readonly code = 'ERR_VA_MAP_INPUT';

  constructor(message: string) {
    super(message);
    this.name = 'VaMapInputError';
  }
}

const MARGIN = 16;
const HEADER = 56;
const TOP_BAND = 18;
const BAR = 44;
/** Under the bar: tick marks and two lanes of address labels. */
const ROW = TOP_BAND + BAR + 40;
const BREAK_WIDTH = 22;
const MIN_SEGMENT = 8;
const MAX_ROWS = 4;
const MAX_BREAKS = 64;
/** Legend entries for BOs; past this the smallest BOs share one "other BOs" colour. */
const MAX_LEGEND_BOS = 20;
const LEGEND_COLUMN = 290;
const LEGEND_LINE = 20;
/** Mappings narrower than this are left to the column aggregate: no separator, no label. */
const SEPARATE_WIDTH = WIDE_ITEM_COLUMNS;
/** Approximate advance of one character of the 10 px and 11 px monospace fonts used for numbers. */
const CHAR_10 = 6.1;
const CHAR_11 = 6.7;
const MONO = 'DejaVu Sans Mono,Menlo,Consolas,monospace';
/**
 * Height of a column's fill, as a share of the bar, by coverage level: a column the mappings cover only in
 * part is drawn shorter (from the bottom, like a histogram), but never so short that it disappears.
 */
const COVER_HEIGHT = [0, 0.3, 0.5, 0.75, 1];

// Column classes: one per BO (so the dominant BO of a column is a real BO, not "the others" summed),
// after these two. BOs past the legend's limit share a colour, not a class.
const CLASS_RESERVED = 0;
const CLASS_SPARSE = 1;
const CLASS_FIRST_BO = 2;

interface Geometry {
  width: number;
  rowWidth: number;
  rows: number;
  pixels: number;
  axis: AxisLayout;
}

function geometry(width: number, itemCount: number): Geometry {
  const rowWidth = width - 2 * MARGIN;
  const rows = Math.min(MAX_ROWS, Math.max(1, Math.ceil((itemCount + 1) / 16)));
  const pixels = rows * rowWidth;
  // Room for every break and the linear piece after it at least twice over.
  const maxBreaks = Math.min(MAX_BREAKS, Math.floor((pixels - MIN_SEGMENT) / (2 * (BREAK_WIDTH + MIN_SEGMENT))));
  return { width, rowWidth, rows, pixels, axis: { pixels, breakWidth: BREAK_WIDTH, minSegmentWidth: MIN_SEGMENT, maxBreaks } };
}

function checkedWidth(options: VaMapOptions): number {
  assertOptionsObject(options);
  const width = options.width ?? 1200;
  if (!Number.isInteger(width) || width < 600 || width > 4800) throw outOfRange('options.width', 'an integer in [600, 4800]', width);
  return width;
}

/**
 * The most SVG elements {@link renderVaMapSvg} emits for a picture `width` pixels wide, whatever the input:
 * about 1.5 elements per pixel column of the bar plus a constant. (The file size follows: no element is
 * longer than about 200 bytes, BO names in the legend being cut at 28 characters.)
 */
export function vaMapElementBound(options: VaMapOptions = {}): number {
  const g = geometry(checkedWidth(options), Number.MAX_SAFE_INTEGER);
  const maxBreaks = g.axis.maxBreaks;
  // Axis pieces, each split by row ends: linear pieces and break marks, or the schematic pieces.
  const portions = Math.max(2 * maxBreaks + 1, SCHEMATIC_MAX_PIECES) + g.rows;
  const fixed = 16 + 2 * g.rows + 2 * g.rows; // header, defs, row frames, reserved markers
  const runs = g.pixels;
  const separators = Math.ceil(g.pixels / SEPARATE_WIDTH);
  const labels = 2 * Math.ceil(g.pixels / (CHAR_11 + 6));
  const breaks = 4 * portions;
  const ticks = 2 * (Math.ceil(g.pixels / minTickSpacing(1)) + portions + 1);
  const legend = 3 * (MAX_LEGEND_BOS + 6);
  const freeSizes = SCHEMATIC_MAX_PIECES;
  return fixed + runs + separators + labels + breaks + ticks + legend + freeSizes;
}

/** Smallest distance between two address ticks whose labels have `digits` hex digits. */
function minTickSpacing(digits: number): number {
  return Math.ceil((digits + 2 + Math.floor((digits - 1) / 4)) * CHAR_10 + 14);
}

/** Draws `input` as a standalone SVG document. Throws {@link VaMapInputError} for input that breaks its rules. */
export function renderVaMapSvg(input: VaMapInput, options: VaMapOptions = {}): string {
  const width = checkedWidth(options);
  const vmStart = input.start;
  const vmEnd = validate(input);

  // Classes: legend BOs by mapped bytes (largest first), then the rest share one colour.
  const boStats = new Map<string, { count: number; bytes: bigint }>();
  let sparseCount = 0;
  let sparseBytes = 0n;
  for (const m of input.mappings) {
    if (m.bo === null) {
      sparseCount++;
      sparseBytes += m.range;
      continue;
    }
    const s = boStats.get(m.bo) ?? { count: 0, bytes: 0n };
    s.count++;
    s.bytes += m.range;
    boStats.set(m.bo, s);
  }
  const boOrder = [...boStats.entries()].sort((a, b) =>
    a[1].bytes !== b[1].bytes ? (b[1].bytes > a[1].bytes ? 1 : -1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const ownColours = boOrder.length <= MAX_LEGEND_BOS ? boOrder.length : MAX_LEGEND_BOS - 1;
  const boClass = new Map<string, number>();
  const fills = ['url(#reserved)', 'url(#sparse)'];
  boOrder.forEach(([name], i) => {
    boClass.set(name, CLASS_FIRST_BO + i);
    fills.push(i < ownColours ? boColour(i) : OTHER_BOS_COLOUR);
  });

  // Items in address order: the mappings with the reserved node slotted in.
  const items: Array<ColumnItem & { mapping: VaMapMapping | null }> = [];
  const reserved = input.reserved !== undefined && input.reserved.range > 0n ? input.reserved : undefined;
  let reservedPending = reserved !== undefined;
  for (const m of input.mappings) {
    if (reservedPending && reserved!.addr < m.addr) {
      items.push({ start: reserved!.addr, end: reserved!.addr + reserved!.range, cls: CLASS_RESERVED, mapping: null });
      reservedPending = false;
    }
    items.push({ start: m.addr, end: m.addr + m.range, cls: m.bo === null ? CLASS_SPARSE : boClass.get(m.bo)!, mapping: m });
  }
  if (reservedPending) items.push({ start: reserved!.addr, end: reserved!.addr + reserved!.range, cls: CLASS_RESERVED, mapping: null });

  const g = geometry(width, items.length);
  const axis = layoutAxis(vmStart, vmEnd, items, g.axis);
  const segments = axis.segments;
  const columns = aggregateColumns(segments, items, g.pixels);
  const spans: ItemSpan[] = [];
  let s = 0;
  for (const item of items) {
    while (segments[s]!.kind !== 'linear' || segments[s]!.end <= item.start) s++;
    spans.push(itemSpan(segments[s]!, item.start, item.end));
  }
  const narrow = spans.reduce((n, span, i) => n + (items[i]!.mapping !== null && span.end - span.first < SEPARATE_WIDTH ? 1 : 0), 0);
  const breakCount = segments.filter((seg) => seg.kind === 'break').length;

  const legendEntries = legendLines(boOrder, ownColours, sparseCount, sparseBytes, reserved, breakCount, narrow);
  const legendColumns = Math.max(1, Math.floor(g.rowWidth / LEGEND_COLUMN));
  const legendTop = HEADER + g.rows * ROW + 6;
  const height = legendTop + Math.ceil(legendEntries.length / legendColumns) * LEGEND_LINE + 10;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans,Arial,sans-serif">`);
  out.push('<defs>',
    '<pattern id="sparse" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">' +
      '<rect width="6" height="6" fill="#dedede"/><rect width="2" height="6" fill="#6b6b6b"/></pattern>',
    '<pattern id="reserved" patternUnits="userSpaceOnUse" width="8" height="8">' +
      '<rect width="8" height="8" fill="#f3d4d4"/><path d="M0 0L8 8M8 0L0 8" stroke="#9b2c2c" stroke-width="1.3"/></pattern>',
    '</defs>');
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);

  // Cut so one line stays one line, and the file's size stays independent of what a caller passes.
  const title = shorten(input.title ?? 'VA space', 100);
  const heading = `${title} [${formatAddress(vmStart)}, ${formatAddress(vmEnd)}) \u2014 ${formatSize(input.range)}`;
  out.push(`<text x="${MARGIN}" y="22" font-size="15" font-weight="bold">${escapeXml(heading)}</text>`);
  out.push(`<text x="${MARGIN}" y="42" font-size="11" fill="#444">${escapeXml(subtitle(input, boStats.size, sparseCount, reserved, axis.form, breakCount, narrow))}</text>`);

  for (let row = 0; row < g.rows; row++) {
    const barY = HEADER + row * ROW + TOP_BAND;
    out.push(`<rect class="row" x="${MARGIN}" y="${barY}" width="${g.rowWidth}" height="${BAR}" fill="${FREE_COLOUR}"/>`);
    drawRuns(out, columns, fills, row, g, barY);
  }
  drawSeparators(out, items, spans, g);
  drawBreaks(out, segments, g);
  drawLabels(out, items, spans, g, axis.form === 'schematic');
  const itemStarts = new Set(items.map((item) => item.start));
  if (axis.form === 'schematic') drawFreeSizes(out, axis.segments, itemStarts, g);
  if (reserved !== undefined) {
    const at = items.findIndex((item) => item.cls === CLASS_RESERVED);
    drawReservedMarker(out, spans[at]!, reserved, g);
  }
  for (let row = 0; row < g.rows; row++) {
    const barY = HEADER + row * ROW + TOP_BAND;
    out.push(`<rect x="${MARGIN}" y="${barY}" width="${g.rowWidth}" height="${BAR}" fill="none" stroke="#9a9a9a"/>`);
  }
  drawTicks(out, axis, itemStarts, vmEnd, g);
  drawLegend(out, legendEntries, legendTop, legendColumns);
  out.push('</svg>\n');
  return out.join('\n');
}

/** Checks the input's rules (types included, for callers without TypeScript) and returns the VM's end. */
function validate(input: VaMapInput): bigint {
  const isU64 = (v: unknown) => typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
  if (typeof input !== 'object' || input === null || !isU64(input.start) || !isU64(input.range) || !Array.isArray(input.mappings) ||
    (input.reserved !== undefined && (!isU64(input.reserved.addr) || !isU64(input.reserved.range))) ||
    (input.title !== undefined && typeof input.title !== 'string')) {
    throw new VaMapInputError('The input must have bigint start and range (u64), a mappings array, and optionally a reserved {addr, range} and a string title');
  }
  input.mappings.forEach((m: VaMapMapping, i) => {
    if (typeof m !== 'object' || m === null || !isU64(m.addr) || !isU64(m.range) || !isU64(m.offset) || (m.bo !== null && typeof m.bo !== 'string')) {
      throw new VaMapInputError(`Mapping ${i} must have bigint addr, range and offset (u64) and a string or null bo`);
    }
  });
  const vmEnd = input.start + input.range;
  if (input.range === 0n || vmEnd > 1n << 64n) {
    throw new VaMapInputError(`The VA space [${formatAddress(input.start)}, +${formatAddress(input.range)}) must be non-empty and end at or below 2^64`);
  }
  const inside = (addr: bigint, range: bigint) => range > 0n && addr >= input.start && addr + range <= vmEnd;
  const r = input.reserved;
  if (r !== undefined && r.range > 0n && !inside(r.addr, r.range)) {
    throw new VaMapInputError(`The reserved node [${formatAddress(r.addr)}, +${formatAddress(r.range)}) is not inside the VA space`);
  }
  let previousEnd = input.start;
  input.mappings.forEach((m: VaMapMapping, i) => {
    if (!inside(m.addr, m.range)) {
      throw new VaMapInputError(`Mapping ${i} [${formatAddress(m.addr)}, +${formatAddress(m.range)}) is empty or not inside the VA space`);
    }
    if (m.addr < previousEnd && i > 0) {
      throw new VaMapInputError(`Mapping ${i} at ${formatAddress(m.addr)} overlaps or precedes the mapping before it`);
    }
    if (r !== undefined && r.range > 0n && m.addr < r.addr + r.range && r.addr < m.addr + m.range) {
      throw new VaMapInputError(`Mapping ${i} at ${formatAddress(m.addr)} overlaps the reserved node`);
    }
    previousEnd = m.addr + m.range;
  });
  return vmEnd;
}

function subtitle(input: VaMapInput, bos: number, sparse: number, reserved: VaMapInput['reserved'], form: Axis['form'], breaks: number, narrow: number): string {
  const parts = [`${input.mappings.length} mapping${input.mappings.length === 1 ? '' : 's'}`, `${bos} BO${bos === 1 ? '' : 's'}`];
  if (sparse > 0) parts.push(`${sparse} sparse`);
  if (reserved !== undefined) parts.push(`reserved [${formatAddress(reserved.addr)}, ${formatAddress(reserved.addr + reserved.range)})`);
  if (form === 'schematic') parts.push('schematic axis: widths grow with log2 of size, linear inside each piece');
  else parts.push(breaks > 0 ? `linear axis, broken over ${breaks} large free range${breaks === 1 ? '' : 's'}` : 'linear axis');
  if (narrow > 0) parts.push(`${narrow} mapping${narrow === 1 ? '' : 's'} under ${SEPARATE_WIDTH} px aggregated per pixel column`);
  return parts.join(' \u00b7 ');
}

/** Global pixel column -> [row, x]. */
function place(px: number, g: Geometry): [number, number] {
  const row = Math.floor(px / g.rowWidth);
  return [row, MARGIN + px - row * g.rowWidth];
}

/** The parts of global columns [from, to) on each row, as [row, x, width]. */
function* rowParts(from: number, to: number, g: Geometry): Generator<[number, number, number]> {
  let px = from;
  while (px < to) {
    const [row, x] = place(px, g);
    const rowEnd = (row + 1) * g.rowWidth;
    const end = Math.min(to, rowEnd);
    yield [row, x, end - px];
    px = end;
  }
}

/** The widest of the row parts of global columns [from, to), where a label has the most room. */
function widestPart(from: number, to: number, g: Geometry): [number, number, number] {
  let best: [number, number, number] | null = null;
  for (const part of rowParts(from, to, g)) if (best === null || part[2] > best[2]) best = part;
  return best!;
}

/** Coverage quantised to the COVER_HEIGHT levels 1-4. */
function coverLevel(cover: number): number {
  return cover >= 0.95 ? 4 : cover >= 0.5 ? 3 : cover >= 0.25 ? 2 : 1;
}

/** One rect per run of columns with the same fill and coverage level on a row. */
function drawRuns(out: string[], columns: { cls: Int32Array; cover: Float32Array }, fills: string[], row: number, g: Geometry, barY: number): void {
  const from = row * g.rowWidth;
  const to = from + g.rowWidth;
  let px = from;
  while (px < to) {
    const cls = columns.cls[px]!;
    const fill = cls < 0 ? undefined : fills[cls];
    const level = cls < 0 ? 0 : coverLevel(columns.cover[px]!);
    let end = px + 1;
    while (end < to && (columns.cls[end]! < 0 ? undefined : fills[columns.cls[end]!]) === fill &&
      (cls < 0 || coverLevel(columns.cover[end]!) === level)) end++;
    if (fill !== undefined) {
      const height = BAR * COVER_HEIGHT[level]!;
      out.push(`<rect x="${MARGIN + px - from}" y="${barY + BAR - height}" width="${end - px}" height="${height}" fill="${fill}"/>`);
    }
    px = end;
  }
}

/** A dark line where two mappings touch and both are wide enough to tell apart. */
function drawSeparators(out: string[], items: readonly ColumnItem[], spans: readonly ItemSpan[], g: Geometry): void {
  for (let i = 1; i < items.length; i++) {
    const a = spans[i - 1]!;
    const b = spans[i]!;
    if (items[i - 1]!.end !== items[i]!.start) continue;
    if (a.end - a.first < SEPARATE_WIDTH || b.end - b.first < SEPARATE_WIDTH) continue;
    const [row, x] = place(b.first, g);
    const barY = HEADER + row * ROW + TOP_BAND;
    out.push(`<rect class="separator" x="${x}" y="${barY}" width="1" height="${BAR}" fill="#222" fill-opacity="0.75"/>`);
  }
}

/** Break marks: a grey box with zigzag edges and the collapsed size written up the middle. */
function drawBreaks(out: string[], segments: readonly AxisSegment[], g: Geometry): void {
  for (const seg of segments) {
    if (seg.kind !== 'break') continue;
    const size = formatSize(seg.end - seg.start);
    // Written up a 44 px bar: no decimals, so it fits.
    const short = formatSize(seg.end - seg.start, true);
    for (const [row, x, w] of rowParts(seg.px0, seg.px1, g)) {
      const barY = HEADER + row * ROW + TOP_BAND;
      out.push(`<rect class="break" x="${x}" y="${barY}" width="${w}" height="${BAR}" fill="${BREAK_COLOUR}">` +
        `<title>free [${formatAddress(seg.start)}, ${formatAddress(seg.end)}): ${size}, not to scale</title></rect>`);
      const zig = (edge: number) => {
        let d = `M${edge} ${barY}`;
        for (let y = barY + 4, side = 1; y <= barY + BAR; y += 4, side = -side) d += `L${edge + 2 * side} ${y}`;
        return d;
      };
      out.push(`<path d="${zig(x + 2)}${zig(x + w - 2)}" fill="none" stroke="#8a8a8a"/>`);
      if (w >= 12) {
        const cx = x + w / 2 + 3;
        const cy = barY + BAR / 2;
        out.push(`<text x="${cx}" y="${cy}" font-size="9" text-anchor="middle" fill="#333" transform="rotate(-90 ${cx} ${cy})">${short}</text>`);
      }
    }
  }
}

/** BO name and offset (and size, on a schematic axis) inside mappings wide enough to hold them. */
function drawLabels(out: string[], items: ReadonlyArray<ColumnItem & { mapping: VaMapMapping | null }>, spans: readonly ItemSpan[], g: Geometry, withSize: boolean): void {
  items.forEach((item, i) => {
    const m = item.mapping;
    if (m === null) return;
    const [row, x, w] = widestPart(spans[i]!.first, spans[i]!.end, g);
    const name = m.bo ?? 'sparse';
    if (w < name.length * CHAR_11 + 6) return;
    const barY = HEADER + row * ROW + TOP_BAND;
    const cx = x + w / 2;
    const halo = 'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"';
    // Second line, longest that fits: offset and size, offset alone, or size alone for a sparse mapping.
    const offset = m.bo === null ? '' : `+${formatAddress(m.offset)}`;
    const size = withSize ? formatSize(m.range) : '';
    const candidates = [[offset, size].filter((t) => t !== '').join(' '), offset].filter((t) => t !== '');
    const second = candidates.find((t) => w >= t.length * CHAR_10 + 6);
    out.push(`<text x="${cx}" y="${barY + (second !== undefined ? 19 : 27)}" font-size="11" font-weight="bold" text-anchor="middle" ${halo}>${escapeXml(name)}</text>`);
    if (second !== undefined) out.push(`<text x="${cx}" y="${barY + 34}" font-size="10" font-family="${MONO}" text-anchor="middle" ${halo}>${second}</text>`);
  });
}

/** On a schematic axis widths do not show sizes: write each free range's size inside it, where it fits. */
function drawFreeSizes(out: string[], segments: readonly AxisSegment[], itemStarts: ReadonlySet<bigint>, g: Geometry): void {
  for (const seg of segments) {
    if (itemStarts.has(seg.start)) continue;
    const size = formatSize(seg.end - seg.start);
    const [row, x, w] = widestPart(seg.px0, seg.px1, g);
    if (w < size.length * CHAR_10 + 4) continue;
    const barY = HEADER + row * ROW + TOP_BAND;
    out.push(`<text x="${x + w / 2}" y="${barY + 26}" font-size="10" font-family="${MONO}" text-anchor="middle" fill="#7a7a7a">${size}</text>`);
  }
}

/** A bracket above the reserved node, labelled, so it shows however narrow it is. */
function drawReservedMarker(out: string[], span: ItemSpan, reserved: { addr: bigint; range: bigint }, g: Geometry): void {
  let first = true;
  for (const [row, x, w] of rowParts(span.first, span.end, g)) {
    const y = HEADER + row * ROW + TOP_BAND - 3;
    out.push(`<path class="reserved-marker" d="M${x + 0.5} ${y + 3}V${y}H${x + w - 0.5}V${y + 3}" fill="none" stroke="#9b2c2c" stroke-width="1.5"/>`);
    if (first) {
      const label = `reserved ${formatSize(reserved.range)}`;
      const right = x + label.length * CHAR_10 > MARGIN + g.rowWidth;
      out.push(`<text x="${right ? x + w : x}" y="${y - 3}" font-size="10" fill="#9b2c2c"${right ? ' text-anchor="end"' : ''}>${label}</text>`);
      first = false;
    }
  }
}

/**
 * Hex ticks under each row. Labels are placed by priority, in the first of two lanes where they overlap no
 * label already placed, else left out: first where mappings start (on a linear axis: where each piece
 * starts) and where a row starts, then the end of the VA space, then the rest (free ranges' starts, or
 * power-of-two steps on a linear axis; these use the first lane only, to keep the second for crowded
 * mapping starts).
 */
function drawTicks(out: string[], axis: Axis, itemStarts: ReadonlySet<bigint>, vmEnd: bigint, g: Geometry): void {
  const spacing = minTickSpacing((vmEnd - 1n).toString(16).length);
  const ticks: Array<{ px: number; addr: bigint; align: 'start' | 'middle' | 'end'; priority: number }> = [];
  for (const seg of axis.segments) {
    if (seg.kind !== 'linear') continue;
    for (const [row, x] of rowParts(seg.px0, seg.px1, g)) {
      const px = row * g.rowWidth + x - MARGIN;
      const first = px === seg.px0;
      const important = !first || axis.form === 'linear' || itemStarts.has(seg.start);
      ticks.push({ px, addr: first ? seg.start : addressOf(seg, px), align: 'start', priority: important ? 0 : 2 });
    }
    // A schematic piece has its own scale: regular steps inside it would suggest one that is not there.
    if (axis.form === 'schematic') continue;
    const width = BigInt(seg.px1 - seg.px0);
    const length = seg.end - seg.start;
    // The smallest power-of-two step at least `spacing` pixels wide on this segment.
    let step = 1n;
    while (step * width < BigInt(spacing) * length) step <<= 1n;
    for (let addr = (seg.start / step + 1n) * step; addr < seg.end; addr += step) {
      const px = Number(pixelOf(seg, addr));
      if (px - seg.px0 < spacing / 2 || seg.px1 - px < spacing / 4) continue;
      ticks.push({ px, addr, align: 'middle', priority: 2 });
    }
  }
  ticks.push({ px: g.pixels, addr: vmEnd, align: 'end', priority: 1 });

  const taken: Array<Array<[number, number]>> = Array.from({ length: 2 * g.rows }, () => []);
  const labels: string[] = [];
  for (const priority of [0, 1, 2]) {
    for (const t of ticks) {
      if (t.priority !== priority) continue;
      // The end of the VA space belongs to the last row, at its right edge.
      const [row, x] = t.px === g.pixels ? [g.rows - 1, MARGIN + g.rowWidth] : place(t.px, g);
      const y = HEADER + row * ROW + TOP_BAND + BAR;
      out.push(`<rect x="${Math.min(x, MARGIN + g.rowWidth - 1)}" y="${y}" width="1" height="5" fill="#555"/>`);
      const label = formatAddress(t.addr);
      const labelWidth = label.length * CHAR_10;
      let left = t.align === 'start' ? x : t.align === 'end' ? x - labelWidth : x - labelWidth / 2;
      left = Math.max(MARGIN, Math.min(left, MARGIN + g.rowWidth - labelWidth));
      const right = left + labelWidth;
      const lanes = t.priority === 2 ? [0] : [0, 1];
      const lane = lanes.find((l) => !taken[2 * row + l]!.some(([a, b]) => left < b + 8 && a < right + 8));
      if (lane === undefined) continue;
      taken[2 * row + lane]!.push([left, right]);
      labels.push(`<text x="${left.toFixed(1)}" y="${y + 16 + 13 * lane}" font-size="10" font-family="${MONO}" fill="#333">${label}</text>`);
    }
  }
  out.push(...labels);
}

interface LegendEntry {
  swatch: string;
  text: string;
  bo?: string;
  height?: number;
  border?: boolean;
}

function legendLines(boOrder: Array<[string, { count: number; bytes: bigint }]>, ownColours: number,
  sparseCount: number, sparseBytes: bigint, reserved: VaMapInput['reserved'], breaks: number, narrow: number): LegendEntry[] {
  const entries: LegendEntry[] = [];
  const describe = (count: number, bytes: bigint) => `${count} mapping${count === 1 ? '' : 's'}, ${formatSize(bytes)}`;
  for (let i = 0; i < ownColours; i++) {
    const [name, stats] = boOrder[i]!;
    entries.push({ swatch: boColour(i), text: `${shorten(name)}: ${describe(stats.count, stats.bytes)}`, bo: name });
  }
  if (ownColours < boOrder.length) {
    const rest = boOrder.slice(ownColours);
    const count = rest.reduce((n, [, st]) => n + st.count, 0);
    const bytes = rest.reduce((n, [, st]) => n + st.bytes, 0n);
    entries.push({ swatch: OTHER_BOS_COLOUR, text: `${rest.length} other BOs: ${describe(count, bytes)}` });
  }
  if (sparseCount > 0) entries.push({ swatch: 'url(#sparse)', text: `sparse (no BO): ${describe(sparseCount, sparseBytes)}` });
  if (reserved !== undefined) entries.push({ swatch: 'url(#reserved)', text: `kernel-reserved node, ${formatSize(reserved.range)}` });
  entries.push({ swatch: FREE_COLOUR, text: 'free', border: true });
  if (breaks > 0) entries.push({ swatch: BREAK_COLOUR, text: 'free range collapsed (size inside, not to scale)' });
  if (narrow > 0) entries.push({ swatch: '#777', height: COVER_HEIGHT[2], text: 'shorter: pixel column only partly mapped' });
  return entries;
}

function drawLegend(out: string[], entries: readonly LegendEntry[], top: number, columns: number): void {
  entries.forEach((e, i) => {
    const x = MARGIN + (i % columns) * LEGEND_COLUMN;
    const y = top + Math.floor(i / columns) * LEGEND_LINE;
    const attrs = (e.bo !== undefined ? ` data-bo="${escapeXml(e.bo)}"` : '');
    out.push(`<g class="legend-entry"${attrs}>` +
      `<rect x="${x}" y="${y + 14 * (1 - (e.height ?? 1))}" width="14" height="${14 * (e.height ?? 1)}" fill="${e.swatch}" stroke="${e.border === true ? '#9a9a9a' : 'none'}"/>` +
      `<text x="${x + 20}" y="${y + 11}" font-size="11">${escapeXml(e.text)}</text></g>`);
  });
}

function shorten(text: string, max = 28): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}\u2026`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
