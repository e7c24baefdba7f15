// runtime/host/btf.ts — reads the kernel's BTF (/sys/kernel/btf/vmlinux):
// raw tracepoint prototypes (`btf_trace_NAME` typedefs), kernel function
// prototypes (FUNC entries, for fentry/fexit), and the kernel's types by name
// (structs, unions, enums, typedefs) in the compiler's C type shapes
// (compiler/host.ts: CTypeRef, CTypeDecl) for `curtask->pid`, casts to kernel
// structs and sizeof. Types are decoded lazily by id; names are indexed once.
import fs from 'node:fs';
import type { BtfParam, CField, CTypeDecl, CTypeRef } from '../../compiler/index.js';

const KIND = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

interface RawType {
  kind: number;
  name: string;
  vlen: number;
  sizeOrType: number;
  off: number;
  info: number;
}

export class Btf {
  private readonly types: RawType[] = [{ kind: 0, name: 'void', vlen: 0, sizeOrType: 0, off: 0, info: 0 }];
  private readonly funcs = new Map<string, number>();
  private readonly typedefs = new Map<string, number>();
  /** `struct NAME`, `union NAME`, `enum NAME` and typedef NAME → the first type id of that name. */
  private readonly named = new Map<string, number>();

  constructor(private readonly buf: Buffer) {
    if (buf.readUInt16LE(0) !== 0xeb9f) throw new Error('not BTF (bad magic)');
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = hdrLen + buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    this.strOff = hdrLen + buf.readUInt32LE(16);
    let o = typeOff;
    const end = typeOff + typeLen;
    while (o < end) {
      const nameOff = buf.readUInt32LE(o);
      const info = buf.readUInt32LE(o + 4);
      const sizeOrType = buf.readUInt32LE(o + 8);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const t: RawType = { kind, name: this.str(nameOff), vlen, sizeOrType, off: o + 12, info };
      const id = this.types.length;
      this.types.push(t);
      if (kind === KIND.FUNC) this.funcs.set(t.name, id);
      else if (kind === KIND.TYPEDEF && t.name.startsWith('btf_trace_')) this.typedefs.set(t.name, id);
      const key = t.name ? declKey(kind, t.name) : undefined;
      if (key && !this.named.has(key)) this.named.set(key, id);
      o += 12 + extraSize(kind, vlen);
    }
  }

  private readonly strOff: number;

  private str(off: number): string {
    const start = this.strOff + off;
    const end = this.buf.indexOf(0, start);
    return this.buf.toString('latin1', start, end < 0 ? undefined : end);
  }

  static load(path = '/sys/kernel/btf/vmlinux'): Btf {
    return new Btf(fs.readFileSync(path));
  }

  /** Names of raw tracepoints (from `btf_trace_NAME` typedefs). */
  rawTracepoints(): string[] {
    return [...this.typedefs.keys()].map((n) => n.slice('btf_trace_'.length)).sort();
  }

  /**
   * Arguments of raw tracepoint NAME, without the leading `void *` context.
   * The `btf_trace_NAME` typedef's prototype has no parameter names; the
   * kernel's `__probestub_NAME` function (6.4+) has the same parameters,
   * named, so `args->prev` works as on a tracepoint.
   */
  rawTracepointArgs(name: string): BtfParam[] | undefined {
    const id = this.typedefs.get(`btf_trace_${name}`);
    if (id === undefined) return undefined;
    const proto = this.resolve(this.types[id]!.sizeOrType);
    if (proto?.t.kind !== KIND.FUNC_PROTO) return undefined;
    const params = this.params(proto.id).slice(1);
    const named = this.functionProto(`__probestub_${name}`)?.params.slice(1);
    if (named && named.length === params.length) params.forEach((p, i) => (p.name ||= named[i]!.name));
    return params;
  }

  functionNames(): string[] {
    return [...this.funcs.keys()];
  }

  /** Parameters and return type of kernel function `name`. */
  functionProto(name: string): { params: BtfParam[]; ret: BtfParam } | undefined {
    const id = this.funcs.get(name);
    if (id === undefined) return undefined;
    const protoId = this.types[id]!.sizeOrType;
    const proto = this.types[protoId];
    if (proto?.kind !== KIND.FUNC_PROTO) return undefined;
    return { params: this.params(protoId), ret: this.param('', proto.sizeOrType) };
  }

