// SPDX-License-Identifier: MIT
// KVM when it really works, TCG otherwise. An openable /dev/kvm is not enough: some hosts expose a KVM
// that cannot run a standard guest (on this project's machines QEMU aborts setting an MSR at vCPU reset),
// so QEMU is started once, paused (-S), and must get through machine set-up: its QMP monitor answers only
// from the main loop, which starts after the reset that loads the vCPU registers into KVM.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

// A healthy QEMU answers within a second; a loaded host may take several. Past this, TCG is the safe bet.
const PROBE_LIMIT_MS = 15_000;

let probed: Promise<boolean> | undefined;

/** Resolves true when QEMU can run a q35 guest with KVM on this host; probed once per process. */
export function kvmUsable(qemu: string): Promise<boolean> {
  probed ??= probeKvm(qemu);
  return probed;
}

/** The probe itself, uncached; `devKvm` is a parameter for tests. */
export async function probeKvm(qemu: string, devKvm = '/dev/kvm'): Promise<boolean> {
  try {
    closeSync(openSync(devKvm, 'r+'));
  } catch {
    return false;
  }
  const child = spawn(
    qemu,
    ['-machine', 'q35,accel=kvm', '-cpu', 'host', '-m', '64', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-qmp', 'stdio'],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  return new Promise<boolean>((resolve) => {
    let output = '';
    let asked = false;
    const finish = (usable: boolean) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(usable);
    };
    const timer = setTimeout(() => finish(false), PROBE_LIMIT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // The greeting comes first; the reply to qmp_capabilities proves the main loop runs.
      if (!asked && output.includes('"QMP"')) {
        asked = true;
        child.stdin.write('{"execute":"qmp_capabilities"}\n');
      }
      if (/"return"\s*:/.test(output)) finish(true);
    });
    child.stdin.on('error', () => undefined);
    child.once('error', () => finish(false));
    child.once('exit', () => finish(false));
  });
}
