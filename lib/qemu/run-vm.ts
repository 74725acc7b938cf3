// SPDX-License-Identifier: MIT
// Runs one command in a fresh VM and returns its exit status. The guest's stdout and stderr are files in
// the run directory (a 9p share) that grow as the command writes; they are copied to the caller's streams
// while the VM runs, and drained completely after QEMU exits, so no output is lost or reordered per stream.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseInitramfs, extraModulesLayer, prepareKernel } from './boot-files.js';
import { cacheRoot as defaultCacheRoot } from './cache.js';
import type { PreparedKernel } from './debian-kernel.js';
import { VmRunnerError } from './errors.js';
import { CONSOLE_FAILURE_MARKER, renderRunSpec } from './guest-init.js';
import { GUEST_ARCHES } from './guest-arch.js';
import { guestRoot } from './guest-root.js';
import { BUSYBOX_TOOL, requireTools, SETPRIV_TOOL } from './host-tools.js';
import { kvmUsable } from './accel.js';
import { qemuArgs } from './qemu-command.js';
import type { StepLog } from './step-log.js';
import { uncompressedKernel } from './vmlinux.js';
import { DEFAULT_MEM_MIB, DEFAULT_TIMEOUT_S, type KernelChoice, type VmArch } from './vm-args.js';
import { writableDirs } from './writable-dirs.js';

/** Options of one VM run. */
export interface VmRunOptions {
  /** The command and its arguments, looked up on the PATH of `env` inside the guest. */
  command: readonly string[];
  /**
   * The guest's architecture (default x64). An x64 guest runs the host's own userland; an arm64 guest is
   * emulated (TCG, slow) and runs an arm64 userland of Debian's (busybox, libc, libstdc++, Node.js),
   * downloaded and cached on first use: the command is looked up there, not on the host.
   */
  arch?: VmArch;
  /** Which kernel boots: a Debian suite's (`{ kind: 'debian', suite: 'sid' }`, fetched and cached on first use) or a kernel at a path; default Debian bookworm's. */
  kernel?: KernelChoice;
  /** Guest memory in MiB (default 2048). */
  memMiB?: number;
  /** Seconds before the VM is killed and the run fails with ERR_QEMU_TIMEOUT; 0 for no limit. */
  timeoutS?: number;
  /** Keep the run directory (console.log, stdout, stderr, status, spec.sh) instead of deleting it. */
  keep?: boolean;
  /**
   * Working directory, shared read-write at the same path (default: process.cwd()). On x64 the rest of the
   * host's `/` is read-only, except /tmp, `$HOME` and the XDG base directories `env` names: the guest writes
   * there in a layer of its own over the host's contents, discarded when the VM exits. On arm64 the rest is
   * the arm64 userland, with such a layer over all of it.
   */
  cwd?: string;
  /** Environment of the command (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * More modules to load after vgem: in-tree names (with their dependencies) or paths of .ko files of
   * the user's own, loaded in the order given. A function is called with the kernel about to boot (to
   * build a module for exactly that release, say) and returns the list.
   */
  extraModules?: readonly string[] | ((kernel: PreparedKernel) => Promise<readonly string[]>);
  /** Where the command's standard output goes (default: this process's stdout). */
  stdout?: NodeJS.WritableStream;
  /** Where the command's standard error goes (default: this process's stderr). */
  stderr?: NodeJS.WritableStream;
  /** Progress lines (first use, downloads) and, when it has `bytes`, download progress; default: the stderr stream. */
  log?: StepLog;
  /** Aborting kills the VM; the run then fails with ERR_QEMU_ABORTED. */
  signal?: AbortSignal;
  /** Cache root (default: the XDG cache directory). */
  cacheRoot?: string;
}

/** How a run ended when the command did run. */
export interface VmRunResult {
  /** The command's exit status (128 + N when a signal N killed it). */
  exitCode: number;
  /** What was booted, e.g. "sid (Linux 7.2.13+deb14-amd64, Debian 7.2.13-1)". */
  kernelLabel: string;
  /** The run directory, when `keep` was set. */
  runDir: string | undefined;
  /** Milliseconds from starting QEMU to its exit. */
  vmMs: number;
}

const POLL_MS = 40;
const CONSOLE_TAIL_LINES = 25;

/**
 * Boots the kernel, runs the command as the calling user with the given environment and working directory,
 * and resolves with its exit status. Rejects with a VmRunnerError when the VM could not run the command: a
 * missing package, kernel or module problem, panic, timeout (the VM is killed), command not found.
 * QEMU never outlives the returned promise.
 */