  /** Follow pointers-to-prototype through typedefs and qualifiers. */
  private resolve(id: number): { id: number; t: RawType } | undefined {
    for (let i = 0; i < 16; i++) {
      const t = this.types[id];
      if (!t) return undefined;
      if (
        t.kind === KIND.PTR ||
        t.kind === KIND.TYPEDEF ||
        t.kind === KIND.CONST ||
        t.kind === KIND.VOLATILE ||
        t.kind === KIND.RESTRICT ||
        t.kind === KIND.TYPE_TAG
      ) {
        id = t.sizeOrType;
        continue;
      }
      return { id, t };
    }
    return undefined;
  }

  private params(protoId: number): BtfParam[] {
    const p = this.types[protoId]!;
    const out: BtfParam[] = [];
    for (let i = 0; i < p.vlen; i++) {
      const nameOff = this.buf.readUInt32LE(p.off + i * 8);
      const type = this.buf.readUInt32LE(p.off + i * 8 + 4);
      if (type === 0) continue; // `...`
      out.push(this.param(this.str(nameOff), type));
    }
    return out;
  }

  private param(name: string, typeId: number): BtfParam {
    const { size, signed } = this.sizeOf(typeId);
    return { name, type: this.typeName(typeId), size, signed, ctype: this.ctype(typeId) };
  }

  /** A kernel type by name: `struct task_struct`, `union X`, `enum X`, a typedef, or `struct (anon ID)`. */
  kernelType(name: string): CTypeDecl | undefined {
    const anon = /^(?:struct|union) \(anon (\d+)\)$/.exec(name);
    const id = anon ? Number(anon[1]) : this.named.get(name);
    if (id === undefined) return undefined;
    const t = this.types[id];
    if (!t) return undefined;
    switch (t.kind) {
      case KIND.STRUCT:
      case KIND.UNION: {
        const union = t.kind === KIND.UNION;
        const kflag = t.info >>> 31 === 1;
        const fields: CField[] = [];
        for (let i = 0; i < t.vlen; i++) {
          const o = t.off + i * 12;
          const type = this.buf.readUInt32LE(o + 4);
          const raw = this.buf.readUInt32LE(o + 8);
          let bitOff = kflag ? raw & 0xffffff : raw;
          let bitSize = kflag ? raw >>> 24 : 0;
          if (!kflag) {
            // Old-style bitfields: the INT type itself carries the width and an extra offset.
            const base = this.peel(type);
            if (base?.kind === KIND.INT) {
              const enc = this.buf.readUInt32LE(base.off);
              const bits = enc & 0xff;
              if (bits !== base.sizeOrType * 8) bitSize = bits;
              bitOff += (enc >>> 16) & 0xff;
            }
          }
          const f: CField = { name: this.str(this.buf.readUInt32LE(o)), offset: 0, type: this.ctype(type) };
          if (bitSize) {
            f.offset = Math.floor(bitOff / 8);
            f.bitOffset = bitOff % 8;
            f.bitSize = bitSize;
          } else f.offset = bitOff / 8;
          fields.push(f);
        }
        return { k: 'record', record: { union, name: t.name || `(anon ${id})`, size: t.sizeOrType, fields } };
      }
      case KIND.ENUM:
      case KIND.ENUM64: {
        const values: { name: string; value: string }[] = [];
        const signed = t.info >>> 31 === 1;
        for (let i = 0; i < t.vlen; i++) {
          if (t.kind === KIND.ENUM) {
            const o = t.off + i * 8;
            const v = signed ? this.buf.readInt32LE(o + 4) : this.buf.readUInt32LE(o + 4);
            values.push({ name: this.str(this.buf.readUInt32LE(o)), value: String(v) });
          } else {
            const o = t.off + i * 12;
            const v = (BigInt(this.buf.readUInt32LE(o + 8)) << 32n) | BigInt(this.buf.readUInt32LE(o + 4));
            values.push({ name: this.str(this.buf.readUInt32LE(o)), value: String(signed ? BigInt.asIntN(64, v) : v) });
          }
        }
        return { k: 'enum', name: t.name, bytes: intBytes(t.sizeOrType), signed, values };
      }
      case KIND.TYPEDEF:
        return { k: 'typedef', name: t.name, type: this.ctype(t.sizeOrType) };
      case KIND.FWD:
        return undefined;
      default:
        return undefined;
    }
  }

