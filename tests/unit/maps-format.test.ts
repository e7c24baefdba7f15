// tests/unit/maps-format.test.ts — maps printed as bpftrace prints them
// (expected texts are bpftrace 0.17's output on this machine).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapJson, mapText, jsonValue } from '../../runtime/format/maps.js';
import { histLabel, lhistLabel } from '../../runtime/format/hist.js';
import { ResolvedPart, type MapSnapshot } from '../../runtime/events/model.js';

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
  const m: MapSnapshot = {
    name: '@s',
    kind: 'sum',
    keyed: true,
    entries: [
      { key: [10n], value: 5n },
      { key: [9n], value: 5n },
      { key: [1n], value: -3n },
    ],
  };
  assert.equal(mapText(m).toString(), '@s[1]: -3\n@s[9]: 5\n@s[10]: 5\n');
});

test('JSON spacing matches bpftrace: ": " and ", " in objects, none in arrays', () => {
  assert.equal(jsonValue({ type: 'value', data: [1n, 'two'] }), '{"type": "value", "data": [1,"two"]}');
  assert.equal(jsonValue({ a: { b: 'x"y\n' } }), '{"a": {"b": "x\\"y\\n"}}');
});

// ---- aggregations: layouts captured from bpftrace 0.17 on this machine ----

const hist = (pairs: [number, number][], n = 66) => {
  const b = new Array<bigint>(n).fill(0n);
  for (const [i, c] of pairs) b[i] = BigInt(c);
  return b;
};

test('hist: 16/8/52 rows from the first to the last non-zero bucket, a blank line after', () => {
  // bpftrace: @u[1] = hist(3); @u[1] = hist(2000)
  const m: MapSnapshot = {
    name: '@u',
    kind: 'hist',
    keyed: true,
    entries: [
      {
        key: [1n],
        value: 2n,
        buckets: hist([
          [3, 1],
          [12, 1],
        ]),
      },
    ],
  };
  const text = mapText(m).toString();
  assert.equal(text.split('\n')[0], '@u[1]: ');
  assert.equal(text.split('\n')[1], '[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|');
  assert.equal(text.split('\n')[2], '[4, 8)                 0 |                                                    |');
  assert.equal(text.split('\n')[10], '[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|');
  assert.ok(text.endsWith('|\n\n'));
  assert.equal(
    mapJson(m),
    '{"type": "hist", "data": {"@u": {"1": [{"min": 2, "max": 3, "count": 1}, {"min": 4, "max": 7, "count": 0}, {"min": 8, "max": 15, "count": 0}, {"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0}, {"min": 64, "max": 127, "count": 0}, {"min": 128, "max": 255, "count": 0}, {"min": 256, "max": 511, "count": 0}, {"min": 512, "max": 1023, "count": 0}, {"min": 1024, "max": 2047, "count": 1}]}}}',
  );
});

test('hist: underflow and zero buckets, bars scaled in single precision', () => {
  const m: MapSnapshot = {
    name: '@z',
    kind: 'hist',
    keyed: false,
    entries: [
      {
        key: [],
        value: 6n,
        buckets: hist([
          [0, 5],
          [1, 1],
        ]),
      },
    ],
  };
  assert.equal(
    mapText(m).toString(),
    '@z: \n(..., 0)               5 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[0]                    1 |@@@@@@@@@@                                          |\n\n',
  );
  assert.equal(
    mapJson(m),
    '{"type": "hist", "data": {"@z": [{"max": -1, "count": 5}, {"min": 0, "max": 0, "count": 1}]}}',
  );
});

test('hist: large buckets are labelled with M, G and T', () => {
  const m: MapSnapshot = {
    name: '@h',
    kind: 'hist',
    keyed: false,
    entries: [
      {
        key: [],
        value: 2n,
        buckets: hist([
          [22, 1],
          [42, 1],
        ]),
      },
    ],
  };
  const lines = mapText(m).toString().split('\n');
  assert.equal(lines[1], '[1M, 2M)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|');
  assert.equal(lines[11], '[1G, 2G)               0 |                                                    |');
  assert.equal(lines[21], '[1T, 2T)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|');
});

test('an all-zero histogram (after zero()) prints its name and a blank line; JSON an empty array', () => {
  const m: MapSnapshot = {
    name: '@h',
    kind: 'hist',
    keyed: false,
    entries: [{ key: [], value: 0n, buckets: hist([]) }],
  };
  assert.equal(mapText(m).toString(), '@h: \n\n');
  assert.equal(mapJson(m), '{"type": "hist", "data": {"@h": []}}');
});

