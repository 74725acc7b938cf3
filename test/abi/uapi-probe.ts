// SPDX-License-Identifier: MIT
// Writes a C file holding, from the real uAPI headers, every struct size, field offset and width, ioctl
// number and constant a backend's layout tables claim; compiles it for x86-64 or arm64 and reads the values
// out of the object file; and lists both sides so the test can compare them line by line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** The architectures the probe is compiled for: this machine's, and arm64 through Debian's cross compiler. */
export type ProbeArch = 'x64' | 'arm64';

const TOOLS: Record<ProbeArch, { readonly gcc: string; readonly objcopy: string; readonly multiarch: string }> = {
  x64: { gcc: 'x86_64-linux-gnu-gcc', objcopy: 'x86_64-linux-gnu-objcopy', multiarch: 'x86_64-linux-gnu' },
  arm64: { gcc: 'aarch64-linux-gnu-gcc', objcopy: 'aarch64-linux-gnu-objcopy', multiarch: 'aarch64-linux-gnu' },
};

/** First word of the facts section: read back, it proves the words are read in the target's byte order. */
const MARK = 0x0123456789abcdefn;

/**
 * C source holding the same facts from the headers as one array of 64-bit words in a section of its own,
 * every word an integer constant expression: the object file is never run, so a cross-compiled probe
 * (arm64 on this x86 machine) is read exactly like a native one.
 */
export function probeSource(uapis: readonly DriverUapi[]): { readonly source: string; readonly keys: readonly string[] } {
  const keys: string[] = [];
  const words: string[] = [];
  const fact = (key: string, expr: string): void => {
    keys.push(key);
    words.push(`  (unsigned long long)(${expr}),`);
  };
  for (const u of uapis) {
    for (const s of u.structs) {
      fact(`size ${s.cType}`, `sizeof(${s.cType})`);
      for (const name of Object.keys(s.fields)) {
        fact(`offset ${s.cType}.${name}`, `offsetof(${s.cType}, ${name})`);
        fact(`width ${s.cType}.${name}`, `sizeof(((${s.cType} *)0)->${name})`);
        if (typeof s.fields[name]!.type === 'string') fact(`signed ${s.cType}.${name}`, `(__typeof__(((${s.cType} *)0)->${name}))-1 < 0`);
      }
    }
    for (const io of u.ioctls) fact(`ioctl ${io.name}`, `(unsigned long)${io.name}`);
    for (const name of Object.keys(u.constants)) fact(`const ${name}`, `(long long)${name}`);
  }
  const lines = ['#include <stddef.h>', '#include <drm/drm.h>'];
  for (const u of uapis) lines.push(`#include <${u.header}>`);
  lines.push('__attribute__((section(".uapi_facts"), used)) const unsigned long long uapi_facts[] = {');
  lines.push(`  0x${MARK.toString(16)}ULL,`, ...words, '};', '');
  return { source: lines.join('\n'), keys };
}

/**
 * Compiles the probe for `arch` against `include` (plus that architecture's asm directory, which sid's
 * linux-libc-dev ships for every architecture) and reads the facts back from the object file.
 */
export function headerFacts(uapis: readonly DriverUapi[], include: string, arch: ProbeArch = 'x64'): Facts {
  const tools = TOOLS[arch];
  const dir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-abi-'));
  try {
    const { source, keys } = probeSource(uapis);
    const src = join(dir, 'probe.c');
    const obj = join(dir, 'probe.o');
    const raw = join(dir, 'facts.bin');
    writeFileSync(src, source);
    execFileSync(tools.gcc, ['-std=gnu11', '-Wall', '-Werror', '-c', '-isystem', join(include, tools.multiarch), '-isystem', include, '-o', obj, src], { stdio: 'pipe' });
    execFileSync(tools.objcopy, ['-O', 'binary', '-j', '.uapi_facts', obj, raw], { stdio: 'pipe' });
    const bytes = readFileSync(raw);
    if (bytes.length !== 8 * (keys.length + 1) || bytes.readBigUInt64LE(0) !== MARK) {
      throw new Error(`the ${arch} probe's facts section is ${bytes.length} bytes, not the ${8 * (keys.length + 1)} expected, or its mark is wrong`);
    }
    const facts: Facts = new Map();
    keys.forEach((key, i) => {
      const word = bytes.readBigUInt64LE(8 * (i + 1));
      facts.set(key, key.startsWith('const ') ? BigInt.asIntN(64, word) : word);
    });
    return facts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
