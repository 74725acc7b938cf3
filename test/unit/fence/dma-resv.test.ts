import { describe, expect, it } from 'vitest';
import { DMA_RESV_USAGES, DmaResv, type DmaResvUsage, SoftwareFence, usageForAccess } from '../../../lib/fence/index.js';
import { runTask } from '../../../lib/locks/index.js';

async function locked<T>(resv: DmaResv, fn: () => T): Promise<T> {
  return runTask('t', async () => {
    using _g = await resv.lock();
    return fn();
  });
}

describe('DmaResv fences', () => {
  it('adding a fence requires the reservation held (ERR_LOCK_NOT_HELD), and changes nothing', () => {
    const resv = new DmaResv('bo.resv');
    expect(() => resv.addFence(new SoftwareFence(), 'write')).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
    expect(() => resv.reserveFences(1)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
    expect(resv.fences()).toEqual([]);
  });

  it('adding a fence requires a slot reserved since locking (ERR_FENCE_NO_SLOT)', async () => {
    const resv = new DmaResv('bo.resv');
    const fence = new SoftwareFence();
    await locked(resv, () => {
      expect(() => resv.addFence(fence, 'write')).toThrow(expect.objectContaining({ code: 'ERR_FENCE_NO_SLOT' }));
      resv.reserveFences(1);
      resv.addFence(fence, 'write');
      // One slot reserved, one used: a second fence of another context needs another.
      expect(() => resv.addFence(new SoftwareFence(), 'read')).toThrow(expect.objectContaining({ code: 'ERR_FENCE_NO_SLOT' }));
    });
    expect(resv.fences()).toEqual([{ fence, usage: 'write' }]);
  });

  it('unlocking drops the reserved slots (dma_resv_reset_max_fences)', async () => {
    const resv = new DmaResv('bo.resv');
    await locked(resv, () => resv.reserveFences(4));
    await locked(resv, () => {
      expect(() => resv.addFence(new SoftwareFence(), 'read')).toThrow(expect.objectContaining({ code: 'ERR_FENCE_NO_SLOT' }));
    });
  });

  it('a fence replaces the one of its context with a usage as weak or weaker, without a slot', async () => {
    const resv = new DmaResv('bo.resv');
    const first = new SoftwareFence();
    const second = new SoftwareFence({ context: first.context });
    await locked(resv, () => {
      resv.reserveFences(1);
      resv.addFence(first, 'read');
    });
    await locked(resv, () => resv.addFence(second, 'write'));
    expect(resv.fences()).toEqual([{ fence: second, usage: 'write' }]);
    // A weaker usage of the same context does not replace a stronger one: it needs its own slot.
    const third = new SoftwareFence({ context: first.context });
    await locked(resv, () => {
      expect(() => resv.addFence(third, 'bookkeep')).toThrow(expect.objectContaining({ code: 'ERR_FENCE_NO_SLOT' }));
    });
  });

  it('a signalled fence is pruned: its slot takes the next fence without a reservation', async () => {
    const resv = new DmaResv('bo.resv');
    const old = new SoftwareFence();
    await locked(resv, () => {
      resv.reserveFences(1);
      resv.addFence(old, 'kernel');
    });
    old.signal();
    expect(resv.fences()).toEqual([]);
    const next = new SoftwareFence();
    await locked(resv, () => resv.addFence(next, 'read'));
    expect(resv.fences()).toEqual([{ fence: next, usage: 'read' }]);
  });

  it('a query for a usage returns that usage and every stronger one (dma_resv_iter)', async () => {
    const resv = new DmaResv('bo.resv');
    const byUsage = Object.fromEntries(DMA_RESV_USAGES.map((u) => [u, new SoftwareFence({ name: u })])) as Record<DmaResvUsage, SoftwareFence>;
    await locked(resv, () => {
      resv.reserveFences(4);
      for (const usage of ['bookkeep', 'read', 'kernel', 'write'] as const) resv.addFence(byUsage[usage], usage);
    });
    const names = (usage: DmaResvUsage): string[] => resv.fences(usage).map((f) => f.fence.name).sort();
    expect(names('kernel')).toEqual(['kernel']);
    expect(names('write')).toEqual(['kernel', 'write']);
    expect(names('read')).toEqual(['kernel', 'read', 'write']);
    expect(names('bookkeep')).toEqual(['bookkeep', 'kernel', 'read', 'write']);
    expect(resv.testSignaled('write')).toBe(false);
    byUsage.kernel.signal();
    byUsage.write.signal();
    expect(resv.testSignaled('write')).toBe(true);
    expect(resv.testSignaled('read')).toBe(false);
  });

  it('dma_resv_usage_rw: a write waits for readers and writers, a read for writers', () => {
    expect(usageForAccess(true)).toBe('read');
    expect(usageForAccess(false)).toBe('write');
  });

  it('waitIdle waits for the fences of a usage, and for those added meanwhile', async () => {
    const resv = new DmaResv('bo.resv');
    const a = new SoftwareFence();
    const b = new SoftwareFence();
    const late = new SoftwareFence();
    await locked(resv, () => {
      resv.reserveFences(2);
      resv.addFence(a, 'write');
      resv.addFence(b, 'bookkeep');
    });
    await expect(resv.waitIdle('read', { timeoutMs: 0 })).resolves.toBe(false);
    const idle = resv.waitIdle('read');
    let done = false;
    void idle.then(() => { done = true; });
    await locked(resv, () => {
      resv.reserveFences(1);
      resv.addFence(late, 'read');
    });
    a.signal();
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    late.signal();
    await expect(idle).resolves.toBe(true);
    // bookkeep was not part of the 'read' wait.
    expect(b.signaled).toBe(false);
    await expect(resv.waitIdle('bookkeep', { timeoutMs: 10 })).resolves.toBe(false);
    const ac = new AbortController();
    const aborted = resv.waitIdle('bookkeep', { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('waitIdle ends for a fence whose wait resolves while its state still reads unsignalled', async () => {
    const resv = new DmaResv('bo.resv');
    const liar = { context: 1e9, name: 'liar', signaled: false, error: null, wait: () => Promise.resolve(true) };
    await locked(resv, () => {
      resv.reserveFences(1);
      resv.addFence(liar, 'write');
    });
    await expect(resv.waitIdle('bookkeep')).resolves.toBe(true);
  });

  it.each([
    ['an unknown usage', (r: DmaResv) => r.addFence(new SoftwareFence(), 'exclusive' as never), 'ERR_INVALID_ARG_VALUE'],
    ['a fence that is not one', (r: DmaResv) => r.addFence({} as never, 'read'), 'ERR_INVALID_ARG_TYPE'],
    ['a negative reservation', (r: DmaResv) => r.reserveFences(-1), 'ERR_OUT_OF_RANGE'],
    ['a fractional reservation', (r: DmaResv) => r.reserveFences(1.5), 'ERR_OUT_OF_RANGE'],
  ])('refuses %s with a typed error and no change', async (_name, call, code) => {
    const resv = new DmaResv('bo.resv');
    await locked(resv, () => {
      resv.reserveFences(1);
      expect(() => call(resv)).toThrow(expect.objectContaining({ code }));
    });
    expect(resv.fences()).toEqual([]);
  });

  it('refuses an unknown usage in queries', () => {
    expect(() => new DmaResv('r').fences('all' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
