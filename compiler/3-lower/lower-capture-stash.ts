// compiler/3-lower/lower-capture-stash.ts — where the entry half of a capture
// pair keeps the call's arguments until the return half needs them: by
// thread, in the thread's own BPF task storage (no hash of the thread id, no
// update or delete call: ~180 -> ~50 ns per call, BENCHMARKS.md), a slot
// marked `set` while it holds a call; by goroutine (Go: a call may move
// between threads), in an LRU hash map. Also the identity mark a TLS call's
// entry leaves for its return (lower-identity.ts decides and emits it).
// Pure: builds C IR for lower-capture.ts.
import type { ProbeInstance } from '../2-analyze/analyzed.js';
import { probeName } from '../2-analyze/probes.js';
import { ABI_REGISTERS, FAMILIES, type CaptureSignature } from '../../stdlib/signatures.js';
import {
  addr,
  arrow,
  bin,
  call,
  cast,
  dot,
  id,
  num,
  un,
  type CExpr,
  type CMapDecl,
  type CStmt,
  type CStruct,
} from './c-ir.js';
import { STATS_MAP, type Resources } from './resources.js';
import { r11Count, r7CopyOut } from './rules.js';

/** Entries of a goroutine-keyed stash (Go); thread-keyed stashes live in task storage and have no size. */
const STASH_ENTRIES = 16384;

/** What the stash asks of connection identity (lower-capture.ts CaptureIdentity). */
export interface StashIdentity {
  marks(inst: ProbeInstance): boolean;
  entryMark(connSlot: CExpr, mark: CExpr, line: number): CStmt[];
  unmark(): CStmt;
}

export interface Stash {
  struct: CStruct;
  map: string;
  unpaired: number;
  /** 'task' (by thread, BPF task storage) or the C key type of a goroutine-keyed LRU hash. */
  key: string;
  /** The entry marks its thread for identity: the struct has a `mark` field. */
  mark: boolean;
}

/** Whether calls of this signature are paired by goroutine (Go) rather than by thread. */
export function byGoroutine(sig: CaptureSignature): boolean {
  return FAMILIES[sig.family].callKey === 'goroutine';
}

/** `struct capc_gkey capc_k = { .g = ctx->r14, .tgid = ... }`: a Go call's key (its goroutine in its process). */
export function goroutineKey(src?: number): CStmt {
  return {
    k: 'decl',
    type: 'struct capc_gkey',
    name: 'capc_k',
    init: {
      k: 'init',
      fields: [
        ['g', cast('__u64', arrow(id('ctx'), 'r14'))],
        ['tgid', call('capc_pid')],
      ],
    },
    src,
    comment: "Go: the goroutine (r14 in Go's register ABI), which may move between threads during the call",
  };
}

const pidTgid = (src?: number): CStmt => ({
  k: 'decl',
  type: '__u64',
  name: 'capc_id',
  init: call('bpf_get_current_pid_tgid'),
  ...(src !== undefined ? { src } : {}),
});

export class CaptureStashes {
  private readonly stashes = new Map<number, Stash>();

  constructor(
    private readonly res: Resources,
    private readonly identity: () => StashIdentity | undefined,
  ) {}

  /** The stash of a capture pair's probe (created on first use). */
  of(inst: ProbeInstance): Stash {
    let s = this.stashes.get(inst.id);
    if (!s) {
      const key = byGoroutine(inst.capture!.sig) ? 'struct capc_gkey' : 'task';
      const mark = !!this.identity()?.marks(inst);
      const fields: CStruct['fields'] = [{ name: 'a', type: '__u64', array: 6, offset: 0, size: 48 }];
      // A task-storage slot outlives the call: `set` says it holds a call's arguments.
      if (key === 'task') fields.push({ name: 'set', type: '__u64', offset: 48, size: 8 });
      if (mark)
        fields.push({
          name: 'mark',
          type: '__u64',
          offset: fields.length * 8 + 40,
          size: 8,
          comment: 'the thread is marked in capc_in_ssl',
        });
      s = {
        struct: {
          kind: 'struct',
          name: `capc_stash_p${inst.id}`,
          fields,
          size: 48 + (fields.length - 1) * 8,
          assertLayout: false,
          comment: `arguments of ${probeName(inst.attach)} at entry`,
        },
        map: `capc_stash${inst.id}`,
        unpaired: this.res.counter('unpaired-return', probeName(inst.attach)),
        key,
        mark,
      };
      this.stashes.set(inst.id, s);
    }
    return s;
  }

  structs(): CStruct[] {
    return [...this.stashes.values()].map((s) => s.struct);
  }

  maps(): CMapDecl[] {
    return [...this.stashes.values()].map((s) => ({
      name: s.map,
      ...(s.key === 'task'
        ? {
            type: 'BPF_MAP_TYPE_TASK_STORAGE',
            key: 'int',
            maxEntries: 0,
            flags: 'BPF_F_NO_PREALLOC',
            comment:
              "arguments saved at entry in the thread's own storage until the call returns (freed with the thread; " +
              'a per-thread hash map cost ~2x more per call, an LRU one ~3x: BENCHMARKS.md)',
          }
        : {
            type: 'BPF_MAP_TYPE_LRU_HASH',
            key: s.key,
            maxEntries: STASH_ENTRIES,
            comment: 'arguments saved at entry, by goroutine, until the call returns',
          }),
      value: `struct ${s.struct.name}`,
    }));
  }

