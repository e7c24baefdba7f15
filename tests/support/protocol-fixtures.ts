// tests/support/protocol-fixtures.ts — replays the recorded byte sequences of
// tests/fixtures/protocols/ (see record.ts there) through the decoders, as
// recorded or re-chunked, with holes, and summarises the exchanges for
// comparison.
import fs from 'node:fs';
import path from 'node:path';
import { ConnectionDecoder, type DecodeOptions } from '../../runtime/protocols/connection.js';
import { PROTOCOLS, type Exchange, type Limits } from '../../runtime/protocols/exchange.js';
import { repoRoot } from './paths.js';

export const fixtureDir = path.join(repoRoot, 'tests', 'fixtures', 'protocols');

export type Step = { dir: 0 | 1; data: Buffer; ts: bigint } | { dir: 0 | 1; lost: number };

export interface Fixture {
  file: string;
  protocol: string;
  side: 'client' | 'server';
  comm: string;
  steps: Step[];
}

export function fixtures(): Fixture[] {
  return fs
    .readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => {
      const [head, ...lines] = fs.readFileSync(path.join(fixtureDir, f), 'utf8').trim().split('\n');
      const h = JSON.parse(head!) as { protocol: string; side: 'client' | 'server'; comm: string };
      const steps = lines.map((l) => {
        const s = JSON.parse(l) as { dir: 0 | 1; ts: string; b64: string };
        return { dir: s.dir, data: Buffer.from(s.b64, 'base64'), ts: BigInt(s.ts) };
      });
      return { file: f, protocol: h.protocol, side: h.side, comm: h.comm, steps };
    });
}

export function decode(
  steps: Step[],
  o: Partial<DecodeOptions> & { limits?: Limits } = {},
): { exchanges: Exchange[]; decoder: ConnectionDecoder } {
  const exchanges: Exchange[] = [];
  const d = new ConnectionDecoder(
    { id: 1, pid: 100, comm: 'test', local: null, peer: null },
    { protocols: o.protocols ?? [...PROTOCOLS], forced: o.forced ?? false, limits: o.limits },
    (x) => exchanges.push(x),
  );
  for (const s of steps) {
    if ('lost' in s) d.loss(s.dir, s.lost);
    else d.data(s.dir, s.data, { first: s.ts, last: s.ts });
  }
  d.end('the connection closed');
  return { exchanges, decoder: d };
}

/** An exchange as one comparable line (no timestamps). */
export function summary(x: Exchange): string {
  const f = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  return [
    x.protocol,
    x.side,
    x.command,
    f(x.statement),
    `rows=${f(x.rows)} cols=${f(x.columns)}${x.columnNames ? `(${x.columnNames.join(',')})` : ''}`,
    f(x.status),
    `err=${f(x.error)}`,
    `nd=${f(x.notDecoded)}`,
    `${f(x.user)}@${f(x.database)}`,
    `out=${x.bytesOut} in=${x.bytesIn}`,
  ].join(' | ');
}

/** The same steps with the data cut into pieces of at most `n` bytes. */
export function rechunk(steps: Step[], n: number): Step[] {
  const out: Step[] = [];
  for (const s of steps) {
    if ('lost' in s) {
      out.push(s);
      continue;
    }
    for (let i = 0; i < s.data.length; i += n) out.push({ dir: s.dir, data: s.data.subarray(i, i + n), ts: s.ts });
  }
  return out;
}

/** The same steps with the byte at stream position `at` (counted over all data) starting a new chunk. */
export function splitAt(steps: Step[], at: number): Step[] {
  const out: Step[] = [];
  let pos = 0;
  for (const s of steps) {
    if ('lost' in s || at <= pos || at >= pos + s.data.length) {
      out.push(s);
      if (!('lost' in s)) pos += s.data.length;
      continue;
    }
    out.push({ dir: s.dir, data: s.data.subarray(0, at - pos), ts: s.ts });
    out.push({ dir: s.dir, data: s.data.subarray(at - pos), ts: s.ts });
    pos += s.data.length;
  }
  return out;
}

export function totalBytes(steps: Step[]): number {
  return steps.reduce((n, s) => n + ('lost' in s ? 0 : s.data.length), 0);
}
