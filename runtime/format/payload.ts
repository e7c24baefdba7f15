// runtime/format/payload.ts — shows captured bytes safely on a terminal:
// printable ASCII as is, newlines and tabs kept, everything else (escape
// sequences included) as \xNN; or a hex dump like `hexdump -C`.

/** What each byte prints as; built once (escaping is per byte on the hot path). */
const ESCAPED: Buffer[] = Array.from({ length: 256 }, (_, b) => {
  if (b === 0x0a) return Buffer.from('\n');
  if (b === 0x0d) return Buffer.from('\\r');
  if (b === 0x09) return Buffer.from('\t');
  if (b === 0x5c) return Buffer.from('\\\\');
  if (b >= 0x20 && b < 0x7f) return Buffer.from([b]);
  return Buffer.from(`\\x${b.toString(16).padStart(2, '0')}`);
});
const PLAIN = Uint8Array.from({ length: 256 }, (_, b) =>
  (b >= 0x20 && b < 0x7f && b !== 0x5c) || b === 0x0a || b === 0x09 ? 1 : 0,
);

export function escapePayload(data: Buffer): Buffer {
  let plain = true;
  for (let i = 0; i < data.length; i++)
    if (!PLAIN[data[i]!]) {
      plain = false;
      break;
    }
  if (plain) return data;
  // One pass into one buffer: at most 4 output bytes per input byte (\xNN).
  const out = Buffer.allocUnsafe(data.length * 4);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (PLAIN[b]) {
      out[o++] = b;
      continue;
    }
    const e = ESCAPED[b]!;
    for (let k = 0; k < e.length; k++) out[o++] = e[k]!;
  }
  return out.subarray(0, o);
}

/** A name capc shows in its own text (a process's comm, a symbol from a binary): control characters as \xNN. */
export function escapeText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function hexDump(data: Buffer, startOffset = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, i + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(
      `${(startOffset + i).toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`,
    );
  }
  return lines.join('\n');
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export const DIR_NAME = ['egress', 'ingress'] as const;
