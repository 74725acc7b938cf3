// SPDX-License-Identifier: MIT
// Writes a C program that prints, from the real uAPI headers, every struct size, field offset and width,
// ioctl number and constant a backend's layout tables claim; compiles and runs it; and lists both sides so
// the test can compare them line by line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverUapi } from '../../lib/backends/driver-uapi.js';
import { ioctlRequest } from '../../lib/backends/ioctl-call.js';
import { fieldBytes } from '../../lib/backends/uapi-struct.js';

/** One fact, keyed `kind name`, e.g. `offset struct drm_xe_vm_bind.num_binds`, with its value. */
export type Facts = Map<string, bigint>;

/** The facts as our TypeScript tables state them. */
export function tableFacts(uapis: readonly DriverUapi[]): Facts {
  const facts: Facts = new Map();
  for (const uapi of uapis) {
    for (const s of uapi.structs) {
      facts.set(`size ${s.cType}`, BigInt(s.size));
      for (const [name, f] of Object.entries(s.fields)) {
        facts.set(`offset ${s.cType}.${name}`, BigInt(f.offset));
        facts.set(`width ${s.cType}.${name}`, BigInt(fieldBytes(f.type)));
        if (typeof f.type === 'string') facts.set(`signed ${s.cType}.${name}`, f.type === 's32' ? 1n : 0n);
      }
    }
    for (const io of uapi.ioctls) facts.set(`ioctl ${io.name}`, BigInt(ioctlRequest(io)));
    for (const [name, value] of Object.entries(uapi.constants)) facts.set(`const ${name}`, BigInt(value));
  }
  return facts;
}

/** C source printing the same facts from the headers. */
export function probeSource(uapis: readonly DriverUapi[]): string {
  const lines = ['#include <stddef.h>', '#include <stdio.h>', '#include <drm/drm.h>'];
  for (const u of uapis) lines.push(`#include <${u.header}>`);
  lines.push('int main(void) {');
  const print = (key: string, expr: string, fmt = '%llu', cast = 'unsigned long long'): void => {
    lines.push(`  printf("%s ${fmt}\\n", "${key}", (${cast})(${expr}));`);
  };
  for (const u of uapis) {
    for (const s of u.structs) {
      print(`size ${s.cType}`, `sizeof(${s.cType})`);
      for (const name of Object.keys(s.fields)) {
        print(`offset ${s.cType}.${name}`, `offsetof(${s.cType}, ${name})`);
        print(`width ${s.cType}.${name}`, `sizeof(((${s.cType} *)0)->${name})`);
        if (typeof s.fields[name]!.type === 'string') print(`signed ${s.cType}.${name}`, `(__typeof__(((${s.cType} *)0)->${name}))-1 < 0`);
      }
    }
    for (const io of u.ioctls) print(`ioctl ${io.name}`, io.name, '%lu', 'unsigned long');
    for (const name of Object.keys(u.constants)) print(`const ${name}`, name, '%lld', 'long long');
  }
  lines.push('  return 0;', '}', '');
  return lines.join('\n');
}

/** Compiles the probe against `include` (plus its multiarch asm directory), runs it and parses its output. */
export function headerFacts(uapis: readonly DriverUapi[], include: string): Facts {
  const dir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-abi-'));
  try {
    const src = join(dir, 'probe.c');
    const bin = join(dir, 'probe');
    writeFileSync(src, probeSource(uapis));
    const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
    execFileSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-isystem', join(include, multiarch), '-isystem', include, '-o', bin, src], { stdio: 'pipe' });
    const facts: Facts = new Map();
    for (const line of execFileSync(bin, { encoding: 'utf8' }).trim().split('\n')) {
      const cut = line.lastIndexOf(' ');
      facts.set(line.slice(0, cut), BigInt(line.slice(cut + 1)));
    }
    return facts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
