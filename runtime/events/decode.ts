// runtime/events/decode.ts — turns raw ring records into events using the
// manifest: the header's id selects the record layout, fields are read at
// the offsets the compiler chose (and clang checked with _Static_assert).
// Values capc resolves (ntop, usym, ustack) go through the ValueResolver;
// text is made by the Formatters the decoder is given (runtime/format/).
import type { LayoutField, Manifest, ManifestEvent } from '../../compiler/index.js';
import type { FastFormatter, Formatters } from './formatters.js';
import { ResolvedPart, type CapEvent, type CompositeValue, type PrintfValue } from './model.js';
import { PrintfEvent } from './printf-event.js';
import type { ValueResolver } from './resolve.js';

/** One field of a record or key: integers as bigint, strings as bytes, resolved values as text. */
export function readField(
  f: LayoutField,
  data: Uint8Array,
  view: DataView,
  at: number,
  resolver: ValueResolver | undefined,
): PrintfValue {
  switch (f.type) {
    case 'str':
      return Buffer.from(data.subarray(at, at + f.size));
    case 'buf': {
      const len = Math.min(view.getUint32(at, true), f.size - 4);
      return { buf: Buffer.from(data.subarray(at + 4, at + 4 + len)) };
    }
    case 'value':
      return { value: f.value!, bytes: Buffer.from(data.subarray(at, at + f.size)) };
    case 'inet':
    case 'usym':
    case 'ustack':
    case 'kstack':
    case 'ksym':
    case 'macaddr':
    case 'strftime':
    case 'cgroup_path':
      return resolver ? resolver.field(f, data, at) : Buffer.from('?');
    case 'int':
      switch (f.size) {
        case 1:
          return BigInt(f.signed ? view.getInt8(at) : view.getUint8(at));
        case 2:
          return BigInt(f.signed ? view.getInt16(at, true) : view.getUint16(at, true));
        case 4:
          return BigInt(f.signed ? view.getInt32(at, true) : view.getUint32(at, true));
        default:
          return f.signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true);
      }
  }
}

export class Decoder {
  private readonly byId: (ManifestEvent | undefined)[] = [];
  /** Compiled formatters for the printf records that have one (see fast-printf.ts). */
  private readonly fast: (FastFormatter | undefined)[] = [];
  /** Records whose id the manifest does not know (a bug if ever non-zero). */
  unknown = 0;
  private readonly source: string;

  constructor(
    manifest: Manifest,
    private readonly fmt: Formatters,
    private readonly resolver?: ValueResolver,
  ) {
    this.source = manifest.source.name;
    for (const e of manifest.events) {
      this.byId[e.id] = e;
      this.fast[e.id] = fmt.compilePrintf(e);
    }
  }

  decode(data: Uint8Array, view: DataView, offset: number, length: number): CapEvent | undefined {
    const id = view.getUint32(offset, true);
    const ev = this.byId[id];
    if (!ev || length < ev.size) {
      this.unknown++;
      return undefined;
    }
    const fast = this.fast[id];
    if (fast) return new PrintfEvent(fast(view, data, offset));
    const values: PrintfValue[] = ev.fields.map((f) => readField(f, data, view, offset + f.offset, this.resolver));
    switch (ev.kind) {
      case 'time':
        return { kind: 'time', text: Buffer.from(this.fmt.strftime(ev.format ?? '%H:%M:%S\n', new Date()), 'latin1') };
      case 'join': {
        const n = Number(values[0] as bigint);
        const all = values[1] as Buffer;
        const slot = all.length / 16;
        const parts: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const s = all.subarray(i * slot, (i + 1) * slot);
          const nul = s.indexOf(0);
          if (i) parts.push(Buffer.from(ev.delim ?? ' ', 'latin1'));
          parts.push(nul < 0 ? s : s.subarray(0, nul));
        }
        return { kind: 'join', text: Buffer.concat(parts) };
      }
      case 'value': {
        const v = values[0]!;
        if (typeof v === 'bigint') return { kind: 'value', text: Buffer.from(v.toString()), json: v.toString() };
        if (isComposite(v))
          return {
            kind: 'value',
            text: Buffer.from(this.fmt.valueText(v.value, v.bytes, 'value'), 'latin1'),
            json: this.fmt.valueJson(v.value, v.bytes),
          };
        const text =
          v instanceof ResolvedPart
            ? Buffer.from(v.text)
            : Buffer.isBuffer(v)
              ? cstr(v)
              : Buffer.from(this.fmt.bufText((v as { buf: Buffer }).buf));
        return { kind: 'value', text, json: this.fmt.jsonValue(text.toString('utf8')) };
      }
      case 'cat':
      case 'system':
        return { kind: 'action', action: ev.kind, arg: this.fmt.printf(ev.segments ?? [], values) };
      case 'helper_error':
        return {
          kind: 'helper-error',
          helper: ev.helper ?? '?',
          rc: Number(values[0] as bigint),
          span: ev.span,
          sourceLine: ev.sourceLine ?? '',
          source: this.source,
        };
      default:
        return { kind: 'printf', text: this.fmt.printf(ev.segments ?? [], values) };
    }
  }
}

export function isComposite(v: PrintfValue): v is CompositeValue {
  return typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof ResolvedPart) && 'value' in v;
}

function cstr(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}
