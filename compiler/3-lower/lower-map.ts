// compiler/3-lower/lower-map.ts — map access: builds keys (zeroed, so padding
// never splits one logical key into many; on the stack when small, in scratch
// when large, R5) and emits the update helpers of stdlib/capc.bpf.h, which
// apply R7 (no value pointer kept) and R8 (per-CPU aggregation). hist/lhist
// keep one counter per (key, bucket): the bucket is the key's last field.
import type * as A from '../../grammar/ast.js';
import type { Span } from '../../diagnostics/source.js';
import { addr, call, dot, id, num, type CExpr } from './c-ir.js';
import { emitChecked, operatorSpan } from './helper-checks.js';
import type { FnBuilder } from './fn-builder.js';
import { arith, lowerInt, lowerStrInto } from './lower-expr.js';
import { lowerCompositeInto } from './lower-memory.js';
import { lowerFieldInto } from './lower-value.js';
import { STATS_MAP, type UserMap } from './resources.js';
import { r5OnStack } from './rules.js';

/** Emit statements that fill a key for `m` from `keys`; returns the key (an lvalue) and a pointer to it. */
function buildKey(b: FnBuilder, m: UserMap, keys: A.Expr[] | undefined): { key: CExpr; ptr: CExpr } {
  if (!m.keyStruct || !m.keyLayout) {
    const k = b.fresh('key');
    b.emit({ k: 'decl', type: '__u64', name: k, init: num(0), comment: `${m.info.name} has no key: one entry` });
    return { key: id(k), ptr: addr(id(k)) };
  }
  const layout = m.keyLayout;
  const name = b.fresh('key');
  let key: CExpr;
  if (r5OnStack(layout.size)) {
    b.emit({
      k: 'decl',
      type: `struct ${m.keyStruct}`,
      name,
      init: { k: 'zeroinit' },
      comment: `key of ${m.info.name}`,
    });
    key = id(name);
  } else {
    key = b.scratch(name, `struct ${m.keyStruct}`, layout.size);
    b.emit({
      k: 'expr',
      e: call('capc_zero', addr(key), num(layout.size)),
      comment: `key of ${m.info.name} (${layout.size} bytes: in scratch, R5)`,
    });
  }
  (keys ?? []).forEach((e, i) => {
    const f = layout.fields[i]!;
    lowerFieldInto(b, e, (n) => dot(key, n), f.name, f.what);
  });
  return { key, ptr: addr(key) };
}

/** Emit statements that fill a key for `m` from `keys`; returns a pointer to it. */
export function buildMapKey(b: FnBuilder, m: UserMap, keys: A.Expr[] | undefined): CExpr {
  return buildKey(b, m, keys).ptr;
}

const stats = () => addr(id(STATS_MAP));

