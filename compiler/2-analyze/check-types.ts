// compiler/2-analyze/check-types.ts — checks the expressions of C types:
// casts to any type (`(struct conn *)arg0`, `(unsigned long)x`), `*p`,
// `p->f` and `s.f` (records, tuples' `.0`), `a[i]` (arrays and pointers),
// `sizeof`, tuples, pointer arithmetic (scaled by the pointee's size), and
// names that are the script's macros or enum constants. Types come from the
// type model (types.ts) and its names (type-table.ts); every record field
// read is remembered for lowering in the instance's `members`.
import * as A from '../../grammar/ast.js';
import { forEachExpr } from '../../grammar/walk.js';
import { didYouMean } from '../diagnostics/diagnostic.js';
import { parse } from '../1-parse/parse.js';
import { defaultSpace } from './check-output.js';
import { kindOf, type CheckContext } from './context.js';
import type { RecordField } from './type-table.js';
import {
  CAST_INTS,
  ERROR,
  inSpace,
  isInt,
  isPointer,
  sizeOf,
  tupleLayout,
  typeName,
  type AddressSpace,
  type IntType,
  type Type,
} from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;

/** The binary a uprobe probes: its DWARF is a source of types. */
export function probedBinary(cx: CheckContext): string | undefined {
  const a = cx.inst.attach;
  return a.kind === 'uprobe' || a.kind === 'usdt' ? a.path : undefined;
}

/** `(TYPE)e`: integer casts truncate and extend; pointer casts give the address a type. */
export function checkCast(e: A.CastExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  const t = checkExpr(e.operand, cx);
  const intCast = CAST_INTS[e.typeName];
  if (intCast && e.pointer === 0) {
    if (t.k !== 'error' && !isInt(t)) {
      cx.bag.add('E0311', `cannot cast ${typeName(t)} to ${e.typeName}`, e.span);
      return ERROR;
    }
    return { k: 'int', ...intCast };
  }
  const space: AddressSpace = t.k === 'int' && t.space ? t.space : defaultSpace(t, cx);
  const r = cx.types.resolve(e.typeName, e.pointer, space, probedBinary(cx));
  if (!r.ok) {
    cx.bag.add('E0316', r.why, e.typeSpan ?? e.span, didYouMean(e.typeName, r.candidates));
    return ERROR;
  }
  if (t.k === 'error') return ERROR;
  const target = r.type;
  if (target.k !== 'int') {
    cx.bag.add(
      'E0311',
      `cannot cast to ${typeName(target)}: a value can become an integer or a pointer`,
      e.span,
      target.k === 'record' ? `cast the address to a pointer: (${target.name} *)${exprText(e.operand)}` : undefined,
    );
    return ERROR;
  }
  if (!isInt(t)) {
    cx.bag.add('E0311', `cannot cast ${typeName(t)} to ${typeName(target)}`, e.span);
    return ERROR;
  }
  if (target.to && !checkSpace(e, t, target, cx)) return ERROR;
  return target;
}

/**
 * E0319: a user address read with a kernel type the script did not define
 * (it came from the kernel's BTF), unless the script said where it points
 * with kptr()/uptr() or the address is already known to be a kernel one
 * (curtask, a pointer read out of a kernel struct). The reader follows the address space, so such a read
 * would otherwise fail, or read the wrong memory, only at run time.
 */
function checkSpace(e: A.CastExpr, from: IntType, to: IntType, cx: CheckContext): boolean {
  let base: Type = to;
  while (base.k === 'int' && base.to) base = base.to;
  if (base.k !== 'record' || !base.key.startsWith('btf:') || from.spaceSet || from.space === 'kernel') return true;
  if (from.space !== 'user' && !(kindOf(cx) === 'uprobe' || kindOf(cx) === 'uretprobe' || kindOf(cx) === 'usdt'))
    return true;
  cx.bag.add(
    'E0319',
    `${exprText(e.operand)} points into user memory, but ${base.name} is a kernel type (from the kernel's BTF)`,
    e.operand.span,
    `if it really is a kernel address, say so: (${e.typeName} ${'*'.repeat(e.pointer)})kptr(${exprText(e.operand)})`,
    `if it is the process's own ${base.name}, define or #include the struct in the script, or write uptr(${exprText(e.operand)})`,
  );
  return false;
}

/** `*p`: the value a typed pointer points to. */
export function checkDeref(e: A.UnaryExpr, t: Type, cx: CheckContext): Type {
  if (!isPointer(t)) {
    cx.bag.add(
      'E0318',
      `cannot dereference ${typeName(t)}: it is not a typed pointer`,
      e.span,
      isInt(t) ? `cast it to the type it points to first: *(int32 *)${exprText(e.operand)}` : undefined,
    );
    return ERROR;
  }
  return pointee(t, e.span, cx);
}

