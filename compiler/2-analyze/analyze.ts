// compiler/2-analyze/analyze.ts — phase 2, in two passes (compiler/passes.ts).
// collect: AST → the program's probe instances (every probe spec resolved into
// attach points, one instance each), its config, and which probes capture
// through a signature. check: types every instance's predicate and body once,
// in program order. Maps are program-wide and typed by their first write in
// program order, so a body that reads a map before the probe that first
// writes it (or sees a string map smaller than it ends up) is checked again
// once every map is known; other bodies are checked once.
import * as A from '../../grammar/ast.js';
import { DiagnosticBag, didYouMean, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import type { AnalyzedProgram, CaptureSite, MapInfo, ProbeInstance, ProgramConfig } from './analyzed.js';
import { collectTypes } from './c-definitions.js';
import { checkCaptureSites, detectCaptureMode, expandCoverage } from './check-capture.js';
import { checkExpr } from './check-expr.js';
import { checkPacketPaths, checkPacketProbes } from './check-packet.js';
import { checkStmts } from './check-stmt.js';
import { MapRegistry, type AnalyzeOptions, type CheckContext } from './context.js';
import { resolveProbeSpec, type AttachPoint } from './probes.js';
import { lookUp } from './host-lookups.js';
import { resolveSyscallEvents } from './syscall-form.js';
import type { TypeTable } from './type-table.js';
import { isInt, typeName } from './types.js';

export const DEFAULT_CONFIG: ProgramConfig = {
  strlen: 64,
  maxMapKeys: 4096,
  ringbufSize: 4 << 20, // a Node consumer pauses (GC, output) longer than libbpf's: 1M dropped ~4% of a 2.7 M records/s storm, 4M none
  captureRingSize: 0, // 0: the sink's own default (plan-capture.ts DEFAULT_CAPTURE_RING)
  maxConnections: 1024,
  idleFlushMs: 100,
  captureWritesAtEntry: 0,
  /** 0: a quarter of the ring (chosen by lowering, R10). */
  wakeupBytes: 0,
  loopLimit: 1024,
  tlsCheck: 1,
};

const CONFIG_KEYS: Record<string, keyof ProgramConfig> = {
  strlen: 'strlen',
  max_strlen: 'strlen',
  max_map_keys: 'maxMapKeys',
  ringbuf_size: 'ringbufSize',
  wakeup_bytes: 'wakeupBytes',
  capture_ring_size: 'captureRingSize',
  max_connections: 'maxConnections',
  idle_flush_ms: 'idleFlushMs',
  capture_writes_at_entry: 'captureWritesAtEntry',
  loop_limit: 'loopLimit',
  tls_check: 'tlsCheck',
};

/** What the collect pass finds: the program's probe instances and config, before any body is checked. */
export interface Collected {
  source: A.SourceFile;
  config: ProgramConfig;
  instances: ProbeInstance[];
  options: AnalyzeOptions;
  /** The types the script can name: its C definitions, then DWARF and BTF (type-table.ts). */
  types: TypeTable;
  /** collect reported errors (a probe that did not resolve...): check still types the bodies, and stops there. */
  failed: boolean;
}

export function collect(
  program: A.Program,
  source: A.SourceFile,
  host: Host,
  options: AnalyzeOptions = {},
): { collected: Collected; diagnostics: Diagnostic[] } {
  const bag = new DiagnosticBag();
  const config = readConfig(program, bag, options);
  const types = collectTypes(program, source, host, bag, {
    dirs: options.includeDirs ?? [],
    files: options.includeFiles ?? [],
  });
  const instances: ProbeInstance[] = [];
  for (const item of program.items) {
    if (item.kind !== 'Probe') continue;
    for (const [spec, attaches] of resolveAlternatives(item, host, bag, options)) {
      for (const attach of attaches) {
        instances.push({
          id: instances.length,
          item,
          spec,
          attach,
          types: new Map(),
          calls: new Map(),
          fields: new Map(),
          vars: new Map(),
          members: new Map(),
          substitutes: new Map(),
          lookups: new Map(),
        });
      }
    }
  }
  for (const inst of instances) lookUp(inst, host);
  if (!program.items.some((i) => i.kind === 'Probe') && !bag.hasErrors) {
    bag.add(
      'E0412',
      'the program has no probes',
      program.span,
      'a probe looks like: BEGIN { printf("hello\\n"); exit(); }',
    );
  }
  for (const inst of instances) detectCaptureMode(inst, host, config, bag);
  // A capture on SSL_write also covers SSL_write_ex: the copies are instances, their bodies checked like the user's.
  expandCoverage(instances, host, config);
  // Syscall tracepoints that can run as raw tracepoints: their numbers (lowering chooses the form).
  resolveSyscallEvents(instances, host, options, bag);
  return { collected: { source, config, instances, options, types, failed: bag.hasErrors }, diagnostics: bag.items };
}

export function check(c: Collected): { analyzed: AnalyzedProgram; diagnostics: Diagnostic[] } {
  const { instances, config, options, types } = c;
  const maps = new MapRegistry();
  const uses = { cpid: false, elapsed: false };
  const checked = new Map<
    ProbeInstance,
    { bag: DiagnosticBag; sites: CaptureSite[]; view: ReturnType<MapRegistry['startBody']> }
  >();
  const checkOne = (inst: ProbeInstance): void => {
    const bag = new DiagnosticBag();
    const sites: CaptureSite[] = [];
    for (const table of [inst.types, inst.calls, inst.fields, inst.vars, inst.members, inst.substitutes]) table.clear();
    inst.packet?.clear();
    const view = maps.startBody();
    checkInstance(inst, { bag, maps, config, options, inst, uses, terminated: false, sites, types });
    checkPacketPaths(inst, bag);
    checked.set(inst, { bag, sites, view });
  };
  for (const inst of instances) checkOne(inst);
  // Checked again now that every map is known; a body's second check replaces its first.
  for (const inst of instances.filter((i) => maps.sawOtherwise(checked.get(i)!.view))) checkOne(inst);
  const bag = new DiagnosticBag();
  const sites: CaptureSite[] = [];
  for (const inst of instances) {
    const r = checked.get(inst)!;
    bag.merge(r.bag);
    for (const s of r.sites) sites.push({ ...s, index: sites.length });
  }
  const all = maps.all();
  for (const inst of instances) reportUnwrittenMaps(inst, all, bag);
  checkPacketProbes(instances, bag);
  if (!c.failed && !bag.hasErrors) checkCaptureSites(sites, bag);
  return {
    analyzed: {
      source: c.source,
      instances,
      maps: all,
      config,
      uses,
      positional: options.positional ?? [],
      sites,
      capture: undefined,
      types,
    },
    diagnostics: bag.items,
  };
}

/** Codes of a probe that does not exist on this machine (as opposed to a malformed spec). */
const NOT_FOUND = new Set(['E0403', 'E0407']);

/**
 * Each spec of a probe resolved. A probe listing alternatives (bpftrace's
 * tools write `kprobe:blk_account_io_start, kprobe:__blk_account_io_start`
 * for kernels that have one or the other) loses only the attach points this
 * machine does not have, with a warning (W0102); a probe none of whose
 * specs exists is an error, as is a malformed spec.
 */
function resolveAlternatives(
  item: A.ProbeItem,
  host: Host,
  bag: DiagnosticBag,
  options: AnalyzeOptions,
): [A.ProbeSpecNode, AttachPoint[]][] {
  const out: [A.ProbeSpecNode, AttachPoint[]][] = [];
  const failed: Diagnostic[][] = [];
  for (const spec of item.specs) {
    const own = new DiagnosticBag();
    const attaches = resolveProbeSpec(spec, host, own, { pid: options.pid, positional: options.positional });
    out.push([spec, attaches]);
    if (own.hasErrors && !attaches.length) failed.push(own.items);
    else bag.merge(own);
  }
  const someResolved = out.some(([, a]) => a.length);
  for (const ds of failed) {
    const missing = ds.filter((d) => d.severity === 'error').every((d) => NOT_FOUND.has(d.code));
    for (const d of ds) {
      if (someResolved && missing && d.severity === 'error')
        bag.add('W0102', `${d.message}: skipped, the probe's other attach points remain`, d.span, ...(d.hints ?? []));
      else bag.addAll([d]);
    }
  }
  return out;
}

/** collect then check (tests; the compiler runs them as passes). */
export function analyze(
  program: A.Program,
  source: A.SourceFile,
  host: Host,
  options: AnalyzeOptions = {},
): { analyzed: AnalyzedProgram; diagnostics: Diagnostic[] } {
  const col = collect(program, source, host, options);
  const chk = check(col.collected);
  return { analyzed: chk.analyzed, diagnostics: sortBySource([...col.diagnostics, ...chk.diagnostics]) };
}

/** Diagnostics in source order, whatever order the checks ran in (stable: same place, same order). */
export function sortBySource(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.span?.start ?? 0) - (b.span?.start ?? 0));
}

