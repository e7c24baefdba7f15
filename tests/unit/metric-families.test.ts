// tests/unit/metric-families.test.ts — how maps become Prometheus families
// (runtime/export/metric-families.ts): names, key labels, cumulative `le`
// buckets for hist and lhist, stats as _count/_sum, strings as a label, and
// two maps that would share a name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResolvedPart, type MapSnapshot } from '../../runtime/events/model.js';
import { bucketBounds, labelValue, mapFamilies, mapMetricName } from '../../runtime/export/metric-families.js';

test('names and label values', () => {
  assert.equal(mapMetricName('@'), 'capc_map');
  assert.equal(mapMetricName('@bytes_by_comm'), 'capc_map_bytes_by_comm');
  assert.equal(labelValue(Buffer.from('bash\0\0\0')), 'bash');
  assert.equal(labelValue(Buffer.from('a\x1bb')), 'a\\x1bb');
  assert.equal(labelValue(42n), '42');
  assert.equal(
    labelValue(new ResolvedPart('main+4', ['main+4', '__libc_start_main+128'])),
    'main+4;__libc_start_main+128',
  );
});

test('hist and lhist buckets: inclusive integer upper bounds, cumulative, +Inf is the total', () => {
  const hist: MapSnapshot = { name: '@h', kind: 'hist', keyed: false, entries: [] };
  assert.deepEqual(bucketBounds(hist, 6), ['-1', '0', '1', '3', '7', '15']);
  const lhist: MapSnapshot = {
    name: '@l',
    kind: 'lhist',
    keyed: false,
    entries: [],
    lhist: { min: 10, max: 40, step: 10 },
  };
  assert.deepEqual(bucketBounds(lhist, 5), ['9', '19', '29', '39', '+Inf']);
  const buckets = [0n, 1n, 0n, 2n, 0n];
  const [f] = mapFamilies([{ ...lhist, keyed: true, entries: [{ key: [Buffer.from('x')], value: 3n, buckets }] }]);
  assert.equal(f!.type, 'histogram');
  assert.deepEqual(
    f!.values.map((v) => `${v.metricName}{${Object.entries(v.labels).map(([k, x]) => `${k}=${x}`)}} ${v.value}`),
    [
      'capc_map_l_bucket{key=x,le=9} 0',
      'capc_map_l_bucket{key=x,le=19} 1',
      'capc_map_l_bucket{key=x,le=29} 1',
      'capc_map_l_bucket{key=x,le=39} 3',
      'capc_map_l_bucket{key=x,le=+Inf} 3',
      'capc_map_l_count{key=x} 3',
    ],
  );
});

test('counters, summaries, strings, several keys, and names two maps would share', () => {
  const fams = mapFamilies([
    { name: '@c', kind: 'count', keyed: true, entries: [{ key: [Buffer.from('sh'), 7n], value: 5n }] },
    { name: '@s', kind: 'stats', keyed: false, entries: [{ key: [], value: 2n, avg: { count: 3n, total: 7n } }] },
    { name: '@n', kind: 'str', keyed: true, entries: [{ key: [1n], value: 0n, str: Buffer.from('bash\0') }] },
    { name: '@c_total', kind: 'int', keyed: false, entries: [{ key: [], value: -4n }] },
  ]);
  assert.deepEqual(
    fams.map((f) => [f.name, f.type]),
    [
      ['capc_map_c_total', 'counter'],
      ['capc_map_s', 'summary'],
      ['capc_map_n', 'gauge'],
      ['capc_map_c_total_2', 'gauge'],
    ],
  );
  assert.deepEqual(fams[0]!.values, [{ labels: { key0: 'sh', key1: '7' }, value: 5 }]);
  assert.deepEqual(fams[1]!.values, [
    { metricName: 'capc_map_s_count', labels: {}, value: 3 },
    { metricName: 'capc_map_s_sum', labels: {}, value: 7 },
  ]);
  assert.deepEqual(fams[2]!.values, [{ labels: { key: '1', value: 'bash' }, value: 1 }]);
  assert.deepEqual(fams[3]!.values, [{ labels: {}, value: -4 }]);
});
