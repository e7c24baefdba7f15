// compiler/3-lower/plan-capture-scope.ts — part of the plan-capture pass: the
// programs capc adds beside captures through TLS signatures (lowered by
// lower-capture-scope.ts, C in stdlib/capc-scope.bpf.h):
//  - with -c/-p, capture follows the process tree in the kernel, not one pid:
//    fork adds a child of a process in the tree to capc_scope, exit removes a
//    process whose last thread ended;
//  - TLS discovery: `uprobe:tls:` probes ('capture') need the exec watcher, so
//    capc attaches to new binaries as they start; explicit TLS probes
//    ('watch', unless tls_check = 0) get the exec watcher and a call counter
//    on the TLS stacks the program does not probe, named at exit (W0908).
import { TLS_FAMILIES, type FamilyName } from '../../stdlib/signatures.js';
import type { AnalyzedProgram, CaptureInfo, ProbeInstance } from '../2-analyze/analyzed.js';

/** What marks a probe capc adds (plan-capture): the family whose connections it closes, its part in scope/discovery, or the identity it learns. */
export type AddedProbe = Pick<ProbeInstance, 'closeFor' | 'internal' | 'identFor'>;

export function planScope(
  program: AnalyzedProgram,
  addProbe: (attach: ProbeInstance['attach'], from: ProbeInstance, mark: AddedProbe, text: string) => void,
): Pick<CaptureInfo, 'scope' | 'discovery'> {
  const tlsSites = program.sites.filter((s) => TLS_FAMILIES.includes(s.family as FamilyName));
  const scope = tlsSites.length > 0;
  if (!scope) return { scope };
  const discovers = tlsSites.some((s) => {
    const a = program.instances[s.instance]!.attach;
    return a.kind === 'uprobe' && a.discover;
  });
  const discovery: CaptureInfo['discovery'] = discovers ? 'capture' : program.config.tlsCheck ? 'watch' : undefined;
  const from = program.instances[tlsSites[0]!.instance]!;
  const raw = (name: string): ProbeInstance['attach'] => ({ kind: 'rawtracepoint', name, args: [] });
  addProbe(raw('sched_process_fork'), from, { internal: 'scope-fork' }, 'rawtracepoint:sched_process_fork');
  addProbe(raw('sched_process_exit'), from, { internal: 'scope-exit' }, 'rawtracepoint:sched_process_exit');
  if (discovery)
    addProbe(raw('sched_process_exec'), from, { internal: 'exec-watch' }, 'rawtracepoint:sched_process_exec');
  if (discovery === 'watch')
    addProbe(
      { kind: 'uprobe', ret: false, target: 'tls', path: 'tls', func: '*', offset: 0, discover: true },
      from,
      { internal: 'tls-watch' },
      'uprobe:tls:* (calls into TLS stacks this program does not probe)',
    );
  return { scope, ...(discovery ? { discovery } : {}) };
}
