// runtime/events/resolve.ts — turns the raw values the kernel records for
// ntop(), usym(), ustack, kstack, ksym(), macaddr(), strftime() and
// cgroup_path() into text, as bpftrace prints them: addresses as inet_ntop
// does, symbols by name (hex when unknown), stack frames as `symbol+offset`
// one per line (or perf's `address symbol+offset (module)`), times in local
// wall-clock time, cgroup ids as their paths. Stack frames come from the
// program's stack trace maps through the reader the session gives (this
// layer does not touch the kernel); user symbols come from the Symbolizer,
// kernel symbols from /proc/kallsyms.
import type { LayoutField, Manifest } from '../../compiler/index.js';
import { CgroupPaths } from '../host/cgroups.js';
import { kernelSymbols, type KernelSymbols } from '../symbols/kallsyms.js';
import { Symbolizer, type ProbeSite } from '../symbols/symbolize.js';
import type { Formatters } from './formatters.js';
import { ResolvedPart } from './model.js';

/** The frames (innermost first) of stack `id` in the stack trace map `map`, or undefined when unknown. */
export type StackReader = (map: string, id: number, frames: number) => bigint[] | undefined;

export class ValueResolver {
  private readonly sites = new Map<number, ProbeSite>();
  private ksyms: KernelSymbols | undefined;
  private readonly cgroups = new CgroupPaths();
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in ns: nsecs (boot-time) to wall-clock time. */
  private readonly wallOffsetNs: bigint;

  constructor(
    manifest: Manifest,
    /** Reads a stack's frames from its stack trace map (undefined: not loaded, or no such stack). */
    private readonly readStack: StackReader,
    readonly symbolizer = new Symbolizer(),
    /** strftime(3), for strftime() values (runtime/format/strftime.ts through the session). */
    private readonly strftime?: Formatters['strftime'],
  ) {
    for (const p of manifest.probes) {
      if (p.attach.kind === 'uprobe' && !p.attach.ret)
        this.sites.set(p.id, { path: p.attach.path, func: p.attach.func, offset: p.attach.offset });
    }
    this.wallOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  }

  /** A field of one of the types resolved here, at `off`. */
  field(f: LayoutField, b: Uint8Array, off: number): ResolvedPart {
    switch (f.type) {
      case 'inet':
        return this.inet(b, off);
      case 'usym':
        return this.usym(b, off);
      case 'ustack':
        return this.ustack(b, off, f.stackMap!, f.frames!, f.mode);
      case 'kstack':
        return this.kstack(b, off, f.stackMap!, f.frames!, f.mode);
      case 'ksym':
        return this.ksym(u64(b, off));
      case 'macaddr':
        return new ResolvedPart(
          [...b.subarray(off, off + 6)].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':'),
        );
      case 'strftime':
        return new ResolvedPart(this.time(f.format ?? '', u64(b, off)));
      case 'cgroup_path':
        return new ResolvedPart(this.cgroups.text(u64(b, off), f.filter ?? '*'));
      default:
        throw new Error(`internal: ${f.type} is not a resolved value`);
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
  ustack(b: Uint8Array, off: number, stackMap: string, frames: number, mode?: 'perf'): ResolvedPart {
    const v = Buffer.from(b.buffer, b.byteOffset + off, 24);
    const id = v.readBigInt64LE(0);
    const pid = v.readUInt32LE(8);
    const site = this.sites.get(v.readUInt32LE(12));
    const ip = v.readBigUInt64LE(16);
    const out: string[] = [];
    for (const a of (id >= 0n ? this.readStack(stackMap, Number(id), frames) : undefined) ?? []) {
      const r = this.symbolizer.resolve(pid, a, site, ip);
      out.push(
        mode === 'perf'
          ? `\t${a.toString(16)} ${r ? `${r.name}+${r.offset}` : hex(a)} (${r ? r.module : '[unknown]'})`
          : r
            ? `${r.name}+${r.offset}`
            : hex(a),
      );
    }
    return stack(out, mode);
  }

  /** struct capc_kstack at `off`: kernel frames from /proc/kallsyms, innermost first. */
  kstack(b: Uint8Array, off: number, stackMap: string, frames: number, mode?: 'perf'): ResolvedPart {
    const id = Buffer.from(b.buffer, b.byteOffset + off, 8).readBigInt64LE(0);
    const out: string[] = [];
    for (const a of (id >= 0n ? this.readStack(stackMap, Number(id), frames) : undefined) ?? []) {
      const r = this.kernel().lookup(a);
      const sym = r ? `${r.name}+${r.offset}` : hex(a);
      out.push(mode === 'perf' ? `\t${a.toString(16)} ${sym}` : sym);
    }
    return stack(out, mode);
  }

  /** ksym(addr): the kernel function containing addr (no offset, as bpftrace prints it), or hex. */
  ksym(addr: bigint): ResolvedPart {
    const r = addr ? this.kernel().lookup(addr) : undefined;
    return new ResolvedPart(r ? r.name : hex(addr));
  }

  private kernel(): KernelSymbols {
    // Read on first use: by then capc's own programs are in the table too.
    this.ksyms ??= kernelSymbols();
    return this.ksyms;
  }

  /** strftime(fmt, ns): boot-time nanoseconds as local wall-clock time; %f is the microseconds. */
  private time(format: string, ns: bigint): string {
    const wall = ns + this.wallOffsetNs;
    const usec = String((wall / 1000n) % 1_000_000n).padStart(6, '0');
    const text = format.replace(/%%|%f/g, (m) => (m === '%f' ? usec : '%%'));
    return this.strftime ? this.strftime(text, new Date(Number(wall / 1_000_000n))) : text;
  }
}

function u64(b: Uint8Array, off: number): bigint {
  return Buffer.from(b.buffer, b.byteOffset + off, 8).readBigUInt64LE(0);
}

/** A stack's text as printf prints it: a newline, then each frame on its own line (8 spaces, or perf's tab). */
function stack(frames: string[], mode?: 'perf'): ResolvedPart {
  const indent = mode === 'perf' ? '' : ' '.repeat(8);
  return new ResolvedPart(frames.map((f) => `\n${indent}${f}`).join('') + '\n', frames, mode === 'perf' ? '' : '    ');
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
