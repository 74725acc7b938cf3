import { describe, expect, it } from 'vitest';
import { formatLockDump, lockDump, Mutex, runTask } from '../../../lib/locks/index.js';

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
});
