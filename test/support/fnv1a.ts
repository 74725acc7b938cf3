// SPDX-License-Identifier: MIT
// The checksum vgpuvm's CHECKSUM command writes, computed here to check it.

/** 64-bit FNV-1a in two 32-bit halves (the prime is 2^40 + 0x1b3), as the module's CHECKSUM computes it. */
export function fnv1a(bytes: Uint8Array): bigint {
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    const low = lo * 0x1b3;
    const carry = Math.floor(low / 0x1_0000_0000);
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) % 0x1_0000_0000;
    lo = low % 0x1_0000_0000;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
