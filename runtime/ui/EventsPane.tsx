// runtime/ui/EventsPane.tsx — the scrolling tail of printf and capture
// output (payloads escaped, or hex with `x`); lines come from panes.ts.
import { LineList } from './LineList.js';
import type { EventsWindow } from './panes.js';

export function EventsPane({
  win,
  width,
  height,
  filtered,
}: {
  win: EventsWindow;
  width: number;
  height: number;
  filtered: boolean;
}) {
  return (
    <LineList
      lines={win.lines}
      width={width}
      height={height}
      empty={filtered ? 'nothing matches the filter' : 'waiting for output (printf, capture)…'}
    />
  );
}
