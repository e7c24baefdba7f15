// runtime/session/session.ts — one `capc run`: build, load, attach, read the
// rings until something asks to stop (exit(), Ctrl-C/SIGTERM/SIGHUP, the -c
// command or -p process ending, --duration), then detach, run END, drain,
// print the maps and release everything — on every path, exactly once.
import fs from 'node:fs';
import type { CompileOptions, Manifest } from '../../compiler/index.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { SourceFile } from '../../diagnostics/source.js';
import { attachProbe, destroyAll, runOnce, siteCount, type Link } from '../bpf/attach.js';
import { readStack } from '../bpf/maps-reader.js';
import { RunTimeStats } from '../bpf/bpf-stats.js';
import { BpfObject } from '../bpf/object.js';
import type { UprobeForm } from '../bpf/uprobe-multi.js';
import { CapcError } from '../errors.js';
import { Decoder } from '../events/decode.js';
import { FORMATTERS } from '../format/formatters.js';
import type { Renderer } from '../events/model.js';
import { Poller } from '../ring/poller.js';
import { RingReader } from '../ring/ringbuf.js';
import { requireBtf, requirePrivileges } from '../build/environment.js';
import { buildForRun } from '../build/compile-cache.js';
import { mark } from '../timing.js';
import { HeldChild } from './child.js';
import { CaptureChannel } from './capture-channel.js';
import type { CaptureDrain } from '../capture/drain-protocol.js';
import { ValueResolver } from '../events/resolve.js';
import { Control, readControl } from './control.js';
import { LiveView, type LiveOptions } from './snapshot.js';
import { openExports, type ExportOptions } from '../export/index.js';
import type { ExportSink } from '../export/sink.js';
import { FanOut } from '../output/stream-files.js';
import { NativePrintf } from '../format/native-printf.js';
import type { DirectOutput } from '../format/printf-thread.js';
import { PrintfHandoff } from './printf-handoff.js';
import { performAction } from '../output/cat-system.js';
import { ExportSource } from './export-source.js';
import { TlsDiscovery } from '../tls/discovery.js';
import { seedScope } from './scope.js';
import { threadCpu, writeSessionStats } from './stats-file.js';
import { LossReports } from './loss-reports.js';

export class CompileFailed extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super('compile failed');
  }
}

export interface RunOptions {
  source: SourceFile;
  compile: CompileOptions;
  renderer: Renderer;
  /**
   * The exporters (pcapng, metrics, OTLP), given once they are open: they get every event through the session,
   * and the decoded exchanges from whoever decodes (the run command's decode stage).
   */
  onExporters?: (exporters: Renderer[]) => void;
  command?: string;
  pid?: number;
  /** --uprobes: uprobe_multi links or perf-event uprobes (runtime/bpf/uprobe-multi.ts); auto when unset. */
  uprobes?: UprobeForm;
  durationSec?: number;
  /** How often quiet rings are drained (ms); bounds output latency. */
  drainMs?: number;
  verbose?: boolean;
  noCache?: boolean;
  /** Warnings from compilation, to show before running. */
  onWarnings?: (d: Diagnostic[]) => void;
  /** Called with the compiled program's manifest before anything is loaded (may throw a usage error). */
  onManifest?: (m: Manifest) => void;
  /** Called once probes are attached (tests and the UI use it to start workloads). */
  onAttached?: () => void;
  /** Called once the session handles signals itself (before anything is loaded). */
  onSessionStart?: () => void;
  /** Called with the kernel ids of the loaded programs (tests check they are gone after exit). */
  onLoaded?: (programIds: number[]) => void;
  /** Aborting stops the session as Ctrl-C would (e.g. the output pipe closed). */
  signal?: AbortSignal;
  /** Live statistics and controls for the terminal UI (runtime/session/snapshot.ts). */
  live?: LiveOptions;
  /** Take the -c command's output (and give it no terminal input) instead of sharing the terminal. */
  childOutput?: (data: Buffer) => void;
  /** pcapng file, Prometheus endpoint, OTLP collector (runtime/export/). */
  exports?: ExportOptions;
  /** The text output's file descriptor: printf records may be drained and written by a thread of their own. */
  direct?: DirectOutput;
}

