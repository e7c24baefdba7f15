// runtime/ui/LineList.tsx — draws prepared lines into exactly `height` rows
// of `width` columns (cut, never wrapped, so the layout never jumps), each
// in its tone's colour. Every pane body is one of these.
import { Box, Text } from 'ink';
import type { Line } from './lines.js';
import { fit } from './format.js';
import { useTheme } from './theme.js';

export function LineList({
  lines,
  width,
  height,
  empty,
}: {
  lines: Line[];
  width: number;
  height: number;
  empty?: string;
}) {
  const theme = useTheme();
  const rows = lines.slice(0, height);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {rows.length === 0 && empty ? <Text dimColor>{fit(empty, width)}</Text> : null}
      {rows.map((l, i) => (
        <Text key={i} wrap="truncate" {...theme.tone(l.tone)}>
          {l.text.length > width ? fit(l.text, width) : l.text || ' '}
        </Text>
      ))}
    </Box>
  );
}
