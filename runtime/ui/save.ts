// runtime/ui/save.ts — the `s` key: writes what a pane holds to a file in
// the directory capc was started in (or the temp directory if that is not
// writable) and returns where, for the status line. Streams are saved
// byte-exact, one file per connection direction, as --write-streams does.
// Saved captures are secret: files 0600, directories 0700, created only
// (never through a link, never over another user's file; see
// runtime/files/private-files.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIR_NAME } from '../format/payload.js';
import { OutputDir } from '../files/private-files.js';
import type { Chunk, ConnView } from './stream-book.js';

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Try `dir`, then the temp directory; returns the path written. */
function writeSomewhere(dir: string, name: string, write: (d: OutputDir, name: string) => void): string {
  let why = '';
  for (const d of [dir, os.tmpdir()]) {
    let out: OutputDir | undefined;
    try {
      out = OutputDir.open(d);
      write(out, name);
      return path.join(d, name);
    } catch (e) {
      why = (e as Error).message;
    } finally {
      out?.close();
    }
  }
  throw new Error(`cannot write ${name} in ${dir} or ${os.tmpdir()}: ${why}`);
}

export function saveText(dir: string, what: string, text: string | Buffer, now = new Date()): string {
  return writeSomewhere(dir, `capc-${what}-${stamp(now)}.txt`, (d, name) => {
    const fd = d.createFile(name);
    try {
      fs.writeFileSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** Every connection's kept bytes, one file per direction (gaps where bytes were lost or not kept). */
export function saveStreams(dir: string, conns: { conn: ConnView; chunks: Chunk[] }[], now = new Date()): string {
  return writeSomewhere(dir, `capc-streams-${stamp(now)}`, (parent, name) => {
    const d = parent.subdir(name);
    try {
      writeStreamsInto(d, conns);
    } finally {
      d.close();
    }
  });
}

function writeStreamsInto(d: OutputDir, conns: { conn: ConnView; chunks: Chunk[] }[]): void {
  const index = [];
  for (const { conn, chunks } of conns) {
    const safe = conn.info.comm.replace(/[^A-Za-z0-9_.-]/g, '_') || 'unknown';
    const files = [];
    for (const dir of [0, 1] as const) {
      const mine = chunks.filter((c): c is Extract<Chunk, { data: Buffer }> => c.dir === dir && 'data' in c);
      if (!mine.length) continue;
      const file = `conn${conn.info.id}-${safe}-${conn.info.pid}-${DIR_NAME[dir]}.bin`;
      const fd = d.createFile(file);
      try {
        const base = mine[0]!.offset;
        for (const c of mine) fs.writeSync(fd, c.data, 0, c.data.length, c.offset - base);
      } finally {
        fs.closeSync(fd);
      }
      files.push({ file, from_offset: mine[0]!.offset, bytes: conn.bytes[dir], lost: conn.lost[dir] });
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
  const fd = d.createFile('streams.json');
  try {
    fs.writeFileSync(fd, JSON.stringify(index, null, 2) + '\n');
  } finally {
    fs.closeSync(fd);
  }
}
