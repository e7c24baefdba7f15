// compiler/2-analyze/c-definitions.ts — the script's C (`#include`,
// `#define`, struct/union/enum/typedef before the probes), as the collect
// pass hands it to the host: every piece at its own line and column (#line
// markers, indentation kept), so what clang says about it points at the
// script, and the names the script uses that may be macros or enum
// constants. Files given with --include come first (under INCLUDE_MARK, so
// clang's complaints about them say so), -I directories go to clang as its
// search path. The answer becomes the type table every later check asks.
import type * as A from '../../grammar/ast.js';
import { forEachExprIn } from '../../grammar/walk.js';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import { BUILTIN_VARS } from './builtins.js';
import { TypeTable } from './type-table.js';

/** The file names clang reports the script's lines and the --include lines under (runtime/build/c-definitions.ts knows them). */
const SCRIPT_MARK = 'capc-script';
const INCLUDE_MARK = 'capc-include';

/** -I DIR and --include FILE from the command line. */
export interface Includes {
  dirs: string[];
  files: string[];
}

export function collectTypes(
  program: A.Program,
  source: A.SourceFile,
  host: Host,
  bag: DiagnosticBag,
  includes: Includes = { dirs: [], files: [] },
): TypeTable {
  const chunks = program.items.filter((i): i is A.CDefsItem => i.kind === 'CDefs');
  if (!chunks.length && !includes.files.length) return new TypeTable(host);
  // --include FILE: `#include "FILE"` before the script's C, as clang's -include puts it.
  const forced = includes.files.length
    ? `#line 1 "${INCLUDE_MARK}"\n${includes.files.map((f) => `#include "${f}"\n`).join('')}`
    : '';
  const text =
    forced +
    chunks.map((c) => `#line ${c.span.line} "${SCRIPT_MARK}"\n${' '.repeat(c.span.col - 1)}${c.text}\n`).join('');
  const defs = host.cDefinitions(text, namesUsed(program), includes.dirs);
  if (!defs.ok) {
    for (const e of defs.errors) {
      // Errors of no script line (an --include file, clang itself): at the first C line, or the program's start.
      const span = e.line ? spanAt(source, e.line, e.col) : (chunks[0]?.span ?? spanAt(source, 1, 1));
      bag.add(
        'E0321',
        `the C definitions do not compile: ${e.message}`,
        span,
        /file not found/.test(e.message)
          ? 'headers come from the -I directories, then /usr/include; kernel types need no header: capc reads them from BTF'
          : 'capc hands the C before the probes to clang as it is; fix it as C',
      );
    }
    return new TypeTable(host);
  }
  return new TypeTable(host, defs);
}

/** Identifiers the script uses that are not builtins: macros or enum constants of its C, maybe. */
function namesUsed(program: A.Program): string[] {
  const names = new Set<string>();
  for (const item of program.items) {
    if (item.kind !== 'Probe') continue;
    forEachExprIn(item, (e) => {
      if (e.kind === 'Ident' && !(e.name in BUILTIN_VARS)) names.add(e.name);
    });
  }
  return [...names].sort();
}

/** A one-character span at a 1-based line and column of the source (clamped to the text). */
function spanAt(source: A.SourceFile, line: number, col: number): A.Span {
  const lines = source.text.split('\n');
  const l = Math.min(Math.max(line, 1), lines.length);
  let start = 0;
  for (let i = 0; i < l - 1; i++) start += lines[i]!.length + 1;
  const len = lines[l - 1]!.length;
  const c = Math.min(Math.max(col, 1), Math.max(len, 1));
  const s = start + c - 1;
  const end = Math.min(s + 1, start + Math.max(len, 1));
  return { start: s, end, line: l, col: c, endLine: l, endCol: c + (end - s) };
}
