// SPDX-License-Identifier: MIT
// The CPU page size, the unit of every mapping and VA window offset, as the addon reads it from the kernel.
import { native } from '../native.js';

/** sysconf(_SC_PAGESIZE): 4096 on x86-64, 4096, 16384 or 65536 on arm64. */
export function pageSize(): number {
  return native().pageSize;
}
