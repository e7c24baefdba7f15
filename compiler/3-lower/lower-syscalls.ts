// compiler/3-lower/lower-syscalls.ts — syscall tracepoints run from the raw
// tracepoints sys_enter and sys_exit: which probes (planSyscallForm), and the
// one program per raw tracepoint that dispatches on the syscall number to each
// probe's body, in script order, with the tracepoint's record rebuilt as the
// kernel's perf_syscall_enter/_exit builds it (kernel/trace/trace_syscalls.c):
//   word 0     the syscall's pt_regs pointer (perf_call_bpf_enter puts it there)
//   __syscall_nr  the number
//   args       each argument register whole (syscall_get_arguments: x86_64
//              di, si, dx, r10, r8, r9), 8 bytes at the field's offset, so a
//              field read through the record's struct is typed and truncated
//              as the format file says, exactly as in the perf event
//   ret        sys_exit's second argument
// Compat (ia32) syscalls fire no syscalls:* event (trace_get_syscall_nr
// returns -1 for them), so the dispatcher returns for them first. A raw
// tracepoint detaches in milliseconds where each perf event waits for an RCU
// grace period (BENCHMARKS.md, "Start-up"); it also runs for every syscall of
// the machine, the untraced ones included (one compare chain on the number:
// BENCHMARKS.md, "Per-hit cost"), hence the rule below.
import { forEachExprIn } from '../../grammar/walk.js';
import type { AnalyzedProgram, ProbeInstance } from '../2-analyze/analyzed.js';
import type { SyscallEvent, SyscallFormOptions } from '../2-analyze/syscall-form.js';
import type { TracepointFormat } from '../host.js';
import { arrow, bin, call, cast, id, num, type CExpr, type CFunction, type CStmt } from './c-ir.js';

/**
 * --tracepoints=auto: syscall probes run from raw tracepoints when the program
 * has at least this many of them (eligible ones, below). Measured on this
 * machine kind (BENCHMARKS.md): see docs/language.md for the rule and why.
 */
export const AUTO_RAW_FROM = 1;

/** x86_64's syscall argument registers, in order (struct pt_regs fields). */
const ARG_REGISTERS = ['di', 'si', 'dx', 'r10', 'r8', 'r9'];

/** TS_COMPAT in task->thread_info.status: a 32-bit syscall is running (arch/x86/include/asm/thread_info.h). */
const TS_COMPAT = 0x0002;

/**
 * A probe that can run from a raw tracepoint: a user's syscall tracepoint probe
 * whose number is known, that is not part of a capture (capture pairs, close
 * watchers and identity learners keep their own programs).
 */
function eligible(inst: ProbeInstance, sitesIn: Set<number>): boolean {
  return (
    !!inst.syscall &&
    !inst.capture &&
    !inst.closeFor &&
    !inst.identFor &&
    !inst.internal &&
    !inst.usesIdentity &&
    inst.coveredBy === undefined &&
    !sitesIn.has(inst.id)
  );
}

/** kstack's top frames name the path that ran the program: perf_syscall_enter, or the raw tracepoint's. */
function usesKstack(inst: ProbeInstance): boolean {
  let found = false;
  forEachExprIn(inst.item, (e) => {
    if ((e.kind === 'Call' || e.kind === 'Ident') && e.name === 'kstack') found = true;
  });
  return found;
}

/**
 * The probes that run from raw tracepoints, by `--tracepoints`: perf none, raw
 * every eligible one, auto every eligible one that does not read kstack
 * (whose frames would differ from the perf event's) once there are
 * AUTO_RAW_FROM of them.
 */
export function planSyscallForm(
  program: AnalyzedProgram,
  options: SyscallFormOptions,
): Map<ProbeInstance, SyscallEvent> {
  const out = new Map<ProbeInstance, SyscallEvent>();
  const mode = options.tracepoints ?? 'auto';
  if (mode === 'perf') return out;
  const sitesIn = new Set(program.sites.map((s) => s.instance));
  const chosen = program.instances.filter((i) => eligible(i, sitesIn) && (mode === 'raw' || !usesKstack(i)));
  if (mode === 'auto' && chosen.length < AUTO_RAW_FROM) return out;
  for (const inst of chosen) out.set(inst, inst.syscall!);
  return out;
}

