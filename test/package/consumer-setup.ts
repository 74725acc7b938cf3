// SPDX-License-Identifier: MIT
// Global setup of the `package` suites: what a user gets, not the working tree. Packs the package
// (`npm pack`, which builds dist/ through the prepare script), then makes a fresh consumer project in a
// temporary folder and installs the tarball there, with vitest (a user's own test runner, which the README's
// VM example runs). The suites receive the consumer's folder and the tarball's path.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The consumer project (its own package.json and node_modules/drm-gpuvm from the tarball). */
    consumer: string;
    /** The packed tarball. */
    tarball: string;
  }
}

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** The environment of npm and of the commands run in the consumer: the runner's npm_* and VITEST* settings left out. */
export function consumerEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|VITEST|NODE_ENV$)/i.test(k) && k !== 'FORCE_COLOR'));
}

export default function setup(project: TestProject): () => void {
  const work = mkdtempSync(join(tmpdir(), 'drm-gpuvm-consumer-'));
  const env = consumerEnv();
  const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], repo)) as { filename: string }[];
  const tarball = join(work, packed[0]!.filename);
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'drm-gpuvm-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  const vitest = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.vitest!;
  npm(['install', '--no-audit', '--no-fund', tarball, `vitest@${vitest}`], consumer);
  project.provide('consumer', consumer);
  project.provide('tarball', tarball);
  return () => rmSync(work, { recursive: true, force: true });
}
