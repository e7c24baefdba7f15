// compiler/3-lower/plan-capture.ts — the plan-capture pass: from the checked
// capture sites, what lowering will allocate for capture: per connection
// family the accumulator size every site shares and the largest chunk, the
// one sink and its size, and the probes capc adds beside the user's:
//  - close watchers (R9: a connection's batch is flushed when it closes): a
//    watcher on each close call of every binary a TLS family's sites probe
//    (or, for `uprobe:tls:`, wherever discovery attaches them), and close(2)
//    for the syscall family; they also forget a closed connection's identity,
//    so families whose probes only read it get them too;
//  - connection identity: which families learn their connections' sockets,
//    and the probes that learn them (plan-identity.ts);
//  - for captures through TLS signatures, the -c/-p process tree in the
//    kernel (fork and exit programs keep capc_scope), and TLS discovery: the
//    exec watcher, and with explicit TLS probes (tls_check) a call counter on
//    the stacks the program does not probe (plan-capture-scope.ts).
// Pure: returns a new program, with the added probes appended to its
// instances.
import type * as A from '../../grammar/ast.js';
import { TLS_FAMILIES } from '../../stdlib/signatures.js';
import type { AnalyzedProgram, CaptureInfo, ProbeInstance } from '../2-analyze/analyzed.js';
import type { Host } from '../host.js';
import { pcapngFile } from '../2-analyze/check-capture.js';
import { planScope, type AddedProbe } from './plan-capture-scope.js';
import { identityMembers, learnsIdentity, planIdentity } from './plan-identity.js';
import { r9CloseCalls } from './rules.js';

/**
 * The capture sink's size when the program does not say. A ring buffer: 16
 * MiB, from BENCHMARKS.md's ring-size table: at wire speed (16 KiB TLS
 * writes, ~400 MB/s here) the largest burst capc's reader met — the stream's
 * rate times the longest time the reader did not get a CPU, with the client
 * and server saturating both CPUs — was 4-13 MiB on this 2-vCPU machine
 * kind when shared with other work, more when it was overloaded (the W0903
 * hint then names the ring that would have held it). A perf buffer: 4 MiB
 * per CPU (its size is per CPU).
 */
export const DEFAULT_CAPTURE_RING = { ringbuf: 16 << 20, perfbuf: 4 << 20 } as const;

export function planCapture(program: AnalyzedProgram, host: Host): AnalyzedProgram {
  const sites = program.sites;
  const siteProbes = sites.map((s) => program.instances[s.instance]!);
  const identified = identityMembers(siteProbes, program.instances);
  if (!sites.length && !identified.size) return program;
  const instances = [...program.instances];
  /** Append a probe capc adds, on `attach`, shown as `text`, placed at `from`'s probe (for #line and errors). */
  const addProbe = (attach: ProbeInstance['attach'], from: ProbeInstance, mark: AddedProbe, text: string) => {
    const spec: A.ProbeSpecNode = { ...from.spec, text };
    const item: A.ProbeItem = { kind: 'Probe', specs: [spec], body: [], oneLine: false, span: from.spec.span };
    instances.push({
      id: instances.length,
      item,
      spec,
      attach,
      types: new Map(),
      calls: new Map(),
      lookups: new Map(),
      fields: new Map(),
      members: new Map(),
      substitutes: new Map(),
      vars: new Map(),
      ...mark,
    });
  };
  // The probes of each family whose connections a close watcher ends (capture) or forgets (identity).
  const members = new Map<string, ProbeInstance[]>();
  const join = (family: string, inst: ProbeInstance) => members.set(family, [...(members.get(family) ?? []), inst]);
  sites.forEach((site, i) => join(site.family, siteProbes[i]!));
  for (const [family, list] of identified) if (learnsIdentity(family)) for (const inst of list) join(family, inst);
  // R9 close watchers of the TLS families: each close call in every binary a family's probes attach to.
  for (const family of TLS_FAMILIES) {
    const targets = new Map<string, ProbeInstance>();
    for (const inst of members.get(family) ?? [])
      if (inst.attach.kind === 'uprobe' && !targets.has(inst.attach.path)) targets.set(inst.attach.path, inst);
    for (const [path, from] of targets) {
      // uprobe:tls: (path 'tls'): discovery attaches the close watcher wherever it attaches the capture.
      const discover = from.attach.kind === 'uprobe' && !!from.attach.discover;
      const syms = discover ? undefined : host.functionSymbols(path);
      for (const sig of r9CloseCalls(family)) {
        if (sig.match.kind !== 'uprobe') continue;
        if (syms?.ok && !syms.value.includes(sig.match.func)) continue; // e.g. a binary without SSL_shutdown: closes go unseen
        const attach: ProbeInstance['attach'] = {
          kind: 'uprobe',
          ret: false,
          target: discover ? 'tls' : path,
          path,
          func: sig.match.func,
          offset: 0,
          ...(discover ? { discover: true } : {}),
        };
        addProbe(attach, from, { closeFor: { family, sig } }, `uprobe:${path}:${sig.match.func}`);
      }
    }
  }
  if (members.has('syscalls')) {
    const from = members.get('syscalls')![0]!;
    const sig = r9CloseCalls('syscalls')[0]!;
    const format = host.tracepoint('syscalls', 'sys_enter_close');
    if (format)
      addProbe(
        { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_close', format },
        from,
        { closeFor: { family: 'syscalls', sig } },
        'tracepoint:syscalls:sys_enter_close',
      );
  }
  const identity = planIdentity(identified, host, addProbe);
  if (!sites.length) return { ...program, instances, ...(identity ? { identity } : {}) };
  const families: CaptureInfo['families'] = new Map();
  for (const site of sites) {
    const f = families.get(site.family) ?? { chunkSize: 0, span: site.stmt.span };
    if (site.kind === 'accumulate') f.accumulateSize ??= site.size;
    f.chunkSize = Math.max(f.chunkSize, site.size);
    families.set(site.family, f);
  }
  const first = sites[0]!.stmt.sink;
  // -> pcapng("FILE") is a ring buffer whose streams capc also writes to FILE.
  const kind = first.name === 'perfbuf' ? 'perfbuf' : 'ringbuf';
  const pcapng = pcapngFile(first);
  const sizes = sites
    .map((s) => s.stmt.sink.size)
    .filter((x): x is A.Expr => !!x && x.kind === 'Int')
    .map((x) => Number((x as A.IntLit).value));
  const size = sizes.length ? Math.max(...sizes) : program.config.captureRingSize || DEFAULT_CAPTURE_RING[kind];
  const { scope, discovery } = planScope(program, addProbe);
  // `-> decode(...)` on any capture decodes the program's connections: the protocols named anywhere, or all.
  const named = sites.filter((s) => s.stmt.sink.then?.name === 'decode').map((s) => s.stmt.sink.then!.protocols);
  const decode = named.length
    ? named.some((p) => !p.length || p.some((x) => x.name === 'auto'))
      ? ['auto']
      : [...new Set(named.flat().map((p) => p.name))]
    : undefined;
  return {
    ...program,
    instances,
    capture: {
      sites,
      families,
      sink: { kind, size, ...(pcapng !== undefined ? { pcapng } : {}) },
      ...(decode ? { decode } : {}),
      scope,
      ...(discovery ? { discovery } : {}),
    },
    ...(identity ? { identity } : {}),
  };
}
