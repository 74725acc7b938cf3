// SPDX-License-Identifier: MIT
// Fetches the current kernel of a Debian suite into the cache: the linux-image-amd64 (or -arm64) meta package names the
// versioned image package; from 7.x on that package is itself a meta package over linux-binary-* (the
// vmlinuz) and linux-modules-*. Resolved when the suite is first used, never hard-coded.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debFields, extractDeb, parseDepends, PrivateApt, suiteSources } from './apt.js';
import { buildDirAtomically, kernelDir, readKernelRecord, type KernelRecord } from './cache.js';
import { VmRunnerError } from './errors.js';
import { APT_TOOLS, requireTools } from './host-tools.js';
import { GUEST_ARCHES } from './guest-arch.js';
import { locateKernel, type KernelFiles } from './kernel-layout.js';
import type { StepLog } from './step-log.js';
import type { DebianSuite, VmArch } from './vm-args.js';

/** A kernel ready to boot, with what `--status` and the run's messages say about it. */
export interface PreparedKernel extends KernelFiles {
  label: string;
  /** The architecture it runs on. */
  arch: VmArch;
}

/** Returns the suite's cached kernel for `arch`, downloading and unpacking it first if it is not cached yet. */
export async function debianKernel(suite: DebianSuite, arch: VmArch, cacheRoot: string, log: StepLog): Promise<PreparedKernel> {
  const dir = kernelDir(cacheRoot, suite, arch);
  let record = readKernelRecord(dir);
  if (record === undefined) {
    requireTools(APT_TOOLS, log);
    log(`drm-gpuvm vm: first use of the ${suite} ${GUEST_ARCHES[arch].debianArch} kernel: downloading it from Debian into ${dir}`);
    const started = Date.now();
    await buildDirAtomically(dir, (temp) => fetchInto(suite, arch, temp, log));
    record = readKernelRecord(dir);
    if (record === undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `the ${suite} kernel was fetched but ${dir}/kernel.json is unreadable`);
    log(`drm-gpuvm vm: cached Linux ${record.release} (Debian ${record.packageVersion}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return {
    vmlinuz: join(dir, 'vmlinuz'),
    modulesDir: join(dir, 'modules', record.release),
    release: record.release,
    label: `${suite} (Linux ${record.release}, Debian ${record.packageVersion})`,
    arch,
  };
}

async function fetchInto(suite: DebianSuite, arch: VmArch, temp: string, log: StepLog): Promise<void> {
  const debianArch = GUEST_ARCHES[arch].debianArch;
  const apt = new PrivateApt(join(temp, 'apt'), suiteSources(suite), debianArch);
  const debs = join(temp, 'debs');
  log(`drm-gpuvm vm:   apt-get update (Debian ${suite}, ${debianArch})`);
  await apt.update();

  const metaName = `linux-image-${debianArch}`;
  const [meta] = await apt.download([metaName], debs);
  if (meta === undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `apt-get download ${metaName} (${suite}) gave no package`);
  const imageName = dependencyMatching(meta, /^linux-image-\d/);
  // Each download is a step of its own, showing its bytes as they arrive (the image, then its parts from 7.x on).
  log(`drm-gpuvm vm:   downloading ${imageName}`);
  const [image] = await apt.download([imageName], debs, log.bytes);
  if (image === undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `apt-get download ${imageName} gave no package`);
  const parts = dependenciesMatching(image, /^linux-(binary|modules)-\d/);
  if (parts.length > 0) log(`drm-gpuvm vm:   downloading ${parts.join(', ')}`);
  const files = [image, ...(parts.length > 0 ? await apt.download(parts, debs, log.bytes) : [])];

  const root = join(temp, 'root');
  log(`drm-gpuvm vm:   unpacking`);
  for (const deb of files) extractDeb(deb, root);
  const kernel = locateKernel(root);
  renameSync(kernel.vmlinuz, join(temp, 'vmlinuz'));
  // Kept as modules/RELEASE so that the directory name still says which kernel the tree belongs to.
  mkdirSync(join(temp, 'modules'));
  renameSync(kernel.modulesDir, join(temp, 'modules', kernel.release));
  const record: KernelRecord = {
    suite,
    arch,
    release: kernel.release,
    packageVersion: debFields(image, 'Version')['Version'] ?? 'unknown',
    packages: files.map((deb) => {
      const f = debFields(deb, 'Package', 'Version');
      return `${f['Package']}=${f['Version']}`;
    }),
    fetchedAt: new Date().toISOString(),
  };
  rmSync(root, { recursive: true, force: true });
  rmSync(debs, { recursive: true, force: true });
  rmSync(join(temp, 'apt'), { recursive: true, force: true });
  writeFileSync(join(temp, 'kernel.json'), JSON.stringify(record, null, 2) + '\n');
}

function dependenciesMatching(deb: string, pattern: RegExp): string[] {
  const depends = debFields(deb, 'Depends')['Depends'] ?? '';
  return parseDepends(depends).flatMap((alts) => alts.filter((n) => pattern.test(n)));
}

function dependencyMatching(deb: string, pattern: RegExp): string {
  const [name] = dependenciesMatching(deb, pattern);
  if (name === undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `${deb}: no dependency matching ${pattern} in its Depends field`);
  return name;
}
