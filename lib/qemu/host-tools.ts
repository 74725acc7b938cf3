// SPDX-License-Identifier: MIT
// The host programs the runner needs, found on PATH, and installed with apt when we are root and can.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { VmRunnerError } from './errors.js';
import { isStaticElf } from './initramfs.js';

/** A host program and the Debian package that provides it. */
export interface HostTool {
  /** Executable name looked up on PATH, or an absolute path for a data file. */
  name: string;
  debianPackage: string;
  /** Extra acceptance test, e.g. "busybox must be the static build". */
  accept?: (path: string) => boolean;
}

/** busybox goes into an x64 guest's initramfs, so it must not depend on the host's libraries. (QEMU: guest-arch.ts.) */
export const BUSYBOX_TOOL: HostTool = {
  name: 'busybox',
  debianPackage: 'busybox-static',
  accept: (path) => isStaticElf(readFileSync(path)),
};
/** Needed to fetch Debian kernels. */
export const APT_TOOLS: readonly HostTool[] = [
  { name: 'apt-get', debianPackage: 'apt' },
  { name: 'dpkg-deb', debianPackage: 'dpkg' },
  { name: '/usr/share/keyrings/debian-archive-keyring.gpg', debianPackage: 'debian-archive-keyring' },
];
/** Decompressors for modules shipped as .ko.xz / .ko.zst. */
export const XZ_TOOL: HostTool = { name: 'xz', debianPackage: 'xz-utils' };
export const ZSTD_TOOL: HostTool = { name: 'zstd', debianPackage: 'zstd' };
/** Drops to the user's uid inside the guest when the runner is not root. */
export const SETPRIV_TOOL: HostTool = { name: 'setpriv', debianPackage: 'util-linux' };

/** Finds a tool: an absolute path that exists, or the first acceptable executable on PATH. */
export function findTool(tool: HostTool, path: string = process.env['PATH'] ?? ''): string | undefined {
  const candidates = tool.name.startsWith('/')
    ? [tool.name]
    : [...path.split(delimiter).filter((d) => d !== ''), '/usr/sbin', '/sbin'].map((dir) => join(dir, tool.name));
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    if (!tool.name.startsWith('/')) {
      try {
        accessSync(candidate, constants.X_OK);
      } catch {
        continue;
      }
    }
    if (tool.accept === undefined || tool.accept(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Returns the path of each tool, installing missing ones with apt-get when running as root (the output of
 * apt goes to stderr). Otherwise fails naming the exact packages to install.
 */
export function requireTools(tools: readonly HostTool[], log: (line: string) => void): string[] {
  let missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => t.debianPackage))];
    const aptGet = findTool({ name: 'apt-get', debianPackage: 'apt' });
    if (process.getuid?.() === 0 && aptGet !== undefined) {
      log(`drm-gpuvm vm: installing ${packages.join(' ')} with apt-get`);
      if (!aptInstall(aptGet, packages)) {
        spawnSync(aptGet, ['-qq', 'update'], { stdio: ['ignore', 2, 2] });
        aptInstall(aptGet, packages);
      }
      missing = missing.filter((t) => findTool(t) === undefined);
    }
    if (missing.length > 0) {
      const names = [...new Set(missing.map((t) => t.debianPackage))];
      throw new VmRunnerError(
        'ERR_QEMU_MISSING_PACKAGE',
        `missing ${missing.map((t) => t.name).join(', ')}: install the Debian package${names.length > 1 ? 's' : ''} ` +
          `${names.join(' ')} (apt-get install ${names.join(' ')})`,
      );
    }
  }
  return tools.map((t) => findTool(t)!);
}

function aptInstall(aptGet: string, packages: string[]): boolean {
  const result = spawnSync(aptGet, ['-y', '-qq', '--no-install-recommends', 'install', ...packages], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}
