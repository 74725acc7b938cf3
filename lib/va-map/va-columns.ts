// SPDX-License-Identifier: MIT
// Aggregation of the VA map into pixel columns, which bounds the picture's size whatever the mapping count:
// each column of the axis gets the class (BO, sparse, reserved) that covers most of it and the fraction of it
// that is covered. A mapping narrower than a pixel still claims its column, so nothing mapped is ever
// invisible; where several share a column the largest wins, and the covered fraction shows the density.
import { pixelOf, type AxisSegment } from './va-axis.js';

/** An occupied span with the class it is drawn in. */
export interface ColumnItem {
  readonly start: bigint;
  readonly end: bigint;
  /** Index of the class (colour) this span is drawn in; >= 0. */
  readonly cls: number;
}

/** Per-column result of {@link aggregateColumns}. */
export interface Columns {
  /** Dominant class of each column, -1 where nothing is mapped. */
  readonly cls: Int32Array;
  /** Covered fraction of each column, 0 to 1. */
  readonly cover: Float32Array;
}

/** Where an item lands on the axis: pixel columns [first, end). */
export interface ItemSpan {
  readonly first: number;
  readonly end: number;
}

/** Subpixel resolution used for coverage fractions. */
const SUBPIXELS = 256;
/**
 * Items at least this many columns wide count as covering their edge columns fully: a boundary that falls
 * inside a pixel is an accident of scale, and a paler edge would look like a second, sparser mapping.
 */
export const WIDE_ITEM_COLUMNS = 3;

/** The columns [first, end) an item covers; at least one column, however small it is. */
export function itemSpan(segment: AxisSegment, start: bigint, end: bigint): ItemSpan {
  const first = Number(pixelOf(segment, start));
  const last = Number(pixelOf(segment, end, BigInt(SUBPIXELS)));
  return { first, end: Math.max(first + 1, Math.ceil(last / SUBPIXELS)) };
}

/**
 * Aggregates `items` (sorted, non-overlapping, each inside one linear segment of `segments`) into
 * `pixels` columns. O(items + pixels).
 */
export function aggregateColumns(segments: readonly AxisSegment[], items: readonly ColumnItem[], pixels: number): Columns {
  const cls = new Int32Array(pixels).fill(-1);
  const cover = new Float32Array(pixels);
  // Columns are visited in ascending order, since items are sorted; `pending` accumulates the column that
  // items may still share.
  let pendingColumn = -1;
  const pending = new Map<number, number>();
  const flush = () => {
    if (pendingColumn < 0) return;
    let best = -1;
    let bestAmount = -1;
    let total = 0;
    for (const [c, amount] of pending) {
      total += amount;
      if (amount > bestAmount) {
        best = c;
        bestAmount = amount;
      }
    }
    cls[pendingColumn] = best;
    cover[pendingColumn] = Math.min(1, total);
    pending.clear();
    pendingColumn = -1;
  };
  const add = (column: number, c: number, amount: number) => {
    if (column !== pendingColumn) {
      flush();
      pendingColumn = column;
    }
    pending.set(c, (pending.get(c) ?? 0) + amount);
  };

  let s = 0;
  for (const item of items) {
    while (segments[s]!.kind !== 'linear' || segments[s]!.end <= item.start) s++;
    const segment = segments[s]!;
    const a = Number(pixelOf(segment, item.start, BigInt(SUBPIXELS)));
    const b = Number(pixelOf(segment, item.end, BigInt(SUBPIXELS)));
    const { first, end } = itemSpan(segment, item.start, item.end);
    // A sliver below the subpixel resolution still counts a little, so it can win an empty column.
    const overlap = (column: number) => end - first >= WIDE_ITEM_COLUMNS ? 1 :
      Math.max(1 / SUBPIXELS, (Math.min(b, (column + 1) * SUBPIXELS) - Math.max(a, column * SUBPIXELS)) / SUBPIXELS);
    add(first, item.cls, overlap(first));
    if (end - first > 1) {
      flush();
      cls.fill(item.cls, first + 1, end - 1);
      cover.fill(1, first + 1, end - 1);
      add(end - 1, item.cls, overlap(end - 1));
    }
  }
  flush();
  return { cls, cover };
}
