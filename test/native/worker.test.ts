// SPDX-License-Identifier: MIT
// The addon in worker_threads: each environment has its own state (SetInstanceData) and its own loop
// for waits, and a worker terminated with mappings and waits pending tears down without crashing.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';

const script = fileURLToPath(new URL('./fixtures/worker-user.mjs', import.meta.url));

function runWorker(data: { fill: number; leaveOpen: boolean }): { worker: Worker; message: Promise<Record<string, unknown>> } {
  const worker = new Worker(script, { workerData: data });
  const message = new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, message };
}

describe('worker_threads', () => {
  it('maps memory and finishes an fd wait inside a worker', async () => {
    const { worker, message } = runWorker({ fill: 0x11, leaveOpen: false });
    await expect(message).resolves.toEqual({ seen: 0x11, result: 0, liveMappings: 0 });
    await worker.terminate();
  });

  it('keeps each worker\'s state apart from the others and from the main thread', async () => {
    const mainMappings = native().liveMappings();
    const runs = [runWorker({ fill: 0x21, leaveOpen: false }), runWorker({ fill: 0x42, leaveOpen: false })];
    const results = await Promise.all(runs.map((r) => r.message));
    expect(results.map((r) => r.seen)).toEqual([0x21, 0x42]);
    expect(native().liveMappings()).toBe(mainMappings);
    await Promise.all(runs.map((r) => r.worker.terminate()));
  });

  it('survives terminating a worker that has a mapping, a VA window view and a referenced wait pending', async () => {
    const { worker, message } = runWorker({ fill: 0x33, leaveOpen: true });
    await expect(message).resolves.toEqual({ seen: 0x33, pending: 1 });
    await expect(worker.terminate()).resolves.toBe(1);
    // The main thread's addon still works after the worker's environment was torn down.
    const memfd = native().memfdCreate('after-worker', 4096);
    const mapping = native().map(memfd, 0, 4096);
    native().unmap(mapping);
    native().close(memfd);
  });
});
