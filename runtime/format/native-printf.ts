// runtime/format/native-printf.ts — printf records of the events ring
// formatted by native code (runtime/native/capc-printf.c) instead of one
// JavaScript call per record. Used only when the output is plain text (the
// renderer says printfRuns()) and every record kind the program emits is a
// printf that fast-printf.ts compiles; the C follows fast-printf.ts's rules
// and tests/unit/native-printf.test.ts holds them to the same bytes. A record
// the native side does not know (an id the manifest lacks: a bug, counted by
// the decoder) is handed back to the JavaScript decoder. The text of each
// drain goes to the renderer as one printf event, at its place among the
// other output.
import type { FormatSegment, Manifest, ManifestEvent } from '../../compiler/index.js';
import { isUnavailable, nativeDrain, type NativeDrainLib } from '../ffi/drain.js';
import { warnOnce } from '../files/trust-warnings.js';
import type { Renderer } from '../events/model.js';
import type { RingReader } from '../ring/ringbuf.js';
import { compileFastPrintf } from './fast-printf.js';

const SEG_BYTES = 24;
const KIND = { lit: 0, str: 1, int: 2, chr: 3 } as const;
const FLAG: Record<string, number> = { '-': 1, '+': 2, ' ': 4, '#': 8, '0': 16 };
/** Output bytes per native call (a drain of 32k records of ~15 bytes fits in two). */
const OUT_BYTES = 256 * 1024;
const STOP = { done: 0, full: 1, unhandled: 2, tooBig: 3 } as const;

/** One record kind as capc-printf.c takes it: packed segments and their literal bytes; undefined if not supported. */
export function packPrintf(ev: ManifestEvent): { segs: Buffer; lits: Buffer; n: number } | undefined {
  // Exactly what fast-printf.ts compiles (and nothing it would hand to the generic formatter).
  if (!compileFastPrintf(ev) || !ev.segments) return undefined;
  const segs = Buffer.alloc(SEG_BYTES * ev.segments.length);
  const lits: Buffer[] = [];
  let litBytes = 0;
  for (const [i, s] of ev.segments.entries()) {
    const at = i * SEG_BYTES;
    if ('lit' in s) {
      const b = Buffer.from(s.lit, 'latin1');
      segs.writeUInt8(KIND.lit, at);
      segs.writeUInt32LE(litBytes, at + 16);
      segs.writeUInt32LE(b.length, at + 20);
      lits.push(b);
      litBytes += b.length;
      continue;
    }
    const f = ev.fields[s.arg]!;
    // Widths and precisions past these are legal but absurd for a trace line: left to JavaScript.
    if ((s.width ?? 0) > 4096 || (s.precision ?? 0) > 100) return undefined;
    const kind = f.type === 'str' ? KIND.str : s.conv === 'c' ? KIND.chr : KIND.int;
    segs.writeUInt8(kind, at);
    segs.writeUInt8(s.conv.charCodeAt(0), at + 1);
    segs.writeUInt8(f.type === 'str' ? 0 : f.size, at + 2);
    segs.writeUInt8(f.signed ? 1 : 0, at + 3);
    segs.writeUInt8(bitsOf(s), at + 4);
    segs.writeUInt8(
      [...s.flags].reduce((m, c) => m | (FLAG[c] ?? 0), 0),
      at + 5,
    );
    segs.writeInt32LE(s.width ?? 0, at + 8);
    segs.writeInt32LE(s.precision ?? -1, at + 12);
    segs.writeUInt32LE(f.offset, at + 16);
    segs.writeUInt32LE(f.size, at + 20);
  }
  return { segs, lits: Buffer.concat(lits), n: ev.segments.length };
}

const bitsOf = (s: Exclude<FormatSegment, { lit: string }>): number =>
  s.conv === 'p' || s.conv === 'c' ? 64 : (s.bits ?? 64);

export class NativePrintf {
  /** Where the next call writes; handed to the renderer as it is (no copy) and replaced. */
  private out = Buffer.allocUnsafeSlow(OUT_BYTES);
  private readonly res = Buffer.alloc(24);

  private constructor(
    readonly lib: NativeDrainLib,
    /** The formatter (capc_printf *), also what the printf thread formats with (printf-thread.ts). */
    readonly prog: unknown,
  ) {}

  /**
   * For a session: when the output is plain text, every record kind is a
   * supported printf, and CAPC_PRINTF_DRAIN=js does not ask for the
   * JavaScript formatter (tests run both); W0911 if the library is not usable.
   */
  static forSession(manifest: Manifest, renderer: Renderer): NativePrintf | undefined {
    if (process.env.CAPC_PRINTF_DRAIN === 'js' || renderer.printfRuns?.() !== true) return undefined;
    if (!manifest.events.length || !manifest.events.every((e) => packPrintf(e))) return undefined;
    const lib = nativeDrain();
    if (isUnavailable(lib)) {
      warnOnce('W0911', `capc's native drain library is not used: ${lib.reason}`, [
        'printf records are formatted in JavaScript instead (nothing is lost, it costs more CPU)',
      ]);
      return undefined;
    }
    return NativePrintf.create(manifest, lib);
  }

  /** The formatter for `manifest`'s events, or undefined when any record kind is not a printf it supports. */
  static create(manifest: Manifest, lib: NativeDrainLib): NativePrintf | undefined {
    if (!manifest.events.length) return undefined;
    const packed = manifest.events.map((e) => [e, packPrintf(e)] as const);
    if (packed.some(([, p]) => !p)) return undefined;
    const prog = lib.printfNew();
    if (!prog) return undefined;
    for (const [e, p] of packed)
      if (lib.printfAdd(prog, e.id, e.size, p!.n, p!.segs, p!.lits, p!.lits.length) !== 0) {
        lib.printfFree(prog);
        return undefined;
      }
    return new NativePrintf(lib, prog);
  }

  /**
   * Read `reader`'s ring up to producer position `until`, at most `max`
   * records, as RingReader.drain does; `emit` gets the text, `unhandled`
   * decodes one record in JavaScript (returns the records it read).
   */
  drain(reader: RingReader, until: number, max: number, emit: (text: Buffer) => void, unhandled: () => number): number {
    const m = reader.mapped;
    let total = 0;
    for (;;) {
      const out = this.out;
      const left = Math.min(max - total, 0xffffffff);
      if (left <= 0) return total;
      this.lib.printfDrain(
        this.prog,
        m.consumerPage,
        m.producerPage,
        m.page,
        reader.size,
        until,
        left,
        out,
        out.length,
        this.res,
      );
      const records = this.res.readUInt32LE(0);
      const used = this.res.readUInt32LE(4);
      const stop = this.res.readUInt32LE(8);
      reader.account(records, Number(this.res.readBigUInt64LE(16)));
      total += records;
      if (used > out.length / 8) {
        // Mostly full: the renderer takes it as it is, the next call gets a fresh one.
        emit(out.subarray(0, used));
        this.out = Buffer.allocUnsafeSlow(out.length);
      } else if (used) emit(Buffer.from(out.subarray(0, used)));
      if (stop === STOP.full) continue;
      if (stop === STOP.tooBig) {
        this.out = Buffer.allocUnsafeSlow(out.length * 4); // one record's text is larger than the buffer: rare
        continue;
      }
      if (stop === STOP.unhandled) {
        const n = unhandled();
        total += n;
        if (n) continue;
      }
      return total;
    }
  }

  close(): void {
    this.lib.printfFree(this.prog);
  }
}
