import { describe, expect, it } from 'vitest';
import { lockDump, RangeLock, runTask } from '../../../lib/locks/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
let n = 0;
const fresh = () => new RangeLock(`va${++n}`, `range-test-${n}`);

describe('RangeLock', () => {
  it('lets holders of disjoint ranges proceed together', async () => {
    const va = fresh();
    const events: string[] = [];
    const worker = (name: string, start: bigint, end: bigint) => runTask(name, async () => {
      using _g = await va.lock(start, end);
      events.push(`${name} in`);
      await tick();
      events.push(`${name} out`);
    });
    await Promise.all([worker('a', 0n, 0x1000n), worker('b', 0x1000n, 0x2000n)]);
    expect(events).toEqual(['a in', 'b in', 'a out', 'b out']);
  });

  it('queues an overlapping range until the holder releases, in arrival order', async () => {
    const va = fresh();
    const events: string[] = [];
    const worker = (name: string, start: bigint, end: bigint) => runTask(name, async () => {
      using _g = await va.lock(start, end);
      events.push(`${name} in`);
      await tick();
      events.push(`${name} out`);
    });
    await Promise.all([worker('a', 0n, 0x2000n), worker('b', 0x1000n, 0x3000n), worker('c', 0x2800n, 0x4000n)]);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
  });

  it('names the holder and the range in the dump', async () => {
    const va = fresh();
    await runTask('holder', async () => {
      using _g = await va.lock(0x1000n, 0x3000n);
      expect(lockDump()).toContainEqual({ task: expect.stringMatching(/^holder#/), holds: [`${va.name}[0x1000, 0x3000)`], waitsFor: null });
    });
  });

  it('refuses an overlapping range the task already holds at once', async () => {
    const va = fresh();
    await runTask('t', async () => {
      using _g = await va.lock(0n, 0x2000n);
      await expect(va.lock(0x1000n, 0x3000n)).rejects.toMatchObject({ code: 'ERR_LOCK_RECURSIVE' });
      expect(va.held).toHaveLength(1);
    });
  });

  it('refuses a second, disjoint range by the same task: two ranges have no defined order', async () => {
    const va = fresh();
    await runTask('t', async () => {
      using _g = await va.lock(0n, 0x1000n);
      await expect(va.lock(0x8000n, 0x9000n)).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER' });
    });
  });

  it('refuses an empty range', async () => {
    await runTask('t', async () => {
      await expect(fresh().lock(0x1000n, 0x1000n)).rejects.toThrow(RangeError);
      await expect(fresh().lock(0x2000n, 0x1000n)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('[0x2000, 0x1000)') });
    });
  });
});
