// compiler/4-emit/print-c.ts — prints the C IR as text: deterministic
// layout, minimal parentheses, escaped literals and comments, and exact
// `#line` directives: every C line made from a .cap statement is preceded,
// when needed, by `#line N "file.cap"`, so clang errors and the verifier's
// BTF line info name .cap lines; generated scaffolding maps back to itself.
import type { CExpr, CFunction, CProgram, CStmt, CStruct } from '../3-lower/c-ir.js';

/** A printed line and the .cap line it came from (undefined: generated scaffolding). */
interface Line {
  text: string;
  src?: number;
}

const PREC: Record<string, number> = {
  '*': 13,
  '/': 13,
  '%': 13,
  '+': 12,
  '-': 12,
  '<<': 11,
  '>>': 11,
  '<': 10,
  '<=': 10,
  '>': 10,
  '>=': 10,
  '==': 9,
  '!=': 9,
  '&': 8,
  '^': 7,
  '|': 6,
  '&&': 5,
  '||': 4,
};
const UNARY_PREC = 14;
const CLARIFY = new Set(['&&', '||', '&', '|', '^', '<<', '>>']);
const COMPARISON = new Set(['==', '!=', '<', '>', '<=', '>=']);
const POSTFIX_PREC = 15;

export function printExpr(e: CExpr, parent = 0): string {
  switch (e.k) {
    case 'num': {
      // INT64_MIN has no literal in C (0x8000000000000000 is unsigned): spell it as an expression.
      if (e.v === -(2n ** 63n) && !e.unsigned) return wrap('(-0x7fffffffffffffffLL - 1)', 100, parent);
      const neg = e.v < 0n;
      const abs = neg ? -e.v : e.v;
      const big = abs > 0x7fffffffn;
      const text =
        (e.unsigned || big ? (abs > 0xffffn ? `0x${abs.toString(16)}` : abs.toString()) : abs.toString()) +
        (e.unsigned ? 'ULL' : big || e.wide ? 'LL' : '');
      return neg ? wrap(`-${text}`, UNARY_PREC, parent) : text;
    }
    case 'id':
      return e.name;
    case 'char':
      return charLiteral(e.v);
    case 'strlit':
      return cString(e.bytes);
    case 'bin': {
      const isAssign = e.op.endsWith('=') && !['==', '!=', '<=', '>='].includes(e.op);
      const p = isAssign ? 2 : (PREC[e.op] ?? 1);
      const left = isAssign ? p + 1 : p;
      const right = isAssign ? p : p + 1;
      // Mixed logical/bitwise operators get parentheses, as clang -Wparentheses asks.
      const clarify = (x: CExpr) =>
        x.k === 'bin' &&
        x.op !== e.op &&
        CLARIFY.has(e.op) &&
        (CLARIFY.has(x.op) ||
          (['<<', '>>'].includes(e.op) && ['+', '-'].includes(x.op)) ||
          (['&', '|', '^'].includes(e.op) && COMPARISON.has(x.op)));
      const side = (x: CExpr, prec: number) => (clarify(x) ? `(${printExpr(x)})` : printExpr(x, prec));
      return wrap(`${side(e.l, left)} ${e.op} ${side(e.r, right)}`, p, parent);
    }
    case 'un':
      return wrap(`${e.op}${printExpr(e.e, UNARY_PREC)}`, UNARY_PREC, parent);
    case 'call':
      return `${e.fn}(${e.args.map((a) => printExpr(a, 2)).join(', ')})`;
    case 'member':
      return `${printExpr(e.e, POSTFIX_PREC)}${e.arrow ? '->' : '.'}${e.field}`;
    case 'index':
      return `${printExpr(e.e, POSTFIX_PREC)}[${printExpr(e.i)}]`;
    case 'cast':
      return wrap(`(${e.type})${printExpr(e.e, UNARY_PREC)}`, UNARY_PREC, parent);
    case 'cond':
      return wrap(`${printExpr(e.c, 4)} ? ${printExpr(e.t, 3)} : ${printExpr(e.f, 3)}`, 3, parent);
    case 'sizeof':
      return `sizeof(${e.of})`;
    case 'zeroinit':
      return '{}';
    case 'init':
      return `{ ${e.fields.map(([f, v]) => `.${f} = ${printExpr(v, 2)}`).join(', ')} }`;
  }
}

function wrap(s: string, prec: number, parent: number): string {
  return prec < parent ? `(${s})` : s;
}

