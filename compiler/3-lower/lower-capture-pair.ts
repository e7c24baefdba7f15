// compiler/3-lower/lower-capture-pair.ts — the two halves of a capture pair:
// the entry half of a captured call (calls capc does not capture are left at
// once: outside the -c/-p process tree, failing the signature's guard; the
// arguments are kept until the return: lower-capture-stash.ts), and the
// prologue of the return half (or of an entry-time capture) that binds conn,
// buf and len: only successful calls, the length the call returned, and a
// call nested in another captured one on the same connection and buffer is
// left to the outer one.
import type { AnalyzedProgram, ProbeInstance } from '../2-analyze/analyzed.js';
import type { CaptureSignature } from '../../stdlib/signatures.js';
import { addr, arrow, bin, call, cast, dot, id, num, un, type CExpr, type CFunction, type CStmt } from './c-ir.js';
import { SCOPE_MAP } from './capture-tables.js';
import type { FnBuilder } from './fn-builder.js';
import { abiArg, byGoroutine, type CaptureStashes } from './lower-capture-stash.js';

/** What the pair's halves need of the capture lowering. */
export interface PairContext {
  stashes: CaptureStashes;
  program: AnalyzedProgram;
  /** -c/-p: capture only the command's process tree. */
  scope: boolean;
}

/**
 * Calls capc does not capture at all, checked at entry: outside the -c/-p
 * process tree, or failing the signature's guard (NSS: not an SSL descriptor).
 */
function entryChecks(scope: boolean, sig: CaptureSignature, line: number): CStmt[] {
  const out: CStmt[] = [];
  if (scope && sig.match.kind === 'uprobe') {
    out.push({ k: 'decl', type: '__u32', name: 'capc_tgid', init: call('capc_pid'), src: line });
    out.push({
      k: 'if',
      c: bin(
        '&&',
        bin('&', dot(id('capc_ro'), 'scope'), id('CAPC_SCOPE_TREE')),
        un('!', call('bpf_map_lookup_elem', addr(id(SCOPE_MAP)), addr(id('capc_tgid')))),
      ),
      then: [{ k: 'return', e: num(0) }],
      src: line,
    });
  }
  if (sig.guard) {
    const g = sig.guard;
    out.push({
      k: 'if',
      c: un(
        '!',
        call('capc_guard', abiArg(sig, sig.args.indexOf(sig.connArg)), num(g.ptrAt), num(g.valueAt), num(g.equals)),
      ),
      then: [{ k: 'return', e: num(0) }],
      src: line,
    });
  }
  return out;
}

/** The entry half: save the arguments until the call returns (lower-capture-stash.ts). */
export function entryFunction(pair: PairContext, inst: ProbeInstance, params: string): CFunction {
  const line = inst.spec.span.line;
  const sig = inst.capture!.sig;
  const body: CStmt[] = [
    { k: 'if', c: id('capc_exiting'), then: [{ k: 'return', e: num(0) }], src: line },
    ...entryChecks(pair.scope, sig, line),
    ...pair.stashes.save(inst, line),
  ];
  body.push({ k: 'return', e: num(0), src: line });
  return {
    section: '',
    name: '',
    params,
    body,
    comment: `${sig.doc}: entry, keep the arguments until it returns`,
    src: line,
  };
}

/**
 * Instances that may wrap this one's call (or be wrapped by it) on the same
 * connection and buffer (signature `nests`, same binary): their stashes are
 * checked at return so the bytes are captured once, by the outer call.
 */
function nestedSiblings(program: AnalyzedProgram, inst: ProbeInstance): ProbeInstance[] {
  const sig = inst.capture!.sig;
  const a = inst.attach;
  if (!sig.nests?.length || a.kind !== 'uprobe') return [];
  return program.instances.filter((o) => {
    const oa = o.attach;
    return (
      o !== inst &&
      o.capture?.at === 'return' &&
      oa.kind === 'uprobe' &&
      !oa.ret &&
      oa.path === a.path &&
      sig.nests!.includes(oa.func) &&
      byGoroutine(o.capture.sig) === byGoroutine(sig)
    );
  });
}

