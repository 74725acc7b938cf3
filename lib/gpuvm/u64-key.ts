// SPDX-License-Identifier: MIT
// The search key of a u64: the double nearest to it. Below 2^53 the key is the value itself. Above, keys
// round, but rounding is monotonic, so an exact double x compares with the key of any u64 y as x with y,
// except when they are equal at 2^53 or more. Hence: once every value of a request is below 2^53, all its
// comparisons against stored keys are exact, and the model compares numbers instead of bigints (a bigint
// sum allocates; a bigint comparison is a builtin call).
const keyBits = new BigUint64Array(1);
const keyHalves = new Uint32Array(keyBits.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** Keys below this are exact values. */
export const EXACT_LIMIT = 2 ** 53;
/** The key of 2^64, an end that keyOf cannot take (the u64 store would wrap it to 0). */
export const TWO_POW_64 = 2 ** 64;

/**
 * The key of a u64 (not of 2^64). Going through a BigUint64Array costs about half of Number(bigint), a
 * runtime call in this V8; the one rounding of hi*2^32 + lo gives the same double.
 */
export function keyOf(value: bigint): number {
  keyBits[0] = value;
  return (keyHalves[HI] as number) * 4294967296 + (keyHalves[LO] as number);
}
