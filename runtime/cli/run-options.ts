// runtime/cli/run-options.ts — the options of `capc run` (and so of
// `capc [options] FILE`): bpftrace 0.17's command line, validated as
// bpftrace validates it (the same words for a bad pid, -B mode or -f
// format), plus capc's own. Exit codes stay capc's: 2 for usage errors.
import type { Command } from 'commander';
import { CapcError } from '../errors.js';
import type { ProgramOpts } from './common.js';
import { UPROBE_FORMS, type UprobeForm } from '../bpf/uprobe-multi.js';

export interface RunOpts extends ProgramOpts {
  c?: string;
  p?: string;
  l?: boolean;
  info?: boolean;
  d?: number;
  B?: string;
  duration?: string;
  format?: string;
  tui: boolean;
  o?: string;
  q?: boolean;
  cache: boolean;
  drainMs?: string;
  readyFd?: string;
  hex?: boolean;
  writeStreams?: string;
  warnings: boolean;
  emitElf?: string;
  emitLlvm?: string;
  usdtFileActivation?: boolean;
  decode?: string;
  raw?: boolean;
  pcapng?: string;
  metrics?: string;
  otlp?: string;
  otlpInterval?: string;
  tls?: boolean;
  uprobes?: string;
}

/** `-k -k`, `-kk`, `-dd`: a flag given twice counts twice (getopt). */
const increase = (_v: string, prev: number) => prev + 1;
const collect = (v: string, prev: string[]) => [...prev, v];

/** The options every command that compiles takes (run, check, emit, build). */
export function addCompileOptions(cmd: Command): Command {
  return cmd
    .option('-e <program>', 'program text instead of a file')
    .option('-v, --verbose', 'verbose: program ids and verifier statistics; full logs on failure')
    .option('--unsafe', 'allow functions with side effects outside the kernel: system(), signal()')
    .option(
      '-k',
      'report failed helper calls (map updates, stacks, signals) with their line; -kk: probe reads too',
      increase,
      0,
    )
    .option('-I <dir>', 'search DIR for #include before the system directories (see docs/language.md)', collect, [])
    .option(
      '--include <file>',
      "include FILE before the program's C definitions, as clang -include (see docs/language.md)",
      collect,
      [],
    )
    .option('--strlen <bytes>', 'default size of str() (bytes, including the NUL)')
    .option('--ringbuf-size <bytes>', 'size of the event ring buffer, a power of two (e.g. 4M)')
    .option('--max-map-keys <n>', 'entries per map')
    .option(
      '--tracepoints <form>',
      "syscall tracepoints as 'perf' events, 'raw' tracepoints (sys_enter/sys_exit), or 'auto' (see docs/language.md)",
    );
}

/** --uprobes: how uprobes attach, a choice of the runtime (run, and check, which loads as run would). */
export function addUprobeOption(cmd: Command): Command {
  return cmd.option(
    '--uprobes <form>',
    "uprobes as 'multi' (uprobe_multi links: detach in milliseconds), 'perf' events, or 'auto' (multi where the kernel has it; see docs/language.md)",
  );
}

/** --uprobes FORM, checked: undefined for auto. */
export function uprobeForm(v: string | undefined): UprobeForm | undefined {
  if (v === undefined) return undefined;
  const form = UPROBE_FORMS.find((f) => f === v);
  if (!form)
    throw new CapcError('E0904', `--uprobes must be multi, perf or auto (got '${v}')`, [
      'auto (the default) attaches uprobes as uprobe_multi links where the kernel has them; see docs/language.md',
    ]);
  return form === 'auto' ? undefined : form;
}

export function addRunOptions(cmd: Command): Command {
  return addUprobeOption(addCompileOptions(cmd))
    .option('-c <command>', 'start COMMAND, trace it, stop when it exits (cpid is its pid)')
    .option(
      '-p <pid>',
      'attach uprobes and USDT probes to this process only (captures: and its descendants); stop when it exits',
    )
    .option(
      '--tls',
      'capture the plaintext of every TLS stack capc finds (OpenSSL, BoringSSL, GnuTLS, NSS, Go), in running and new programs: runs uprobe:tls:* accumulate(conn, 1024) -> ringbuf',
    )
    .option('-l', 'list probes matching the pattern given as the argument (-lv: with their arguments)')
    .option('-q', 'quiet: no "Attaching N probes..." (no attached_probes line in JSON)')
    .option(
      '-f, --format <format>',
      'output format: text or json (default: the terminal UI on a terminal, text otherwise)',
    )
    .option('-o <file>', 'write output to FILE instead of stdout')
    .option('-B <mode>', "output buffering: 'line', 'full' (both: one write per drain of the rings) or 'none'")
    .option('-d', 'dry run: print what each compiler pass made and the C, load nothing (-dd: more)', increase, 0)
    .option('--info', 'what this kernel supports: probe kinds, helpers, map types')
    .option('--no-warnings', 'no compile-time warnings (lost events and failed map updates are still reported)')
    .option('--usdt-file-activation', 'accepted for bpftrace: USDT semaphores are raised in every process of the file')
    .option('--emit-elf <file>', 'dry run: write the BPF object (ELF) to FILE')
    .option('--emit-llvm <file>', 'not available: capc generates C (capc emit prints it)')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--no-tui', 'plain text output even on a terminal')
    .option(
      '--ready-fd <fd>',
      "write 'loaded IDS' and then 'attached' to the inherited file descriptor FD (3 or above) once probes are attached, then close it (also CAPC_READY_FD)",
    )
    .option('--drain-ms <ms>', 'how often the rings are drained when the kernel does not wake capc', '5')
    .option('--hex', 'show captured payload as a hex dump')
    .option('--write-streams <dir>', 'write every captured connection direction to a file in DIR (byte-exact)')
    .option('--capture-ring-size <bytes>', 'size of the capture ring buffer, a power of two (default 16M)')
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
    .option('--no-cache', 'compile from scratch, ignoring the cached program and object');
}

/** PID_MAX_LIMIT on 64-bit kernels: the largest pid_max can be (bpftrace checks -p against it). */
const PID_MAX_LIMIT = 4194304;

/** -p PID as bpftrace validates it: a decimal number in [1, pid_max]. */
export function parsePid(v: string): number {
  if (!/^[-+]?\d+$/.test(v.trim()))
    throw new CapcError('E0904', `pid '${v}' is not a valid decimal number`, ['give the process id: -p 1234']);
  const n = Number(v);
  if (!(n >= 1 && n <= PID_MAX_LIMIT))
    throw new CapcError('E0904', `pid '${v}' out of valid pid range [1,${PID_MAX_LIMIT}]`);
  return n;
}

export type Buffering = 'line' | 'full' | 'none';

/** -B MODE as bpftrace validates it. */
export function parseBuffering(v: string | undefined): Buffering | undefined {
  if (v === undefined) return undefined;
  if (v === 'line' || v === 'full' || v === 'none') return v;
  throw new CapcError('E0904', "USAGE: -B must be either 'line', 'full', or 'none'.");
}

/** -f FORMAT as bpftrace validates it. */
export function checkFormat(v: string | undefined): void {
  if (v !== undefined && v !== 'text' && v !== 'json')
    throw new CapcError('E0904', `Invalid output format "${v}"`, ["Valid formats: 'text', 'json'"]);
}
