// tests/unit/analysis.test.ts — programs analysis must accept (bpftrace
// one-liners among them), and the types and probe expansions it infers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '../../compiler/1-parse/parse.js';
import { analyze } from '../../compiler/2-analyze/analyze.js';
import { compile } from '../../compiler/compile.js';
import { renderDiagnostics } from '../../diagnostics/render.js';
import { CORPUS } from '../fixtures/corpus.js';
import { fixtureHost } from '../fixtures/fixture-host.js';

const ok = CORPUS;

for (const text of ok) {
  test(`accepts: ${text.replace(/\n/g, ' ').slice(0, 90)}`, () => {
    const source = { name: 't.cap', text };
    const r = compile(source, fixtureHost);
    assert.ok(r.ok, renderDiagnostics(r.diagnostics, source));
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
  });
}

test('wildcards expand to one probe instance per match', () => {
  const source = {
    name: 't.cap',
    text: 'tracepoint:sched:sched_process_* { @ = count(); } uprobe:libssl:SSL_read* { @r = count(); }',
  };
  const p = parse(source);
  const a = analyze(p.program, source, fixtureHost);
  const tps = a.analyzed.instances
    .filter((i) => i.attach.kind === 'tracepoint')
    .map((i) => (i.attach.kind === 'tracepoint' ? i.attach.name : ''));
  assert.ok(tps.length >= 3 && tps.every((n) => n.startsWith('sched_process_')), tps.join(','));
  const ups = a.analyzed.instances
    .filter((i) => i.attach.kind === 'uprobe')
    .map((i) => (i.attach.kind === 'uprobe' ? i.attach.func : ''));
  assert.ok(ups.includes('SSL_read') && ups.includes('SSL_read_ex'), ups.join(','));
});

test('maps are typed by their first write, even across probes and before the write in the text', () => {
  const source = {
    name: 't.cap',
    text: 'uretprobe:libssl:SSL_read /@s[tid]/ { delete(@s[tid]); }\nuprobe:libssl:SSL_read { @s[tid] = nsecs; @c[comm] = count(); }',
  };
  const r = compile(source, fixtureHost);
  assert.ok(r.ok, renderDiagnostics(r.diagnostics, source));
  const maps = r.output!.manifest.maps;
  assert.deepEqual(
    maps.map((m) => [m.name, m.kind, m.perCpu, m.key?.fields.map((f) => f.type)]),
    [
      ['@s', 'int', false, ['int']],
      ['@c', 'count', true, ['str']],
    ],
  );
});

test('string sizes: comm 16, str() default strlen, str(p, n) n+1, literal length+1', () => {
  const source = {
    name: 't.cap',
    text: 'uprobe:/opt/app/target:greet { printf("%s %s %s %s\\n", comm, str(arg0), str(arg0, 10), "lit"); }',
  };
  const r = compile(source, fixtureHost, { config: { strlen: 64 } });
  assert.ok(r.ok);
  const ev = r.output!.manifest.events[0]!;
  assert.deepEqual(
    ev.fields.map((f) => f.size),
    [16, 64, 11, 4],
  );
});

test('every accepted program yields an internal-error-free manifest with the probes in order', () => {
  const source = { name: 't.cap', text: 'BEGIN { } tracepoint:syscalls:sys_enter_read { } interval:s:1 { } END { }' };
  const r = compile(source, fixtureHost);
  assert.ok(r.ok);
  assert.deepEqual(
    r.output!.manifest.probes.map((p) => [p.program, p.attach.kind]),
    [
      ['capc_p0', 'begin'],
      // A syscall tracepoint runs from the raw tracepoint sys_enter's dispatcher (lower-syscalls.ts).
      ['capc_sys_enter', 'tracepoint'],
      ['capc_p2', 'interval'],
      ['capc_p3', 'end'],
    ],
  );
});

test('a function a library only re-exports is probed in the library it needs that defines it (W0103)', () => {
  // glibc >= 2.34: libpthread.so.0 is a stub needing libc.so.6, which defines pthread_create.
  const stub = '/lib/x86_64-linux-gnu/libpthread.so.0';
  const libc = '/lib/x86_64-linux-gnu/libc.so.6';
  const host = {
    ...fixtureHost,
    resolveBinary: (t: string) =>
      t === 'libpthread' ? { ok: true as const, value: stub } : fixtureHost.resolveBinary(t),
    functionSymbols: (p: string) =>
      p === stub
        ? { ok: true as const, value: ['__libpthread_version_placeholder'] }
        : p === libc
          ? { ok: true as const, value: ['pthread_create', 'malloc'] }
          : fixtureHost.functionSymbols(p),
    neededLibraries: (p: string) => (p === stub ? ['/lib/x86_64-linux-gnu/libnope.so.1', libc] : []),
  };
  const at = (text: string) => {
    const source = { name: 't.cap', text };
    const a = analyze(parse(source).program, source, host);
    const ups = a.analyzed.instances.flatMap((i) => (i.attach.kind === 'uprobe' ? [i.attach] : []));
    return { ups, codes: a.diagnostics.map((d) => d.code) };
  };
  const r = at('uprobe:libpthread:pthread_create { @ = count(); }');
  assert.deepEqual(r.codes, ['W0103']);
  assert.deepEqual(
    r.ups.map((u) => [u.path, u.func]),
    [[libc, 'pthread_create']],
  );
  // Not a function the needed libraries define: still E0407, with no guess.
  assert.deepEqual(at('uprobe:libpthread:pthread_nope { @ = count(); }').codes, ['E0407']);
  // A wildcard matches in the file named only.
  assert.deepEqual(at('uprobe:libpthread:pthread_* { @ = count(); }').codes, ['E0409']);
});
