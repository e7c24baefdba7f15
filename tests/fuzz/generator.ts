// tests/fuzz/generator.ts — random .cap programs that follow the grammar and,
// most of the time, the type rules: probes of every kind with the builtins
// they allow, typed expressions nested to a bounded depth, maps used with
// consistent keys and kinds, printf formats built from their arguments,
// control flow, config blocks and capture statements, C definitions with
// reads through them (casts, ->, ., [], *, pointer arithmetic, sizeof,
// tuples' .N, curtask) and ++/-- statements. A small share of
// programs is deliberately wrong (a type mix-up, an unknown name) so the
// error paths are fuzzed too. Deterministic for a given seed.
//
// The probes and fields come from the recorded host (tests/fixtures/host.json)
// so every generated program means the same thing on any machine.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

type Ty = 'int' | 'str';

interface ProbeKind {
  spec: string;
  ints: string[];
  strs: string[];
  /** Pointers str() can read. */
  ptrs: string[];
}

const COMMON_INTS = ['pid', 'tid', 'uid', 'gid', 'nsecs', 'elapsed', 'cpu', 'cgroup', 'numaid'];
const COMMON_STRS = ['comm', 'probe'];

const PROBES: ProbeKind[] = [
  { spec: 'BEGIN', ints: [], strs: [], ptrs: [] },
  { spec: 'END', ints: [], strs: [], ptrs: [] },
  {
    spec: 'tracepoint:syscalls:sys_enter_openat',
    ints: ['args->dfd', 'args->flags', 'args->mode'],
    strs: [],
    ptrs: ['args->filename'],
  },
  { spec: 't:syscalls:sys_exit_openat', ints: ['args->ret'], strs: [], ptrs: [] },
  { spec: 'tracepoint:syscalls:sys_exit_read', ints: ['args->ret', 'args.ret'], strs: [], ptrs: [] },
  { spec: 'tracepoint:syscalls:sys_enter_write', ints: ['args->fd', 'args->count'], strs: [], ptrs: ['args->buf'] },
  { spec: 'tracepoint:raw_syscalls:sys_enter', ints: ['args->id'], strs: [], ptrs: [] },
  {
    spec: 'tracepoint:sched:sched_switch',
    ints: ['args->prev_pid', 'args->next_pid', 'args->prev_state'],
    strs: ['args->prev_comm', 'args->next_comm'],
    ptrs: [],
  },
  {
    spec: 'tracepoint:sched:sched_process_exec',
    ints: ['args->pid', 'args->old_pid'],
    strs: ['str(args->filename)'],
    ptrs: [],
  },
  {
    spec: 'uprobe:/opt/app/target:greet',
    ints: ['arg0', 'arg1', 'arg2', 'arg5', 'arg7'],
    strs: ['func'],
    ptrs: ['arg0', 'arg1'],
  },
  { spec: 'u:libssl:SSL_write', ints: ['arg0', 'arg2'], strs: ['func'], ptrs: ['arg1'] },
  { spec: 'uretprobe:libssl:SSL_read', ints: ['retval', '(int32)retval'], strs: ['func'], ptrs: [] },
  { spec: 'rawtracepoint:sys_enter', ints: ['arg1'], strs: [], ptrs: [] },
  { spec: 'rt:sched_process_exec', ints: ['arg1'], strs: [], ptrs: [] },
  { spec: 'kprobe:vfs_read', ints: ['arg0', 'arg2'], strs: ['func'], ptrs: [] },
  { spec: 'kretprobe:vfs_write', ints: ['retval'], strs: ['func'], ptrs: [] },
  { spec: 'usdt:/opt/app/workload:capc:tick', ints: ['arg0', 'arg1'], strs: [], ptrs: [] },
  { spec: 'profile:hz:99', ints: [], strs: [], ptrs: [] },
  { spec: 'interval:ms:100', ints: [], strs: [], ptrs: [] },
  { spec: 'i:s:1', ints: [], strs: [], ptrs: [] },
  { spec: 'interval:hz:99', ints: [], strs: [], ptrs: [] },
];

/** Probes that may share one block: same context. */
const SHARED = [
  ['tracepoint:syscalls:sys_enter_read', 'tracepoint:syscalls:sys_enter_write'],
  ['tracepoint:sched:sched_process_exec', 'tracepoint:sched:sched_process_fork'],
  ['uprobe:libssl:SSL_read', 'uprobe:libssl:SSL_write'],
];