/** `@m[k] = count()` / `sum(v)` / `hist(v)` ... / `v` / `"str"`, and `+=`, `-=`, `++`, `--`. */
export function lowerMapWrite(b: FnBuilder, target: A.MapRef, op: string, value: A.Expr | undefined, stmt: Span): void {
  const m = b.res.userMap(target.name);
  // -k: a failed update is reported at the assignment's operator, as bpftrace does.
  const at = operatorSpan(b.res.sourceText, target.span, op, stmt);
  const update = (e: CExpr, comment?: string) => emitChecked(b, e, 'map_update_elem', at, comment);
  const { key, ptr } = buildKey(b, m, target.keys);
  const mapRef = addr(id(m.cName));
  const full = num(m.fullCounter);
  if (value?.kind === 'Call') {
    const fn = value.name;
    const arg = () => lowerInt(b, value.args[0]!).e;
    switch (fn) {
      case 'count':
      case 'sum':
        update(
          call('capc_percpu_add', mapRef, ptr, fn === 'count' ? num(1) : arg(), stats(), full),
          `R8: per-CPU ${fn}()`,
        );
        return;
      case 'avg':
      case 'stats':
        update(call('capc_percpu_avg', mapRef, ptr, arg(), stats(), full), `R8: per-CPU (count, total) for ${fn}()`);
        return;
      case 'min':
      case 'max':
        update(
          call('capc_percpu_minmax', mapRef, ptr, arg(), num(fn === 'max' ? 1 : 0), stats(), full),
          `R8: per-CPU ${fn}()`,
        );
        return;
      case 'hist':
      case 'lhist': {
        const info = b.inst.calls.get(value);
        const v = arg();
        const bucket =
          info?.fn === 'lhist'
            ? call('capc_lin_bucket', v, num(info.params.min), num(info.params.max), num(info.params.step, true))
            : call('capc_log2_bucket', v);
        b.emit({
          k: 'expr',
          e: { k: 'bin', op: '=', l: dot(key, 'bucket'), r: bucket },
          comment: fn === 'hist' ? 'R6: an unrolled log2, no loop' : undefined,
        });
        update(
          call('capc_percpu_add', mapRef, ptr, num(1), stats(), full),
          `R8: one per-CPU counter per (key, bucket)`,
        );
        return;
      }
    }
  }
  if (m.info.kind === 'value') {
    // A record, tuple or array: built in scratch (R5), then copied by the map.
    const slot = b.scratch(b.fresh('val'), `struct ${m.valueType.replace(/^struct /, '')}`, m.valueSize);
    lowerCompositeInto(b, value!, dot(slot, 'v'));
    update(call('capc_map_set_bytes', mapRef, ptr, addr(slot), stats(), full));
    return;
  }
  if (m.info.kind === 'resolved') {
    // A stack id, an address...: written as in a record (lower-value.ts), in scratch (R5), then copied by the map.
    const slot = b.scratch(b.fresh('val'), m.valueType, m.valueSize);
    lowerFieldInto(b, value!, (n) => dot(slot, n), 'v', b.res.fieldKind(m.info.resolved!));
    update(call('capc_map_set_bytes', mapRef, ptr, addr(slot), stats(), full));
    return;
  }
  if (m.info.kind === 'str') {
    // The value is built in scratch (R5), then copied by the map.
    const slot = b.scratch(b.fresh('val'), `struct ${m.valueType.replace(/^struct /, '')}`, m.valueSize);
    lowerStrInto(b, value!, dot(slot, 'v'), m.info.strSize ?? m.valueSize);
    update(call('capc_map_set_bytes', mapRef, ptr, addr(slot), stats(), full));
    return;
  }
  if (op === '=') {
    update(call('capc_map_set', mapRef, ptr, lowerInt(b, value!).e, stats(), full));
    return;
  }
  if (op === '++' || op === '--') {
    update(call('capc_map_add', mapRef, ptr, num(op === '++' ? 1 : -1), stats(), full));
    return;
  }
  if (op === '+=' || op === '-=') {
    const v = lowerInt(b, value!).e;
    update(call('capc_map_add', mapRef, ptr, op === '+=' ? v : { k: 'un', op: '-', e: v }, stats(), full));
    return;
  }
  // Other compound operators read, compute and write back (not atomic, as in bpftrace).
  const cur = { e: call('capc_map_get', mapRef, ptr), unsigned: false };
  const v = arith(
    op.slice(0, -1),
    cur,
    lowerInt(b, value!),
    undefined,
    value!.kind === 'Int' ? value!.value : undefined,
  );
  update(call('capc_map_set', mapRef, ptr, v.e, stats(), full));
}

export function lowerMapDelete(b: FnBuilder, target: A.MapRef, extraKey: A.Expr | undefined, span: Span): void {
  const m = b.res.userMap(target.name);
  const keys = extraKey ? [extraKey] : target.keys;
  const key = buildMapKey(b, m, keys);
  emitChecked(b, call('bpf_map_delete_elem', addr(id(m.cName)), key), 'map_delete_elem', span);
}
