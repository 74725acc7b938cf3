// SPDX-License-Identifier: MIT
// `drm-gpuvm vm`: run a command against a real vgem device in a QEMU VM (see lib/qemu/).
import { cacheRoot, cacheStatus, formatCacheStatus } from '../qemu/cache.js';
import { VmRunnerError } from '../qemu/errors.js';
import { runInVm } from '../qemu/run-vm.js';
import { parseVmArgs, VM_USAGE } from '../qemu/vm-args.js';
import { takeWithVgpuvm, VGPUVM_USAGE, vgpuvmModulesFor } from '../qemu/vgpuvm.js';

/** Entry point of the `vm` subcommand; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  try {
    const { withVgpuvm, rest } = takeWithVgpuvm(argv);
    const invocation = parseVmArgs(rest);
    if (invocation.action === 'help') {
      process.stdout.write(VM_USAGE + VGPUVM_USAGE);
      return 0;
    }
    if (withVgpuvm && invocation.action === 'status') throw new VmRunnerError('ERR_QEMU_USAGE', '--with-vgpuvm does not apply to --status');
    if (invocation.action === 'status') {
      const status = cacheStatus(cacheRoot());
      process.stdout.write(invocation.json ? JSON.stringify(status, null, 2) + '\n' : formatCacheStatus(status));
      return 0;
    }
    // Ctrl-C or a TERM from a CI runner kills the VM before we exit.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const extraModules = withVgpuvm ? await vgpuvmModulesFor(invocation.kernel, cacheRoot(), (line) => void process.stderr.write(`${line}\n`)) : undefined;
    const result = await runInVm({
      extraModules,
      command: invocation.command,
      kernel: invocation.kernel,
      memMiB: invocation.memMiB,
      timeoutS: invocation.timeoutS,
      keep: invocation.keep,
      signal: abort.signal,
    });
    if (result.runDir !== undefined) process.stderr.write(`drm-gpuvm vm: run directory kept: ${result.runDir}\n`);
    return result.exitCode;
  } catch (err) {
    if (!(err instanceof VmRunnerError)) throw err;
    process.stderr.write(`drm-gpuvm vm: ${err.message}\n`);
    if (err.consoleTail !== undefined && err.consoleTail !== '') {
      process.stderr.write(`--- last lines of the guest console ---\n${err.consoleTail}\n---\n`);
    }
    return err.exitCode;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
