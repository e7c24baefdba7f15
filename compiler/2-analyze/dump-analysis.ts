// compiler/2-analyze/dump-analysis.ts — the dumps of the collect and check
// passes (`capc emit --dump=collect|check`): what analysis decided, as text a
// person reads. collect: the config and every probe instance (attach point,
// capture mode). check: the maps and their types, then per instance its
// variables, the calls it resolved and the capture sites it holds.
import type { AnalyzedProgram, MapInfo, ProbeInstance } from './analyzed.js';
import type { Collected } from './analyze.js';
import { probeName } from './probes.js';
import { typeName } from './types.js';

function instanceLine(inst: ProbeInstance): string {
  const written = inst.spec.text !== probeName(inst.attach) ? ` (written ${inst.spec.text})` : '';
  const sig = inst.capture?.sig;
  const cap = sig
    ? `; captures ${sig.match.kind === 'uprobe' ? sig.match.func : sig.match.name} at ${inst.capture!.at} (family ${sig.family}, ${sig.direction})`
    : '';
  const close = inst.closeFor ? `; sees ${inst.closeFor.family} connections close` : '';
  return `probe ${inst.id}: ${probeName(inst.attach)}${written} at line ${inst.spec.span.line}${cap}${close}`;
}

export function dumpCollected(c: Collected): string {
  const cfg = Object.entries(c.config)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [`config: ${cfg}`, ...c.instances.map(instanceLine)].join('\n') + '\n';
}

function mapLine(m: MapInfo): string {
  const what = m.kind === 'int' ? 'integer' : m.kind === 'str' ? `string[${m.strSize ?? '?'}]` : `${m.kind}()`;
  const keys = m.keys ? `[${m.keys.map(typeName).join(', ')}]` : '';
  const lh = m.lhist ? ` buckets ${m.lhist.min}..${m.lhist.max} step ${m.lhist.step}` : '';
  return `map ${m.name}${keys}: ${what}${lh}, first written at line ${m.span.line}`;
}

export function dumpChecked(a: AnalyzedProgram): string {
  const out = [...a.maps.values()].map(mapLine);
  for (const inst of a.instances) {
    out.push(instanceLine(inst));
    for (const v of inst.vars.values()) out.push(`  var ${v.name}: ${typeName(v.type)}`);
    for (const [call, info] of inst.calls)
      out.push(
        `  line ${call.span.line}: ${call.name}() -> ${info.fn === 'builtin' ? info.name : info.fn}${'size' in info ? ` ${info.size} bytes` : ''}`,
      );
    for (const s of a.sites.filter((x) => x.instance === inst.id))
      out.push(
        `  site ${s.index}: ${s.kind}(…, ${s.size}) -> ${s.stmt.sink.name}, family ${s.family}, ${s.direction ? 'ingress' : 'egress'}, line ${s.stmt.span.line}`,
      );
  }
  const uses = Object.entries(a.uses)
    .filter(([, v]) => v)
    .map(([k]) => k);
  if (uses.length) out.push(`uses: ${uses.join(', ')}`);
  return out.join('\n') + '\n';
}
