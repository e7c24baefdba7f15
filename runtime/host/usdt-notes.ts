// runtime/host/usdt-notes.ts — the USDT probes of an ELF file, from its
// .note.stapsdt notes (SystemTap SDT v3: pc, base, semaphore, then provider,
// name and argument spec strings), for `usdt:` probes and `capc list usdt:`.
import fs from 'node:fs';
import type { UsdtProbe } from '../../compiler/index.js';
import { readAt, readSections } from '../symbols/elf.js';

const NT_STAPSDT = 3;

export interface UsdtNote extends UsdtProbe {
  /** Address of the probe (link-time), its semaphore's (0: none), and the argument specs (`-4@%eax`). */
  pc: bigint;
  semaphoreAddr: bigint;
  argSpec: string;
}

export function readUsdtNotes(path: string): UsdtNote[] {
  const fd = fs.openSync(path, 'r');
  try {
    const sec = readSections(fd).find((s) => s.name === '.note.stapsdt');
    if (!sec) return [];
    const data = readAt(fd, sec.offset, sec.size);
    const out: UsdtNote[] = [];
    for (let o = 0; o + 12 <= data.length; ) {
      const namesz = data.readUInt32LE(o);
      const descsz = data.readUInt32LE(o + 4);
      const type = data.readUInt32LE(o + 8);
      const nameStart = o + 12;
      const descStart = nameStart + align4(namesz);
      const owner = data.toString('latin1', nameStart, nameStart + Math.max(0, namesz - 1));
      if (type === NT_STAPSDT && owner === 'stapsdt' && descsz >= 24) {
        const pc = data.readBigUInt64LE(descStart);
        const semaphoreAddr = data.readBigUInt64LE(descStart + 16);
        const strs = data.toString('latin1', descStart + 24, descStart + descsz).split('\0');
        const [provider = '', name = '', argSpec = ''] = strs;
        out.push({
          provider,
          name,
          pc,
          semaphoreAddr,
          argSpec,
          semaphore: semaphoreAddr !== 0n,
          args: argSpec.trim() ? argSpec.trim().split(/\s+/).length : 0,
        });
      }
      o = descStart + align4(descsz);
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
