// compiler/3-lower/lower-memory.ts — reads through C types. An expression of
// a C type lives either in kernel or user memory (a place: `*p`, `p->f`,
// `p[i]`, a field of such a record) or in the program's own memory (a
// reference: a variable's scratch slot, a map value copied out (R7), a tuple
// built in scratch). Places are read with one reader per address space
// (capc_read_mem / capc_read_uint in stdlib/capc-values.bpf.h: user memory
// with bpf_probe_read_user, kernel memory with bpf_probe_read_kernel), always
// with sizes known when compiling (R4) and large values in scratch (R5).
// Integers are read at their width and sign-extended; bitfields are shifted
// and masked. A variable index is checked against the array's length (out of
// range reads 0).
import type * as A from '../../grammar/ast.js';
import type { RecordField } from '../2-analyze/type-table.js';
import { isPointer, sizeOf, tupleLayout, type AddressSpace, type Type } from '../2-analyze/types.js';
import { addr, bin, call, cast, id, num, type CExpr } from './c-ir.js';
import type { FnBuilder, IntVal } from './fn-builder.js';
import { cIntType } from './layout.js';
import { r3Mask } from './rules.js';

const nextPowerOfTwo = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Memory a probe reads through a pointer: its address (a __u64) and the type there. */
export interface Place {
  space: AddressSpace;
  addr: CExpr;
  type: Type;
  bits?: { offset: number; size: number };
}

/** A value in the program's own memory: a `char *` to its bytes. */
export interface Ref {
  ptr: CExpr;
  type: Type;
  bits?: { offset: number; size: number };
}

export type Location = { place: Place; ref?: undefined } | { ref: Ref; place?: undefined };

function typeIn(b: FnBuilder, e: A.Expr): Type {
  const t = b.inst.types.get(e);
  if (!t) throw new Error(`internal: expression at ${e.span.line}:${e.span.col} has no type`);
  return t;
}

const bytesAt = (p: CExpr, off: number): CExpr => (off ? bin('+', cast('char *', p), num(off)) : cast('char *', p));
const addrPlus = (a: CExpr, off: CExpr | number): CExpr =>
  typeof off === 'number' && off === 0 ? a : bin('+', a, typeof off === 'number' ? num(off) : off);

function reader(space: AddressSpace): CExpr {
  // 'packet' is the address space of packet probes (issue 18): their reads are checked against data_end.
  if (space === 'packet') throw new Error('internal: packet memory has no reader yet');
  return num(space === 'user' ? 1 : 0);
}

/**
 * Where expression `e` (of a C type) lives, or undefined when it is a value
 * computed on the spot (an integer expression, a string literal...).
 */
