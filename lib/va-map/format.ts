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
 * `64 KiB`, `1028 KiB`, `191.75 MiB`, `16 EiB`: the largest binary unit in which the size is a whole
 * number below 10,000, else the largest unit not above it with at most two decimals, exactly. A size that
 * none of these writes exactly gets one decimal and a `≈` (`≈255.9 TiB`): no rounding goes unsaid.
 * `short` (for narrow places) keeps only whole numbers: `≈257 TiB` rather than `257.25 TiB`.
 */
export function formatSize(bytes: bigint, short = false): string {
  for (let unit = UNITS.length - 1; unit >= 0; unit--) {
    const scale = 1n << BigInt(10 * unit);
    if (bytes % scale === 0n && bytes / scale < 10000n && (bytes >= scale || unit === 0)) return `${bytes / scale} ${UNITS[unit]}`;
  }
  // The unit in which the rounded value is below 1024 (so 2^20-1 bytes is ≈1 MiB, not ≈1024 KiB).
  const half = short ? 2n : 20n;
  let unit = 0;
  while (unit < UNITS.length - 1 && bytes + (1n << BigInt(10 * unit)) / half >= 1n << BigInt(10 * (unit + 1))) unit++;
  const scale = 1n << BigInt(10 * unit);
  if (short) return `\u2248${(bytes + scale / 2n) / scale} ${UNITS[unit]}`;
  if ((bytes * 100n) % scale === 0n) {
    const hundredths = bytes * 100n / scale;
    const fraction = (hundredths % 100n).toString().padStart(2, '0').replace(/0$/, '');
    return `${hundredths / 100n}.${fraction} ${UNITS[unit]}`;
  }
  const tenths = (bytes * 10n + scale / 2n) / scale;
  return `\u2248${tenths / 10n}.${tenths % 10n} ${UNITS[unit]}`;
}
