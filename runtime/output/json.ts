// runtime/output/json.ts — JSON lines with bpftrace's envelope
// (`{"type": T, "data": D}`, one object per line, never a blank line).
// Printf text is decoded as UTF-8 (invalid bytes become U+FFFD).
import type { CapEvent, Renderer } from '../events/model.js';
import { jsonValue, mapJson } from '../format/maps.js';
import type { Out } from './text.js';

export class JsonRenderer implements Renderer {
  constructor(private readonly out: Out) {}

  private line(type: string, data: unknown): void {
    this.out.write(`${jsonValue({ type, data })}\n`);
  }

  event(e: CapEvent): void {
    switch (e.kind) {
      case 'attaching':
        this.line('attached_probes', { probes: e.probes });
        return;
      case 'printf':
        this.line('printf', e.text.toString('utf8'));
        return;
      case 'lost':
        this.line('lost_events', { events: e.count, ring: e.ring });
        return;
      case 'map-full':
        this.line('map_full', { map: e.map, failed_updates: e.count, max_entries: e.maxEntries });
        return;
      case 'maps':
        for (const m of [...e.maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          if (m.entries.length) this.out.write(`${mapJson(m)}\n`);
        }
        return;
    }
  }

  end(): void {}
}