export function locate(b: FnBuilder, e: A.Expr): Location | undefined {
  const sub = b.inst.substitutes.get(e);
  if (sub) return locate(b, sub);
  // pkt.* reads are the packet lowering's (lower-packet.ts: checked against data_end, R12), not memory of a C type.
  if (b.inst.packet?.has(e)) return undefined;
  const t = typeIn(b, e);
  switch (e.kind) {
    case 'Unary': {
      if (e.op !== '*') return undefined;
      const p = typeIn(b, e.operand);
      if (!isPointer(p)) throw new Error('internal: dereference of an untyped value');
      return { place: { space: p.space ?? 'kernel', addr: b.lowerers.int(b, e.operand).e, type: t } };
    }
    case 'Field': {
      const m = b.inst.members.get(e);
      if (!m) return undefined;
      return member(b, e.object, m, t);
    }
    case 'Index': {
      const objT = typeIn(b, e.object);
      if (b.inst.fields.has(e.object as A.FieldExpr) && objT.k === 'array') return undefined; // a tracepoint array
      const size = sizeOf(t);
      if (isPointer(objT)) {
        const base = b.lowerers.int(b, e.object).e;
        const i = b.lowerers.int(b, e.index).e;
        return {
          place: {
            space: objT.space ?? 'kernel',
            addr: addrPlus(base, bin('*', cast('__u64', i), num(size))),
            type: t,
          },
        };
      }
      if (objT.k !== 'array') return undefined;
      const loc = locate(b, e.object);
      if (!loc) throw new Error('internal: an array with no location');
      if (e.index.kind === 'Int') {
        const off = Number(e.index.value) * size;
        return loc.place
          ? { place: { ...loc.place, addr: addrPlus(loc.place.addr, off), type: t } }
          : { ref: { ptr: bytesAt(loc.ref.ptr, off), type: t } };
      }
      // A variable index: checked against the length; out of range reads address 0 (zeros).
      const i = b.fresh('idx');
      b.local('__u64', i);
      b.emit({ k: 'expr', e: bin('=', id(i), cast('__u64', b.lowerers.int(b, e.index).e)) });
      let scaled: CExpr = id(i);
      if (loc.ref) {
        // The program's own memory (a map value): the verifier checks the pointer arithmetic itself,
        // and clang computes it before the length check, so the index is also masked, kept apart
        // from the check by a barrier so clang cannot fold the mask away.
        const m = b.fresh('midx');
        b.local('__u64', m);
        scaled = id(m);
        b.emit({ k: 'expr', e: bin('=', scaled, bin('&', id(i), num(r3Mask(nextPowerOfTwo(objT.count))))) });
        b.emit({
          k: 'expr',
          e: call('barrier_var', scaled),
          comment: 'R3: a variable index into a value in scratch is masked',
        });
      }
      const base = loc.place ? loc.place.addr : cast('__u64', loc.ref.ptr);
      const at = {
        k: 'cond' as const,
        c: bin('<', id(i), num(objT.count)),
        t: bin('+', base, bin('*', scaled, num(size))),
        f: num(0),
      };
      return { place: { space: loc.place ? loc.place.space : 'kernel', addr: at, type: t } };
    }
    case 'Var': {
      const slot = b.compositeVars.get(e.name);
      return slot ? { ref: { ptr: slot, type: t } } : undefined;
    }
    case 'Map':
    case 'Tuple': {
      if (t.k !== 'record' && t.k !== 'tuple' && t.k !== 'array') return undefined;
      const slot = b.scratch(b.fresh('v'), 'char', sizeOf(t), sizeOf(t));
      lowerCompositeInto(b, e, slot);
      return { ref: { ptr: slot, type: t } };
    }
    default:
      return undefined;
  }
}

/** `obj->f` (obj a typed pointer) or `obj.f` (obj located): the field's location. */
function member(b: FnBuilder, obj: A.Expr, m: RecordField, t: Type): Location | undefined {
  const objT = typeIn(b, obj);
  const bits = m.bitSize ? { offset: m.bitOffset ?? 0, size: m.bitSize } : undefined;
  const type = bits ? m.type : t;
  if (isPointer(objT)) {
    const base = b.lowerers.int(b, obj).e;
    return { place: { space: objT.space ?? 'kernel', addr: addrPlus(base, m.offset), type, bits } };
  }
  const loc = locate(b, obj);
  if (!loc) throw new Error('internal: a field of a value with no location');
  if (loc.place) return { place: { space: loc.place.space, addr: addrPlus(loc.place.addr, m.offset), type, bits } };
  return { ref: { ptr: bytesAt(loc.ref.ptr, m.offset), type, bits } };
}

/** The integer at a location, sign-extended from its width (bitfields: shifted and masked). */
export function readInt(loc: Location): IntVal {
  const where = loc.place ?? loc.ref;
  const t = where.type;
  let bytes = t.k === 'int' ? t.bytes : 8;
  // A bitfield is read in a unit wide enough for all its bits.
  if (where.bits) while (bytes < 8 && bytes * 8 < where.bits.offset + where.bits.size) bytes *= 2;
  const signed = t.k === 'int' && !t.to && t.signed;
  const raw = loc.place
    ? call('capc_read_uint', loc.place.addr, num(bytes), reader(loc.place.space))
    : call('capc_load_uint', loc.ref.ptr, num(bytes));
  if (where.bits) {
    const { offset, size } = where.bits;
    return signed
      ? { e: call('capc_sbits', raw, num(offset), num(size)), unsigned: false }
      : { e: call('capc_bits', raw, num(offset), num(size)), unsigned: true };
  }
  if (!signed || bytes === 8) return { e: signed ? cast('__s64', raw) : raw, unsigned: !signed };
  return { e: cast('__s64', cast(cIntType(bytes, true), raw)), unsigned: false };
}

