// runtime/bpf/verifier-log.ts — turns a kernel verifier log into something a
// user can act on: the reason (the log's last message), the .cap line of the
// failing instruction (from the BTF line info that #line directives put
// there), the log lines that led to it, and a plain explanation with a fix
// for the common classes of rejection.
import type { SourceFile, Span } from '../../diagnostics/source.js';

export interface VerifierExplanation {
  reason: string;
  span?: Span;
  hints: string[];
  /** The last lines of the log before the rejection. */
  excerpt: string;
  kind: string;
}

const CLASSES: { kind: string; re: RegExp; hint: string }[] = [
  {
    kind: 'memory-bounds',
    re: /unbounded memory access|min value is negative|max value is outside of the allowed memory range|invalid access to (map value|memory|packet)|out of bounds|value is outside/,
    hint: 'the verifier could not prove a read or write stays inside its buffer: offsets must be masked (off & (N-1)) and lengths capped before the copy (rules R1-R4)',
  },
  {
    kind: 'null-map-value',
    re: /map_value_or_null|ptr_or_null|mem_or_null/,
    hint: 'a map lookup can return NULL: check the pointer before using it (rule R7: look values up again, never keep them)',
  },
  {
    kind: 'stack-size',
    re: /stack limit|combined stack size|stack depth|invalid (write|read) to stack.*off=-\d{3}/,
    hint: 'the probe uses more than 512 bytes of stack; large values belong in per-CPU scratch maps (rule R5)',
  },
  {
    // The verifier keeps each branch it has yet to explore; a loop's body is
    // explored once per iteration, so its branches multiply by loop_limit.
    kind: 'too-many-paths',
    re: /sequence of \d+ jumps is too complex/,
    hint: 'the verifier follows at most 8,192 pending branches: a `while` body is checked once per iteration (up to loop_limit, 1,024 by default), so its tests, map updates and string comparisons multiply; lower it with config = { loop_limit = N }, or move work out of the loop',
  },
  {
    kind: 'too-complex',
    re: /program is too large|too many states|complexity limit|BPF program is too large|jump out of range/,
    hint: 'the program is too long or has too many paths for the verifier (1M instructions); split the probe, or reduce unroll counts and string sizes',
  },
  {
    kind: 'unreleased-reference',
    re: /Unreleased reference|reference has not been released|reference leak/,
    hint: 'a ring-buffer reservation is not submitted or discarded on every path',
  },
  {
    kind: 'uninitialized-stack',
    re: /invalid (indirect )?read from stack|!read_ok|uninit/,
    hint: 'the program reads stack memory that was never written; initialise it first',
  },
  {
    kind: 'helper-argument',
    re: /R\d type=\S+ expected=|arg#\d|invalid (zero-sized )?read|helper access to|unknown func|cannot pass|R\d+ !read_ok/,
    hint: 'a helper received an argument of the wrong kind or size',
  },
  {
    kind: 'loop',
    re: /back-edge|infinite loop|unbounded loop/,
    hint: 'loops need a trip count the verifier can see (rule R6)',
  },
];

export function explainVerifierLog(log: string, source: SourceFile): VerifierExplanation {
  const lines = log.split('\n').map((l) => l.replace(/\s+$/, ''));
  let end = lines.findIndex((l) => /^processed \d+ insns/.test(l));
  if (end < 0) end = lines.length;
  let reasonIdx = -1;
  for (let i = end - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (
      !l ||
      /^\d+: /.test(l) ||
      l.startsWith(';') ||
      /^(from|last_idx|regs=|parent|func#|verification time|stack depth)/.test(l)
    )
      continue;
    reasonIdx = i;
    break;
  }
  const reason = reasonIdx >= 0 ? lines[reasonIdx]! : 'rejected (no reason in the log)';
  let span: Span | undefined;
  const esc = source.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A leaked reference is reported at the exit; the line that matters is the
  // one that took the reference (alloc_insn), so start the search there.
  let from = reasonIdx >= 0 ? reasonIdx : end - 1;
  const alloc = /alloc_insn=(\d+)/.exec(lines.slice(Math.max(0, from - 3), from + 1).join('\n'));
  if (alloc) {
    const at = lines.findIndex((l) => l.startsWith(`${alloc[1]}: `));
    if (at >= 0) from = at;
  }
  for (let i = from; i >= 0; i--) {
    const m = new RegExp(`^;.* @ ${esc}:(\\d+)$`).exec(lines[i]!);
    if (m) {
      const line = Number(m[1]);
      const all = source.text.split('\n');
      const text = all[line - 1] ?? '';
      const start = all.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      const lead = text.length - text.trimStart().length;
      span = {
        start: start + lead,
        end: start + text.length,
        line,
        col: lead + 1,
        endLine: line,
        endCol: text.length + 1,
      };
      break;
    }
  }
  const cls =
    CLASSES.find((c) => c.re.test(reason)) ??
    CLASSES.find((c) => c.re.test(lines.slice(Math.max(0, reasonIdx - 3), reasonIdx + 1).join('\n')));
  const excerpt = lines
    .slice(Math.max(0, (reasonIdx >= 0 ? reasonIdx : end) - 8), (reasonIdx >= 0 ? reasonIdx : end) + 1)
    .join('\n');
  return { reason, span, hints: cls ? [cls.hint] : [], excerpt, kind: cls?.kind ?? 'other' };
}
