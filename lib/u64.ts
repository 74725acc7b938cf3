// SPDX-License-Identifier: MIT
// u64 values (addresses, sizes, offsets, handles) cross the API as bigint, or as number only while the
// number is a safe integer. Nothing is rounded: a value that cannot be exact is refused before any work.

/** One more than the largest u64. */
export const U64_LIMIT = 1n << 64n;
/** The largest u64, 2^64 - 1. */
export const U64_MAX = U64_LIMIT - 1n;

/** What the public API accepts where the kernel takes a u64. */
export type U64Like = bigint | number;

/**
 * Converts `value` to an exact u64 bigint, or throws before anything happens:
 * TypeError (code ERR_INVALID_ARG_TYPE) for a non-integer type, RangeError (code ERR_OUT_OF_RANGE) for
 * a negative value, a value >= 2^64, or a number that is not a safe integer.
 */
export function toU64(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > U64_MAX) throw outOfRange(name, value, 'an integer in [0, 2^64-1]');
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw outOfRange(name, value, 'a safe integer (use a bigint past 2^53-1)');
    if (value < 0) throw outOfRange(name, value, 'an integer in [0, 2^64-1]');
    return BigInt(value);
  }
  const err = new TypeError(`The "${name}" argument must be a bigint or a number, received ${describe(value)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_TYPE';
  throw err;
}

/** Like toU64, with an upper bound (inclusive); for u32 fields and the like. */
export function toUnsigned(value: unknown, name: string, max: bigint): bigint {
  const v = toU64(value, name);
  if (v > max) throw outOfRange(name, value, `an integer in [0, ${max}]`);
  return v;
}

function outOfRange(name: string, value: unknown, expected: string): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${expected}. Received ${describe(value)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
  return err;
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'function') return `function ${value.name}`;
  return String(value as number | boolean | symbol | undefined);
}
