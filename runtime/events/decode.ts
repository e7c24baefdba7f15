// runtime/events/decode.ts — turns raw ring records into events using the
// manifest: the header's id selects the record layout, fields are read at
// the offsets the compiler chose (and clang checked with _Static_assert).
import type { Manifest, ManifestEvent } from '../../compiler/manifest.js';
import { compileFastPrintf, type FastFormatter } from '../format/fast-printf.js';
import { formatPrintf, type PrintfValue } from '../format/printf.js';
import type { CapEvent } from './model.js';

export class Decoder {
  private readonly byId: (ManifestEvent | undefined)[] = [];
  /** Compiled formatters for the records that have one (see fast-printf.ts). */
  private readonly fast: (FastFormatter | undefined)[] = [];
  /** Records whose id the manifest does not know (a bug if ever non-zero). */
  unknown = 0;

  constructor(manifest: Manifest) {
    for (const e of manifest.events) {
      this.byId[e.id] = e;
      this.fast[e.id] = compileFastPrintf(e);
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
    if (fast) return { kind: 'printf', text: Buffer.from(fast(view, data, offset), 'latin1') };
    const values: PrintfValue[] = ev.fields.map((f) => {
      const at = offset + f.offset;
      if (f.type === 'str') return Buffer.from(data.subarray(at, at + f.size));
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
    });
    return { kind: 'printf', text: formatPrintf(ev.segments, values) };
  }
}
