// tests/unit/uprobe-ifunc.test.ts — uprobes on IFUNC symbols, without the
// kernel: a named IFUNC is an error at compile time (E0414) naming the
// implementations the file has symbols for; a wildcard skips the IFUNCs it
// matched with a warning (W0104) and keeps the rest (tests/e2e/uprobe-multi
// runs the same against the system's libc).
import assert from 'node:assert/strict';
import test from 'node:test';
import { compile } from '../../compiler/compile.js';
import { ifuncImplementations } from '../../compiler/2-analyze/probes-user.js';
import type { Host, Resolved } from '../../compiler/host.js';
import { fixtureHost } from '../fixtures/fixture-host.js';

const LIB = '/opt/app/libstr.so';
const host: Host = {
  ...fixtureHost,
  resolveBinary: (t, pid) => (t === LIB ? { ok: true, value: LIB } : fixtureHost.resolveBinary(t, pid)),
  functionSymbols: (p): Resolved<string[]> =>
    p === LIB
      ? {
          ok: true,
          value: ['strlen', '__strlen_avx2', '__strlen_evex', '__strlen_sse2', '__strlen_chk', 'strdup', 'strnlen'],
        }
      : fixtureHost.functionSymbols(p),
  ifuncSymbols: (p) => (p === LIB ? ['strlen', 'strnlen'] : []),
};
const run = (text: string) => compile({ name: 't.cap', text }, host, {});

test('a uprobe on an IFUNC is E0414 at compile time, naming the implementations the file has', () => {
  const r = run(`uprobe:${LIB}:strlen { @ = count(); }`);
  assert.ok(!r.ok);
  const d = r.diagnostics.find((x) => x.code === 'E0414');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.match(d.message, /strlen in \/opt\/app\/libstr\.so is an IFUNC/);
  assert.ok(d.hints?.some((h) => h.includes('__strlen_avx2, __strlen_evex, __strlen_sse2') && !h.includes('_chk')));
  // Without symbols for its implementations the hint says what to do instead.
  const r2 = run(`uretprobe:${LIB}:strnlen { @ = count(); }`);
  assert.ok(
    r2.diagnostics.find((x) => x.code === 'E0414')?.hints?.some((h) => /no symbols for the implementations/.test(h)),
  );
});

test('a wildcard skips the IFUNCs it matched (W0104) and probes the rest; only IFUNCs is E0414', () => {
  const r = run(`uprobe:${LIB}:str* { @[probe] = count(); }`);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['W0104'],
  );
  assert.deepEqual(
    r.output!.manifest.probes.map((p) => p.attach.kind === 'uprobe' && p.attach.func),
    ['strdup'],
  );
  assert.deepEqual(
    run(`uprobe:${LIB}:strn* { }`).diagnostics.map((d) => d.code),
    ['E0414'],
  );
});

test("ifuncImplementations: glibc's instruction-set suffixes, not its other __name_ functions", () => {
  const names = [
    '__memcpy_evex_unaligned_erms',
    '__memcpy_sse2_unaligned',
    '__memcpy_chk',
    '__strncasecmp_l',
    'memcpy',
  ];
  assert.deepEqual(ifuncImplementations('memcpy', names), ['__memcpy_evex_unaligned_erms', '__memcpy_sse2_unaligned']);
  assert.deepEqual(ifuncImplementations('strncasecmp', names), []);
});
