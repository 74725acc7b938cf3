// SPDX-License-Identifier: MIT
// Replays trace-format text (docs/trace-format.md) through a reference model and prints the spec's
// output, so the reference can be checked against the spec's twelve cases and compared line by line with
// `drm-gpuvm trace`. Trusted input only (spec cases, generated traces): a bad line is a test bug and throws.
import { formatResult, formatVa, type ReferenceModel, type RefVmConfig } from './reference-ops.js';

/** Replays `text` through the model `create` builds for its `vm` line; returns the output text. */
export function replayWithReference(text: string, create: (config: RefVmConfig) => ReferenceModel): string {
  const bos = new Map<string, bigint>();
  let model: ReferenceModel | null = null;
  const out: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return;
    const num = (i: number): bigint => {
      const word = words[i];
      if (word === undefined || !/^0x[0-9a-fA-F]+$/.test(word)) throw new Error(`line ${index + 1}: bad number in '${raw}'`);
      return BigInt(word);
    };
    const [command] = words;
    if (command === 'vm') {
      const reserve = words[3] === 'reserve' ? { start: num(4), range: num(5) } : null;
      model = create({ start: num(1), range: num(2), reserve, bos });
      return;
    }
    if (command === 'bo') { bos.set(words[1]!, num(2)); return; }
    if (model === null) throw new Error(`line ${index + 1}: request before vm`);
    const vm: ReferenceModel = model;
    if (command === 'map') {
      const sparse = words[3] === 'sparse';
      out.push(...formatResult(vm.map({ addr: num(1), range: num(2), bo: sparse ? null : words[3]!, offset: sparse ? 0n : num(4) })));
    } else if (command === 'unmap') {
      out.push(...formatResult(vm.unmap(num(1), num(2))));
    } else if (command === 'dump') {
      out.push(...vm.mappings().map((va) => `va ${formatVa(va)}`), 'end');
    } else {
      throw new Error(`line ${index + 1}: unknown command '${command}'`);
    }
  });
  return out.map((line) => `${line}\n`).join('');
}