/** The dispatcher program of a raw tracepoint (one per program). */
export function dispatcherName(event: SyscallEvent['event']): string {
  return `capc_${event}`;
}

/** Parameters of a probe body called by a dispatcher: the rebuilt record as `ctx`, the program's context. */
export function bodyParams(recordStruct: string): string {
  return `struct ${recordStruct} *ctx, void *capc_pctx`;
}
export const PROG_CTX: CExpr = id('capc_pctx');

export interface DispatchedBody {
  inst: ProbeInstance;
  event: SyscallEvent;
  format: TracepointFormat;
  /** The body's C function and its record struct. */
  fn: string;
  struct: string;
}

/** One tp_btf program per raw tracepoint used, in the order sys_enter, sys_exit. */
export function dispatchers(bodies: DispatchedBody[]): CFunction[] {
  const out: CFunction[] = [];
  for (const event of ['sys_enter', 'sys_exit'] as const) {
    const mine = bodies.filter((b) => b.event.event === event);
    if (mine.length) out.push(dispatcher(event, mine));
  }
  return out;
}

function dispatcher(event: SyscallEvent['event'], bodies: DispatchedBody[]): CFunction {
  const byNr = new Map<number, DispatchedBody[]>();
  for (const b of bodies) byNr.set(b.event.nr, [...(byNr.get(b.event.nr) ?? []), b]);
  const body: CStmt[] = [
    { k: 'decl', type: 'struct pt_regs *', name: 'regs', init: cast('struct pt_regs *', index(id('ctx'), 0)) },
    {
      k: 'decl',
      type: 'long',
      name: 'nr',
      // sys_exit(regs, ret) has no number: perf_syscall_exit reads it from the registers (orig_ax).
      init: event === 'sys_enter' ? cast('long', index(id('ctx'), 1)) : cast('long', arrow(id('regs'), 'orig_ax')),
    },
  ];
  for (const [nr, group] of [...byNr].sort((a, b) => a[0] - b[0])) {
    const f = group[0]!.format;
    const words = Math.ceil(Math.max(16, ...f.fields.map((x) => x.offset + x.size)) / 8);
    const rec: CStmt[] = [
      // Checked once the number matched: untraced syscalls pay the compares only.
      { k: 'comment', text: 'a compat (ia32) syscall: no syscalls:* event fires for it (trace_get_syscall_nr)' },
      { k: 'decl', type: 'struct task_struct *', name: 'task', init: call('bpf_get_current_task_btf') },
      {
        k: 'if',
        c: bin(
          '&',
          { k: 'member', e: arrow(id('task'), 'thread_info'), field: 'status', arrow: false },
          num(TS_COMPAT),
        ),
        then: [{ k: 'return', e: num(0) }],
      },
      { k: 'decl', type: '__u64', name: 'rec', array: words },
      { k: 'expr', e: set(index(id('rec'), 0), cast('__u64', id('regs'))) },
      { k: 'expr', e: set(index(id('rec'), 1), cast('__u64', cast('__u32', num(nr)))) },
    ];
    let arg = 0;
    for (const field of [...f.fields].sort((a, b) => a.offset - b.offset)) {
      if (field.name === '__syscall_nr') continue;
      const value = event === 'sys_exit' ? index(id('ctx'), 1) : arrow(id('regs'), ARG_REGISTERS[arg++] ?? 'di');
      rec.push({ k: 'expr', e: set(index(id('rec'), field.offset / 8), cast('__u64', value)), comment: field.name });
    }
    for (const b of group)
      rec.push({
        k: 'expr',
        e: call(b.fn, cast(`struct ${b.struct} *`, id('rec')), id('ctx')),
        comment: b.inst.spec.text,
      });
    rec.push({ k: 'return', e: num(0) });
    body.push({ k: 'if', c: bin('==', id('nr'), num(nr)), then: rec });
  }
  body.push({ k: 'return', e: num(0) });
  return {
    section: `tp_btf/${event}`,
    name: dispatcherName(event),
    params: 'unsigned long long *ctx',
    body,
    comment: `${event}: ${bodies.length} syscall tracepoint probe${bodies.length === 1 ? '' : 's'} by syscall number, in script order`,
  };
}

const index = (e: CExpr, i: number): CExpr => ({ k: 'index', e, i: num(i) });
const set = (l: CExpr, r: CExpr): CExpr => bin('=', l, r);
