// runtime/ui/Tabs.tsx — the pane tabs (tab / shift-tab / 1-5 switch), and
// on the right whether the view is paused and how much arrived since.
import { Box, Text } from 'ink';
import { si } from './format.js';
import { PANES, PANE_TITLES, type Pane } from './view-state.js';
import { useTheme } from './theme.js';

export function Tabs({
  pane,
  paused,
  newSincePause,
  width,
}: {
  pane: Pane;
  paused: boolean;
  newSincePause: number;
  width: number;
}) {
  const theme = useTheme();
  const right = paused ? `PAUSED +${si(newSincePause)} new (space resumes)` : '? help  q quit';
  return (
    <Box justifyContent="space-between" width={width}>
      <Box>
        {PANES.map((p, i) => (
          <Text key={p} inverse={p === pane} bold={p === pane}>
            {p === pane ? `[${i + 1} ${PANE_TITLES[p]}]` : ` ${i + 1} ${PANE_TITLES[p]} `}
          </Text>
        ))}
      </Box>
      <Text wrap="truncate" {...(paused ? { inverse: true, ...theme.tone('accent') } : { dimColor: true })}>
        {right}
      </Text>
    </Box>
  );
}
