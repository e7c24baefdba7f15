// runtime/cli/run.ts — `capc run` (and `capc [options] FILE`): compile,
// load, attach and print what the probes see until exit(), Ctrl-C, the -c
// command ending or --duration. bpftrace's other modes of the same command
// line go elsewhere: -l lists probes (list.ts), --info describes the kernel
// (info.ts), -d / --emit-elf compile without loading (dry-run.ts).
import fs from 'node:fs';
import tty from 'node:tty';
import type { Command } from 'commander';
import { CapcError } from '../errors.js';
import { batchedOut } from '../output/batched-out.js';
import type { DirectOutput } from '../format/printf-thread.js';
import { JsonRenderer } from '../output/json.js';
import { TextRenderer, type Out } from '../output/text.js';
import type { Renderer } from '../events/model.js';
import { runSession, type RunOptions } from '../session/session.js';
import { setSignalPhase } from './signals.js';
import { FanOut, StreamFiles } from '../output/stream-files.js';
import { createPrivateFile } from '../files/private-files.js';
import { compileOptions, printDiagnostics, readSource, reportFailure } from './common.js';
import { DecodeStage } from '../protocols/stage.js';
import { parseProtocols } from '../protocols/registry.js';
import type { Manifest } from '../../compiler/index.js';
import { chooseOutputMode } from './output-mode.js';
import { runInTerminalUi } from './run-ui.js';
import type { ExportOptions } from '../export/index.js';
import { VERSION } from './version.js';
import {
  addRunOptions,
  checkFormat,
  parseBuffering,
  parsePid,
  uprobeForm,
  type Buffering,
  type RunOpts,
} from './run-options.js';
import { listCommand } from './list.js';
import { infoCommand } from './info.js';
import { dryRun } from './dry-run.js';
import { readyNotifier } from './ready-fd.js';

/** What --tls runs: every TLS stack discovery finds, batched per connection. */
export const TLS_PROGRAM = 'uprobe:tls:* accumulate(conn, 1024) -> ringbuf';

export function registerRun(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .description('compile a program, load it into the kernel and print what its probes see')
      .argument('[file]', 'program to run (- for stdin); with -l, the probes to list')
      .argument('[args...]', 'positional parameters: $1, $2, ...'),
  ).action(async (file: string | undefined, args: string[], opts: RunOpts) => {
    if (opts.l) process.exitCode = listRequest(file, args, opts);
    else if (opts.info) process.exitCode = await infoCommand();
    else if (opts.d || opts.emitElf !== undefined || opts.emitLlvm !== undefined)
      process.exitCode = await dryRun(file, args, opts);
    else process.exitCode = await runCommand(file, args, opts);
  });
}

/** -l [PATTERN] [-p PID] [-v]: as `capc list`. */
function listRequest(file: string | undefined, args: string[], opts: RunOpts): number {
  try {
    if (args.length) throw new CapcError('E0904', `-l takes one pattern, got ${args.length + 1}`);
    const pid = opts.p !== undefined ? parsePid(opts.p) : undefined;
    return listCommand(opts.e ?? file ?? '', !!opts.verbose, pid);
  } catch (e) {
    return reportFailure(e, undefined, !!opts.verbose);
  }
}