const CAPTURES = [
  'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf',
  'uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex accumulate(conn, 256) -> ringbuf(1M)',
  'uprobe:libssl:SSL_write capture(conn, 4096) -> perfbuf',
  'tracepoint:syscalls:sys_enter_write /pid == 1/ capture(conn, 512) -> ringbuf',
  'tracepoint:syscalls:sys_enter_write, tracepoint:syscalls:sys_enter_read accumulate(conn, 64) -> ringbuf',
  'uprobe:/opt/app/target:greet { capture(arg0, 128, arg1, arg2) -> ringbuf; }',
  'uprobe:/opt/app/target:greet /arg2 > 0/ { accumulate(arg0, 16, arg1, arg2, 1) -> ringbuf }',
  'uprobe:libssl:SSL_read /len > 10/ { @big[comm] = count(); accumulate(conn, 2048) -> ringbuf; }',
];

const INT_LITERALS = [
  '0',
  '1',
  '2',
  '7',
  '-1',
  '42',
  '255',
  '256',
  '4096',
  '0xff',
  '0x7fffffff',
  '0xffffffff',
  '0x7fffffffffffffff',
  '1000000000',
  '18446744073709551615',
];
const STR_LITERALS = [
  '""',
  '"a"',
  '"cat"',
  '"bash"',
  '"x y"',
  '"tab\\there"',
  '"q\\"uote"',
  '"back\\\\slash"',
  '"nl\\n"',
  '"\\x01\\xff"',
  '"café"',
  '"123456789012345678901234567890"',
  '"%d%s"',
];
/** C definitions a program may start with; typed reads through them join the integer leaves. */
const STRUCT_DEFS =
  'struct fz { int a; unsigned char b[4]; long long c; struct fz *next; union { short s; char t[2]; } u; unsigned int bits : 5; };';
/** Integer reads through C types; P is an address (any integer the probe has). */
const TYPED_INTS = [
  '((struct fz *)P)->a',
  '((struct fz *)P)->b[1]',
  '((struct fz *)P)->next->c',
  '(*(struct fz *)P).u.s',
  '((struct fz *)P)->bits',
  '((struct fz *)P + 1)->a',
  '((int32 *)P)[2]',
  '*((uint8 *)P + 1)',
  '((struct fz *)P)->b[IDX]',
  'sizeof(struct fz)',
  'sizeof(((struct fz *)P)->b)',
  '(7, P).0',
  '(1, (P, 3)).1.0',
  'curtask->pid',
  'curtask->tgid',
];
const CASTS = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];
const BIN_INT = ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '==', '!=', '<', '>', '<=', '>=', '&&', '||'];

type MapKind = 'count' | 'sum' | 'int' | 'str' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist';

interface MapInfo {
  keys: Ty[];
  kind: MapKind;
}

export class ProgramGenerator {
  private maps = new Map<string, MapInfo>();
  private vars = new Map<string, Ty>();
  private probe!: ProbeKind;
  private depth = 0;
  /** The program defines STRUCT_DEFS. */
  private typed = false;
  constructor(
    private readonly r: Rng,
    private readonly positional: number,
  ) {}

  program(): string {
    const out: string[] = [];
    if (this.r.chance(0.15)) out.push(this.config());
    if (this.r.chance(0.12)) out.push(this.r.pick(CAPTURES));
    this.typed = this.r.chance(0.15);
    if (this.typed) out.push(STRUCT_DEFS);
    const n = 1 + this.r.int(4);
    for (let i = 0; i < n; i++) out.push(this.probeBlock());
    // Maps that are read must be written somewhere: give each a writer in END.
    return out.join(this.r.chance(0.5) ? '\n' : '\n\n') + '\n';
  }

  private config(): string {
    const entries: string[] = [];
    if (this.r.chance(0.6)) entries.push(`strlen = ${this.r.pick([16, 32, 64, 100, 128, 256, 1024])}`);
    if (this.r.chance(0.4)) entries.push(`max_map_keys = ${this.r.pick([1, 16, 1024, 65536])}`);
    if (this.r.chance(0.4)) entries.push(`ringbuf_size = ${this.r.pick(['4096', '64K', '1M', '8M'])}`);
    if (!entries.length) entries.push('strlen = 64');
    return `config = { ${entries.join('; ')} }`;
  }

