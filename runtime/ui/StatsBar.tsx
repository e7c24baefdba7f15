// runtime/ui/StatsBar.tsx — the cost of watching, at the bottom: events/s,
// bytes/s, each ring's peak fill; drops per sink (red when not zero) and
// failed map updates; then per probe the average run time per hit and hits per second from
// the kernel's BPF statistics, the most expensive first.
import { Box, Text } from 'ink';
import { abbrevProbe, bytes, fit, nanos, si } from './format.js';
import type { Stats } from './stats.js';
import { useTheme } from './theme.js';

export function costLine(s: Stats, width: number): string {
  if (s.statsError) return fit(`cost: per-probe statistics unavailable (${s.statsError})`, width);
  const rows = s.probes.filter((p) => p.nsPerHit !== undefined).sort((a, b) => (b.cpuPct ?? 0) - (a.cpuPct ?? 0));
  if (!rows.length) return fit('cost: no probe has run yet', width);
  const total = s.probes.reduce((n, p) => n + (p.cpuPct ?? 0), 0);
  let out = `cost ${total.toFixed(2)}% cpu:`;
  for (const r of rows) {
    const part = ` ${abbrevProbe(r.label)}${r.role ? ` (${r.role})` : ''} ${nanos(r.nsPerHit!)}/hit ${si(r.hitsPerSec ?? 0)}/s`;
    if ((out + part).length > width) break;
    out += part;
  }
  return fit(out, width);
}

function Parts({ parts, width }: { parts: { text: string; warn?: boolean }[]; width: number }) {
  const theme = useTheme();
  let used = 0;
  const shown = parts.filter((p) => (used += p.text.length) <= width);
  return (
    <Text wrap="truncate">
      {shown.map((p, i) => (
        <Text key={i} {...(p.warn ? theme.tone('warn') : {})}>
          {p.text}
        </Text>
      ))}
    </Text>
  );
}

/** Three rows: rates and ring fill; drops per sink (red when not zero); per-probe cost. */
export function StatsBar({ stats, width }: { stats: Stats; width: number }) {
  const fills = stats.sinks.filter((k) => k.fillPct !== undefined);
  const rates = [{ text: `${si(stats.eventsPerSec)} events/s · ${bytes(stats.bytesPerSec)}/s` }];
  if (fills.length)
    rates.push({
      text: ` · ring fill${fills.map((k) => ` ${k.name} ${k.fillPct! > 0 && k.fillPct! < 1 ? '<1' : Math.round(k.fillPct!)}%`).join('')}`,
    });
  const drops: { text: string; warn?: boolean }[] = [{ text: 'drops:' }];
  // Drops are exact (12,345, not 12.3k): they must agree with the kernel's counters and the final warnings.
  for (const k of stats.sinks)
    drops.push({ text: ` ${k.name} ${exact(k.drops)} ${k.unit}`, warn: k.drops > 0 }, { text: ' ·' });
  drops.push({ text: ` map updates ${exact(stats.mapFull)}`, warn: stats.mapFull > 0 });
  return (
    <Box flexDirection="column" width={width}>
      <Parts parts={rates} width={width} />
      <Parts parts={drops} width={width} />
      <Text wrap="truncate" dimColor>
        {costLine(stats, width)}
      </Text>
    </Box>
  );
}

const exact = (n: number) => n.toLocaleString('en-US');