function checkInstance(inst: ProbeInstance, cx: CheckContext): void {
  const pred = inst.item.predicate;
  if (pred) {
    const t = checkExpr(pred, cx);
    if (t.k !== 'error' && !isInt(t))
      cx.bag.add(
        'E0312',
        `a predicate must be an integer condition, not ${typeName(t)}`,
        pred.span,
        'for strings compare explicitly: /comm == "bash"/',
      );
  }
  checkStmts(inst.item.body, cx);
}

/** A map that is read (or deleted) but never written anywhere is a typo more often than not. */
function reportUnwrittenMaps(inst: ProbeInstance, maps: Map<string, MapInfo>, bag: DiagnosticBag): void {
  const seen = new Set<string>();
  const visit = (e: A.Expr): void => {
    if (e.kind === 'Map' && !maps.has(e.name) && !seen.has(e.name + e.span.start)) {
      seen.add(e.name + e.span.start);
      const names = [...maps.keys()];
      bag.add(
        'E0204',
        `map ${e.name} is read but never assigned`,
        e.span,
        names.length ? `maps in this program: ${names.join(', ')}` : undefined,
      );
    }
  };
  for (const e of inst.types.keys()) visit(e);
}

function readConfig(program: A.Program, bag: DiagnosticBag, options: AnalyzeOptions): ProgramConfig {
  const config: ProgramConfig = { ...DEFAULT_CONFIG, ...options.config };
  const spans: Partial<Record<keyof ProgramConfig, A.Span>> = {};
  for (const item of program.items) {
    if (item.kind !== 'Config') continue;
    for (const entry of item.entries) {
      const key = CONFIG_KEYS[entry.name];
      if (!key) {
        bag.add(
          'E0410',
          `unknown config option '${entry.name}'`,
          entry.span,
          didYouMean(entry.name, Object.keys(CONFIG_KEYS)) ?? `options: ${Object.keys(CONFIG_KEYS).join(', ')}`,
        );
        continue;
      }
      if (entry.value.kind !== 'Int') {
        bag.add('E0411', `${entry.name} must be an integer`, entry.value.span);
        continue;
      }
      config[key] = Number(entry.value.value);
      spans[key] = A.spanUnion(entry.span, entry.value.span);
    }
  }
  Object.assign(config, options.configOverrides);
  const flags = new Set(Object.keys(options.configOverrides ?? {}) as (keyof ProgramConfig)[]);
  validateConfig(config, bag, spans, flags);
  return config;
}

