// runtime/files/trust-warnings.ts — warnings about paths capc refused to trust
// (a cache another user could write, a tool on PATH in a directory others can
// write). Each is said once per process. The CLI installs a sink that renders
// them as diagnostics on stderr; until it does, they go to stderr as text.
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../../diagnostics/catalogue.js';

type Sink = (d: Diagnostic) => void;

const said = new Set<string>();
let sink: Sink = (d) =>
  process.stderr.write(`warning[${d.code}]: ${d.message}\n${d.hints.map((h) => `  = hint: ${h}\n`).join('')}`);

export function setTrustWarningSink(s: Sink): void {
  sink = s;
}

export function warnOnce(code: DiagnosticCode, message: string, hints: string[] = []): void {
  const id = `${code} ${message}`;
  if (said.has(id)) return;
  said.add(id);
  sink({ code, severity: 'warning', message, hints });
}
