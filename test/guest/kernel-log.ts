// SPDX-License-Identifier: MIT
// The kernel log's trouble lines, for guest suites that must leave the kernel as healthy as they found it.
import { spawnSync } from 'node:child_process';

// What the kernel prints when something went wrong in it (WARN_ON, BUG_ON, a fault, a refcount or list bug,
// a drm_sched scheduler torn down with jobs it then leaks).
const KERNEL_TROUBLE = /WARNING:|BUG:|Oops|general protection|Call Trace|refcount_t:|list_(add|del) corruption|Tearing down scheduler while jobs are pending/;

/** Every line of dmesg that reports kernel trouble, oldest first; throws when dmesg cannot be read. */
export function kernelTrouble(): string[] {
  const dmesg = spawnSync('dmesg', [], { encoding: 'utf8' });
  if (dmesg.status !== 0) throw new Error(`dmesg failed (${dmesg.status}): ${dmesg.stderr}`);
  return dmesg.stdout.split('\n').filter((line) => KERNEL_TROUBLE.test(line));
}
