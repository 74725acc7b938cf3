// Holdings without guards: how lib/vm takes its own short-lived locks (tryHold, tryAcquire, acquireSync,
// released by releaseHeld). They must be owned, ordered, dumped and refused exactly as guarded holdings are.
import { describe, expect, it } from 'vitest';
import { LockTask, lockDump, RangeLock, ResvLock, runTask, SyncLock } from '../../../lib/locks/index.js';
import { runSync } from '../../../lib/locks/task.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
let n = 0;
const fresh = () => ++n;

describe('guardless holdings', () => {
  it('tryHold takes a free range for the task, which owns it until releaseHeld', () => {
    const va = new RangeLock(`va${fresh()}`, `guardless-range-${n}`);
    const task = new LockTask('owner');
    runSync(task, () => {
      const hold = va.tryHold(task, 0x1000n, 0x3000n)!;
      expect(hold.owner).toEqual({ task: task.label, context: null });
      expect(va.idle).toBe(false);
      expect(lockDump()).toContainEqual({ task: task.label, holds: [`${va.name}[0x1000, 0x3000)`], waitsFor: null });
      hold.releaseHeld(task);
      expect(hold.owner).toBeNull();
      expect(va.idle).toBe(true);
      expect(task.held).toEqual([]);
    });
  });

  it('tryHold returns null for a range another task holds, and refuses the holder\'s own overlap', async () => {
    const va = new RangeLock(`va${fresh()}`, `guardless-range-${n}`);
    await runTask('a', async () => {
      using _g = await va.lock(0n, 0x2000n);
      const other = new LockTask('b');
      expect(runSync(other, () => va.tryHold(other, 0x1000n, 0x3000n))).toBeNull();
      expect(runSync(other, () => va.tryHold(other, 0x2000n, 0x3000n))).not.toBeNull();
    });
    const task = new LockTask('c');
    runSync(task, () => {
      va.tryHold(task, 0n, 0x1000n);
      expect(() => va.tryHold(task, 0x800n, 0x1800n)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_RECURSIVE' }));
    });
  });

  it('releaseHeld by a task that does not hold the lock is ERR_LOCK_NOT_OWNER, and of a free lock ERR_LOCK_NOT_HELD', () => {
    const resv = new ResvLock(`resv${fresh()}`);
    const owner = new LockTask('owner');
    const intruder = new LockTask('intruder');
    expect(() => resv.releaseHeld(owner)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
    runSync(owner, () => expect(resv.tryAcquire(owner)).toBe(true));
    expect(() => resv.releaseHeld(intruder)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_OWNER' }));
    expect(() => resv.releaseHeld(null)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_OWNER' }));
    expect(resv.holderTask).toBe(owner);
    resv.releaseHeld(owner);
    expect(resv.holderTask).toBeNull();
  });

  it('tryAcquire says false for a reservation another task holds, and refuses recursion and nesting without a context', async () => {
    const a = new ResvLock(`resv${fresh()}`);
    const b = new ResvLock(`resv${fresh()}`);
    const task = new LockTask('t');
    await runTask('holder', async () => {
      using _g = await a.lock();
      expect(runSync(task, () => a.tryAcquire(task))).toBe(false);
    });
    runSync(task, () => {
      expect(a.tryAcquire(task)).toBe(true);
      expect(() => a.tryAcquire(task)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_RECURSIVE' }));
      expect(() => b.tryAcquire(task)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_ORDER' }));
      a.releaseHeld(task);
    });
  });

  it('a waiter queued behind a guardless holding gets the lock when it is released', async () => {
    const resv = new ResvLock(`resv${fresh()}`);
    const task = new LockTask('first');
    runSync(task, () => resv.tryAcquire(task));
    const events: string[] = [];
    const waiter = runTask('second', async () => {
      using _g = await resv.lock();
      events.push(`granted to ${resv.owner!.task.split('#')[0]}`);
    });
    await tick();
    expect(events).toEqual([]);
    resv.releaseHeld(task);
    await waiter;
    expect(events).toEqual(['granted to second']);
  });

  it('acquireSync refuses a lock held by another task instead of waiting, and a guard of a holding released by releaseHeld is dead', async () => {
    const lock = new SyncLock(`sync${fresh()}`, `guardless-sync-${n}`);
    const task = new LockTask('t');
    const guard = runSync(task, () => lock.lockSync());
    const other = new LockTask('other');
    expect(() => runSync(other, () => lock.acquireSync(other))).toThrow(expect.objectContaining({ code: 'ERR_LOCK_BUSY' }));
    lock.releaseHeld(task);
    runSync(task, () => {
      lock.acquireSync(task);
      expect(() => guard.release()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
      expect(lock.holderTask).toBe(task);
      lock.releaseHeld(task);
    });
  });
});

describe('reuse of released guardless range holds', () => {
  it('the next tryHold reuses a hold released while nobody waited, with its new range', () => {
    const va = new RangeLock(`va${fresh()}`, `guardless-range-${n}`);
    const task = new LockTask('t');
    runSync(task, () => {
      const first = va.tryHold(task, 0n, 0x1000n)!;
      first.releaseHeld(task);
      const second = va.tryHold(task, 0x4000n, 0x6000n)!;
      expect(second).toBe(first);
      expect([second.start, second.end]).toEqual([0x4000n, 0x6000n]);
      expect(second.owner).toEqual({ task: task.label, context: null });
      second.releaseHeld(task);
    });
  });

  it('never reuses a hold a guard refers to, nor one released while a task waited for it', async () => {
    const va = new RangeLock(`va${fresh()}`, `guardless-range-${n}`);
    const guard = await runTask('guarded', async () => va.lock(0n, 0x1000n));
    const owner = guard.lock.holderTask!;
    runSync(owner, () => guard.release());
    const task = new LockTask('t');
    const first = runSync(task, () => va.tryHold(task, 0n, 0x2000n)!);
    expect(first).not.toBe(guard.lock);
    expect([guard.lock.start, guard.lock.end]).toEqual([0n, 0x1000n]);
    const waiter = runTask('waiter', async () => {
      using _g = await va.lock(0x1000n, 0x3000n);
    });
    await tick();
    first.releaseHeld(task);
    await waiter;
    const next = runSync(task, () => va.tryHold(task, 0n, 0x1000n)!);
    expect(next).not.toBe(first);
    next.releaseHeld(task);
  });
});
