// runtime/cli/output-mode.ts — chooses, once, how `capc run` shows what it
// sees: the terminal UI when a person is watching (stdout and stdin are
// terminals, no CI, no -f, no -o, no --no-tui), otherwise bpftrace's text, or
// JSON lines with -f json. Pure: the caller passes the environment in.

export type OutputMode = 'ui' | 'text' | 'json';

export interface ModeInputs {
  /** -f as given (undefined when not given). */
  format?: string;
  /** -o FILE given. */
  outputFile?: boolean;
  /** false with --no-tui. */
  tui?: boolean;
  stdoutIsTTY?: boolean;
  stdinIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
}

/** As Ink (is-in-ci) decides it: a CI variable set to anything but 0/false. */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const set = (k: string) => k in env && env[k] !== '0' && env[k] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}

export function chooseOutputMode(i: ModeInputs): { mode: OutputMode; why: string } {
  if (i.format === 'json') return { mode: 'json', why: '-f json' };
  if (i.format === 'text') return { mode: 'text', why: '-f text' };
  if (i.outputFile) return { mode: 'text', why: '-o FILE' };
  if (i.tui === false) return { mode: 'text', why: '--no-tui' };
  if (!i.stdoutIsTTY) return { mode: 'text', why: 'stdout is not a terminal' };
  if (!i.stdinIsTTY) return { mode: 'text', why: 'stdin is not a terminal (the UI needs keys)' };
  if (isCI(i.env)) return { mode: 'text', why: 'CI is set' };
  if (i.env.TERM === 'dumb') return { mode: 'text', why: 'TERM=dumb' };
  return { mode: 'ui', why: 'a terminal' };
}

/** NO_COLOR (no-color.org): present and not empty turns colour off. */
export function colorAllowed(env: NodeJS.ProcessEnv): boolean {
  return !env.NO_COLOR;
}
