// compiler/3-lower/lower-value.ts — writes a value into a record field or a
// map key, whatever its kind: integers and strings (lower-expr.ts), buf()
// bytes with their length, and the values capc resolves when printing —
// ntop() addresses, usym() addresses and ustack stack ids, each with the pid
// (and, in uprobes, the probe's address) capc needs to find the symbols.
import type * as A from '../../grammar/ast.js';
import { probeKind } from '../2-analyze/probes.js';
import { addr, arrow, call, cast, dot, id, num, type CExpr } from './c-ir.js';
import type { FnBuilder } from './fn-builder.js';
import { sizeOf } from '../2-analyze/types.js';
import type { FieldKind } from './layout.js';
import { lowerInt, lowerStrInto } from './lower-expr.js';
import { compositeBytes, lowerCompositeInto } from './lower-memory.js';
import { isPacketRead, lowerPacketInet } from './lower-packet.js';
import { STATS_MAP } from './resources.js';
import { r4BoundedRead } from './rules.js';
import { emitChecked } from './helper-checks.js';

/** `member(name)` names a field of the destination (`ev->a0`, `key.k1`). */
export type Member = (name: string) => CExpr;

export function lowerFieldInto(b: FnBuilder, e: A.Expr, member: Member, name: string, what: FieldKind): void {
  const dst = member(name);
  const held = e.kind === 'Var' ? b.heldVars.get(e.name) : undefined;
  if (held) {
    // A resolved value or buf() bytes kept in a variable: its raw bytes, copied from the variable's slot.
    const v = dot(held.slot, 'v');
    if (what.kind === 'buf') {
      b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: member(`${name}_len`), r: dot(held.slot, 'v_len') } });
      b.emit({ k: 'expr', e: call('__builtin_memcpy', dst, v, num(what.size)) });
    } else b.emit({ k: 'expr', e: call('__builtin_memcpy', addr(dst), addr(v), num(held.size)) });
    return;
  }
  if (e.kind === 'Map' && what.kind !== 'int' && what.kind !== 'str' && what.kind !== 'bytes' && what.kind !== 'buf') {
    // A resolved value kept in a map (`@s[tid] = kstack`): its raw bytes, copied out at once (R7).
    const m = b.res.userMap(e.name);
    const key = b.lowerers.mapKey(b, m, e.keys);
    const stack = what.kind === 'ustack' || what.kind === 'kstack';
    b.emit({
      k: 'expr',
      e: call('capc_map_get_value', addr(id(m.cName)), key, addr(dst), num(m.valueField!.size), num(stack ? 0xff : 0)),
    });
    return;
  }
  switch (what.kind) {
    case 'int':
      b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: dst, r: lowerInt(b, e).e } });
      return;
    case 'str':
    case 'bytes':
      lowerStrInto(b, e, dst, what.size);
      return;
    case 'value':
      lowerCompositeInto(b, e, dst);
      return;
    case 'buf':
      return lowerBuf(b, e, member(`${name}_len`), dst, what.size);
    case 'inet':
      return lowerInet(b, e, dst);
    case 'usym': {
      if (e.kind !== 'Call') throw new Error('internal: usym value is not a call');
      const v = lowerInt(b, e.args[0]!);
      const { probe, ip } = probeAddress(b);
      b.emit({ k: 'expr', e: call('capc_usym', addr(dst), v.e, probe, ip) });
      return;
    }
    case 'kstack': {
      const stack = b.res.stackMap(what.frames, true);
      emitChecked(
        b,
        call('capc_kstack', b.progCtx, addr(id(stack.name)), addr(dst), addr(id(STATS_MAP)), num(stack.counter)),
        'get_stackid',
        e.span,
        'R11: a stack the map cannot take is counted',
      );
      return;
    }
    case 'ksym':
    case 'strftime':
    case 'cgroup_path': {
      // One __u64 (an address, boot-time ns, a cgroup id), turned into text by capc.
      if (e.kind !== 'Call') throw new Error(`internal: ${what.kind} value is not a call`);
      const v = lowerInt(b, e.args[what.kind === 'strftime' ? 1 : 0]!);
      b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: dst, r: cast('__u64', v.e) } });
      return;
    }
    case 'macaddr':
      return lowerMacaddr(b, e, dst);
    case 'ustack': {
      const stack = b.res.stackMap(what.frames);
      const { probe, ip } = probeAddress(b);
      emitChecked(
        b,
        call(
          'capc_ustack',
          b.progCtx,
          addr(id(stack.name)),
          addr(dst),
          probe,
          ip,
          addr(id(STATS_MAP)),
          num(stack.counter),
        ),
        'get_stackid',
        e.span,
        'R11: a stack the map cannot take is counted',
      );
      return;
    }
  }
}

/**
 * In a uprobe at a function's entry, the probe's address tells capc where the
 * binary is loaded even after the process exited (bpftrace #246); elsewhere
 * capc relies on /proc/PID/maps, read when the pid is first seen.
 */
function probeAddress(b: FnBuilder): { probe: CExpr; ip: CExpr } {
  if (probeKind(b.inst.attach) === 'uprobe' && !b.inst.capture)
    return { probe: num(b.inst.id), ip: cast('__u64', call('PT_REGS_IP', id('ctx'))) };
  return { probe: num(0xffffffff, true), ip: num(0) };
}

