// SPDX-License-Identifier: MIT
// The address axis of the VA map, in one of two forms.
//
// Schematic, while the VA space holds few mappings (up to SCHEMATIC_MAX_ITEMS, and room for all): every
// mapping and every free range between them is a piece of its own, as wide as a minimum plus a share that
// grows with log2 of its length. A 4 KiB mapping next to a 128 MiB one and a 2^64 free range all stay
// readable, and each piece is still linear inside, so addresses map exactly. Sizes are written on the
// pieces, since widths no longer show them.
//
// Linear, past that: one scale for the whole VA space, broken over the free ranges that would take a large
// share of the picture. Those collapse into fixed-width break marks (labelled with the size they stand for).
// Free ranges are taken largest first; one is collapsed while, drawn at the scale the axis would have
// without it, it would be wider than COLLAPSE_FACTOR break widths, and while fewer than `maxBreaks` are
// collapsed. Dense VA spaces (100,000 mappings spread evenly) keep a plain linear axis; clusters far apart
// lose the empty space between them. Every linear piece also gets a minimum width, so an isolated mapping
// between two breaks is never thinner than that.

/** A run of the axis: a linear piece of the VA space, or a collapsed free range. */
export interface AxisSegment {
  /** `linear`: addresses map to pixels proportionally; `break`: a collapsed free range. */
  readonly kind: 'linear' | 'break';
  /** First address of the segment. */
  readonly start: bigint;
  /** One past the last address of the segment. */
  readonly end: bigint;
  /** First pixel column (along the unrolled axis, all rows end to end). */
  readonly px0: number;
  /** One past the last pixel column. */
  readonly px1: number;
}

/** An occupied span, [start, end): a mapping or the reserved node. */
export interface AxisItem {
  readonly start: bigint;
  readonly end: bigint;
}

/** Sizes that shape the axis. */
export interface AxisLayout {
  /** Total pixel columns of the axis (rows times row width). */
  readonly pixels: number;
  /** Width of a break mark in pixels. */
  readonly breakWidth: number;
  /** Minimum width of a linear segment in pixels. */
  readonly minSegmentWidth: number;
  /** Most breaks the axis may have. */
  readonly maxBreaks: number;
}

/** The axis: its form and its segments in address order. */
export interface Axis {
  /** `schematic`: one piece per mapping and free range, widths by log2 of length; `linear`: one scale. */
  readonly form: 'schematic' | 'linear';
  /** Segments covering the VM and the pixel range [0, layout.pixels) exactly, in address order. */
  readonly segments: AxisSegment[];
}

/** A free range is collapsed when it would be wider than this many break widths. */
const COLLAPSE_FACTOR = 3n;
/** Most occupied spans drawn schematically. */
const SCHEMATIC_MAX_ITEMS = 64;
/** Most pieces a schematic axis has: the spans and a free range before, between and after them. */
export const SCHEMATIC_MAX_PIECES = 2 * SCHEMATIC_MAX_ITEMS + 1;

/**
 * Lays out the axis of [vmStart, vmEnd) with occupied `items` (sorted, non-overlapping, inside the VM).
 */
export function layoutAxis(vmStart: bigint, vmEnd: bigint, items: readonly AxisItem[], layout: AxisLayout): Axis {
  const gaps: AxisItem[] = [];
  const pieces: Array<{ item: boolean; start: bigint; end: bigint }> = [];
  let cursor = vmStart;
  for (const item of items) {
    if (item.start > cursor) {
      gaps.push({ start: cursor, end: item.start });
      pieces.push({ item: false, start: cursor, end: item.start });
    }
    pieces.push({ item: true, start: item.start, end: item.end });
    cursor = item.end;
  }
  if (cursor < vmEnd) {
    gaps.push({ start: cursor, end: vmEnd });
    pieces.push({ item: false, start: cursor, end: vmEnd });
  }
  const itemMin = 3 * layout.minSegmentWidth;
  const minimum = items.length * itemMin + gaps.length * layout.minSegmentWidth;
  if (items.length > 0 && items.length <= SCHEMATIC_MAX_ITEMS && 2 * minimum <= layout.pixels) {
    return { form: 'schematic', segments: schematic(pieces, layout, itemMin) };
  }
  return { form: 'linear', segments: linear(vmStart, vmEnd, items.length > 0 ? gaps : [], layout) };
}

