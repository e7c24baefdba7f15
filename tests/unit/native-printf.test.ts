// tests/unit/native-printf.test.ts — the native printf formatter
// (runtime/native/capc-printf.c) makes the same bytes as fast-printf.ts for
// every format it takes: thousands of random formats (each conversion, flag,
// width, precision and length modifier, every field size and sign) over
// random and extreme values, read from a ring laid out as the kernel lays it
// out; and it hands back a record whose id it does not know, stops at
// `until` and `max`, and refuses what fast-printf.ts would not compile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormatSegment, LayoutField, ManifestEvent } from '../../compiler/manifest.js';
import { isUnavailable, nativeDrain, type NativeDrainLib } from '../../runtime/ffi/drain.js';
import { compileFastPrintf } from '../../runtime/format/fast-printf.js';
import { NativePrintf, packPrintf } from '../../runtime/format/native-printf.js';
import { RingReader } from '../../runtime/ring/ringbuf.js';

function lib(): NativeDrainLib {
  const l = nativeDrain();
  assert.ok(!isUnavailable(l), `the native library did not load: ${isUnavailable(l) ? l.reason : ''}`);
  return l;
}

/** A ring in plain memory, laid out as the kernel's: consumer page, producer page, data mapped twice. */
class FakeRing {
  readonly page = 4096;
  readonly cons = Buffer.alloc(4096);
  readonly prod: Buffer;
  private pos = 0;
  constructor(readonly size: number) {
    this.prod = Buffer.alloc(4096 + 2 * size);
  }
  push(rec: Buffer): void {
    const off = this.pos % this.size;
    const at = this.page + off;
    this.prod.writeUInt32LE(rec.length, at);
    rec.copy(this.prod, at + 8);
    this.pos += (rec.length + 8 + 7) & ~7;
    this.prod.writeBigUInt64LE(BigInt(this.pos), 0);
  }
  get consumed(): number {
    return Number(this.cons.readBigUInt64LE(0));
  }
  /** A RingReader-shaped view for NativePrintf.drain. */
  reader(): RingReader {
    const r = {
      size: this.size,
      records: 0,
      ringBytes: 0,
      mapped: { consumerPage: this.cons, producerPage: this.prod, page: this.page },
      account(n: number, b: number) {
        r.records += n;
        r.ringBytes += b;
      },
    };
    return r as unknown as RingReader;
  }
}

// A small deterministic generator (xorshift), so a failure names a seed that reproduces it.
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function randomEvent(r: () => number, id: number): ManifestEvent {
  const fields: LayoutField[] = [];
  const segments: FormatSegment[] = [{ lit: pick(r, ['', 'x=', '[', 'é ']) }];
  let offset = 8;
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const str = r() < 0.2;
    const conv = str ? 's' : pick(r, ['d', 'i', 'u', 'x', 'X', 'o', 'c', 'p'] as const);
    const size = str ? pick(r, [1, 8, 16]) : pick(r, [1, 2, 4, 8]);
    offset = (offset + (str ? 0 : size - 1)) & ~(str ? 0 : size - 1);
    fields.push({ name: `f${i}`, offset, size, type: str ? 'str' : 'int', signed: r() < 0.5 } as LayoutField);
    offset += size;
    const flags = ['-', '+', ' ', '#', '0'].filter(() => r() < 0.25).join('');
    segments.push({
      conv,
      flags,
      width: r() < 0.5 ? undefined : pick(r, [0, 1, 2, 5, 12, 25]),
      precision: r() < 0.6 ? undefined : pick(r, [0, 1, 3, 8, 20]),
      arg: i,
      bits: r() < 0.4 ? undefined : pick(r, [8, 16, 32, 64] as const),
    });
    segments.push({ lit: pick(r, [' ', '|', '\n', ', ', '']) });
  }
  return { id, kind: 'printf', ring: 'capc_events', size: offset, fields, segments } as ManifestEvent;
}