  private probeBlock(): string {
    this.vars.clear();
    let spec: string;
    if (this.r.chance(0.1)) {
      const group = this.r.pick(SHARED);
      spec = group.join(', ');
      this.probe = { spec, ints: group[0]!.startsWith('uprobe') ? ['arg0'] : [], strs: [], ptrs: [] };
    } else {
      this.probe = this.r.pick(PROBES);
      spec = this.probe.spec;
    }
    // As in bpftrace, a '/' inside a predicate ends it: division goes in parentheses.
    const predExpr = this.intExpr();
    const pred = this.r.chance(0.35) ? ` /${predExpr.includes('/') ? `(${predExpr})` : predExpr}/` : '';
    const body = this.block(2 + this.r.int(4), 1);
    return `${spec}${pred}\n${body}`;
  }

  private block(n: number, indent: number): string {
    const pad = '  '.repeat(indent);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(pad + this.statement(indent));
    return `${'  '.repeat(indent - 1)}{\n${lines.join('\n')}\n${'  '.repeat(indent - 1)}}`;
  }

  private statement(indent: number): string {
    const c = this.r.int(100);
    if (c < 18) return this.assignVar();
    if (c < 45) return this.mapWrite();
    if (c < 68) return this.printf();
    if (c < 78 && indent < 3)
      return `if (${this.intExpr()}) ${this.block(1 + this.r.int(2), indent + 1)}${this.r.chance(0.4) ? ` else ${this.block(1, indent + 1)}` : ''}`;
    if (c < 83 && this.maps.size) return `delete(${this.mapRef(this.r.pick([...this.maps.keys()]))});`;
    if (c < 86) return this.r.chance(0.5) ? 'exit();' : `exit(${this.r.int(256)});`;
    if (c < 92) return this.newer(indent);
    if (c < 94) return this.wrong();
    if (c < 96 && this.vars.size) {
      // ++ and --, before or after, on an integer variable.
      const ints = [...this.vars].filter(([, t]) => t === 'int').map(([n]) => n);
      const op = this.r.pick(['++', '--']);
      if (ints.length) return this.r.chance(0.5) ? `${op}${this.r.pick(ints)};` : `${this.r.pick(ints)}${op};`;
    }
    return this.assignVar();
  }

  private assignVar(): string {
    const reuse = this.vars.size && this.r.chance(0.5);
    const name = reuse ? this.r.pick([...this.vars.keys()]) : `$${this.r.pick(['a', 'b', 'n', 's', 'x', 'len2'])}`;
    const ty: Ty = this.vars.get(name) ?? (this.r.chance(0.7) ? 'int' : 'str');
    const op =
      ty === 'int' && this.vars.has(name) && this.r.chance(0.3)
        ? this.r.pick(['+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>='])
        : '=';
    const value = ty === 'int' ? this.intExpr() : this.strExpr();
    this.vars.set(name, ty);
    return `${name} ${op} ${value};`;
  }

  private mapRef(name: string): string {
    const m = this.maps.get(name)!;
    if (!m.keys.length) return name;
    return `${name}[${m.keys.map((k) => (k === 'int' ? this.intExpr() : this.strExpr())).join(', ')}]`;
  }

  private mapWrite(): string {
    let name: string;
    if (this.maps.size && this.r.chance(0.6)) name = this.r.pick([...this.maps.keys()]);
    else {
      name = this.r.pick(['@', '@c', '@bytes', '@by_comm', '@start', '@m', '@last']);
      if (!this.maps.has(name)) {
        const nk = name === '@' && this.r.chance(0.5) ? 0 : this.r.int(3);
        const keys = Array.from({ length: nk }, () => (this.r.chance(0.6) ? 'int' : 'str') as Ty);
        this.maps.set(name, {
          keys,
          kind: this.r.pick([
            'count',
            'count',
            'sum',
            'int',
            'int',
            'str',
            'avg',
            'min',
            'max',
            'stats',
            'hist',
            'lhist',
          ] as const),
        });
      }
    }
    const m = this.maps.get(name)!;
    const ref = this.mapRef(name);
    switch (m.kind) {
      case 'count':
        return `${ref} = count();`;
      case 'sum':
        return `${ref} = sum(${this.intExpr()});`;
      case 'str':
        return `${ref} = ${this.strExpr()};`;
      case 'avg':
      case 'min':
      case 'max':
      case 'stats':
      case 'hist':
        return `${ref} = ${m.kind}(${this.intExpr()});`;
      case 'lhist': {
        const min = this.r.pick([0, 0, 10, 100]);
        const step = this.r.pick([1, 5, 10, 100]);
        return `${ref} = lhist(${this.intExpr()}, ${min}, ${min + step * this.r.pick([1, 4, 20, 100])}, ${step});`;
      }
      default:
        return this.r.pick([`${ref} = ${this.intExpr()};`, `${ref} += ${this.intExpr()};`, `${ref}++;`, `${ref}--;`]);
    }
  }

