// SPDX-License-Identifier: MIT
// Expected ioctl bytes for the translation tables, written with offsets taken from the uAPI headers by hand,
// independent of the layout tables in lib/backends (the ABI test checks those against the headers).

/** A field written at a literal byte offset: [offset, width in bytes, value]. */
export type At = readonly [offset: number, width: 2 | 4 | 8, value: bigint | number];

/** `size` zero bytes with each field of `fields` written little endian. */
export function bytes(size: number, fields: readonly At[] = []): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (const [offset, width, value] of fields) {
    if (width === 2) view.setUint16(offset, Number(value), true);
    else if (width === 4) view.setUint32(offset, Number(BigInt.asUintN(32, BigInt(value))), true);
    else view.setBigUint64(offset, BigInt(value), true);
  }
  return out;
}

/** Several elements of the same size, back to back. */
export function array(size: number, elements: readonly (readonly At[])[]): Uint8Array {
  const out = new Uint8Array(size * elements.length);
  elements.forEach((fields, i) => out.set(bytes(size, fields), i * size));
  return out;
}

/** GEM objects for the tables and the handle each has on the DRM file. */
export const A = { name: 'A' };
export const B = { name: 'B' };
export const C = { name: 'C' };
export const D = { name: 'D' };
const HANDLES = new Map<object, number>([[A, 1], [B, 2], [C, 3], [D, 4]]);

/** handleOf for the objects above. */
export function handleOf(obj: object): number {
  const h = HANDLES.get(obj);
  if (h === undefined) throw new Error('unknown object');
  return h;
}

/** A VA `[addr, addr+range)` of obj at offset. */
export function va(addr: number, range: number, obj: object | null, offset = 0): { addr: bigint; range: bigint; obj: object | null; offset: bigint } {
  return { addr: BigInt(addr), range: BigInt(range), obj, offset: BigInt(offset) };
}

/** MAP(va). */
export function map(addr: number, range: number, obj: object | null, offset = 0) {
  return { type: 'map' as const, ...va(addr, range, obj, offset) };
}

/** UNMAP(v, keep). */
export function unmap(v: ReturnType<typeof va>, keep = false) {
  return { type: 'unmap' as const, va: v, keep };
}

/** REMAP(v, keep; prev; next). */
export function remap(v: ReturnType<typeof va>, prev: ReturnType<typeof va> | null, next: ReturnType<typeof va> | null, keep = false) {
  return { type: 'remap' as const, unmap: { va: v, keep }, prev, next };
}
