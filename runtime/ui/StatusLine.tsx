// runtime/ui/StatusLine.tsx — one row above the stats: the filter being
// typed, the filter in force, the last message (saved to…, cleared…), or
// what the keys of this pane do.
import { Text } from 'ink';
import { fit } from './format.js';
import { useTheme } from './theme.js';
import type { Pane } from './view-state.js';

const HINTS: Record<Pane, string> = {
  events: 'space pause · / filter · x hex · s save · tab next pane · ? help',
  maps: 'c clear maps · / filter · s save · tab next pane · ? help',
  streams: '↑↓ select · Enter open · Esc back · x hex · s save · ? help',
  probes: "hits and time per hit from the kernel's BPF statistics · ? help",
  queries: '↑↓ select · Enter the whole exchange · Esc back · s save · ? help',
};

export function StatusLine({
  pane,
  editing,
  filter,
  message,
  stopping,
  width,
}: {
  pane: Pane;
  editing?: string;
  filter: string;
  message?: string;
  stopping: boolean;
  width: number;
}) {
  const theme = useTheme();
  if (stopping)
    return (
      <Text {...theme.tone('accent')}>{fit('stopping: detaching probes, running END, reading the maps…', width)}</Text>
    );
  if (editing !== undefined)
    return <Text inverse>{fit(`/${editing}▏  (Enter apply, Esc cancel; text, comm:NAME or pid:N)`, width)}</Text>;
  if (message) return <Text {...theme.tone('accent')}>{fit(message, width)}</Text>;
  if (filter) return <Text {...theme.tone('accent')}>{fit(`filter: ${filter}   (/ change, Esc clear)`, width)}</Text>;
  return <Text dimColor>{fit(HINTS[pane], width)}</Text>;
}
