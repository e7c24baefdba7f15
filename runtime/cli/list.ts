// runtime/cli/list.ts — `capc list [PATTERN]` (and `capc -l`, `capc -lv`, as
// bpftrace spells it): the probes a pattern names, one per line, sorted;
// -v adds each probe's arguments. Needs no privileges beyond reading tracefs.
import fs from 'node:fs';
import type { Command } from 'commander';
import { listProbes } from '../listing/list-probes.js';
import { systemHost } from '../host/system-host.js';
import { EXIT_OK, reportFailure } from './common.js';
import { escapeText } from '../format/payload.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description(
      "list probes: tracepoints, raw tracepoints, a binary's functions (uprobe:BIN:*) or USDT probes (usdt:BIN:*), kernel functions (kprobe:*, fentry:*), network interfaces (xdp:*, tc:*)",
    )
    .argument('[pattern]', "e.g. 'tracepoint:sched:*', 'uprobe:/usr/bin/bash:read*', 'usdt:/usr/bin/python3:*'", '*')
    .option('-v, --verbose', 'show the arguments of each probe')
    .action((pattern: string, opts: { verbose?: boolean }) => {
      process.exitCode = listCommand(pattern, !!opts.verbose);
    });
}

export function listCommand(pattern: string, verbose: boolean): number {
  try {
    const lines: string[] = [];
    // Names come from binaries and the kernel: control bytes are shown escaped, never sent to the terminal.
    for (const p of listProbes(systemHost(), pattern, verbose))
      lines.push(escapeText(p.name), ...p.details.map(escapeText));
    // Written synchronously: bin/capc exits right after, and a pipe would lose an async write.
    if (lines.length) fs.writeSync(1, lines.join('\n') + '\n');
    return EXIT_OK;
  } catch (e) {
    return reportFailure(e, undefined, verbose);
  }
}

/** bpftrace's `-l PATTERN` / `-lv PATTERN` at the front of the command line become `list [-v] PATTERN`. */
export function rewriteListFlags(argv: string[]): string[] {
  const [node, script, first, ...rest] = argv;
  if (first === undefined || !/^(?:-l|-lv|-vl|--list)$/.test(first)) return argv;
  const verbose = first.includes('v') && first !== '--list' ? ['-v'] : [];
  const more = rest.filter((a) => a !== '-v' && a !== '--verbose');
  if (rest.length !== more.length) verbose.splice(0, 1, '-v');
  return [node!, script!, 'list', ...verbose, ...more];
}
