// compiler/3-lower/plan-capture.ts — the plan-capture pass: from the checked
// capture sites, what lowering will allocate for capture: per connection
// family the accumulator size every site shares and the largest chunk, the
// one sink and its size, and the probes capc adds to see connections close
// (R9: a connection's batch is flushed when it closes) — a watcher on each
// close call of every library an OpenSSL site probes, and close(2) for the
// syscall family. Pure: returns a new program, with the watchers appended to
// its instances.
import type * as A from '../../grammar/ast.js';
import type { CloseSignature } from '../../stdlib/signatures.js';
import type { AnalyzedProgram, CaptureInfo, ProbeInstance } from '../2-analyze/analyzed.js';
import type { Host } from '../host.js';
import { pcapngFile } from '../2-analyze/check-capture.js';
import { r9CloseCalls } from './rules.js';

export function planCapture(program: AnalyzedProgram, host: Host): AnalyzedProgram {
  const sites = program.sites;
  if (!sites.length) return program;
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
  const size = sizes.length ? Math.max(...sizes) : program.config.captureRingSize;

  const instances = [...program.instances];
  const addClose = (family: string, attach: ProbeInstance['attach'], sig: CloseSignature, from: ProbeInstance) => {
    const spec: A.ProbeSpecNode = {
      ...from.spec,
      text: `${sig.match.kind === 'uprobe' ? `uprobe:${attach.kind === 'uprobe' ? attach.path : ''}:${sig.match.func}` : `tracepoint:syscalls:${sig.match.kind === 'tracepoint' ? sig.match.name : ''}`}`,
    };
    const item: A.ProbeItem = { kind: 'Probe', specs: [spec], body: [], oneLine: false, span: from.spec.span };
    instances.push({
      id: instances.length,
      item,
      spec,
      attach,
      types: new Map(),
      calls: new Map(),
      fields: new Map(),
      members: new Map(),
      substitutes: new Map(),
      vars: new Map(),
      closeFor: { family, sig },
    });
  };
  const familiesUsed = new Set(sites.map((s) => s.family));
  if (familiesUsed.has('openssl')) {
    const libs = new Map<string, ProbeInstance>();
    for (const site of sites) {
      const inst = program.instances[site.instance]!;
      if (site.family === 'openssl' && inst.attach.kind === 'uprobe' && !libs.has(inst.attach.path))
        libs.set(inst.attach.path, inst);
    }
    for (const [path, from] of libs) {
      const syms = host.functionSymbols(path);
      for (const sig of r9CloseCalls('openssl')) {
        if (sig.match.kind !== 'uprobe') continue;
        if (syms.ok && !syms.value.includes(sig.match.func)) continue; // e.g. a binary without SSL_shutdown: closes go unseen
        addClose(
          'openssl',
          { kind: 'uprobe', ret: false, target: path, path, func: sig.match.func, offset: 0 },
          sig,
          from,
        );
      }
    }
  }
  if (familiesUsed.has('syscalls')) {
    const from = program.instances[sites.find((s) => s.family === 'syscalls')!.instance]!;
    const sig = r9CloseCalls('syscalls')[0]!;
    const format = host.tracepoint('syscalls', 'sys_enter_close');
    if (format)
      addClose('syscalls', { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_close', format }, sig, from);
  }
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
    },
  };
}
