// SPDX-License-Identifier: MIT
// `drm-gpuvm trace-gen`: writes a seeded request stream in the trace format on standard output, so the
// same stream can be replayed by `drm-gpuvm trace`, by another implementation, or by a kernel driver. The
// stream is generated as it is written, with back-pressure: memory stays constant for any --requests.
import { formatTraceCommand, generateTrace, type TraceGeneratorParams } from '../trace/trace-generator.js';
import { oneOf, runCommand, UsageError, wholeNumber } from './command-line.js';
import { LineOutput } from './line-output.js';

const USAGE = `usage: drm-gpuvm trace-gen [--seed N] [--profile mixed|steady] [--requests N] [--live N]
  --seed N        stream seed, 0..4294967295 (default 1); the same options always give the same stream
  --profile P     mixed: overlapping requests, keep=1 cases, sparse, u64-edge errors (default)
                  steady: fill --live mappings, then --requests random map/unmap (the replay benchmark)
  --requests N    requests to generate (default 1000; steady: after the fill)
  --live N        steady only: live mappings to reach, e.g. 10000, 100000, 1000000
`;

const SPEC = {
  name: 'trace-gen',
  usage: USAGE,
  options: { seed: { type: 'string' }, profile: { type: 'string' }, requests: { type: 'string' }, live: { type: 'string' } },
} as const;

const PROFILES = ['mixed', 'steady'] as const;

/** Runs the subcommand; returns the exit status (2 for a usage error). */
export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, async ({ values }) => {
    const profile = oneOf('profile', values.profile, PROFILES, 'mixed');
    if (values.live !== undefined && profile !== 'steady') throw new UsageError('--live is an option of --profile steady');
    const params: TraceGeneratorParams = {
      seed: wholeNumber('seed', values.seed, { min: 0, max: 0xffffffff, fallback: 1 }),
      profile,
      requests: wholeNumber('requests', values.requests, { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 1000 }),
      ...(values.live === undefined ? {} : { liveMappings: wholeNumber('live', values.live, { min: 0, max: Number.MAX_SAFE_INTEGER }) }),
    };
    const stream = generateTrace(params);
    try {
      // The generator checks its parameters on the first step: a bad combination is a usage error, not a half-written stream.
      stream.next();
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new UsageError(err.message);
    }
    return write(params);
  });
}

async function write(params: TraceGeneratorParams): Promise<number> {
  const output = new LineOutput();
  for (const command of generateTrace(params)) {
    output.pending.push(formatTraceCommand(command));
    if (!output.chunkReady()) continue;
    await output.writePending();
    if (output.stopped) break;
  }
  return output.end('trace-gen');
}
