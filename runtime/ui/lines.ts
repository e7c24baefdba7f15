// runtime/ui/lines.ts — turns what the store keeps into screen lines: printf
// output, captured payload (escaped text, or hex with `x`), loss markers and
// connection ends; and the `/` filter (text, `comm:NAME`, `pid:N`). Output
// is plain ASCII (every other byte is escaped by format/payload.ts), so a
// line's length is its width on screen and slicing never splits a character.
import type { ConnInfo } from '../events/model.js';
import { identityText } from '../format/identity.js';
import { DIR_NAME, escapePayload, escapeText, hexDump, humanBytes } from '../format/payload.js';
import type { Entry } from './store.js';
import type { Chunk } from './stream-book.js';

export type Tone = 'out' | 'in' | 'loss' | 'dim' | 'plain';

export interface Line {
  text: string;
  tone: Tone;
}

export interface LineOptions {
  hex: boolean;
  /** Payload lines shown per capture entry in the events pane (the streams pane shows all). */
  maxPayloadLines: number;
}

/** `conn 3 psql[812] 127.0.0.1:41712 -> 127.0.0.1:5432` (no address while the socket is not known). */
export function who(c: ConnInfo): string {
  return `conn ${c.id} ${escapeText(c.comm)}[${c.pid}]${c.ident ? ` ${identityText(c.ident)}` : ''}`;
}

function expandTabs(s: string): string {
  if (!s.includes('\t')) return s;
  let out = '';
  for (const ch of s) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

/** Bytes as screen-safe text lines (a trailing newline ends the last line, it does not add an empty one). */
export function textLines(data: Buffer): string[] {
  const s = escapePayload(data).toString('latin1');
  const parts = s.split('\n');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map(expandTabs);
}

function payloadLines(data: Buffer, offset: number, o: { hex: boolean; max: number }, tone: Tone): Line[] {
  const rows = o.hex ? hexDump(data.subarray(0, o.max * 16), offset).split('\n') : textLines(data);
  const shown = rows.slice(0, o.max).map((text) => ({ text: `  ${text}`, tone }));
  const hidden = o.hex ? Math.max(0, data.length - o.max * 16) : rows.length - shown.length;
  if (hidden > 0) shown.push({ text: o.hex ? `  … ${hidden} more bytes` : `  … ${hidden} more lines`, tone: 'dim' });
  return shown;
}

export function entryLines(e: Entry, o: LineOptions): Line[] {
  switch (e.kind) {
    case 'printf':
      return textLines(e.text).map((text) => ({ text, tone: 'plain' }));
    case 'child':
      return textLines(e.text).map((text) => ({ text: `[cmd] ${text}`, tone: 'dim' }));
    case 'capture': {
      const tone: Tone = e.dir === 0 ? 'out' : 'in';
      const len = e.len ?? e.data.length;
      const head = {
        text: `${e.dir === 0 ? '>>>' : '<<<'} ${who(e.conn)} ${DIR_NAME[e.dir]} ${len} bytes at ${e.offset}`,
        tone,
      };
      if (e.data.length < len) return [head, { text: '  (bytes not kept here)', tone: 'dim' }];
      return [head, ...payloadLines(e.data, e.offset, { hex: o.hex, max: o.maxPayloadLines }, 'plain')];
    }
    case 'capture-loss':
      return [
        { text: `!!! ${who(e.conn)} ${DIR_NAME[e.dir]}: ${e.bytes} bytes lost at offset ${e.offset}`, tone: 'loss' },
      ];
    case 'capture-end': {
      const lost = e.lost[0] + e.lost[1];
      return [
        {
          text: `--- ${who(e.conn)} ${e.closed ? 'closed' : e.exited ? 'ended: its process exited' : 'still open'}: ${humanBytes(e.bytes[0])} out, ${humanBytes(e.bytes[1])} in${lost ? `, ${lost} bytes lost` : ''}`,
          tone: lost ? 'loss' : 'dim',
        },
      ];
    }
  }
}

/** The reassembled conversation of one connection, in arrival order, a header at each change of direction. */
export function conversationLines(chunks: Chunk[], hex: boolean, droppedBytes: number): Line[] {
  const out: Line[] = [];
  if (droppedBytes)
    out.push({
      text: `… ${droppedBytes} earlier bytes not kept here (use --write-streams DIR for everything)`,
      tone: 'dim',
    });
  let i = 0;
  while (i < chunks.length) {
    const c = chunks[i]!;
    if ('lost' in c) {
      out.push({ text: `!!! ${DIR_NAME[c.dir]}: ${c.lost} bytes lost at offset ${c.offset}`, tone: 'loss' });
      i++;
      continue;
    }
    // Join a run of contiguous chunks in one direction, so lines are not cut at record edges.
    const run: Buffer[] = [c.data];
    let end = c.offset + c.data.length;
    let j = i + 1;
    for (; j < chunks.length; j++) {
      const d = chunks[j]!;
      if ('lost' in d || d.dir !== c.dir || d.offset !== end) break;
      run.push(d.data);
      end += d.data.length;
    }
    const data = run.length === 1 ? c.data : Buffer.concat(run);
    const tone: Tone = c.dir === 0 ? 'out' : 'in';
    out.push({ text: `${c.dir === 0 ? '>>>' : '<<<'} ${DIR_NAME[c.dir]} ${data.length} bytes at ${c.offset}`, tone });
    for (const text of hex ? hexDump(data, c.offset).split('\n') : textLines(data)) out.push({ text, tone: 'plain' });
    i = j;
  }
  return out;
}

export type Filter =
  | { kind: 'pid'; pid: number }
  | { kind: 'comm'; comm: string }
  | { kind: 'text'; text: string; pid?: number };

export function parseFilter(text: string): Filter | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const pid = /^pid[:=]\s*(\d+)$/.exec(t);
  if (pid) return { kind: 'pid', pid: Number(pid[1]) };
  const comm = /^comm[:=]\s*(.+)$/.exec(t);
  if (comm) return { kind: 'comm', comm: comm[1]! };
  return /^\d+$/.test(t) ? { kind: 'text', text: t, pid: Number(t) } : { kind: 'text', text: t };
}

function connMatches(c: ConnInfo, f: Filter): boolean {
  if (f.kind === 'pid') return c.pid === f.pid;
  if (f.kind === 'comm') return c.comm.includes(f.comm);
  // Text also finds a connection by its addresses and ports (`/5432`, `/10.0.0.7`).
  return c.comm.includes(f.text) || c.pid === f.pid || (!!c.ident && identityText(c.ident).includes(f.text));
}

/** Does an entry pass the filter? printf output has no pid or comm of its own: text only. */
export function matches(e: Entry, f: Filter | undefined): boolean {
  if (!f) return true;
  switch (e.kind) {
    case 'printf':
    case 'child':
      return f.kind === 'text' && e.text.includes(f.text);
    case 'capture':
      return connMatches(e.conn, f) || (f.kind === 'text' && e.data.includes(f.text));
    default:
      return connMatches(e.conn, f);
  }
}

export function connMatchesFilter(c: ConnInfo, f: Filter | undefined): boolean {
  return !f || connMatches(c, f);
}