/** Widths: the minimum (larger for mappings, which carry labels) plus a share by log2 of the length. */
function schematic(pieces: ReadonlyArray<{ item: boolean; start: bigint; end: bigint }>, layout: AxisLayout, itemMin: number): AxisSegment[] {
  const weights = pieces.map((p) => (p.end - p.start).toString(2).length);
  const total = weights.reduce((a, b) => a + b, 0);
  const mins = pieces.map((p) => (p.item ? itemMin : layout.minSegmentWidth));
  const spare = layout.pixels - mins.reduce((a, b) => a + b, 0);
  const widths = pieces.map((_, i) => mins[i]! + Math.floor(spare * weights[i]! / total));
  const heaviest = weights.indexOf(Math.max(...weights));
  widths[heaviest]! += layout.pixels - widths.reduce((a, b) => a + b, 0);
  const segments: AxisSegment[] = [];
  let px = 0;
  pieces.forEach((p, i) => {
    segments.push({ kind: 'linear', start: p.start, end: p.end, px0: px, px1: px + widths[i]! });
    px += widths[i]!;
  });
  return segments;
}

/** One scale, broken over the largest free ranges among `gaps`. */
function linear(vmStart: bigint, vmEnd: bigint, gaps: readonly AxisItem[], layout: AxisLayout): AxisSegment[] {
  const collapsed = new Set<AxisItem>();
  let remaining = vmEnd - vmStart;
  for (const { gap, length } of largest(gaps, layout.maxBreaks)) {
    const linearPixels = BigInt(layout.pixels - (collapsed.size + 1) * layout.breakWidth);
    // Width of the gap if left linear: length * linearPixels / remaining; compare without dividing.
    if (length * linearPixels <= COLLAPSE_FACTOR * BigInt(layout.breakWidth) * remaining) break;
    collapsed.add(gap);
    remaining -= length;
  }

  // Address pieces in order, then pixels: breaks get their fixed width, linear pieces the minimum plus a
  // share of what is left, proportional to their length.
  const pieces: Array<{ kind: 'linear' | 'break'; start: bigint; end: bigint }> = [];
  let cursor = vmStart;
  for (const gap of gaps) {
    if (!collapsed.has(gap)) continue;
    if (gap.start > cursor) pieces.push({ kind: 'linear', start: cursor, end: gap.start });
    pieces.push({ kind: 'break', start: gap.start, end: gap.end });
    cursor = gap.end;
  }
  if (cursor < vmEnd) pieces.push({ kind: 'linear', start: cursor, end: vmEnd });

  const linearPieces = pieces.filter((p) => p.kind === 'linear');
  const linearLength = linearPieces.reduce((sum, p) => sum + (p.end - p.start), 0n);
  const spare = layout.pixels - collapsed.size * layout.breakWidth - linearPieces.length * layout.minSegmentWidth;
  const widths = new Map<object, number>();
  let handedOut = 0;
  for (const p of linearPieces) {
    const share = Number((p.end - p.start) * BigInt(spare) / linearLength);
    widths.set(p, layout.minSegmentWidth + share);
    handedOut += share;
  }
  // Rounding leftovers go to the longest linear piece, where one more pixel distorts least.
  if (linearPieces.length > 0) {
    const longest = linearPieces.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a));
    widths.set(longest, widths.get(longest)! + spare - handedOut);
  }

  const segments: AxisSegment[] = [];
  let px = 0;
  for (const p of pieces) {
    const width = p.kind === 'break' ? layout.breakWidth : widths.get(p)!;
    segments.push({ kind: p.kind, start: p.start, end: p.end, px0: px, px1: px + width });
    px += width;
  }
  return segments;
}

/**
 * The pixel position of `addr` inside a linear segment, in 1/`subpixels` units of a pixel, rounded down.
 * Exact for any u64 (bigint arithmetic), so a 4 KiB mapping at the top of a 2^64 space lands where it is.
 */
export function pixelOf(segment: AxisSegment, addr: bigint, subpixels = 1n): bigint {
  const width = BigInt(segment.px1 - segment.px0);
  return BigInt(segment.px0) * subpixels + (addr - segment.start) * width * subpixels / (segment.end - segment.start);
}

/** The first address drawn in pixel column `px` of a linear segment (the column's left edge). */
export function addressOf(segment: AxisSegment, px: number): bigint {
  const width = BigInt(segment.px1 - segment.px0);
  const length = segment.end - segment.start;
  // Smallest addr with pixelOf(addr) >= px: ceil((px - px0) * length / width).
  return segment.start + (BigInt(px - segment.px0) * length + width - 1n) / width;
}

/** The `count` longest gaps, longest first, in one pass: only they can ever be collapsed. */
function largest(gaps: readonly AxisItem[], count: number): Array<{ gap: AxisItem; length: bigint }> {
  const top: Array<{ gap: AxisItem; length: bigint }> = [];
  for (const gap of gaps) {
    const length = gap.end - gap.start;
    if (top.length === count && (count === 0 || length <= top[count - 1]!.length)) continue;
    let at = top.length;
    while (at > 0 && top[at - 1]!.length < length) at--;
    top.splice(at, 0, { gap, length });
    if (top.length > count) top.pop();
  }
  return top;
}
