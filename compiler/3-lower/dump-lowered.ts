// compiler/3-lower/dump-lowered.ts — the dumps of the plan-capture and lower
// passes (`capc emit --dump=plan-capture|lower`). plan-capture: the sink,
// each connection family, each site, the close watchers capc adds, the
// scope and TLS discovery programs, and connection identity (the families
// whose sockets are learned, and the learners).
// lower: what lowering built — defines, maps, structs and programs, one line
// each — before the emitter prints it as C (the manifest: `--manifest`).
import type { AnalyzedProgram } from '../2-analyze/analyzed.js';
import { probeName } from '../2-analyze/probes.js';
import type { Lowered } from './lower.js';

export function dumpCapturePlan(a: AnalyzedProgram): string {
  const cap = a.capture;
  const identity = dumpIdentityPlan(a);
  if (!cap) return identity.length ? `no capture\n${identity.join('\n')}\n` : 'no capture\n';
  const out = [`sink: ${cap.sink.kind}, ${cap.sink.size} bytes`];
  for (const [name, f] of cap.families)
    out.push(
      `family ${name}: ${f.accumulateSize ? `accumulate batches of ${f.accumulateSize}` : 'capture() only'}, chunks up to ${f.chunkSize}, first at line ${f.span.line}`,
    );
  for (const s of cap.sites)
    out.push(
      `site ${s.index}: ${s.kind}(…, ${s.size}) in probe ${s.instance}, family ${s.family}, ${s.direction ? 'ingress' : 'egress'}, line ${s.stmt.span.line}`,
    );
  for (const inst of a.instances.filter((i) => i.closeFor))
    out.push(`close watcher: probe ${inst.id} on ${probeName(inst.attach)} ends ${inst.closeFor!.family} connections`);
  if (cap.scope) out.push('scope: with -c/-p, the process tree (fork and exit programs keep capc_scope)');
  if (cap.discovery)
    out.push(
      `discovery: ${cap.discovery === 'capture' ? 'uprobe:tls: attached to every TLS stack found' : 'calls into TLS stacks not probed are counted (tls_check)'}`,
    );
  for (const inst of a.instances.filter((i) => i.internal))
    out.push(`added program: probe ${inst.id} (${inst.internal}) on ${inst.spec.text}`);
  out.push(...identity);
  return out.join('\n') + '\n';
}

/** Connection identity (plan-identity.ts): the families whose sockets are learned, and the learners capc adds. */
function dumpIdentityPlan(a: AnalyzedProgram): string[] {
  const id = a.identity;
  if (!id) return [];
  const out = [`identity: sockets learned for ${id.families.join(', ') || 'no family'}`];
  if (id.unknown?.length) out.push(`identity: not learned for ${id.unknown.join(', ')} (unknown to predicates)`);
  for (const inst of a.instances.filter((i) => i.identFor))
    out.push(`identity learner: probe ${inst.id} (${inst.identFor!.how}) on ${inst.spec.text}`);
  return out;
}

export function dumpLowered(l: Lowered): string {
  const c = l.c;
  const out: string[] = [];
  for (const d of c.defines) out.push(`define ${d.name} ${d.value}`);
  for (const m of c.maps) out.push(`map ${m.name}: ${m.type}, max_entries ${m.maxEntries}`);
  for (const s of c.structs) out.push(`${s.kind} ${s.name}: ${s.size} bytes, ${s.fields.length} fields`);
  for (const g of c.globals) out.push(`global ${g.type} ${g.name}`);
  for (const f of c.functions)
    out.push(`function ${f.name}${f.section ? ` SEC("${f.section}")` : ''}: ${f.body.length} statements`);
  return out.join('\n') + '\n';
}
