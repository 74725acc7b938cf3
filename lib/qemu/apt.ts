// SPDX-License-Identifier: MIT
// A private apt configuration: its own sources and package lists in a directory of ours, so that fetching a
// kernel from any Debian suite neither needs nor touches the host's apt setup. Only downloads; installs nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VmRunnerError } from './errors.js';
import type { DebianSuite } from './vm-args.js';

const MIRROR = 'http://deb.debian.org/debian';
const SECURITY_MIRROR = 'http://deb.debian.org/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** sources.list lines for a suite: bookworm with its updates and security pockets (the newest 6.1 is there). */
export function suiteSources(suite: DebianSuite): string[] {
  const line = (uri: string, dist: string) => `deb [signed-by=${KEYRING}] ${uri} ${dist} main`;
  switch (suite) {
    case 'bookworm':
      return [line(MIRROR, 'bookworm'), line(MIRROR, 'bookworm-updates'), line(SECURITY_MIRROR, 'bookworm-security')];
    case 'sid':
      return [line(MIRROR, 'sid')];
  }
}

/**
 * Parses a Depends field into package names, one array of alternatives per dependency:
 * `a (= 1), b | c` -> [['a'], ['b', 'c']].
 */
export function parseDepends(field: string): string[][] {
  return field
    .split(',')
    .map((dep) => dep.split('|').map((alt) => alt.trim().split(/[\s(:]/)[0]!).filter((n) => n !== ''))
    .filter((alts) => alts.length > 0);
}

/** apt-get with its state in `dir`; the host's apt.conf.d (proxies and the like) still applies. */
export class PrivateApt {
  readonly #dir: string;
  readonly #options: string[];

  constructor(dir: string, sources: readonly string[]) {
    this.#dir = dir;
    const lists = join(dir, 'lists');
    mkdirSync(join(lists, 'partial'), { recursive: true });
    mkdirSync(join(dir, 'archives', 'partial'), { recursive: true });
    writeFileSync(join(dir, 'sources.list'), sources.join('\n') + '\n');
    this.#options = [
      '-o', `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
      '-o', 'Dir::Etc::SourceParts=-',
      '-o', `Dir::State::Lists=${lists}`,
      '-o', `Dir::Cache::Archives=${join(dir, 'archives')}`,
      '-o', 'Dir::Cache::pkgcache=',
      '-o', 'Dir::Cache::srcpkgcache=',
      // The sid Release file on mirrors is often past Valid-Until; a snapshot-like mirror would refuse it.
      '-o', 'Acquire::Check-Valid-Until=false',
      '-o', 'Debug::NoLocking=true',
      // As root apt would download as _apt, which cannot write our directory; as anyone else it has no sandbox.
      ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []),
    ];
  }

  /** Fetches the package lists. */
  update(): void {
    this.#run(['update'], 'apt-get update');
  }

  /** Downloads packages (name or name=version) into `dest` and returns the .deb paths. */
  download(packages: readonly string[], dest: string): string[] {
    mkdirSync(dest, { recursive: true });
    const before = new Set(readdirSync(dest));
    this.#run(['download', ...packages], `apt-get download ${packages.join(' ')}`, dest);
    return readdirSync(dest).filter((n) => n.endsWith('.deb') && !before.has(n)).map((n) => join(dest, n));
  }

  #run(args: string[], what: string, cwd: string = this.#dir): void {
    const result = spawnSync('apt-get', ['-q', ...this.#options, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (result.error !== undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `${what}: ${result.error.message}`, { cause: result.error });
    if (result.status !== 0) {
      const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-6).join('\n');
      throw new VmRunnerError('ERR_QEMU_KERNEL', `${what} failed (exit ${result.status}):\n${tail}`);
    }
  }
}

/** Reads control fields of a .deb (dpkg-deb --field). */
export function debFields(deb: string, ...fields: string[]): Record<string, string> {
  const out = execFileSync('dpkg-deb', ['--field', deb, ...fields], { encoding: 'utf8' });
  const record: Record<string, string> = {};
  // Asked for one field, dpkg-deb prints only its value.
  if (fields.length === 1) {
    record[fields[0]!] = out.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
    return record;
  }
  let key: string | undefined;
  for (const line of out.split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m !== null) {
      key = m[1]!;
      record[key] = m[2]!;
    } else if (key !== undefined && /^\s/.test(line)) {
      record[key] += ` ${line.trim()}`;
    }
  }
  return record;
}

/** Unpacks a .deb's files into `dest` (dpkg-deb -x: no maintainer scripts, no root needed). */
export function extractDeb(deb: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  execFileSync('dpkg-deb', ['-x', deb, dest]);
}