function charLiteral(v: number): string {
  if (v === 39) return "'\\''";
  if (v === 92) return "'\\\\'";
  if (v >= 32 && v < 127 && v !== 63) return `'${String.fromCharCode(v)}'`;
  return `'\\${v.toString(8).padStart(3, '0')}'`;
}

/** A C string literal for arbitrary bytes: printable ASCII kept, `"` `\` `?` and the rest escaped (octal). */
export function cString(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 34) s += '\\"';
    else if (b === 92) s += '\\\\';
    else if (b === 63)
      s += '\\?'; // no trigraphs, ever
    else if (b >= 32 && b < 127) s += String.fromCharCode(b);
    else s += '\\' + b.toString(8).padStart(3, '0');
  }
  return s + '"';
}

/** Comment text cannot end the comment early, span lines, or form a trigraph (`??/` would continue the line). */
export function safeComment(text: string): string {
  return text
    .replace(/\*\//g, '* /')
    .replace(/[\r\n]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\?(?=\?)/g, '? ');
}

function stmtLines(s: CStmt, indent: string, out: Line[], fallback?: number): void {
  const c = (x?: string) => (x ? `  /* ${safeComment(x)} */` : '');
  switch (s.k) {
    case 'decl': {
      const arr = s.array !== undefined ? `[${s.array}]` : '';
      const sep = s.type.endsWith('*') ? '' : ' ';
      const init = s.init ? ` = ${printExpr(s.init, 2)}` : '';
      out.push({ text: `${indent}${s.type}${sep}${s.name}${arr}${init};${c(s.comment)}`, src: s.src ?? fallback });
      return;
    }
    case 'expr':
      out.push({ text: `${indent}${printExpr(s.e)};${c(s.comment)}`, src: s.src ?? fallback });
      return;
    case 'return':
      out.push({ text: `${indent}return${s.e ? ' ' + printExpr(s.e) : ''};`, src: s.src ?? fallback });
      return;
    case 'comment':
      out.push({ text: `${indent}/* ${safeComment(s.text)} */` });
      return;
    case 'break':
      out.push({ text: `${indent}break;`, src: fallback });
      return;
    case 'continue':
      out.push({ text: `${indent}continue;`, src: fallback });
      return;
    case 'for': {
      const src = s.src ?? fallback;
      if (s.init.k !== 'decl') throw new Error('internal: a for loop starts with a declaration');
      const init = `${s.init.type} ${s.init.name}${s.init.init ? ` = ${printExpr(s.init.init, 2)}` : ''}`;
      out.push({ text: `${indent}for (${init}; ${printExpr(s.cond)}; ${printExpr(s.step)}) {${c(s.comment)}`, src });
      for (const b of s.body) stmtLines(b, indent + '\t', out, src);
      out.push({ text: `${indent}}` });
      return;
    }
    case 'block':
      out.push({ text: `${indent}{${c(s.comment)}` });
      for (const b of s.body) stmtLines(b, indent + '\t', out, fallback);
      out.push({ text: `${indent}}` });
      return;
    case 'if': {
      const src = s.src ?? fallback;
      out.push({ text: `${indent}if (${printExpr(s.c)}) {`, src });
      for (const b of s.then) stmtLines(b, indent + '\t', out, src);
      if (s.else && s.else.length) {
        out.push({ text: `${indent}} else {` });
        for (const b of s.else) stmtLines(b, indent + '\t', out, src);
      }
      out.push({ text: `${indent}}` });
      return;
    }
  }
}

function structLines(s: CStruct, out: Line[]): void {
  if (s.comment) out.push({ text: `/* ${safeComment(s.comment)} */` });
  out.push({ text: `${s.kind} ${s.name} {` });
  for (const f of s.fields) {
    const arr = f.array !== undefined ? `[${f.array}]` : '';
    const sep = f.type.endsWith('*') ? '' : ' ';
    out.push({ text: `\t${f.type}${sep}${f.name}${arr};${f.comment ? `  /* ${safeComment(f.comment)} */` : ''}` });
  }
  out.push({ text: '};' });
  if (s.assertLayout) {
    for (const f of s.fields)
      out.push({
        text: `_Static_assert(__builtin_offsetof(${s.kind} ${s.name}, ${f.name}) == ${f.offset}, "layout of ${s.name}.${f.name}");`,
      });
    out.push({ text: `_Static_assert(sizeof(${s.kind} ${s.name}) == ${s.size}, "size of ${s.name}");` });
  }
  out.push({ text: '' });
}

function functionLines(f: CFunction, out: Line[]): void {
  if (f.comment) out.push({ text: `/* ${safeComment(f.comment)} */` });
  if (f.section !== undefined) {
    out.push({ text: `SEC(${cString(new TextEncoder().encode(f.section))})` });
    out.push({ text: `${f.returns ?? 'int'} ${f.name}(${f.params})` });
  } else {
    out.push({ text: `static ${f.returns ?? 'int'} ${f.name}(${f.params})` });
  }
  out.push({ text: '{' });
  for (const s of f.body) stmtLines(s, '\t', out, f.src);
  out.push({ text: '}' });
  out.push({ text: '' });
}

export interface PrintOptions {
  /** Name the generated C file has on disk (for #line directives back into it). */
  cFileName: string;
  lineDirectives: boolean;
}

export function printProgram(p: CProgram, opts: PrintOptions): string {
  const out: Line[] = [];
  out.push({ text: `/* Generated by capc from ${safeComment(p.sourceName)}. Do not edit: edit the .cap file. */` });
  for (const inc of p.includes) out.push({ text: `#include ${cString(new TextEncoder().encode(inc))}` });
  out.push({ text: '' });
  for (const d of p.defines)
    out.push({ text: `#define ${d.name} ${d.value}${d.comment ? `  /* ${safeComment(d.comment)} */` : ''}` });
  if (p.defines.length) out.push({ text: '' });
  for (const inc of p.lateIncludes) out.push({ text: `#include ${cString(new TextEncoder().encode(inc))}` });
  if (p.lateIncludes.length) out.push({ text: '' });
  for (const s of p.structs) structLines(s, out);
  for (const m of p.maps) {
    if (m.comment) out.push({ text: `/* ${safeComment(m.comment)} */` });
    out.push({ text: 'struct {' });
    out.push({ text: `\t__uint(type, ${m.type});` });
    out.push({ text: `\t__uint(max_entries, ${m.maxEntries});` });
    if (m.flags) out.push({ text: `\t__uint(map_flags, ${m.flags});` });
    if (m.key) out.push({ text: `\t__type(key, ${m.key});` });
    if (m.value) out.push({ text: `\t__type(value, ${m.value});` });
    if (m.keySize) out.push({ text: `\t__uint(key_size, ${m.keySize});` });
    if (m.valueSize) out.push({ text: `\t__uint(value_size, ${m.valueSize});` });
    out.push({ text: `} ${m.name} SEC(".maps");` });
    out.push({ text: '' });
  }
  for (const g of p.globals) {
    if (g.comment) out.push({ text: `/* ${safeComment(g.comment)} */` });
    const sec = g.section ? ` SEC(${cString(new TextEncoder().encode(g.section))})` : '';
    const attr = g.attribute ? ` ${g.attribute}` : '';
    out.push({ text: `${g.type} ${g.name}${sec}${attr}${g.init !== undefined ? ` = ${g.init}` : ''};` });
    out.push({ text: '' });
  }
  for (const f of p.functions) functionLines(f, out);
  out.push({ text: 'char LICENSE[] SEC("license") = "GPL";' });
  return (
    (opts.lineDirectives ? withLineDirectives(out, p.sourceName, opts.cFileName) : out.map((l) => l.text)).join('\n') +
    '\n'
  );
}

/** Insert `#line` directives so each line maps to its .cap line, or back to its own C line. */
function withLineDirectives(lines: Line[], capName: string, cName: string): string[] {
  const cap = cString(new TextEncoder().encode(capName));
  const cfile = cString(new TextEncoder().encode(cName));
  const result: string[] = [];
  let impliedFile: 'c' | 'cap' = 'c';
  let impliedLine = 1; // line number clang assigns to the next line of output
  for (const l of lines) {
    const want: ['c' | 'cap', number] = l.src !== undefined ? ['cap', l.src] : ['c', result.length + 1];
    // Blank and brace-only lines carry no code: never worth a directive.
    const trivial = /^\s*(?:[{}]|\}\s*else\s*\{)?\s*(?:\/\*.*\*\/)?\s*$/.test(l.text);
    if (!trivial && (want[0] !== impliedFile || want[1] !== impliedLine)) {
      if (want[0] === 'c') {
        result.push(`#line ${result.length + 2} ${cfile}`);
        impliedLine = result.length + 1;
      } else {
        result.push(`#line ${want[1]} ${cap}`);
        impliedLine = want[1];
      }
      impliedFile = want[0];
    }
    result.push(l.text);
    impliedLine++;
  }
  return result;
}
