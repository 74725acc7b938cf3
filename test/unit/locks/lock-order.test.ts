// The lock-order check has a fast path: while every lock a task holds has a class bit of its own, the
// check is one mask test against the classes recorded before the one being taken. It must refuse exactly
// what the walk over the held locks refuses, also once the task holds two locks of one class (through a ww
// context), when it must fall back to the walk.
import { describe, expect, it } from 'vitest';
import { DrmExec, Mutex, ResvLock, runTask } from '../../../lib/locks/index.js';

let n = 0;

describe('lock order, fast path and walk', () => {
  it('after an order is recorded, taking it again passes and the reverse order is refused, as often as it is tried', async () => {
    const a = new Mutex('A', `order-a-${++n}`);
    const b = new Mutex('B', `order-b-${n}`);
    for (let i = 0; i < 3; i++) {
      await runTask('forward', async () => {
        using _ga = await a.lock();
        using _gb = await b.lock();
      });
      await runTask('backward', async () => {
        using _gb = await b.lock();
        await expect(a.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER' });
      });
    }
  });

  it('an order learnt through a third class is enforced too (A before B before C refuses C then A)', async () => {
    const a = new Mutex('A', `chain-a-${++n}`);
    const b = new Mutex('B', `chain-b-${n}`);
    const c = new Mutex('C', `chain-c-${n}`);
    await runTask('ab', async () => {
      using _ga = await a.lock();
      using _gb = await b.lock();
    });
    await runTask('bc', async () => {
      using _gb = await b.lock();
      using _gc = await c.lock();
    });
    await runTask('ca', async () => {
      using _gc = await c.lock();
      await expect(a.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER', message: expect.stringContaining('inversion') });
    });
  });

  it('with two reservations held through one context, a third of the class needs that context and an inversion is still refused', async () => {
    const outer = new Mutex('outer', `resv-outer-${++n}`);
    const r1 = new ResvLock(`r1-${n}`);
    const r2 = new ResvLock(`r2-${n}`);
    const r3 = new ResvLock(`r3-${n}`);
    await runTask('ww', async () => {
      using _go = await outer.lock();
      using exec = new DrmExec();
      await exec.untilAllLocked(async (e) => {
        await e.lock(r1);
        await e.lock(r2);
      });
      // Two locks of one class: the task is irregular now, and the walk decides.
      await expect(r3.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER' });
      await exec.lock(r3);
      expect(r3.isHeld()).toBe(true);
    });
    // dma_resv after outer is recorded: outer while holding a reservation is an inversion.
    await runTask('inverted', async () => {
      using _g = await r1.lock();
      await expect(outer.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER' });
    });
  });
});