export async function runInVm(options: VmRunOptions): Promise<VmRunResult> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const log = options.log ?? ((line: string) => void stderr.write(`${line}\n`));
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const timeoutS = options.timeoutS ?? DEFAULT_TIMEOUT_S;
  const root = options.cacheRoot ?? defaultCacheRoot();
  if (options.command.length === 0) throw new VmRunnerError('ERR_QEMU_USAGE', 'no command to run');
  if (cwd === '/') throw new VmRunnerError('ERR_QEMU_USAGE', 'the working directory is /, which is shared read-only; run from a project directory');
  options.signal?.throwIfAborted();

  const uid = process.getuid?.() ?? 0;
  const archName = options.arch ?? 'x64';
  const arch = GUEST_ARCHES[archName];
  const [qemu] = requireTools([arch.qemu], log);
  // The guest's userland: the host's own, or a root of the guest's architecture.
  const userland = arch.hostUserland
    ? { dir: '/', busybox: requireTools([BUSYBOX_TOOL], log)[0]!, setpriv: () => requireTools([SETPRIV_TOOL], log)[0] }
    : await guestRoot(archName, root, log).then((r) => ({ dir: r.dir, busybox: r.busybox, setpriv: () => r.setpriv }));
  const setprivPath = uid === 0 ? undefined : userland.setpriv();
  const kernel = await prepareKernel(options.kernel ?? { kind: 'debian', suite: 'bookworm' }, archName, root, log);
  const base = baseInitramfs(kernel, userland.busybox, root, log);

  const runDir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-vm-'));
  const keep = options.keep === true;
  try {
    const extraModules = typeof options.extraModules === 'function' ? await options.extraModules(kernel) : (options.extraModules ?? []);
    let initrd = base.path;
    if (extraModules.length > 0) {
      initrd = join(runDir, 'initramfs.cpio');
      writeFileSync(initrd, Buffer.concat([readFileSync(base.path), extraModulesLayer(kernel, base, extraModules)]));
    }
    writeFileSync(
      join(runDir, 'spec.sh'),
      renderRunSpec({
        cwd, uid, gid: process.getgid?.() ?? 0, groups: process.getgroups?.() ?? [], env, command: options.command, setprivPath,
        writableDirs: writableDirs(env, cwd), ownRoot: !arch.hostUserland,
      }),
    );
    // KVM only for the host's own architecture (probed for x64 guests; an arm64 guest is always emulated).
    const kvm = arch.hostUserland && (await kvmUsable(qemu!));
    // One vCPU under TCG: on a busy 2-core host a second vCPU made boots 2x slower (spinning on locks
    // held by a descheduled vCPU thread), and the in-VM work is one node process at a time.
    const vcpus = kvm ? Math.min(2, cpus().length) : 1;
    // An x86 bzImage is unpacked on the host once (see vmlinux.ts); QEMU unpacks an arm64 Image itself.
    const vmlinuz = archName === 'x64' ? (uncompressedKernel(kernel.vmlinuz, root) ?? kernel.vmlinuz) : kernel.vmlinuz;
    const args = qemuArgs({ arch: archName, kvm, memMiB: options.memMiB ?? DEFAULT_MEM_MIB, cpus: vcpus, vmlinuz, initrd, cwd, runDir, root: userland.dir });
    const outcome = await boot(qemu!, args, runDir, { stdout, stderr, timeoutS, signal: options.signal });
    const result = interpret(outcome, runDir, options.command, kernel.label, timeoutS);
    if (result instanceof VmRunnerError) throw result;
    return { exitCode: result, kernelLabel: kernel.label, runDir: keep ? runDir : undefined, vmMs: outcome.ms };
  } catch (err) {
    if (keep) log(`drm-gpuvm vm: run directory kept: ${runDir}`);
    throw err;
  } finally {
    if (!keep) rmSync(runDir, { recursive: true, force: true });
  }
}

interface BootOutcome {
  ms: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  console: string;
  qemuStderr: string;
  spawnError: Error | undefined;
}