function pointee(t: IntType & { to: Type }, span: A.Span, cx: CheckContext): Type {
  if (t.to.k === 'void' || t.to.k === 'error') {
    cx.bag.add(
      'E0318',
      `cannot read through ${typeName(t)}: capc does not know what it points to`,
      span,
      'cast it to a pointer to the type it points to: (struct NAME *)p',
    );
    return ERROR;
  }
  return inSpace(t.to, t.space);
}

/** `e->f` / `e.f` on a pointer to a record, a record or a tuple (`.0`). */
export function checkMember(e: A.FieldExpr, obj: Type, cx: CheckContext): Type {
  let rec: Type = obj;
  if (isPointer(obj)) {
    rec = pointee(obj, e.object.span, cx);
    if (rec.k === 'error') return ERROR;
  }
  if (rec.k === 'tuple') {
    const i = /^\d+$/.test(e.field) ? Number(e.field) : -1;
    if (i < 0 || i >= rec.elems.length) {
      cx.bag.add(
        'E0317',
        `${typeName(rec)} has no element ${e.field}`,
        e.fieldSpan,
        `its elements are .0 to .${rec.elems.length - 1}`,
      );
      return ERROR;
    }
    const member: RecordField = { name: e.field, offset: tupleLayout(rec.elems).offsets[i]!, type: rec.elems[i]! };
    cx.inst.members.set(e, member);
    return member.type;
  }
  if (rec.k !== 'record') {
    cx.bag.add(
      'E0302',
      `${typeName(obj)} has no fields`,
      e.span,
      isInt(obj) && !obj.to
        ? `cast it to a pointer to a struct first: ((struct NAME *)${exprText(e.object)})->${e.field}`
        : 'fields are read from structs, unions, tuples (t.0) and tracepoint args (args->NAME)',
    );
    return ERROR;
  }
  const f = cx.types.field(rec, e.field);
  if (!f) {
    cx.bag.add(
      'E0317',
      `${rec.name} has no field '${e.field}'`,
      e.fieldSpan,
      didYouMean(e.field, cx.types.fieldNames(rec)) ??
        `its fields are: ${cx.types.fieldNames(rec).slice(0, 12).join(', ')}`,
    );
    return ERROR;
  }
  cx.inst.members.set(e, f);
  return f.bitSize ? { k: 'int', bytes: 8, signed: f.type.k === 'int' && f.type.signed } : f.type;
}

/** `a[i]` on an array (of a record, a value) or `p[i]` on a typed pointer. */
export function checkIndexOf(e: A.IndexExpr, obj: Type, i: Type, cx: CheckContext): Type {
  if (!isInt(i)) {
    cx.bag.add('E0302', `an index must be an integer, not ${typeName(i)}`, e.index.span);
    return ERROR;
  }
  if (isPointer(obj)) return pointee(obj, e.object.span, cx);
  if (obj.k !== 'array') {
    cx.bag.add(
      'E0302',
      `${typeName(obj)} cannot be indexed`,
      e.span,
      obj.k === 'str'
        ? 'strings are compared whole: comm == "bash"'
        : 'arrays, pointers and array fields of tracepoints can: $p[1], args->args[0]',
    );
    return ERROR;
  }
  if (e.index.kind === 'Int' && (e.index.value < 0n || (obj.count > 0 && e.index.value >= BigInt(obj.count)))) {
    cx.bag.add('E0302', `index ${e.index.value} is out of range: the array has ${obj.count} elements`, e.index.span);
    return ERROR;
  }
  if (obj.count === 0 && e.index.kind !== 'Int' && !throughPointer(e.object, cx)) {
    cx.bag.add(
      'E0320',
      `${typeName(obj)} has no length capc knows, so a variable index into it cannot be bounded`,
      e.index.span,
      'use a constant index, or read it through a pointer to its element type: ((int32 *)p)[i]',
    );
    return ERROR;
  }
  return obj.elem;
}

/** Whether `e` is memory reached through a pointer (`p->a`, `(*p).a`, `p[i].a`), where any index is an address. */
function throughPointer(e: A.Expr, cx: CheckContext): boolean {
  switch (e.kind) {
    case 'Unary':
      return e.op === '*';
    case 'Field': {
      const t = cx.inst.types.get(e.object);
      return (!!t && isPointer(t)) || (cx.inst.members.has(e) && throughPointer(e.object, cx));
    }
    case 'Index': {
      const t = cx.inst.types.get(e.object);
      return (!!t && isPointer(t)) || throughPointer(e.object, cx);
    }
    default:
      return false;
  }
}

/** `sizeof(TYPE)` / `sizeof(EXPR)`: a constant (recorded as the integer literal it stands for). */
export function checkSizeof(e: A.SizeofExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  let size: number;
  if (e.typeName !== undefined || (e.expr?.kind === 'Ident' && !isValueName(e.expr.name, cx))) {
    const words = e.typeName ?? (e.expr as A.IdentExpr).name;
    const r = cx.types.resolve(words, e.pointer, 'kernel', probedBinary(cx));
    if (!r.ok) {
      cx.bag.add('E0316', r.why, e.span, didYouMean(words, r.candidates));
      return ERROR;
    }
    size = r.type.k === 'void' ? 1 : sizeOf(r.type);
  } else {
    const t = checkExpr(e.expr!, cx);
    if (t.k === 'error') return ERROR;
    size = sizeOf(t);
    if (!size) {
      cx.bag.add('E0302', `sizeof() cannot measure ${typeName(t)}`, e.span);
      return ERROR;
    }
  }
  const lit: A.IntLit = { kind: 'Int', value: BigInt(size), text: String(size), span: e.span };
  cx.inst.substitutes.set(e, lit);
  cx.inst.types.set(lit, { k: 'int', bytes: 8, signed: false });
  return { k: 'int', bytes: 8, signed: false };
}

