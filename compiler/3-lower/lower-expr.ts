// compiler/3-lower/lower-expr.ts — lowers .cap expressions to C.
// Integers become 64-bit C expressions (statements they need, such as map
// lookups, are emitted first). Strings are never values on the stack: a string
// is lowered either *into* a destination buffer (a ring record field, a map
// key) or to a reference to where it already lives (comm, a ctx field, a
// scratch slot), so large strings stay off the 512-byte stack (R5).
import type * as A from '../../grammar/ast.js';
import { probeName } from '../2-analyze/probes.js';
import { fieldShape } from '../2-analyze/tracepoint-fields.js';
import { CAST_INTS, intElem, isComposite, isPointer, isStr, sizeOf, type Type } from '../2-analyze/types.js';
import { addr, arrow, bin, call, cast, dot, id, num, un, type CExpr } from './c-ir.js';
import type { FnBuilder, IntVal, StrRef } from './fn-builder.js';
import { cIntType } from './layout.js';
import { emitChecked } from './helper-checks.js';
import { compositeBytes, locate, readInt, strFrom } from './lower-memory.js';
import { isPacketRead, lowerPacketInt, lowerPacketStr } from './lower-packet.js';
import { lowerBuiltinInt } from '../builtins/index.js';

function typeIn(b: FnBuilder, e: A.Expr): Type {
  const t = b.inst.types.get(e);
  if (!t) throw new Error(`internal: expression at ${e.span.line}:${e.span.col} has no type`);
  return t;
}

const u64 = (e: CExpr): IntVal => ({ e, unsigned: true });
const s64 = (e: CExpr): IntVal => ({ e, unsigned: false });
const narrowInt = (e: CExpr): IntVal => ({ e, unsigned: false, narrow: true });
const smallLiteral = (v: bigint): IntVal => (v >= -(2n ** 31n) && v < 2n ** 31n ? narrowInt(num(v)) : s64(num(v)));

/** The expression with a 64-bit C type: a literal gets LL, anything else a cast. */
function wide(v: IntVal, ty: '__s64' | '__u64'): CExpr {
  if (v.e.k === 'num') {
    if (ty === '__u64') return { ...v.e, unsigned: true };
    // A literal above INT64_MAX is unsigned in C: as a signed operand it needs the cast.
    return v.e.unsigned ? cast('__s64', v.e) : { ...v.e, wide: true };
  }
  return cast(ty, v.e);
}

