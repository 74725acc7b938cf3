// SPDX-License-Identifier: MIT
// u64 values (addresses, sizes, offsets, handles) cross the API as bigint, or as number only while the
// number is a safe integer. Nothing is rounded: a value that cannot be exact is refused before any work.
import { invalidArgType, outOfRange } from './arg-errors.js';

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
    // The value is a u64 exactly when truncating it to 64 bits changes nothing: one builtin call and an
    // equality, where two bigint comparisons are two calls (36 instructions against 82 here, callgrind).
    if (BigInt.asUintN(64, value) !== value) throw outOfRange(name, 'an integer in [0, 2^64-1]', value);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw outOfRange(name, 'a safe integer (use a bigint past 2^53-1)', value);
    if (value < 0) throw outOfRange(name, 'an integer in [0, 2^64-1]', value);
    return BigInt(value);
  }
  throw invalidArgType(name, ['bigint', 'number'], value);
}

/** Like toU64, with an upper bound (inclusive); for u32 fields and the like. */
export function toUnsigned(value: unknown, name: string, max: bigint): bigint {
  const v = toU64(value, name);
  if (v > max) throw outOfRange(name, `an integer in [0, ${max}]`, value);
  return v;
}
