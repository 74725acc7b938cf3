// SPDX-License-Identifier: MIT
// How numbers read in the VA map picture: addresses in grouped hex, sizes in binary units.

/** `0x1_0000_0000`: lowercase hex, an underscore every four digits from the right, so long addresses scan. */
export function formatAddress(value: bigint): string {
  const digits = value.toString(16);
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 4) groups.unshift(digits.slice(Math.max(0, end - 4), end));
  return `0x${groups.join('_')}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/**
 * `64 KiB`, `1028 KiB`, `16 EiB`: the largest binary unit in which the size is a whole number below
 * 10,000; a size with no such unit gets `decimals` decimals and a `≈` (`≈255.9 TiB`), so no rounding
 * goes unsaid.
 */
export function formatSize(bytes: bigint, decimals: 0 | 1 = 1): string {
  for (let unit = UNITS.length - 1; unit >= 0; unit--) {
    const scale = 1n << BigInt(10 * unit);
    if (bytes % scale === 0n && bytes / scale < 10000n && (bytes >= scale || unit === 0)) return `${bytes / scale} ${UNITS[unit]}`;
  }
  let unit = 0;
  while (unit < UNITS.length - 1 && bytes >= 1n << BigInt(10 * (unit + 1))) unit++;
  const scale = 1n << BigInt(10 * unit);
  if (decimals === 0) return `\u2248${(bytes + scale / 2n) / scale} ${UNITS[unit]}`;
  const tenths = (bytes * 10n + scale / 2n) / scale;
  return `\u2248${tenths / 10n}.${tenths % 10n} ${UNITS[unit]}`;
}
