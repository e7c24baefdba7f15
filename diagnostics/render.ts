// diagnostics/render.ts — turns diagnostics into the text users read:
//
//   opensnoop.cap:3:20: error[E0201]: unknown identifier 'cmm'
//      3 | tracepoint:syscalls:sys_enter_openat /cmm == "cat"/ {
//        |                                       ^^^
//        = hint: did you mean 'comm'?
//
// Pure: colouring is a function the caller passes (identity by default).
import type { Diagnostic } from './diagnostic.js';
import type { SourceFile } from './source.js';

export type Paint = (style: 'error' | 'warning' | 'note' | 'bold' | 'dim' | 'caret', text: string) => string;
const plain: Paint = (_s, t) => t;

export function renderDiagnostic(d: Diagnostic, source: SourceFile | undefined, paint: Paint = plain): string {
  const out: string[] = [];
  const sev = paint(d.severity, `${d.severity}[${d.code}]`);
  const where = d.span && source ? `${source.name}:${d.span.line}:${d.span.col}: ` : source ? `${source.name}: ` : '';
  out.push(`${paint('bold', where)}${sev}: ${paint('bold', d.message)}`);
  if (d.span && source) {
    const lines = source.text.split('\n');
    const lineText = (lines[d.span.line - 1] ?? '').replace(/\t/g, ' ');
    const num = String(d.span.line);
    const gutter = ' '.repeat(num.length + 1);
    const startCol = d.span.col;
    // Multi-line spans are underlined to the end of their first line.
    const endCol = d.span.endLine === d.span.line ? Math.max(d.span.endCol, startCol + 1) : lineText.length + 1;
    const width = Math.max(1, Math.min(endCol, lineText.length + 2) - startCol);
    out.push(`${paint('dim', ` ${num} |`)} ${lineText}`);
    out.push(
      `${paint('dim', `${gutter} |`)} ${' '.repeat(Math.max(0, startCol - 1))}${paint('caret', '^'.repeat(width))}`,
    );
  }
  for (const h of d.hints)
    out.push(`${' '.repeat(d.span ? String(d.span.line).length + 2 : 2)}= ${paint('note', 'hint')}: ${h}`);
  return out.join('\n');
}

export function renderDiagnostics(
  ds: readonly Diagnostic[],
  source: SourceFile | undefined,
  paint: Paint = plain,
): string {
  return ds.map((d) => renderDiagnostic(d, source, paint)).join('\n\n');
}
