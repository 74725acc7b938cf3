// SPDX-License-Identifier: MIT
// The issue-5 stress workload (lib/cli/stress-workload.ts) under each VmBo lifetime policy at 1, 8 and 64 tasks:
// throughput, CPU per step, and what the locks cost in waiting and back-offs. Each run is a fresh process.
// Each process warms up with a short run first. Invariant checks are off here (they are on in the tests and in `drm-gpuvm stress`): this measures the
// workload, not the checker. The random awaits between steps are part of the workload.
// Run: npm run build:ts && node bench/locks-stress.mjs [opsPerTask] [seed]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runStress } from '../dist/cli/stress-workload.js';
import { VM_BO_POLICIES } from '../dist/vm/index.js';

const [, , first, ...rest] = process.argv;
if (first === '--child') {
  const [policy, tasks, ops, seed] = rest;
  // Warm-up, so the JIT's compile time is not billed to the measured steps.
  await runStress({ policy, tasks: 4, ops: 200, seed: Number(seed) + 1, checkInvariants: false });
  const cpu0 = process.cpuUsage();
  const r = await runStress({ policy, tasks: Number(tasks), ops: Number(ops), seed: Number(seed), checkInvariants: false });
  const cpu = process.cpuUsage(cpu0);
  const steps = r.tasks * r.ops;
  process.stdout.write(JSON.stringify({ ...r, cpuUsPerStep: (cpu.user + cpu.system) / steps }));
} else {
  const ops = first ?? '400';
  const seed = rest[0] ?? '1';
  console.log('| policy | tasks | steps/s (wall) | CPU µs/step | contended acquisitions | mean wait per contended lock (ms) | lock wait per step (ms) | ww back-offs | deadlocks | violations | misuse caught |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const policy of VM_BO_POLICIES) {
    for (const tasks of [1, 8, 64]) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', policy, String(tasks), ops, seed], { maxBuffer: 1 << 24 });
      const r = JSON.parse(String(out));
      const steps = r.tasks * r.ops;
      const contendedPct = r.locks.acquisitions === 0 ? 0 : (100 * r.locks.contended) / r.locks.acquisitions;
      const meanWait = r.locks.contended === 0 ? 0 : r.locks.waitMs / r.locks.contended;
      console.log(`| ${policy} | ${tasks} | ${Math.round(r.opsPerSecond)} | ${r.cpuUsPerStep.toFixed(1)} | ${contendedPct.toFixed(1)}% of ${r.locks.acquisitions} | ` +
        `${meanWait.toFixed(3)} | ${(r.locks.waitMs / steps).toFixed(3)} | ${r.locks.backoffs} | ${r.deadlocks} | ${r.violations} | ${r.misuseDetected}/${r.misuseInjected} |`);
    }
  }
}