/**
 * Most records one pass of the loop reads from the events ring (after the control records) and
 * from the capture sink. A consumer slower than its producers (an exporter that does real work
 * per event) would otherwise drain forever and starve the event loop: no OTLP request, no
 * metrics scrape, no timer would run until the producers paused.
 */
const MAX_RECORDS_PER_PASS = 32768;

/** Longest wait between drains of a quiet ring: bounds the latency of rare output. */
const MAX_IDLE_DRAIN_MS = 50;

/**
 * Longest wait of a loop with nothing to poll: no record kind goes to the events ring (its reader would have
 * to look every MAX_IDLE_DRAIN_MS: records below the R10 threshold wake nobody), no UI, exporter or symbol
 * watch sampling, the idle flush run by the capture thread. Whatever else wakes the loop does so itself (the
 * control and exec rings, the capture thread's hand-overs, signals, the -c command's exit); timed work (the
 * counters every second, --duration, discovery's rescans, stream gaps) bounds each wait (the loop in run()).
 * Each wake-up of the main thread costs ~0.3-0.5 ms of CPU on the 2-vCPU VM (BENCHMARKS.md).
 */
const QUIET_IDLE_MS = 1000;

type StopReason = 'exit' | 'signal' | 'child' | 'pid' | 'duration';

export async function runSession(opts: RunOptions): Promise<number> {
  requirePrivileges();
  requireBtf();
  if (opts.pid !== undefined && !fs.existsSync(`/proc/${opts.pid}`)) {
    throw new CapcError('E0902', `no process with pid ${opts.pid}`, ['check the pid with: ps -p PID']);
  }
  mark('start of session');
  const built = await buildForRun(opts.source, { ...opts.compile, pid: opts.pid }, { noCache: opts.noCache });
  mark(`compiled (object from ${built.from ?? 'nowhere'})`);
  const warnings = built.diagnostics.filter((d) => d.severity !== 'error');
  if (!built.ok || !built.manifest || !built.object) throw new CompileFailed(built.diagnostics);
  if (warnings.length) opts.onWarnings?.(warnings);
  const manifest = built.manifest;
  opts.onManifest?.(manifest);
  if (manifest.uses.cpid && !opts.command) {
    throw new CapcError('E0904', 'the program uses cpid, which needs a command to trace', ['start one with -c CMD']);
  }

  // Exporters open before anything is loaded: a file that exists or a port in use stops here.
  const sinks = await openExports(opts.exports ?? {}, manifest);
  // The capture thread starts up while the program loads (its first message says what to read).
  const thread = manifest.capture ? CaptureChannel.startThread(manifest.capture) : undefined;
  const session = new Session(manifest, opts, sinks, thread);
  try {
    return await session.run(built.object);
  } finally {
    await session.close();
  }
}

