// runtime/ui/Header.tsx — the top two rows: capc, the script, what it
// traces (-c command or -p pid), the session state and uptime; then every
// probe with its hit count (from the kernel's BPF statistics).
import { Box, Text } from 'ink';
import { abbrevProbe, clock, fit, si } from './format.js';
import type { ProbeRow } from './stats.js';
import { useTheme } from './theme.js';

export interface HeaderProps {
  script: string;
  target: string;
  state: 'running' | 'paused' | 'stopping';
  uptimeMs: number;
  probes: ProbeRow[];
  attached: number;
  width: number;
}

/**
 * The probes the script wrote, with their hits, as many as fit; the return
 * and close probes capc adds for a capture are only counted (the Probes pane
 * lists everything).
 */
export function probeSummary(all: ProbeRow[], attached: number, width: number): string {
  if (!all.length) return fit(`probes: ${attached} attached`, width);
  const user = all.filter((p) => !p.role);
  const added = all.length - user.length;
  const tail = (hidden: number) => `${hidden ? ` +${hidden} more` : ''}${added ? ` (+${added} for capture)` : ''}`;
  let out = 'probes:';
  let shown = 0;
  for (const p of user) {
    const part = `${shown ? ' ·' : ''} ${abbrevProbe(p.label)} ${p.hits === undefined ? '-' : si(p.hits)}`;
    if (shown > 0 && (out + part + tail(user.length - shown - 1)).length > width) break;
    out += part;
    shown++;
  }
  return fit(out + tail(user.length - shown), width);
}

export function Header(p: HeaderProps) {
  const theme = useTheme();
  const right = `${p.state === 'running' ? '● live' : p.state === 'paused' ? '‖ paused' : '■ stopping'}  up ${clock(p.uptimeMs)}`;
  const left = fit(`capc  ${p.script}  ${p.target}`, Math.max(10, p.width - right.length - 1));
  return (
    <Box flexDirection="column" width={p.width}>
      <Box justifyContent="space-between" width={p.width}>
        <Text bold wrap="truncate">
          {left}
        </Text>
        <Text {...theme.tone(p.state === 'running' ? 'ok' : 'accent')}>{right}</Text>
      </Box>
      <Text wrap="truncate">{probeSummary(p.probes, p.attached, p.width)}</Text>
    </Box>
  );
}
