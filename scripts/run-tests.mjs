#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// `npm test`: the host suites (vitest projects unit, native, qemu), then the guest suite (test/guest) inside `drm-gpuvm vm`
// on each Debian kernel, one vitest run per kernel (node starts slowly under TCG). Results come from
// vitest's JSON reporter, written to .vm-results/ in the working directory (shared read-write with the
// guest). The last line is always `N passed, N failed, N skipped`, summed over everything; the exit
// status is non-zero when a test failed or a suite could not run. A vm suite that ran no test failed.
// The table also goes to .vm-results/summary.json. `--only SUITE,...` runs only those suites (host project
// names, guest-bookworm / guest-sid, or guest-arm64-bookworm / guest-arm64-sid), as CI does for its in-place
// comparison run. The arm64 guest suites run a subset of test/guest (ARM64_GUEST_FILES) in an emulated arm64
// VM with arm64 Node and the arm64 prebuild; vitest's bundler needs its arm64 binding there, fetched with npm
// pack at the version and integrity package-lock.json records.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const resultsDir = join(root, '.vm-results');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const cli = join(root, 'dist', 'cli', 'main.js');
const HOST_PROJECTS = ['unit', 'native', 'qemu', 'package'];
const KERNELS = ['bookworm', 'sid'];
// Per kernel: boot, node start-up under TCG and the whole vm suite. CI's hard limit is 90 minutes.
const VM_SUITE_TIMEOUT_S = 1800;
/**
 * What the arm64 guest runs: the device layer, dma-buf and fence suites, the VA window backend and the IGT
 * mirrors (vgem_basic, dmabuf_sync_file). Not the vgpuvm suites (the module is built for x64 guests only),
 * nor the openGpu, info CLI and wait-timing suites, which add no arm64-specific path and minutes of TCG.
 */
const ARM64_GUEST_FILES = [
  'test/guest/drm-device.test.ts',
  'test/guest/vgem-basic.test.ts',
  'test/guest/drm-fence.test.ts',
  'test/guest/vgem-fences.test.ts',
  'test/guest/dmabuf-sync-file.test.ts',
  'test/guest/va-window.test.ts',
];
/** vitest's bundler (rolldown) loads a native binding; the arm64 guest needs the arm64 one. */
const ARM64_BUNDLER_BINDING = '@rolldown/binding-linux-arm64-gnu';

/** One line of the final table. */
const rows = [];

/** The suites `--only` names, or undefined for all of them. */
function onlySuites() {
  const at = process.argv.indexOf('--only');
  return at < 0 ? undefined : (process.argv[at + 1] ?? '').split(',').filter((s) => s !== '');
}

function main() {
  const only = onlySuites();
  const wanted = (suite) => only === undefined || only.includes(suite);
  process.chdir(root);
  mkdirSync(resultsDir, { recursive: true });
  buildDistIfNeeded();
  const projects = configuredProjects();
  for (const project of HOST_PROJECTS) {
    if (!projects.includes(project) || !wanted(project)) continue;
    runSuite(`${project} (host)`, project, [process.execPath, vitest, 'run', '--project', project, '--passWithNoTests', ...reporterArgs(project)], {
      zeroTestsFail: false,
    });
  }
  for (const kernel of KERNELS) {
    if (!wanted(`guest-${kernel}`)) continue;
    const name = `guest-${kernel}`;
    const vmArgs = [process.execPath, cli, 'vm', '--kernel', kernel, '--timeout', String(VM_SUITE_TIMEOUT_S), ...extraVmOptions(kernel), '--'];
    runSuite(`guest (${kernel})`, name, [...vmArgs, process.execPath, vitest, 'run', '--project', 'guest', ...reporterArgs(name)], { zeroTestsFail: true });
  }
  for (const kernel of KERNELS) {
    const name = `guest-arm64-${kernel}`;
    if (!wanted(name)) continue;
    const label = `guest arm64 (${kernel})`;
    const binding = arm64BundlerBinding();
    if (typeof binding !== 'string') {
      rows.push({ name, label, seconds: '0', passed: 0, failed: 0, skipped: 0, problem: binding.problem });
      continue;
    }
    // `node` is the guest's own (arm64, from Debian); vitest comes from the working directory, shared with the guest.
    const vmArgs = [process.execPath, cli, 'vm', '--arch', 'arm64', '--kernel', kernel, '--timeout', String(VM_SUITE_TIMEOUT_S), '--'];
    runSuite(label, name, [...vmArgs, 'node', vitest, 'run', '--project', 'guest', ...ARM64_GUEST_FILES, ...reporterArgs(name)], {
      zeroTestsFail: true,
      env: { NAPI_RS_NATIVE_LIBRARY_PATH: binding },
    });
  }
  report();
}

function shortPath(arg) {
  if (arg === process.execPath) return 'node';
  return arg.startsWith(`${root}/`) ? relative(root, arg) : arg;
}

function reporterArgs(name) {
  return ['--reporter=default', '--reporter=json', `--outputFile.json=${relative(root, resultFile(name))}`];
}

function resultFile(name) {
  return join(resultsDir, `${name}.json`);
}

