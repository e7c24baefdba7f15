// runtime/ui/TooSmall.tsx — shown instead of the layout when the terminal
// is smaller than the UI can be read in; capture continues meanwhile.
import { Box, Text } from 'ink';

export const MIN_COLS = 60;
export const MIN_ROWS = 12;

export function TooSmall({ cols, rows }: { cols: number; rows: number }) {
  const lines = [
    `capc: the terminal is too small (${cols}×${rows}).`,
    `It needs at least ${MIN_COLS}×${MIN_ROWS}.`,
    'Capture continues; enlarge the window, or q to quit.',
  ];
  return (
    <Box flexDirection="column">
      {lines.slice(0, Math.max(1, rows - 1)).map((l) => (
        <Text key={l} wrap="truncate">
          {l.slice(0, Math.max(1, cols))}
        </Text>
      ))}
    </Box>
  );
}
