// SPDX-License-Identifier: MIT
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INIT_SCRIPT, renderRunSpec, shellQuote, type RunSpec } from '../../../lib/qemu/guest-init.js';

const dir = mkdtempSync(join(tmpdir(), 'guest-init-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Sources a rendered spec in a real shell, with the program it execs swapped for one that prints its
// argv NUL-separated: what the guest would run, word for word.
function wordsOf(spec: RunSpec): { cwd: string; uid: string; argv: string[] } {
  const printer = join(dir, 'print-args');
  writeFileSync(printer, '#!/bin/sh\nprintf "%s\\0" "$@"\n');
  chmodSync(printer, 0o755);
  const file = join(dir, 'spec.sh');
  writeFileSync(file, renderRunSpec(spec).replace('exec /bin/env', `exec ${printer} /bin/env`));
  const out = execFileSync('/bin/sh', ['-c', `. "${file}"; printf '%s\\0%s\\0' "$vm_cwd" "$vm_uid"; run_command`], { encoding: 'latin1' });
  const [cwd, uid, ...argv] = out.split('\0').slice(0, -1);
  return { cwd: cwd!, uid: uid!, argv };
}

const base: RunSpec = { cwd: '/work/p', uid: 0, gid: 0, groups: [0], env: { PATH: '/usr/bin:/bin' }, command: ['true'], setprivPath: undefined, writableDirs: [], ownRoot: false };

describe('the run spec /init sources', () => {
  it('runs the command with exactly the given environment (env -i), chrooted into the host root', () => {
    const { argv } = wordsOf({ ...base, env: { PATH: '/usr/bin', HOME: '/root' } });
    expect(argv.slice(0, 6)).toEqual(['/bin/env', '-i', 'PATH=/usr/bin', 'HOME=/root', '/bin/chroot', '/host']);
  });

  it('hands the working directory and the command to the launcher as separate words', () => {
    const { argv, cwd, uid } = wordsOf({ ...base, command: ['node', '-e', 'x'] });
    expect(cwd).toBe('/work/p');
    expect(uid).toBe('0');
    expect(argv.slice(-5)).toEqual(['drm-gpuvm-vm', '/work/p', 'node', '-e', 'x']);
  });

  it('keeps every byte of awkward arguments and values: quotes, spaces, newlines, $, backslashes', () => {
    const nasty = `it's "a" $HOME \\ \`x\` \n line2 *`;
    const { argv } = wordsOf({ ...base, env: { V: nasty }, command: ['echo', nasty, ''] });
    expect(argv).toContain(`V=${nasty}`);
    expect(argv.slice(-2)).toEqual([nasty, '']);
  });

  it('leaves out unset variables and names a shell could not carry', () => {
    const { argv } = wordsOf({ ...base, env: { KEEP: '1', GONE: undefined, 'A=B': 'x' } });
    expect(argv.filter((w) => w.includes('GONE') || w.startsWith('A=B'))).toEqual([]);
    expect(argv).toContain('KEEP=1');
  });

  it('drops to the user with setpriv when not root, supplementary groups included', () => {
    const { argv } = wordsOf({ ...base, uid: 1000, gid: 100, groups: [100, 44], setprivPath: '/usr/bin/setpriv' });
    const at = argv.indexOf('/host') + 1;
    expect(argv.slice(at, at + 5)).toEqual(['/usr/bin/setpriv', '--reuid=1000', '--regid=100', '--groups=100,44', '--']);
  });

  it('clears supplementary groups for a user without any', () => {
    const { argv } = wordsOf({ ...base, uid: 1000, gid: 100, groups: [], setprivPath: '/usr/bin/setpriv' });
    expect(argv).toContain('--clear-groups');
  });

  it('lists the directories that get a writable layer, one per line, each byte kept', () => {
    const dirs = ['/root', "/home/it's a \\ $dir"];
    const file = join(dir, 'layers.sh');
    writeFileSync(file, renderRunSpec({ ...base, writableDirs: dirs }));
    const out = execFileSync('/bin/sh', ['-c', `. "${file}"; printf '%s\\n' "$vm_writable" | while IFS= read -r d; do printf '%s\\0' "$d"; done`], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(dirs);
  });

  it('refuses a writable directory that is relative or holds a newline', () => {
    expect(() => renderRunSpec({ ...base, writableDirs: ['home'] })).toThrow('absolute');
    expect(() => renderRunSpec({ ...base, writableDirs: ['/a\nb'] })).toThrow('absolute');
  });

  it('asks for a writable layer over the whole root only when the root is the guest\'s own', () => {
    const layerFlag = (ownRoot: boolean) => {
      const file = join(dir, 'root-layer.sh');
      writeFileSync(file, renderRunSpec({ ...base, ownRoot }));
      return execFileSync('/bin/sh', ['-c', `. "${file}"; printf '%s' "$vm_root_layer"`], { encoding: 'utf8' });
    };
    expect(layerFlag(true)).toBe('1');
    expect(layerFlag(false)).toBe('0');
  });

  it('refuses a non-root run without setpriv', () => {
    expect(() => renderRunSpec({ ...base, uid: 1000 })).toThrow('setprivPath');
  });
});

describe('shellQuote', () => {
  it('refuses a NUL byte, which no shell word can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(TypeError);
  });
});

describe('/init', () => {
  it('is a shell script that parses', () => {
    const file = join(dir, 'init');
    writeFileSync(file, INIT_SCRIPT);
    expect(() => execFileSync('/bin/sh', ['-n', file])).not.toThrow();
  });

  it('reports the exit status, then powers off', () => {
    expect(INIT_SCRIPT).toMatch(/echo "exit \$\?" > \/run\/status\nsync\npoweroff -f\n$/);
  });
});
