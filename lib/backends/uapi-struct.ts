// SPDX-License-Identifier: MIT
// Kernel uAPI structs described as data: name, size and the offset and width of every field we write or read.
// The encoders write through these descriptions and the ABI test compiles the same descriptions against the
// kernel headers, so a layout can only be wrong in one place, and that place is checked.
import { outOfRange } from '../arg-errors.js';
import { toUnsigned } from '../u64.js';

/** Width of a scalar field as the uAPI header declares it (`__u16`, `__u32`, `__s32`, `__u64`). */
export type ScalarType = 'u16' | 'u32' | 's32' | 'u64';

/** One field: its byte offset, and a scalar width or a nested struct stored inline. */
export interface FieldSpec {
  readonly offset: number;
  readonly type: ScalarType | UapiStruct;
}

/** A struct (or union) of a uAPI header, little endian as on every architecture these drivers run on. */
export interface UapiStruct {
  /** The C type as written in the header, e.g. `struct drm_xe_vm_bind` or `union drm_amdgpu_gem_create`. */
  readonly cType: string;
  /** sizeof() in bytes. */
  readonly size: number;
  /** Field name (C member designator, `out.handle` for a union member's field) to its description. */
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

/** Value of a field when encoding: a number or bigint for scalars, the nested values for an inline struct. */
export type FieldValue = bigint | number | StructValues;
/** Field values by name; fields left out are zero, as every pad, reserved and extensions field must be. */
export interface StructValues { readonly [field: string]: FieldValue }

const SCALAR_BYTES: Record<ScalarType, number> = { u16: 2, u32: 4, s32: 4, u64: 8 };

/** Size in bytes of a field of the given type. */
export function fieldBytes(type: ScalarType | UapiStruct): number {
  return typeof type === 'string' ? SCALAR_BYTES[type] : type.size;
}

/** Declares a uAPI struct; throws at load time if a field sticks out of it (a typo in a table). */
export function defineStruct(cType: string, size: number, fields: Record<string, FieldSpec['offset'] | [number, ScalarType | UapiStruct]>): UapiStruct {
  const out: Record<string, FieldSpec> = {};
  for (const [name, spec] of Object.entries(fields)) {
    const [offset, type] = typeof spec === 'number' ? [spec, 'u32' as const] : spec;
    if (offset + fieldBytes(type) > size) throw new Error(`${cType}.${name} lies outside the struct`);
    out[name] = { offset, type };
  }
  return { cType, size, fields: out };
}

/** Encodes `values` into a new zeroed buffer of `struct.size` bytes. Unknown field names and out-of-range values throw. */
export function encodeStruct(struct: UapiStruct, values: StructValues): Uint8Array {
  const bytes = new Uint8Array(struct.size);
  writeStruct(new DataView(bytes.buffer), 0, struct, values);
  return bytes;
}

/** Encodes `count` elements of `struct` back to back, the way the kernel reads a user array. */
export function encodeArray(struct: UapiStruct, elements: readonly StructValues[]): Uint8Array {
  const bytes = new Uint8Array(struct.size * elements.length);
  const view = new DataView(bytes.buffer);
  elements.forEach((values, i) => writeStruct(view, i * struct.size, struct, values));
  return bytes;
}

/** Reads a scalar field of an encoded struct (an output the kernel wrote back). */
export function readField(struct: UapiStruct, bytes: Uint8Array, field: string): bigint {
  const spec = struct.fields[field];
  if (spec === undefined || typeof spec.type !== 'string') throw new Error(`${struct.cType} has no scalar field '${field}'`);
  if (bytes.byteLength < struct.size) throw new RangeError(`${struct.cType} needs ${struct.size} bytes, got ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (spec.type) {
    case 'u16': return BigInt(view.getUint16(spec.offset, true));
    case 'u32': return BigInt(view.getUint32(spec.offset, true));
    case 's32': return BigInt(view.getInt32(spec.offset, true));
    case 'u64': return view.getBigUint64(spec.offset, true);
  }
}

function writeStruct(view: DataView, base: number, struct: UapiStruct, values: StructValues): void {
  for (const [name, value] of Object.entries(values)) {
    const spec = struct.fields[name];
    if (spec === undefined) throw new Error(`${struct.cType} has no field '${name}'`);
    const at = base + spec.offset;
    const label = `${struct.cType}.${name}`;
    if (typeof spec.type !== 'string') {
      if (typeof value !== 'object') throw new TypeError(`${label} is a struct; give its fields`);
      writeStruct(view, at, spec.type, value);
      continue;
    }
    if (typeof value === 'object') throw new TypeError(`${label} is a scalar`);
    switch (spec.type) {
      case 'u16': view.setUint16(at, Number(toUnsigned(value, label, 0xffffn)), true); break;
      case 'u32': view.setUint32(at, Number(toUnsigned(value, label, 0xffffffffn)), true); break;
      case 's32': view.setInt32(at, toSigned32(value, label), true); break;
      case 'u64': view.setBigUint64(at, toUnsigned(value, label, 0xffffffffffffffffn), true); break;
    }
  }
}

function toSigned32(value: bigint | number, label: string): number {
  const inRange = typeof value === 'bigint'
    ? value >= -0x80000000n && value <= 0x7fffffffn
    : Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff;
  if (!inRange) throw outOfRange(label, 'a 32-bit signed integer', value);
  return Number(value);
}
