// SPDX-License-Identifier: MIT
// The first-use progress of drm-gpuvm vm: phases with their elapsed time (and a download's bytes and percent)
// on a terminal, one final line in a pipe.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressReporter } from '../../../lib/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  const stream = { isTTY, write: (text: string) => { written.push(text); return true; } } as unknown as NodeJS.WriteStream;
  return { stream, text: () => written.join('') };
}

afterEach(() => { vi.useRealTimers(); });

describe('progressReporter', () => {
  it('on a terminal: each phase ticks in place and keeps its elapsed time when the next one starts', () => {
    vi.useFakeTimers();
    let t = 0;
    const { stream, text } = fakeStream(true);
    const progress = progressReporter(stream, () => t);
    progress.log('downloading the sid kernel');
    t = 2000;
    vi.advanceTimersByTime(1000);
    expect(text()).toContain('\rdownloading the sid kernel (2.0 s)\x1b[K');
    t = 3500;
    progress.log('unpacking');
    t = 4000;
    progress.end();
    expect(text()).toContain('\rdownloading the sid kernel (3.5 s)\x1b[K\n');
    expect(text().endsWith('\runpacking (0.5 s)\x1b[K\n')).toBe(true);
    const before = text();
    vi.advanceTimersByTime(5000);
    progress.end();
    expect(text()).toBe(before);
  });

  it('on a terminal: a download shows its bytes and percent as they arrive, and keeps the last count', () => {
    vi.useFakeTimers();
    let t = 0;
    const { stream, text } = fakeStream(true);
    const progress = progressReporter(stream, () => t);
    progress.log('downloading linux-image');
    t = 1000;
    progress.log.bytes?.(12_300_000, 70_600_000);
    expect(text()).toContain('\rdownloading linux-image: 12.3 MB of 70.6 MB (17%) (1.0 s)\x1b[K');
    t = 2000;
    vi.advanceTimersByTime(1000);
    expect(text()).toContain('\rdownloading linux-image: 12.3 MB of 70.6 MB (17%) (2.0 s)\x1b[K');
    progress.log.bytes?.(70_600_000, 70_600_000);
    t = 2500;
    progress.log('unpacking');
    expect(text()).toContain('\rdownloading linux-image: 70.6 MB of 70.6 MB (100%) (2.5 s)\x1b[K\n');
    expect(text()).toContain('\runpacking (0.0 s)\x1b[K');
    progress.end();
  });

  it('in a pipe: nothing but one final line, and nothing at all when there was no step', () => {
    let t = 0;
    const piped = fakeStream(false);
    const progress = progressReporter(piped.stream, () => t);
    progress.log('step one');
    t = 1200;
    progress.log('step two');
    t = 6100;
    expect(piped.text()).toBe('');
    progress.end();
    progress.end();
    expect(piped.text()).toBe('drm-gpuvm vm: first-use steps: 2 in 6.1 s; the last: step two\n');
    const fetching = fakeStream(false);
    const download = progressReporter(fetching.stream, () => t);
    download.log('downloading one');
    download.log.bytes?.(5_000_000, 10_000_000);
    download.log.bytes?.(10_000_000, 10_000_000);
    download.log('downloading two');
    download.log.bytes?.(2_500_000, 2_500_000);
    expect(fetching.text()).toBe('');
    download.end();
    expect(fetching.text()).toBe('drm-gpuvm vm: first-use steps: 2 in 0.0 s, 12.5 MB downloaded; the last: downloading two\n');
    const idle = fakeStream(false);
    progressReporter(idle.stream).end();
    expect(idle.text()).toBe('');
  });
});
