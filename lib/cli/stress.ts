// SPDX-License-Identifier: MIT
// drm-gpuvm stress: the issue-5 workload under one VmBo lifetime policy, reported on one line so designs can
// be compared on the user's own machine. Exit 0 only with no deadlock, no violation and every misuse caught.
import { parseArgs } from 'node:util';
import { runStress } from './stress-workload.js';
import { VM_BO_POLICIES, type VmBoPolicy } from '../vm/policy.js';

const USAGE = 'usage: drm-gpuvm stress --policy resv|gpuva-lock|deferred --tasks N --ops M --seed S [--bos K] [--resv-protected]\n';

function positiveInt(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`--${name} is required`);
  }
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new Error(`--${name} must be a non-negative integer, got '${text}'`);
  return Number(text);
}

/** Runs the stress subcommand; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let policy: VmBoPolicy;
  let tasks: number;
  let ops: number;
  let seed: number;
  let bos: number;
  let resvProtected: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        policy: { type: 'string' }, tasks: { type: 'string' }, ops: { type: 'string' }, seed: { type: 'string' },
        bos: { type: 'string' }, 'resv-protected': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!VM_BO_POLICIES.includes(values.policy as VmBoPolicy)) throw new Error(`--policy must be one of ${VM_BO_POLICIES.join(', ')}`);
    policy = values.policy as VmBoPolicy;
    tasks = positiveInt('tasks', values.tasks);
    ops = positiveInt('ops', values.ops);
    seed = positiveInt('seed', values.seed, 1);
    bos = positiveInt('bos', values.bos, 8);
    if (tasks < 1 || bos < 1) throw new Error('--tasks and --bos must be at least 1');
    resvProtected = values['resv-protected'] === true;
  } catch (err) {
    process.stderr.write(`drm-gpuvm stress: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const r = await runStress({ policy, tasks, ops, seed, bos, resvProtected });
  process.stdout.write(`stress: policy=${r.policy} tasks=${r.tasks} ops=${r.ops} deadlocks=${r.deadlocks} violations=${r.violations} ` +
    `misuse_detected=${r.misuseDetected}/${r.misuseInjected} ops_per_s=${Math.round(r.opsPerSecond)}\n`);
  for (const msg of r.violationMessages) process.stderr.write(`violation: ${msg}\n`);
  return r.deadlocks === 0 && r.violations === 0 && r.misuseDetected === r.misuseInjected ? 0 : 1;
}
