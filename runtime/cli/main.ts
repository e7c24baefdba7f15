// runtime/cli/main.ts — the `capc` command line: one subcommand per file,
// argument parsing by commander, usage errors exit 2. `capc [options] FILE`
// and `capc [options] -e PROG` are `capc run ...`, so capc takes bpftrace's
// command line as it is (and can be a `#!/usr/bin/env capc` interpreter);
// usage errors are reported as bpftrace (getopt) words them.
import { Command, CommanderError } from 'commander';
import { registerBuild, registerCheck, registerEmit } from './emit-build-check.js';
import { registerRun } from './run.js';
import { registerList } from './list.js';
import { EXIT_USAGE, printDiagnostics } from './common.js';
import { setTrustWarningSink } from '../files/trust-warnings.js';
import { mark } from '../timing.js';
import { installCliSignals } from './signals.js';
import { VERSION } from './version.js';

/** The subcommands; any other first argument starts `capc run`. */
const COMMANDS = new Set(['run', 'emit', 'build', 'check', 'list', 'help']);

/**
 * `capc [options] FILE`, `capc [options] -e PROG`, `capc -l PATTERN`,
 * `capc --info`: bpftrace's command line, which is `capc run ...`. A first
 * argument that names a subcommand, no arguments at all, and a lone
 * -h/--help/-V/--version stay capc's own.
 */
export function bpftraceArgv(argv: string[]): string[] {
  const [node, script, ...rest] = argv;
  const first = rest[0];
  if (first === undefined || COMMANDS.has(first)) return argv;
  if (rest.length === 1 && ['-h', '--help', '-V', '--version'].includes(first)) return argv;
  return [node!, script!, 'run', ...rest];
}

const USAGE = `USAGE:
    capc [options] filename
    capc [options] - <stdin input>
    capc [options] -e 'program'
    capc COMMAND [options]     (run, check, emit, build, list)

Run capc --help for the commands, capc run --help for the options.
`;

/** Commander's usage errors, in getopt's words (as bpftrace prints them), then the usage. */
export function usageError(message: string): string {
  const m = message.replace(/^error: /, '').trim();
  const unknown = /^unknown option '([^']+)'/.exec(m);
  const missing = /^option '([^' ]+?)(?:, (--[\w-]+))?(?: <[^>]+>)?' argument missing/.exec(m);
  let text: string;
  if (unknown) {
    const opt = unknown[1]!;
    text = opt.startsWith('--') ? `capc: unrecognized option '${opt}'` : `capc: invalid option -- '${opt.slice(1)}'`;
  } else if (missing) {
    const opt = missing[1]!;
    text = opt.startsWith('--')
      ? `capc: option '${opt}' requires an argument`
      : `capc: option requires an argument -- '${opt.slice(1)}'`;
  } else text = `capc: ${m}`;
  return `${text}\n${USAGE}`;
}

export async function main(argv: string[]): Promise<void> {
  mark('cli loaded');
  installCliSignals();
  setTrustWarningSink((d) => printDiagnostics([d], undefined));
  const program = new Command();
  program
    .name('capc')
    .usage('[options] FILE | -e PROGRAM   (that is capc run), or capc COMMAND ...')
    .description(
      'capc: a bpftrace-style language for tracing and lossless payload capture with eBPF.\n' +
        "capc [options] FILE and capc [options] -e 'PROGRAM' are capc run: it takes bpftrace's options.",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(usageError(str)) });
  registerRun(program);
  registerEmit(program);
  registerBuild(program);
  registerCheck(program);
  registerList(program);
  // Subcommands report their usage errors the same way.
  for (const c of program.commands) c.configureOutput({ outputError: (str, write) => write(usageError(str)) });
  try {
    await program.parseAsync(bpftraceArgv(argv));
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    throw e;
  }
}
