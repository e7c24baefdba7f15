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
import { createPrivateFile } from '../files/private-files.js';
import { compileOptions, printDiagnostics, readSource, reportFailure, type ProgramOpts } from './common.js';
import { DecodeStage } from '../protocols/stage.js';
import { parseProtocols } from '../protocols/registry.js';
import type { Manifest } from '../../compiler/index.js';
import { chooseOutputMode } from './output-mode.js';
import { runInTerminalUi } from './run-ui.js';
import type { ExportOptions } from '../export/index.js';
import { VERSION } from './version.js';

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
  captureRingSize?: string;
  maxConnections?: string;
  decode?: string;
  raw?: boolean;
  pcapng?: string;
  metrics?: string;
  otlp?: string;
  otlpInterval?: string;
  tls?: boolean;
}

/** What --tls runs: every TLS stack discovery finds, batched per connection. */
export const TLS_PROGRAM = 'uprobe:tls:* accumulate(conn, 1024) -> ringbuf';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('compile a program, load it into the kernel and print what its probes see')
    .argument('[file]', '.cap program to run (- for stdin)')
    .argument('[args...]', 'positional parameters: $1, $2, ...')
    .option('-e <program>', 'program text instead of a file')
    .option('-c <command>', 'start COMMAND, trace it, stop when it exits (cpid is its pid)')
    .option('-p <pid>', 'attach uprobes to this process only (captures: and its descendants); stop when it exits')
    .option(
      '--tls',
      `capture the plaintext of every TLS stack capc finds (OpenSSL, BoringSSL, GnuTLS, NSS, Go), in running and new programs: runs ${TLS_PROGRAM}`,
    )
    .option('--duration <seconds>', 'stop after this many seconds')
    .option(
      '-f, --format <format>',
      'output format: text or json (default: the terminal UI on a terminal, text otherwise)',
    )
    .option('--no-tui', 'plain text output even on a terminal')
    .option('-o <file>', 'write output to FILE instead of stdout')
    .option('-q', 'quiet: no "Attaching N probes..." line; with --write-streams, payloads go only to the files')
    .option('-v, --verbose', 'show the verifier log and libbpf messages on failure')
    .option('--strlen <bytes>', 'default size of str() (bytes, including the NUL)')
    .option('--ringbuf-size <bytes>', 'size of the event ring buffer, a power of two (e.g. 4M)')
    .option('--max-map-keys <n>', 'entries per map')
    .option('--drain-ms <ms>', 'how often the rings are drained when the kernel does not wake capc', '5')
    .option('--hex', 'show captured payload as a hex dump')
    .option('--write-streams <dir>', 'write every captured connection direction to a file in DIR (byte-exact)')
    .option('--capture-ring-size <bytes>', 'size of the capture ring buffer, a power of two (default 4M)')
    .option('--max-connections <n>', 'connections each capture table holds (default 1024)')
    .option(
      '--decode <protocols>',
      'decode the captured streams: auto, or a list of postgres, mysql, http, redis (one name forces it)',
    )
    .option('--raw', 'with --decode and -q: print the raw captured streams too')
    .option('--pcapng <file>', 'write every captured stream to FILE as pcapng (synthetic TCP; created new, mode 0600)')
    .option(
      '--metrics <addr>',
      "serve every map and capc's health to Prometheus at http://ADDR/metrics (HOST:PORT, :PORT)",
    )
    .option('--otlp <url>', 'send events as OTLP logs and maps as OTLP metrics to the collector at URL (OTLP/HTTP)')
    .option('--otlp-interval <seconds>', 'how often maps are sent to the OTLP collector', '10')
    .option('--no-cache', 'compile from scratch, ignoring the cached program and object')
    .action(async (file: string | undefined, args: string[], opts: RunOpts) => {
      process.exitCode = await runCommand(file, args, opts);
    });
}

async function runCommand(file: string | undefined, args: string[], opts: RunOpts): Promise<number> {
  let source;
  try {
    const positional = opts.e !== undefined && file !== undefined ? [file, ...args] : args;
    if (opts.tls && (opts.e !== undefined || file !== undefined))
      throw new CapcError('E0904', '--tls is a program of its own and takes no other program', [
        `it runs: ${TLS_PROGRAM}; to add to it, write uprobe:tls:* in your program`,
      ]);
    source = opts.tls
      ? { name: '--tls', text: TLS_PROGRAM }
      : readSource(opts.e !== undefined ? undefined : file, opts);
    if (opts.format !== undefined && !['text', 'json'].includes(opts.format))
      throw new CapcError('E0904', `unknown output format '${opts.format}'`, ['use -f text or -f json']);
    const pid = opts.p !== undefined ? parseInteger('-p', opts.p) : undefined;
    const duration = opts.duration !== undefined ? Number(opts.duration) : undefined;
    if (duration !== undefined && !(duration > 0))
      throw new CapcError('E0904', '--duration needs a positive number of seconds');
    if (opts.c !== undefined && pid !== undefined) throw new CapcError('E0904', 'use either -c or -p, not both');
    const exports = await exportOptions(opts);
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
    if (opts.decode !== undefined) checkProtocols([opts.decode], '--decode');
    // Decoding sits in front of the output only: stream files always get the raw bytes.
    const stages: DecodeStage[] = [];
    const withStreamFiles = (r: Renderer, raw = true): Renderer => {
      const stage = new DecodeStage(r, raw);
      stages.push(stage);
      return opts.writeStreams ? new FanOut([stage, new StreamFiles(opts.writeStreams)]) : stage;
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
      durationSec: duration,
      drainMs: Number(opts.drainMs ?? 5),
      verbose: opts.verbose,
      noCache: !opts.cache,
      onWarnings: (ds) => printDiagnostics(ds, src),
      onManifest,
      signal: abort.signal,
      exports,
      onAttached: process.env.CAPC_NOTIFY_ATTACHED ? () => process.stderr.write('__CAPC_ATTACHED__\n') : undefined,
      onLoaded: process.env.CAPC_NOTIFY_ATTACHED
        ? (ids) => process.stderr.write(`__CAPC_LOADED__ ${ids.join(',')}\n`)
        : undefined,
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
        ? new JsonRenderer(out, { payloads })
        : new TextRenderer(out, err, !!opts.q, !!opts.hex, payloads);
    // With -q and decoding, only the exchanges are printed, unless --raw asks for the streams too.
    return await runSession({ ...base, renderer: withStreamFiles(main, !opts.q || !!opts.raw) });
  } catch (e) {
    return reportFailure(e, source, !!opts.verbose);
  } finally {
    setSignalPhase('done');
  }
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

function parseInteger(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new CapcError('E0904', `${flag} needs a number (got '${v}')`);
  return Number(v);
}

/** -o FILE: created 0600, never through a link (runtime/files/private-files.ts). */
function fileOut(path: string): Out {
  const fd = createPrivateFile(path);
  return batchedOut((d) => void fs.writeSync(fd, d));
}
