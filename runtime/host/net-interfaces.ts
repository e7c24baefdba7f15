// runtime/host/net-interfaces.ts — the network interfaces of the namespace
// capc runs in (xdp:IFACE, tc:IFACE probes): their names from
// /proc/self/net/dev, which, unlike /sys/class/net, always shows the calling
// process's own network namespace.
import fs from 'node:fs';

/** Interface names, sorted; empty when /proc is not readable. */
export function netInterfaces(): string[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/net/dev', 'utf8');
  } catch {
    return [];
  }
  // Two header lines, then `  name: counters...` per interface.
  return text
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean)
    .sort();
}