  private printf(): string {
    const n = this.r.int(4);
    const conv: string[] = [];
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      if (this.r.chance(0.6)) {
        conv.push(this.r.pick(['%d', '%u', '%x', '%-8d', '%08x', '%lu', '%i', '%5d', '%X', '%o', '%c', '%p', '%+d']));
        args.push(this.intExpr());
      } else {
        conv.push(this.r.pick(['%s', '%-16s', '%.3s', '%20s']));
        args.push(this.strExpr());
      }
    }
    const text = conv.map((c, i) => `${i ? this.r.pick([' ', ', ', ' | ', ' 100%% ']) : ''}${c}`).join('');
    return `printf("${text}${this.r.chance(0.9) ? '\\n' : ''}"${args.map((a) => `, ${a}`).join('')});`;
  }

  /** The later language: map printing and clearing, values, loops, buf/ntop/time/join, the drop-in's builtins. */
  private newer(indent: number): string {
    const maps = [...this.maps.keys()];
    const anyMap = maps.length ? this.r.pick(maps) : undefined;
    switch (this.r.int(11)) {
      case 0:
        return anyMap
          ? `print(${anyMap}${this.r.chance(0.3) ? `, ${1 + this.r.int(5)}` : ''}${this.r.chance(0.2) ? `, ${1 + this.r.int(1000)}` : ''});`
          : 'print(1);';
      case 1:
        return anyMap ? `${this.r.pick(['clear', 'zero'])}(${anyMap});` : 'clear(@nothing);';
      case 2:
        return `print(${this.r.chance(0.6) ? this.intExpr() : this.strExpr()});`;
      case 3:
        return this.r.chance(0.5)
          ? 'time();'
          : `time(${this.r.pick(['"%H:%M:%S\\n"', '"%Y-%m-%d %H:%M:%S\\n"', '"%s\\n"', '"%%\\n"'])});`;
      case 4: {
        const p = this.probe.ptrs.length ? this.r.pick(this.probe.ptrs) : 'arg0';
        return `printf("${this.r.pick(['%r', '%rx', '%rh'])}\\n", buf(${p}, ${this.r.pick(['1', '8', '16', this.intLeaf()])}));`;
      }
      case 5:
        return `printf("%s\\n", ntop(${this.r.chance(0.5) ? this.intExpr() : `2, ${this.intExpr()}`}));`;
      case 6:
        return indent < 3
          ? `while (${this.intExpr()}) ${this.block(1 + this.r.int(2), indent + 1).replace(/\n(\s*)\}$/, `\n$1  ${this.r.pick(['break;', 'continue;', '$n = 1;'])}\n$1}`)}`
          : 'printf("\\n");';
      case 7:
        return indent < 3 ? `unroll(${1 + this.r.int(4)}) ${this.block(1, indent + 1)}` : 'printf("\\n");';
      case 8:
        return this.probe.spec.startsWith('uprobe') || this.probe.spec.startsWith('u:')
          ? `printf("%s\\n", usym(${this.r.pick(['arg0', 'arg1'])}));`
          : 'printf("%d\\n", cgroup);';
      case 9:
        return this.r.pick([
          `@kstk[${this.r.pick(['kstack', 'kstack(3)', 'kstack(perf, 2)'])}] = count();`,
          `printf("%s %s\\n", ksym(${this.intExpr()}), strftime("%H:%M:%S.%f", nsecs));`,
          `printf("%x %lx %hhu\\n", bswap((uint16)${this.intExpr()}), bswap(${this.intExpr()}), ${this.intExpr()});`,
          `printf("%s\\n", cgroup_path(cgroup));`,
          `printf("%llu %p\\n", kaddr("__x64_sys_getppid"), kptr(${this.intExpr()}));`,
        ]);
      default:
        return this.r.chance(0.5) ? `@stk[${this.r.chance(0.5) ? 'ustack' : 'ustack(3)'}] = count();` : 'join(arg0);';
    }
  }

  /** Deliberately wrong: the compiler must reject it with a diagnostic, never crash. */
  private wrong(): string {
    return this.r.pick([
      `$w = ${this.strExpr()} + 1;`,
      `printf("%d\\n", ${this.strExpr()});`,
      `printf("%s %s\\n", ${this.intExpr()});`,
      'nosuchfn(1);',
      '$u = $never_set;',
      '@agg = count(); $y = @agg + 1;',
      `@m2[1] = 1; @m2["k"] = 2;`,
      'retval;',
      `str(${this.intExpr()}, 0);`,
      `$z = (int128)1;`,
      `@x = 1 / 0;`,
      'system("true");',
      'signal("NOSUCH");',
      'cat("/etc/hostname");',
    ]);
  }

  intExpr(): string {
    if (this.depth > 3) return this.intLeaf();
    this.depth++;
    try {
      const c = this.r.int(100);
      if (c < 40) return this.intLeaf();
      if (c < 62) return `${this.intExpr()} ${this.r.pick(BIN_INT)} ${this.intExpr()}`;
      if (c < 70) return `(${this.intExpr()})`;
      if (c < 76) return `${this.r.pick(['-', '!', '~'])}${this.intLeafOrParen()}`;
      if (c < 81) return `(${this.r.pick(CASTS)})${this.intLeafOrParen()}`;
      if (c < 86) return `${this.intExpr()} ? ${this.intExpr()} : ${this.intExpr()}`;
      if (c < 94)
        return `${this.strExpr()} ${this.r.pick(['==', '!='])} ${this.r.chance(0.7) ? this.r.pick(STR_LITERALS) : this.strExpr()}`;
      const ints = [...this.maps].filter(([, m]) => m.kind === 'int');
      if (ints.length) return this.mapRef(this.r.pick(ints)[0]);
      return this.intLeaf();
    } finally {
      this.depth--;
    }
  }

  private intLeafOrParen(): string {
    const e = this.intLeaf();
    return /^[\w>.-]+$/.test(e) && !e.startsWith('-') ? e : `(${e})`;
  }

  private intLeaf(): string {
    const vars = [...this.vars].filter(([, t]) => t === 'int').map(([n]) => n);
    const pool = [...COMMON_INTS, ...this.probe.ints, ...vars, ...vars];
    if (this.positional && this.r.chance(0.05))
      return this.r.chance(0.5) ? `$${1 + this.r.int(this.positional)}` : '$#';
    if (this.typed && this.r.chance(0.15)) {
      const addr = () => this.r.pick([...this.probe.ptrs, ...this.probe.ints, 'pid']);
      return this.r
        .pick(TYPED_INTS)
        .replace('P', addr())
        .replace('IDX', this.r.pick(vars.length ? vars : ['pid']));
    }
    return this.r.chance(0.35) ? this.r.pick(INT_LITERALS) : this.r.pick(pool);
  }

  strExpr(): string {
    const vars = [...this.vars].filter(([, t]) => t === 'str').map(([n]) => n);
    const c = this.r.int(100);
    if (c < 30) return this.r.pick(STR_LITERALS);
    if (c < 55) return this.r.pick([...COMMON_STRS, ...this.probe.strs]);
    if (c < 75 && this.probe.ptrs.length) {
      const p = this.r.pick(this.probe.ptrs);
      return this.r.chance(0.5)
        ? `str(${p})`
        : `str(${p}, ${this.r.chance(0.7) ? this.r.pick(['1', '5', '16', '100', '200']) : this.r.pick(this.probe.ints.length ? this.probe.ints : ['pid'])})`;
    }
    if (vars.length) return this.r.pick(vars);
    return this.r.pick(['comm', '"lit"']);
  }
}

export function generateProgram(seed: number): { text: string; positional: string[] } {
  const r = new Rng(seed);
  const npos = r.chance(0.1) ? 1 + r.int(2) : 0;
  const text = new ProgramGenerator(r, npos).program();
  const positional = Array.from({ length: npos }, (_, i) => (i % 2 ? 'word' : String(r.int(1000))));
  return { text, positional };
}
