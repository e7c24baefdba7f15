// compiler/3-lower/plan-identity.ts — part of the plan-capture pass: which
// connections' sockets the kernel learns (connection identity), and the
// probes capc adds to learn them (lowered by lower-identity.ts, C in
// stdlib/capc-ident.bpf.h). Every capture of a family that can learn its
// socket carries its identity, and so does every probe that reads it
// (laddr, raddr, lport, rport, fd):
//  - syscall capture: the key is the fd, looked up through CO-RE;
//  - TLS stacks whose calls stay on one thread (OpenSSL, GnuTLS, NSS): the
//    socket syscalls (IDENTITY_SYSCALLS) a thread makes while inside a
//    captured call name the connection's socket, seen by one raw tracepoint
//    on syscall entry (every other syscall stops at a compare, every thread
//    outside a marked call at one load or one lookup); for OpenSSL,
//    SSL_set_fd names it too, in each binary the program probes (or wherever
//    discovery attaches `uprobe:tls:`);
//  - Go's crypto/tls: not learned (a goroutine may move between threads, so a
//    thread's syscall could name another goroutine's socket): predicates on
//    it see an unknown identity (docs/language.md).
// Close watchers (plan-capture.ts) forget a closed connection's identity.
import { FAMILIES, type FamilyName } from '../../stdlib/signatures.js';
import { identityFunctions } from '../../stdlib/signatures.js';
import type { IdentityInfo, ProbeInstance } from '../2-analyze/analyzed.js';
import type { Host } from '../host.js';
import type { AddedProbe } from './plan-capture-scope.js';

/** Does capc learn the sockets of this family's connections? */
export function learnsIdentity(family: string): boolean {
  const f = FAMILIES[family as FamilyName];
  return !!f && (f.identity === 'fd' || (f.identity === 'nested-syscalls' && f.callKey === 'thread'));
}

/** The probes whose connections carry an identity, by family: capture sites' probes and probes that read it. */
export function identityMembers(
  sitesProbes: ProbeInstance[],
  instances: ProbeInstance[],
): Map<string, ProbeInstance[]> {
  const members = new Map<string, ProbeInstance[]>();
  const join = (inst: ProbeInstance) => {
    const family = inst.capture?.sig.family;
    if (!family) return;
    const list = members.get(family) ?? [];
    if (!list.includes(inst)) list.push(inst);
    members.set(family, list);
  };
  for (const inst of sitesProbes) if (learnsIdentity(inst.capture?.sig.family ?? '')) join(inst);
  for (const inst of instances) if (inst.usesIdentity) join(inst);
  return members;
}

/**
 * The learners of the families in `members` (identityMembers): SSL_set_fd in
 * each OpenSSL binary, and the raw tracepoint on syscall entry when a
 * captured TLS call is seen at its return (its entry marks the thread, its
 * return unmarks it).
 */
export function planIdentity(
  members: Map<string, ProbeInstance[]>,
  host: Host,
  addProbe: (attach: ProbeInstance['attach'], from: ProbeInstance, mark: AddedProbe, text: string) => void,
): IdentityInfo | undefined {
  if (!members.size) return undefined;
  const learned = [...members.keys()].filter(learnsIdentity) as FamilyName[];
  const readers = [...members.keys()].filter((f) => !learnsIdentity(f)) as FamilyName[];
  const openssl = members.get('openssl') ?? [];
  const targets = new Map<string, ProbeInstance>();
  for (const inst of openssl)
    if (inst.attach.kind === 'uprobe' && !targets.has(inst.attach.path)) targets.set(inst.attach.path, inst);
  for (const [path, from] of targets) {
    const discover = from.attach.kind === 'uprobe' && !!from.attach.discover;
    const syms = discover ? undefined : host.functionSymbols(path);
    for (const func of identityFunctions('openssl')) {
      if (syms?.ok && !syms.value.includes(func)) continue;
      addProbe(
        {
          kind: 'uprobe',
          ret: false,
          target: discover ? 'tls' : path,
          path,
          func,
          offset: 0,
          ...(discover ? { discover: true } : {}),
        },
        from,
        { identFor: { family: 'openssl', how: 'set-fd' } },
        `uprobe:${path}:${func}`,
      );
    }
  }
  // Threads are marked only by return-time captures of TLS calls (the call's end unmarks them). One raw
  // tracepoint sees every syscall and lets all but IDENTITY_SYSCALLS go at a compare: the per-syscall
  // tracepoints would cost every read and write of the machine ~0.3 us (BENCHMARKS.md).
  const marking = learned
    .filter((f) => FAMILIES[f].identity === 'nested-syscalls')
    .flatMap((f) => members.get(f)!)
    .find((i) => i.capture?.at === 'return');
  // The learner reads ctx->args[] as raw_syscalls:sys_enter passes them; its BTF signature is not needed (and
  // asking for it would load the kernel's whole BTF into the session: ~125,000 types, tens of MiB).
  if (marking && host.tracepoint('raw_syscalls', 'sys_enter'))
    addProbe(
      { kind: 'rawtracepoint', name: 'sys_enter', args: [] },
      marking,
      { identFor: { family: marking.capture!.sig.family, how: 'syscall' } },
      'rawtracepoint:sys_enter',
    );
  return { families: learned, ...(readers.length ? { unknown: readers } : {}) };
}
