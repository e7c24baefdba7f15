// compiler/2-analyze/check-effects.ts — functions whose effect reaches past
// the program: signal(SIG) makes the kernel signal the current process;
// system(fmt, ...) runs a command and cat(fmt, ...) prints a file, both done
// by capc when it reads their record (runtime/output/cat-system.ts), in order
// with printf. signal() and system() act on the machine, so, as in bpftrace,
// they are refused (E0330) unless capc runs with --unsafe.
import type * as A from '../../grammar/ast.js';
import { checkFormatArgs } from './check-format.js';
import { kindOf, type CheckContext } from './context.js';
import { isInt, typeName, VOID, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

/** Linux's signal numbers (x86-64), by name without SIG. */
const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};
const MAX_SIGNAL = 64;

/** system() and signal() need --unsafe: say so, with the flag, as bpftrace does. */
function unsafe(e: A.CallExpr, cx: CheckContext, what: string): boolean {
  if (cx.options.unsafe) return true;
  cx.bag.add(
    'E0330',
    `${e.name}() is an unsafe function being used in safe mode`,
    e.span,
    `${what}; run capc with --unsafe to allow it`,
  );
  return false;
}

/** cat(fmt, ...): the file named by the formatted text, printed by capc when it reads the record. */
export function checkCat(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  const f = checkFormatArgs(e, cx, checkExpr);
  if (f) cx.inst.calls.set(e, { fn: 'cat', segments: f.segments, format: f.format });
  return VOID;
}

/** system(fmt, ...): refused without --unsafe (E0330), as bpftrace does; capc runs it with /bin/sh -c. */
export function checkSystem(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  const f = checkFormatArgs(e, cx, checkExpr);
  if (!unsafe(e, cx, 'it runs a shell command as root')) return VOID;
  if (f) cx.inst.calls.set(e, { fn: 'system', segments: f.segments, format: f.format });
  return VOID;
}

/** signal(SIG) (--unsafe): a name ("KILL", "SIGKILL"), a number 1..64, or an integer known at run time. */
export function checkSignal(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'signal("KILL") or signal(9)')) return VOID;
  const a = e.args[0]!;
  const t = checkExpr(a, cx);
  const kind = kindOf(cx);
  if (kind === 'begin' || kind === 'end') {
    cx.bag.add(
      'E0405',
      `signal() is not available in ${kind.toUpperCase()}`,
      e.span,
      `${kind.toUpperCase()} runs in capc itself: there is no traced process to signal`,
    );
    return VOID;
  }
  if (!unsafe(e, cx, 'it sends a signal to the traced process')) return VOID;
  if (a.kind === 'Str') {
    const name = Buffer.from(a.value).toString('latin1');
    const sig = SIGNALS[name.replace(/^SIG/, '')];
    if (sig === undefined) {
      cx.bag.add(
        'E0302',
        `${name} is not a valid signal`,
        a.span,
        'e.g. signal("KILL"), signal("SIGUSR1"), signal(15)',
      );
      return VOID;
    }
    cx.inst.calls.set(e, { fn: 'signal', sig });
    return VOID;
  }
  if (a.kind === 'Int') {
    if (a.value < 1n || a.value > BigInt(MAX_SIGNAL)) {
      cx.bag.add('E0310', `${a.value} is not a valid signal, allowed range: [1,${MAX_SIGNAL}]`, a.span);
      return VOID;
    }
    cx.inst.calls.set(e, { fn: 'signal', sig: Number(a.value) });
    return VOID;
  }
  if (t.k === 'error') return VOID;
  if (!isInt(t)) {
    cx.bag.add('E0302', `signal() needs a signal name or number, not ${typeName(t)}`, a.span);
    return VOID;
  }
  // A number known only at run time: the kernel refuses an invalid one (reported with -k).
  cx.inst.calls.set(e, { fn: 'signal' });
  return VOID;
}
