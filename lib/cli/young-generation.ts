// SPDX-License-Identifier: MIT
// `trace` and `map` read a long trace while a VA space stays live: every request and every dump line is a
// short-lived object, and V8 answers that allocation rate by doubling its young generation up to 3 x 16 MB,
// promoting what is in flight to an old generation it then lets grow before compacting. What the replay
// holds stays under 10 MB, yet the process peaked at 103 to 122 MB on a trace with large dumps
// (bench/cli-streaming-rss.mjs). Keeping the young generation at its starting size holds the peak near
// 85 MB for about a third more time in the collector.
import { setFlagsFromString } from 'node:v8';

/** Stops V8 from growing this process's young generation (a heuristic flag, read at every scavenge). */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