async function runCommand(file: string | undefined, args: string[], opts: RunOpts): Promise<number> {
  let source;
  try {
    const positional = opts.e !== undefined && file !== undefined ? [file, ...args] : args;
    checkFormat(opts.format);
    const buffering = parseBuffering(opts.B);
    const pid = opts.p !== undefined ? parsePid(opts.p) : undefined;
    if (opts.tls && (opts.e !== undefined || file !== undefined))
      throw new CapcError('E0904', '--tls is a program of its own and takes no other program', [
        `it runs: ${TLS_PROGRAM}; to add to it, write uprobe:tls:* in your program`,
      ]);
    source = opts.tls
      ? { name: '--tls', text: TLS_PROGRAM }
      : readSource(opts.e !== undefined ? undefined : file, opts);
    const duration = opts.duration !== undefined ? Number(opts.duration) : undefined;
    if (duration !== undefined && !(duration > 0))
      throw new CapcError('E0904', '--duration needs a positive number of seconds');
    if (opts.c !== undefined && pid !== undefined) throw new CapcError('E0904', 'use either -c or -p, not both');
    const ready = readyNotifier(opts.readyFd);
    const exports = await exportOptions(opts);
    // A closed output (`| head`) stops the session cleanly instead of crashing it; any other
    // write error (a full disk, `> /dev/full`) stops it too, and is reported once it has stopped (E0906).
    const abort = new AbortController();
    let outClosed = false;
    let outFailure: NodeJS.ErrnoException | undefined;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') outFailure ??= e;
      closeOut();
    });
    const closeOut = () => {
      outClosed = true;
      abort.abort();
    };
    const { out, direct } = opts.o
      ? fileOut(opts.o, buffering)
      : bufferedOut(
          1,
          (d) => void (outClosed || process.stdout.write(d)),
          buffering,
          closeOut,
          () =>
            process.stdout.writableLength && !outClosed
              ? new Promise<void>((r) => {
                  for (const e of ['drain', 'close', 'error']) process.stdout.once(e, () => r());
                })
              : Promise.resolve(),
        );
    const err: Out = { write: (d) => void process.stderr.write(d) };
    const { mode } = chooseOutputMode({
      format: opts.format,
      outputFile: !!opts.o,
      tui: opts.tui,
      stdoutIsTTY: process.stdout.isTTY,
      // Not process.stdin.isTTY: that builds the stdin stream (a few ms), which only the UI uses.
      stdinIsTTY: tty.isatty(0),
      env: process.env,
    });
    if (opts.decode !== undefined) checkProtocols([opts.decode], '--decode');
    // Decoding sits in front of the output only: stream files always get the raw bytes. Stream files
    // come first: each file is opened (and handed to the capture thread) before an output can stall.
    const stages: DecodeStage[] = [];
    const withStreamFiles = (r: Renderer, raw = true): Renderer => {
      const stage = new DecodeStage(r, raw);
      stages.push(stage);
      return opts.writeStreams ? new FanOut([new StreamFiles(opts.writeStreams), stage]) : stage;
    };
    const onManifest = (m: Manifest) => {
      const spec = opts.decode !== undefined ? [opts.decode] : m.capture?.decode;
      if (!spec) return;
      if (!m.capture)
        throw new CapcError('E0904', '--decode needs a program that captures payload', [
          "e.g. capc run --decode auto -e 'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf'",
        ]);
      const { protocols } = parseProtocols(spec);
      const forced = protocols.length === 1 && !spec.some((s) => /\bauto\b/.test(s));
      for (const s of stages) s.configure({ protocols, forced });
    };
    const src = source;
    const base: Omit<RunOptions, 'renderer'> = {
      onSessionStart: () => setSignalPhase('session'),
      source,
      compile: compileOptions(opts, positional),
      command: opts.c,
      pid,
      uprobes: uprobeForm(opts.uprobes),
      durationSec: duration,
      drainMs: Number(opts.drainMs ?? 5),
      verbose: opts.verbose,
      noCache: !opts.cache,
      // --no-warnings: no compile-time warnings; drops and failed updates are still reported (R11).
      onWarnings: opts.warnings ? (ds) => printDiagnostics(ds, src) : undefined,
      onManifest,
      // Exporters get the exchanges too (the raw events reach them through the session).
      onExporters: (sinks) => {
        for (const s of stages) for (const x of sinks) s.alsoTo(x);
      },
      signal: abort.signal,
      exports,
      onAttached: ready?.attached,
      onLoaded: ready?.loaded,
    };
    if (mode === 'ui')
      return await runInTerminalUi(base, {
        wrap: withStreamFiles,
        quiet: !!opts.q,
        hex: !!opts.hex,
        abort,
        out,
        err,
        decode: opts.decode !== undefined,
      });
    // -q with --write-streams: the payload goes to the files, not to the terminal as well.
    const payloads = !(opts.q && opts.writeStreams);
    const main =
      mode === 'json'
        ? new JsonRenderer(out, { payloads, quiet: !!opts.q })
        : new TextRenderer(out, err, !!opts.q, !!opts.hex, payloads);
    // With -q and decoding, only the exchanges are printed, unless --raw asks for the streams too.
    const code = await runSession({
      ...base,
      renderer: withStreamFiles(main, !opts.q || !!opts.raw),
      // Text goes to a descriptor capc owns: printf records may be written there by a thread of their own.
      ...(mode === 'text' ? { direct } : {}),
    });
    // A write's error event comes a tick after the write (the last ones are written as the session ends).
    await new Promise((r) => setImmediate(r));
    if (outFailure)
      throw new CapcError('E0906', `cannot write the output to standard output: ${outFailure.message}`, [
        'what was printed before the failure is all that reached it; the session stopped and detached cleanly',
      ]);
    return code;
  } catch (e) {
    return reportFailure(e, source, !!opts.verbose);
  } finally {
    setSignalPhase('done');
  }
}

