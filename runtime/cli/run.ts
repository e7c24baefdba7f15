// runtime/cli/run.ts — `capc run`: compile, load, attach and print what the
// probes see until exit(), Ctrl-C, the -c command ending or --duration.
import fs from 'node:fs';
import type { Command } from 'commander';
import { CapcError } from '../errors.js';
import { batchedOut } from '../output/batched-out.js';
import { JsonRenderer } from '../output/json.js';
import { TextRenderer, type Out } from '../output/text.js';
import type { Renderer } from '../events/model.js';
import { runSession, type RunOptions } from '../session/session.js';
import { setSignalPhase } from './signals.js';
import { FanOut, StreamFiles } from '../output/stream-files.js';
import { compileOptions, printDiagnostics, readSource, reportFailure, type ProgramOpts } from './common.js';
import { chooseOutputMode } from './output-mode.js';
import { runInTerminalUi } from './run-ui.js';

interface RunOpts extends ProgramOpts {
  c?: string;
  p?: string;
  duration?: string;
  format?: string;
  tui: boolean;
  o?: string;
  q?: boolean;
  cache: boolean;
  drainMs?: string;
  hex?: boolean;
  writeStreams?: string;
  print?: boolean;
  captureRingSize?: string;
  maxConnections?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('compile a program, load it into the kernel and print what its probes see')
    .argument('[file]', '.cap program to run (- for stdin)')
    .argument('[args...]', 'positional parameters: $1, $2, ...')
    .option('-e <program>', 'program text instead of a file')
    .option('-c <command>', 'start COMMAND, trace it, stop when it exits (cpid is its pid)')
    .option('-p <pid>', 'attach uprobes to this process only; stop when it exits')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option(
      '-f, --format <format>',
      'output format: text or json (default: the terminal UI on a terminal, text otherwise)',
    )
    .option('--no-tui', 'plain text output even on a terminal')
    .option('-o <file>', 'write output to FILE instead of stdout')
    .option('-q', 'quiet: no "Attaching N probes..." line')
    .option('-v, --verbose', 'show the verifier log and libbpf messages on failure')
    .option('--strlen <bytes>', 'default size of str() (bytes, including the NUL)')
    .option('--ringbuf-size <bytes>', 'size of the event ring buffer, a power of two (e.g. 4M)')
    .option('--max-map-keys <n>', 'entries per map')
    .option('--drain-ms <ms>', 'how often the rings are drained when the kernel does not wake capc', '5')
    .option('--hex', 'show captured payload as a hex dump')
    .option('--write-streams <dir>', 'write every captured connection direction to a file in DIR (byte-exact)')
    .option(
      '--print',
      'with --write-streams, print the captured bytes too (text output shows only connections otherwise)',
    )
    .option('--capture-ring-size <bytes>', 'size of the capture ring buffer, a power of two (default 16M)')
    .option('--max-connections <n>', 'connections each capture table holds (default 1024)')
    .option('--no-cache', 'compile from scratch, ignoring the cached program and object')
    .action(async (file: string | undefined, args: string[], opts: RunOpts) => {
      process.exitCode = await runCommand(file, args, opts);
    });
}

async function runCommand(file: string | undefined, args: string[], opts: RunOpts): Promise<number> {
  let source;
  try {
    const positional = opts.e !== undefined && file !== undefined ? [file, ...args] : args;
    source = readSource(opts.e !== undefined ? undefined : file, opts);
    if (opts.format !== undefined && !['text', 'json'].includes(opts.format))
      throw new CapcError('E0904', `unknown output format '${opts.format}'`, ['use -f text or -f json']);
    const pid = opts.p !== undefined ? parseInteger('-p', opts.p) : undefined;
    const duration = opts.duration !== undefined ? Number(opts.duration) : undefined;
    if (duration !== undefined && !(duration > 0))
      throw new CapcError('E0904', '--duration needs a positive number of seconds');
    if (opts.c !== undefined && pid !== undefined) throw new CapcError('E0904', 'use either -c or -p, not both');
    // A closed output (`| head`) stops the session cleanly instead of crashing it.
    const abort = new AbortController();
    let outClosed = false;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      outClosed = true;
      abort.abort();
    });
    const out: Out = opts.o ? fileOut(opts.o) : batchedOut((d) => void (outClosed || process.stdout.write(d)));
    const err: Out = { write: (d) => void process.stderr.write(d) };
    const { mode } = chooseOutputMode({
      format: opts.format,
      outputFile: !!opts.o,
      tui: opts.tui,
      stdoutIsTTY: process.stdout.isTTY,
      stdinIsTTY: process.stdin.isTTY,
      env: process.env,
    });
    // Stream files first: each file is opened (and handed to the capture thread) before an output can stall.
    const withStreamFiles = (r: Renderer): Renderer =>
      opts.writeStreams ? new FanOut([new StreamFiles(opts.writeStreams), r]) : r;
    const src = source;
    const base: Omit<RunOptions, 'renderer'> = {
      onSessionStart: () => setSignalPhase('session'),
      source,
      compile: compileOptions(opts, positional),
      command: opts.c,
      pid,
      durationSec: duration,
      drainMs: Number(opts.drainMs ?? 5),
      verbose: opts.verbose,
      noCache: !opts.cache,
      onWarnings: (ds) => printDiagnostics(ds, src),
      signal: abort.signal,
      onAttached: process.env.CAPC_NOTIFY_ATTACHED ? () => process.stderr.write('__CAPC_ATTACHED__\n') : undefined,
      onLoaded: process.env.CAPC_NOTIFY_ATTACHED
        ? (ids) => process.stderr.write(`__CAPC_LOADED__ ${ids.join(',')}\n`)
        : undefined,
    };
    if (mode === 'ui')
      return await runInTerminalUi(base, { wrap: withStreamFiles, quiet: !!opts.q, hex: !!opts.hex, abort, out, err });
    // With --write-streams the captured bytes are in the files: text output shows connections, not their bytes,
    // unless --print (as tcpdump -w and --print).
    const showPayload = !opts.writeStreams || !!opts.print;
    const main =
      mode === 'json' ? new JsonRenderer(out) : new TextRenderer(out, err, !!opts.q, !!opts.hex, showPayload);
    return await runSession({ ...base, renderer: withStreamFiles(main) });
  } catch (e) {
    return reportFailure(e, source, !!opts.verbose);
  } finally {
    setSignalPhase('done');
  }
}

function parseInteger(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new CapcError('E0904', `${flag} needs a number (got '${v}')`);
  return Number(v);
}

function fileOut(path: string): Out {
  let fd: number;
  try {
    fd = fs.openSync(path, 'w');
  } catch (e) {
    throw new CapcError('E0904', `cannot write ${path}: ${(e as Error).message}`);
  }
  return batchedOut((d) => void fs.writeSync(fd, d));
}
