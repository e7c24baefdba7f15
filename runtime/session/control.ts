// runtime/session/control.ts — acts on the control ring's records: print(),
// clear() and zero() on a map, and exit(). Each record carries the events
// ring's position when it was made; every event before it is printed first,
// so print() output keeps its place among printf output. The control ring is
// its own ring, so a flood of events never drops a control record (#3924).
// Also keeps the symbolizer ahead of exits: pids in maps keyed by stacks or
// symbols are noted while their processes are alive.
import { CTL_CLEAR, CTL_EXIT, CTL_PRINT, CTL_ZERO, type Manifest } from '../../compiler/index.js';
import { clearMap, mapKeys, readMap, zeroMap } from '../bpf/maps-reader.js';
import type { BpfObject } from '../bpf/object.js';
import type { Formatters } from '../events/formatters.js';
import type { Renderer } from '../events/model.js';
import type { ValueResolver } from '../events/resolve.js';

export interface ControlRecord {
  kind: number;
  arg: number;
  pos: number;
  a: number;
  b: number;
}

export function readControl(view: DataView, off: number): ControlRecord {
  return {
    kind: view.getUint32(off, true),
    arg: view.getUint32(off + 4, true),
    pos: Number(view.getBigUint64(off + 8, true)),
    a: Number(view.getBigUint64(off + 16, true)),
    b: Number(view.getBigUint64(off + 24, true)),
  };
}

export class Control {
  private lastWatch = 0;
  /** Maps whose keys hold pids capc must symbolise later (usym, ustack keys). */
  private readonly pidMaps: Manifest['maps'];
  /**
   * Does anything the program prints or keeps hold user addresses (usym, ustack)? Only then are
   * the -c child's mappings read again (a text that merely says "usym" keeps the reads: harmless).
   */
  private readonly userSymbols: boolean;

  constructor(
    private readonly manifest: Manifest,
    private readonly obj: BpfObject,
    private readonly renderer: Renderer,
    private readonly fmt: Formatters,
    private readonly resolver: ValueResolver,
  ) {
    this.pidMaps = manifest.maps.filter((m) => m.key?.fields.some((f) => f.type === 'usym' || f.type === 'ustack'));
    this.userSymbols = /"(usym|ustack)"/.test(JSON.stringify([manifest.events, manifest.maps]));
  }

  /** Act on one record; returns the exit code when it asks to stop. */
  apply(rec: ControlRecord): number | undefined {
    if (rec.kind === CTL_EXIT) return rec.arg;
    const m = this.manifest.maps[rec.arg];
    if (!m) return undefined;
    const fd = this.obj.mapFd(m.cName);
    if (rec.kind === CTL_PRINT)
      this.renderer.event({
        kind: 'maps',
        maps: [readMap(fd, m, this.fmt, this.resolver)],
        atExit: false,
        top: rec.a,
        div: rec.b || 1,
      });
    else if (rec.kind === CTL_CLEAR) clearMap(fd, m);
    else if (rec.kind === CTL_ZERO) zeroMap(fd, m);
    return undefined;
  }

  /** Whether watch() has work (the program shows user symbols): the session loop then wakes at least every 50 ms. */
  get watching(): boolean {
    return this.userSymbols;
  }

  /** Note the pids in stack- and symbol-keyed maps (at most every 200 ms), and the -c child's mappings. */
  watch(childPid?: number): void {
    if (!this.userSymbols) return;
    const now = Date.now();
    if (now - this.lastWatch < 200) return;
    this.lastWatch = now;
    if (childPid) this.resolver.symbolizer.refresh(childPid);
    for (const m of this.pidMaps) {
      const fields = m.key!.fields.filter((f) => f.type === 'usym' || f.type === 'ustack');
      for (const key of mapKeys(this.obj.mapFd(m.cName), m)) {
        for (const f of fields) this.resolver.symbolizer.see(key.readUInt32LE(f.offset + 8));
      }
    }
  }

  /** Maps as they are now, for the exit print. */
  readAll(): ReturnType<typeof readMap>[] {
    return this.manifest.maps.map((m) => readMap(this.obj.mapFd(m.cName), m, this.fmt, this.resolver));
  }
}
