// runtime/events/resolve.ts — turns the raw values the kernel records for
// ntop(), usym() and ustack into text, as bpftrace prints them: addresses as
// inet_ntop does, symbols by name (hex when unknown), stack frames as
// `symbol+offset`, one per line. Stack frames come from the program's stack
// trace maps through the reader the session gives (this layer does not touch
// the kernel); symbols come from the Symbolizer.
import type { Manifest } from '../../compiler/index.js';
import { Symbolizer, type ProbeSite } from '../symbols/symbolize.js';
import { ResolvedPart } from './model.js';

/** The frames (innermost first) of stack `id` in the stack trace map `map`, or undefined when unknown. */
export type StackReader = (map: string, id: number, frames: number) => bigint[] | undefined;

export class ValueResolver {
  private readonly sites = new Map<number, ProbeSite>();

  constructor(
    manifest: Manifest,
    /** Reads a stack's frames from its stack trace map (undefined: not loaded, or no such stack). */
    private readonly readStack: StackReader,
    readonly symbolizer = new Symbolizer(),
  ) {
    for (const p of manifest.probes) {
      if (p.attach.kind === 'uprobe' && !p.attach.ret)
        this.sites.set(p.id, { path: p.attach.path, func: p.attach.func, offset: p.attach.offset });
    }
  }

  /** struct capc_inet at `off`. */
  inet(b: Uint8Array, off: number): ResolvedPart {
    const view = Buffer.from(b.buffer, b.byteOffset + off, 24);
    const af = Number(view.readBigUInt64LE(0));
    const addr = view.subarray(8, 24);
    return new ResolvedPart(af === 10 ? ipv6Text(addr) : `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`);
  }

  /** struct capc_usym at `off`: the symbol's name (bpftrace prints no offset), or the address in hex. */
  usym(b: Uint8Array, off: number): ResolvedPart {
    const v = Buffer.from(b.buffer, b.byteOffset + off, 24);
    const addr = v.readBigUInt64LE(0);
    const pid = v.readUInt32LE(8);
    const r = this.symbolizer.resolve(pid, addr, this.sites.get(v.readUInt32LE(12)), v.readBigUInt64LE(16));
    return new ResolvedPart(r ? r.name : hex(addr));
  }

  /** struct capc_ustack at `off`: its frames, innermost first. */
  ustack(b: Uint8Array, off: number, stackMap: string, frames: number): ResolvedPart {
    const v = Buffer.from(b.buffer, b.byteOffset + off, 24);
    const id = v.readBigInt64LE(0);
    const pid = v.readUInt32LE(8);
    const site = this.sites.get(v.readUInt32LE(12));
    const ip = v.readBigUInt64LE(16);
    const out: string[] = [];
    for (const a of (id >= 0n ? this.readStack(stackMap, Number(id), frames) : undefined) ?? []) {
      const r = this.symbolizer.resolve(pid, a, site, ip);
      out.push(r ? `${r.name}+${r.offset}` : hex(a));
    }
    return new ResolvedPart(out.map((f) => `\n${' '.repeat(8)}${f}`).join('') + '\n', out);
  }
}

function hex(a: bigint): string {
  return a === 0n ? '0' : `0x${a.toString(16)}`;
}

/** inet_ntop(AF_INET6): lowercase groups, the longest run of zero groups as `::`, v4-mapped as `::ffff:a.b.c.d`. */
export function ipv6Text(a: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => a.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const txt = groups.map((g) => g.toString(16));
  if (best < 0) return txt.join(':');
  return `${txt.slice(0, best).join(':')}::${txt.slice(best + bestLen).join(':')}`;
}