  /**
   * The current call's stash slot: by thread `bpf_task_storage_get(&map,
   * current task, 0, create ? F_CREATE : 0)`; by goroutine
   * `bpf_map_lookup_elem(&map, &capc_k)` (capc_k declared by goroutineKey).
   */
  get(stash: Stash, create = false): CExpr {
    if (stash.key !== 'task') return call('bpf_map_lookup_elem', addr(id(stash.map)), addr(id('capc_k')));
    return call(
      'bpf_task_storage_get',
      addr(id(stash.map)),
      call('bpf_get_current_task_btf'),
      num(0),
      create ? id('BPF_LOCAL_STORAGE_GET_F_CREATE') : num(0),
    );
  }

  /** Does the slot `p` (a pointer from get()) hold a call? */
  present(stash: Stash, p: string): CExpr {
    return stash.key === 'task' ? bin('&&', id(p), arrow(id(p), 'set')) : id(p);
  }

  /** Is the slot `p` (a pointer from get()) empty? */
  private absent(stash: Stash, p: string): CExpr {
    return stash.key === 'task' ? bin('||', un('!', id(p)), un('!', arrow(id(p), 'set'))) : un('!', id(p));
  }

  /**
   * The entry half's body after its checks: save the arguments (and mark the
   * thread for identity) until the call returns.
   */
  save(inst: ProbeInstance, line: number): CStmt[] {
    const stash = this.of(inst);
    const sig = inst.capture!.sig;
    const task = stash.key === 'task';
    const st = (field: string): CExpr => (task ? arrow(id('st'), field) : dot(id('st'), field));
    const body: CStmt[] = [];
    if (!task) {
      body.push(goroutineKey(line));
      body.push({ k: 'decl', type: `struct ${stash.struct.name}`, name: 'st', init: { k: 'zeroinit' }, src: line });
    } else {
      if (stash.mark) body.push(pidTgid(line));
      body.push({
        k: 'decl',
        type: `struct ${stash.struct.name} *`,
        name: 'st',
        init: this.get(stash, true),
        src: line,
      });
      body.push({
        k: 'if',
        c: un('!', id('st')),
        then: [
          { k: 'comment', text: 'no memory for this thread: its return finds nothing and is counted as unpaired' },
          { k: 'return', e: num(0) },
        ],
        src: line,
      });
    }
    const slot = (i: number): CExpr => ({ k: 'index', e: st('a'), i: num(i) });
    sig.args
      .slice(0, 6)
      .forEach((name, i) => body.push({ k: 'expr', e: bin('=', slot(i), abiArg(sig, i, name)), src: line }));
    const identity = this.identity();
    if (stash.mark && identity) {
      // The slot outlives the call: a mark left by an earlier call is cleared first.
      if (task) body.push({ k: 'expr', e: bin('=', st('mark'), num(0)), src: line });
      body.push(...identity.entryMark(slot(sig.args.indexOf(sig.connArg)), st('mark'), line));
    }
    body.push(
      task
        ? { k: 'expr', e: bin('=', st('set'), num(1)), src: line }
        : {
            k: 'expr',
            e: call('bpf_map_update_elem', addr(id(stash.map)), addr(id('capc_k')), addr(id('st')), id('BPF_ANY')),
            src: line,
          },
    );
    return body;
  }

  /**
   * The return half's start: find the saved arguments (a return without them
   * is counted, R11), copy them out to `capc_st` (R7), free the slot, unmark
   * the thread.
   */
  load(inst: ProbeInstance): CStmt[] {
    const stash = this.of(inst);
    const task = stash.key === 'task';
    const out: CStmt[] = [];
    if (!task) out.push(goroutineKey());
    else if (stash.mark) out.push(pidTgid());
    out.push({ k: 'decl', type: `struct ${stash.struct.name} *`, name: 'capc_stp', init: this.get(stash) });
    out.push({
      k: 'if',
      c: this.absent(stash, 'capc_stp'),
      then: [
        r11Count(
          STATS_MAP,
          stash.unpaired,
          'a return whose entry capc did not see (the call began before capc attached)',
        ),
        { k: 'return', e: num(0) },
      ],
    });
    out.push(
      r7CopyOut(
        `struct ${stash.struct.name}`,
        'capc_st',
        'capc_stp',
        `copy the saved arguments out, then ${task ? 'mark the slot empty' : 'drop the entry'}`,
      ),
    );
    out.push(
      task
        ? { k: 'expr', e: bin('=', arrow(id('capc_stp'), 'set'), num(0)) }
        : { k: 'expr', e: call('bpf_map_delete_elem', addr(id(stash.map)), addr(id('capc_k'))) },
    );
    const identity = this.identity();
    if (stash.mark && identity) out.push(identity.unmark());
    return out;
  }
}

/** Argument `i` of a signature's function at entry, as its family's ABI passes it. */
export function abiArg(
  sig: { family: CaptureSignature['family']; match: CaptureSignature['match'] },
  i: number,
  name?: string,
): CExpr {
  if (sig.match.kind === 'tracepoint') return cast('__u64', arrow(id('ctx'), name!));
  const abi = FAMILIES[sig.family].abi;
  if (abi === 'go') return cast('__u64', arrow(id('ctx'), ABI_REGISTERS.go.args[i]!.slice('ctx->'.length)));
  return cast('__u64', call(`PT_REGS_PARM${i + 1}`, id('ctx')));
}
