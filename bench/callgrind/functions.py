#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Callgrind's self instruction counts per function, with V8's JIT code named through its perf map.
#
#   functions.py summary CALLGRIND_OUT /tmp/perf-PID.map > SUMMARY
#       one line per function: count, share, name (JIT code as "JS name file:line")
#   functions.py diff PARSE_SHORT REPLAY_SHORT PARSE_LONG REPLAY_LONG REQUESTS [TOP]
#       per request: (REPLAY_LONG - PARSE_LONG) - (REPLAY_SHORT - PARSE_SHORT), from four summaries of
#       bench/callgrind/replay.mjs runs on two traces REQUESTS requests apart
import bisect
import re
import subprocess
import sys


def summary(callgrind_out, perf_map):
    ranges = []
    with open(perf_map) as f:
        for line in f:
            parts = line.rstrip('\n').split(' ', 2)
            if len(parts) == 3:
                start = int(parts[0], 16)
                ranges.append((start, start + int(parts[1], 16), parts[2]))
    ranges.sort()
    starts = [r[0] for r in ranges]

    def jit_name(addr):
        i = bisect.bisect_right(starts, addr) - 1
        return ranges[i][2] if i >= 0 and ranges[i][0] <= addr < ranges[i][1] else None

    text = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=no', callgrind_out],
                          capture_output=True, text=True, check=True).stdout
    totals = {}
    for line in text.splitlines():
        m = re.match(r'\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$', line)
        if not m or 'PROGRAM TOTALS' in m.group(2):
            continue
        count = int(m.group(1).replace(',', ''))
        name = m.group(2).strip()
        addr = re.search(r'0x([0-9a-fA-F]{6,})', name)
        if addr and ('???' in name or name.startswith('0x')):
            jit = jit_name(int(addr.group(1), 16))
            name = f'JIT {jit}' if jit else '??? (not in the perf map)'
        else:
            name = re.sub(r'\s*\[.*\]$', '', name)
        totals[name] = totals.get(name, 0) + count
    grand = sum(totals.values())
    for name, count in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f'{count:>14,} {100 * count / grand:5.1f}%  {name}')


def load(path):
    counts = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'\s*([\d,]+)\s+[\d.]+%\s+(.*)$', line)
            if m:
                # JIT names carry the checkout's path and V8's tier marks; two builds compare by function.
                name = re.sub(r'file://\S*?/dist/', '', m.group(2))
                name = re.sub(r'JIT JS:[*^~]?', 'JS ', name)
                counts[name] = counts.get(name, 0) + int(m.group(1).replace(',', ''))
    return counts


def diff(parse_short, replay_short, parse_long, replay_long, requests, top=40):
    a, b, c, d = (load(p) for p in (parse_short, replay_short, parse_long, replay_long))
    names = set(a) | set(b) | set(c) | set(d)
    per = {n: (d.get(n, 0) - c.get(n, 0)) - (b.get(n, 0) - a.get(n, 0)) for n in names}
    total = sum(per.values())
    print(f'{total / requests:.0f} instructions per request')
    for name, count in sorted(per.items(), key=lambda kv: -kv[1])[:top]:
        print(f'{count / requests:7.0f} {100 * count / total:5.1f}%  {name[:140]}')


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'summary':
        summary(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (7, 8) and sys.argv[1] == 'diff':
        diff(*sys.argv[2:6], int(sys.argv[6]), *(int(x) for x in sys.argv[7:]))
    else:
        sys.stderr.write(__doc__ or 'see the comment at the top of this file\n')
        sys.exit(2)
