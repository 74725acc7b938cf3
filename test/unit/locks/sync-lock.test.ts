import { describe, expect, it } from 'vitest';
import { currentTask, Mutex, runTask, SyncLock } from '../../../lib/locks/index.js';

describe('SyncLock', () => {
  it('holds the lock exactly for the synchronous section', async () => {
    const l = new SyncLock('gpuva-a', 'sync-test-a');
    await runTask('t', async () => {
      const inside = l.hold(() => l.isHeld());
      expect(inside).toBe(true);
      expect(l.owner).toBeNull();
    });
  });

  it('releases the lock when the section throws', () => {
    const l = new SyncLock('gpuva-b', 'sync-test-b');
    expect(() => l.hold(() => { throw new Error('boom'); })).toThrow('boom');
    expect(l.owner).toBeNull();
  });

  it('runs as a task of its own outside any task', () => {
    const l = new SyncLock('gpuva-c', 'sync-test-c');
    expect(l.hold(() => currentTask()?.name)).toBe('gpuva-c');
  });

  it('refuses recursion inside its own section', () => {
    const l = new SyncLock('gpuva-d', 'sync-test-d');
    expect(() => l.hold(() => l.hold(() => 0))).toThrow(expect.objectContaining({ code: 'ERR_LOCK_RECURSIVE' }));
    expect(l.owner).toBeNull();
  });

  it('refuses a lock another task holds inside the same synchronous stretch instead of waiting', async () => {
    const l = new SyncLock('gpuva-e', 'sync-test-e');
    await runTask('holder', async () => {
      const guard = l.lockSync();
      // runTask runs 'other' at once, inside the holder's stretch: no await has come yet.
      void runTask('other', () => {
        expect(() => l.hold(() => 0)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_BUSY', message: expect.stringMatching(/held by holder#\d+/) }));
      });
      guard.release();
    });
    expect(l.owner).toBeNull();
  });

  it('a lock held across an await is caught in the holder, which is told; the next task is not blamed', async () => {
    const l = new SyncLock('gpuva-y', 'sync-test-y');
    let xGot: unknown;
    let yErr: unknown;
    const y = runTask('y', async () => {
      const guard = l.lockSync();
      await Promise.resolve(); // the misuse: the holder's synchronous section ends here
      xGot = runTask('x', () => l.hold(() => 'x ran'));
      try {
        guard.release();
      } catch (err) {
        yErr = err;
      }
    });
    await y;
    expect(xGot).toBe('x ran');
    expect(yErr).toMatchObject({ code: 'ERR_LOCK_HELD_ACROSS_AWAIT', lockName: 'gpuva-y', message: expect.stringMatching(/y#\d+ still held gpuva-y .*hold\(section\)/) });
    expect(l.owner).toBeNull();
  });

  it('the holder is told at scope exit of `using`, and at its next lock call if it never releases', async () => {
    const l = new SyncLock('gpuva-z', 'sync-test-z');
    const other = new Mutex('other-z', 'sync-test-z-mutex');
    await expect(runTask('scoped', async () => {
      using _g = l.lockSync();
      await Promise.resolve();
    })).rejects.toMatchObject({ code: 'ERR_LOCK_HELD_ACROSS_AWAIT' });
    await runTask('forgetful', async () => {
      l.lockSync(); // the guard is dropped: never released
      await Promise.resolve();
      expect(l.owner).toBeNull();
      await expect(other.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_HELD_ACROSS_AWAIT' });
      // Reported once: the task goes on.
      using _m = await other.lock();
      expect(l.hold(() => l.isHeld())).toBe(true);
    });
  });

  it('refuses an async section', async () => {
    const l = new SyncLock('gpuva-f', 'sync-test-f');
    await runTask('t', async () => {
      expect(() => l.hold(async () => 0)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_ASYNC_SECTION' }));
      expect(l.owner).toBeNull();
    });
  });
});

describe('SyncLock nesting under a nest lock', () => {
  it('allows two locks of one class together only while the outer lock is held', async () => {
    const outer = new Mutex('vm.lock', 'sync-nest-outer');
    const a = new SyncLock('gem1.gpuva', 'sync-nest-gpuva');
    const b = new SyncLock('gem2.gpuva', 'sync-nest-gpuva');
    await runTask('t', async () => {
      const ga = a.lockSync();
      expect(() => b.lockSync(outer)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_ORDER' }));
      ga.release();
      using _o = await outer.lock();
      const g1 = a.lockSync(outer);
      const g2 = b.lockSync(outer);
      expect(a.isHeld() && b.isHeld()).toBe(true);
      g2.release();
      g1.release();
    });
  });
});
