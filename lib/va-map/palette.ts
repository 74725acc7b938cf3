// SPDX-License-Identifier: MIT
// Colours of the VA map. BO colours walk the hue circle by the golden angle, so any two neighbours in the
// legend differ clearly and the i-th colour never depends on how many BOs there are; two lightness levels
// alternate so hues that come round again still differ. All are light enough for dark label text.

/** Fill colour of the `index`-th BO in the legend (0-based). */
export function boColour(index: number): string {
  const hue = Math.round((index * 137.508 + 210) % 360);
  const lightness = index % 2 === 0 ? 62 : 74;
  return `hsl(${hue},58%,${lightness}%)`;
}

/** Fill of the BOs that did not get a legend entry of their own. */
export const OTHER_BOS_COLOUR = '#a3a3a3';
/** Background of the bar: free VA. */
export const FREE_COLOUR = '#fcfcfc';
/** Fill of a collapsed free range (a break mark). */
export const BREAK_COLOUR = '#e4e4e4';
