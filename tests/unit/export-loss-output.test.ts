// tests/unit/export-loss-output.test.ts — an exporter's losses as the user
// sees them: W0906 on stderr in text mode (with the payload bytes and the
// reason), an `export_loss` line in JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CapEvent } from '../../runtime/events/model.js';
import { JsonRenderer } from '../../runtime/output/json.js';
import { TextRenderer } from '../../runtime/output/text.js';

const loss: CapEvent = {
  kind: 'export-loss',
  sink: 'pcapng',
  target: '/mnt/small/x.pcapng',
  count: 12,
  unit: 'packets',
  bytes: 3400,
  reason: 'ENOSPC',
};

test('text: W0906 on stderr, nothing on stdout', () => {
  let out = '';
  let err = '';
  const r = new TextRenderer({ write: (d) => void (out += d) }, { write: (d) => void (err += d) }, false);
  r.event(loss);
  assert.equal(out, '');
  assert.match(
    err,
    /^warning\[W0906\]: pcapng: 12 packets \(3400 payload bytes\) not exported to \/mnt\/small\/x\.pcapng: ENOSPC\n {2}= hint: free space/,
  );
});

test('json: an export_loss line', () => {
  let out = '';
  new JsonRenderer({ write: (d) => void (out += d) }).event(loss);
  assert.deepEqual(JSON.parse(out), {
    type: 'export_loss',
    data: { sink: 'pcapng', target: '/mnt/small/x.pcapng', count: 12, unit: 'packets', bytes: 3400, reason: 'ENOSPC' },
  });
});
