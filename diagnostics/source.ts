// diagnostics/source.ts — a source text and a place in it: what every
// diagnostic, AST node and manifest entry points with. Shared by the grammar,
// the compiler and the runtime, so a span means one thing everywhere.

/** A half-open range of source text, with 1-based line/column of both ends. */
export interface Span {
  start: number; // offset of the first character
  end: number; // offset one past the last character
  line: number;
  col: number;
  endLine: number;
  endCol: number; // column one past the last character
}

export interface SourceFile {
  /** Name shown in diagnostics: a path, or `-e` for a program given on the command line. */
  name: string;
  text: string;
  /** Offset in `text` of the first byte sequence that was not valid UTF-8 (decoded as U+FFFD). */
  invalidUtf8At?: number;
}
