// tests/unit/manifest-version.test.ts — the manifest's version is checked
// where the runtime takes a manifest to load an object: one written by
// another capc is refused with E0605 before libbpf sees the object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANIFEST_VERSION, manifestProblem, type Manifest } from '../../compiler/index.js';
import { BpfObject } from '../../runtime/bpf/object.js';
import { CapcError } from '../../runtime/errors.js';
import { compile } from '../../compiler/compile.js';
import { fixtureHost } from '../fixtures/fixture-host.js';

const compileWithFixtureHost = (text: string) => compile({ name: '-e', text }, fixtureHost).output!;

test('manifestProblem accepts this version and names any other', () => {
  const m = compileWithFixtureHost('BEGIN { exit(); }').manifest;
  assert.equal(m.version, MANIFEST_VERSION);
  assert.equal(manifestProblem(m), undefined);
  assert.match(
    manifestProblem({ ...m, version: MANIFEST_VERSION + 1 })!,
    new RegExp(`manifest version ${MANIFEST_VERSION + 1}; this capc reads version ${MANIFEST_VERSION}`),
  );
  assert.match(manifestProblem({})!, /not a capc manifest/);
  assert.match(manifestProblem(null)!, /not a capc manifest/);
});

test('loading an object whose manifest has another version fails with E0605', () => {
  const m = compileWithFixtureHost('BEGIN { exit(); }').manifest;
  const other = { ...m, version: MANIFEST_VERSION + 1 } as unknown as Manifest;
  assert.throws(
    () => BpfObject.open(Buffer.alloc(0), other),
    (e: unknown) => e instanceof CapcError && e.code === 'E0605' && /another version of capc/.test(e.message),
  );
});
