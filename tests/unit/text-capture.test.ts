// tests/unit/text-capture.test.ts — what text output shows of captured
// bytes: all of them by default; with -q and --write-streams (the bytes are
// in the files) no payload and no per-connection lines, only losses; and a
// record whose bytes no output kept (the terminal UI's closing output) as a
// line with its length. The payload each output asks the capture thread for
// follows from that (JSON's too, and decoding's in front of an output).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CapEvent, ConnInfo } from '../../runtime/events/model.js';
import { JsonRenderer } from '../../runtime/output/json.js';
import { TextRenderer, type Out } from '../../runtime/output/text.js';
import { DecodeStage } from '../../runtime/protocols/stage.js';

const conn: ConnInfo = { id: 1, key: 0x10n, pid: 7, comm: 'curl', probe: 'uprobe:libssl:SSL_write', family: 'openssl' };

function render(showPayload: boolean, events: CapEvent[]): { out: string; need: unknown } {
  let out = '';
  const o: Out = { write: (d) => void (out += d.toString()) };
  const r = new TextRenderer(o, o, true, false, showPayload);
  for (const e of events) r.event(e);
  return { out, need: r.payloadNeed() };
}

const data = (s: string, offset = 0): CapEvent => ({
  kind: 'capture',
  conn,
  dir: 0,
  offset,
  data: Buffer.from(s),
  ts: 0n,
  tsLast: 0n,
  tid: 7,
  site: 2,
});
const end: CapEvent = { kind: 'capture-end', conn, closed: true, bytes: [5, 0], lost: [0, 0] };

test('text shows captured bytes by default and asks for all of them', () => {
  const r = render(true, [data('GET /\n'), end]);
  assert.match(
    r.out,
    /^>>> conn 1 curl\[7\] key 0x10 egress 6 bytes at 0\nGET \/\n--- conn 1 .* closed: 5 bytes out, 0 in\n$/,
  );
  assert.equal(r.need, 'all');
});

test('with -q and --write-streams text shows no payload or connection lines, only losses, and asks for no bytes', () => {
  const loss: CapEvent = { kind: 'capture-loss', conn, dir: 0, offset: 6, bytes: 10 };
  const r = render(false, [data('GET /\n'), loss, end]);
  assert.equal(r.out, '!!! conn 1 curl[7] key 0x10 egress: 10 bytes lost at offset 6\n');
  assert.equal(r.need, 'none');
});

test('JSON asks for every byte unless its payloads go only to files; decoding asks for every byte', () => {
  const o: Out = { write: () => {} };
  assert.equal(new JsonRenderer(o).payloadNeed(), 'all');
  assert.equal(new JsonRenderer(o, { payloads: false }).payloadNeed(), 'none');
  const quiet = new TextRenderer(o, o, true, false, false);
  const stage = new DecodeStage(quiet);
  assert.equal(stage.payloadNeed(), 'none'); // not decoding: what the output behind it needs
  stage.configure({ protocols: ['http'], forced: true });
  assert.equal(stage.payloadNeed(), 'all');
});

test('a record whose bytes were not kept is shown with its length', () => {
  const r = render(true, [{ ...(data('') as Extract<CapEvent, { kind: 'capture' }>), len: 4096, offset: 100 }]);
  assert.equal(r.out, '>>> conn 1 curl[7] key 0x10 egress 4096 bytes at 100 (not kept)\n');
});
