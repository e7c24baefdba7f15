// runtime/symbols/kallsyms.ts — the kernel's symbols from /proc/kallsyms:
// code symbols by address (kstack frames and ksym() as `symbol+offset`, BPF
// programs included: the file lists them as they are loaded) and every
// name, data symbols too (kaddr()). Read once, on first use, after capc's
// own programs are loaded. As root the addresses are real; otherwise the
// kernel shows zeros (kptr_restrict) and nothing resolves.
import fs from 'node:fs';

export interface KernelSymbol {
  name: string;
  offset: bigint;
}

export class KernelSymbols {
  private addrs: BigUint64Array = new BigUint64Array(0);
  private names: string[] = [];
  private all: Set<string> = new Set();

  private constructor() {}

  static read(file = '/proc/kallsyms'): KernelSymbols {
    const k = new KernelSymbols();
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return k;
    }
    const code: [bigint, string][] = [];
    for (const line of text.split('\n')) {
      // ffffffff816b7430 t do_sys_openat2	[module]
      const sp1 = line.indexOf(' ');
      if (sp1 < 0) continue;
      const type = line[sp1 + 1];
      const rest = line.slice(sp1 + 3);
      const end = rest.search(/\s/);
      const name = end < 0 ? rest : rest.slice(0, end);
      if (!name) continue;
      k.all.add(name);
      if (type !== 't' && type !== 'T') continue;
      const addr = BigInt(`0x${line.slice(0, sp1)}`);
      if (addr) code.push([addr, name]);
    }
    code.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    k.addrs = BigUint64Array.from(code.map((c) => c[0]));
    k.names = code.map((c) => c[1]);
    return k;
  }

  /** Whether the kernel lists `name` (any kind of symbol). */
  has(name: string): boolean {
    return this.all.has(name);
  }

  /** The code symbol at or before `addr`, and the offset into it; undefined below the first. */
  lookup(addr: bigint): KernelSymbol | undefined {
    let lo = 0;
    let hi = this.addrs.length - 1;
    if (hi < 0 || addr < this.addrs[0]!) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.addrs[mid]! <= addr) lo = mid;
      else hi = mid - 1;
    }
    return { name: this.names[lo]!, offset: addr - this.addrs[lo]! };
  }
}

let shared: KernelSymbols | undefined;
/** The process's one table (read on first use). */
export function kernelSymbols(): KernelSymbols {
  shared ??= KernelSymbols.read();
  return shared;
}
