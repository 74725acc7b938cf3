import { describe, expect, it } from 'vitest';
import { allocFenceContext, FenceError, SoftwareFence, waitAll } from '../../../lib/fence/index.js';

describe('SoftwareFence', () => {
  it('is unsignalled until signal(), then signalled for good', () => {
    const fence = new SoftwareFence({ name: 'job' });
    expect(fence.signaled).toBe(false);
    expect(fence.error).toBeNull();
    fence.signal();
    expect(fence.signaled).toBe(true);
    expect(fence.error).toBeNull();
  });

  it('a pending wait resolves true when the fence signals', async () => {
    const fence = new SoftwareFence();
    const wait = fence.wait();
    let settled = false;
    void wait.then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    fence.signal();
    await expect(wait).resolves.toBe(true);
  });

  it('carries the error it was signalled with; its wait still resolves true', async () => {
    const fence = new SoftwareFence();
    const err = new Error('GPU hang');
    fence.signal(err);
    expect(fence.error).toBe(err);
    await expect(fence.wait()).resolves.toBe(true);
  });

  it('a timeout resolves false; timeout 0 only tests', async () => {
    const fence = new SoftwareFence();
    await expect(fence.wait({ timeoutMs: 0 })).resolves.toBe(false);
    const started = performance.now();
    await expect(fence.wait({ timeoutMs: 20 })).resolves.toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    fence.signal();
    await expect(fence.wait({ timeoutMs: 0 })).resolves.toBe(true);
  });

  it('an abort rejects with ABORT_ERR, before or during the wait', async () => {
    const fence = new SoftwareFence();
    await expect(fence.wait({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const ac = new AbortController();
    const wait = fence.wait({ signal: ac.signal });
    ac.abort(new Error('user gave up'));
    await expect(wait).rejects.toMatchObject({ code: 'ABORT_ERR', cause: new Error('user gave up') });
    expect(fence.signaled).toBe(false);
  });

  it('signalling twice is refused and changes nothing', () => {
    const fence = new SoftwareFence();
    fence.signal();
    expect(() => fence.signal(new Error('late'))).toThrow(expect.objectContaining({ code: 'ERR_FENCE_SIGNALED' }));
    expect(() => fence.signal()).toThrow(FenceError);
    expect(fence.error).toBeNull();
  });

  it('gets a context of its own unless given one', () => {
    const a = new SoftwareFence();
    const b = new SoftwareFence();
    expect(a.context).not.toBe(b.context);
    const ctx = allocFenceContext();
    expect(new SoftwareFence({ context: ctx }).context).toBe(ctx);
    expect(SoftwareFence.signaled().signaled).toBe(true);
  });

  it.each([
    ['options null', () => new SoftwareFence(null as never), 'ERR_INVALID_ARG_TYPE'],
    ['a non-integer context', () => new SoftwareFence({ context: 1.5 }), 'ERR_INVALID_ARG_TYPE'],
    ['a name that is not a string', () => new SoftwareFence({ name: 3 as never }), 'ERR_INVALID_ARG_TYPE'],
    ['signal with a non-Error', () => new SoftwareFence().signal('x' as never), 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %s', (_name, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  it('refuses bad wait options with a rejected promise', async () => {
    const fence = new SoftwareFence();
    await expect(fence.wait({ timeoutMs: 'x' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(fence.wait({ signal: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('waitAll', () => {
  it('resolves once every fence signalled, in any order', async () => {
    const fences = [new SoftwareFence(), new SoftwareFence(), new SoftwareFence()];
    const wait = waitAll(fences);
    fences[2]!.signal();
    fences[0]!.signal();
    await new Promise((r) => setImmediate(r));
    fences[1]!.signal();
    await expect(wait).resolves.toBe(true);
  });

  it('shares one deadline across the fences', async () => {
    const a = new SoftwareFence();
    const b = new SoftwareFence();
    setTimeout(() => a.signal(), 10);
    const started = performance.now();
    await expect(waitAll([a, b], { timeoutMs: 40 })).resolves.toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('rejects with ABORT_ERR when aborted', async () => {
    const ac = new AbortController();
    const wait = waitAll([new SoftwareFence()], { signal: ac.signal });
    ac.abort();
    await expect(wait).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });
});
