// SPDX-License-Identifier: MIT
// Two V8 costs the model's design notes cite (bench/results/gpuvm-vs-kernel.md, step 4), measured here:
// - a u64 read as a bigint from a BigUint64Array (the bigint is made inline) against BigInt(number) (a
//   call into the runtime), and a BigUint64Array store against a field store;
// - an object made with `new` of a class against one made from an object literal with the class's
//   prototype (`{ __proto__: ... }`, a literal allocation site), each kept alive for 10,000 iterations
//   like a mapping, with short-lived garbage around it.
//
//   node bench/v8-costs.mjs
import { loadavg } from 'node:os';

function nsPerIteration(iterations, body) {
  body(iterations / 10);
  const start = process.hrtime.bigint();
  body(iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

const doubles = new Float64Array(1024).map((_, i) => 0x100000000 + i * 4096);
const u64s = BigUint64Array.from(doubles, (d) => BigInt(d));
const bigints = Array.from(u64s);
const holders = Array.from({ length: 1024 }, () => ({ value: 0n }));
let sink = 0n;

class Mapping {
  constructor(obj, value) {
    this.vmBo = null;
    this.obj = obj;
    this.offset = value;
    this.addr = value;
    this.range = value;
    this.flags = 0;
    this.leaf = null;
    this.treeId = -1;
    this.boPrev = null;
    this.boNext = null;
  }
}
const proto = Mapping.prototype;
const ring = new Array(10_000).fill(null);
const gem = {};
const keepAlive = (make) => (n) => {
  for (let i = 0; i < n; i++) {
    ring[i % 10_000] = make(gem, 5n);
    for (let k = 0; k < 8; k++) {
      const garbage = { i, k };
      if (garbage.i < 0) ring[0] = garbage;
    }
  }
};

const cases = {
  'BigInt(number) from a Float64Array': (n) => { for (let i = 0; i < n; i++) sink = BigInt(doubles[i & 1023]); },
  'bigint read from a BigUint64Array': (n) => { for (let i = 0; i < n; i++) sink = u64s[i & 1023]; },
  'bigint store into a BigUint64Array': (n) => { for (let i = 0; i < n; i++) u64s[i & 1023] = bigints[i & 1023]; },
  'bigint store into an object field': (n) => { for (let i = 0; i < n; i++) holders[i & 1023].value = bigints[i & 1023]; },
  'new Mapping(), kept alive': keepAlive((obj, value) => new Mapping(obj, value)),
  '{ __proto__: Mapping.prototype, ... }, kept alive': keepAlive((obj, value) => ({
    __proto__: proto, vmBo: null, obj, offset: value, addr: value, range: value, flags: 0, leaf: null, treeId: -1, boPrev: null, boNext: null,
  })),
};

process.stdout.write(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n`);
for (const [name, body] of Object.entries(cases)) {
  process.stdout.write(`${name}: ${nsPerIteration(name.includes('kept') ? 5e6 : 2e7, body).toFixed(1)} ns per iteration\n`);
}
if (sink < 0n) process.stdout.write('unreachable\n');
