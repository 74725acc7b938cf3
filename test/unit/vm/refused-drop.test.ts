// A drop that its policy refuses fails loudly and loses nothing: the reference stays reachable (on the
// error and in vm.refusedDrops()), a later drop with the proof completes it, and close() names every
// reference still held with where it was obtained. The first case runs the README's own example.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { runTask } from '../../../lib/locks/index.js';
import { Bo, DropRefusedError, Vm, vmInvariantViolations, type VmBoRef } from '../../../lib/vm/index.js';
import { snapshot } from './snapshot.js';

const space = { start: 0, range: 0x100000 };

// The first TypeScript block of the README's "Locking designs compared" section, as a function of the
// names it imports. Its VM is made with the policy named in place of 'deferred' (the block's comment lists
// the others); everything else runs as written.
function readmeLockingExample(policy: string): (deps: { Bo: typeof Bo; Vm: typeof Vm; runTask: typeof runTask }) => Promise<void> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Locking designs compared'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  const importLine = "import { Bo, Vm, runTask } from 'drm-gpuvm';\n";
  expect(block.startsWith(importLine)).toBe(true);
  expect(block).toMatch(/new Vm\(\{ policy: 'deferred', .*\/\/ or 'resv', 'gpuva-lock'/);
  const body = block.slice(importLine.length).replace("policy: 'deferred'", `policy: '${policy}'`);
  const js = ts.transpileModule(body, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (deps: object) => Promise<void>;
  return new AsyncFunction('{ Bo, Vm, runTask }', js.replace(/^export \{\};?$/m, ''));
}

// Runs the README example with `policy`, keeping the VM and the last BO it makes, and what it threw.
async function runReadmeExample(policy: string): Promise<{ vm: Vm; bo: Bo; error: unknown }> {
  const made: { vm?: Vm; bo?: Bo } = {};
  class KeptVm extends Vm {
    constructor(options: ConstructorParameters<typeof Vm>[0]) {
      super(options);
      made.vm = this;
    }
  }
  class KeptBo extends Bo {
    constructor(...args: ConstructorParameters<typeof Bo>) {
      super(...args);
      made.bo = this;
    }
  }
  let error: unknown = null;
  try {
    await readmeLockingExample(policy)({ Bo: KeptBo, Vm: KeptVm, runTask });
  } catch (err) {
    error = err;
  }
  return { vm: made.vm!, bo: made.bo!, error };
}

describe('a refused drop loses nothing', () => {
  it('the README example under resv fails at scope end, and the reference is recovered and completed', async () => {
    const { vm, bo, error } = await runReadmeExample('resv');
    expect(error).toBeInstanceOf(DropRefusedError);
    expect(error).toMatchObject({ code: 'ERR_LOCK_NO_GUARD', lockName: 'staging.resv', message: expect.stringContaining('refusedDrops()') });
    const ref = (error as DropRefusedError).ref;
    expect(ref.released).toBe(false);
    expect(vm.refusedDrops()).toEqual([ref]);
    expect(ref.refusal?.code).toBe('ERR_LOCK_NO_GUARD');
    expect(vm.refsHeld(ref.vmBo)).toBe(1);
    expect(vmInvariantViolations(vm)).toEqual([]);
    // close() is refused, and names the reference and where it was obtained: the example's own line.
    let closeError: unknown;
    try {
      vm.close();
    } catch (err) {
      closeError = err;
    }
    expect(closeError).toMatchObject({ code: 'ERR_VM_BUSY', references: [ref], message: expect.stringMatching(/pair of BO 'staging', obtained at .*\(its drop was refused: ERR_LOCK_NO_GUARD\)/) });
    expect(ref.obtainedAt).not.toMatch(/lib[\\/]vm[\\/]/);
    // A later drop with the proof completes it; then the VM can go.
    await runTask('recover', async () => {
      using g = await bo.resv.lock();
      ref.put(g);
    });
    expect(ref.released).toBe(true);
    expect(ref.refusal).toBeNull();
    expect(vm.refusedDrops()).toEqual([]);
    await vm.unmap(0x100000, 0x10000);
    expect(vm.pairs()).toEqual([]);
    vm.close();
    expect(vm.closed).toBe(true);
  });

  it.each(['deferred', 'gpuva-lock'])('the same README example under %s just works', async (policy) => {
    const { vm, error } = await runReadmeExample(policy);
    expect(error).toBeNull();
    expect(vm.refusedDrops()).toEqual([]);
    await vm.unmap(0x100000, 0x10000);
    await vm.deferredCleanup();
    vm.close();
  });

  it('each refusal at the drop has its own code: no guard, another BO\'s guard, another task\'s guard', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const other = new Bo(0x1000, { name: 'other' });
    let ref!: VmBoRef;
    await runTask('driver', async () => {
      ref = await (async () => { using _g = await bo.resv.lock(); return vm.obtain(bo); })();
      const before = snapshot(vm);
      expect(() => ref.put()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NO_GUARD', ref }));
      {
        using og = await other.resv.lock();
        expect(() => ref.put(og)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_GUARD_WRONG_LOCK', ref }));
      }
      expect(snapshot(vm)).toEqual(before);
    });
    // A guard held by another task, live, but not the caller's.
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let ownerGuard!: Parameters<VmBoRef['put']>[0];
    const owner = runTask('owner', async () => {
      using g = await bo.resv.lock();
      ownerGuard = g;
      await held;
    });
    await new Promise((resolve) => setImmediate(resolve));
    await runTask('thief', async () => {
      expect(() => ref.put(ownerGuard)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_GUARD_WRONG_TASK', ref, message: expect.stringMatching(/owner#\d+'s/) }));
    });
    release();
    await owner;
    expect(vm.refusedDrops()).toEqual([ref]);
    expect(ref.refusal?.code).toBe('ERR_LOCK_GUARD_WRONG_TASK');
    await runTask('driver', async () => {
      using g = await bo.resv.lock();
      ref.put(g);
    });
    expect(vm.refusedDrops()).toEqual([]);
    vm.close();
  });

  it('a refusal that needs another lock (gpuva-lock with RESV_PROTECTED lists) is listed and completed too', async () => {
    const vm = new Vm({ policy: 'gpuva-lock', resvProtected: true, ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    let error: unknown;
    try {
      using _ref = vm.obtain(bo);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'ERR_LOCK_NOT_HELD', message: expect.stringContaining('RESV_PROTECTED') });
    const ref = (error as DropRefusedError).ref;
    expect(vm.refusedDrops()).toEqual([ref]);
    await runTask('driver', async () => {
      using _vmResv = await vm.resv.lock();
      ref.put();
    });
    expect(vm.refusedDrops()).toEqual([]);
    vm.close();
  });

  it('close() names every reference still held, refused or not, with where each was obtained', () => {
    const vm = new Vm({ policy: 'deferred', ...space });
    const a = new Bo(0x1000, { name: 'a' });
    const b = new Bo(0x1000, { name: 'b' });
    const refA = vm.obtain(a);
    const refB = vm.obtain(b);
    let error: unknown;
    try {
      vm.close();
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'ERR_VM_BUSY', references: [refA, refB] });
    const message = (error as Error).message;
    expect(message).toContain(`the pair of BO 'a', obtained ${refA.obtainedAt}`);
    expect(message).toContain(`the pair of BO 'b', obtained ${refB.obtainedAt}`);
    expect(refA.obtainedAt).toMatch(/refused-drop\.test\.ts:\d+/);
    refA.put();
    refB.put();
    expect(vm.refusedDrops()).toEqual([]);
  });
});
