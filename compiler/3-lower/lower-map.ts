// compiler/3-lower/lower-map.ts — map access: builds keys (zeroed, so padding
// never splits one logical key into many; on the stack when small, in scratch
// when large, R5) and emits the update helpers of stdlib/capc.bpf.h, which
// apply R7 (no value pointer kept) and R8 (per-CPU aggregation).
import type * as A from '../../grammar/ast.js';
import { addr, call, dot, id, num, type CExpr } from './c-ir.js';
import { ON_STACK_LIMIT, type FnBuilder } from './fn-builder.js';
import { arith, lowerInt, lowerStrInto } from './lower-expr.js';
import { STATS_MAP, type UserMap } from './resources.js';

/** Emit statements that fill a key for `m` from `keys`; returns a pointer to it. */
export function buildMapKey(b: FnBuilder, m: UserMap, keys: A.Expr[] | undefined): CExpr {
  if (!m.keyStruct || !m.keyLayout || !keys) {
    const k = b.fresh('key');
    b.emit({ k: 'decl', type: '__u64', name: k, init: num(0), comment: `${m.info.name} has no key: one entry` });
    return addr(id(k));
  }
  const layout = m.keyLayout;
  const name = b.fresh('key');
  let key: CExpr;
  if (layout.size <= ON_STACK_LIMIT) {
    b.emit({ k: 'decl', type: `struct ${m.keyStruct}`, name, init: { k: 'zeroinit' }, comment: `key of ${m.info.name}` });
    key = id(name);
  } else {
    key = b.scratch(name, `struct ${m.keyStruct}`, layout.size);
    b.emit({ k: 'expr', e: call('capc_zero', addr(key), num(layout.size)), comment: `key of ${m.info.name} (${layout.size} bytes: in scratch, R5)` });
  }
  layout.fields.forEach((f, i) => {
    const e = keys[i]!;
    if (f.what.kind === 'int') {
      b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: dot(key, f.name), r: lowerInt(b, e).e } });
    } else {
      lowerStrInto(b, e, dot(key, f.name), f.size);
    }
  });
  return addr(key);
}

const stats = () => addr(id(STATS_MAP));

/** `@m[k] = count()` / `sum(v)` / `v`, and `+=`, `-=`, `++`, `--`. */
export function lowerMapWrite(b: FnBuilder, target: A.MapRef, op: string, value: A.Expr | undefined): void {
  const m = b.res.userMap(target.name);
  const key = buildMapKey(b, m, target.keys);
  const mapRef = addr(id(m.cName));
  const full = num(m.fullCounter);
  if (value?.kind === 'Call' && (value.name === 'count' || value.name === 'sum')) {
    const delta = value.name === 'count' ? num(1) : lowerInt(b, value.args[0]!).e;
    b.emit({ k: 'expr', e: call('capc_percpu_add', mapRef, key, delta, stats(), full), comment: `R8: per-CPU ${value.name}()` });
    return;
  }
  if (op === '=') {
    b.emit({ k: 'expr', e: call('capc_map_set', mapRef, key, lowerInt(b, value!).e, stats(), full) });
    return;
  }
  if (op === '++' || op === '--') {
    b.emit({ k: 'expr', e: call('capc_map_add', mapRef, key, num(op === '++' ? 1 : -1), stats(), full) });
    return;
  }
  if (op === '+=' || op === '-=') {
    const v = lowerInt(b, value!).e;
    b.emit({ k: 'expr', e: call('capc_map_add', mapRef, key, op === '+=' ? v : { k: 'un', op: '-', e: v }, stats(), full) });
    return;
  }
  // Other compound operators read, compute and write back (not atomic, as in bpftrace).
  const cur = { e: call('capc_map_get', mapRef, key), unsigned: false };
  const v = arith(op.slice(0, -1), cur, lowerInt(b, value!), undefined, value!.kind === 'Int' ? value!.value : undefined);
  b.emit({ k: 'expr', e: call('capc_map_set', mapRef, key, v.e, stats(), full) });
}

export function lowerMapDelete(b: FnBuilder, target: A.MapRef, extraKey: A.Expr | undefined): void {
  const m = b.res.userMap(target.name);
  const keys = extraKey ? [extraKey] : target.keys;
  const key = buildMapKey(b, m, keys);
  b.emit({ k: 'expr', e: call('bpf_map_delete_elem', addr(id(m.cName)), key) });
}
