// SPDX-License-Identifier: MIT
// Public entry point: exports only, one line per module.
export { toU64, U64_MAX, type U64Like } from './u64.js';
