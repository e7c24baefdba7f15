// compiler/2-analyze/map-keys.ts — one rule for every use of a map's keys
// (write, read, delete): the same number of keys as the map was defined
// with, compatible types, strings and buffers widened to the longest use.
import type * as A from '../../grammar/ast.js';
import type { MapInfo } from './analyzed.js';
import type { CheckContext } from './context.js';
import { isComposite, isInt, isStr, sameShape, sizeOf, typeName, type Type } from './types.js';

/**
 * Check a use of a map's keys (a write, a read, a delete) against the keys
 * it was defined with: the same number, compatible types. Strings and
 * buffers widen the key to the longest one used, so a longer key is never
 * truncated into a false match.
 */
export function unifyKeys(
  name: string,
  exprs: A.Expr[] | undefined,
  keys: Type[] | undefined,
  prev: MapInfo,
  cx: CheckContext,
  span: A.Span,
): void {
  if ((prev.keys === undefined) !== (keys === undefined) || (prev.keys && keys && prev.keys.length !== keys.length)) {
    cx.bag.add(
      'E0304',
      `${name} was first used with ${prev.keys?.length ?? 0} key(s), here with ${keys?.length ?? 0}`,
      span,
      `first use: line ${prev.span.line}`,
    );
    return;
  }
  prev.keys?.forEach((pk, i) => {
    const k = keys![i]!;
    if (k.k === 'error') return;
    if (isInt(pk) && isInt(k)) return;
    if (isStr(pk) && isStr(k)) {
      if (k.size > pk.size) prev.keys![i] = { k: 'str', size: k.size };
      return;
    }
    if (pk.k === 'ustack' && k.k === 'ustack') {
      if (k.frames !== pk.frames)
        cx.bag.add(
          'E0304',
          `key ${i + 1} of ${name} was ustack(${pk.frames}) before, here ustack(${k.frames})`,
          exprs![i]!.span,
          'one map keeps stacks of one depth',
        );
      return;
    }
    if (pk.k === k.k && (k.k === 'inet' || k.k === 'usym')) return;
    if (isComposite(pk) && sameShape(pk, k) && sizeOf(pk) === sizeOf(k)) return;
    if (pk.k === 'buf' && k.k === 'buf') {
      if (k.size > pk.size) prev.keys![i] = { k: 'buf', size: k.size };
      return;
    }
    cx.bag.add(
      'E0304',
      `key ${i + 1} of ${name} was ${typeName(pk)} before, here ${typeName(k)}`,
      exprs![i]!.span,
      `first use: line ${prev.span.line}`,
    );
  });
}
