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

/**
 * The file offset in `file` of the implementation IFUNC `name` resolves to on this machine, or undefined when
 * capc's process has not loaded `file` (or the implementation is not in an executable mapping of that file).
 */
export function ifuncImplementationOffset(file: string, name: string): number | undefined {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(file, { bigint: true });
  } catch {
    return undefined;
  }
  const addr = addressInThisProcess(file, name);
  if (addr === undefined) return undefined;
  const dev = devText(st.dev);
  for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    // start-end perms offset major:minor inode path
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)/.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    if (addr < start || addr >= BigInt(`0x${m[2]}`)) continue;
    // The mapping the address is in must be the library's own code (the same file, by device and inode).
    if (m[3]![2] !== 'x' || m[5] !== dev || BigInt(m[6]!) !== st.ino) return undefined;
    return Number(addr - start + BigInt(`0x${m[4]}`));
  }
  return undefined;
}
