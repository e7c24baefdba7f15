// tests/fuzz/cases.ts — the stream of fuzz inputs for one seed: three in five
// from the grammar-aware generator, two in five mutations of real programs.
// Case i of seed s is always the same program, so a failure is replayed from
// the two numbers alone.
import { generateProgram, Rng } from './generator.js';
import { mutate, seedPrograms } from './mutate.js';
import type { FuzzCase } from './oracle.js';

let seeds: string[] | undefined;

export function fuzzCase(seed: number, i: number): FuzzCase {
  const caseSeed = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  if (i % 5 < 3) {
    const g = generateProgram(caseSeed);
    return { text: g.text, positional: g.positional, origin: `generated seed=${seed} case=${i}` };
  }
  seeds ??= seedPrograms();
  const r = new Rng(caseSeed);
  // Mutate a generated program now and then too: deeper nesting than the seeds have.
  const base = r.chance(0.2) ? generateProgram(caseSeed ^ 0x5bd1e995).text : r.pick(seeds);
  return {
    text: mutate(r, base),
    positional: r.chance(0.2) ? ['7', 'x'] : [],
    origin: `mutated seed=${seed} case=${i}`,
  };
}
