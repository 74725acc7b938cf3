import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DrmExec, lockStats, ResvLock, runTask, type LockGuard } from '../../../lib/locks/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('DrmExec', () => {
  it('refuses options that are not an object with ERR_INVALID_ARG_TYPE', () => {
    expect(() => new DrmExec(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new DrmExec(1 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('locks every object and releases all of them when disposed', async () => {
    const objs = [new ResvLock('a'), new ResvLock('b'), new ResvLock('c')];
    await runTask('t', async () => {
      {
        using exec = new DrmExec();
        await exec.untilAllLocked(async (e) => { for (const o of objs) await e.lock(o); });
        expect(exec.objects).toEqual(objs);
        for (const o of objs) expect(o.isHeld()).toBe(true);
      }
      for (const o of objs) expect(o.owner).toBeNull();
    });
  });

  it('two tasks locking the same objects in opposite orders both finish, one after a back-off', async () => {
    const a = new ResvLock('a');
    const b = new ResvLock('b');
    let retries = 0;
    const worker = (name: string, order: ResvLock[]) => runTask(name, async () => {
      using exec = new DrmExec();
      await exec.untilAllLocked(async (e) => {
        for (const o of order) { await e.lock(o); await tick(); }
      });
      retries += exec.retries;
      await tick();
    });
    await Promise.all([worker('ab', [a, b]), worker('ba', [b, a])]);
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(a.owner).toBeNull();
    expect(b.owner).toBeNull();
  });

  it('releases everything when the locking step fails with another error', async () => {
    const a = new ResvLock('a');
    const b = new ResvLock('b');
    await runTask('t', async () => {
      using exec = new DrmExec();
      await expect(exec.untilAllLocked(async (e) => {
        await e.lock(a);
        await e.lock(b);
        throw new Error('driver callback failed');
      })).rejects.toThrow('driver callback failed');
      expect(a.owner).toBeNull();
      expect(b.owner).toBeNull();
    });
  });

  it('refuses a duplicate unless told to ignore duplicates', async () => {
    const a = new ResvLock('a');
    await runTask('t', async () => {
      {
        using exec = new DrmExec();
        await expect(exec.untilAllLocked(async (e) => { await e.lock(a); await e.lock(a); })).rejects.toMatchObject({ code: 'EALREADY' });
      }
      using exec = new DrmExec({ ignoreDuplicates: true });
      await exec.untilAllLocked(async (e) => { await e.lock(a); await e.lock(a); });
      expect(exec.objects).toEqual([a]);
    });
  });

  it('property: concurrent execs over random subsets in random orders all finish with exclusive ownership', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 8 }),
      fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 20 }),
      async (plans, pauses) => {
        const objs = Array.from({ length: 6 }, (_, i) => new ResvLock(`o${i}`));
        let pause = 0;
        const nextPause = async () => { for (let i = pauses[pause++ % pauses.length]!; i > 0; i--) await tick(); };
        const inside = new Set<ResvLock>();
        await Promise.all(plans.map((plan, t) => runTask(`t${t}`, async () => {
          using exec = new DrmExec({ ignoreDuplicates: true });
          await exec.untilAllLocked(async (e) => { for (const i of plan) { await e.lock(objs[i]!); await nextPause(); } });
          const mine = exec.objects;
          for (const o of mine) { expect(inside.has(o)).toBe(false); inside.add(o); }
          await nextPause();
          for (const o of mine) inside.delete(o);
        })));
        for (const o of objs) expect(o.owner).toBeNull();
      },
    ), { numRuns: 60 });
  });

  it('counts back-offs in the lock statistics', async () => {
    const before = lockStats().backoffs;
    const a = new ResvLock('a');
    const b = new ResvLock('b');
    const worker = (name: string, order: ResvLock[]) => runTask(name, async () => {
      using exec = new DrmExec();
      const guards: LockGuard<ResvLock>[] = [];
      await exec.untilAllLocked(async (e) => { for (const o of order) { guards.push(await e.lock(o)); await tick(); } });
    });
    await Promise.all([worker('ab', [a, b]), worker('ba', [b, a])]);
    expect(lockStats().backoffs).toBeGreaterThan(before);
  });
});
