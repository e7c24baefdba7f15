// runtime/host/dwarf.ts — the types in a binary's DWARF (read with libdw,
// runtime/ffi/libdw.ts), in the compiler's C type shapes (compiler/host.ts):
// a function's parameters (`args.NAME` on uprobes, `capc list -v`) and
// records, enums and typedefs by name (casts, sizeof). The same reader lays
// out the C definitions of a script: clang compiles them with -g
// (runtime/host/c-definitions.ts) and this reads what clang laid out, bitfields
// and padding included. Names are indexed once per file (top-level DIEs of
// every compile unit); types are read when asked.
import fs from 'node:fs';
import type { CField, CTypeDecl, CTypeRef, DwarfParam } from '../../compiler/index.js';
import { ATTR_SIZE, DIE_SIZE, DW_AT, DW_ATE, DW_TAG, libdw } from '../ffi/libdw.js';

type Die = Buffer;

export class DwarfFile {
  private readonly dw: unknown;
  private readonly fd: number;
  /** Functions (defined, not declared) by name, and types by `struct NAME` / `union NAME` / `enum NAME` / NAME. */
  private readonly funcs = new Map<string, bigint>();
  private readonly types = new Map<string, bigint>();
  /** Enum constants of every enum, by name (the script may name them). */
  readonly constants = new Map<string, string>();
  private closed = false;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'r');
    const dw = libdw().begin(this.fd, 0 /* DWARF_C_READ */);
    if (!dw) {
      fs.closeSync(this.fd);
      throw new Error(`${file} has no DWARF debug information (build it with -g)`);
    }
    this.dw = dw;
    this.index();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libdw().end(this.dw);
    fs.closeSync(this.fd);
  }

  /** Names of the functions the DWARF describes. */
  functionNames(): string[] {
    return [...this.funcs.keys()];
  }

  /** Every type name the DWARF defines (`struct NAME`, `enum NAME`, typedefs). */
  typeNames(): string[] {
    return [...this.types.keys()];
  }

  private index(): void {
    const d = libdw();
    const next = [0n];
    const hdr = [0n];
    let off = 0n;
    const cu = Buffer.alloc(DIE_SIZE);
    const child = Buffer.alloc(DIE_SIZE);
    for (let guard = 0; guard < 1 << 20; guard++) {
      if (d.nextcu(this.dw, off, next, hdr, [0n], [0], [0]) !== 0) break;
      const cuOff = off + BigInt(hdr[0]!);
      off = BigInt(next[0]!);
      if (!d.offdie(this.dw, cuOff, cu)) continue;
      if (d.child(cu, child) !== 0) continue;
      do this.indexDie(child);
      while (d.siblingof(child, child) === 0);
    }
  }

  private indexDie(die: Die): void {
    const d = libdw();
    const tag = d.tag(die) as number;
    const name = d.diename(die) as string | null;
    const offset = BigInt(d.dieoffset(die) as number | bigint);
    if (tag === DW_TAG.subprogram) {
      if (name && !this.flag(die, DW_AT.declaration) && !this.funcs.has(name)) this.funcs.set(name, offset);
      return;
    }
    if (tag === DW_TAG.enumeration_type) this.indexEnumerators(die);
    if (!name) return;
    const key = declKey(tag, name);
    if (!key || this.types.has(key)) return;
    // A declaration (`struct x;`) is kept only until a definition replaces it.
    if (this.flag(die, DW_AT.declaration)) return;
    this.types.set(key, offset);
  }

  private indexEnumerators(die: Die): void {
    const d = libdw();
    const c = Buffer.alloc(DIE_SIZE);
    if (d.child(die, c) !== 0) return;
    do {
      if (d.tag(c) !== DW_TAG.enumerator) continue;
      const n = d.diename(c) as string | null;
      const v = this.sdata(c, DW_AT.const_value);
      if (n && v !== undefined && !this.constants.has(n)) this.constants.set(n, String(v));
    } while (d.siblingof(c, c) === 0);
  }

  /** A function's parameters, or undefined when the DWARF has no such function. */
  functionParams(name: string): DwarfParam[] | undefined {
    const off = this.funcs.get(name);
    if (off === undefined) return undefined;
    const d = libdw();
    const die = this.die(off);
    const c = Buffer.alloc(DIE_SIZE);
    const out: DwarfParam[] = [];
    if (d.child(die, c) !== 0) return out;
    do {
      if (d.tag(c) !== DW_TAG.formal_parameter) continue;
      out.push({ name: (d.diename(c) as string | null) ?? '', type: this.typeOf(c), text: this.typeText(c) });
    } while (d.siblingof(c, c) === 0);
    return out;
  }

  /** A type by name: `struct NAME`, `union NAME`, `enum NAME`, a typedef, or `struct (anon OFFSET)`. */
  type(name: string): CTypeDecl | undefined {
    const anon = /^(?:struct|union|enum) \(anon (\d+)\)$/.exec(name);
    const off = anon ? BigInt(anon[1]!) : this.types.get(name);
    if (off === undefined) return undefined;
    const die = this.die(off);
    const tag = libdw().tag(die) as number;
    if (tag === DW_TAG.structure_type || tag === DW_TAG.union_type) return this.record(die, off);
    if (tag === DW_TAG.enumeration_type) return this.enumDecl(die, off);
    if (tag === DW_TAG.typedef) return { k: 'typedef', name, type: this.typeOf(die) };
    return undefined;
  }

  private record(die: Die, off: bigint): CTypeDecl {
    const d = libdw();
    const union = d.tag(die) === DW_TAG.union_type;
    const fields: CField[] = [];
    const c = Buffer.alloc(DIE_SIZE);
    if (d.child(die, c) === 0) {
      do {
        if (d.tag(c) !== DW_TAG.member) continue;
        const type = this.typeOf(c);
        const f: CField = { name: (d.diename(c) as string | null) ?? '', offset: 0, type };
        const bitSize = this.udata(c, DW_AT.bit_size);
        const dataBit = this.udata(c, DW_AT.data_bit_offset);
        const loc = this.udata(c, DW_AT.data_member_location) ?? 0n;
        if (bitSize !== undefined) {
          let bit: bigint;
          if (dataBit !== undefined) bit = dataBit;
          else {
            // DWARF 2/3: DW_AT_bit_offset counts from the most significant bit of the storage unit.
            const unit = this.udata(c, DW_AT.byte_size) ?? BigInt(sizeOfRef(type));
            bit = loc * 8n + unit * 8n - (this.udata(c, DW_AT.bit_offset) ?? 0n) - bitSize;
          }
          f.offset = Number(bit / 8n);
          f.bitOffset = Number(bit % 8n);
          f.bitSize = Number(bitSize);
        } else f.offset = Number(loc);
        fields.push(f);
      } while (d.siblingof(c, c) === 0);
    }
    const name = (d.diename(die) as string | null) ?? `(anon ${off})`;
    return { k: 'record', record: { union, name, size: Number(this.udata(die, DW_AT.byte_size) ?? 0n), fields } };
  }

  private enumDecl(die: Die, off: bigint): CTypeDecl {
    const d = libdw();
    const values: { name: string; value: string }[] = [];
    const c = Buffer.alloc(DIE_SIZE);
    if (d.child(die, c) === 0) {
      do {
        if (d.tag(c) !== DW_TAG.enumerator) continue;
        values.push({
          name: (d.diename(c) as string | null) ?? '',
          value: String(this.sdata(c, DW_AT.const_value) ?? 0n),
        });
      } while (d.siblingof(c, c) === 0);
    }
    const base = this.typeOf(die);
    const signed = base.k === 'int' ? base.signed : values.some((v) => v.value.startsWith('-'));
    return {
      k: 'enum',
      name: (d.diename(die) as string | null) ?? `(anon ${off})`,
      bytes: intBytes(Number(this.udata(die, DW_AT.byte_size) ?? 4n)),
      signed,
      values,
    };
  }

  /** The type a DIE's DW_AT_type names (void when it has none). */
  private typeOf(die: Die, depth = 0): CTypeRef {
    const d = libdw();
    const attr = Buffer.alloc(ATTR_SIZE);
    if (!d.attrIntegrate(die, DW_AT.type, attr)) return { k: 'void' };
    const t = Buffer.alloc(DIE_SIZE);
    if (!d.formrefDie(attr, t)) return { k: 'void' };
    return this.toRef(t, depth + 1);
  }

  private toRef(t: Die, depth: number): CTypeRef {
    if (depth > 48) return { k: 'other', name: '...', bytes: 0 };
    const d = libdw();
    const tag = d.tag(t) as number;
    const name = d.diename(t) as string | null;
    switch (tag) {
      case DW_TAG.base_type: {
        const enc = Number(this.udata(t, DW_AT.encoding) ?? 0n);
        const bytes = Number(this.udata(t, DW_AT.byte_size) ?? 0n);
        if (enc === DW_ATE.boolean) return { k: 'bool' };
        if (enc === DW_ATE.float || (bytes !== 1 && bytes !== 2 && bytes !== 4 && bytes !== 8))
          return { k: 'other', name: name ?? '?', bytes };
        // Plain `char` arrays are strings (bpftrace's rule); signed/unsigned char arrays are arrays of bytes.
        const char = (enc === DW_ATE.signed_char || enc === DW_ATE.unsigned_char) && name === 'char';
        const signed = enc === DW_ATE.signed || enc === DW_ATE.signed_char;
        return { k: 'int', bytes, signed, name: name ?? undefined, ...(char ? { char: true } : {}) };
      }
      case DW_TAG.pointer_type:
        return { k: 'ptr', to: this.typeOf(t, depth) };
      case DW_TAG.structure_type:
      case DW_TAG.union_type:
        return {
          k: 'record',
          union: tag === DW_TAG.union_type,
          name: name ?? `(anon ${BigInt(d.dieoffset(t) as number | bigint)})`,
        };
      case DW_TAG.enumeration_type: {
        const base = this.typeOf(t, depth);
        return {
          k: 'enum',
          name: name ?? `(anon ${BigInt(d.dieoffset(t) as number | bigint)})`,
          bytes: intBytes(Number(this.udata(t, DW_AT.byte_size) ?? 4n)),
          signed: base.k === 'int' ? base.signed : false,
        };
      }
      case DW_TAG.typedef: {
        const inner = this.typeOf(t, depth);
        return inner.k === 'int' && name ? { ...inner, name } : inner;
      }
      case DW_TAG.const_type:
      case DW_TAG.volatile_type:
      case DW_TAG.restrict_type:
      case DW_TAG.atomic_type:
        return this.typeOf(t, depth);
      case DW_TAG.array_type: {
        let elem = this.typeOf(t, depth);
        // One subrange per dimension: int a[2][3] is an array of 2 arrays of 3.
        const dims: number[] = [];
        const c = Buffer.alloc(DIE_SIZE);
        if (d.child(t, c) === 0) {
          do {
            if (d.tag(c) !== DW_TAG.subrange_type) continue;
            const count = this.udata(c, DW_AT.count);
            const upper = this.udata(c, DW_AT.upper_bound);
            dims.push(count !== undefined ? Number(count) : upper !== undefined ? Number(upper) + 1 : 0);
          } while (d.siblingof(c, c) === 0);
        }
        for (const n of dims.reverse()) elem = { k: 'array', elem, count: n };
        return elem;
      }
      case DW_TAG.subroutine_type:
        return { k: 'func' };
      default:
        return { k: 'other', name: name ?? `tag ${tag}`, bytes: 0 };
    }
  }

  /** How the type a DIE's DW_AT_type names is spelled, as bpftrace prints it: `const int*`, `struct conn*`, `point_t*`. */
  private typeText(die: Die, depth = 0): string {
    const d = libdw();
    const attr = Buffer.alloc(ATTR_SIZE);
    const t = Buffer.alloc(DIE_SIZE);
    if (depth > 16 || !d.attrIntegrate(die, DW_AT.type, attr) || !d.formrefDie(attr, t)) return 'void';
    const name = d.diename(t) as string | null;
    switch (d.tag(t) as number) {
      case DW_TAG.pointer_type:
        return `${this.typeText(t, depth + 1)}*`;
      case DW_TAG.const_type:
        return `const ${this.typeText(t, depth + 1)}`;
      case DW_TAG.volatile_type:
        return `volatile ${this.typeText(t, depth + 1)}`;
      case DW_TAG.restrict_type:
      case DW_TAG.atomic_type:
        return this.typeText(t, depth + 1);
      case DW_TAG.structure_type:
        return `struct ${name ?? '(anonymous)'}`;
      case DW_TAG.union_type:
        return `union ${name ?? '(anonymous)'}`;
      case DW_TAG.enumeration_type:
        return `enum ${name ?? '(anonymous)'}`;
      case DW_TAG.array_type:
        return `${this.typeText(t, depth + 1)}[]`;
      case DW_TAG.subroutine_type:
        return 'void (*)()';
      default:
        return name ?? '?';
    }
  }

  private die(off: bigint): Die {
    const die = Buffer.alloc(DIE_SIZE);
    if (!libdw().offdie(this.dw, off, die)) throw new Error(`no DWARF entry at offset ${off}`);
    return die;
  }

  private flag(die: Die, at: number): boolean {
    return libdw().hasattr(die, at) === 1;
  }

  private udata(die: Die, at: number): bigint | undefined {
    const d = libdw();
    const attr = Buffer.alloc(ATTR_SIZE);
    if (!d.attrIntegrate(die, at, attr)) return undefined;
    const v = [0n];
    if (d.formudata(attr, v) !== 0) return undefined;
    return BigInt(v[0]!);
  }

  private sdata(die: Die, at: number): bigint | undefined {
    const d = libdw();
    const attr = Buffer.alloc(ATTR_SIZE);
    if (!d.attrIntegrate(die, at, attr)) return undefined;
    const v = [0n];
    if (d.formsdata(attr, v) !== 0) {
      const u = [0n];
      return d.formudata(attr, u) === 0 ? BigInt(u[0]!) : undefined;
    }
    return BigInt(v[0]!);
  }
}

function declKey(tag: number, name: string): string | undefined {
  switch (tag) {
    case DW_TAG.structure_type:
      return `struct ${name}`;
    case DW_TAG.union_type:
      return `union ${name}`;
    case DW_TAG.enumeration_type:
      return `enum ${name}`;
    case DW_TAG.typedef:
      return name;
    default:
      return undefined;
  }
}

function intBytes(n: number): 1 | 2 | 4 | 8 {
  return n === 1 || n === 2 || n === 4 ? n : 8;
}

/** Size of a scalar type reference (only what a bitfield's unit can be). */
function sizeOfRef(t: CTypeRef): number {
  return t.k === 'int' || t.k === 'enum' ? t.bytes : t.k === 'bool' ? 1 : 8;
}
