// SPDX-License-Identifier: MIT
// `drm-gpuvm vm`: run a command against a real vgem device in a QEMU VM (see lib/qemu/). The grammar is
// parseVmArgs, kept pure so every case can be tested without a VM.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { cacheRoot, cacheStatus, formatCacheStatus } from '../qemu/cache.js';
import { VmRunnerError } from '../qemu/errors.js';
import { runInVm } from '../qemu/run-vm.js';
import { DEBIAN_SUITES, DEFAULT_MEM_MIB, DEFAULT_TIMEOUT_S, VM_ARCHES, type DebianSuite, type KernelChoice, type VmArch } from '../qemu/vm-args.js';
import { vgpuvmModulesFor } from '../qemu/vgpuvm.js';
import { writeJson } from './json-output.js';
import { progressReporter } from './progress.js';
import { parseCommandLine, runCommand, UsageError, wholeNumber, type CommandLine, type CommandSpec } from './command-line.js';

/** What the command line asks for. */
export type VmInvocation =
  | { action: 'help' }
  | { action: 'status'; json: boolean }
  | { action: 'run'; arch: VmArch; kernel: KernelChoice; memMiB: number; timeoutS: number; keep: boolean; withVgpuvm: boolean; command: string[] };

/** Usage text of `drm-gpuvm vm`. */
export const VM_USAGE = `usage: drm-gpuvm vm [--arch x64|arm64] [--kernel bookworm|sid|PATH] [--mem MiB] [--timeout S] [--keep] [--with-vgpuvm] -- COMMAND [ARGS...]
       drm-gpuvm vm --status [--json]

Boots a Debian kernel under QEMU with vgem loaded and runs COMMAND in it: the host's / is shared read-only,
the current directory read-write at the same path; same user id, environment and working directory.
Exits with COMMAND's exit status; 2 for a usage error, 124 on timeout, 125 when the VM itself failed,
127 when COMMAND is not found.

  --arch A      x64 (default): the host's own userland in the guest; arm64: an emulated arm64 guest
                (TCG, several times slower) whose / is an arm64 userland from Debian sid (busybox, libc,
                Node.js; downloaded once): COMMAND comes from there, only the current directory from the host
  --kernel K    bookworm (default: Debian 12's newest 6.1 kernel), sid (the kernel Debian unstable's
                linux-image-amd64, or -arm64, depends on), or PATH: a directory holding a vmlinuz and a modules
                tree (an extracted kernel package, or lib/modules/VERSION with vmlinuz inside it)
  --mem MiB     guest memory (default ${DEFAULT_MEM_MIB})
  --timeout S   kill the VM and exit 124 after S seconds (default ${DEFAULT_TIMEOUT_S}; 0 = no limit)
  --keep        keep the run directory (console log, guest output, initramfs) and print where it is
  --with-vgpuvm also load vgpuvm, a test DRM driver running the kernel's drm_gpuvm behind VM_BIND
                (needs --kernel sid; the first use builds it in a sid chroot, about two minutes)
  --status      show what is cached (kernels, versions, sizes); --json for one JSON object
`;

