// tests/unit/tls-stacks.test.ts — the TLS families in analysis (a capture on
// SSL_write covers SSL_write_ex, uprobe:tls: resolves by name only, the
// process-tree and discovery programs are added by plan-capture), and TLS discovery's
// classification of real files on this machine (libssl, GnuTLS, NSS, node's
// built-in OpenSSL, a Go program built with and without symbols).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { parse } from '../../compiler/1-parse/parse.js';
import { analyze } from '../../compiler/2-analyze/analyze.js';
import { compile } from '../../compiler/compile.js';
import { planCapture } from '../../compiler/3-lower/plan-capture.js';
import { fixtureHost } from '../fixtures/fixture-host.js';
import { CAPTURE_SIGNATURES, FAMILIES, findSignature } from '../../stdlib/signatures.js';
import { classifyFile } from '../../runtime/tls/classify.js';
import { goPclntabFunctions, returnOffsets } from '../../runtime/symbols/go-binary.js';
import { goPeer } from '../support/tls-stacks.js';

/** Analysis and the plan-capture pass (which adds the close, scope and discovery programs). */
function analyzeText(text: string) {
  const source = { name: 't.cap', text };
  const r = analyze(parse(source).program, source, fixtureHost);
  return r.diagnostics.some((d) => d.severity === 'error')
    ? r
    : { ...r, analyzed: planCapture(r.analyzed, fixtureHost) };
}

test('a capture on SSL_write covers SSL_write_ex (and SSL_read SSL_read_ex), with one family and one table', () => {
  const a = analyzeText('uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf');
  const caps = a.analyzed.instances.filter((i) => i.capture).map((i) => (i.attach as { func: string }).func);
  assert.deepEqual(caps.sort(), ['SSL_read', 'SSL_read_ex', 'SSL_write', 'SSL_write_ex']);
  const covered = a.analyzed.instances.filter((i) => i.coveredBy !== undefined);
  assert.equal(covered.length, 2);
  assert.deepEqual([...a.analyzed.capture!.families.keys()], ['openssl']);
});

test('listing both siblings adds nothing twice', () => {
  const a = analyzeText('uprobe:libssl:SSL_write, uprobe:libssl:SSL_write_ex accumulate(conn, 1024) -> ringbuf');
  const caps = a.analyzed.instances.filter((i) => i.capture).map((i) => (i.attach as { func: string }).func);
  assert.deepEqual(caps.sort(), ['SSL_write', 'SSL_write_ex']);
});

test('SSL_write and SSL_write_ex check each other at return: a call nested in the other is captured once', () => {
  const r = compile({ name: 't.cap', text: 'uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf' }, fixtureHost);
  assert.ok(r.ok);
  const c = r.output!.c;
  assert.match(c, /inside SSL_write_ex on the same connection and buffer: SSL_write_ex captures these bytes/);
  assert.match(c, /inside SSL_write on the same connection and buffer: SSL_write captures these bytes/);
});

test('captures through uprobe signatures get the process-tree programs, and explicit TLS probes the TLS watch', () => {
  const a = analyzeText('uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf');
  const internal = a.analyzed.instances.map((i) => i.internal).filter(Boolean);
  assert.deepEqual(internal, ['scope-fork', 'scope-exit', 'exec-watch', 'tls-watch']);
  assert.equal(a.analyzed.capture!.discovery, 'watch');
  const off = analyzeText('config = { tls_check = 0 } uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf');
  assert.deepEqual(
    off.analyzed.instances.map((i) => i.internal).filter(Boolean),
    ['scope-fork', 'scope-exit'],
    'tls_check = 0: no watch',
  );
  const sys = analyzeText('tracepoint:syscalls:sys_enter_write capture(conn, 4096) -> ringbuf');
  assert.equal(sys.analyzed.instances.filter((i) => i.internal).length, 0, 'syscall captures keep their scope');
});

test('uprobe:tls: resolves by name among the TLS functions, and its closes are attached by discovery', () => {
  const a = analyzeText('uprobe:tls:* accumulate(conn, 1024) -> ringbuf');
  const tls = a.analyzed.instances.filter((i) => i.attach.kind === 'uprobe' && i.attach.discover);
  const funcs = new Set(tls.map((i) => (i.attach as { func: string }).func));
  for (const s of CAPTURE_SIGNATURES.filter((x) => x.family !== 'syscalls'))
    assert.ok(funcs.has((s.match as { func: string }).func), (s.match as { func: string }).func);
  for (const f of ['SSL_free', 'gnutls_deinit', 'PR_Close', 'crypto/tls.(*Conn).Close']) assert.ok(funcs.has(f), f);
  assert.equal(a.analyzed.capture!.discovery, 'capture');
  const w = analyzeText('uprobe:tls:gnutls_* accumulate(conn, 1024) -> ringbuf');
  assert.ok(w.diagnostics.every((d) => d.severity !== 'error'));
  const bad = analyzeText('uretprobe:tls:SSL_write { @ = count(); } uprobe:tls:SSL_wirte { @x = count(); }');
  assert.deepEqual(
    bad.diagnostics.map((d) => d.code),
    ['E0402', 'E0407'],
  );
  assert.match(bad.diagnostics[1]!.hints?.join(' ') ?? '', /SSL_write/);
});

