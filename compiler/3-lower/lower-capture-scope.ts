// compiler/3-lower/lower-capture-scope.ts — lowers the programs capc adds
// beside captures through uprobe signatures (stdlib/capc-scope.bpf.h): the
// process tree of -c/-p (fork adds a child of a process in the tree, exit
// removes a process whose last thread ended), the exec watcher of TLS
// discovery (tells capc about an executable it has not looked at yet), and
// the call counter capc attaches to TLS stacks the program does not probe.
// The maps they share are declared here; the runtime finds them by name
// through the manifest (capture.scope, capture.discovery).
import type { CaptureInfo, ProbeInstance } from '../2-analyze/analyzed.js';
import type { ManifestCapture } from '../manifest.js';
import { addr, arrow, bin, call, cast, dot, id, num, un, type CExpr, type CMapDecl, type CStmt } from './c-ir.js';
import { SCOPE_MAP } from './capture-tables.js';
import { STATS_MAP, type Resources } from './resources.js';

export const KNOWN_MAP = 'capc_known';
export const EXEC_RING = 'capc_execs';
export const WATCH_MAP = 'capc_tlswatch';
const KNOWN_ENTRIES = 65536;
const EXEC_RING_SIZE = 65536;
const WATCH_ENTRIES = 4096;

export class ScopeLowering {
  private readonly scopeFull: number;
  private readonly execDrops?: number;
  private readonly watchFull?: number;

  constructor(
    private readonly info: CaptureInfo,
    res: Resources,
  ) {
    this.scopeFull = res.counter('map-full', SCOPE_MAP);
    if (info.discovery) this.execDrops = res.counter('ring-drop', EXEC_RING);
    if (info.discovery === 'watch') this.watchFull = res.counter('map-full', WATCH_MAP);
  }

  maps(): CMapDecl[] {
    const out: CMapDecl[] = [];
    if (!this.info.discovery) return out;
    out.push(
      {
        name: KNOWN_MAP,
        type: 'BPF_MAP_TYPE_HASH',
        key: 'struct capc_exe_key',
        value: '__u8',
        maxEntries: KNOWN_ENTRIES,
        comment: 'executables capc has looked at (by device and inode): their exec is not reported again',
      },
      {
        name: EXEC_RING,
        type: 'BPF_MAP_TYPE_RINGBUF',
        maxEntries: EXEC_RING_SIZE,
        comment: 'new executables, for TLS discovery (struct capc_exec_ev)',
      },
    );
    if (this.info.discovery === 'watch')
      out.push({
        name: WATCH_MAP,
        type: 'BPF_MAP_TYPE_HASH',
        key: 'struct capc_watch_key',
        value: 'struct capc_watch_val',
        maxEntries: WATCH_ENTRIES,
        comment: 'calls into TLS stacks the program does not probe, by process and attach point (cookie)',
      });
    return out;
  }

  /** The C of one of the programs capc adds (ProbeInstance.internal). */
  body(inst: ProbeInstance): CStmt[] {
    const line = inst.spec.span.line;
    const tree = bin('&', dot(id('capc_ro'), 'scope'), id('CAPC_SCOPE_TREE'));
    const arg = (i: number, type: string): CExpr => cast(type, { k: 'index', e: arrow(id('ctx'), 'args'), i: num(i) });
    const inScope: CStmt[] = [
      { k: 'decl', type: '__u32', name: 'capc_tgid', init: call('capc_pid'), src: line },
      {
        k: 'if',
        c: bin('&&', tree, un('!', call('bpf_map_lookup_elem', addr(id(SCOPE_MAP)), addr(id('capc_tgid'))))),
        then: [{ k: 'return', e: num(0) }],
        src: line,
      },
    ];
    const onlyInTreeMode: CStmt = { k: 'if', c: un('!', tree), then: [{ k: 'return', e: num(0) }], src: line };
    switch (inst.internal) {
      case 'scope-fork':
        return [
          onlyInTreeMode,
          {
            k: 'expr',
            e: call(
              'capc_scope_fork',
              addr(id(SCOPE_MAP)),
              arg(1, 'struct task_struct *'),
              addr(id(STATS_MAP)),
              num(this.scopeFull),
            ),
            src: line,
            comment: 'a child of a process in the -c/-p tree joins it',
          },
          { k: 'return', e: num(0) },
        ];
      case 'scope-exit':
        return [
          onlyInTreeMode,
          {
            k: 'expr',
            e: call('capc_scope_exit', addr(id(SCOPE_MAP)), arg(0, 'struct task_struct *')),
            src: line,
            comment: 'a process whose last thread ended leaves the tree (its pid will be reused)',
          },
          { k: 'return', e: num(0) },
        ];
      case 'exec-watch':
        return [
          ...inScope,
          {
            k: 'expr',
            e: call(
              'capc_exec_seen',
              addr(id(KNOWN_MAP)),
              addr(id(EXEC_RING)),
              arg(2, 'struct linux_binprm *'),
              addr(id(STATS_MAP)),
              num(this.execDrops!),
              bin('&', dot(id('capc_ro'), 'scope'), id('CAPC_SCOPE_HOLD')),
            ),
            src: line,
            comment:
              'an executable capc has not looked at: discovery may find TLS in it (held under -c until attached)',
          },
          { k: 'return', e: num(0) },
        ];
      case 'tls-watch':
        return [
          ...inScope,
          {
            k: 'expr',
            e: call('capc_tls_watch', addr(id(WATCH_MAP)), id('ctx'), addr(id(STATS_MAP)), num(this.watchFull!)),
            src: line,
            comment: 'count it: capc names the processes whose TLS it did not capture at exit',
          },
          { k: 'return', e: num(0) },
        ];
      default:
        return [{ k: 'return', e: num(0) }];
    }
  }

  manifest(): Pick<ManifestCapture, 'scope' | 'discovery'> {
    return {
      scope: this.info.scope ? { map: SCOPE_MAP } : undefined,
      discovery: this.info.discovery
        ? {
            mode: this.info.discovery,
            execRing: EXEC_RING,
            execRingSize: EXEC_RING_SIZE,
            knownMap: KNOWN_MAP,
            watchMap: this.info.discovery === 'watch' ? WATCH_MAP : undefined,
          }
        : undefined,
    };
  }
}
