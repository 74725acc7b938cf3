// SPDX-License-Identifier: MIT
// drm-gpuvm stress: the stress workload (stress-workload.ts) under one VmBo lifetime policy, reported on one
// line (or as one JSON object) so designs can be compared on the user's own machine. Exit 0 only with no
// deadlock, no violation and every misuse caught.
import { runStress } from './stress-workload.js';
import { VM_BO_POLICIES } from '../vm/policy.js';
import { oneOf, runCommand, wholeNumber } from './command-line.js';
import { writeJson } from './json-output.js';

const USAGE = `usage: drm-gpuvm stress --policy resv|gpuva-lock|deferred --tasks N --ops M [--seed S] [--bos K] [--resv-protected] [--json]
  --policy P        the VmBo lifetime policy under test
  --tasks N         concurrent tasks (at least 1)
  --ops M           steps per task
  --seed S          PRNG seed (default 1)
  --bos K           BOs shared by the two VMs (default 8, at least 1)
  --resv-protected  guard the extobj/evict lists with the VM reservation
  --json            print one JSON object instead of the line
`;

const SPEC = {
  name: 'stress',
  usage: USAGE,
  options: {
    policy: { type: 'string' }, tasks: { type: 'string' }, ops: { type: 'string' }, seed: { type: 'string' },
    bos: { type: 'string' }, 'resv-protected': { type: 'boolean' }, json: { type: 'boolean' },
  },
} as const;

const MAX = Number.MAX_SAFE_INTEGER;

/** Runs the stress subcommand; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, async ({ values }) => {
    const options = {
      policy: oneOf('policy', values.policy, VM_BO_POLICIES),
      tasks: wholeNumber('tasks', values.tasks, { min: 1, max: MAX }),
      ops: wholeNumber('ops', values.ops, { min: 0, max: MAX }),
      seed: wholeNumber('seed', values.seed, { min: 0, max: MAX, fallback: 1 }),
      bos: wholeNumber('bos', values.bos, { min: 1, max: MAX, fallback: 8 }),
      resvProtected: values['resv-protected'] === true,
    };
    const r = await runStress(options);
    const ok = r.deadlocks === 0 && r.violations === 0 && r.misuseDetected === r.misuseInjected;
    if (values.json === true) {
      writeJson({
        ok, policy: r.policy, tasks: r.tasks, ops: r.ops, seed: options.seed, bos: options.bos, resvProtected: options.resvProtected,
        deadlocks: r.deadlocks, violations: r.violations, violationMessages: r.violationMessages,
        misuseDetected: r.misuseDetected, misuseInjected: r.misuseInjected,
        opsPerSecond: r.opsPerSecond, elapsedMs: r.elapsedMs, locks: r.locks,
      });
      return ok ? 0 : 1;
    }
    process.stdout.write(`stress: policy=${r.policy} tasks=${r.tasks} ops=${r.ops} deadlocks=${r.deadlocks} violations=${r.violations} ` +
      `misuse_detected=${r.misuseDetected}/${r.misuseInjected} ops_per_s=${Math.round(r.opsPerSecond)}\n`);
    for (const msg of r.violationMessages) process.stderr.write(`violation: ${msg}\n`);
    return ok ? 0 : 1;
  });
}