/**
 * -B none: every piece of output is written as it is made; line and full
 * (the default): one write per drain of the rings, which is as prompt as
 * line buffering for a reader and costs one write(2) per batch. `direct`
 * is the same output for the printf thread (runtime/format/printf-thread.ts),
 * which may take the sink's bytes over while it writes to `fd`.
 */
function bufferedOut(
  fd: number,
  sink: (d: Buffer) => void,
  mode: Buffering | undefined,
  closed: () => void,
  drained: () => Promise<void>,
): { out: Out; direct: DirectOutput } {
  let to: ((d: Buffer) => void) | undefined;
  const write = (d: Buffer) => (to ? to(d) : sink(d));
  const out = batchedOut(write, mode === 'none' ? 1 : undefined);
  const direct: DirectOutput = {
    fd,
    flush: () => out.flush(),
    divert: (f) => void (to = f),
    write,
    drained,
    closed,
  };
  return { out, direct };
}

/** A usage error for a protocol list that names something capc does not decode. */
function checkProtocols(spec: string[], flag: string): void {
  const { unknown } = parseProtocols(spec);
  if (unknown !== undefined)
    throw new CapcError('E0904', `${flag}: unknown protocol '${unknown}'`, [
      'protocols: auto, postgres, mysql, http, redis (a comma-separated list)',
    ]);
}

/** --pcapng, --metrics, --otlp: checked before anything is compiled (usage errors exit 2). */
async function exportOptions(opts: RunOpts): Promise<ExportOptions | undefined> {
  if (opts.metrics === undefined && opts.otlp === undefined && opts.pcapng === undefined) return { version: VERSION };
  if (opts.metrics !== undefined) (await import('../export/metrics.js')).parseListenAddress(opts.metrics);
  if (opts.otlp !== undefined) (await import('../export/otlp.js')).parseCollectorUrl(opts.otlp);
  const interval = Number(opts.otlpInterval ?? 10);
  if (!(interval > 0)) throw new CapcError('E0904', '--otlp-interval needs a positive number of seconds');
  if (opts.pcapng === '') throw new CapcError('E0904', '--pcapng needs a file name');
  return {
    version: VERSION,
    pcapng: opts.pcapng,
    metrics: opts.metrics,
    otlp: opts.otlp,
    otlpIntervalMs: interval * 1000,
    onListening: (url) => process.stderr.write(`capc: serving metrics at ${url}\n`),
  };
}

/** -o FILE: created 0600, never through a link (runtime/files/private-files.ts). */
function fileOut(path: string, mode: Buffering | undefined): { out: Out; direct: DirectOutput } {
  const fd = createPrivateFile(path);
  return bufferedOut(
    fd,
    (d) => void fs.writeSync(fd, d),
    mode,
    () => {},
    () => Promise.resolve(),
  );
}
