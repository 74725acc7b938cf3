import { describe, expect, it } from 'vitest';
import { isDeadlockBackoff, ResvLock, runTask, WwAcquireContext, WwBackoffError } from '../../../lib/locks/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('ResvLock (wound-wait)', () => {
  it('records the ww acquire context as part of the owner', async () => {
    const r = new ResvLock('bo1.resv');
    await runTask('t', async () => {
      using ctx = new WwAcquireContext('submit');
      using _g = await r.lock(ctx);
      expect(r.owner).toEqual({ task: expect.stringMatching(/^t#/), context: ctx.label });
      expect(ctx.acquired).toBe(1);
    });
  });

  it('lets a younger context wait for an older holder', async () => {
    const r = new ResvLock('r');
    const events: string[] = [];
    await runTask('old', async () => {
      using ctx = new WwAcquireContext('old');
      const g = await r.lock(ctx);
      const young = runTask('young', async () => {
        using yctx = new WwAcquireContext('young');
        using _g = await r.lock(yctx);
        events.push('young got it');
      });
      await tick();
      expect(r.waitingTasks).toEqual([expect.stringMatching(/^young#/)]);
      events.push('old releases');
      g.release();
      await young;
    });
    expect(events).toEqual(['old releases', 'young got it']);
  });

  it('wounds a younger holder that is waiting elsewhere: it gets EDEADLK and the older one proceeds', async () => {
    const a = new ResvLock('A');
    const b = new ResvLock('B');
    await runTask('old', async () => {
      using octx = new WwAcquireContext('old');
      using _ga = await a.lock(octx);
      let youngErr: unknown;
      const young = runTask('young', async () => {
        using yctx = new WwAcquireContext('young');
        const gb = await b.lock(yctx);
        try {
          await a.lock(yctx); // waits: the older context holds A
        } catch (err) {
          youngErr = err;
          gb.release(); // back off: release everything
        }
      });
      await tick();
      using _gb = await b.lock(octx); // older wants B held by the waiting younger: wound
      await young;
      expect(youngErr).toBeInstanceOf(WwBackoffError);
      expect(youngErr).toMatchObject({ code: 'EDEADLK', contended: a });
      expect(isDeadlockBackoff(youngErr)).toBe(true);
      expect(b.owner!.context).toBe(octx.label);
    });
  });

  it('a wounded holder gets EDEADLK at its next contended lock, and the older context gets the lock', async () => {
    const a = new ResvLock('A');
    const c = new ResvLock('C');
    const youngHoldsC = deferred();
    const plainMayRelease = deferred();
    let youngErr: unknown;
    const plain = runTask('plain', async () => {
      const g = await a.lock();
      await plainMayRelease.promise;
      g.release();
    });
    const old = runTask('old', async () => {
      using octx = new WwAcquireContext('old'); // created first: older
      await youngHoldsC.promise;
      using _gc = await c.lock(octx); // younger holder: wound it, then wait
      expect(c.owner!.context).toBe(octx.label);
    });
    const young = runTask('young', async () => {
      using yctx = new WwAcquireContext('young');
      const gc = await c.lock(yctx);
      youngHoldsC.resolve();
      await tick();
      try {
        await a.lock(yctx); // contended, and this context is wounded
      } catch (err) {
        youngErr = err;
      } finally {
        gc.release();
      }
    });
    await Promise.all([old, young]);
    plainMayRelease.resolve();
    await plain;
    expect(youngErr).toMatchObject({ code: 'EDEADLK', contended: a });
  });

  it('refuses two reservations nested without a ww acquire context', async () => {
    const a = new ResvLock('A');
    const b = new ResvLock('B');
    await runTask('t', async () => {
      using _ga = await a.lock();
      await expect(b.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER', message: expect.stringContaining('ww acquire context') });
      expect(b.owner).toBeNull();
    });
  });

  it('answers EALREADY when the same context locks a reservation twice', async () => {
    const r = new ResvLock('r');
    await runTask('t', async () => {
      using ctx = new WwAcquireContext();
      using _g = await r.lock(ctx);
      await expect(r.lock(ctx)).rejects.toMatchObject({ code: 'EALREADY' });
    });
  });

  it('refuses a context used by a task other than its creator', async () => {
    const r = new ResvLock('r');
    await runTask('creator', async () => {
      using ctx = new WwAcquireContext();
      await runTask('borrower', async () => {
        await expect(r.lock(ctx)).rejects.toMatchObject({ code: 'ERR_LOCK_CONTEXT' });
      });
    });
  });

  it('refuses to finish a context that still holds a lock', async () => {
    const r = new ResvLock('r');
    await runTask('t', async () => {
      const ctx = new WwAcquireContext();
      const g = await r.lock(ctx);
      expect(() => ctx.fini()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_CONTEXT' }));
      g.release();
      ctx.fini();
    });
  });
});
