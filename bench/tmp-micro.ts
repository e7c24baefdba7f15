import fs from 'node:fs';
import { Decoder } from '../runtime/events/decode.js';
import { TextRenderer } from '../runtime/output/text.js';
import { batchedOut } from '../runtime/output/batched-out.js';
const m = JSON.parse(fs.readFileSync('/tmp/cb/manifest.json', 'utf8'));
const ev = m.events[0];
console.log(JSON.stringify(ev.fields), ev.size);
const N = 1_000_000;
const buf = new Uint8Array(ev.size * 1000);
const view = new DataView(buf.buffer);
for (let i = 0; i < 1000; i++) { view.setUint32(i * ev.size, ev.id, true); for (const f of ev.fields) view.setBigUint64(i * ev.size + f.offset, BigInt(100000 + i), true); }
const dec = new Decoder(m);
let bytes = 0;
const out = batchedOut((d) => { bytes += d.length; });
const r = new TextRenderer(out, out, true);
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) { const e = dec.decode(buf, view, (i % 1000) * ev.size, ev.size); if (e) r.event(e); if (i % 1000 === 999) out.flush(); }
  const ms = performance.now() - t0;
  console.log(`${(N / ms / 1000).toFixed(2)} M records/s decode+format+render`, bytes);
}