class Session {
  private obj: BpfObject | undefined;
  private child: HeldChild | undefined;
  private links: Link[] = [];
  private rings: { events?: RingReader; ctl?: RingReader } = {};
  private poller: Poller | undefined;
  private capture: CaptureChannel | undefined;
  private readonly decoder: Decoder;
  /** printf records formatted natively (text output, every record kind a supported printf). */
  private printfNative: NativePrintf | undefined;
  /** The events ring drained, formatted and written by a pthread (runtime/format/printf-thread.ts), while probes run. */
  private printf: PrintfHandoff | undefined;
  /** Whether the session will use that thread (decided at load: the main loop then does not wait on the events ring). */
  private wantsPrintfThread = false;
  private stop: StopReason | undefined;
  /** Set by the program's first exit(); 0 when it never called it. */
  private exitCode: number | undefined;
  private statsFd = -1;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];
  private wake: (() => void) | undefined;
  private cpuAtAttach: NodeJS.CpuUsage | undefined;
  private threadsAtAttach: Record<string, number> | undefined;
  /** Kernel run-time statistics, held while CAPC_STATS_FILE asks for per-program numbers (benchmarks). */
  private runStats: RunTimeStats | undefined;
  private readonly resolver: ValueResolver;
  private control: Control | undefined;
  private live: LiveView | undefined;
  /** The renderer and every exporter. */
  private readonly renderer: Renderer;
  private exportSource: ExportSource | undefined;
  private readonly losses: LossReports;
  private sinksClosed = false;
  /** Set once the probes are detached: the last drains read everything. */
  private finishing = false;
  private discovery: TlsDiscovery | undefined;

  constructor(
    private readonly manifest: Manifest,
    private readonly opts: RunOptions,
    private readonly sinks: ExportSink[] = [],
    private readonly thread?: CaptureDrain,
  ) {
    this.renderer = sinks.length ? new FanOut([opts.renderer, ...sinks]) : opts.renderer;
    this.losses = new LossReports(manifest, this.renderer);
    if (sinks.length) opts.onExporters?.(sinks);
    this.resolver = new ValueResolver(
      manifest,
      (map, id, frames) => {
        const fd = this.obj?.mapFd(map);
        return fd === undefined ? undefined : readStack(fd, id, frames);
      },
      undefined,
      FORMATTERS.strftime,
    );
    this.decoder = new Decoder(manifest, FORMATTERS, this.resolver);
  }

  async run(object: Buffer): Promise<number> {
    const m = this.manifest;
    const opts = this.opts;
    // From here on Ctrl-C/SIGTERM/SIGHUP stop the session properly (END, maps, detach).
    this.installSignals();
    opts.onSessionStart?.();
    if (opts.command) this.child = HeldChild.start(opts.command, opts.childOutput);

    if (process.env.CAPC_STATS_FILE && process.env.CAPC_BPF_STATS === '1') {
      // The kernel's per-program run time (two clock reads per run, so only when a benchmark asks for it).
      const s = RunTimeStats.enable();
      if (s instanceof RunTimeStats) this.runStats = s;
    }
    this.obj = BpfObject.open(object, m);
    // Captures through uprobe signatures follow the -c/-p process tree in the kernel
    // (capc_scope): their uprobes go on the files, not one pid, and a map says who is in.
    const tree = !!m.capture?.scope && (opts.pid !== undefined || !!this.child);
    // Under -c, a new executable is held at exec until discovery has attached to it
    // (the tree is capc's own command, run without job control: a stop goes unnoticed).
    const hold = tree && !!this.child && m.capture?.discovery?.mode === 'capture';
    this.obj.setRodata({
      cpid: this.child?.pid ?? 0,
      start_ns: process.hrtime.bigint(),
      scope: (tree ? 1 : 0) | (hold ? 2 : 0),
    });
    const uprobes = this.obj.prepareUprobes(opts.uprobes);
    if (uprobes) mark(`uprobes as ${uprobes === 'multi' ? 'uprobe_multi links' : 'perf events'}`);
    this.obj.load(opts.source, opts.verbose);
    mark('loaded into the kernel');
    opts.onLoaded?.(this.obj.programIds());
    this.statsFd = this.obj.mapFd(m.statsMap);
    this.control = new Control(m, this.obj, this.renderer, FORMATTERS, this.resolver);

    for (const r of m.rings) {
      const reader = new RingReader(r.name, this.obj.mapFd(r.name), r.size);
      if (r.role === 'events') this.rings.events = reader;
      else this.rings.ctl = reader;
    }
    this.printfNative = NativePrintf.forSession(m, this.renderer);
    // The printf thread: only where nothing but control records (whose order it keeps) writes to the output
    // while probes run; CAPC_PRINTF_DRAIN=main keeps the formatter on the main thread (benchmarks, tests).
    this.wantsPrintfThread =
      !!this.printfNative &&
      !!opts.direct &&
      !m.capture &&
      !this.sinks.length &&
      !opts.live &&
      process.env.CAPC_PRINTF_DRAIN !== 'main';
    if (m.capture)
      this.capture = new CaptureChannel(
        m,
        m.capture,
        this.obj,
        this.renderer,
        { drainMs: opts.drainMs ?? 5, statsFd: this.statsFd },
        this.thread,
      );
    await this.capture?.ready(); // nothing is attached before the capture ring is being read
    const captureFd = this.capture?.fd;
    if (m.capture?.discovery)
      this.discovery = new TlsDiscovery({
        manifest: m,
        obj: this.obj,
        renderer: this.renderer,
        tree,
        command: this.child?.file,
      });
    this.poller = new Poller([
      ...(this.wantsPrintfThread ? [] : [this.rings.events!.fd]),
      this.rings.ctl!.fd,
      ...(captureFd !== undefined ? [captureFd] : []),
      ...(this.discovery ? [this.discovery.fd] : []),
    ]);
    if (opts.live) {
      const rings = [
        { ring: this.rings.events!, role: 'events' as const },
        ...(this.capture?.ringSink ? [{ ring: this.capture.ringSink, role: 'capture' as const }] : []),
      ];
      this.live = new LiveView(m, this.obj, this.statsFd, rings, opts.live, FORMATTERS, () =>
        this.sinks.flatMap((s) => s.losses().map((l) => ({ sink: s.name, count: l.count, unit: l.unit }))),
      );
    }
    if (this.sinks.length) {
      const rings = [
        { ring: this.rings.events!, role: 'events' as const },
        { ring: this.rings.ctl!, role: 'control' as const },
        ...(this.capture?.ringSink ? [{ ring: this.capture.ringSink, role: 'capture' as const }] : []),
      ];
      this.exportSource = new ExportSource(m, this.obj, this.statsFd, rings, this.sinks, this.resolver);
      for (const s of this.sinks) s.bind?.(this.exportSource);
    }

    const own = (p: (typeof m.probes)[number]) =>
      p.role !== 'scope' &&
      p.role !== 'exec-watch' &&
      p.role !== 'tls-watch' &&
      !(p.attach.kind === 'uprobe' && p.attach.discover);
    if (!this.discovery) this.renderer.event({ kind: 'attaching', probes: m.probes.filter(own).length });
    // BEGIN runs before any other probe is attached, as bpftrace runs it: what it prints comes before every
    // event (a tool's header), and what it sets is set when the first event fires. Its records are read
    // after the attach, first in the rings.
    for (const p of m.probes.filter((x) => x.attach.kind === 'begin')) runOnce(p, this.obj.program(p.program).fd);
    if (tree) {
      // Fork and exit first, then the tree's current members: no child is missed in between.
      for (const p of m.probes.filter((x) => x.role === 'scope'))
        this.links.push(...attachProbe(p, this.obj.program(p.program).ptr, {}));
      seedScope(this.obj.mapFd(m.capture!.scope!.map), opts.pid ?? this.child!.pid);
    }
    const treeRoles = new Set(['capture-entry', 'capture-return', 'close']);
    // Syscall probes run from a raw tracepoint share its program: attached once.
    const attached = new Set<string>();
    for (const p of m.probes.filter(own)) {
      const pid = tree && treeRoles.has(p.role ?? '') ? undefined : (opts.pid ?? this.child?.pid);
      this.links.push(...attachProbe(p, this.obj.program(p.program).ptr, { pid, attached }));
    }
    if (this.discovery) {
      for (const p of m.probes.filter((x) => x.role === 'exec-watch'))
        this.links.push(...attachProbe(p, this.obj.program(p.program).ptr, {}));
      // Before the command runs: in capture mode to capture it, in watch mode to see it
      // (starting the watch later would miss a program that talks TLS at once).
      this.discovery.start();
      // With discovery the count is known only now (each stack found adds its probes; the
      // watch's counters are capc's own, not the program's).
      this.renderer.event({
        kind: 'attaching',
        probes:
          m.probes.filter(own).length +
          (m.capture?.discovery?.mode === 'capture' ? siteCount(this.discovery.links) : 0),
      });
    }
    mark(
      `attached ${siteCount(this.links) + siteCount(this.discovery?.links ?? [])} probes (${this.links.length + (this.discovery?.links.length ?? 0)} links)`,
    );
    this.cpuAtAttach = process.cpuUsage();
    if (process.env.CAPC_STATS_FILE) this.threadsAtAttach = threadCpu();
    opts.onAttached?.();
    this.drainAll();
    if (this.wantsPrintfThread && !this.stop) {
      this.printf = new PrintfHandoff(opts.direct!);
      await this.printf.start(this.printfNative!, this.rings.events!, this.rings.ctl!, opts.drainMs ?? 5);
    }
    if (!this.stop) this.child?.release();
    else this.child?.kill();

    const deadline = opts.durationSec !== undefined ? Date.now() + opts.durationSec * 1000 : undefined;
    this.child?.wait().then(() => this.requestStop('child'));
    let lastCheck = Date.now();
    // Drain every drainMs while data flows; back off to MAX_IDLE_DRAIN_MS when the
    // rings stay empty (QUIET_IDLE_MS when nothing needs polling), so an idle capc
    // costs almost nothing. A filling ring wakes us at once (R10 threshold), and
    // exit() uses the always-waking ring.
    const drainMs = opts.drainMs ?? 5;
    let interval = drainMs;
    // Record kinds the program sends through the events ring (none for a capture-only program).
    const eventsUsed = m.events.some((e) => e.ring === this.rings.events?.name);
    const maxIdle =
      eventsUsed || this.live || this.exportSource || this.control?.watching ? MAX_IDLE_DRAIN_MS : QUIET_IDLE_MS;
    let failure: unknown;
    try {
      while (!this.stop) {
        await Promise.race([this.poller.wait(interval), new Promise<void>((r) => (this.wake = r))]);
        this.capture?.tick();
        this.discovery?.drain();
        this.discovery?.tick();
        this.live?.sample();
        this.exportSource?.sample();
        const n = this.drainAll();
        if (this.child && !this.child.exited) this.control?.watch(this.child.pid);
        else this.control?.watch();
        const now = Date.now();
        if (deadline !== undefined && now >= deadline) this.requestStop('duration');
        if (now - lastCheck >= 1000) {
          lastCheck = now;
          this.losses.counters(this.statsFd);
          this.losses.exportLosses(this.sinks);
          this.capture?.reap(now);
          if (opts.pid !== undefined && !fs.existsSync(`/proc/${opts.pid}`)) this.requestStop('pid');
        }
        if (n > 0) interval = drainMs;
        else {
          // Timed work bounds the wait: the counters' second, --duration, the capture's and discovery's own.
          let bound = Math.min(maxIdle, lastCheck + 1000 - now, this.capture?.idleBound(now) ?? Infinity);
          if (deadline !== undefined) bound = Math.min(bound, deadline - now);
          if (this.discovery) bound = Math.min(bound, this.discovery.nextDue() - now);
          interval = Math.max(1, Math.min(bound, Math.max(drainMs, interval * 2)));
        }
      }
    } catch (e) {
      // Whatever went wrong, END still runs once, maps are printed once, links are destroyed.
      failure = e;
      this.stop ??= 'signal';
    }
    const code = await this.finish();
    if (failure) throw failure;
    return code;
  }

  private requestStop(reason: StopReason): void {
    this.stop ??= reason;
    this.wake?.();
  }

  private installSignals(): void {
    this.opts.signal?.addEventListener('abort', () => this.requestStop('signal'));
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
      const h = () => this.requestStop('signal');
      process.on(sig, h);
      this.signalHandlers.push([sig, h]);
    }
  }

  private applyControl(rec: ReturnType<typeof readControl>): void {
    const code = this.control?.apply(rec);
    if (code !== undefined) {
      // The first exit() sets the code, even when the session was already stopping for
      // another reason (the -c command ended before its exit record was read).
      this.exitCode ??= code;
      this.requestStop('exit');
    }
  }

  /** Drain every ring; returns how many records were read. */
  private drainAll(): number {
    if (this.printf?.running)
      return this.printf.drain({
        events: this.rings.events!,
        ctl: this.rings.ctl,
        finishing: this.finishing,
        maxRecords: MAX_RECORDS_PER_PASS,
        drainEvents: (until, max) => this.drainEvents(until, max),
        applyControl: (rec) => this.applyControl(rec),
      });
    let n = 0;
    // Control records first, each after the events made before it (their order is kept).
    // Events are drained only up to where the producer was before the control ring was
    // read: a print() that becomes visible while we drain must not find the printf
    // records made after it already printed.
    const eventsEnd = this.rings.events?.producerPosition() ?? 0;
    n +=
      this.rings.ctl?.drain((_d, view, off) => {
        const rec = readControl(view, off);
        n += this.drainEvents(rec.pos);
        this.applyControl(rec);
      }) ?? 0;
    n += this.drainEvents(eventsEnd, this.finishing ? Infinity : MAX_RECORDS_PER_PASS);
    n += this.capture?.drain(this.finishing ? Infinity : MAX_RECORDS_PER_PASS) ?? 0;
    return n;
  }

  /** Drain the events ring (up to producer position `until`). */
  private drainEvents(until = Infinity, max = Infinity): number {
    const r = this.renderer;
    const events = this.rings.events;
    if (!events) return 0;
    const decode = (data: Uint8Array, view: DataView, off: number, len: number) => {
      const e = this.decoder.decode(data, view, off, len);
      // cat() and system() are done here, at their place among the printf output.
      if (e) r.event(e.kind === 'action' ? performAction(e) : e);
    };
    if (this.printfNative)
      return this.printfNative.drain(
        events,
        until,
        max,
        (text) => r.event({ kind: 'printf', text }),
        () => events.drain(decode, 1, until),
      );
    return events.drain(decode, max, until);
  }

  /** Flush and close every exporter once (a final OTLP export is awaited here). */
  private async closeSinks(): Promise<void> {
    if (this.sinksClosed) return;
    this.sinksClosed = true;
    await Promise.allSettled(this.sinks.map((s) => s.close()));
  }

  private async finish(): Promise<number> {
    const obj = this.obj!;
    mark('stopping');
    this.live?.close();
    const missed = this.discovery?.missed() ?? [];
    const all = [...this.links, ...(this.discovery?.links ?? [])];
    this.discovery?.dropLinks();
    const slow = setTimeout(() => this.renderer.event({ kind: 'detaching', probes: siteCount(all) }), 500);
    await destroyAll(all);
    clearTimeout(slow);
    this.links = [];
    mark('detached');
    this.finishing = true;
    this.drainAll();
    this.renderer.event({ kind: 'stopping' });
    for (const p of this.manifest.probes.filter((x) => x.attach.kind === 'end')) runOnce(p, obj.program(p.program).fd);
    this.drainAll();
    if (this.discovery && this.manifest.capture?.discovery?.mode === 'watch')
      this.renderer.event({ kind: 'tls-missed', processes: missed });
    await this.capture?.finish(this.statsFd);
    if (!this.capture) this.losses.identityUnknown(this.statsFd);
    if (this.stop !== 'child') this.child?.kill();
    this.losses.counters(this.statsFd);
    this.renderer.event({ kind: 'maps', maps: this.control!.readAll(), atExit: true });
    if (this.sinks.length) {
      await this.closeSinks();
      this.losses.exportLosses(this.sinks);
    }
    this.renderer.end();
    await this.capture?.stop(); // the capture thread writes the last stream-file bytes, closes the files, exits
    if (process.env.CAPC_STATS_FILE) this.writeStats(process.env.CAPC_STATS_FILE);
    return this.exitCode ?? 0;
  }

  /** Machine-readable session numbers (benchmarks, tests): records and ring bytes read, drops, CPU. */
  private writeStats(file: string): void {
    writeSessionStats(file, {
      manifest: this.manifest,
      statsFd: this.statsFd,
      obj: this.obj!,
      rings: [this.rings.events, this.rings.ctl].filter((r): r is RingReader => !!r),
      cpuAtAttach: this.cpuAtAttach,
      threadsAtAttach: this.threadsAtAttach,
      capture: this.capture?.stats(),
      printf: this.printf?.stats ?? (this.printfNative ? 'main' : 'js'),
    });
  }

  async close(): Promise<void> {
    for (const [sig, h] of this.signalHandlers) process.off(sig, h);
    this.runStats?.close();
    this.live?.close();
    this.exportSource?.close();
    await this.closeSinks();
    for (const l of this.links) l.destroy();
    this.links = [];
    if (this.rings.events) this.printf?.abandon(this.rings.events);
    this.printfNative?.close();
    this.printfNative = undefined;
    this.rings.events?.close();
    this.rings.ctl?.close();
    await this.capture?.close();
    if (!this.capture) await this.thread?.terminate(); // spawned, never configured (the load failed)
    this.discovery?.close();
    await this.poller?.close();
    this.obj?.close();
    this.child?.kill();
  }
}
