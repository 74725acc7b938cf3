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

  it('refuses a lock held across an await by another task instead of waiting', async () => {
    const l = new SyncLock('gpuva-e', 'sync-test-e');
    await runTask('leaky', async () => {
      const guard = l.lockSync();
      await runTask('other', async () => {
        expect(() => l.hold(() => 0)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_BUSY' }));
      });
      guard.release();
    });
  });

  it('refuses an async section', async () => {
    const l = new SyncLock('gpuva-f', 'sync-test-f');
    await runTask('t', async () => {
      expect(() => l.hold(async () => 0)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_BUSY' }));
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
