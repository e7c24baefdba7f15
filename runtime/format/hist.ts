// runtime/format/hist.ts — histograms as bpftrace 0.17 prints them. A row is
// the label left-aligned in 16 columns, the count right-aligned in 8, ` |`, a
// bar of `@` padded to 52 columns and `|`; rows run from the first to the last
// non-zero bucket. JSON gives inclusive bounds ({"min": 2, "max": 3} for
// [2, 4)), no "min" below the range and no "max" above it.

const BAR = 52;

/** 2^power with K, M, G, T suffixes for powers of 1024 (hist labels). */
function powerLabel(power: number): string {
  const suffixes = ['', 'K', 'M', 'G', 'T'];
  const s = Math.min(4, Math.floor(power / 10));
  return `${2n ** BigInt(power - s * 10)}${suffixes[s]}`;
}

/** lhist labels: K or M only for exact multiples of 1024 or 1048576. */
function linLabel(n: number): string {
  if (n === 0) return '0';
  if (n % 1048576 === 0) return `${n / 1048576}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

export function histLabel(i: number): string {
  if (i === 0) return '(..., 0)';
  if (i === 1) return '[0]';
  if (i === 2) return '[1]';
  return `[${powerLabel(i - 2)}, ${powerLabel(i - 1)})`;
}

export function lhistLabel(i: number, p: { min: number; max: number; step: number }): string {
  const last = Math.floor((p.max - p.min) / p.step) + 1;
  if (i === 0) return `(..., ${linLabel(p.min)})`;
  if (i === last) return `[${linLabel(p.max)}, ...)`;
  return `[${linLabel((i - 1) * p.step + p.min)}, ${linLabel(i * p.step + p.min)})`;
}

/** First and last non-zero bucket, or undefined when all are zero. */
function span(buckets: bigint[]): [number, number] | undefined {
  let first = -1;
  let last = -1;
  buckets.forEach((c, i) => {
    if (c > 0n) {
      if (first < 0) first = i;
      last = i;
    }
  });
  return first < 0 ? undefined : [first, last];
}

/** The rows of one histogram (each ending in a newline); '' when every bucket is empty. */
export function histRows(buckets: bigint[], lhist?: { min: number; max: number; step: number }, div = 1): string {
  const range = span(buckets);
  if (!range) return '';
  const max = buckets.reduce((m, c) => (c > m ? c : m), 0n);
  let out = '';
  for (let i = range[0]; i <= range[1]; i++) {
    const c = buckets[i]!;
    // bpftrace: (int)(count / (float)max * 52)
    const width = Math.trunc(Math.fround(Math.fround(Math.fround(Number(c)) / Math.fround(Number(max))) * BAR));
    const label = lhist ? lhistLabel(i, lhist) : histLabel(i);
    const shown = lhist ? c : c / BigInt(div);
    out += `${label.padEnd(16)}${String(shown).padStart(8)} |${'@'.repeat(width).padEnd(BAR)}|\n`;
  }
  return out;
}

/** The JSON array of one histogram, with bpftrace's spacing. */
export function histJson(buckets: bigint[], lhist?: { min: number; max: number; step: number }, div = 1): string {
  const range = span(buckets);
  if (!range) return '[]';
  const items: string[] = [];
  const last = lhist ? Math.floor((lhist.max - lhist.min) / lhist.step) + 1 : -1;
  for (let i = range[0]; i <= range[1]; i++) {
    const c = buckets[i]!;
    let bounds: string;
    if (lhist) {
      if (i === 0) bounds = `"max": ${lhist.min - 1}, `;
      else if (i === last) bounds = `"min": ${lhist.max}, `;
      else bounds = `"min": ${(i - 1) * lhist.step + lhist.min}, "max": ${i * lhist.step + lhist.min - 1}, `;
    } else if (i === 0) bounds = '"max": -1, ';
    else if (i === 1) bounds = '"min": 0, "max": 0, ';
    else if (i === 2) bounds = '"min": 1, "max": 1, ';
    else bounds = `"min": ${2n ** BigInt(i - 2)}, "max": ${2n ** BigInt(i - 1) - 1n}, `;
    items.push(`{${bounds}"count": ${lhist ? c : c / BigInt(div)}}`);
  }
  return `[${items.join(', ')}]`;
}