export function lowerInt(b: FnBuilder, e: A.Expr): IntVal {
  const sub = b.inst.substitutes.get(e);
  if (sub) return lowerInt(b, sub);
  if (e.kind === 'Index') {
    // An element of pton()'s constant bytes: a constant, or a choice among them.
    const ot = b.inst.types.get(e.object);
    if (ot?.k === 'array' && ot.bytes) return b.lowerers.strings.constIndex(b, e);
  }
  if ((e.kind === 'Field' && b.inst.members.has(e)) || (e.kind === 'Unary' && e.op === '*') || e.kind === 'Index') {
    const loc = locate(b, e);
    if (loc) return readInt(loc);
  }
  switch (e.kind) {
    case 'Int':
      return e.value > 2n ** 63n - 1n ? u64(num(e.value, true)) : smallLiteral(e.value);
    case 'Positional': {
      const params = b.res.positional;
      return smallLiteral(e.index === '#' ? BigInt(params.length) : BigInt(params[e.index - 1] ?? '0'));
    }
    case 'Var': {
      const t = typeIn(b, e);
      return { e: id(varName(e.name)), unsigned: t.k === 'int' && !t.signed };
    }
    case 'Map': {
      const m = b.res.userMap(e.name);
      const key = b.lowerers.mapKey(b, m, e.keys);
      return s64(call('capc_map_get', addr(id(m.cName)), key));
    }
    case 'Ident':
      return builtinInt(b, e);
    case 'Field': {
      if (isPacketRead(b, e)) return lowerPacketInt(b, e, lowerInt);
      const f = b.inst.fields.get(e);
      if (!f) throw new Error('internal: unresolved tracepoint field');
      const shape = fieldShape(f);
      const a = b.inst.attach;
      // Raw tracepoints and fentry/fexit: the arguments are u64 slots of the context.
      const slot =
        a.kind === 'rawtracepoint'
          ? { k: 'index' as const, e: arrow(id('ctx'), 'args'), i: num(f.offset / 8) }
          : a.kind === 'fentry'
            ? { k: 'index' as const, e: id('ctx'), i: num(f.offset / 8) }
            : undefined;
      const access = slot ?? arrow(id('ctx'), e.field);
      if (shape.shape === 'pointer') return u64(b.ctxValue(e.field, '__u64', cast('__u64', access)));
      if (shape.shape === 'int') {
        const ty = shape.signed ? '__s64' : '__u64';
        const v = slot ? cast(cIntType(shape.bytes, shape.signed), access) : access;
        return { e: b.ctxValue(e.field, ty, cast(ty, v)), unsigned: !shape.signed };
      }
      throw new Error('internal: non-integer field used as an integer');
    }
    case 'Index':
      return isPacketRead(b, e) ? lowerPacketInt(b, e, lowerInt) : lowerIndex(b, e);
    case 'Cast': {
      const inner = lowerInt(b, e.operand);
      const t = typeIn(b, e);
      // A pointer cast gives the address a type; the value is the same 64 bits.
      if (t.k !== 'int' || t.to || t.bytes === 8)
        return {
          e: cast(t.k === 'int' && t.signed && !t.to ? '__s64' : '__u64', inner.e),
          unsigned: !(t.k === 'int' && t.signed && !t.to),
        };
      const target = CAST_INTS[e.typeName] ?? { bytes: t.bytes, signed: t.signed };
      return {
        e: cast(target.signed ? '__s64' : '__u64', cast(cIntType(target.bytes, target.signed), inner.e)),
        unsigned: !target.signed,
      };
    }
    case 'Unary': {
      const v = lowerInt(b, e.operand);
      if (e.op === '!') return narrowInt(un('!', v.e));
      if (e.op === '-') return s64(un('-', wide(v, '__s64')));
      if (e.op === '+') return v;
      return { e: un('~', v.e), unsigned: v.unsigned, narrow: v.narrow };
    }
    case 'Binary':
      return binary(b, e);
    case 'Ternary': {
      const c = lowerInt(b, e.cond);
      const t = lowerInt(b, e.then);
      const f = lowerInt(b, e.else);
      const unsigned = t.unsigned || f.unsigned;
      if (t.narrow && f.narrow) return { e: { k: 'cond', c: c.e, t: t.e, f: f.e }, unsigned, narrow: true };
      const ty = unsigned ? '__u64' : '__s64';
      const arm = (v: IntVal) => (v.narrow || v.unsigned !== unsigned ? wide(v, ty) : v.e);
      return { e: { k: 'cond', c: c.e, t: arm(t), f: arm(f) }, unsigned };
    }
    case 'Call':
      return intCall(b, e);
    case 'Sizeof':
    case 'Tuple':
    case 'Str':
    case 'Error':
      throw new Error(`internal: ${e.kind} in integer context`);
  }
}

/** Functions whose value is an integer: the builtin table's (compiler/builtins/). */
function intCall(b: FnBuilder, e: A.CallExpr): IntVal {
  const info = b.inst.calls.get(e);
  if (info?.fn === 'builtin') return lowerBuiltinInt(b, e, info);
  throw new Error(`internal: call ${e.name}() is not an integer expression`);
}

export function varName(name: string): string {
  return `v_${name.slice(1)}`;
}

