// SPDX-License-Identifier: MIT
// The userland of a guest that cannot run the host's (arm64 on an x86 host): busybox, the C and C++ runtime
// libraries and Node.js, from Debian's packages for the guest's architecture, unpacked (never installed) into
// a cached directory. The guest mounts it read-only as its / under a writable layer of its own, so that the
// working directory's mount point can be made in it.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debFields, extractDeb, PrivateApt, suiteSources } from './apt.js';
import { buildDirAtomically, guestRootsDir } from './cache.js';
import { VmRunnerError } from './errors.js';
import { GUEST_ARCHES } from './guest-arch.js';
import { APT_TOOLS, requireTools } from './host-tools.js';
import type { StepLog } from './step-log.js';
import type { VmArch } from './vm-args.js';

/** A cached root, with the paths the runner needs: on the host, and as the guest sees them. */
export interface GuestRoot {
  /** The root directory on the host. */
  dir: string;
  /** Its static busybox, on the host (it also goes into the initramfs). */
  busybox: string;
  /** setpriv(1) as the guest sees it, to drop to the user's uid. */
  setpriv: string;
}

/** What root.json in a cached root records. */
interface RootRecord {
  suite: string;
  debianArch: string;
  packages: string[];
  nodejs: string;
  fetchedAt: string;
}

// sid: the package's engines need Node >= 20.19, and bookworm's nodejs is 18. The root does not depend on
// the kernel the guest boots.
const ROOT_SUITE = 'sid';
/** The packages the root is made of, with everything they depend on. */
const ROOT_PACKAGES = ['busybox-static', 'libstdc++6', 'nodejs'];
/** Only for setpriv: util-linux's other dependencies (PAM, systemd's libraries) are not needed for it. */
const SETPRIV_PACKAGES = ['util-linux', 'libcap-ng0'];
/** busybox applets linked into /usr/bin where no package put a program of that name. */
const APPLETS = [
  'sh', 'env', 'cat', 'cp', 'mv', 'rm', 'ln', 'ls', 'mkdir', 'rmdir', 'chmod', 'chown', 'touch', 'echo', 'printf',
  'true', 'false', 'test', '[', 'sleep', 'grep', 'sed', 'awk', 'head', 'tail', 'wc', 'tr', 'sort', 'uniq', 'cut',
  'find', 'xargs', 'dd', 'stat', 'id', 'uname', 'dirname', 'basename', 'readlink', 'realpath', 'mktemp', 'tee',
  'date', 'kill', 'ps', 'dmesg', 'insmod', 'rmmod', 'lsmod', 'mount', 'umount', 'sync', 'xxd', 'od', 'md5sum', 'sha256sum',
];
// Bumped whenever what goes into a root changes in a way the package list does not show.
const ROOT_FORMAT = 1;

/** Returns the cached root for `arch`, downloading and unpacking it first if it is not cached yet. */
export async function guestRoot(arch: VmArch, cacheRoot: string, log: StepLog): Promise<GuestRoot> {
  const debianArch = GUEST_ARCHES[arch].debianArch;
  const dir = join(guestRootsDir(cacheRoot), `${debianArch}-${ROOT_SUITE}-${ROOT_FORMAT}`);
  let record = readRecord(dir);
  if (record === undefined) {
    requireTools(APT_TOOLS, log);
    log(`drm-gpuvm vm: first use of an ${debianArch} guest: downloading its userland (busybox, libc, Node.js) from Debian ${ROOT_SUITE} into ${dir}`);
    const started = Date.now();
    await buildDirAtomically(dir, (temp) => buildInto(temp, debianArch, log));
    record = readRecord(dir);
    if (record === undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `the ${debianArch} userland was fetched but ${dir}/root.json is unreadable`);
    log(`drm-gpuvm vm: cached the ${debianArch} userland (${record.packages.length} packages, nodejs ${record.nodejs}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return {
    dir: join(dir, 'root'),
    busybox: join(dir, 'root', 'usr', 'bin', 'busybox'),
    setpriv: '/usr/bin/setpriv',
  };
}

function readRecord(dir: string): RootRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'root.json'), 'utf8')) as RootRecord;
  } catch {
    return undefined;
  }
}

async function buildInto(temp: string, debianArch: string, log: StepLog): Promise<void> {
  const apt = new PrivateApt(join(temp, 'apt'), suiteSources(ROOT_SUITE), debianArch);
  log(`drm-gpuvm vm:   apt-get update (Debian ${ROOT_SUITE}, ${debianArch})`);
  await apt.update();
  const names = [...new Set([...(await apt.dependencyClosure(ROOT_PACKAGES)), ...SETPRIV_PACKAGES])];
  log(`drm-gpuvm vm:   downloading ${names.length} packages`);
  const debs = await apt.download(names, join(temp, 'debs'), log.bytes);
  const root = join(temp, 'root');
  log('drm-gpuvm vm:   unpacking');
  for (const deb of debs) extractDeb(deb, root);
  mergeUsr(root);
  for (const gone of ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian']) {
    rmSync(join(root, gone), { recursive: true, force: true });
  }
  for (const need of ['usr/bin/busybox', 'usr/bin/node', 'usr/bin/setpriv']) {
    if (!existsSync(join(root, need))) throw new VmRunnerError('ERR_QEMU_KERNEL', `the ${debianArch} userland has no /${need} after unpacking ${names.join(' ')}`);
  }
  for (const applet of APPLETS) {
    if (!existsSync(join(root, 'usr', 'bin', applet)) && !existsSync(join(root, 'usr', 'sbin', applet))) symlinkSync('busybox', join(root, 'usr', 'bin', applet));
  }
  // Mount points of /init, and a /tmp anyone can write.
  for (const mountPoint of ['proc', 'sys', 'dev', 'run', 'tmp', 'root', 'home']) mkdirSync(join(root, mountPoint), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  const nodejs = debs.map((deb) => debFields(deb, 'Package', 'Version')).find((f) => f['Package'] === 'nodejs')?.['Version'] ?? 'unknown';
  const record: RootRecord = {
    suite: ROOT_SUITE,
    debianArch,
    packages: debs.map((deb) => {
      const f = debFields(deb, 'Package', 'Version');
      return `${f['Package']}=${f['Version']}`;
    }).sort(),
    nodejs,
    fetchedAt: new Date().toISOString(),
  };
  rmSync(join(temp, 'debs'), { recursive: true, force: true });
  rmSync(join(temp, 'apt'), { recursive: true, force: true });
  writeFileSync(join(temp, 'root.json'), JSON.stringify(record, null, 2) + '\n');
}

/**
 * Debian's merged /usr: /bin, /sbin and /lib are links into /usr (the dynamic linker is looked up as
 * /lib/ld-linux-aarch64.so.1). Unpacking does not make those links, and older packages still ship files
 * under /bin or /lib: their files are moved into /usr and the links made.
 */
function mergeUsr(root: string): void {
  for (const top of ['bin', 'sbin', 'lib']) {
    const from = join(root, top);
    const to = join(root, 'usr', top);
    mkdirSync(to, { recursive: true });
    if (lstatSync(from, { throwIfNoEntry: false })?.isDirectory() === true) {
      moveInto(from, to);
      rmSync(from, { recursive: true, force: true });
    }
    if (!existsSync(from)) symlinkSync(`usr/${top}`, from);
  }
}

function moveInto(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    const target = join(to, name);
    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing === undefined) renameSync(source, target);
    else if (existing.isDirectory() && lstatSync(source).isDirectory()) moveInto(source, target);
  }
}
