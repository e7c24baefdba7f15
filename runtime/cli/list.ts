// runtime/cli/list.ts — `capc list [PATTERN]` (and `capc -l`, `capc -lv`,
// `capc -l -p PID`, as bpftrace spells them: run.ts sends them here): the
// probes a pattern names, one per line, sorted; -v adds each probe's
// arguments. Needs no privileges beyond reading tracefs.
import fs from 'node:fs';
import type { Command } from 'commander';
import { listProbes } from '../listing/list-probes.js';
import { systemHost } from '../host/system-host.js';
import { EXIT_OK, reportFailure } from './common.js';
import { escapeText } from '../format/payload.js';
import { parsePid } from './run-options.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description(
      "list probes: tracepoints, raw tracepoints, a binary's functions (uprobe:BIN:*) or USDT probes (usdt:BIN:*), kernel functions (kprobe:*, fentry:*), network interfaces (xdp:*, tc:*)",
    )
    .argument('[pattern]', "e.g. 'tracepoint:sched:*', 'uprobe:/usr/bin/bash:read*', 'usdt:/usr/bin/python3:*'", '*')
    .option('-v, --verbose', 'show the arguments of each probe')
    .option('-p <pid>', "a process: its binary's functions and USDT probes (uprobe:*, usdt:*)")
    .action((pattern: string, opts: { verbose?: boolean; p?: string }) => {
      try {
        process.exitCode = listCommand(pattern, !!opts.verbose, opts.p !== undefined ? parsePid(opts.p) : undefined);
      } catch (e) {
        process.exitCode = reportFailure(e, undefined, !!opts.verbose);
      }
    });
}

/** `pattern` '' (bpftrace -l with no pattern) lists every probe, or with `pid` that process's. */
export function listCommand(pattern: string, verbose: boolean, pid?: number): number {
  try {
    const lines: string[] = [];
    // Names come from binaries and the kernel: control bytes are shown escaped, never sent to the terminal.
    for (const p of listProbes(systemHost(), pattern, verbose, pid))
      lines.push(escapeText(p.name), ...p.details.map(escapeText));
    // Written synchronously: bin/capc exits right after, and a pipe would lose an async write.
    if (lines.length) fs.writeSync(1, lines.join('\n') + '\n');
    return EXIT_OK;
  } catch (e) {
    return reportFailure(e, undefined, verbose);
  }
}