const VM_SPEC = {
  name: 'vm',
  usage: VM_USAGE,
  command: true,
  options: {
    arch: { type: 'string' },
    kernel: { type: 'string' },
    mem: { type: 'string' },
    timeout: { type: 'string' },
    keep: { type: 'boolean' },
    'with-vgpuvm': { type: 'boolean' },
    status: { type: 'boolean' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec<Record<string, { type: 'string' | 'boolean' }>>;

/** The options that only make sense for a run, in the order a refusal names the first one given. */
const RUN_ONLY = ['arch', 'kernel', 'mem', 'timeout', 'keep', 'with-vgpuvm'] as const;

/**
 * Parses the arguments that follow `drm-gpuvm vm` (relative kernel paths against `cwd`). Throws UsageError
 * on anything it does not understand, naming the offending argument.
 */
export function parseVmArgs(argv: readonly string[], cwd: string = process.cwd()): VmInvocation {
  const line = parseCommandLine(VM_SPEC, argv);
  return line === 'help' ? { action: 'help' } : vmInvocation(line, cwd);
}

function vmInvocation({ values, command }: CommandLine<typeof VM_SPEC.options>, cwd: string): Exclude<VmInvocation, { action: 'help' }> {
  const arch = parseArch(values.arch);
  const kernel = parseKernel(values.kernel, cwd);
  const memMiB = wholeNumber('mem', values.mem, { min: 256, max: 1 << 20, fallback: DEFAULT_MEM_MIB });
  const timeoutS = wholeNumber('timeout', values.timeout, { min: 0, max: 7 * 24 * 3600, fallback: DEFAULT_TIMEOUT_S });
  if (values.status === true) {
    if (command !== undefined) throw new UsageError('--status takes no command');
    const runOption = RUN_ONLY.find((name) => values[name] !== undefined);
    if (runOption !== undefined) throw new UsageError(`--${runOption} does not apply to --status`);
    return { action: 'status', json: values.json === true };
  }
  if (values.json === true) throw new UsageError('--json applies only to --status');
  if (command === undefined) throw new UsageError('no command: drm-gpuvm vm [options] -- COMMAND [ARGS...]');
  if (command.length === 0) throw new UsageError('no command after --');
  const withVgpuvm = values['with-vgpuvm'] === true;
  if (withVgpuvm && !(kernel.kind === 'debian' && kernel.suite === 'sid')) {
    throw new UsageError('--with-vgpuvm needs --kernel sid (vgpuvm is built against Debian sid\'s kernel headers, and needs CONFIG_DRM_GPUVM)');
  }
  if (withVgpuvm && arch !== 'x64') throw new UsageError('--with-vgpuvm is for x64 guests only (vgpuvm is built for the host\'s architecture)');
  return { action: 'run', arch, kernel, memMiB, timeoutS, keep: values.keep === true, withVgpuvm, command };
}

function parseArch(value: string | undefined): VmArch {
  if (value === undefined) return 'x64';
  if ((VM_ARCHES as readonly string[]).includes(value)) return value as VmArch;
  throw new UsageError(`--arch ${value}: expected ${VM_ARCHES.join(' or ')}`);
}

function parseKernel(value: string | undefined, cwd: string): KernelChoice {
  if (value === undefined) return { kind: 'debian', suite: 'bookworm' };
  if (value === '') throw new UsageError('--kernel needs bookworm, sid or a path');
  if ((DEBIAN_SUITES as readonly string[]).includes(value)) return { kind: 'debian', suite: value as DebianSuite };
  return { kind: 'path', path: resolve(cwd, value) };
}

/** A kernel PATH that is not a directory is a mistyped argument (a usage error), not a VM failure. */
function checkKernelPath(kernel: KernelChoice, given: string): void {
  if (kernel.kind !== 'path') return;
  let isDirectory: boolean;
  try {
    isDirectory = statSync(kernel.path).isDirectory();
  } catch {
    throw new UsageError(`--kernel ${given}: neither bookworm nor sid, and there is no ${kernel.path}`);
  }
  if (!isDirectory) throw new UsageError(`--kernel ${given}: ${kernel.path} is not a directory (PATH holds a vmlinuz and a modules tree)`);
}

/** Entry point of the `vm` subcommand; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  return runCommand(VM_SPEC, argv, async (line) => {
    const invocation = vmInvocation(line, process.cwd());
    if (invocation.action === 'status') {
      const status = cacheStatus(cacheRoot());
      if (invocation.json) writeJson(status);
      else process.stdout.write(formatCacheStatus(status));
      return 0;
    }
    checkKernelPath(invocation.kernel, line.values.kernel ?? '');
    return runVm(invocation);
  });
}

async function runVm(invocation: Extract<VmInvocation, { action: 'run' }>): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  const progress = progressReporter();
  try {
    // Ctrl-C or a TERM from a CI runner kills the VM before we exit.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const modules = invocation.withVgpuvm ? await vgpuvmModulesFor(invocation.kernel, cacheRoot(), progress.log) : [];
    const result = await runInVm({
      log: progress.log,
      // Called once the kernel and initramfs are ready, just before the boot: the first-use steps are over,
      // and the guest's output must not share a line with them.
      extraModules: () => {
        progress.end();
        return Promise.resolve(modules);
      },
      command: invocation.command,
      arch: invocation.arch,
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
    // A run that failed before the boot still closes its last step.
    progress.end();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
