// SPDX-License-Identifier: MIT
// Async fd waits (native/fd_wait.cc through FdWait): libuv polling on this thread's loop, timeout,
// AbortSignal, and no hold on the process unless awaited. A FIFO stands in for a dma-buf: the mechanism
// is the same poll(2) readiness; the dma-buf fence semantics are tested on vgem in test/guest/.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FdWait, readWaitOptions, type WaitOptions } from '../../lib/drm/fd-wait.js';
import { native } from '../../lib/native.js';
import { openFifo } from './fixtures/fifo.js';

const child = fileURLToPath(new URL('./fixtures/wait-exit-child.mjs', import.meta.url));

function startWait(fd: number, options: WaitOptions = {}): FdWait {
  return new FdWait(fd, false, readWaitOptions(options), 'fifo', () => undefined);
}

describe('FdWait', () => {
  it('resolves true when the fd becomes ready', async () => {
    using fifo = openFifo();
    const wait = startWait(fifo.fd, { timeoutMs: 5000 });
    setTimeout(() => fifo.makeReadable(), 20);
    await expect(wait).resolves.toBe(true);
  });

  it.each([0, 0.5, 1])('looks at the fd before a timeout of %s ms can win: a ready fd resolves true', async (timeoutMs) => {
    using fifo = openFifo();
    fifo.makeReadable();
    // libuv runs timers before it polls; the timer used to report a timeout for a fd that was ready.
    const results = await Promise.all(Array.from({ length: 20 }, () => startWait(fifo.fd, { timeoutMs })));
    expect(results).toEqual(Array.from({ length: 20 }, () => true));
  });

  it('resolves false when the timeout passes first', async () => {
    using fifo = openFifo();
    const started = performance.now();
    await expect(startWait(fifo.fd, { timeoutMs: 30 })).resolves.toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('rejects with an AbortError when its signal aborts', async () => {
    using fifo = openFifo();
    const controller = new AbortController();
    const wait = startWait(fifo.fd, { signal: controller.signal });
    controller.abort();
    await expect(wait).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(wait.pending).toBe(false);
  });

  it('rejects at once for a signal that is already aborted', async () => {
    using fifo = openFifo();
    await expect(startWait(fifo.fd, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('rejects with the given reason when cancelled by its owner', async () => {
    using fifo = openFifo();
    const wait = startWait(fifo.fd);
    const reason = new Error('owner closed');
    wait.cancel(reason);
    await expect(wait).rejects.toBe(reason);
  });

  it('lets two waits on the same fd both finish (each polls its own dup)', async () => {
    using fifo = openFifo();
    const first = startWait(fifo.fd, { timeoutMs: 5000 });
    const second = startWait(fifo.fd, { timeoutMs: 5000 });
    fifo.makeReadable();
    await expect(Promise.all([first, second])).resolves.toEqual([true, true]);
  });

  it('leaves no native wait behind once finished', async () => {
    using fifo = openFifo();
    const before = native().pendingWaits();
    await startWait(fifo.fd, { timeoutMs: 1 });
    expect(native().pendingWaits()).toBe(before);
  });

  it('does not keep the process alive while nobody awaits it', () => {
    const started = performance.now();
    const output = execFileSync(process.execPath, [child, 'unref', '10000'], { encoding: 'utf8' });
    expect(output).toBe('started\n');
    expect(performance.now() - started).toBeLessThan(8000);
  });

  it('keeps the process alive until it ends once referenced, as awaiting does', () => {
    const output = execFileSync(process.execPath, [child, 'ref', '200'], { encoding: 'utf8' });
    expect(output).toBe('started\nwait ended: 1\n');
  });
});
