import { describe, expect, it } from 'vitest';
import { runTask } from '../../../lib/locks/index.js';
import { Bo, Vm, vmInvariantViolations, VM_BO_POLICIES } from '../../../lib/vm/index.js';

describe.each(VM_BO_POLICIES)('smoke %s', (policy) => {
  it('maps, splits and unmaps', async () => {
    const vm = new Vm({ policy, start: 0, range: 0x100000 });
    const bo = new Bo(0x10000, { name: 'a' });
    await vm.map({ addr: 0x1000, range: 0x4000, bo });
    await vm.unmap(0x2000, 0x1000);
    expect(vm.mappings().map((v) => [v.addr, v.range])).toEqual([[0x1000n, 0x1000n], [0x3000n, 0x2000n]]);
    expect(vmInvariantViolations(vm)).toEqual([]);
    await vm.unmap(0, 0x100000);
    await vm.deferredCleanup();
    expect(vmInvariantViolations(vm)).toEqual([]);
    expect(vm.pairs()).toEqual([]);
    vm.close();
  });
});
