// compiler/3-lower/helper-checks.ts — -k and -kk: a helper call whose failure
// capc reports with its place in the script, as bpftrace 0.17 does. With -k:
// map updates and deletes, stack ids, signals; with -kk also probe reads
// (whose failure leaves zeros a script can test, so bpftrace reports them only
// at the second level). Without the option the call is emitted as it was:
// the check, and the site's record, exist only when asked for (zero cost).
//   call(...);  →  { long rc = call(...); if (rc < 0) capc_helper_error(&events, ..., SITE, rc); }
import type { Span } from '../../diagnostics/source.js';
import { addr, bin, call, id, num, type CExpr } from './c-ir.js';
import type { FnBuilder } from './fn-builder.js';
import { EVENTS_RING, STATS_MAP } from './resources.js';

/** The -k level at which a helper's failure is reported (bpftrace 0.17's return_zero_if_err list is level 2). */
function levelOf(helper: string): 1 | 2 {
  return helper.startsWith('probe_read') || helper === 'map_lookup_elem' ? 2 : 1;
}

/** Emit `e`, a call returning a helper's result (negative: an error), checked at its -k level. */
export function emitChecked(b: FnBuilder, e: CExpr, helper: string, span: Span, comment?: string): void {
  if (b.res.helperChecks < levelOf(helper)) {
    b.emit({ k: 'expr', e, comment });
    return;
  }
  const site = b.res.helperSite(helper, span);
  const rc = b.fresh('rc');
  b.emit({
    k: 'block',
    comment: `-k: a failed ${helper} is reported (line ${span.line})${comment ? `; ${comment}` : ''}`,
    body: [
      { k: 'decl', type: 'long', name: rc, init: e, src: b.src },
      {
        k: 'if',
        c: bin('<', id(rc), num(0)),
        then: [
          {
            k: 'expr',
            e: call(
              'capc_helper_error',
              addr(id(EVENTS_RING)),
              addr(id(STATS_MAP)),
              num(b.res.dropCounter(EVENTS_RING)),
              num(site),
              id(rc),
            ),
            src: b.src,
          },
        ],
        src: b.src,
      },
    ],
  });
}

/** Where an assignment's operator is (bpftrace reports a failed map update there): the first `op` after the target. */
export function operatorSpan(text: string, target: Span, op: string, stmt: Span): Span {
  const at = text.indexOf(op, target.end);
  if (at < 0 || at >= stmt.end) return stmt;
  const line = text.slice(0, at).split('\n').length;
  const col = at - text.lastIndexOf('\n', at - 1);
  return { start: at, end: at + op.length, line, col, endLine: line, endCol: col + op.length };
}