  private constants: Map<string, string> | undefined;

  /** A kernel enum constant's value (the first enum that defines the name). */
  kernelConstant(name: string): string | undefined {
    if (!this.constants) {
      this.constants = new Map();
      for (const t of this.types) {
        if (t.kind !== KIND.ENUM && t.kind !== KIND.ENUM64) continue;
        const signed = t.info >>> 31 === 1;
        for (let i = 0; i < t.vlen; i++) {
          const o = t.off + i * (t.kind === KIND.ENUM ? 8 : 12);
          const n = this.str(this.buf.readUInt32LE(o));
          if (this.constants.has(n)) continue;
          let v: bigint;
          if (t.kind === KIND.ENUM) v = BigInt(signed ? this.buf.readInt32LE(o + 4) : this.buf.readUInt32LE(o + 4));
          else {
            v = (BigInt(this.buf.readUInt32LE(o + 8)) << 32n) | BigInt(this.buf.readUInt32LE(o + 4));
            if (signed) v = BigInt.asIntN(64, v);
          }
          this.constants.set(n, String(v));
        }
      }
    }
    return this.constants.get(name);
  }

  /** The type behind qualifiers and typedefs. */
  private peel(id: number): RawType | undefined {
    for (let i = 0; i < 32; i++) {
      const t = this.types[id];
      if (!t) return undefined;
      if (
        t.kind === KIND.TYPEDEF ||
        t.kind === KIND.CONST ||
        t.kind === KIND.VOLATILE ||
        t.kind === KIND.RESTRICT ||
        t.kind === KIND.TYPE_TAG
      ) {
        id = t.sizeOrType;
        continue;
      }
      return t;
    }
    return undefined;
  }

  /** Type id → the compiler's CTypeRef (typedefs and qualifiers resolved; records by name). */
  ctype(id: number, depth = 0): CTypeRef {
    if (id === 0) return { k: 'void' };
    if (depth > 32) return { k: 'other', name: '...', bytes: 0 };
    const t = this.types[id];
    if (!t) return { k: 'void' };
    switch (t.kind) {
      case KIND.INT: {
        const enc = this.buf.readUInt32LE(t.off) >>> 24;
        if (enc & 4) return { k: 'bool' };
        const bytes = t.sizeOrType;
        if (bytes !== 1 && bytes !== 2 && bytes !== 4 && bytes !== 8) return { k: 'other', name: t.name, bytes };
        return {
          k: 'int',
          bytes,
          signed: (enc & 1) === 1,
          name: t.name,
          // Plain `char` arrays are strings (bpftrace's rule); signed/unsigned char arrays are arrays of bytes.
          ...(t.name === 'char' ? { char: true } : {}),
        };
      }
      case KIND.PTR:
        return { k: 'ptr', to: this.ctype(t.sizeOrType, depth + 1) };
      case KIND.ARRAY: {
        const elem = this.buf.readUInt32LE(t.off);
        return { k: 'array', elem: this.ctype(elem, depth + 1), count: this.buf.readUInt32LE(t.off + 8) };
      }
      case KIND.STRUCT:
      case KIND.UNION:
        return { k: 'record', union: t.kind === KIND.UNION, name: t.name || `(anon ${id})` };
      case KIND.FWD:
        return { k: 'record', union: t.info >>> 31 === 1, name: t.name };
      case KIND.ENUM:
      case KIND.ENUM64:
        return {
          k: 'enum',
          name: t.name || `(anon ${id})`,
          bytes: intBytes(t.sizeOrType),
          signed: t.info >>> 31 === 1,
        };
      case KIND.TYPEDEF: {
        const inner = this.ctype(t.sizeOrType, depth + 1);
        return inner.k === 'int' ? { ...inner, name: t.name } : inner;
      }
      case KIND.CONST:
      case KIND.VOLATILE:
      case KIND.RESTRICT:
      case KIND.TYPE_TAG:
        return this.ctype(t.sizeOrType, depth + 1);
      case KIND.FUNC_PROTO:
      case KIND.FUNC:
        return { k: 'func' };
      case KIND.FLOAT:
        return { k: 'other', name: t.name, bytes: t.sizeOrType };
      default:
        return { k: 'other', name: t.name || '?', bytes: 0 };
    }
  }

