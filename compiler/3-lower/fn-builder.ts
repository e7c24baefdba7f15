// compiler/3-lower/fn-builder.ts — builds the C function of one probe
// instance: a stack of statement lists, locals declared once at the top, the
// per-CPU scratch slots the function uses (R5), and the prologue that fetches
// what the body needs (scratch pointer, comm). The lowerers that call back
// into each other (an expression holds a map read whose key holds
// expressions) meet here as Lowerers, given by lower.ts, so their modules
// need not import each other.
import type * as A from '../../grammar/ast.js';
import type { CaptureSite, ProbeInstance } from '../2-analyze/analyzed.js';
import { addr, call, id, num, type CExpr, type CField, type CStmt, type Src } from './c-ir.js';
import type { FieldKind } from './layout.js';
import type { Resources, UserMap } from './resources.js';
import { SCRATCH_MAP } from './resources.js';

/**
 * An integer expression in C. Its C type is 64-bit (`__s64`/`__u64`) unless
 * `narrow`: small literals, comparisons and `!` are `int` in C, and C would do
 * `int` arithmetic on two of them (255 * 1000000000 overflows), so binary
 * arithmetic widens narrow operands first (.cap integers are 64-bit).
 */
export interface IntVal {
  e: CExpr;
  unsigned: boolean;
  narrow?: boolean;
}

export interface Lowerers {
  /** Fill a key of `m` from `keys`; returns a pointer to it (lower-map.ts). */
  mapKey(b: FnBuilder, m: UserMap, keys: A.Expr[] | undefined): CExpr;
  /** An integer expression (lower-expr.ts). */
  int(b: FnBuilder, e: A.Expr): IntVal;
  /** A string expression written into `dst`, `size` bytes with the NUL (lower-expr.ts). */
  strInto(b: FnBuilder, e: A.Expr, dst: CExpr, size: number): void;
  /** An accumulate()/capture() statement at its site (lower-capture.ts); absent when the program does not capture. */
  captureSink?(b: FnBuilder, s: A.SinkStmt, site: CaptureSite): void;
  /** The connection's identity builtins and predicates (lower-identity.ts); absent when no identity is learned. */
  identity?: IdentityReader;
  /** Where a string expression's bytes are (lower-expr.ts): what the string builtins compare. */
  strRef(b: FnBuilder, e: A.Expr): StrRef;
  /** pton()'s constant arrays (lower-strings.ts). */
  strings: StringsLowerer;
}

/** Where a string's bytes are: a pointer expression and its capacity, or literal bytes. */
export type StrRef =
  | { ptr: CExpr; size: number; literal?: undefined }
  | { literal: Uint8Array; size: number; ptr?: undefined };

/** What expressions need of the constant arrays pton() makes (lower-strings.ts). */
export interface StringsLowerer {
  /** An element of pton()'s constant bytes (pton("::1")[15]). */
  constIndex(b: FnBuilder, e: A.IndexExpr): IntVal;
}

/** What expressions need of connection identity (implemented by IdentityLowering, lower-identity.ts). */
export interface IdentityReader {
  /** Copy the connection's identity for the builtins and predicates of this probe. */
  load(b: FnBuilder): void;
  /** lport, rport, fd. */
  value(b: FnBuilder, name: string): { e: CExpr; unsigned: boolean };
  /** laddr, raddr into a printable address at `dst`. */
  inet(name: string, dst: CExpr): CStmt;
  /** `raddr == "10.0.0.0/8"`. */
  addrCompare(e: A.BinaryExpr): { e: CExpr; unsigned: boolean; narrow?: boolean };
  /** A predicate that reads the identity, three-valued while it is unknown. */
  predicate(b: FnBuilder, pred: A.Expr): void;
}

export class FnBuilder {
  private readonly stack: CStmt[][] = [[]];
  private readonly locals: CStmt[] = [];
  private readonly scratchFields: CField[] = [];
  private scratchEnd = 0;
  private counter = 0;
  usesComm = false;
  /** Scratch slots of string variables, by name. */
  readonly strVars = new Map<string, CExpr>();
  /** Scratch slots of variables holding records, tuples and arrays, by name. */
  readonly compositeVars = new Map<string, CExpr>();
  /** Scratch slots of variables holding a value capc resolves (ntop(), kstack...) or buf() bytes: `slot.v`. */
  readonly heldVars = new Map<string, { slot: CExpr; what: FieldKind; size: number }>();
  /** .cap line of the statement being lowered. */
  src: Src;
  /**
   * The program's own context, for helpers that need it (bpf_get_stackid).
   * `ctx` is the probe's record; in a syscall probe run from a raw tracepoint
   * (lower-syscalls.ts) the record is rebuilt and the context is `capc_pctx`.
   */
  progCtx: CExpr = id('ctx');

