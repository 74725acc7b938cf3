// SPDX-License-Identifier: MIT
// Fetches the newest kernel uAPI headers (Debian sid's linux-libc-dev) with a private apt configuration, so
// nothing on the machine changes, and caches the extracted tree under node_modules/.cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the headers are cached, relative to the repository root. */
export const CACHE_DIR = join('node_modules', '.cache', 'drm-gpuvm-abi', 'sid');

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The extracted include directory and the package version it came from. */
export interface UapiHeaders {
  readonly include: string;
  readonly version: string;
}

/** Returns the cached sid headers, fetching them first if needed; throws with the reason when it cannot. */
export function sidUapiHeaders(root: string): UapiHeaders {
  const cache = join(root, CACHE_DIR);
  const include = join(cache, 'root', 'usr', 'include');
  const versionFile = join(cache, 'version');
  if (existsSync(join(include, 'drm', 'drm.h')) && existsSync(versionFile)) {
    return { include, version: readFileSync(versionFile, 'utf8').trim() };
  }
  if (!existsSync(KEYRING)) throw new Error(`${KEYRING} is missing (install debian-archive-keyring): cannot verify sid's package lists`);
  rmSync(cache, { recursive: true, force: true });
  const lists = join(cache, 'lists');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  mkdirSync(join(cache, 'archives', 'partial'), { recursive: true });
  const sources = join(cache, 'sid.list');
  writeFileSync(sources, `deb [signed-by=${KEYRING}] http://deb.debian.org/debian sid main\n`);
  const apt = [
    '-q', '-o', `Dir::Etc::sourcelist=${sources}`, '-o', 'Dir::Etc::sourceparts=-', '-o', `Dir::State::Lists=${lists}`,
    '-o', `Dir::Cache=${cache}`, '-o', 'Dir::State::status=/dev/null', '-o', 'Acquire::Check-Valid-Until=false',
    '-o', 'Acquire::Languages=none', '-o', 'APT::Sandbox::User=root',
  ];
  execFileSync('apt-get', [...apt, 'update'], { stdio: 'pipe', timeout: 180_000 });
  execFileSync('apt-get', [...apt, 'download', 'linux-libc-dev'], { cwd: cache, stdio: 'pipe', timeout: 180_000 });
  const deb = readdirSync(cache).find((f) => f.startsWith('linux-libc-dev_') && f.endsWith('.deb'));
  if (deb === undefined) throw new Error('apt-get download linux-libc-dev produced no .deb');
  execFileSync('dpkg-deb', ['-x', join(cache, deb), join(cache, 'root')], { stdio: 'pipe' });
  const version = deb.split('_')[1] ?? 'unknown';
  writeFileSync(versionFile, `${version}\n`);
  return { include, version };
}

/** The sid headers as a test suite sees them: the headers, or why they could not be had. */
export interface SuiteUapiHeaders {
  /** The headers; undefined when they could not be fetched. */
  readonly headers: UapiHeaders | undefined;
  /** Why they could not be fetched; empty when they were. */
  readonly unavailable: string;
}

/**
 * {@link sidUapiHeaders} for an ABI suite: never throws. Outside CI a failure is announced on stderr as
 * `<check> NOT RUN: ...`, so a skipped suite is never read as a passing one; under CI the suite's own
 * "are fetched in CI" test fails instead.
 */
export function sidUapiHeadersForSuite(root: string, check: string): SuiteUapiHeaders {
  try {
    return { headers: sidUapiHeaders(root), unavailable: '' };
  } catch (err) {
    const unavailable = err instanceof Error ? err.message : String(err);
    if (process.env.CI === undefined) process.stderr.write(`${check} NOT RUN: could not fetch Debian sid's linux-libc-dev: ${unavailable}\n`);
    return { headers: undefined, unavailable };
  }
}
