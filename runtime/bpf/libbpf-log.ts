// runtime/bpf/libbpf-log.ts — captures libbpf's own messages (through its
// print callback) instead of letting them reach the terminal; they are shown
// with --verbose and used to explain failures.
import { koffiRegister, native } from '../ffi/libbpf.js';

const LIBBPF_WARN = 0;
const LIBBPF_INFO = 1;

let installed = false;
let lines: string[] = [];
let keepDebug = false;
// The registered callback must stay reachable for as long as libbpf may call it.
let callbackRef: unknown;

export function installLibbpfLogger(debug = false): void {
  keepDebug = debug;
  if (installed) return;
  const n = native();
  const buf = Buffer.alloc(8192);
  callbackRef = koffiRegister(
    ((level: number, fmt: string, ap: unknown) => {
      if (level > LIBBPF_INFO && !keepDebug) return 0;
      const len = n.vsnprintf(buf, buf.length, fmt, ap) as number;
      const text = buf.toString('utf8', 0, Math.max(0, Math.min(len, buf.length - 1)));
      if (level === LIBBPF_WARN || keepDebug || level === LIBBPF_INFO) lines.push(text.replace(/\n$/, ''));
      if (lines.length > 5000) lines = lines.slice(-2500);
      return 0;
    }) as never,
    n.PrintFn,
  );
  n.set_print(callbackRef);
  installed = true;
}

/** Messages since the last call, oldest first. */
export function takeLibbpfLog(): string[] {
  const out = lines;
  lines = [];
  return out;
}