test("Go's family: register ABI, goroutine keys, returns at RET instructions; every capture signature has a family", () => {
  const sig = findSignature({ kind: 'uprobe', func: 'crypto/tls.(*Conn).Read' })!;
  assert.equal(FAMILIES[sig.family].abi, 'go');
  assert.equal(FAMILIES[sig.family].returns, 'ret-insns');
  const r = compile(
    { name: 't.cap', text: 'uprobe:tls:"crypto/tls.(*Conn).Read" accumulate(conn, 1024) -> ringbuf' },
    fixtureHost,
  );
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.match(r.output!.c, /struct capc_gkey capc_k = \{ \.g = \(__u64\)ctx->r14/);
  assert.match(r.output!.c, /st\.a\[1\] = \(__u64\)ctx->bx;/);
  const ret = r.output!.manifest.probes.find((p) => p.role === 'capture-return')!;
  assert.equal(ret.attach.kind === 'uprobe' && ret.attach.retInsns, true);
  for (const s of CAPTURE_SIGNATURES) assert.ok(FAMILIES[s.family], s.doc);
});

const has = (f: string) => fs.existsSync(f);

test("classification of this machine's TLS libraries and programs", (t) => {
  const cases: [string, string, string[]][] = [
    ['/usr/lib/x86_64-linux-gnu/libssl.so.3', 'openssl', ['SSL_write', 'SSL_read_ex', 'SSL_free']],
    [
      '/usr/lib/x86_64-linux-gnu/libgnutls.so.30',
      'gnutls',
      ['gnutls_record_send', 'gnutls_record_recv', 'gnutls_deinit'],
    ],
    ['/usr/lib/x86_64-linux-gnu/libnspr4.so', 'nss', ['PR_Write', 'PR_Recv', 'PR_Close']],
    ['/usr/lib/x86_64-linux-gnu/android/libssl.so.0', 'openssl', ['SSL_write', 'SSL_read']],
  ];
  let ran = 0;
  for (const [file, family, fns] of cases) {
    if (!has(file)) continue;
    const c = classifyFile(file);
    assert.equal(c.stacks.length, 1, file);
    assert.equal(c.stacks[0]!.family, family);
    for (const f of fns) assert.ok(c.stacks[0]!.functions.has(f), `${file}: ${f}`);
    ran++;
  }
  if (has('/usr/lib/x86_64-linux-gnu/android/libssl.so.0'))
    assert.match(classifyFile('/usr/lib/x86_64-linux-gnu/android/libssl.so.0').stacks[0]!.name, /BoringSSL/);
  assert.deepEqual(classifyFile('/bin/ls').stacks, [], 'ls has no TLS');
  if (!ran) t.skip('no TLS library found');
});

test('a Go program: version from its build info, functions from the symbol table or, stripped, from pclntab; RETs found', (t) => {
  try {
    fs.accessSync('/usr/bin/go');
  } catch {
    t.skip('needs go');
    return;
  }
  const full = classifyFile(goPeer());
  assert.equal(full.stacks.length, 1);
  const st = full.stacks[0]!;
  assert.equal(st.family, 'go');
  assert.match(st.version ?? '', /^go1\.\d+/);
  const stripped = classifyFile(goPeer(true));
  assert.equal(stripped.stacks.length, 1, JSON.stringify(stripped.problems));
  const fromTable = goPclntabFunctions(goPeer(), new Set(['crypto/tls.(*Conn).Write']));
  assert.equal(fromTable[0]!.addr, st.functions.get('crypto/tls.(*Conn).Write')!.addr, 'pclntab agrees with .symtab');
  const r = st.functions.get('crypto/tls.(*Conn).Read')!;
  const rets = returnOffsets(st.path, r.addr, r.size);
  assert.ok(rets.length >= 1 && rets.every((o) => o > 0 && o < r.size), rets.join(','));
});

test("the TUI's probes pane lists the TLS stacks discovery attached to; text and JSON name them too", async () => {
  const { probeLines } = await import('../../runtime/ui/panes.js');
  const { tlsStackLine, missedText, noConnectionText } = await import('../../runtime/output/text.js');
  const st = { name: 'Go crypto/tls (go1.19.8) in srv', family: 'go', path: '/tmp/srv', pids: [7, 8], probes: 4 };
  const lines = probeLines([], 100, [st]).map((l) => l.text);
  assert.ok(lines.some((l) => l.includes('TLS STACKS')));
  assert.ok(lines.some((l) => l.includes('Go crypto/tls (go1.19.8) in srv in /tmp/srv (4 probes)  pids 7,8')));
  assert.equal(tlsStackLine(st, true), 'TLS (new): Go crypto/tls (go1.19.8) in srv in /tmp/srv (4 probes; pids 7, 8)');
  const m = missedText([
    {
      pid: 9,
      comm: 'node',
      stack: 'OpenSSL 3 built into node',
      path: '/usr/bin/node',
      calls: { SSL_write: 2 },
      probe: 'uprobe:/usr/bin/node:SSL_write, uprobe:/usr/bin/node:SSL_read',
    },
  ]);
  assert.match(m, /^warning\[W0908\]/);
  assert.match(m, /node\[9\]: SSL_write 2x in OpenSSL 3 built into node \(\/usr\/bin\/node\)/);
  assert.match(
    noConnectionText(['uprobe:/lib/libssl.so.3:SSL_write', 'uretprobe:/lib/libssl.so.3:SSL_read'], 0),
    /nothing in scope called SSL_write, SSL_read in \/lib\/libssl\.so\.3/,
  );
  assert.match(noConnectionText(['uprobe:tls:SSL_write'], 1), /any stack capc found.*see W0908/);
});
