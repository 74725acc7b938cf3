// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { continueTask, currentTask, LockTask, runSync, runTask } from '../../../lib/locks/task.js';
import { Mutex } from '../../../lib/locks/mutex.js';
import type { GpuVmBackend } from '../../../lib/backends/backend.js';
import { TrackOnlyBackend } from '../../../lib/backends/track-only.js';
import { Bo, Vm } from '../../../lib/vm/index.js';

describe('tasks carried explicitly (synchronous sections)', () => {
  it('runSync makes the task current for the synchronous call only', () => {
    const task = new LockTask('sync');
    expect(runSync(task, () => currentTask())).toBe(task);
    expect(currentTask()).toBeNull();
  });

  it('runSync restores the outer task when its function throws', () => {
    const outer = new LockTask('outer');
    runSync(outer, () => {
      expect(() => runSync(new LockTask('inner'), () => { throw new Error('boom'); })).toThrow('boom');
      expect(currentTask()).toBe(outer);
    });
    expect(currentTask()).toBeNull();
  });

  it('does not carry the task across an await', async () => {
    const seen = await runSync(new LockTask('sync'), async () => {
      await Promise.resolve();
      return currentTask();
    });
    expect(seen).toBeNull();
  });

  it('runTask inside a synchronous section runs its function in the new task, across awaits', async () => {
    const outer = new LockTask('outer');
    const seen = await runSync(outer, () => runTask('nested', async () => {
      const before = currentTask()?.name;
      await Promise.resolve();
      return [before, currentTask()?.name];
    }));
    expect(seen).toEqual(['nested', 'nested']);
  });

  it('continueTask carries an existing task across awaits', async () => {
    const task = new LockTask('carried');
    const seen = await continueTask(task, async () => {
      await Promise.resolve();
      return currentTask();
    });
    expect(seen).toBe(task);
  });

  it('a lock taken in a section is owned by its task: another task cannot release it', () => {
    const m = new Mutex('task-test-m', 'task-test-m');
    const guard = runSync(new LockTask('owner'), () => m.tryLock());
    expect(guard).not.toBeNull();
    expect(() => runSync(new LockTask('intruder'), () => guard!.release())).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_OWNER' }));
    expect(m.owner?.task).toMatch(/^owner#/);
  });
});

describe('a Vm request made outside any task', () => {
  it('starts the backend commit in the request\'s task, holding the BO\'s reservation', async () => {
    const inner = new TrackOnlyBackend();
    let heldAtCommit: boolean | null = null;
    let task: string | undefined;
    const bo = new Bo(0x10000, { name: 'task-test-bo' });
    const backend: GpuVmBackend = {
      name: 'probe',
      commit(vm, ops) {
        heldAtCommit = bo.resv.isHeld();
        task = currentTask()?.name;
        return inner.commit(vm, ops);
      },
    };
    const vm = new Vm({ policy: 'resv', name: 'taskvm', start: 0, range: 0x100000, backend });
    await vm.map({ addr: 0x1000, range: 0x1000, bo });
    expect(heldAtCommit).toBe(true);
    expect(task).toBe('taskvm.map');
    await vm.unmap(0x1000, 0x1000);
  });
});
