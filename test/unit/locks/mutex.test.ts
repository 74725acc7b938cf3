import { describe, expect, it } from 'vitest';
import { assertHeld, currentTask, isDeadlockBackoff, LockError, Mutex, runTask } from '../../../lib/locks/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
let n = 0;
const fresh = (role: string) => new Mutex(`${role}-${++n}`);

describe('Mutex', () => {
  it('knows its owner while held and is free after the guard is disposed', async () => {
    const m = fresh('m');
    await runTask('alice', async () => {
      {
        using guard = await m.lock();
        expect(guard.held).toBe(true);
        expect(m.owner).toEqual({ task: currentTask()!.label, context: null });
        expect(m.owner!.task).toMatch(/^alice#\d+$/);
      }
      expect(m.owner).toBeNull();
    });
  });

  it('assertHeld passes for the holder and fails for everybody else', async () => {
    const m = fresh('m');
    await runTask('holder', async () => {
      using _guard = await m.lock();
      expect(() => assertHeld(m)).not.toThrow();
      await runTask('other', async () => {
        expect(() => assertHeld(m, 'walking the list')).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD', message: expect.stringMatching(/walking the list requires .* held by holder#/) }));
      });
    });
  });

  it('refuses a recursive acquire at once instead of hanging', async () => {
    const m = fresh('m');
    await runTask('t', async () => {
      using _guard = await m.lock();
      await expect(m.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_RECURSIVE' });
      expect(m.waitingTasks).toEqual([]);
    });
  });

  it('refuses a release by a task that is not the owner, and stays held', async () => {
    const m = fresh('m');
    await runTask('owner', async () => {
      const guard = await m.lock();
      await runTask('thief', async () => {
        expect(() => guard.release()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_OWNER' }));
      });
      expect(m.owner!.task).toMatch(/^owner#/);
      guard.release();
      expect(m.owner).toBeNull();
    });
  });

  it('refuses a second release of one guard', async () => {
    const m = fresh('m');
    await runTask('t', async () => {
      const guard = await m.lock();
      guard.release();
      expect(() => guard.release()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
    });
  });

  it('refuses to lock outside any task', async () => {
    await expect(fresh('m').lock()).rejects.toMatchObject({ code: 'ERR_LOCK_NO_TASK' });
  });

  it('hands the lock to waiters in arrival order, keeping the owner across awaits', async () => {
    const m = fresh('m');
    const order: string[] = [];
    const worker = (name: string) => runTask(name, async () => {
      using _guard = await m.lock();
      await tick();
      expect(m.isHeld()).toBe(true);
      order.push(name);
    });
    await Promise.all([worker('a'), worker('b'), worker('c')]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('tryLock takes a free lock and returns null on a held one', async () => {
    const m = fresh('m');
    await runTask('a', async () => {
      using _guard = m.tryLock();
      expect(_guard).not.toBeNull();
      await runTask('b', async () => expect(m.tryLock()).toBeNull());
    });
  });

  it('detects a lock order inversion the first time it happens, without needing the deadlock', async () => {
    const a = new Mutex('A', `class-a-${++n}`);
    const b = new Mutex('B', `class-b-${n}`);
    await runTask('first', async () => {
      using _ga = await a.lock();
      using _gb = await b.lock();
    });
    await runTask('second', async () => {
      using _gb = await b.lock();
      await expect(a.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER', message: expect.stringContaining('inversion') });
      expect(a.owner).toBeNull();
    });
  });

  it('refuses nesting two locks of one class', async () => {
    const a = new Mutex('gpuva-1', `gpuva-${++n}`);
    const b = new Mutex('gpuva-2', `gpuva-${n}`);
    await runTask('t', async () => {
      using _ga = await a.lock();
      await expect(b.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER' });
    });
  });

  it('is a LockError carrying the lock name', async () => {
    const m = fresh('named');
    await runTask('t', async () => {
      using _g = await m.lock();
      const err = await m.lock().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockError);
      expect((err as LockError).lockName).toBe(m.name);
    });
  });
});

describe('Mutex wait cycles', () => {
  it('refuses at once a wait that would close a cycle the order graph has not seen yet', async () => {
    const m1 = new Mutex('M1', `cycle-x-${++n}`);
    const m2 = new Mutex('M2', `cycle-y-${n}`);
    let aGot = false;
    await runTask('a', async () => {
      using _g1 = await m1.lock();
      let bErr: unknown;
      const b = runTask('b', async () => {
        using _g2 = await m2.lock();
        await tick(); // a now waits for M2
        bErr = await m1.lock().catch((e: unknown) => e);
      });
      await tick();
      const waiting = m2.lock().then((g) => { aGot = true; g.release(); });
      await b;
      await waiting;
      expect(bErr).toMatchObject({ code: 'ERR_LOCK_DEADLOCK', message: expect.stringMatching(/closing the cycle b#\d+ -> a#\d+ -> b#\d+/) });
      // A lock-order bug, not a ww back-off: retrying would meet the same cycle.
      expect(isDeadlockBackoff(bErr)).toBe(false);
    });
    expect(aGot).toBe(true);
  });
});
