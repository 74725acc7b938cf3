// SPDX-License-Identifier: MIT
// Which of the host's directories the guest gets a writable layer over. The guest sees the host's `/`
// read-only, but the command's own tools expect to write in `$HOME` (npm's cache and npx's lock files,
// `~/.config`, shell history) and in the XDG base directories its environment names. Each of these gets a
// tmpfs overlay in the guest: the host's contents show through, the guest's writes are discarded at exit.
import { isAbsolute, normalize } from 'node:path';

/** Variables naming directories a program expects to write in (XDG Base Directory spec, plus HOME). */
const WRITABLE_ENV = ['HOME', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR'] as const;

/** Directories the guest makes writable in any case: /tmp always has its layer; the cwd is shared read-write. */
const ALWAYS_WRITABLE = ['/tmp'];

/**
 * The absolute directories of `env` (HOME and the XDG base directories) that need a writable layer in the
 * guest, outermost first: none that the working directory (shared read-write) or /tmp already covers, none
 * inside another one of the list, never `/` (a user whose HOME is `/` keeps a read-only home).
 */
export function writableDirs(env: Readonly<Record<string, string | undefined>>, cwd: string): string[] {
  const covered = [...ALWAYS_WRITABLE, normalize(cwd)];
  const candidates = WRITABLE_ENV.map((name) => env[name])
    .filter((dir): dir is string => dir !== undefined && isAbsolute(dir))
    .map((dir) => stripTrailingSlash(normalize(dir)))
    .filter((dir) => dir !== '/' && !dir.includes('\n'))
    .sort((a, b) => a.length - b.length);
  const chosen: string[] = [];
  for (const dir of candidates) {
    if ([...covered, ...chosen].some((outer) => within(dir, outer))) continue;
    chosen.push(dir);
  }
  return chosen;
}

function within(dir: string, outer: string): boolean {
  return dir === outer || dir.startsWith(outer.endsWith('/') ? outer : `${outer}/`);
}

function stripTrailingSlash(dir: string): string {
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}
