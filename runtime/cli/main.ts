// runtime/cli/main.ts — the `capc` command line: one subcommand per file,
// argument parsing by commander, usage errors exit 2.
import { Command, CommanderError } from 'commander';
import { registerBuild, registerCheck, registerEmit } from './emit-build-check.js';
import { registerRun } from './run.js';
import { registerList, rewriteListFlags } from './list.js';
import { EXIT_USAGE, printDiagnostics } from './common.js';
import { setTrustWarningSink } from '../files/trust-warnings.js';
import { mark } from '../timing.js';
import { installCliSignals } from './signals.js';

import { VERSION } from './version.js';

export { VERSION };

export async function main(argv: string[]): Promise<void> {
  mark('cli loaded');
  installCliSignals();
  setTrustWarningSink((d) => printDiagnostics([d], undefined));
  const program = new Command();
  program
    .name('capc')
    .description('capc: a bpftrace-style language for tracing and lossless payload capture with eBPF')
    .version(VERSION)
    .showHelpAfterError('(run capc help for usage)')
    .exitOverride();
  registerRun(program);
  registerEmit(program);
  registerBuild(program);
  registerCheck(program);
  registerList(program);
  try {
    await program.parseAsync(rewriteListFlags(argv));
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    throw e;
  }
}
