// runtime/ui/Help.tsx — the `?` screen: every key, what it does, where.
import { Box, Text } from 'ink';
import { fit } from './format.js';

export const HELP: [string, string][] = [
  ['q  Ctrl-C', 'quit: detach, run END, print the final maps'],
  ['space', 'pause / resume the view (capture goes on, counted)'],
  ['tab  shift-tab  1-5', 'next / previous pane, or pane N'],
  ['↑ ↓  j k  PgUp PgDn', 'scroll (g / G: first / last)'],
  ['/', 'filter: text, comm:NAME or pid:N (Esc clears)'],
  ['x', 'payloads as hex / as text (Events, Streams)'],
  ['Enter  Esc', 'open / close a connection (Streams), an exchange (Queries)'],
  ['c', 'clear every map, in the kernel too (Maps)'],
  ['s', 'save the pane to a file (Streams: every connection)'],
  ['?', 'this help (any key closes it)'],
];

export function Help({ width, height }: { width: number; height: number }) {
  const rows = HELP.slice(0, Math.max(0, height - 2));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold>{fit('Keys', width)}</Text>
      {rows.map(([k, what]) => (
        <Text key={k} wrap="truncate">
          <Text bold>{`  ${k.padEnd(22)}`}</Text>
          {fit(what, Math.max(0, width - 24))}
        </Text>
      ))}
    </Box>
  );
}