function builtinInt(b: FnBuilder, e: A.IdentExpr): IntVal {
  const capture = b.inst.capture;
  if (capture) {
    // In a capturing probe the payload's names are locals of the prologue (lower-capture-pair.ts).
    if (e.name === 'conn' || e.name === 'buf' || e.name === 'len') return u64(id(`capc_${e.name}`));
    if (e.name === 'retval' && capture.at === 'return') return s64(id('capc_ret'));
    const saved = /^arg(\d)$/.exec(e.name);
    // argN at return: the entry's saved arguments, copied out by the prologue into capc_st.
    if (saved && capture.at === 'return')
      return u64({ k: 'index', e: dot(id('capc_st'), 'a'), i: num(Number(saved[1])) });
    // The connection's identity, copied once at the top of the probe (lower-identity.ts).
    if (e.name === 'lport' || e.name === 'rport' || e.name === 'fd') return b.lowerers.identity!.value(b, e.name);
  }
  switch (e.name) {
    case 'pid':
      return u64(call('capc_pid'));
    case 'tid':
      return u64(call('capc_tid'));
    case 'uid':
      return u64(call('capc_uid'));
    case 'gid':
      return u64(call('capc_gid'));
    case 'nsecs':
      return u64(call('bpf_ktime_get_ns'));
    case 'elapsed':
      return u64(
        bin('-', call('bpf_ktime_get_ns'), { k: 'member', e: id('capc_ro'), field: 'start_ns', arrow: false }),
      );
    case 'cpu':
      return u64(cast('__u64', call('bpf_get_smp_processor_id')));
    case 'cpid':
      return u64({ k: 'member', e: id('capc_ro'), field: 'cpid', arrow: false });
    case 'cgroup':
      return u64(call('capc_cgroup'));
    case 'curtask':
      return u64(b.ctxValue('curtask', '__u64', cast('__u64', call('bpf_get_current_task_btf'))));
    case 'numaid':
      return u64(cast('__u64', call('bpf_get_numa_node_id')));
    case 'retval': {
      const a = b.inst.attach;
      if (a.kind === 'fentry')
        return s64(b.ctxValue('retval', '__s64', cast('__s64', { k: 'index', e: id('ctx'), i: num(a.params.length) })));
      return s64(b.ctxValue('retval', '__s64', cast('__s64', call('PT_REGS_RC', id('ctx')))));
    }
  }
  const arg = /^arg(\d)$/.exec(e.name);
  if (arg) return u64(argValue(b, Number(arg[1])));
  throw new Error(`internal: builtin ${e.name} is not an integer`);
}

/** argN: a register or the stack (uprobe, kprobe), a USDT argument spec, or a context slot. */
function argValue(b: FnBuilder, n: number): CExpr {
  const a = b.inst.attach;
  switch (a.kind) {
    case 'rawtracepoint':
      return b.ctxValue(`arg${n}`, '__u64', { k: 'index', e: arrow(id('ctx'), 'args'), i: num(n) });
    case 'fentry':
      return b.ctxValue(`arg${n}`, '__u64', { k: 'index', e: id('ctx'), i: num(n) });
    case 'usdt': {
      // libbpf finds the argument (register, memory, constant) from the probe's spec.
      const v = b.local('long', b.fresh(`usdt_arg${n}_`));
      b.emit({ k: 'expr', e: call('bpf_usdt_arg', id('ctx'), num(n), addr(v)) });
      return cast('__u64', v);
    }
    case 'kprobe':
      return n <= 5
        ? b.ctxValue(`arg${n}`, '__u64', cast('__u64', call(`PT_REGS_PARM${n + 1}`, id('ctx'))))
        : call('capc_karg_stack', id('ctx'), num(n));
    default:
      return n <= 5
        ? b.ctxValue(`arg${n}`, '__u64', cast('__u64', call(`PT_REGS_PARM${n + 1}`, id('ctx'))))
        : call('capc_uarg_stack', id('ctx'), num(n));
  }
}

/** `args->arr[i]`: a constant index reads the record directly; a variable one is bounds-checked and read with a helper (the verifier allows no variable context offsets). */
function lowerIndex(b: FnBuilder, e: A.IndexExpr): IntVal {
  const t = typeIn(b, e.object);
  if (t.k !== 'array' || e.object.kind !== 'Field') throw new Error('internal: index of a non-array');
  const f = b.inst.fields.get(e.object)!;
  const el = intElem(t);
  const elem = cIntType(el.bytes, el.signed);
  const wide = el.signed ? '__s64' : '__u64';
  if (!t.count) {
    // __data_loc: low 16 bits the offset of the array in the record, high 16 its length in bytes.
    return {
      e: cast(
        wide,
        cast(
          elem,
          call(
            'capc_read_dl_elem',
            cast('void *', id('ctx')),
            arrow(id('ctx'), e.object.field),
            lowerInt(b, e.index).e,
            num(el.bytes),
          ),
        ),
      ),
      unsigned: !el.signed,
    };
  }
  if (e.index.kind === 'Int' && f.offset % el.bytes === 0)
    return {
      e: cast(wide, { k: 'index', e: arrow(id('ctx'), e.object.field), i: num(e.index.value) }),
      unsigned: !el.signed,
    };
  const i = lowerInt(b, e.index);
  const base = { k: 'bin' as const, op: '+', l: cast('void *', id('ctx')), r: num(f.offset) };
  return {
    e: cast(wide, cast(elem, call('capc_read_elem', base, i.e, num(t.count), num(el.bytes)))),
    unsigned: !el.signed,
  };
}

