import { describe, expect, it } from 'vitest';
import type { GpuVmBackend } from '../../../lib/backends/backend.js';
import { TrackOnlyBackend } from '../../../lib/backends/track-only.js';
import { formatLockDump, LockTask, lockDump, Mutex, runTask, SyncLock } from '../../../lib/locks/index.js';
import { enterSyncSection, leaveSyncSection, runSync } from '../../../lib/locks/task.js';
import { Bo, Vm } from '../../../lib/vm/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('lock dump', () => {
  it('says who holds what and who waits for whom', async () => {
    const vmLock = new Mutex('vm0.lock');
    await runTask('holder', async () => {
      using _g = await vmLock.lock();
      const waiter = runTask('waiter', async () => { using _w = await vmLock.lock(); });
      await tick();
      const dump = lockDump();
      expect(dump).toEqual(expect.arrayContaining([
        { task: expect.stringMatching(/^holder#/), holds: ['vm0.lock'], waitsFor: null },
        { task: expect.stringMatching(/^waiter#/), holds: [], waitsFor: { lock: 'vm0.lock', heldBy: expect.stringMatching(/^holder#/) } },
      ]));
      expect(formatLockDump()).toMatch(/waiter#\d+ holds \[\]; waits for vm0\.lock \(held by holder#\d+\)/);
      _g.release();
      await waiter;
    });
    expect(lockDump()).toEqual([]);
  });

  it('shows a task that holds locks inside its synchronous section, as a synchronous backend sees a request', async () => {
    const inner = new TrackOnlyBackend();
    const seen: ReturnType<typeof lockDump>[] = [];
    const backend: GpuVmBackend = {
      name: 'dumping',
      commit(vm, ops) {
        seen.push(lockDump());
        inner.commit(vm, ops);
      },
    };
    const vm = new Vm({ policy: 'resv', name: 'dumpvm', start: 0, range: 0x100000, backend });
    const bo = new Bo(0x10000, { name: 'dumpbo' });
    await vm.map({ addr: 0x1000, range: 0x2000, bo });
    expect(seen).toEqual([[{ task: expect.stringMatching(/^dumpvm\.map#/), holds: ['dumpvm.va[0x1000, 0x3000)', 'dumpbo.resv'], waitsFor: null }]]);
    expect(lockDump()).toEqual([]);
  });

  it('lists a task that leaves its section still holding a lock, and drops it once released', () => {
    const lock = new SyncLock('dump.sync', 'dump-test-sync');
    const task = new LockTask('leaver');
    const outer = enterSyncSection(task);
    lock.acquireSync(task);
    leaveSyncSection(outer);
    expect(lockDump()).toEqual([{ task: task.label, holds: ['dump.sync'], waitsFor: null }]);
    runSync(task, () => lock.releaseHeld(task));
    expect(lockDump()).toEqual([]);
  });
});
