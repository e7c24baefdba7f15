// compiler/2-analyze/type-table.ts — the type model's names: resolves a type
// written in the script (`struct conn`, `conn_t`, `unsigned long`, `uint32`)
// and the records behind typed pointers, through the three sources of C
// types, in bpftrace's order: the script's own C definitions (laid out by
// clang), then the DWARF of the binary a uprobe probes, then the kernel's
// BTF. Sources answer in the host's shapes (compiler/host.ts); this turns them
// into types.ts's, one record (and one field) at a time, and remembers every
// answer, so a record that reaches thousands of others costs only what the
// script touches. It also holds the script's macros and enum constants.
import type { CDefinitions, CField, CTypeDecl, CTypeRef, DwarfParam, Host } from '../host.js';
import { CAST_INTS, ERROR, inSpace, pointerTo, type AddressSpace, type RecordType, type Type } from './types.js';

/** Where a type comes from: the script's C, a binary's DWARF, the kernel's BTF. */
export type TypeSource = { k: 'c' } | { k: 'dwarf'; path: string } | { k: 'btf' };

export interface RecordField {
  name: string;
  offset: number;
  type: Type;
  bitOffset?: number;
  bitSize?: number;
}

/** C's integer spellings (LP64). */
const C_INTS: Record<string, { bytes: 1 | 2 | 4 | 8; signed: boolean }> = {
  char: { bytes: 1, signed: true },
  'signed char': { bytes: 1, signed: true },
  'unsigned char': { bytes: 1, signed: false },
  short: { bytes: 2, signed: true },
  'short int': { bytes: 2, signed: true },
  'unsigned short': { bytes: 2, signed: false },
  'unsigned short int': { bytes: 2, signed: false },
  int: { bytes: 4, signed: true },
  signed: { bytes: 4, signed: true },
  'signed int': { bytes: 4, signed: true },
  unsigned: { bytes: 4, signed: false },
  'unsigned int': { bytes: 4, signed: false },
  long: { bytes: 8, signed: true },
  'long int': { bytes: 8, signed: true },
  'unsigned long': { bytes: 8, signed: false },
  'unsigned long int': { bytes: 8, signed: false },
  'long long': { bytes: 8, signed: true },
  'long long int': { bytes: 8, signed: true },
  'unsigned long long': { bytes: 8, signed: false },
  'unsigned long long int': { bytes: 8, signed: false },
  bool: { bytes: 1, signed: false },
  _Bool: { bytes: 1, signed: false },
};

export type Resolution = { ok: true; type: Type } | { ok: false; why: string; candidates: string[] };

export class TypeTable {
  private readonly records = new Map<string, { decl: CTypeDecl & { k: 'record' }; source: TypeSource } | null>();
  private readonly fieldCache = new Map<string, Map<string, RecordField | null>>();
  private readonly script: Extract<CDefinitions, { ok: true }> | undefined;

  constructor(
    private readonly host: Host,
    defs?: CDefinitions,
  ) {
    this.script = defs?.ok ? defs : undefined;
  }

  /** An object-like macro of the script, fully expanded (undefined: not a macro). */
  macro(name: string): string | undefined {
    const m = this.script?.macros[name];
    // `#define SOCK_STREAM SOCK_STREAM` (glibc): the name is an enum constant too.
    return m === undefined || m === name ? undefined : m;
  }

  isFunctionMacro(name: string): boolean {
    return !!this.script?.functionMacros.includes(name);
  }

  /** An enum constant the script's C defines, or else the kernel's (BTF). */
  constant(name: string): bigint | undefined {
    const v = this.script?.constants[name] ?? this.host.kernelConstant(name);
    return v === undefined ? undefined : BigInt(v);
  }

  /**
   * A type as written: words (`struct conn`, `unsigned long`, `int32`, `conn_t`)
   * and pointer stars. `binary`: the DWARF of the probed binary is searched too.
   */
  resolve(words: string, pointer: number, space: AddressSpace, binary?: string): Resolution {
    const base = this.resolveBase(words.replace(/\s+/g, ' ').trim(), binary);
    if (!base.ok) return base;
    let t: Type = base.type;
    for (let i = 0; i < pointer; i++) t = pointerTo(t, space);
    return { ok: true, type: inSpace(t, space) };
  }

  private resolveBase(words: string, binary: string | undefined): Resolution {
    const w = words.replace(/^(?:const|volatile) /, '');
    if (w === 'void') return { ok: true, type: { k: 'void' } };
    const int = CAST_INTS[w] ?? C_INTS[w];
    if (int) return { ok: true, type: { k: 'int', ...int } };
    const tag = /^(struct|union|enum) (\S+)$/.exec(w);
    for (const source of this.sources(binary)) {
      const decl = this.declIn(source, w);
      if (!decl) continue;
      if (decl.k === 'enum') return { ok: true, type: { k: 'int', bytes: decl.bytes, signed: decl.signed } };
      if (decl.k === 'typedef') return { ok: true, type: this.fromC(decl.type, source) };
      const r = this.recordType(source, decl.record.union, decl.record.name);
      if (r) return { ok: true, type: r };
    }
    const candidates = this.knownNames(tag ? tag[1] : w);
    return {
      ok: false,
      why: tag
        ? `${w} is not defined: not in the script's C definitions${binary ? ", the binary's debug information" : ''} or the kernel's BTF`
        : `unknown type '${w}'`,
      candidates,
    };
  }

  /** Names the script defines, for "did you mean". */
  private knownNames(_near: string): string[] {
    return Object.keys(this.script?.types ?? {});
  }

  private sources(binary: string | undefined): TypeSource[] {
    const out: TypeSource[] = [];
    if (this.script) out.push({ k: 'c' });
    if (binary) out.push({ k: 'dwarf', path: binary });
    out.push({ k: 'btf' });
    return out;
  }

