// SPDX-License-Identifier: MIT
// drm-gpuvm trace, map and trace-gen read and write a line at a time: the streamed output equals the
// buffered one (replayTrace, parseVaDump, generateTrace) on the spec cases and on inputs many chunks long,
// a slow reader is waited for ('drain') instead of piling output up, and a reader that goes away (EPIPE)
// ends the output quietly.
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { run as map } from '../../../lib/cli/map.js';
import { run as trace } from '../../../lib/cli/trace.js';
import { run as traceGen } from '../../../lib/cli/trace-gen.js';
import { replayTrace } from '../../../lib/trace/trace.js';
import { formatTraceCommand, generateTrace } from '../../../lib/trace/trace-generator.js';
import { parseVaDump } from '../../../lib/va-map/va-map-input.js';
import { renderVaMapSvg } from '../../../lib/va-map/va-map-svg.js';

const casesDir = new URL('../../fixtures/trace-cases/', import.meta.url);
const cases = readdirSync(casesDir).filter((name) => name.endsWith('.trace')).sort();
const dir = mkdtempSync(join(tmpdir(), 'cli-streaming-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => { vi.restoreAllMocks(); });

/** Captures stdout; `write` answers as a stream whose buffer is full every `fullEvery` writes (0: never). */
function captureStdout(fullEvery = 0) {
  const chunks: string[] = [];
  let waiting = false;
  let maxChunk = 0;
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string, cb?: (err?: Error) => void) => {
    // A writer that ignored back-pressure would write again before the 'drain'.
    expect(waiting).toBe(false);
    chunks.push(String(chunk));
    maxChunk = Math.max(maxChunk, String(chunk).length);
    cb?.();
    if (fullEvery > 0 && chunks.length % fullEvery === 0) {
      waiting = true;
      setTimeout(() => { waiting = false; process.stdout.emit('drain'); }, 1);
      return false;
    }
    return true;
  }) as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { text: () => chunks.join(''), writes: () => chunks.length, maxChunk: () => maxChunk };
}

function generated(params: Parameters<typeof generateTrace>[0]): string {
  let text = '';
  for (const command of generateTrace(params)) text += `${formatTraceCommand(command)}\n`;
  return text;
}

describe('drm-gpuvm trace streams', () => {
  it.each(cases)('%s: the same bytes as the buffered replay', async (name) => {
    const out = captureStdout();
    const file = fileURLToPath(new URL(name, casesDir));
    expect(await trace([file])).toBe(0);
    expect(out.text()).toBe(replayTrace(readFileSync(file, 'utf8')));
  });

  it('a trace of many chunks with dumps: the same bytes, written in bounded chunks, waiting for drain', async () => {
    const text = generated({ seed: 5, profile: 'mixed', requests: 6000 });
    const file = join(dir, 'long.trace');
    writeFileSync(file, text);
    const out = captureStdout(3);
    expect(await trace([file])).toBe(0);
    const expected = replayTrace(text);
    expect(expected.length).toBeGreaterThan(8 << 16);
    expect(out.text()).toBe(expected);
    expect(out.writes()).toBeGreaterThan(8);
    // One chunk is about 64 KiB: a request's or a dump's output is added to it, never the whole replay.
    expect(out.maxChunk()).toBeLessThan(80_000);
  });

  it('a last line without a newline still counts', async () => {
    const file = join(dir, 'no-newline.trace');
    writeFileSync(file, 'vm 0x0 0x100000\nbo a 0x10000\nmap 0x1000 0x1000 a 0x0');
    const out = captureStdout();
    expect(await trace([file])).toBe(0);
    expect(out.text()).toBe('map 0x1000 0x1000 a 0x0\nend\n');
  });

  it('a malformed line stops the replay there: what came before is written, then exit 2', async () => {
    const file = join(dir, 'late-error.trace');
    writeFileSync(file, 'vm 0x0 0x100000\nunmap 0x0 0x0\nunmap 0x0 zz\nunmap 0x0 0x0\n');
    const out = captureStdout();
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await trace([file])).toBe(2);
    expect(out.text()).toBe('error zero_range\nend\n');
    expect(String(err.mock.calls[0]?.[0])).toMatch(/late-error\.trace: line 3: /);
  });

  it('a reader that goes away (EPIPE) ends the output with exit 0', async () => {
    const file = join(dir, 'epipe.trace');
    writeFileSync(file, generated({ seed: 2, profile: 'mixed', requests: 6000 }));
    let writes = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation((() => {
      writes++;
      const error = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      setImmediate(() => (process.stdout as EventEmitter).emit('error', error));
      return false;
    }) as typeof process.stdout.write);
    expect(await trace([file])).toBe(0);
    expect(writes).toBe(1);
  });
});

describe('drm-gpuvm map --svg reads its input a line at a time', () => {
  it('a dump many chunks long (the whole output of drm-gpuvm trace) draws its last dump, as parseVaDump does', async () => {
    const replayed = replayTrace(generated({ seed: 3, profile: 'mixed', requests: 6000 }));
    const file = join(dir, 'long.dump');
    writeFileSync(file, replayed);
    const out = captureStdout();
    expect(await map(['--svg', file])).toBe(0);
    expect(out.text()).toBe(renderVaMapSvg(parseVaDump(replayed)));
  });
});

describe('drm-gpuvm trace-gen streams', () => {
  it('writes the generator\'s stream in bounded chunks, waiting for drain', async () => {
    const out = captureStdout(2);
    expect(await traceGen(['--seed', '4', '--requests', '20000'])).toBe(0);
    expect(out.text()).toBe(generated({ seed: 4, profile: 'mixed', requests: 20000 }));
    expect(out.writes()).toBeGreaterThan(4);
    expect(out.maxChunk()).toBeLessThan(80_000);
  });
});