test('lhist: (..., min) and [max, ...) buckets; K only for exact multiples of 1024', () => {
  // bpftrace: lhist(-5, 0, 10, 2), lhist(3, ...), lhist(100, ...)
  const lh = { min: 0, max: 10, step: 2 };
  const m: MapSnapshot = {
    name: '@h',
    kind: 'lhist',
    keyed: false,
    lhist: lh,
    entries: [
      {
        key: [],
        value: 3n,
        buckets: hist(
          [
            [0, 1],
            [2, 1],
            [6, 1],
          ],
          7,
        ),
      },
    ],
  };
  assert.equal(
    mapText(m).toString(),
    [
      '@h: ',
      '(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
      '[0, 2)                 0 |                                                    |',
      '[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
      '[4, 6)                 0 |                                                    |',
      '[6, 8)                 0 |                                                    |',
      '[8, 10)                0 |                                                    |',
      '[10, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(
    mapJson(m),
    '{"type": "hist", "data": {"@h": [{"max": -1, "count": 1}, {"min": 0, "max": 1, "count": 0}, {"min": 2, "max": 3, "count": 1}, {"min": 4, "max": 5, "count": 0}, {"min": 6, "max": 7, "count": 0}, {"min": 8, "max": 9, "count": 0}, {"min": 10, "count": 1}]}}',
  );
  const k: MapSnapshot = {
    name: '@a',
    kind: 'lhist',
    keyed: false,
    lhist: { min: 0, max: 2048, step: 1000 },
    entries: [
      {
        key: [],
        value: 1n,
        buckets: hist(
          [
            [1, 1],
            [2, 1],
          ],
          4,
        ),
      },
    ],
  };
  assert.match(mapText(k).toString(), /^\[0, 1000\) +1 \|.*\n\[1000, 2000\) +1 \|/m);
});

test('stats and avg: their own lines, a blank line after the map; JSON type "stats"', () => {
  const st: MapSnapshot = {
    name: '@v',
    kind: 'stats',
    keyed: true,
    entries: [
      { key: [1n], value: 10n, avg: { count: 1n, total: 10n } },
      { key: [2n], value: 2n, avg: { count: 1n, total: 2n } },
    ],
  };
  assert.equal(mapText(st).toString(), '@v[2]: count 1, average 2, total 2\n@v[1]: count 1, average 10, total 10\n\n');
  assert.equal(
    mapJson(st),
    '{"type": "stats", "data": {"@v": {"2": {"count": 1, "average": 2, "total": 2}, "1": {"count": 1, "average": 10, "total": 10}}}}',
  );
  const avg: MapSnapshot = {
    name: '@w',
    kind: 'avg',
    keyed: false,
    entries: [{ key: [], value: 3n, avg: { count: 2n, total: 7n } }],
  };
  assert.equal(mapText(avg).toString(), '@w: 3\n\n');
  assert.equal(mapJson(avg), '{"type": "stats", "data": {"@w": 3}}');
});

test('string maps: by key, values as text and JSON strings', () => {
  const m: MapSnapshot = {
    name: '@t',
    kind: 'str',
    keyed: true,
    entries: [
      { key: [2n], value: 0n, str: str('ab', 8) },
      { key: [1n], value: 0n, str: str('abc', 8) },
    ],
  };
  assert.equal(mapText(m).toString(), '@t[1]: abc\n@t[2]: ab\n');
  assert.equal(mapJson(m), '{"type": "map", "data": {"@t": {"1": "abc", "2": "ab"}}}');
});

test('print(@m, top, div): the largest entries, divided', () => {
  const m: MapSnapshot = {
    name: '@',
    kind: 'count',
    keyed: true,
    entries: ['a', 'b', 'c', 'd'].map((k, i) => ({ key: [str(k)], value: BigInt((i + 1) * 10) })),
  };
  assert.equal(mapText(m, { top: 2, div: 10 }).toString(), '@[c]: 3\n@[d]: 4\n');
  assert.equal(mapJson(m, { top: 2, div: 10 }), '{"type": "map", "data": {"@": {"c": 3, "d": 4}}}');
});

test('stack keys print one frame per line indented by 4', () => {
  const m: MapSnapshot = {
    name: '@',
    kind: 'count',
    keyed: true,
    entries: [{ key: [new ResolvedPart('\n        leaf+0\n        main+9\n', ['leaf+0', 'main+9'])], value: 3n }],
  };
  assert.equal(mapText(m).toString(), '@[\n    leaf+0\n    main+9\n]: 3\n');
});

test('hist and lhist labels', () => {
  assert.deepEqual([0, 1, 2, 3, 12, 13, 65].map(histLabel), [
    '(..., 0)',
    '[0]',
    '[1]',
    '[2, 4)',
    '[1K, 2K)',
    '[2K, 4K)',
    '[8388608T, 16777216T)',
  ]);
  const p = { min: 1024, max: 8192, step: 1024 };
  assert.deepEqual(
    [0, 1, 7, 8].map((i) => lhistLabel(i, p)),
    ['(..., 1K)', '[1K, 2K)', '[7K, 8K)', '[8K, ...)'],
  );
  const q = { min: 10, max: 20, step: 3 };
  assert.deepEqual(
    [0, 1, 3, 4].map((i) => lhistLabel(i, q)),
    ['(..., 10)', '[10, 13)', '[16, 19)', '[20, ...)'],
  );
});