  private declIn(source: TypeSource, name: string): CTypeDecl | undefined {
    switch (source.k) {
      case 'c':
        return this.script?.types[name];
      case 'dwarf':
        return this.host.dwarfType(source.path, name);
      case 'btf':
        return this.host.kernelType(name);
    }
  }

  private keyOf(source: TypeSource, name: string): string {
    return source.k === 'dwarf' ? `dwarf:${source.path}:${name}` : `${source.k}:${name}`;
  }

  /**
   * The record `union`/`struct` NAME as `source` sees it; a record a source
   * only declares (`struct sock;`) is looked up in the script and the kernel.
   */
  recordType(source: TypeSource, union: boolean, name: string): RecordType | undefined {
    const full = `${union ? 'union' : 'struct'} ${name}`;
    const tried = [source, ...this.sources(undefined).filter((s) => s.k !== source.k)];
    for (const s of tried) {
      const key = this.keyOf(s, full);
      let entry = this.records.get(key);
      if (entry === undefined) {
        const decl = this.declIn(s, full);
        entry = decl?.k === 'record' && decl.record.size > 0 ? { decl, source: s } : null;
        this.records.set(key, entry);
      }
      if (!entry) continue;
      const size = entry.decl.record.size;
      return { k: 'record', key, name: full, size, align: Math.min(8, size & -size || 8) };
    }
    return undefined;
  }

  /** A C type from `source` as a .cap type (records by name, resolved in the same source first). */
  fromC(ref: CTypeRef, source: TypeSource): Type {
    switch (ref.k) {
      case 'int':
        return { k: 'int', bytes: ref.bytes, signed: ref.signed };
      case 'bool':
        return { k: 'int', bytes: 1, signed: false };
      case 'enum':
        return { k: 'int', bytes: ref.bytes, signed: ref.signed };
      case 'void':
      case 'func':
        return { k: 'void' };
      case 'ptr': {
        const to = ref.to.k === 'record' ? this.recordType(source, ref.to.union, ref.to.name) : undefined;
        // A pointer to a record capc cannot find is a pointer to bytes it cannot read (void *).
        return pointerTo(ref.to.k === 'record' ? (to ?? { k: 'void' }) : this.fromC(ref.to, source), 'kernel');
      }
      case 'array': {
        // char name[16] is a string, as in bpftrace.
        if (ref.elem.k === 'int' && ref.elem.char && ref.count > 0) return { k: 'str', size: ref.count };
        return { k: 'array', elem: this.fromC(ref.elem, source), count: ref.count };
      }
      case 'record':
        return this.recordType(source, ref.union, ref.name) ?? ERROR;
      case 'other':
        // float, long double...: kept as bytes so the record's layout stays right.
        return { k: 'array', elem: { k: 'int', bytes: 1, signed: false }, count: ref.bytes };
    }
  }

  private entry(r: RecordType): { decl: CTypeDecl & { k: 'record' }; source: TypeSource } {
    const e = this.records.get(r.key);
    if (!e) throw new Error(`internal: record ${r.name} was not resolved`);
    return e;
  }

  /**
   * Field `name` of record `r`, reached through anonymous members as C does
   * (`sk->__sk_common.skc_family`, `skc_daddr` inside an unnamed union): its
   * offset from the start of `r` and its type, pointers in `r`'s space.
   */
  field(r: RecordType, name: string): RecordField | undefined {
    let cache = this.fieldCache.get(r.key);
    if (!cache) this.fieldCache.set(r.key, (cache = new Map()));
    let f = cache.get(name);
    if (f === undefined) {
      f = this.findField(r, name, 0) ?? null;
      cache.set(name, f);
    }
    if (!f) return undefined;
    return { ...f, type: inSpace(f.type, r.space) };
  }

  private findField(r: RecordType, name: string, depth: number): RecordField | undefined {
    if (depth > 8) return undefined;
    const { decl, source } = this.entry(r);
    const direct = decl.record.fields.find((f) => f.name === name);
    if (direct) return this.convert(direct, source);
    for (const anon of decl.record.fields.filter((f) => f.name === '' && f.type.k === 'record')) {
      const inner = this.fromC(anon.type, source);
      if (inner.k !== 'record') continue;
      const f = this.findField(inner, name, depth + 1);
      if (f) return { ...f, offset: f.offset + anon.offset };
    }
    return undefined;
  }

  private convert(f: CField, source: TypeSource): RecordField {
    const out: RecordField = { name: f.name, offset: f.offset, type: this.fromC(f.type, source) };
    if (f.bitSize) {
      out.bitOffset = f.bitOffset ?? 0;
      out.bitSize = f.bitSize;
    }
    return out;
  }

  /** Every field of `r` in order (anonymous members expanded), for printing a whole record. */
  allFields(r: RecordType): RecordField[] {
    const { decl, source } = this.entry(r);
    const out: RecordField[] = [];
    for (const f of decl.record.fields) {
      const c = this.convert(f, source);
      if (f.name === '' && c.type.k === 'record') {
        for (const inner of this.allFields(c.type)) out.push({ ...inner, offset: inner.offset + f.offset });
      } else out.push({ ...c, type: inSpace(c.type, r.space) });
    }
    return out;
  }

  /** Names of `r`'s fields (anonymous members' too), for "did you mean". */
  fieldNames(r: RecordType): string[] {
    return this.allFields(r).map((f) => f.name);
  }

  /** A function's parameters from a binary's DWARF (undefined: no debug information for it). */
  functionParams(path: string, func: string): DwarfParam[] | undefined {
    return this.host.dwarfFunction(path, func);
  }
}
