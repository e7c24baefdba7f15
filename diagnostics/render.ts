// diagnostics/render.ts — turns diagnostics into the text users read:
//
//   opensnoop.cap:3:20: error[E0201]: unknown identifier 'cmm'
//      3 | tracepoint:syscalls:sys_enter_openat /cmm == "cat"/ {
//        |                                       ^^^
//        = hint: did you mean 'comm'?
//
// Pure: colouring is a function the caller passes (identity by default).
// Text that came from the user (the source line, names and strings quoted in
// messages and hints) can hold control characters: they are shown as escapes
// (\x1b), never sent raw, so a script cannot drive the terminal of whoever
// compiles it (escape injection); the caret still lines up under them.
import type { Diagnostic } from './diagnostic.js';
import type { SourceFile } from './source.js';

export type Paint = (style: 'error' | 'warning' | 'note' | 'bold' | 'dim' | 'caret', text: string) => string;
const plain: Paint = (_s, t) => t;

/** C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with control characters as visible escapes (\x1b, \u202e); tabs and newlines kept. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

export function renderDiagnostic(d: Diagnostic, source: SourceFile | undefined, paint: Paint = plain): string {
  const out: string[] = [];
  const sev = paint(d.severity, `${d.severity}[${d.code}]`);
  const name = source ? escapeControls(source.name) : '';
  const where = d.span && source ? `${name}:${d.span.line}:${d.span.col}: ` : source ? `${name}: ` : '';
  out.push(`${paint('bold', where)}${sev}: ${paint('bold', escapeControls(d.message))}`);
  if (d.span && source) {
    const lines = source.text.split('\n');
    const raw = (lines[d.span.line - 1] ?? '').replace(/\t/g, ' ');
    const num = String(d.span.line);
    const gutter = ' '.repeat(num.length + 1);
    const startCol = d.span.col;
    // Multi-line spans are underlined to the end of their first line.
    const endCol = d.span.endLine === d.span.line ? Math.max(d.span.endCol, startCol + 1) : raw.length + 1;
    const endIn = Math.min(endCol, raw.length + 2);
    // Columns count characters of the source; escapes widen what precedes and what is underlined.
    const before = escapeControls(raw.slice(0, startCol - 1)).length;
    const width = Math.max(
      1,
      escapeControls(raw.slice(startCol - 1, endIn - 1)).length + Math.max(0, endIn - 1 - raw.length),
    );
    out.push(`${paint('dim', ` ${num} |`)} ${escapeControls(raw)}`);
    out.push(`${paint('dim', `${gutter} |`)} ${' '.repeat(Math.max(0, before))}${paint('caret', '^'.repeat(width))}`);
  }
  for (const h of d.hints)
    out.push(
      `${' '.repeat(d.span ? String(d.span.line).length + 2 : 2)}= ${paint('note', 'hint')}: ${escapeControls(h)}`,
    );
  return out.join('\n');
}

export function renderDiagnostics(
  ds: readonly Diagnostic[],
  source: SourceFile | undefined,
  paint: Paint = plain,
): string {
  return ds.map((d) => renderDiagnostic(d, source, paint)).join('\n\n');
}
