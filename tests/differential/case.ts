// tests/differential/case.ts — the shape of a differential case (see cases.ts).

export type Compare = 'exact' | 'hist' | 'json' | 'approx';

export interface Case {
  name: string;
  program?: string;
  command?: string;
  flags?: string[];
  args?: string[];
  env?: NodeJS.ProcessEnv;
  compare: Compare;
  /** Lines (regexps, multiline) capc's output must contain. */
  expect: RegExp[];
  /** Lines capc's output must not contain (the intended difference). */
  expectNot?: RegExp[];
  note?: string;
  /** Applied to each tool's stdout before comparing. */
  normalize?: (out: string, tool: 'bpftrace' | 'capc') => string;
  /** -p: the workload runs in the background; `$PID` in flags is its pid. */
  background?: string[];
  /** -o FILE: compare the file's contents instead of stdout. */
  outputFile?: boolean;
  /** Give the program as a file (positional argument) instead of -e. */
  programFile?: boolean;
}

/** The workload stays alive 400 ms after its work: bpftrace symbolises late. */
export const LINGER = { LINGER_MS: '400' };
