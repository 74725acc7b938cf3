import { describe, expect, it } from 'vitest';
import { runStress } from '../../../lib/cli/stress-workload.js';
import { VM_BO_POLICIES } from '../../../lib/vm/index.js';

describe.each(VM_BO_POLICIES)('stress under the %s policy', (policy) => {
  it.each([false, true])('8 tasks x 150 steps, resvProtected=%s: no deadlock, no violation, every misuse caught', async (resvProtected) => {
    const r = await runStress({ policy, tasks: 8, ops: 150, seed: 7, resvProtected });
    expect(r.violationMessages).toEqual([]);
    expect(r.deadlocks).toBe(0);
    expect(r.misuseInjected).toBeGreaterThan(0);
    expect(r.misuseDetected).toBe(r.misuseInjected);
    expect(r.locks.contended).toBeGreaterThan(0);
  });
});