const COMPARE = new Set(['==', '!=', '<', '>', '<=', '>=']);

function binary(b: FnBuilder, e: A.BinaryExpr): IntVal {
  const lt = typeIn(b, e.left);
  const rt = typeIn(b, e.right);
  if (lt.k === 'inet' || rt.k === 'inet') return b.lowerers.identity!.addrCompare(e);
  if (isStr(lt)) {
    const eq = strEquals(lowerStrRef(b, e.left), lowerStrRef(b, e.right));
    return narrowInt(e.op === '==' ? eq : un('!', eq));
  }
  if (isComposite(lt)) {
    // Records, tuples and arrays: byte for byte (R6: a loop of a constant length).
    const eq = call('capc_memeq', compositeBytes(b, e.left), compositeBytes(b, e.right), num(sizeOf(lt)));
    return narrowInt(e.op === '==' ? eq : un('!', eq));
  }
  if ((e.op === '+' || e.op === '-') && (isPointer(lt) || isPointer(rt))) return pointerArith(b, e, lt, rt);
  return arith(e.op, lowerInt(b, e.left), lowerInt(b, e.right), literalOf(e.left), literalOf(e.right));
}

/** `p + n`, `n + p`, `p - n`: n elements of the pointee; `p - q`: elements between them. */
function pointerArith(b: FnBuilder, e: A.BinaryExpr, lt: Type, rt: Type): IntVal {
  const l = lowerInt(b, e.left);
  const r = lowerInt(b, e.right);
  const scale = (t: Type) => (isPointer(t) && t.to.k !== 'void' ? Math.max(1, sizeOf(t.to)) : 1);
  if (isPointer(lt) && isPointer(rt))
    return { e: bin('/', bin('-', cast('__s64', l.e), cast('__s64', r.e)), num(scale(lt))), unsigned: false };
  const [p, n, s] = isPointer(lt) ? [l, r, scale(lt)] : [r, l, scale(rt)];
  const offset = s === 1 ? cast('__s64', n.e) : bin('*', cast('__s64', n.e), num(s));
  return { e: bin(e.op, cast('__u64', p.e), cast('__u64', offset)), unsigned: true };
}

/**
 * `l op r` on lowered integers, with .cap's semantics in C: 64-bit operands,
 * unsigned division with x / 0 == 0, shifts by 64 or more defined. `lLit` and
 * `rLit` are the operands' values when they are literals (a known-safe divisor
 * or shift count needs no helper). Used for binary expressions and for
 * compound assignments (`$x /= e`, `@m[k] <<= e`).
 */
export function arith(op: string, l: IntVal, r: IntVal, lLit?: bigint, rLit?: bigint): IntVal {
  if (op === '&&' || op === '||') return narrowInt(bin(op, l.e, r.e));
  const u64 = (v: IntVal) => (v.unsigned && !v.narrow ? v.e : wide(v, '__u64'));
  const rIn = (lo: bigint, hi: bigint) => rLit !== undefined && rLit >= lo && rLit < hi;
  if (op === '/' || op === '%') {
    // Unsigned 64-bit, as in bpftrace; a divisor that may be zero goes through capc_div/capc_mod (x / 0 == 0).
    const out = rIn(1n, 2n ** 64n)
      ? bin(op, u64(l), u64(r))
      : call(op === '/' ? 'capc_div' : 'capc_mod', u64(l), u64(r));
    return { e: out, unsigned: true };
  }
  const unsigned = (l.unsigned && lLit === undefined) || (r.unsigned && rLit === undefined);
  const ty = unsigned ? '__u64' : '__s64';
  const opnd = (v: IntVal) => (v.unsigned === unsigned && !v.narrow ? v.e : wide(v, ty));
  if ((op === '<<' || op === '>>') && !rIn(0n, 64n)) {
    // A count of 64 or more is undefined in C: capc_shl/shr/sar give 0 (or -1).
    const fn = op === '<<' ? 'capc_shl' : unsigned ? 'capc_shr' : 'capc_sar';
    const out = call(fn, fn === 'capc_sar' ? opnd(l) : u64(l), u64(r));
    return fn === 'capc_sar' ? { e: out, unsigned: false } : { e: unsigned ? out : cast('__s64', out), unsigned };
  }
  if (COMPARE.has(op)) {
    // Two narrow operands compare as they are; otherwise both sides are 64-bit of one signedness.
    return narrowInt(l.narrow && r.narrow ? bin(op, l.e, r.e) : bin(op, opnd(l), opnd(r)));
  }
  // A left shift that overflows a signed value is undefined in C even with -fwrapv: shift unsigned.
  if (op === '<<' && !unsigned) return { e: cast('__s64', bin(op, u64(l), u64(r))), unsigned };
  return { e: bin(op, opnd(l), opnd(r)), unsigned };
}

