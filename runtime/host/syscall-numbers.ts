// runtime/host/syscall-numbers.ts — the 64-bit system call numbers of this
// machine, keyed by the name of their syscalls:* tracepoints (sys_enter_NAME,
// sys_exit_NAME), for syscall tracepoints attached as raw tracepoints
// (compiler/2-analyze/syscall-form.ts). The kernel exports no table from a
// syscall tracepoint to its number (its syscall_metadata is kernel memory),
// so the numbers come from the kernel's UAPI header as linux-libc-dev installs
// it, read only when root and nobody else could have written it. A name the
// header does not know (a syscall newer than the header) is absent: capc then
// keeps that probe a perf event (or reports it under --tracepoints=raw).
import os from 'node:os';
import { readTrustedFile } from '../files/trust.js';

/** The header, per architecture capc knows the syscall ABI of (x86_64 only: the registers in syscall-form.ts). */
export const UNISTD_HEADERS: Record<string, string> = {
  x64: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h',
};

/**
 * x86_64 entries whose __NR_ name differs from the SYSCALL_DEFINE name the
 * tracepoint is named after (arch/x86/entry/syscalls/syscall_64.tbl: `4 common
 * stat sys_newstat`). Both directions matter: `__NR_stat` is sys_enter_newstat,
 * and a sys_enter_stat tracepoint (the old stat, ia32 only) has no 64-bit number.
 */
const X86_64_ENTRY_POINTS: Record<string, string> = {
  stat: 'newstat',
  fstat: 'newfstat',
  lstat: 'newlstat',
  uname: 'newuname',
  sendfile: 'sendfile64',
  umount2: 'umount',
};

/** Parse `#define __NR_openat 257` lines into tracepoint name → number. */
export function parseUnistd(
  text: string,
  entryPoints: Record<string, string> = X86_64_ENTRY_POINTS,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^#define\s+__NR_(\w+)\s+(\d+)\s*$/gm)) {
    out[entryPoints[m[1]!] ?? m[1]!] = Number(m[2]);
  }
  return out;
}

let cached: Record<string, number> | undefined;

/** Tracepoint name (`openat`, `newstat`) → 64-bit syscall number on this machine; empty when unknown. */
export function syscallNumbers(): Record<string, number> {
  if (!cached) {
    const header = UNISTD_HEADERS[os.arch()];
    const text = header ? readTrustedFile(header)?.toString('latin1') : undefined;
    cached = text ? parseUnistd(text) : {};
  }
  return cached;
}