  private sizeOf(id: number): { size: number; signed: boolean } {
    for (let i = 0; i < 16; i++) {
      const t = this.types[id];
      if (!t) return { size: 8, signed: false };
      switch (t.kind) {
        case KIND.INT:
          return { size: t.sizeOrType, signed: ((this.buf.readUInt32LE(t.off) >>> 24) & 1) === 1 };
        case KIND.ENUM:
        case KIND.ENUM64:
          return { size: t.sizeOrType, signed: t.info >>> 31 === 1 };
        case KIND.PTR:
          return { size: 8, signed: false };
        case KIND.STRUCT:
        case KIND.UNION:
          return { size: t.sizeOrType, signed: false };
        case KIND.TYPEDEF:
        case KIND.CONST:
        case KIND.VOLATILE:
        case KIND.RESTRICT:
        case KIND.TYPE_TAG:
          id = t.sizeOrType;
          continue;
        default:
          return { size: 8, signed: false };
      }
    }
    return { size: 8, signed: false };
  }

  /** C spelling of a type: `int`, `const char *`, `struct sock *`, `u64`. */
  typeName(id: number, depth = 0): string {
    const t = this.types[id];
    if (!t || id === 0) return 'void';
    if (depth > 8) return '...';
    switch (t.kind) {
      case KIND.PTR:
        return `${this.typeName(t.sizeOrType, depth + 1)} *`.replace(/\* \*$/, '**');
      case KIND.CONST:
        return `const ${this.typeName(t.sizeOrType, depth + 1)}`;
      case KIND.VOLATILE:
        return `volatile ${this.typeName(t.sizeOrType, depth + 1)}`;
      case KIND.RESTRICT:
      case KIND.TYPE_TAG:
        return this.typeName(t.sizeOrType, depth + 1);
      case KIND.STRUCT:
        return `struct ${t.name || '(anon)'}`;
      case KIND.UNION:
        return `union ${t.name || '(anon)'}`;
      case KIND.ENUM:
      case KIND.ENUM64:
        return `enum ${t.name || '(anon)'}`;
      case KIND.FWD:
        return `${t.info >>> 31 ? 'union' : 'struct'} ${t.name}`;
      case KIND.FUNC_PROTO:
        return 'void (*)(...)';
      case KIND.ARRAY:
        return `${this.typeName(this.buf.readUInt32LE(t.off), depth + 1)}[${this.buf.readUInt32LE(t.off + 8)}]`;
      default:
        return t.name || 'void';
    }
  }
}

function declKey(kind: number, name: string): string | undefined {
  switch (kind) {
    case KIND.STRUCT:
      return `struct ${name}`;
    case KIND.UNION:
      return `union ${name}`;
    case KIND.ENUM:
    case KIND.ENUM64:
      return `enum ${name}`;
    case KIND.TYPEDEF:
      return name;
    default:
      return undefined;
  }
}

function intBytes(n: number): 1 | 2 | 4 | 8 {
  return n === 1 || n === 2 || n === 4 ? n : 8;
}

function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case KIND.INT:
    case KIND.VAR:
    case KIND.DECL_TAG:
      return 4;
    case KIND.ARRAY:
      return 12;
    case KIND.STRUCT:
    case KIND.UNION:
    case KIND.DATASEC:
    case KIND.ENUM64:
      return 12 * vlen;
    case KIND.ENUM:
    case KIND.FUNC_PROTO:
      return 8 * vlen;
    default:
      return 0;
  }
}
