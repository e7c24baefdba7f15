// compiler/3-lower/c-ir.ts — the C program lowering produces and the emitter
// prints: a small, typed subset of C. Every name and type in it is generated
// by the compiler; user text reaches it only as escaped string literals
// (`strlit`) or escaped comments, never as raw C.

/** Source line of a .cap statement, carried to the printer for #line directives. */
export type Src = number | undefined;

export type CExpr =
  | { k: 'num'; v: bigint; unsigned?: boolean; /** printed with LL so C arithmetic on it is 64-bit */ wide?: boolean }
  | { k: 'id'; name: string }
  | { k: 'char'; v: number }
  | { k: 'strlit'; bytes: Uint8Array }
  | { k: 'bin'; op: string; l: CExpr; r: CExpr }
  | { k: 'un'; op: string; e: CExpr }
  | { k: 'call'; fn: string; args: CExpr[] }
  | { k: 'member'; e: CExpr; field: string; arrow: boolean }
  | { k: 'index'; e: CExpr; i: CExpr }
  | { k: 'cast'; type: string; e: CExpr }
  | { k: 'cond'; c: CExpr; t: CExpr; f: CExpr }
  | { k: 'sizeof'; of: string }
  /** `{}`: zero-initialiser for a struct declaration. */
  | { k: 'zeroinit' }
  /** `{ .a = x, .b = y }`: designated initialiser. */
  | { k: 'init'; fields: [string, CExpr][] };

export type CStmt =
  | { k: 'decl'; type: string; name: string; array?: number; init?: CExpr; src?: Src; comment?: string }
  | { k: 'expr'; e: CExpr; src?: Src; comment?: string }
  | { k: 'if'; c: CExpr; then: CStmt[]; else?: CStmt[]; src?: Src }
  | { k: 'block'; body: CStmt[]; comment?: string }
  | { k: 'return'; e?: CExpr; src?: Src }
  /** `for (init; cond; step) { body }`: loops always have a constant trip count (R6). */
  | { k: 'for'; init: CStmt; cond: CExpr; step: CExpr; body: CStmt[]; src?: Src; comment?: string }
  | { k: 'break' }
  | { k: 'continue' }
  | { k: 'comment'; text: string };

export interface CField {
  name: string;
  /** Element type (e.g. `__u64`, `char`); `array` makes it `type name[array]`. */
  type: string;
  array?: number;
  offset: number;
  size: number;
  comment?: string;
}

export interface CStruct {
  kind: 'struct' | 'union';
  name: string;
  fields: CField[];
  size: number;
  comment?: string;
  /** Emit _Static_assert for each field offset and the size (layouts the runtime decodes). */
  assertLayout: boolean;
}

export interface CMapDecl {
  name: string;
  type: string; // BPF_MAP_TYPE_*
  key?: string;
  value?: string;
  /** Sizes instead of types (stack trace maps). */
  keySize?: number;
  valueSize?: number;
  maxEntries: number;
  /** map_flags, e.g. BPF_F_NO_PREALLOC. */
  flags?: string;
  comment?: string;
}

export interface CGlobal {
  /** e.g. `const volatile struct capc_ro` */
  type: string;
  name: string;
  /** An ELF section (libbpf makes each .rodata.* / .data.* its own map); default .bss. */
  section?: string;
  /** Without an initialiser: a declaration (an extern). */
  init?: string;
  /** After the name, e.g. `__ksym` (a kernel symbol libbpf resolves at load time). */
  attribute?: string;
  comment?: string;
}

export interface CFunction {
  /** ELF section of a BPF program; undefined for a static helper (e.g. a callback). */
  section?: string;
  /** Return type; `int` for programs. */
  returns?: string;
  name: string;
  /** Parameter list, e.g. `struct pt_regs *ctx`. */
  params: string;
  body: CStmt[];
  comment?: string;
  src?: Src;
}

export interface CProgram {
  /** Name of the .cap file, for the header comment and #line directives. */
  sourceName: string;
  includes: string[];
  defines: { name: string; value: string; comment?: string }[];
  /** Headers included after the defines (they read them). */
  lateIncludes: string[];
  structs: CStruct[];
  maps: CMapDecl[];
  globals: CGlobal[];
  functions: CFunction[];
}

// ---- small constructors, so lowering code reads like the C it makes ----
export const num = (v: number | bigint, unsigned = false): CExpr => ({ k: 'num', v: BigInt(v), unsigned });
export const id = (name: string): CExpr => ({ k: 'id', name });
export const call = (fn: string, ...args: CExpr[]): CExpr => ({ k: 'call', fn, args });
export const bin = (op: string, l: CExpr, r: CExpr): CExpr => ({ k: 'bin', op, l, r });
export const un = (op: string, e: CExpr): CExpr => ({ k: 'un', op, e });
export const arrow = (e: CExpr, field: string): CExpr => ({ k: 'member', e, field, arrow: true });
export const dot = (e: CExpr, field: string): CExpr => ({ k: 'member', e, field, arrow: false });
export const cast = (type: string, e: CExpr): CExpr => ({ k: 'cast', type, e });
export const addr = (e: CExpr): CExpr => ({ k: 'un', op: '&', e });
