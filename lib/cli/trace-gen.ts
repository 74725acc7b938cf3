// SPDX-License-Identifier: MIT
// `drm-gpuvm trace-gen`: writes a seeded request stream in the trace format on standard output, so the
// same stream can be replayed by `drm-gpuvm trace`, by another implementation, or by a kernel driver.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { formatTraceCommand, generateTrace, type TraceGeneratorParams } from '../trace/trace-generator.js';

const USAGE = `usage: drm-gpuvm trace-gen [--seed N] [--profile mixed|steady] [--requests N] [--live N]
  --seed N        stream seed, 0..4294967295 (default 1); the same options always give the same stream
  --profile P     mixed: overlapping requests, keep=1 cases, sparse, u64-edge errors (default)
                  steady: fill --live mappings, then --requests random map/unmap (the replay benchmark)
  --requests N    requests to generate (default 1000; steady: after the fill)
  --live N        steady only: live mappings to reach, e.g. 10000, 100000, 1000000
`;

/** Runs the subcommand; returns the exit status (2 for a usage error). */
export async function run(argv: string[]): Promise<number> {
  let params: TraceGeneratorParams;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        seed: { type: 'string', default: '1' },
        profile: { type: 'string', default: 'mixed' },
        requests: { type: 'string', default: '1000' },
        live: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (values.live !== undefined && values.profile !== 'steady') throw new RangeError('--live is an option of --profile steady');
    params = {
      seed: integer(values.seed, '--seed'),
      profile: values.profile as TraceGeneratorParams['profile'],
      requests: integer(values.requests, '--requests'),
      ...(values.live === undefined ? {} : { liveMappings: integer(values.live, '--live') }),
    };
    // Validate now so a bad option is a usage error, not a half-written stream.
    generateTrace(params).next();
  } catch (err) {
    process.stderr.write(`drm-gpuvm trace-gen: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  return write(params);
}

/** Streams the trace with back-pressure; a reader that goes away early (EPIPE, as with `| head`) is not an error. */
async function write(params: TraceGeneratorParams): Promise<number> {
  const out = process.stdout;
  let failure: NodeJS.ErrnoException | null = null;
  const onError = (err: NodeJS.ErrnoException): void => { failure ??= err; };
  // Stays attached: an EPIPE can arrive after the last write, and an unhandled 'error' would crash.
  out.on('error', onError);
  let chunk = '';
  for (const command of generateTrace(params)) {
    chunk += `${formatTraceCommand(command)}\n`;
    if (chunk.length < 1 << 16) continue;
    if (!out.write(chunk)) await once(out, 'drain').catch(onError);
    chunk = '';
    if (failure) break;
  }
  if (!failure) out.write(chunk);
  const err = failure as NodeJS.ErrnoException | null;
  if (err === null || err.code === 'EPIPE') return 0;
  process.stderr.write(`drm-gpuvm trace-gen: ${err.message}\n`);
  return 1;
}

function integer(text: string, option: string): number {
  if (!/^[0-9]+$/.test(text)) throw new RangeError(`${option} must be a decimal integer, got '${text}'`);
  return Number(text);
}