function literalOf(e: A.Expr): bigint | undefined {
  return e.kind === 'Int' ? e.value : undefined;
}

/**
 * Compare two strings without a branch per byte: capc_streq_lit against a
 * literal, capc_streq (a loop with a constant trip count, R6) otherwise. Each
 * data-dependent branch is a path the verifier keeps to explore later; inside
 * a bounded loop, byte-by-byte tests multiplied them past the kernel's limit
 * of 8,192 pending paths ("The sequence of 8193 jumps is too complex").
 */
function strEquals(x: StrRef, y: StrRef): CExpr {
  if (x.literal && y.literal) return num(Buffer.compare(Buffer.from(x.literal), Buffer.from(y.literal)) === 0 ? 1 : 0);
  if (x.literal) [x, y] = [y, x];
  if (y.literal) {
    const lit = y.literal;
    const nul = lit.indexOf(0);
    const bytes = nul >= 0 ? lit.subarray(0, nul) : lit;
    // A string with capacity `size` holds at most size-1 characters.
    if (bytes.length > x.size - 1) return num(0);
    return call('capc_streq_lit', x.ptr!, { k: 'strlit', bytes }, num(bytes.length));
  }
  return call('capc_streq', x.ptr!, y.ptr!, num(Math.min(x.size, y.size)));
}

/** Where a string expression's bytes are, materialising it in scratch when it must be computed. */
export function lowerStrRef(b: FnBuilder, e: A.Expr): StrRef {
  const sub = b.inst.substitutes.get(e);
  if (sub) return lowerStrRef(b, sub);
  const t = typeIn(b, e);
  if (!isStr(t)) throw new Error('internal: not a string');
  const loc = e.kind === 'Field' || e.kind === 'Index' || e.kind === 'Unary' ? locate(b, e) : undefined;
  if (loc?.ref) return { ptr: loc.ref.ptr, size: t.size };
  switch (e.kind) {
    case 'Str':
      return { literal: e.value, size: e.value.length + 1 };
    case 'Ident':
      if (e.name === 'comm') {
        b.usesComm = true;
        return { ptr: id('comm'), size: 16 };
      }
      if (e.name === 'probe') return literalRef(probeName(b.inst.attach));
      if (e.name === 'func' && 'func' in b.inst.attach && typeof b.inst.attach.func === 'string')
        return literalRef(b.inst.attach.func);
      break;
    case 'Var':
      return { ptr: strVarSlot(b, e.name, t.size), size: t.size };
    case 'Positional':
      if (e.index !== '#') return literalRef(b.res.positional[e.index - 1] ?? '');
      break;
    case 'Field': {
      if (isPacketRead(b, e)) return lowerPacketStr(b, e);
      const f = b.inst.fields.get(e);
      const shape = f && fieldShape(f);
      if (shape?.shape === 'char-array') return { ptr: arrow(id('ctx'), e.field), size: shape.length };
      break;
    }
    default:
      break;
  }
  if (e.kind === 'Ident' || e.kind === 'Field')
    throw new Error(
      `internal: no string lowering for ${e.kind === 'Ident' ? e.name : `args->${e.field}`} in ${b.inst.attach.kind} probes`,
    );
  const slot = b.scratch(b.fresh('s'), 'char', t.size, t.size, 1);
  lowerStrInto(b, e, slot, t.size);
  return { ptr: slot, size: t.size };
}

function literalRef(s: string): StrRef {
  const bytes = new TextEncoder().encode(s);
  return { literal: bytes, size: bytes.length + 1 };
}

