// runtime/output/text.ts — plain text output, laid out as bpftrace prints it:
// "Attaching N probes...", printf output as-is, and at exit two blank lines
// then every non-empty map in name order. Drops and full maps are reported
// on stderr with what to do about them.
import type { CapEvent, Renderer } from '../events/model.js';
import { mapText } from '../format/maps.js';

export interface Out {
  write(data: Buffer | string): void;
}

export class TextRenderer implements Renderer {
  constructor(private readonly out: Out, private readonly err: Out, private readonly quiet: boolean) {}

  event(e: CapEvent): void {
    switch (e.kind) {
      case 'attaching':
        if (!this.quiet) this.out.write(`Attaching ${e.probes} probe${e.probes === 1 ? '' : 's'}...\n`);
        return;
      case 'printf':
        this.out.write(e.text);
        return;
      case 'lost':
        this.err.write(`warning[W0901]: ${e.count} event${e.count === 1 ? '' : 's'} lost: ring buffer ${e.ring} was full\n  = hint: raise its size with --ringbuf-size or config = { ringbuf_size = ... }\n`);
        return;
      case 'map-full':
        this.err.write(`warning[W0902]: ${e.count} update${e.count === 1 ? '' : 's'} of ${e.map} failed: the map is full (${e.maxEntries} entries)\n  = hint: raise the limit with --max-map-keys or config = { max_map_keys = ... }\n`);
        return;
      case 'maps':
        if (e.atExit) this.out.write('\n\n');
        for (const m of [...e.maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          if (m.entries.length) this.out.write(mapText(m));
        }
        return;
    }
  }

  end(): void {}
}
