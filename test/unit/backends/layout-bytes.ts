// SPDX-License-Identifier: MIT
// Expected ioctl bytes for the translation tables, written with offsets taken from the uAPI headers by hand,
// independent of the layout tables in lib/backends (the ABI test checks those against the headers), and
// GPUVM ops built from lib/gpuvm's own classes.
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { OpMap, OpRemap, OpUnmap } from '../../../lib/gpuvm/ops.js';

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
export const A = new GemObject(1n << 40n, 'A');
export const B = new GemObject(1n << 40n, 'B');
export const C = new GemObject(1n << 40n, 'C');
export const D = new GemObject(1n << 40n, 'D');
const HANDLES = new Map<GemObject, number>([[A, 1], [B, 2], [C, 3], [D, 4]]);

/** handleOf for the objects above. */
export function handleOf(obj: GemObject): number {
  const h = HANDLES.get(obj);
  if (h === undefined) throw new Error('unknown object');
  return h;
}

/** A VA `[addr, addr+range)` of obj at offset. */
export function va(addr: number, range: number, obj: GemObject | null, offset = 0): GpuVa {
  return new GpuVa({ addr, range, obj, offset });
}

/** MAP(`[addr, addr+range)` obj@offset), also a remap piece. */
export function map(addr: number, range: number, obj: GemObject | null, offset = 0): OpMap {
  return new OpMap(BigInt(addr), BigInt(range), obj, BigInt(offset));
}

/** UNMAP(v, keep). */
export function unmap(v: GpuVa, keep = false): OpUnmap {
  return new OpUnmap(v, keep);
}

/** REMAP(v, keep; prev; next), with the pieces given as VAs. */
export function remap(v: GpuVa, prev: GpuVa | null, next: GpuVa | null, keep = false): OpRemap {
  const piece = (p: GpuVa | null) => (p === null ? null : new OpMap(p.addr, p.range, p.obj, p.offset));
  return new OpRemap(piece(prev), piece(next), new OpUnmap(v, keep));
}