/**
 * The start of the return half (or of an entry-time capture): find the saved
 * arguments, give up on failed calls, and bind conn, buf, len (and retval).
 */
export function capturePrologue(pair: PairContext, b: FnBuilder): void {
  const inst = b.inst;
  const mode = inst.capture!;
  const sig = mode.sig;
  const argIdx = (name: string) => sig.args.indexOf(name);
  const src = inst.spec.span.line;
  b.src = src;
  if (mode.at === 'entry') {
    const arg = (name: string): CExpr => abiArg(sig, argIdx(name), name);
    for (const st of entryChecks(pair.scope, sig, src)) b.emit(st);
    b.emit({
      k: 'decl',
      type: '__u64',
      name: 'capc_conn',
      init: arg(sig.connArg),
      comment: 'entry-time capture: the requested length',
    });
    b.emit({ k: 'decl', type: '__u64', name: 'capc_buf', init: arg(sig.bufArg) });
    b.emit({ k: 'decl', type: '__u64', name: 'capc_len', init: arg(sig.sizeArg) });
    return;
  }
  for (const st of pair.stashes.load(inst)) b.emit(st);
  const ret: CExpr =
    sig.match.kind === 'uprobe'
      ? sig.length.bits === 32
        ? cast('__s64', cast('__s32', call('PT_REGS_RC', id('ctx'))))
        : cast('__s64', call('PT_REGS_RC', id('ctx')))
      : cast('__s64', arrow(id('ctx'), 'ret'));
  b.emit({ k: 'decl', type: '__s64', name: 'capc_ret', init: ret });
  const saved = (name: string): CExpr => ({ k: 'index', e: dot(id('capc_st'), 'a'), i: num(argIdx(name)) });
  b.emit({ k: 'decl', type: '__u64', name: 'capc_conn', init: saved(sig.connArg) });
  b.emit({ k: 'decl', type: '__u64', name: 'capc_buf', init: saved(sig.bufArg) });
  for (const o of nestedSiblings(pair.program, inst)) {
    const os = pair.stashes.of(o);
    const osig = o.capture!.sig;
    const f = (o.attach as { func: string }).func;
    b.emit({
      k: 'block',
      comment: `inside ${f} on the same connection and buffer: ${f} captures these bytes`,
      body: [
        {
          k: 'decl',
          type: `struct ${os.struct.name} *`,
          name: 'capc_o',
          init: pair.stashes.get(os),
        },
        {
          k: 'if',
          c: bin(
            '&&',
            pair.stashes.present(os, 'capc_o'),
            bin(
              '&&',
              bin(
                '==',
                { k: 'index', e: arrow(id('capc_o'), 'a'), i: num(osig.args.indexOf(osig.connArg)) },
                id('capc_conn'),
              ),
              bin(
                '==',
                { k: 'index', e: arrow(id('capc_o'), 'a'), i: num(osig.args.indexOf(osig.bufArg)) },
                id('capc_buf'),
              ),
            ),
          ),
          then: [{ k: 'return', e: num(0) }],
        },
      ],
    });
  }
  if (sig.length.from === 'retval') {
    b.emit({ k: 'if', c: bin('<=', id('capc_ret'), num(0)), then: [{ k: 'return', e: num(0) }] });
    b.emit({
      k: 'decl',
      type: '__u64',
      name: 'capc_len',
      init: id('capc_ret'),
      comment: 'the length the call returned, never the one requested',
    });
  } else {
    b.emit({ k: 'if', c: bin('!=', id('capc_ret'), num(1)), then: [{ k: 'return', e: num(0) }] });
    b.emit({
      k: 'decl',
      type: '__u64',
      name: 'capc_len',
      init: num(0),
      comment: 'the length the call wrote to its size_t * argument',
    });
    b.emit({
      k: 'expr',
      e: call(
        'bpf_probe_read_user',
        addr(id('capc_len')),
        { k: 'sizeof', of: 'capc_len' },
        cast('void *', saved(sig.args[sig.length.outArg]!)),
      ),
    });
  }
}