async function boot(
  qemu: string,
  args: string[],
  runDir: string,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; timeoutS: number; signal: AbortSignal | undefined },
): Promise<BootOutcome> {
  const started = Date.now();
  const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killVm = () => void child.kill('SIGKILL');
  // A runner killed by an unhandled error or process.exit() must not leave QEMU behind.
  process.once('exit', killVm);
  const consoleChunks: Buffer[] = [];
  const qemuStderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => consoleChunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => qemuStderr.push(chunk));

  const tails = [new FileTail(join(runDir, 'stdout'), io.stdout), new FileTail(join(runDir, 'stderr'), io.stderr)];
  let timedOut = false;
  let aborted = false;
  const timer = io.timeoutS > 0 ? setTimeout(() => { timedOut = true; killVm(); }, io.timeoutS * 1000) : undefined;
  const onAbort = () => { aborted = true; killVm(); };
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const poller = setInterval(() => tails.forEach((t) => t.pump()), POLL_MS);

  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearInterval(poller);
  if (timer !== undefined) clearTimeout(timer);
  io.signal?.removeEventListener('abort', onAbort);
  process.removeListener('exit', killVm);
  for (const t of tails) {
    t.pump();
    t.close();
  }
  const consoleText = Buffer.concat(consoleChunks).toString('utf8');
  writeFileSync(join(runDir, 'console.log'), consoleText);
  return {
    ms: Date.now() - started,
    exitCode: ended.code,
    signal: ended.signal,
    timedOut,
    aborted,
    console: consoleText,
    qemuStderr: Buffer.concat(qemuStderr).toString('utf8'),
    spawnError: ended.error,
  };
}

/** Copies what a growing file gained since the last call to a stream. */
class FileTail {
  readonly #path: string;
  readonly #out: NodeJS.WritableStream;
  #fd: number | undefined;
  #offset = 0;
  readonly #buf = Buffer.alloc(1 << 16);

  constructor(path: string, out: NodeJS.WritableStream) {
    this.#path = path;
    this.#out = out;
  }

  pump(): void {
    if (this.#fd === undefined) {
      try {
        this.#fd = openSync(this.#path, 'r');
      } catch {
        return; // the guest has not created it yet
      }
    }
    for (;;) {
      const n = readSync(this.#fd, this.#buf, 0, this.#buf.length, this.#offset);
      if (n === 0) return;
      this.#offset += n;
      this.#out.write(Buffer.from(this.#buf.subarray(0, n)));
    }
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Turns how QEMU ended, and what the guest left in the run directory, into an exit status or an error. */
function interpret(outcome: BootOutcome, runDir: string, command: readonly string[], kernelLabel: string, timeoutS: number): number | VmRunnerError {
  const consoleTail = outcome.console.replace(/\r/g, '').trimEnd().split('\n').slice(-CONSOLE_TAIL_LINES).join('\n');
  if (outcome.spawnError !== undefined) return new VmRunnerError('ERR_QEMU_BOOT', `cannot start QEMU: ${outcome.spawnError.message}`, { cause: outcome.spawnError });
  if (outcome.aborted) return new VmRunnerError('ERR_QEMU_ABORTED', 'the run was aborted; the VM was killed');
  if (outcome.timedOut) return new VmRunnerError('ERR_QEMU_TIMEOUT', `timed out after ${timeoutS} s; the VM was killed`, { consoleTail });
  const status = readText(join(runDir, 'status')).trim();
  const launch = readText(join(runDir, 'launch')).trim();
  if (launch === 'notfound') return new VmRunnerError('ERR_QEMU_COMMAND_NOT_FOUND', `${command[0]}: command not found in the VM (looked up on the command's PATH)`);
  if (launch === 'nocwd') return new VmRunnerError('ERR_QEMU_BOOT', 'the working directory does not exist in the VM');
  const exit = /^exit (\d+)$/.exec(status);
  if (exit !== null) return Number(exit[1]);
  const fail = /^fail (\w+) ([\s\S]*)$/.exec(status);
  if (fail !== null) return new VmRunnerError(fail[1] === 'module' ? 'ERR_QEMU_MODULE' : 'ERR_QEMU_BOOT', `${kernelLabel}: ${fail[2]}`, { consoleTail });
  const panic = /Kernel panic - not syncing:[^\n]*/.exec(outcome.console);
  if (panic !== null) return new VmRunnerError('ERR_QEMU_PANIC', `${kernelLabel}: ${panic[0].trim()}`, { consoleTail });
  const marker = outcome.console.split('\n').find((l) => l.includes(CONSOLE_FAILURE_MARKER));
  if (marker !== undefined) {
    const text = marker.slice(marker.indexOf(CONSOLE_FAILURE_MARKER) + CONSOLE_FAILURE_MARKER.length).trim();
    return new VmRunnerError(text.startsWith('module') ? 'ERR_QEMU_MODULE' : 'ERR_QEMU_BOOT', `${kernelLabel}: ${text}`, { consoleTail });
  }
  const how = outcome.signal !== null ? `was killed by ${outcome.signal}` : `exited with status ${outcome.exitCode}`;
  const qemuSaid = outcome.qemuStderr.trim();
  return new VmRunnerError('ERR_QEMU_BOOT', `QEMU ${how} before the command finished${qemuSaid === '' ? '' : `: ${qemuSaid}`}`, { consoleTail });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
