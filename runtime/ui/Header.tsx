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

export function probeSummary(probes: ProbeRow[], attached: number, width: number): string {
  if (!probes.length) return fit(`probes: ${attached} attached`, width);
  const parts = probes.map((p) => `${abbrevProbe(p.label)}${p.role ? ` (${p.role})` : ''} ${p.hits === undefined ? '-' : si(p.hits)}`);
  let out = 'probes: ';
  for (let i = 0; i < parts.length; i++) {
    const more = i < parts.length - 1 ? ` +${parts.length - i - 1} more` : '';
    const sep = i ? ' · ' : '';
    if ((out + sep + parts[i]).length + (i < parts.length - 1 ? more.length + 3 : 0) > width && i > 0) return fit(`${out} +${parts.length - i} more`, width);
    out += sep + parts[i];
  }
  return fit(out, width);
}

export function Header(p: HeaderProps) {
  const theme = useTheme();
  const right = `${p.state === 'running' ? '● live' : p.state === 'paused' ? '‖ paused' : '■ stopping'}  up ${clock(p.uptimeMs)}`;
  const left = fit(`capc  ${p.script}  ${p.target}`, Math.max(10, p.width - right.length - 1));
  return (
    <Box flexDirection="column" width={p.width}>
      <Box justifyContent="space-between" width={p.width}>
        <Text bold wrap="truncate">{left}</Text>
        <Text {...theme.tone(p.state === 'running' ? 'ok' : 'accent')}>{right}</Text>
      </Box>
      <Text wrap="truncate">{probeSummary(p.probes, p.attached, p.width)}</Text>
    </Box>
  );
}
