import { describe, expect, it } from 'vitest';
import { DmaResv, SoftwareFence } from '../../../lib/fence/index.js';
import { runTask } from '../../../lib/locks/index.js';
import { Bo, Vm } from '../../../lib/vm/index.js';

describe('reservations of the VM layer carry fences', () => {
  it('every Bo and the Vm have a DmaResv; a VM-private BO shares the VM\'s, fences included', async () => {
    const vm = new Vm({ policy: 'resv', start: 0, range: 1n << 32n });
    const ext = new Bo(0x1000, { name: 'ext' });
    const priv = new Bo(0x1000, { name: 'priv', resv: vm.resv });
    expect(vm.resv).toBeInstanceOf(DmaResv);
    expect(ext.resv).toBeInstanceOf(DmaResv);
    expect(priv.resv).toBe(vm.resv);
    const job = new SoftwareFence({ name: 'job' });
    await runTask('submit', async () => {
      using _g = await priv.resv.lock();
      priv.resv.reserveFences(1);
      priv.resv.addFence(job, 'bookkeep');
    });
    expect(vm.resv.fences('bookkeep').map((f) => f.fence)).toEqual([job]);
    expect(ext.resv.testSignaled('bookkeep')).toBe(true);
  });
});
