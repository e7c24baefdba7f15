// tests/support/programs.ts — programs shared by tests and benchmarks.

/** 30 syscall tracepoints in one block: detaching them is slow (each waits for the kernel). */
export const THIRTY_SYSCALLS = [
  'read',
  'write',
  'openat',
  'close',
  'statx',
  'lseek',
  'mmap',
  'mprotect',
  'munmap',
  'brk',
  'ioctl',
  'pread64',
  'pwrite64',
  'readv',
  'writev',
  'access',
  'pipe2',
  'dup',
  'dup3',
  'nanosleep',
  'getpid',
  'socket',
  'connect',
  'accept4',
  'sendto',
  'recvfrom',
  'bind',
  'listen',
  'clone',
  'wait4',
];

/** A program on the 30 tracepoints with `body` as its block. */
export function thirtyTracepoints(body: string): string {
  return `${THIRTY_SYSCALLS.map((s) => `tracepoint:syscalls:sys_enter_${s}`).join(',\n')} ${body}`;
}
