// runtime/ui/MapsPane.tsx — the maps, live (read about once a second):
// each a table sorted by value, largest first, with bars.
import { LineList } from './LineList.js';
import type { Line } from './lines.js';

export function MapsPane({
  lines,
  scroll,
  width,
  height,
}: {
  lines: Line[];
  scroll: number;
  width: number;
  height: number;
}) {
  return <LineList lines={lines.slice(scroll)} width={width} height={height} empty="no map has entries yet" />;
}
