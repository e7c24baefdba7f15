// runtime/ui/ProbesPane.tsx — every probe with its hits, hits per second,
// average run time per hit and CPU share: what bpftop shows, for this script.
import { LineList } from './LineList.js';
import type { Line } from './lines.js';

export function ProbesPane({
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
  const [head, ...rows] = lines;
  return <LineList lines={[...(head ? [head] : []), ...rows.slice(scroll)]} width={width} height={height} />;
}
