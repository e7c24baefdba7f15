// tests/unit/maps-format.test.ts — maps printed as bpftrace prints them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapJson, mapText, jsonValue } from '../../runtime/format/maps.js';
import type { MapSnapshot } from '../../runtime/events/model.js';

const str = (s: string, size = 16) => {
  const b = Buffer.alloc(size);
  b.write(s);
  return b;
};

test('scalar map: @name: value', () => {
  const m: MapSnapshot = { name: '@x', kind: 'count', keyed: false, entries: [{ key: [], value: 7n }] };
  assert.equal(mapText(m).toString(), '@x: 7\n');
  assert.equal(mapJson(m), '{"type": "map", "data": {"@x": 7}}');
});

test('keyed map: ascending by value, ties by key; keys joined with ", "', () => {
  const m: MapSnapshot = {
    name: '@',
    kind: 'count',
    keyed: true,
    entries: [
      { key: [str('zsh'), 3n], value: 10n },
      { key: [str('bash'), 2n], value: 1n },
      { key: [str('awk'), 1n], value: 10n },
    ],
  };
  assert.equal(mapText(m).toString(), '@[bash, 2]: 1\n@[awk, 1]: 10\n@[zsh, 3]: 10\n');
  assert.equal(mapJson(m), '{"type": "map", "data": {"@": {"bash,2": 1, "awk,1": 10, "zsh,3": 10}}}');
});

test('negative sums sort first; integer keys sort numerically', () => {
  const m: MapSnapshot = { name: '@s', kind: 'sum', keyed: true, entries: [{ key: [10n], value: 5n }, { key: [9n], value: 5n }, { key: [1n], value: -3n }] };
  assert.equal(mapText(m).toString(), '@s[1]: -3\n@s[9]: 5\n@s[10]: 5\n');
});

test('JSON spacing matches bpftrace: ": " and ", " in objects, none in arrays', () => {
  assert.equal(jsonValue({ type: 'value', data: [1n, 'two'] }), '{"type": "value", "data": [1,"two"]}');
  assert.equal(jsonValue({ a: { b: 'x"y\n' } }), '{"a": {"b": "x\\"y\\n"}}');
});
