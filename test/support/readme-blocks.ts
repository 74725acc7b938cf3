// SPDX-License-Identifier: MIT
// The README's code blocks, as the README-examples test runs them. A fenced block in `sh`, `ts` or `js` is
// an example that runs; an HTML comment on the line before its fence (blank lines between allowed) says how,
// as `<!-- readme-test: WORD ...; WORD ... -->`:
//   skip (why)         it cannot run; the reason is required and shows in the test output
//   vm                 (ts/js) it needs vgem: run inside `drm-gpuvm vm` on each Debian kernel, not on the host
//   host               (ts/js, with vm) run it on the host too (the software device): the same script everywhere
//   vgpuvm             (ts/js, with vm) run it in `drm-gpuvm vm --kernel sid --with-vgpuvm` too, where openGpu
//                      finds the vgpuvm node first
//   continues          (ts/js) it goes on from the previous ts/js block (its imports, its variables)
//   files A=B C        before it runs, copy the repository's B (a file or folder) to A in the consumer
//                      project; a bare C copies C to the same path
// In an `sh` block every line that is not a comment is a command (a trailing backslash continues it); a run
// of `# ` comment lines that ends the block is the exact stdout of the command before it.

/** One command of an `sh` block. */
export interface ShCommand {
  /** 1-based line in the README where the command starts. */
  line: number;
  text: string;
  /** Its exact stdout, when the block ends with the output it prints. */
  stdout: string | undefined;
}

/** One runnable fenced block. */
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'sh' | 'ts' | 'js';
  body: string;
  /** Why it is not run, when a skip marker says so. */
  skip: string | undefined;
  vm: boolean;
  /** With vm: also on the host. */
  host: boolean;
  /** With vm: also in the VM with the vgpuvm module (sid). */
  vgpuvm: boolean;
  continues: boolean;
  /** Consumer-project path -> repository path, copied before the block runs. */
  files: ReadonlyMap<string, string>;
  /** The commands of an `sh` block (empty for ts/js). */
  commands: ShCommand[];
}

const RUNNABLE = new Set(['sh', 'ts', 'js']);
const MARKER = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;

/** Parses the README's runnable blocks; throws on a marker it does not understand, so a typo cannot skip a test. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (fence === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`README line ${i + 1}: a code block that never ends`);
    const lang = fence[1]!;
    const body = lines.slice(i + 1, end);
    if (RUNNABLE.has(lang)) blocks.push(block(i + 1, lang as ReadmeBlock['lang'], body, markerBefore(lines, i)));
    i = end;
  }
  return blocks;
}

function markerBefore(lines: readonly string[], fence: number): string | undefined {
  let j = fence - 1;
  while (j >= 0 && lines[j]!.trim() === '') j--;
  return j >= 0 ? MARKER.exec(lines[j]!.trim())?.[1] : undefined;
}

function block(line: number, lang: ReadmeBlock['lang'], body: string[], marker: string | undefined): ReadmeBlock {
  const result: ReadmeBlock = { line, lang, body: `${body.join('\n')}\n`, skip: undefined, vm: false, host: false, vgpuvm: false, continues: false, files: new Map(), commands: [] };
  for (const word of markerWords(marker ?? '')) {
    const skip = /^skip \((.+)\)$/.exec(word);
    if (skip !== null) result.skip = skip[1];
    else if (word === 'vm') result.vm = true;
    else if (word === 'host') result.host = true;
    else if (word === 'vgpuvm') result.vgpuvm = true;
    else if (word === 'continues') result.continues = true;
    else if (word.startsWith('files ')) {
      for (const spec of word.slice('files '.length).trim().split(/\s+/)) {
        const [to, from] = spec.includes('=') ? spec.split('=', 2) as [string, string] : [spec, spec];
        (result.files as Map<string, string>).set(to, from);
      }
    } else throw new Error(`README line ${line}: unknown readme-test marker '${word}'`);
  }
  if (lang === 'sh' && (result.vm || result.continues)) throw new Error(`README line ${line}: 'vm' and 'continues' are for ts/js blocks`);
  if ((result.host || result.vgpuvm) && !result.vm) throw new Error(`README line ${line}: 'host' and 'vgpuvm' go with 'vm'`);
  if (lang === 'sh') result.commands = shCommands(line, body);
  return result;
}

/** The marker's words: split at `;` outside parentheses, so a skip's reason may hold one. */
function markerWords(marker: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let word = '';
  for (const ch of marker) {
    if (ch === ';' && depth === 0) {
      words.push(word);
      word = '';
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    word += ch;
  }
  words.push(word);
  return words.map((w) => w.trim()).filter((w) => w !== '');
}

function shCommands(fenceLine: number, body: readonly string[]): ShCommand[] {
  const commands: ShCommand[] = [];
  let trailing: string[] = [];
  for (let k = 0; k < body.length; k++) {
    const text = body[k]!;
    if (text.trim() === '') continue;
    if (text.startsWith('#')) {
      trailing.push(text.replace(/^# ?/, ''));
      continue;
    }
    trailing = [];
    const start = k;
    let command = text;
    while (command.endsWith('\\') && k + 1 < body.length) command = `${command.slice(0, -1)}\n${body[++k]!}`;
    commands.push({ line: fenceLine + 1 + start, text: command, stdout: undefined });
  }
  const last = commands.at(-1);
  if (last !== undefined && trailing.length > 0) last.stdout = `${trailing.join('\n')}\n`;
  return commands;
}
