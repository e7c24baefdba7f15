// runtime/format/helper-error.ts — a failed helper call (-k, -kk) as bpftrace
// 0.17 prints it: `FILE:LINE:COL-END: WARNING: Failed to HELPER: strerror (-N)`,
// then the source line and `~` under the call (a program given with -e is
// `stdin`, as bpftrace names it); and its JSON line, `{"type": "helper_error",
// "helper": ..., "retcode": -N, "line": L, "col": C}`.
import type { CapEvent } from '../events/model.js';

type HelperError = Extract<CapEvent, { kind: 'helper-error' }>;

/** strerror(3)'s words for the errors BPF helpers return (glibc's text). */
const ERRNO: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  5: 'Input/output error',
  7: 'Argument list too long',
  9: 'Bad file descriptor',
  11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  14: 'Bad address',
  16: 'Device or resource busy',
  17: 'File exists',
  22: 'Invalid argument',
  28: 'No space left on device',
  34: 'Numerical result out of range',
  38: 'Function not implemented',
  75: 'Value too large for defined data type',
  95: 'Operation not supported',
};

export function strerror(errno: number): string {
  return ERRNO[errno] ?? `Unknown error ${errno}`;
}

/** The warning's text, with its newline (bpftrace: `Failed to map_lookup_elem: 0` for a code that is not negative). */
export function helperErrorText(e: HelperError): string {
  const name = e.source === '-e' ? 'stdin' : e.source;
  const s = e.span;
  const end = s.endLine === s.line ? s.endCol : s.col + 1;
  const why = e.rc < 0 ? `${strerror(-e.rc)} (${e.rc})` : String(e.rc);
  const under = `${' '.repeat(Math.max(0, s.col - 1))}${'~'.repeat(Math.max(1, end - s.col))}`;
  return `${name}:${s.line}:${s.col}-${end}: WARNING: Failed to ${e.helper}: ${why}\n${e.sourceLine}\n${under}\n`;
}

/** bpftrace's JSON line (its fields at the top level, no "data"), without the newline. */
export function helperErrorJson(e: HelperError): string {
  return `{"type": "helper_error", "helper": ${JSON.stringify(e.helper)}, "retcode": ${e.rc}, "line": ${e.span.line}, "col": ${e.span.col}}`;
}
