// SPDX-License-Identifier: MIT
// A private apt configuration: its own sources and package lists in a directory of ours, so that fetching a
// kernel from any Debian suite neither needs nor touches the host's apt setup. Only downloads; installs nothing.
import { execFileSync, spawn } from 'node:child_process';
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

/**
 * apt-get with its state in `dir`, for one Debian architecture (amd64, arm64) whatever the host's; the
 * host's apt.conf.d (proxies and the like) still applies.
 */
export class PrivateApt {
  readonly #dir: string;
  readonly #options: string[];

  constructor(dir: string, sources: readonly string[], architecture: string) {
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
      // apt's binary caches of the lists, kept here: built once by the first command, read by the others.
      '-o', `Dir::Cache::pkgcache=${join(dir, 'pkgcache.bin')}`,
      '-o', `Dir::Cache::srcpkgcache=${join(dir, 'srcpkgcache.bin')}`,
      // The sid Release file on mirrors is often past Valid-Until; a snapshot-like mirror would refuse it.
      '-o', 'Acquire::Check-Valid-Until=false',
      '-o', 'Debug::NoLocking=true',
      '-o', `APT::Architecture=${architecture}`,
      '-o', `APT::Architectures=${architecture}`,
      // As root apt would download as _apt, which cannot write our directory; as anyone else it has no sandbox.
      ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []),
    ];
  }

  /** Fetches the package lists. */
  async update(): Promise<void> {
    await this.#run(['update'], 'apt-get update', this.#dir);
  }

  /**
   * Downloads packages (name or name=version) into `dest` and resolves with the .deb paths. With `onBytes`,
   * reports the bytes arrived as apt fetches them: the total from `--print-uris`, the share from apt's
   * status fd (`dlstatus` lines, about one a second).
   */
  async download(packages: readonly string[], dest: string, onBytes?: (done: number, total: number) => void): Promise<string[]> {
    mkdirSync(dest, { recursive: true });
    const before = new Set(readdirSync(dest));
    const what = `apt-get download ${packages.join(' ')}`;
    const total = onBytes === undefined ? 0 : printedUrisBytes(await this.#run(['--print-uris', 'download', ...packages], what, dest));
    await this.#run(['download', ...packages], what, dest, (percent) => onBytes?.(Math.round((total * percent) / 100), total));
    return readdirSync(dest).filter((n) => n.endsWith('.deb') && !before.has(n)).map((n) => join(dest, n));
  }

  /**
   * The packages `packages` need to run, themselves included: their Depends and Pre-Depends, recursively
   * (no Recommends), as real package names; virtual packages are satisfied by the real ones listed.
   */
  async dependencyClosure(packages: readonly string[]): Promise<string[]> {
    const out = await this.#run(
      ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...packages],
      `apt-cache depends ${packages.join(' ')}`, this.#dir, undefined, 'apt-cache',
    );
    // Unindented lines name packages; <name> is a virtual one.
    return [...new Set(out.split('\n').filter((l) => /^[a-z0-9]/.test(l)).map((l) => l.trim().replace(/:\w+$/, '')))].sort();
  }

  /**
   * Runs apt-get (or apt-cache) without blocking the event loop and resolves with its standard output; its
   * status fd (fd 3) is read for the percentage done.
   */
  #run(args: string[], what: string, cwd: string, onPercent: (percent: number) => void = () => {}, program = 'apt-get'): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(program, ['-q', ...this.#options, '-o', 'APT::Status-Fd=3', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
      child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-8192); });
      let status = '';
      child.stdio[3]!.on('data', (chunk: Buffer) => {
        const lines = (status + chunk.toString('utf8')).split('\n');
        status = lines.pop()!;
        for (const line of lines) {
          const percent = dlstatusPercent(line);
          if (percent !== undefined) onPercent(percent);
        }
      });
      child.on('error', (err) => reject(new VmRunnerError('ERR_QEMU_KERNEL', `${what}: ${err.message}`, { cause: err })));
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else reject(aptFailure(what, code, `${stdout}${stderr}`));
      });
    });
  }
}

function aptFailure(what: string, status: number | null, output: string): VmRunnerError {
  const tail = output.trim().split('\n').slice(-6).join('\n');
  return new VmRunnerError('ERR_QEMU_KERNEL', `${what} failed (exit ${status}):\n${tail}`);
}

/** The bytes `apt-get --print-uris download` would fetch: the sum of the SIZE of its `'URI' FILE SIZE HASH` lines. */
export function printedUrisBytes(output: string): number {
  let total = 0;
  for (const m of output.matchAll(/^'[^']+' \S+ (\d+)\b/gm)) total += Number(m[1]);
  return total;
}

/** The percentage of a `dlstatus:ITEM:PERCENT:TEXT` line of apt's status fd; undefined for any other line. */
export function dlstatusPercent(line: string): number | undefined {
  const m = /^dlstatus:[^:]*:(\d+(?:\.\d+)?):/.exec(line);
  return m === null ? undefined : Math.min(100, Number(m[1]));
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
