// compiler/2-analyze/probes-net.ts — packet probes: `xdp:IFACE` (the driver's
// receive path, before the kernel allocates an skb) and
// `tc:IFACE:ingress|egress` (traffic control, both directions). The
// interface must exist where capc runs (its network namespace): unknown names
// get "did you mean" from the host's interfaces.
import type { ProbeSpecNode } from '../../grammar/ast.js';
import { closest, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import type { AttachPoint } from './probes.js';

export const TC_DIRECTIONS = ['ingress', 'egress'] as const;

const did = (sugg: string[]) => (sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined);

function resolveInterface(
  part: { text: string; span: ProbeSpecNode['span'] },
  host: Host,
  bag: DiagnosticBag,
): boolean {
  const names = host.netInterfaces();
  if (names.includes(part.text)) return true;
  if (/[*?]/.test(part.text)) {
    bag.add(
      'E0420',
      `packet probes name one interface, not a pattern ('${part.text}')`,
      part.span,
      'write one probe per interface: xdp:eth0, xdp:eth1 { ... }',
    );
    return false;
  }
  bag.add(
    'E0420',
    `unknown network interface '${part.text}'`,
    part.span,
    did(closest(part.text, names)) ?? (names.length ? `interfaces here: ${names.join(', ')}` : undefined),
    'capc list xdp:* lists the interfaces of the network namespace capc runs in',
  );
  return false;
}

/** xdp:IFACE */
export function resolveXdp(spec: ProbeSpecNode, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  if (parts.length !== 2 || !parts[1]!.text) {
    bag.add('E0402', `malformed xdp probe '${spec.text}'`, spec.span, 'expected xdp:INTERFACE, e.g. xdp:eth0');
    return [];
  }
  return resolveInterface(parts[1]!, host, bag) ? [{ kind: 'xdp', iface: parts[1]!.text }] : [];
}

/** tc:IFACE:ingress|egress */
export function resolveTc(spec: ProbeSpecNode, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  if (parts.length !== 3 || !parts[1]!.text) {
    bag.add(
      'E0402',
      `malformed tc probe '${spec.text}'`,
      spec.span,
      'expected tc:INTERFACE:ingress or tc:INTERFACE:egress, e.g. tc:eth0:ingress',
    );
    return [];
  }
  const dir = parts[2]!;
  if (!(TC_DIRECTIONS as readonly string[]).includes(dir.text)) {
    bag.add(
      'E0402',
      `a tc probe's direction is ingress or egress, not '${dir.text}'`,
      dir.span,
      did(closest(dir.text, TC_DIRECTIONS)),
    );
    return [];
  }
  if (!resolveInterface(parts[1]!, host, bag)) return [];
  return [{ kind: 'tc', iface: parts[1]!.text, direction: dir.text as 'ingress' | 'egress' }];
}
