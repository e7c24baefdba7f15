// compiler/2-analyze/check-format.ts — a format string and its arguments,
// as printf(), cat() and system() take them: the format must be a literal,
// every conversion known, the argument count equal to the conversions, and
// each argument of the kind its conversion prints. Returns the parsed
// segments (the runtime formats from them), or undefined after an error.
import type * as A from '../../grammar/ast.js';
import { rawOffsets } from '../../grammar/literals.js';
import type { CheckContext } from './context.js';
import { convNeeds, parseFormat, type FormatSegment } from './printf-format.js';
import { isInt, isResolved, isStr, typeName, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;

export function checkFormatArgs(
  e: A.CallExpr,
  cx: CheckContext,
  checkExpr: CheckExpr,
): { segments: FormatSegment[]; format: string } | undefined {
  const [fmt, ...args] = e.args;
  const argTypes = args.map((a) => checkExpr(a, cx));
  if (!fmt || fmt.kind !== 'Str') {
    cx.bag.add(
      'E0302',
      `${e.name}() needs a string literal as its first argument`,
      fmt?.span ?? e.span,
      `${e.name}("pid %d\\n", pid)`,
    );
    return undefined;
  }
  cx.inst.types.set(fmt, { k: 'str', size: fmt.value.length + 1 });
  const { segments, argCount: want, problems } = parseFormat(fmt.value);
  for (const p of problems) {
    // Offsets are into the decoded bytes: map them back to the source text.
    const map = rawOffsets(fmt.raw);
    const from = map[Math.min(p.offset, map.length - 1)]!;
    const to = map[Math.min(p.offset + p.length, map.length - 1)]!;
    const span = {
      ...fmt.span,
      start: fmt.span.start + from,
      end: fmt.span.start + Math.max(to, from + 1),
      col: fmt.span.col + from,
      endCol: fmt.span.col + Math.max(to, from + 1),
    };
    cx.bag.add(
      'E0307',
      p.message,
      span,
      'conversions: %d %u %x %s %c %p %r, with flags, width and length (%-16s %08x %llu); write %% for a percent sign',
    );
  }
  if (problems.length) return undefined;
  if (want !== args.length) {
    cx.bag.add(
      'E0308',
      `the format has ${want} conversion${want === 1 ? '' : 's'} but ${args.length} argument${args.length === 1 ? ' was' : 's were'} given`,
      want > args.length ? fmt.span : args[want]!.span,
    );
    return undefined;
  }
  let ok = true;
  for (const seg of segments) {
    if (!('conv' in seg)) continue;
    const t = argTypes[seg.arg]!;
    const a = args[seg.arg]!;
    if (t.k === 'error') {
      ok = false;
      continue;
    }
    const need = convNeeds(seg.conv);
    const fits =
      need === 'str'
        ? isStr(t) || isResolved(t)
        : need === 'buf'
          ? t.k === 'buf'
          : need === 'int' || need === 'any-int'
            ? isInt(t)
            : false;
    if (!fits) {
      ok = false;
      cx.bag.add(
        'E0309',
        `%${seg.conv} needs ${need === 'str' ? 'a string' : need === 'buf' ? 'a buffer from buf()' : 'an integer'}, but the argument is ${typeName(t)}`,
        a.span,
        isStr(t) || isResolved(t)
          ? 'print strings with %s'
          : t.k === 'buf'
            ? 'print buffers with %r (escaped), %rx (all hex escapes) or %rh (hex bytes)'
            : isInt(t) && need === 'str'
              ? t.space
                ? 'read the string first: str(ptr)'
                : 'print integers with %d'
              : need === 'buf'
                ? 'read the bytes with buf(ptr, length)'
                : undefined,
      );
    }
  }
  return ok ? { segments, format: Buffer.from(fmt.value).toString('latin1') } : undefined;
}
