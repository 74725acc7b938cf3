// SPDX-License-Identifier: MIT
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeKvm } from '../../../lib/qemu/accel.js';

const dir = mkdtempSync(join(tmpdir(), 'accel-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Stand-ins for qemu-system-x86_64: the probe only talks QMP on stdio.
function fakeQemu(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('KVM probe', () => {
  it('takes KVM when QEMU gets through set-up and its monitor answers', async () => {
    const healthy = fakeQemu('healthy', `echo '{"QMP": {"version": {}}}'; read line; echo '{"return": {}}'; read more`);
    expect(await probeKvm(healthy, '/dev/null')).toBe(true);
  });

  it('refuses KVM when QEMU dies during set-up, even after greeting', async () => {
    const broken = fakeQemu('broken', `echo '{"QMP": {"version": {}}}'; echo 'failed to set MSR' >&2; exit 134`);
    expect(await probeKvm(broken, '/dev/null')).toBe(false);
  });

  it('refuses KVM without a usable KVM device, without starting QEMU', async () => {
    expect(await probeKvm(join(dir, 'never-run'), join(dir, 'no-such-kvm'))).toBe(false);
  });
});