function randomRecord(r: () => number, ev: ManifestEvent): Buffer {
  const b = Buffer.alloc(ev.size);
  b.writeUInt32LE(ev.id, 0);
  for (const f of ev.fields) {
    if (f.type === 'str') {
      const text = pick(r, ['', 'a', 'curl', 'postgres: worker', 'x'.repeat(f.size), 'ab\0cd']);
      Buffer.from(text, 'latin1').copy(b, f.offset, 0, f.size);
      continue;
    }
    const extreme = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 31n, 2n ** 53n + 1n, 255n, 65535n, 128n];
    const v = r() < 0.4 ? pick(r, extreme) : BigInt(Math.floor(r() * 2 ** 32)) * BigInt(Math.floor(r() * 2 ** 32));
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt.asUintN(64, v));
    bytes.copy(b, f.offset, 0, f.size);
  }
  return b;
}

function nativeText(events: ManifestEvent[], records: Buffer[], until = Infinity, max = Infinity): string {
  const l = lib();
  const ring = new FakeRing(1 << 20);
  for (const rec of records) ring.push(rec);
  const p = NativePrintf.create({ events } as never, l)!;
  assert.ok(p, 'every event is a supported printf');
  const parts: Buffer[] = [];
  p.drain(
    ring.reader(),
    until,
    max,
    (t) => void parts.push(t),
    () => assert.fail('no record is unhandled here'),
  );
  p.close();
  return Buffer.concat(parts).toString('latin1');
}

test('native printf: the same bytes as fast-printf.ts over random formats and values', () => {
  let compared = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = rng(seed);
    const ev = randomEvent(r, 1);
    const fast = compileFastPrintf(ev);
    if (!fast || !packPrintf(ev)) continue;
    const records = Array.from({ length: 20 }, () => randomRecord(r, ev));
    const want = records.map((rec) => fast(new DataView(rec.buffer, rec.byteOffset, rec.length), rec, 0)).join('');
    assert.equal(nativeText([ev], records), want, `seed ${seed}: ${JSON.stringify(ev.segments)}`);
    compared++;
  }
  assert.ok(compared > 300, `only ${compared} formats compared`);
});

test('native printf: stops at until and max, hands back an unknown record, refuses what fast-printf would not compile', () => {
  const ev: ManifestEvent = {
    id: 3,
    kind: 'printf',
    ring: 'capc_events',
    size: 16,
    fields: [{ name: 'a', offset: 8, size: 8, type: 'int', signed: true } as LayoutField],
    segments: [{ conv: 'd', flags: '', arg: 0 }, { lit: '\n' }],
  } as ManifestEvent;
  const rec = (v: number, id = 3) => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(id, 0);
    b.writeBigInt64LE(BigInt(v), 8);
    return b;
  };
  assert.equal(nativeText([ev], [rec(1), rec(2), rec(3)], Infinity, 2), '1\n2\n');
  assert.equal(nativeText([ev], [rec(1), rec(2), rec(3)], 24), '1\n', 'until: the producer position after one record');

  const ring = new FakeRing(1 << 16);
  for (const r of [rec(1), rec(9, 77), rec(2)]) ring.push(r);
  const p = NativePrintf.create({ events: [ev] } as never, lib())!;
  const out: string[] = [];
  let handedBack = 0;
  const n = p.drain(
    ring.reader(),
    Infinity,
    Infinity,
    (t) => void out.push(t.toString('latin1')),
    () => {
      handedBack++;
      ring.cons.writeBigUInt64LE(BigInt(ring.consumed + 24)); // the JavaScript decoder reads it (and counts it unknown)
      return 1;
    },
  );
  p.close();
  assert.equal(handedBack, 1);
  assert.equal(out.join(''), '1\n2\n');
  assert.equal(n, 3);

  const rx = { ...ev, segments: [{ conv: 'rx', flags: '', arg: 0 }] } as ManifestEvent;
  assert.equal(packPrintf(rx), undefined, '%rx is not a fast-printf conversion');
  assert.equal(NativePrintf.create({ events: [ev, rx] } as never, lib()), undefined, 'one unsupported kind: none');
});