/** Names that are values in `sizeof(NAME)`: builtins the check knows (anything else is a type name). */
function isValueName(name: string, cx: CheckContext): boolean {
  return (
    ['pid', 'tid', 'uid', 'gid', 'nsecs', 'cpu', 'comm', 'curtask', 'retval', 'cgroup'].includes(name) ||
    /^arg\d$/.test(name) ||
    cx.types.macro(name) !== undefined ||
    cx.types.constant(name) !== undefined
  );
}

/** `(a, b, ...)`: every element a value capc can keep. */
export function checkTuple(e: A.TupleExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  const elems = e.elems.map((x) => checkExpr(x, cx));
  if (elems.some((t) => t.k === 'error')) return ERROR;
  for (const [i, t] of elems.entries()) {
    if (!storable(t)) {
      cx.bag.add('E0302', `a tuple cannot hold ${typeName(t)}`, e.elems[i]!.span);
      return ERROR;
    }
  }
  // Literals keep 64 bits, as in a variable; other integers their declared width.
  return {
    k: 'tuple',
    elems: elems.map((t) => (t.k === 'int' && t.literal ? { k: 'int', bytes: 8, signed: true } : t)),
  };
}

/** Values that can be copied into a variable, a map, a tuple or a record. */
export function storable(t: Type): boolean {
  switch (t.k) {
    case 'int':
    case 'str':
    case 'record':
    case 'tuple':
    case 'inet':
    case 'usym':
    case 'buf':
      return true;
    case 'array':
      return t.count > 0 && storable(t.elem);
    default:
      return false;
  }
}

/**
 * A name that is one of the script's object-like macros (`#define MAX 16`,
 * `AF_INET`) or enum constants: the expression it stands for, checked in its
 * place. Undefined when it is neither.
 */
export function checkScriptName(e: A.IdentExpr, cx: CheckContext, checkExpr: CheckExpr): Type | undefined {
  const expansion = cx.types.macro(e.name);
  if (expansion !== undefined) {
    const sub = parseExpansion(expansion, e.span);
    if (!sub) {
      cx.bag.add(
        'E0322',
        `macro ${e.name} expands to '${expansion.length > 60 ? expansion.slice(0, 57) + '...' : expansion}', which is not a .cap expression`,
        e.span,
        'write the value it stands for',
      );
      return ERROR;
    }
    // A macro that names an enum constant (or another name) resolves like the name itself.
    const t = checkExpr(sub, cx);
    cx.inst.substitutes.set(e, sub);
    return t;
  }
  const v = cx.types.constant(e.name);
  if (v !== undefined) {
    const lit: A.IntLit = { kind: 'Int', value: v, text: String(v), span: e.span };
    cx.inst.substitutes.set(e, lit);
    const t = checkExpr(lit, cx);
    return t;
  }
  if (cx.types.isFunctionMacro(e.name)) {
    cx.bag.add(
      'E0322',
      `${e.name} is a function-like macro; capc expands only object-like macros`,
      e.span,
      'write the value it stands for',
    );
    return ERROR;
  }
  return undefined;
}

/** A macro's expansion as a .cap expression, every node at the macro's place in the script. */
function parseExpansion(text: string, at: A.Span): A.Expr | undefined {
  if (/[;{}@$]/.test(text)) return undefined;
  const r = parse({ name: '<macro>', text: `BEGIN { $__m = (${text}); }` });
  if (r.diagnostics.length) return undefined;
  const item = r.program.items[0];
  const stmt = item?.kind === 'Probe' ? item.body[0] : undefined;
  if (stmt?.kind !== 'Assign') return undefined;
  forEachExpr(stmt.value, (x) => {
    Object.assign(x, { span: at });
    if (x.kind === 'Binary') x.opSpan = at;
    if (x.kind === 'Field') x.fieldSpan = at;
    if (x.kind === 'Call') x.nameSpan = at;
  });
  return stmt.value;
}

/** Short source text of an expression for hints (`arg0`, `$p`, `args->ptr`). */
export function exprText(e: A.Expr): string {
  switch (e.kind) {
    case 'Ident':
      return e.name;
    case 'Var':
      return e.name;
    case 'Int':
      return e.text;
    case 'Field':
      return `${exprText(e.object)}${e.arrow ? '->' : '.'}${e.field}`;
    case 'Map':
      return e.name;
    default:
      return 'e';
  }
}
