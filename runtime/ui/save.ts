// runtime/ui/save.ts — the `s` key: writes what a pane holds to a file in
// the directory capc was started in (or the temp directory if that is not
// writable) and returns where, for the status line. Streams are saved
// byte-exact, one file per connection direction, as --write-streams does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIR_NAME } from '../format/payload.js';
import type { Chunk, ConnView } from './stream-book.js';

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Try `dir`, then the temp directory; returns the path written. */
function writeSomewhere(dir: string, name: string, write: (p: string) => void): string {
  for (const d of [dir, os.tmpdir()]) {
    const p = path.join(d, name);
    try {
      write(p);
      return p;
    } catch {
      /* try the next place */
    }
  }
  throw new Error(`cannot write ${name} in ${dir} or ${os.tmpdir()}`);
}

export function saveText(dir: string, what: string, text: string | Buffer, now = new Date()): string {
  return writeSomewhere(dir, `capc-${what}-${stamp(now)}.txt`, (p) => fs.writeFileSync(p, text));
}

/** Every connection's kept bytes, one file per direction (gaps where bytes were lost or not kept). */
export function saveStreams(dir: string, conns: { conn: ConnView; chunks: Chunk[] }[], now = new Date()): string {
  return writeSomewhere(dir, `capc-streams-${stamp(now)}`, (d) => {
    fs.mkdirSync(d);
    const index = [];
    for (const { conn, chunks } of conns) {
      const safe = conn.info.comm.replace(/[^A-Za-z0-9_.-]/g, '_') || 'unknown';
      const files = [];
      for (const dir of [0, 1] as const) {
        const mine = chunks.filter((c): c is Extract<Chunk, { data: Buffer }> => c.dir === dir && 'data' in c);
        if (!mine.length) continue;
        const name = `conn${conn.info.id}-${safe}-${conn.info.pid}-${DIR_NAME[dir]}.bin`;
        const fd = fs.openSync(path.join(d, name), 'w');
        try {
          const base = mine[0]!.offset;
          for (const c of mine) fs.writeSync(fd, c.data, 0, c.data.length, c.offset - base);
        } finally {
          fs.closeSync(fd);
        }
        files.push({ file: name, from_offset: mine[0]!.offset, bytes: conn.bytes[dir], lost: conn.lost[dir] });
      }
      index.push({
        conn: conn.info.id,
        pid: conn.info.pid,
        comm: conn.info.comm,
        probe: conn.info.probe,
        state: conn.state,
        not_kept_bytes: conn.droppedBytes,
        streams: files,
      });
    }
    fs.writeFileSync(path.join(d, 'streams.json'), JSON.stringify(index, null, 2) + '\n');
  });
}
