// tests/differential/histograms.ts — compares the histograms of two outputs
// bucket by bucket: each `@map[key]: ` block's rows (label, count, bar) must
// be the same, so a difference is reported as the bucket that differs.
import assert from 'node:assert/strict';

interface Hist {
  header: string;
  rows: { label: string; count: number; bar: number }[];
}

export function parseHistograms(text: string): Hist[] {
  const out: Hist[] = [];
  let cur: Hist | undefined;
  for (const line of text.split('\n')) {
    if (/^@\S*: $/.test(line) || /^@.*\]: $/.test(line)) {
      cur = { header: line, rows: [] };
      out.push(cur);
      continue;
    }
    const m = /^(.{16})\s*(\d+) \|(@*) *\|$/.exec(line);
    if (m && cur) cur.rows.push({ label: m[1]!.trim(), count: Number(m[2]), bar: m[3]!.length });
    else if (line === '') cur = undefined;
  }
  return out;
}

export function compareHistograms(bpftrace: string, capc: string): void {
  const a = parseHistograms(bpftrace);
  const b = parseHistograms(capc);
  assert.deepEqual(
    b.map((h) => h.header),
    a.map((h) => h.header),
    'the same histograms, in the same order',
  );
  a.forEach((h, i) => {
    const mine = b[i]!;
    const labels = h.rows.map((r) => r.label);
    assert.deepEqual(
      mine.rows.map((r) => r.label),
      labels,
      `${h.header.trim()} buckets`,
    );
    h.rows.forEach((r, j) => {
      assert.equal(mine.rows[j]!.count, r.count, `${h.header.trim()} bucket ${r.label}: count`);
      assert.equal(mine.rows[j]!.bar, r.bar, `${h.header.trim()} bucket ${r.label}: bar width`);
    });
  });
}