/** The scratch slot of a string variable (capacity = the largest string ever assigned to it). */
export function strVarSlot(b: FnBuilder, name: string, size: number): CExpr {
  let slot = b.strVars.get(name);
  if (!slot) {
    const v = b.inst.vars.get(name);
    const cap = v && isStr(v.type) ? v.type.size : size;
    slot = b.scratch(varName(name), 'char', cap, cap, 1);
    b.strVars.set(name, slot);
  }
  return slot;
}

/** Write string expression `e` into `dst` (a char array of `size` bytes), NUL-terminated. */
export function lowerStrInto(b: FnBuilder, e: A.Expr, dst: CExpr, size: number): void {
  const sub = b.inst.substitutes.get(e);
  if (sub) return lowerStrInto(b, sub, dst, size);
  if ((e.kind === 'Field' && b.inst.members.has(e)) || e.kind === 'Index' || (e.kind === 'Unary' && e.op === '*')) {
    const loc = locate(b, e);
    if (loc) return strFrom(b, loc, dst, size);
  }
  if (e.kind === 'Call' && e.name === 'str') {
    const info = b.inst.calls.get(e);
    if (info && info.fn === 'str') {
      const ptr = lowerInt(b, e.args[0]!);
      const n = Math.min(size, info.size);
      const src = cast('const void *', ptr.e);
      const helper = info.space === 'user' ? 'probe_read_user_str' : 'probe_read_kernel_str';
      if (info.dynamicLength) {
        const len = lowerInt(b, e.args[1]!);
        const read = call('capc_read_str_n', dst, num(n), src, len.e, num(info.space === 'user' ? 1 : 0));
        emitChecked(b, read, helper, e.span);
      } else emitChecked(b, call(`bpf_${helper}`, dst, num(n), src), helper, e.span);
      return;
    }
    return lowerStrInto(b, e.args[0]!, dst, size);
  }
  if (e.kind === 'Ident' && e.name === 'comm' && size >= 16) {
    b.emit({ k: 'expr', e: call('bpf_get_current_comm', dst, num(16)) });
    return;
  }
  if (e.kind === 'Field' && !isPacketRead(b, e) && b.inst.fields.has(e)) {
    const f = b.inst.fields.get(e)!;
    const shape = fieldShape(f).shape;
    if (shape === 'data-loc-string') {
      // __data_loc: low 16 bits are the offset of the string in the record.
      const off = bin('&', b.ctxValue(e.field, '__u32', arrow(id('ctx'), e.field)), num(0xffff));
      b.emit({
        k: 'expr',
        e: call('bpf_probe_read_kernel_str', dst, num(size), bin('+', cast('void *', id('ctx')), off)),
      });
      return;
    }
    if (shape === 'inline-string') {
      b.emit({
        k: 'expr',
        e: call('bpf_probe_read_kernel_str', dst, num(size), bin('+', cast('void *', id('ctx')), num(f.offset))),
      });
      return;
    }
  }
  if (e.kind === 'Map') {
    // A string map: the value is copied out at once (R7).
    const m = b.res.userMap(e.name);
    const key = b.lowerers.mapKey(b, m, e.keys);
    b.emit({ k: 'expr', e: call('capc_map_get_str', addr(id(m.cName)), key, dst, num(Math.min(size, m.valueSize))) });
    return;
  }
  if (e.kind === 'Ternary') {
    const c = lowerInt(b, e.cond);
    const then = b.collect(() => lowerStrInto(b, e.then, dst, size));
    const els = b.collect(() => lowerStrInto(b, e.else, dst, size));
    b.emit({ k: 'if', c: c.e, then, else: els });
    return;
  }
  const ref = lowerStrRef(b, e);
  if (ref.literal) {
    const n = Math.min(size, ref.literal.length + 1);
    const bytes = new Uint8Array(n);
    bytes.set(ref.literal.subarray(0, n - 1));
    b.emit({ k: 'expr', e: call('__builtin_memcpy', dst, { k: 'strlit', bytes: bytes.subarray(0, n - 1) }, num(n)) });
    if (n === size && ref.literal.length >= size)
      b.emit({ k: 'expr', e: bin('=', { k: 'index', e: dst, i: num(size - 1) }, num(0)) });
    return;
  }
  b.emit({ k: 'expr', e: call('bpf_probe_read_kernel_str', dst, num(Math.min(size, ref.size)), ref.ptr) });
}