  constructor(
    readonly inst: ProbeInstance,
    readonly res: Resources,
    readonly lowerers: Lowerers,
  ) {}

  get scratchMember(): string {
    return `p${this.inst.id}`;
  }

  emit(...stmts: CStmt[]): void {
    for (const s of stmts) {
      if ((s.k === 'expr' || s.k === 'decl' || s.k === 'if' || s.k === 'return') && s.src === undefined)
        s.src = this.src;
      this.stack[this.stack.length - 1]!.push(s);
    }
  }

  /** Collect the statements `fn` emits into a separate list. */
  collect(fn: () => void): CStmt[] {
    this.stack.push([]);
    fn();
    return this.stack.pop()!;
  }

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  /** Declare a local at the top of the function (zero-initialised: no uninitialised reads). */
  local(type: string, name: string, opts: { array?: number; comment?: string } = {}): CExpr {
    this.locals.push({
      k: 'decl',
      type,
      name,
      array: opts.array,
      init: opts.array === undefined ? num(0) : undefined,
      comment: opts.comment,
    });
    return id(name);
  }

  private readonly ctxReads = new Map<string, CStmt[]>();

  /**
   * A value read from the probe's context (a register, a tracepoint field),
   * loaded once at the top of the function and pinned with barrier_var().
   * Left where it is used, clang may merge two context loads in the arms of
   * a `?:` into one load through `ctx + (c ? off1 : off2)`, which the
   * verifier refuses ("dereference of modified ctx ptr").
   */
  ctxValue(key: string, type: string, read: CExpr): CExpr {
    const name = `ctx_${key.replace(/\W/g, '_')}`;
    if (!this.ctxReads.has(name)) {
      this.ctxReads.set(name, [
        { k: 'decl', type, name, init: read },
        {
          k: 'expr',
          e: call('barrier_var', id(name)),
          comment: 'keep the context load here (verifier: no modified ctx pointers)',
        },
      ]);
    }
    return id(name);
  }

  /** A slot in this function's part of the per-CPU scratch area; returns `scratch->pN.name`. */
  scratch(name: string, type: string, size: number, array?: number, align = 8): CExpr {
    this.scratchEnd = Math.ceil(this.scratchEnd / align) * align;
    this.scratchFields.push({ name, type, array, offset: this.scratchEnd, size });
    this.scratchEnd += size;
    return {
      k: 'member',
      e: { k: 'member', e: id('scratch'), field: this.scratchMember, arrow: true },
      field: name,
      arrow: false,
    };
  }

  get body(): CStmt[] {
    return this.stack[0]!;
  }

  /** Statements that run before anything else (the exit() guard). */
  readonly guard: CStmt[] = [];

  /** Guard, prologue (scratch lookup, comm, locals), then the body and `return 0`. */
  finish(): { body: CStmt[]; scratch?: { member: string; fields: CField[]; size: number } } {
    const pro: CStmt[] = [...this.guard];
    let scratch: { member: string; fields: CField[]; size: number } | undefined;
    if (this.scratchFields.length) {
      scratch = { member: this.scratchMember, fields: this.scratchFields, size: Math.ceil(this.scratchEnd / 8) * 8 };
      pro.push({ k: 'decl', type: '__u32', name: 'zero', init: num(0) });
      pro.push({
        k: 'decl',
        type: 'union capc_scratch *',
        name: 'scratch',
        init: call('bpf_map_lookup_elem', addr(id(SCRATCH_MAP)), addr(id('zero'))),
        comment: 'R5: large values live in per-CPU scratch',
      });
      pro.push({ k: 'if', c: { k: 'un', op: '!', e: id('scratch') }, then: [{ k: 'return', e: num(0) }] });
    }
    if (this.usesComm) {
      pro.push({ k: 'decl', type: 'char', name: 'comm', array: 16 });
      pro.push({ k: 'expr', e: call('bpf_get_current_comm', id('comm'), { k: 'sizeof', of: 'comm' }) });
    }
    for (const reads of this.ctxReads.values()) pro.push(...reads);
    pro.push(...this.locals);
    return { body: [...pro, ...this.body, { k: 'return', e: num(0) }], scratch };
  }
}
