// SPDX-License-Identifier: MIT
// `drm-gpuvm vm` end to end, on the host: each test boots a real VM (a few seconds with a warm cache; the
// first run downloads the kernels). It needs qemu-system-x86, busybox-static and apt access to Debian, which
// the runner installs itself when run as root; without them the suite says so and does not count as passed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheRoot, cacheStatus } from '../../lib/qemu/cache.js';
import { runInVm, type VmRunOptions } from '../../lib/qemu/run-vm.js';
import { DEBIAN_SUITES } from '../../lib/qemu/vm-args.js';
import { fakeModule } from '../unit/qemu/elf-fixture.js';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const BOOT_MS = 300_000; // generous: the first boot of a kernel downloads it; a loaded 2-core host is slow

/** Collects everything written to it. */
class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

// A working directory of its own inside the repository (.vm-results is ignored by git).
mkdirSync(join(repo, '.vm-results'), { recursive: true });
const work = mkdtempSync(join(repo, '.vm-results', 'vm-runner-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(command: string[], options: Partial<VmRunOptions> = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const result = await runInVm({ command, cwd: work, stdout, stderr, log: (line) => void stderr.write(`${line}\n`), ...options });
  return { ...result, stdout: stdout.text, stderr: stderr.text };
}

describe('drm-gpuvm vm (bookworm)', () => {
  it('runs true and exits 0', async () => {
    expect((await run(['true'])).exitCode).toBe(0);
  }, BOOT_MS);

  it('passes the command exit status back', async () => {
    expect((await run(['sh', '-c', 'exit 42'])).exitCode).toBe(42);
  }, BOOT_MS);

  it('returns stdout and stderr separately and completely, the last bytes included', async () => {
    const r = await run(['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; printf tail; echo oops >&2']);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(2001);
    expect(lines[1999]).toBe('line 1999');
    expect(lines[2000]).toBe('tail');
    expect(r.stderr).toContain('oops\n');
    expect(r.stdout).not.toContain('oops');
  }, BOOT_MS);

  it('gives the command exactly the environment it was given, and its PATH', async () => {
    const r = await run(['sh', '-c', 'echo "$MARKER|${UNSET-unset}|$PATH"'], { env: { MARKER: "a b 'c'", PATH: '/usr/bin:/bin' } });
    expect(r.stdout).toBe("a b 'c'|unset|/usr/bin:/bin\n");
  }, BOOT_MS);

  it('runs in the same working directory, shared read-write with the host', async () => {
    const r = await run(['sh', '-c', 'pwd; echo from-guest > written.txt']);
    expect(r.stdout).toBe(`${work}\n`);
    expect(readFileSync(join(work, 'written.txt'), 'utf8')).toBe('from-guest\n');
  }, BOOT_MS);

  it('shares the rest of the host read-only', async () => {
    writeFileSync(join(work, 'probe'), '');
    const r = await run(['sh', '-c', `cat ${join(work, 'probe')} && test -r ${repo}/package.json && touch /usr/drm-gpuvm-probe 2>/dev/null; echo $?`]);
    expect(r.stdout).toBe('1\n');
  }, BOOT_MS);

  it("sees the host's /tmp, while its own writes to /tmp stay in the guest", async () => {
    const hostTmp = mkdtempSync(join(tmpdir(), 'vm-runner-tmp-'));
    try {
      writeFileSync(join(hostTmp, 'from-host'), 'hello');
      const r = await run(['sh', '-c', `cat ${hostTmp}/from-host; echo guest > ${hostTmp}/from-guest && cat ${hostTmp}/from-guest`]);
      expect(r.stdout).toBe('helloguest\n');
      expect(existsSync(join(hostTmp, 'from-guest'))).toBe(false);
    } finally {
      rmSync(hostTmp, { recursive: true, force: true });
    }
  }, BOOT_MS);

  it("gives $HOME and the XDG directories a writable layer: the host's files show, the guest's writes stay in the guest", async () => {
    // Beside the working directory, not in it: the working directory itself is shared read-write.
    const home = mkdtempSync(join(repo, '.vm-results', 'vm-runner-home-'));
    const state = mkdtempSync(join(repo, '.vm-results', 'vm-runner-state-'));
    try {
      writeFileSync(join(home, 'from-host'), 'hello');
      const script = 'cat "$HOME/from-host"; mkdir -p "$HOME/.npm/_npx" && echo npx > "$HOME/.npm/_npx/lock" && cat "$HOME/.npm/_npx/lock"; '
        + 'echo state > "$XDG_STATE_HOME/s" && cat "$XDG_STATE_HOME/s"; stat -c %u "$HOME"';
      const r = await run(['sh', '-c', script], { env: { PATH: process.env.PATH, HOME: home, XDG_STATE_HOME: state } });
      expect(r.stdout).toBe(`hellonpx\nstate\n${process.getuid?.()}\n`);
      expect(readdirSync(home)).toEqual(['from-host']);
      expect(readdirSync(state)).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }
  }, BOOT_MS);

  it('has /dev/fd and /dev/stdin, for process substitution', async () => {
    const r = await run(['bash', '-c', 'cat <(echo substituted); echo piped | cat /dev/stdin']);
    expect(r.stdout).toBe('substituted\npiped\n');
  }, BOOT_MS);

  it('runs as the same user, with vgem card and render nodes present', async () => {
    const r = await run(['sh', '-c', 'id -u; ls /dev/dri']);
    expect(r.stdout).toBe(`${process.getuid?.()}\ncard0\nrenderD128\n`);
  }, BOOT_MS);

  it('fails with ERR_QEMU_COMMAND_NOT_FOUND and exit code 127 for a missing command', async () => {
    await expect(run(['drm-gpuvm-no-such-command'])).rejects.toMatchObject({ code: 'ERR_QEMU_COMMAND_NOT_FOUND', exitCode: 127 });
  }, BOOT_MS);

  it('tells a command that exits 127 by itself from a missing command', async () => {
    expect((await run(['sh', '-c', 'exit 127'])).exitCode).toBe(127);
  }, BOOT_MS);

  it('kills the VM on timeout, fails with exit code 124 and leaves no QEMU running', async () => {
    const started = Date.now();
    let runDir = '';
    await expect(run(['sleep', '600'], { timeoutS: 15, keep: true, log: (line) => {
      runDir = /run directory kept: (\S+)/.exec(line)?.[1] ?? runDir;
    } })).rejects.toMatchObject({ code: 'ERR_QEMU_TIMEOUT', exitCode: 124 });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(runDir).not.toBe('');
    expect(qemuProcessesUsing(runDir)).toEqual([]);
    rmSync(runDir, { recursive: true, force: true });
  }, BOOT_MS);

  it('reports a kernel panic in the guest as ERR_QEMU_PANIC', async () => {
    await expect(run(['sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 30'])).rejects.toMatchObject({
      code: 'ERR_QEMU_PANIC', exitCode: 125, message: expect.stringContaining('Kernel panic'),
    });
  }, BOOT_MS);

  it('reports a module that fails to load as ERR_QEMU_MODULE, naming it', async () => {
    const bogus = join(work, 'bogus.ko');
    writeFileSync(bogus, fakeModule('bogus', []));
    await expect(run(['true'], { extraModules: [bogus] })).rejects.toMatchObject({
      code: 'ERR_QEMU_MODULE', exitCode: 125, message: expect.stringContaining('insmod bogus failed'),
    });
  }, BOOT_MS);

  it('loads extra in-tree modules after their dependencies, and shows the guest its modules', async () => {
    // bochs needs ttm and the DRM helpers, none of which vgem pulls in.
    const r = await run(['sh', '-c', 'cut -d" " -f1 /proc/modules | grep -x "bochs\\|ttm" | sort; ls /tmp/drm-gpuvm-vm/modules/bochs.ko'], { extraModules: ['bochs'] });
    expect(r.stdout).toBe('bochs\nttm\n/tmp/drm-gpuvm-vm/modules/bochs.ko\n');
  }, BOOT_MS);

  it('lists the kernel it booted in --status', () => {
    expect(cacheStatus(cacheRoot()).kernels.map((k) => k.suite)).toContain('bookworm');
  });
});

describe.each(DEBIAN_SUITES)('drm-gpuvm vm --kernel %s, through the CLI', (suite) => {
  it('opens /dev/dri/card0 with our API and reads the driver name vgem', () => {
    const script = `import('${repo}/dist/index.js').then((m) => { const d = m.openDevice('/dev/dri/card0'); console.log(d.driver, d.nodeType); d.close(); })`;
    const r = spawnSync(process.execPath, [join(repo, 'dist/cli/main.js'), 'vm', '--kernel', suite, '--', process.execPath, '-e', script], { cwd: work, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/drm-gpuvm vm:.*(fail|error)/i);
    expect(r.stdout).toBe('vgem card\n');
    expect(r.status).toBe(0);
  }, BOOT_MS);
});

// arm64 under TCG: its own userland (Debian sid's busybox, libc and Node.js), only the working directory from the host.
describe('drm-gpuvm vm --arch arm64', () => {
  it('runs the command on an arm64 kernel and userland, passes its status and both streams back, and shares the cwd read-write', async () => {
    const script = 'uname -m; echo to-stderr >&2; echo written-in-guest > from-guest.txt; test -e /dev/dri/card0 && exit 3';
    const r = await run(['sh', '-c', script], { arch: 'arm64', kernel: { kind: 'debian', suite: 'sid' } });
    expect(r.stdout).toBe('aarch64\n');
    expect(r.stderr).toContain('to-stderr\n');
    expect(r.exitCode).toBe(3);
    expect(r.kernelLabel).toMatch(/arm64/);
    expect(readFileSync(join(work, 'from-guest.txt'), 'utf8')).toBe('written-in-guest\n');
  }, BOOT_MS);

  it("looks the command up in the arm64 userland, not on the host: the host's own programs are not there", async () => {
    // QEMU is on the host's PATH (it runs this VM), never in the guest's userland.
    await expect(run(['qemu-system-aarch64', '--version'], { arch: 'arm64', kernel: { kind: 'debian', suite: 'sid' } })).rejects.toMatchObject({
      code: 'ERR_QEMU_COMMAND_NOT_FOUND', exitCode: 127,
    });
  }, BOOT_MS);

  it.each(DEBIAN_SUITES)('through the CLI with --kernel %s: opens /dev/dri/card0 from arm64 Node with the arm64 prebuild, reads vgem', (suite) => {
    const script = `import('${repo}/dist/index.js').then((m) => { const d = m.openDevice('/dev/dri/card0'); console.log(d.driver, d.nodeType, process.arch); d.close(); })`;
    // The guest sees only the working directory of the host: run from the repository.
    const r = spawnSync(process.execPath, [join(repo, 'dist/cli/main.js'), 'vm', '--arch', 'arm64', '--kernel', suite, '--', 'node', '-e', script], { cwd: repo, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/drm-gpuvm vm:.*(fail|error)/i);
    expect(r.stdout).toBe('vgem card arm64\n');
    expect(r.status).toBe(0);
  }, BOOT_MS);
});

function qemuProcessesUsing(runDir: string): string[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      return existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(runDir);
    } catch {
      return false;
    }
  });
}
