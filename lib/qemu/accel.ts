// SPDX-License-Identifier: MIT
// KVM when it really works, TCG otherwise. An openable /dev/kvm is not enough: some hosts expose a KVM
// that cannot run a standard guest (on this project's machines QEMU aborts setting an MSR at vCPU reset),
// so QEMU is started once, paused (-S), and must survive its vCPU set-up.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

// A broken KVM makes QEMU abort within tens of milliseconds; a working one sits paused.
const SURVIVE_MS = 700;

let probed: Promise<boolean> | undefined;

/** Resolves true when QEMU can run a q35 guest with KVM on this host; probed once per process. */
export function kvmUsable(qemu: string): Promise<boolean> {
  probed ??= probe(qemu);
  return probed;
}

async function probe(qemu: string): Promise<boolean> {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
  } catch {
    return false;
  }
  const child = spawn(qemu, ['-machine', 'q35,accel=kvm', '-cpu', 'host', '-m', '64', '-nodefaults', '-no-user-config', '-display', 'none', '-S'], {
    stdio: 'ignore',
  });
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(true);
    }, SURVIVE_MS);
    const failed = () => {
      clearTimeout(timer);
      resolve(false);
    };
    child.once('error', failed);
    child.once('exit', failed);
  });
}
