// runtime/events/formatters.ts — what the decoders need from the formatting
// layer, as an interface: decoders (events/decode.ts, bpf/maps-reader.ts, and
// later the protocol decoders) turn bytes into events and receive these
// functions from whoever wires them (the session), so they never import
// runtime/format/ themselves. runtime/format/formatters.ts is the one
// implementation.
import type { FormatSegment, ManifestEvent, ValueType } from '../../compiler/index.js';
import type { PrintfValue } from './model.js';

/** A printf record formatter compiled for one record layout: reads the fields at `offset`, returns latin1 text. */
export type FastFormatter = (view: DataView, data: Uint8Array, offset: number) => string;

export interface Formatters {
  /** printf with C semantics (integers are 64-bit arguments read through each conversion's length). */
  printf(segments: FormatSegment[], values: PrintfValue[]): Buffer;
  /** A compiled formatter for a printf record, or undefined when the layout needs the generic printf. */
  compilePrintf(ev: ManifestEvent): FastFormatter | undefined;
  /** strftime(3) of `date` with `format` (time()). */
  strftime(format: string, date: Date): string;
  /** A string as a JSON value, with bpftrace's spacing. */
  jsonValue(v: unknown): string;
  /** buf() bytes as %r prints them (printable ASCII as is, other bytes \xNN): how a buf() map key reads. */
  bufText(b: Buffer): string;
  /** A record, tuple or array as text: bpftrace's value form, or its compact map-key form. */
  valueText(vt: ValueType, bytes: Buffer, style: 'value' | 'key'): string;
  /** A record, tuple or array as bpftrace's JSON prints it. */
  valueJson(vt: ValueType, bytes: Buffer): string;
}