/** Copy the `n` bytes at a location into `dst` (a pointer into the program's memory). */
export function copyFrom(b: FnBuilder, loc: Location, dst: CExpr, n: number): void {
  if (loc.place) b.emit({ k: 'expr', e: call('capc_read_mem', dst, num(n), loc.place.addr, reader(loc.place.space)) });
  else b.emit({ k: 'expr', e: call('capc_copy', dst, loc.ref.ptr, num(n)) });
}

/** A string (a char array) at a location into `dst` of `size` bytes, NUL-terminated within it. */
export function strFrom(b: FnBuilder, loc: Location, dst: CExpr, size: number): void {
  const t = (loc.place ?? loc.ref).type;
  const have = t.k === 'str' ? t.size : size;
  const n = Math.min(have, size - (have >= size ? 1 : 0));
  copyFrom(b, loc, dst, Math.max(1, n));
  b.emit({ k: 'expr', e: bin('=', { k: 'index', e: dst, i: num(Math.min(n, size - 1)) }, num(0)) });
}

/**
 * Write the record, tuple or array value `e` into `dst` (a pointer to
 * sizeOf(type) bytes of the program's memory): read from where it lives,
 * copied out of a map (R7), or built element by element (a tuple).
 */
export function lowerCompositeInto(b: FnBuilder, e: A.Expr, dst: CExpr): void {
  const sub = b.inst.substitutes.get(e);
  if (sub) return lowerCompositeInto(b, sub, dst);
  const t = typeIn(b, e);
  const n = sizeOf(t);
  if (e.kind === 'Tuple' && t.k === 'tuple') {
    const { offsets, size } = tupleLayout(t.elems);
    b.emit({ k: 'expr', e: call('capc_zero', dst, num(size)), comment: 'tuple: padding is zero' });
    e.elems.forEach((x, i) => lowerValueAt(b, x, t.elems[i]!, bytesAt(dst, offsets[i]!)));
    return;
  }
  if (t.k === 'array' && t.bytes) {
    // pton("..."): bytes known when compiling.
    b.emit({ k: 'expr', e: call('__builtin_memcpy', dst, { k: 'strlit', bytes: t.bytes }, num(t.bytes.length)) });
    return;
  }
  const field = e.kind === 'Field' ? b.inst.fields.get(e) : undefined;
  if (field && t.k === 'array' && t.count) {
    // A tracepoint's array field (`args->saddr`): its bytes in the record.
    b.emit({ k: 'expr', e: call('bpf_probe_read_kernel', dst, num(n), bytesAt(id('ctx'), field.offset)) });
    return;
  }
  if (e.kind === 'Map') {
    const m = b.res.userMap(e.name);
    const key = b.lowerers.mapKey(b, m, e.keys);
    b.emit({
      k: 'expr',
      e: call('capc_map_get_bytes', addr(id(m.cName)), key, dst, num(n)),
      comment: 'R7: copied out',
    });
    return;
  }
  const loc = locate(b, e);
  if (!loc) throw new Error(`internal: no location for a ${t.k} value`);
  copyFrom(b, loc, dst, n);
}

/** One value of type `t` (an integer, a string or a composite) written at `dst`. */
function lowerValueAt(b: FnBuilder, e: A.Expr, t: Type, dst: CExpr): void {
  if (t.k === 'int') {
    b.emit({ k: 'expr', e: call('capc_store_uint', dst, cast('__u64', b.lowerers.int(b, e).e), num(t.bytes)) });
    return;
  }
  if (t.k === 'str') return b.lowerers.strInto(b, e, dst, t.size);
  lowerCompositeInto(b, e, dst);
}

/** A pointer to the bytes of composite `e` in the program's memory (read into scratch when it lives elsewhere). */
export function compositeBytes(b: FnBuilder, e: A.Expr): CExpr {
  const loc = locate(b, e);
  if (loc?.ref && !loc.ref.bits) return loc.ref.ptr;
  const n = sizeOf(typeIn(b, e));
  const slot = b.scratch(b.fresh('c'), 'char', n, n);
  if (loc) copyFrom(b, loc, slot, n);
  else lowerCompositeInto(b, e, slot);
  return slot;
}
