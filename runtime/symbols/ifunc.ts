// runtime/symbols/ifunc.ts — where a uprobe on an indirect function (IFUNC:
// glibc's strlen, memcpy, strcmp...) must go to see its calls: not its
// symbol, which is the resolver the dynamic linker runs once per process, but
// the implementation that resolver picks for this CPU (__strlen_evex...).
// capc asks its own process (runtime/ffi/dl.ts: dlsym runs the resolver) and
// turns the address into an offset in the library's file through
// /proc/self/maps. Every process on this machine gets the same pick from the
// same library (unless GLIBC_TUNABLES masks CPU features in its environment).
// Only for libraries capc's process has loaded (glibc's libc, libm...).
import fs from 'node:fs';
import { addressInThisProcess } from '../ffi/dl.js';

/** makedev's split of a userspace dev_t, as /proc/PID/maps prints it (major:minor, hex). */
function devText(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/** The executable mappings of a file in this process (by device and inode): where its code is, from where in the file. */
function codeMappings(st: fs.BigIntStats): { start: bigint; end: bigint; offset: bigint }[] {
  const dev = devText(st.dev);
  const out: { start: bigint; end: bigint; offset: bigint }[] = [];
  for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    // start-end perms offset major:minor inode path
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)/.exec(line);
    if (m && m[3]![2] === 'x' && m[5] === dev && BigInt(m[6]!) === st.ino)
      out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), offset: BigInt(`0x${m[4]}`) });
  }
  return out;
}

/**
 * The file offsets in `file` of the implementations the IFUNCs `names` resolve to on this machine; a name is
 * missing when capc's process has not loaded `file`, or its implementation is not in the file's own code (the
 * vDSO's gettimeofday). /proc/self/maps is read once for them all.
 */
export function ifuncImplementationOffsets(file: string, names: string[]): Map<string, number> {
  const found = new Map<string, number>();
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(file, { bigint: true });
  } catch {
    return found;
  }
  let code: ReturnType<typeof codeMappings> | undefined;
  for (const name of names) {
    const addr = addressInThisProcess(file, name);
    if (addr === undefined) continue;
    code ??= codeMappings(st);
    const m = code.find((c) => addr >= c.start && addr < c.end);
    if (m) found.set(name, Number(addr - m.start + m.offset));
  }
  return found;
}

/** One IFUNC's implementation offset (ifuncImplementationOffsets), or undefined. */
export function ifuncImplementationOffset(file: string, name: string): number | undefined {
  return ifuncImplementationOffsets(file, [name]).get(name);
}