/** Runs one vitest invocation (on the host or through the VM runner) and records its counts. */
function runSuite(label, name, argv, { zeroTestsFail, env = {} }) {
  const file = resultFile(name);
  rmSync(file, { force: true });
  process.stdout.write(`\n=== ${label}: ${argv.map(shortPath).join(' ')}\n`);
  const started = Date.now();
  // Plain text in logs: vitest colours whenever FORCE_COLOR is set at all, so only NO_COLOR turns it off.
  const plain = !process.stdout.isTTY && process.env.FORCE_COLOR === undefined ? { NO_COLOR: '1' } : {};
  const child = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: root, env: { ...process.env, ...plain, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const row = { name, label, seconds, passed: 0, failed: 0, skipped: 0, problem: undefined };
  rows.push(row);
  if (child.error !== undefined) {
    row.problem = `could not start: ${child.error.message}`;
    return;
  }
  let json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    row.problem = `did not run: no results (${relative(root, file)}); exit status ${child.status ?? child.signal}`;
    return;
  }
  row.passed = json.numPassedTests;
  row.failed = json.numFailedTests;
  row.skipped = json.numPendingTests + json.numTodoTests;
  // A file that failed to load has no failed test to count: count the file, so it cannot pass silently.
  const brokenFiles = json.testResults.filter((r) => r.status === 'failed' && !r.assertionResults.some((a) => a.status === 'failed'));
  row.failed += brokenFiles.length;
  if (brokenFiles.length > 0) row.problem = `${brokenFiles.length} test file(s) failed outside any test: ${brokenFiles.map((r) => relative(root, r.name)).join(', ')}`;
  if (zeroTestsFail && row.passed + row.failed === 0) row.problem = 'ran no test (a guest suite must run at least one)';
  if (child.status !== 0 && row.failed === 0 && row.problem === undefined) row.problem = `exit status ${child.status ?? child.signal} with no failed test`;
}

function report() {
  process.stdout.write('\n=== results\n');
  let failed = false;
  for (const r of rows) {
    const ran = r.passed + r.failed;
    process.stdout.write(`${r.label}: ${ran} ran, ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.seconds} s)${r.problem ? `: ${r.problem}` : ''}\n`);
    if (r.failed > 0 || r.problem !== undefined) failed = true;
  }
  const sum = (key) => rows.reduce((n, r) => n + r[key], 0);
  process.stdout.write(`${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
  writeFileSync(join(resultsDir, 'summary.json'), `${JSON.stringify(rows, null, 2)}\n`);
  process.exitCode = failed ? 1 : 0;
}

/**
 * The path of the arm64 bundler binding under .vm-results (inside the working directory, so the guest sees
 * it), fetched once with npm pack and checked against package-lock.json; or why it could not be had.
 */
function arm64BundlerBinding() {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const locked = lock.packages?.[`node_modules/${ARM64_BUNDLER_BINDING}`];
  if (locked === undefined) return { problem: `package-lock.json has no ${ARM64_BUNDLER_BINDING}` };
  const dir = join(resultsDir, 'arm64-binding', locked.version);
  const found = () => (existsSync(join(dir, 'package')) ? readdirSync(join(dir, 'package')).find((n) => n.endsWith('.node')) : undefined);
  if (found() === undefined) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', dir, `${ARM64_BUNDLER_BINDING}@${locked.version}`], { encoding: 'utf8' });
    let packed;
    try {
      packed = JSON.parse(pack.stdout)[0];
    } catch {
      return { problem: `npm pack ${ARM64_BUNDLER_BINDING}@${locked.version} failed: ${(pack.stderr ?? '').trim().split('\n').slice(-2).join(' ')}` };
    }
    if (packed.integrity !== locked.integrity) return { problem: `${ARM64_BUNDLER_BINDING}@${locked.version}: integrity ${packed.integrity}, package-lock.json says ${locked.integrity}` };
    const tar = spawnSync('tar', ['-xzf', join(dir, packed.filename), '-C', dir], { encoding: 'utf8' });
    if (tar.status !== 0 || found() === undefined) return { problem: `cannot unpack ${packed.filename}: ${tar.stderr}` };
  }
  return join(dir, 'package', found());
}

/** The vitest projects vitest.config.ts declares (by name), so a project not there yet is not run. */
function configuredProjects() {
  const config = readFileSync(join(root, 'vitest.config.ts'), 'utf8');
  return [...config.matchAll(/name:\s*'([^']+)'/g)].map((m) => m[1]);
}

/** Options the vm command offers for a kernel beyond the defaults (the vgpuvm module on sid, where built in). */
function extraVmOptions(kernel) {
  const help = spawnSync(process.execPath, [cli, 'vm', '--help'], { encoding: 'utf8' }).stdout ?? '';
  return kernel === 'sid' && help.includes('--with-vgpuvm') ? ['--with-vgpuvm'] : [];
}

/** Compiles lib/ to dist/ when dist is missing or older than any source file. */
function buildDistIfNeeded() {
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
      const path = join(dir, e.name);
      return Math.max(t, e.isDirectory() ? newest(path) : e.name.endsWith('.ts') ? statSync(path).mtimeMs : 0);
    }, 0);
  if (existsSync(cli) && statSync(cli).mtimeMs >= newest(join(root, 'lib'))) return;
  process.stdout.write('=== building dist (tsc -p tsconfig.build.json)\n');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (tsc.status === 0) return;
  // tsc still emits on type errors; the suites can run, but the build counts as a failure.
  rows.push({ name: 'build', label: 'build', seconds: '0', passed: 0, failed: 1, skipped: 0, problem: `tsc -p tsconfig.build.json exited ${tsc.status}` });
  if (!existsSync(cli)) {
    report();
    process.exit(1);
  }
}

main();