function lowerBuf(b: FnBuilder, e: A.Expr, lenDst: CExpr, dst: CExpr, size: number): void {
  const info = e.kind === 'Call' ? b.inst.calls.get(e) : undefined;
  if (e.kind !== 'Call' || !info || info.fn !== 'buf') throw new Error('internal: buffer value is not a buf() call');
  const src = e.args[0]!;
  if (b.inst.types.get(src)?.k === 'array') {
    // buf(args->array): the array's bytes, straight from the record.
    if (src.kind !== 'Field') throw new Error('internal: buf() of an array that is not a field');
    const f = b.inst.fields.get(src)!;
    const t = b.inst.types.get(src);
    if (t?.k === 'array' && !t.count) {
      // __data_loc: the bytes at (field & 0xffff), (field >> 16) of them, capped by the record field.
      const dl = arrow(id('ctx'), src.field);
      const at = {
        k: 'bin' as const,
        op: '+',
        l: cast('void *', id('ctx')),
        r: { k: 'bin' as const, op: '&', l: dl, r: num(0xffff) },
      };
      b.emit({ k: 'expr', e: r4BoundedRead(lenDst, dst, size, at, { k: 'bin', op: '>>', l: dl, r: num(16) }, false) });
      return;
    }
    b.emit({ k: 'expr', e: r4BoundedRead(lenDst, dst, size, fieldAddress(f.offset), num(size), false) });
    return;
  }
  const ptr = lowerInt(b, src);
  const len = e.args[1] && info.dynamicLength ? lowerInt(b, e.args[1]).e : num(size);
  emitChecked(
    b,
    r4BoundedRead(lenDst, dst, size, cast('const void *', ptr.e), len, info.space === 'user'),
    info.space === 'user' ? 'probe_read_user' : 'probe_read_kernel',
    e.span,
    'R4: the length is capped by the field',
  );
}

/** macaddr(ptr) or macaddr(args->array): six bytes, read from where they are. */
function lowerMacaddr(b: FnBuilder, e: A.Expr, dst: CExpr): void {
  const info = e.kind === 'Call' ? b.inst.calls.get(e) : undefined;
  if (e.kind !== 'Call' || !info || info.fn !== 'macaddr')
    throw new Error('internal: MAC value is not a macaddr() call');
  const a = e.args[0]!;
  if (b.inst.types.get(a)?.k === 'array') {
    if (a.kind !== 'Field') throw new Error('internal: macaddr() of an array that is not a field');
    const f = b.inst.fields.get(a)!;
    b.emit({ k: 'expr', e: call('bpf_probe_read_kernel', dst, num(6), fieldAddress(f.offset)) });
    return;
  }
  const ptr = lowerInt(b, a);
  const read = info.space === 'user' ? 'bpf_probe_read_user' : 'bpf_probe_read_kernel';
  b.emit({ k: 'expr', e: call(read, dst, num(6), cast('const void *', ptr.e)) });
}

/** Address of a tracepoint record field: `(void *)ctx + offset`. */
function fieldAddress(offset: number): CExpr {
  return { k: 'bin', op: '+', l: cast('void *', id('ctx')), r: num(offset) };
}

function lowerInet(b: FnBuilder, e: A.Expr, dst: CExpr): void {
  if (e.kind === 'Ident' && (e.name === 'laddr' || e.name === 'raddr')) {
    b.emit(b.lowerers.identity!.inet(e.name, dst));
    return;
  }
  const info = e.kind === 'Call' ? b.inst.calls.get(e) : undefined;
  if (e.kind !== 'Call' || !info || info.fn !== 'ntop')
    throw new Error('internal: address value is not an ntop() call');
  const a = e.args[e.args.length - 1]!;
  const t = b.inst.types.get(a)!;
  if (t.k === 'inet') return lowerFieldInto(b, a, () => dst, 'v', { kind: 'inet' }); // ntop(raddr), ntop($addr)
  let af: CExpr;
  if (info.family === 'arg') af = lowerInt(b, e.args[0]!).e;
  else af = num(info.family === 6 ? 10 : 2);
  if (t.k === 'array' && t.bytes) {
    // pton()'s constant bytes (or a variable holding them).
    b.emit({
      k: 'expr',
      e: call('capc_inet_bytes', addr(dst), af, { k: 'strlit', bytes: t.bytes }, num(t.bytes.length)),
    });
    return;
  }
  if (t.k === 'array' && isPacketRead(b, a)) return lowerPacketInet(b, a, dst);
  if (t.k === 'array' && (a.kind !== 'Field' || !b.inst.fields.has(a))) {
    // An array kept in a variable or a map, or a member of a C record: its bytes, wherever they are.
    b.emit({ k: 'expr', e: call('capc_inet_bytes', addr(dst), af, compositeBytes(b, a), num(sizeOf(t))) });
    return;
  }
  if (t.k === 'array') {
    if (a.kind !== 'Field') throw new Error('internal: ntop() of an array that is not a field');
    const f = b.inst.fields.get(a)!;
    b.emit({
      k: 'expr',
      e: call('capc_inet_bytes', addr(dst), af, fieldAddress(f.offset), num(t.count * sizeOf(t.elem))),
    });
    return;
  }
  b.emit({ k: 'expr', e: call('capc_inet_u32', addr(dst), af, cast('__u32', lowerInt(b, a).e)) });
}
