// tests/fuzz/mutate.ts — damage valid programs the way people and bad
// copy-paste do: cut, duplicate and swap spans, drop in tokens and hostile
// bytes, push numbers to their edges, truncate. The seeds are the examples,
// the analysis corpus and the sample inputs, so mutations start from real,
// accepted programs.
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS } from '../fixtures/corpus.js';
import { repoRoot } from '../support/paths.js';
import type { Rng } from './generator.js';

const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '/',
  ';',
  ',',
  ':',
  '@',
  '$',
  '"',
  '->',
  '.',
  '?',
  '=',
  '==',
  '++',
  '--',
  '+=',
  '<<',
  '>>',
  '&&',
  '||',
  '!',
  '~',
  '*',
  '%',
  '-',
  '//',
  '/*',
  '*/',
  '\n',
  ' ',
  '\t',
  'BEGIN',
  'END',
  'if',
  'else',
  'return',
  'config',
  'count()',
  'sum(1)',
  'str(',
  'printf("%d\\n", ',
  'exit();',
  'delete(@x[1])',
  'args->',
  'arg0',
  'retval',
  'comm',
  'pid',
  'tracepoint:',
  'uprobe:',
  'uretprobe:',
  'interval:s:',
  'accumulate(conn, 1024)',
  'capture(conn, 4096)',
  '-> ringbuf',
  '-> perfbuf(1M)',
  '$1',
  '$#',
  '@m[',
  '(uint8)',
  '(int128)',
  '99999999999999999999',
  '0x',
  '-9223372036854775808',
  '"\\x',
  '"\\777"',
  '\\',
  '\0',
  '\u00ff',
  '\ufffd',
  '😀',
  '#include <x>',
  '??/',
  "'",
  '`',
];

const EDGE_NUMBERS = [
  '0',
  '-1',
  '1',
  '4095',
  '4096',
  '65536',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9223372036854775807',
  '18446744073709551615',
  '18446744073709551616',
  '0x0',
  '0xffffffffffffffff',
  '1000000000000',
];

export function seedPrograms(): string[] {
  const seeds = [...CORPUS];
  const ex = path.join(repoRoot, 'examples');
  for (const f of fs
    .readdirSync(ex)
    .filter((f) => f.endsWith('.cap'))
    .sort())
    seeds.push(fs.readFileSync(path.join(ex, f), 'utf8'));
  const samples = path.join(repoRoot, 'tests', 'samples');
  for (const group of fs.readdirSync(samples).sort()) {
    for (const s of fs.readdirSync(path.join(samples, group)).sort()) {
      const input = path.join(samples, group, s, 'input.cap');
      if (fs.existsSync(input)) seeds.push(fs.readFileSync(input, 'utf8'));
    }
  }
  return seeds;
}

function span(r: Rng, text: string): [number, number] {
  const a = r.int(text.length + 1);
  const b = Math.min(text.length, a + 1 + r.int(r.chance(0.7) ? 8 : 40));
  return [a, b];
}

export function mutate(r: Rng, seed: string): string {
  let t = seed;
  const n = 1 + r.int(r.chance(0.8) ? 3 : 8);
  for (let i = 0; i < n; i++) {
    const [a, b] = span(r, t);
    switch (r.int(9)) {
      case 0: // delete
        t = t.slice(0, a) + t.slice(b);
        break;
      case 1: // duplicate
        t = t.slice(0, b) + t.slice(a, b) + t.slice(b);
        break;
      case 2: // insert a token
      case 3:
        t = t.slice(0, a) + r.pick(TOKENS) + t.slice(a);
        break;
      case 4: {
        // swap with another span
        const [c, d] = span(r, t);
        if (b <= c) t = t.slice(0, a) + t.slice(c, d) + t.slice(b, c) + t.slice(a, b) + t.slice(d);
        break;
      }
      case 5: {
        // an edge number in place of a number
        const nums = [...t.matchAll(/\b\d+\b/g)];
        if (nums.length) {
          const m = r.pick(nums);
          t = t.slice(0, m.index) + r.pick(EDGE_NUMBERS) + t.slice(m.index! + m[0].length);
        }
        break;
      }
      case 6: // a random byte (any code unit, including controls and lone surrogates)
        t = t.slice(0, a) + String.fromCharCode(r.chance(0.5) ? r.int(128) : r.int(0x10000)) + t.slice(a);
        break;
      case 7: // truncate
        t = t.slice(0, a);
        break;
      default: {
        // splice in a piece of another line of the same program
        const lines = t.split('\n');
        const li = r.int(lines.length);
        lines.splice(r.int(lines.length + 1), 0, lines[li]!.slice(r.int(lines[li]!.length + 1)));
        t = lines.join('\n');
      }
    }
  }
  return t;
}
