// runtime/symbols/symbolize.ts — user addresses to `symbol+offset`. A process's
// mappings (/proc/PID/maps) are read when its pid is first seen and kept, so
// the addresses of a process that has exited still resolve (bpftrace #246).
// When even that is too late, a uprobe's own address gives the probed
// binary's load address: the kernel records it beside the value.
import fs from 'node:fs';
import { readFunctionSymbols, readLoadSegments, type LoadSegment } from './elf.js';

interface Mapping {
  start: bigint;
  end: bigint;
  offset: bigint;
  path: string;
}
interface SymTable {
  starts: bigint[];
  syms: { name: string; value: bigint; size: bigint }[];
  segments: LoadSegment[];
}

/** Where a uprobe fired: the binary, the function's link-time address and the probe's offset into it. */
export interface ProbeSite {
  path: string;
  func: string;
  offset: number;
}

export class Symbolizer {
  private readonly maps = new Map<number, Mapping[] | null>();
  private readonly tables = new Map<string, SymTable | null>();

  /** Remember a process's mappings now, while it is alive (no-op if already known). */
  see(pid: number): void {
    if (this.maps.get(pid)) return;
    this.maps.set(pid, readMaps(pid));
  }

  /** Forget what was read (the process may have exec'd); the next see() reads again. */
  refresh(pid: number): void {
    const m = readMaps(pid);
    if (m) this.maps.set(pid, m);
  }

  /** `name+off` (and the file it is in) for addr in pid; undefined when unknown. `site`/`ip` help when the maps are gone. */
  resolve(
    pid: number,
    addr: bigint,
    site?: ProbeSite,
    ip?: bigint,
  ): { name: string; offset: bigint; module: string } | undefined {
    this.see(pid);
    for (const m of this.maps.get(pid) ?? []) {
      if (addr < m.start || addr >= m.end || !m.path.startsWith('/')) continue;
      const t = this.table(m.path);
      if (!t) return undefined;
      const fileOff = addr - m.start + m.offset;
      const seg = t.segments.find((s) => fileOff >= s.offset && fileOff < s.offset + s.filesz);
      const r = this.lookup(t, seg ? fileOff - seg.offset + seg.vaddr : fileOff);
      return r && { ...r, module: m.path };
    }
    if (site && ip) {
      // The probe's address = load bias + the function's address + offset (+1 on x86: after the int3).
      const t = this.table(site.path);
      const sym = t?.syms.find((s) => s.name === site.func);
      if (!t || !sym) return undefined;
      for (const d of [0n, 1n]) {
        const bias = ip - d - sym.value - BigInt(site.offset);
        if (bias % 4096n !== 0n) continue;
        const r = this.lookup(t, addr - bias);
        if (r) return { ...r, module: site.path };
      }
    }
    return undefined;
  }

  private lookup(t: SymTable, vaddr: bigint): { name: string; offset: bigint } | undefined {
    // Only addresses inside the file's loaded segments belong to it.
    if (t.segments.length && !t.segments.some((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.memsz)) return undefined;
    let lo = 0;
    let hi = t.starts.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (t.starts[mid]! <= vaddr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const s = t.syms[best]!;
    const off = vaddr - s.value;
    // A symbol without a size (_init, _fini) covers at most what precedes the next one.
    if (s.size ? off >= s.size : best + 1 < t.starts.length && vaddr >= t.starts[best + 1]!) return undefined;
    return { name: s.name, offset: off };
  }

  private table(path: string): SymTable | null {
    let t = this.tables.get(path);
    if (t === undefined) {
      try {
        const syms = readFunctionSymbols(path)
          .filter((s) => s.value > 0n)
          .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
        t = { starts: syms.map((s) => s.value), syms, segments: readLoadSegments(path) };
      } catch {
        t = null;
      }
      this.tables.set(path, t);
    }
    return t;
  }
}

function readMaps(pid: number): Mapping[] | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return null;
  }
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    // 5620ba8a9000-5620ba8aa000 r-xp 00001000 08:01 123 /tmp/wl
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(.*)$/.exec(line);
    if (m && m[4])
      out.push({
        start: BigInt(`0x${m[1]}`),
        end: BigInt(`0x${m[2]}`),
        offset: BigInt(`0x${m[3]}`),
        path: m[4].replace(/ \(deleted\)$/, ''),
      });
  }
  return out.length ? out : null;
}