/** The command-line flag that sets each config value (errors name the flag when it was the source). */
const FLAG_OF: Partial<Record<keyof ProgramConfig, string>> = {
  strlen: '--strlen',
  maxMapKeys: '--max-map-keys',
  ringbufSize: '--ringbuf-size',
  captureRingSize: '--capture-ring-size',
  maxConnections: '--max-connections',
};

function sizeName(n: number): string {
  return n >= 1 << 20 ? `${n / (1 << 20)}M` : `${n / 1024}K`;
}

/**
 * Limits every config value must respect. A value set by a flag is reported
 * with the flag's name and no span; one set in a config block points at it.
 */
function validateConfig(
  c: ProgramConfig,
  bag: DiagnosticBag,
  spans: Partial<Record<keyof ProgramConfig, A.Span>>,
  flags: Set<keyof ProgramConfig>,
): void {
  const pow2 = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 30;
  const report = (k: keyof ProgramConfig, what: string, hint?: string) => {
    const flag = flags.has(k) ? FLAG_OF[k] : undefined;
    bag.add('E0411', flag ? `${flag}: ${what}` : what, flag ? undefined : spans[k], hint);
  };
  const ringSize = (k: 'ringbufSize' | 'captureRingSize', label: string): boolean => {
    const n = c[k];
    if (pow2(n) && n >= 4096) return true;
    const up = 2 ** Math.ceil(Math.log2(Math.max(4096, Math.min(n, 1 << 30))));
    report(k, `${label} size ${n} must be a power of two from 4K to 1G`, `use ${sizeName(up)}`);
    return false;
  };
  const ringOk = ringSize('ringbufSize', 'ring buffer');
  if (c.captureRingSize !== 0) ringSize('captureRingSize', 'capture ring');
  if (c.strlen < 1 || c.strlen > 16384) report('strlen', `strlen ${c.strlen} must be from 1 to 16384`);
  if (c.maxMapKeys < 1 || c.maxMapKeys > 1 << 24)
    report('maxMapKeys', `max_map_keys ${c.maxMapKeys} must be from 1 to 16M`);
  if (c.loopLimit < 1 || c.loopLimit > 1 << 16)
    report(
      'loopLimit',
      `loop_limit ${c.loopLimit} must be from 1 to 65536`,
      'the kernel verifier walks every iteration of a loop',
    );
  if (c.maxConnections < 1 || c.maxConnections > 1 << 24)
    report('maxConnections', `max_connections ${c.maxConnections} must be from 1 to 16M`);
  if (c.idleFlushMs < 1 || c.idleFlushMs > 3_600_000)
    report('idleFlushMs', `idle_flush_ms ${c.idleFlushMs} must be from 1 to 3600000`);
  if (c.captureWritesAtEntry !== 0 && c.captureWritesAtEntry !== 1)
    report('captureWritesAtEntry', 'capture_writes_at_entry must be 0 or 1');
  if (c.tlsCheck !== 0 && c.tlsCheck !== 1) report('tlsCheck', 'tls_check must be 0 or 1');
  // 0: the default, chosen by lowering (R10: a quarter of the ring).
  if (ringOk && c.wakeupBytes !== 0 && (c.wakeupBytes < 1 || c.wakeupBytes > c.ringbufSize))
    report('wakeupBytes', 'wakeup_bytes must be between 1 and the ring buffer size');
}
