// runtime/tls/discovery.ts — finds the TLS stacks of the processes in scope
// (the machine, or the -c/-p process tree) and attaches to them while the
// session runs. At start it looks at the system's TLS libraries (the dynamic
// linker's cache) and at every process's executable and mapped libraries; the
// kernel's exec watcher then reports each executable capc has not looked at,
// and a periodic rescan catches libraries loaded later (dlopen). Two modes:
// 'capture' attaches the program's `uprobe:tls:` programs to every stack it
// finds; 'watch' attaches a call counter to the stacks the program does not
// probe itself, so capc can say at exit which processes' TLS it missed.
import fs from 'node:fs';
import path from 'node:path';
import { captureFunctions, type FamilyName, type Manifest, type ManifestProbe } from '../../compiler/index.js';
import { attachAtReturns, attachUprobe, attachUprobes, siteCount, type Link, type UprobeSite } from '../bpf/attach.js';
import type { BpfObject } from '../bpf/object.js';
import { CapcError } from '../errors.js';
import type { MissedTls, Renderer, TlsStackInfo } from '../events/model.js';
import { native } from '../ffi/libbpf.js';
import { ldconfigEntries, mappedFiles } from '../host/libraries.js';
import { RingReader } from '../ring/ringbuf.js';
import { classifyFile, TLS_LIBRARY_NAME, type TlsStack } from './classify.js';
import { elfMachine, resolveNeeded } from '../symbols/elf-dynamic.js';
import { goFileOffset } from '../symbols/go-binary.js';

const EXEC_EV_SIZE = 40;
const RESCAN_MS = 2000;

interface Target {
  stack: TlsStack;
  id: string;
  pids: Set<number>;
  links: Link[];
  /** Functions the program itself probes in this file (watch mode: not counted). */
  covered: Set<string>;
}

/** dev:ino of a file, so one library under two paths is one target. */
function fileId(p: string): string | undefined {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export interface DiscoveryOptions {
  manifest: Manifest;
  obj: BpfObject;
  renderer: Renderer;
  /** Captures follow the -c/-p process tree (the capc_scope map). */
  tree: boolean;
  /** The -c command's executable (as it will be exec'd), looked at before it runs. */
  command?: string;
}

export class TlsDiscovery {
  private readonly targets = new Map<string, Target>();
  private readonly ring: RingReader;
  private readonly mode: 'capture' | 'watch';
  private readonly templates: ManifestProbe[];
  private readonly watchProbe?: ManifestProbe;
  /** Watch mode: cookie -> what it counts. */
  private readonly watchTable: { target: Target; func: string }[] = [];
  /** Files the program probes itself: fileId -> functions. */
  private readonly explicit = new Map<string, Set<string>>();
  private readonly seenPids = new Set<number>();
  private readonly problems = new Set<string>();
  private readonly knownFd: number;
  private readonly scopeFd: number;
  private readonly pendingScans = new Map<number, number[]>();
  /** Processes stopped at exec and not continued yet (continued on every way out). */
  private readonly held = new Set<number>();
  private lastRescan = Date.now();
  private started = false;
  attachFailures = 0;

  constructor(private readonly o: DiscoveryOptions) {
    const d = o.manifest.capture!.discovery!;
    this.mode = d.mode;
    this.ring = new RingReader(d.execRing, o.obj.mapFd(d.execRing), d.execRingSize);
    this.knownFd = o.obj.mapFd(d.knownMap);
    this.scopeFd = o.manifest.capture?.scope ? o.obj.mapFd(o.manifest.capture.scope.map) : -1;
    this.templates = o.manifest.probes.filter(
      (p) => p.attach.kind === 'uprobe' && p.attach.discover && p.role !== 'tls-watch',
    );
    this.watchProbe = o.manifest.probes.find((p) => p.role === 'tls-watch');
    for (const p of o.manifest.probes) {
      if (p.role !== 'capture-entry' || p.attach.kind !== 'uprobe' || p.attach.discover) continue;
      const id = fileId(p.attach.path);
      if (!id) continue;
      const set = this.explicit.get(id) ?? new Set<string>();
      set.add(p.attach.func);
      this.explicit.set(id, set);
    }
  }

  get fd(): number {
    return this.ring.fd;
  }

  /** Look at the system's TLS libraries (capture mode) and every process in scope, and attach. */
  start(): void {
    const found: Target[] = [];
    if (this.mode === 'capture') {
      const hasNss = ldconfigEntries().some((e) => /^libssl3\.so/.test(e.soname));
      for (const e of ldconfigEntries()) {
        if (!/x86-64/.test(e.arch)) continue;
        if (!/^(libssl\.so|libgnutls\.so)/.test(e.soname) && !(hasNss && /^libnspr4\.so/.test(e.soname))) continue;
        let real: string;
        try {
          real = fs.realpathSync(e.path);
        } catch {
          continue;
        }
        found.push(...this.consider(real, undefined));
      }
    }
    for (const pid of this.pidsInScope()) found.push(...this.scanProcess(pid));
    // Watch mode: the -c command's TLS stacks are counted from before it runs (what its exec would
    // have read and attached after attach, on the capture's clock, is done now; its exec finds it
    // known). Capture mode announces stacks with the pids that use them: it waits for the exec.
    if (this.o.command && this.mode === 'watch') found.push(...this.considerExecutable(this.o.command, undefined));
    this.started = true;
    this.announce(found, false);
  }

  /** Processes in scope now: the tree's (from the kernel map), or every process but capc. */
  private pidsInScope(): number[] {
    if (this.o.tree) {
      const out: number[] = [];
      const n = native();
      let key: Buffer | null = null;
      const next = Buffer.alloc(4);
      while (n.map_get_next_key(this.scopeFd, key, next) === 0) {
        out.push(next.readUInt32LE(0));
        key = Buffer.from(next);
      }
      return out;
    }
    return fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => p !== process.pid);
  }

  /** A process's executable and TLS libraries: classify, attach what is new, note the pid. */
  private scanProcess(pid: number): Target[] {
    const found: Target[] = [];
    const files = mappedFiles(pid);
    if (!files.length) return found;
    const nss = files.some((f) => /^libssl3\.so/.test(path.basename(f)));
    for (const f of files) {
      const base = path.basename(f);
      if (/^libnspr4\.so/.test(base) && !nss) continue;
      // Libraries are looked at when their name says TLS; executables always (TLS may be built in).
      const isLib = /\.so(\.|$)/.test(base);
      if (isLib && !TLS_LIBRARY_NAME.test(base)) continue;
      const root = `/proc/${pid}/root`;
      const file = fs.existsSync(`${root}${f}`) ? `${root}${f}` : f;
      found.push(...this.consider(file, pid));
    }
    this.seenPids.add(pid);
    return found;
  }

  /**
   * An executable and the TLS libraries it needs: its libraries are mapped by the dynamic linker
   * after exec, so attach to the TLS ones now (by DT_NEEDED and its RUNPATH).
   */
  private considerExecutable(file: string, pid: number | undefined): Target[] {
    const found = this.consider(file, pid);
    const c = classifyFile(realPath(file)); // what consider() classified: not a second read
    const nss = c.needed.some((n) => /^libssl3\.so/.test(n));
    const machine = c.needed.length ? elfMachine(realPath(file)) : undefined;
    for (const soname of c.needed) {
      if (machine === undefined) break;
      if (!TLS_LIBRARY_NAME.test(soname) || (/^libnspr4/.test(soname) && !nss)) continue;
      const lib = resolveNeeded(soname, c.runpath, ldconfigEntries(), machine);
      if (lib) found.push(...this.consider(lib, pid));
    }
    return found;
  }

  /** Classify a file; attach to each stack in it not seen before. Returns the new targets. */
  private consider(file: string, pid: number | undefined): Target[] {
    const real = realPath(file);
    const id = fileId(real);
    if (!id) return [];
    const c = classifyFile(real);
    // Watch mode names only what it saw called; what it cannot probe is for --tls to report.
    for (const p of this.mode === 'capture' ? c.problems : []) {
      if (this.problems.has(p)) continue;
      this.problems.add(p);
      this.o.renderer.event({ kind: 'tls-problem', message: p });
    }
    const fresh: Target[] = [];
    for (const stack of c.stacks) {
      const key = `${id}\0${stack.family}`;
      let t = this.targets.get(key);
      if (!t) {
        t = { stack, id, pids: new Set(), links: [], covered: this.explicit.get(id) ?? new Set() };
        this.targets.set(key, t);
        this.attach(t);
        fresh.push(t);
      }
      if (pid !== undefined) t.pids.add(pid);
    }
    return fresh;
  }

  private attach(t: Target): void {
    const prog = (p: ManifestProbe) => this.o.obj.program(p.program).ptr;
    const where = (func: string) => t.stack.functions.get(func)!;
    const at = (func: string, extra = 0) => {
      const w = where(func);
      return w.symbol
        ? { func, offset: extra }
        : { func: null, offset: (goFileOffset(t.stack.path, w.addr) ?? 0) + extra };
    };
    try {
      if (this.mode === 'capture') {
        for (const p of this.templates) {
          if (p.family !== t.stack.family || p.attach.kind !== 'uprobe') continue;
          const func = p.attach.func;
          if (!t.stack.functions.has(func)) continue;
          if (p.attach.retInsns)
            t.links.push(...attachAtReturns(p, prog(p), { path: t.stack.path, func, where: where(func) }));
          else t.links.push(attachUprobe(p, prog(p), { path: t.stack.path, ...at(func), ret: p.attach.ret }));
        }
      } else if (this.watchProbe) {
        const p = this.watchProbe;
        const sites: UprobeSite[] = [];
        for (const func of captureFunctions(t.stack.family)) {
          if (!t.stack.functions.has(func) || t.covered.has(func)) continue;
          sites.push({ ...at(func), cookie: this.watchTable.length });
          this.watchTable.push({ target: t, func });
        }
        // One uprobe_multi link for the file's functions (one perf-event uprobe each otherwise).
        if (sites.length) t.links.push(...attachUprobes(p, prog(p), { path: t.stack.path, ret: false, sites }));
      }
    } catch (e) {
      this.attachFailures++;
      const msg = e instanceof CapcError ? e.message : String(e);
      this.o.renderer.event({ kind: 'tls-problem', message: `${t.stack.name} in ${t.stack.path}: ${msg}` });
    }
  }

  private info(t: Target): TlsStackInfo {
    return {
      name: t.stack.name,
      family: t.stack.family,
      path: t.stack.path,
      pids: [...t.pids].sort((a, b) => a - b),
      probes: siteCount(t.links),
    };
  }

  private announce(targets: Target[], late: boolean): void {
    if (this.mode !== 'capture') return;
    if (!targets.length && late) return;
    this.o.renderer.event({ kind: 'tls-stacks', stacks: targets.map((t) => this.info(t)), late });
  }

  /** Exec events: executables capc has not looked at. Returns how many were read. */
  drain(): number {
    const execs: { pid: number; held: boolean; dev: bigint; ino: bigint }[] = [];
    const n = this.ring.drain((_d, view, off, len) => {
      if (len < EXEC_EV_SIZE) return;
      execs.push({
        pid: view.getUint32(off, true),
        held: view.getUint32(off + 4, true) !== 0,
        dev: view.getBigUint64(off + 8, true),
        ino: view.getBigUint64(off + 16, true),
      });
    });
    for (const e of execs) {
      if (e.held) this.held.add(e.pid);
      try {
        this.onExec(e.pid, e.dev, e.ino);
      } finally {
        if (e.held) this.resume(e.pid);
      }
    }
    return n;
  }

  /** Continue a process the kernel stopped at exec (-c): capc has attached to what it carries. */
  private resume(pid: number): void {
    this.held.delete(pid);
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* it is gone */
    }
  }

  private onExec(pid: number, dev: bigint, ino: bigint): void {
    const found: Target[] = [];
    let exe: string | undefined;
    try {
      exe = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      /* gone already */
    }
    if (exe) {
      found.push(
        ...this.considerExecutable(
          realPath(fs.existsSync(`/proc/${pid}/root${exe}`) ? `/proc/${pid}/root${exe}` : exe),
          pid,
        ),
      );
      // Look at its maps again shortly (libraries it loads with dlopen).
      this.pendingScans.set(pid, [Date.now() + 30, Date.now() + 300]);
    }
    const key = Buffer.alloc(16);
    key.writeBigUInt64LE(dev, 0);
    key.writeBigUInt64LE(ino, 8);
    native().map_update_elem(this.knownFd, key, Buffer.from([1]), 0n);
    this.announce(found, true);
  }

  /** When tick() next has something to do (Date.now() ms): the next rescan after an exec, or the periodic one. */
  nextDue(): number {
    if (!this.started) return Infinity;
    let due = this.lastRescan + RESCAN_MS;
    for (const times of this.pendingScans.values()) due = Math.min(due, times[0]!);
    return due;
  }

  /** Called from the session loop: rescans after exec and every few seconds. */
  tick(now = Date.now()): void {
    if (!this.started) return;
    const found: Target[] = [];
    for (const [pid, times] of this.pendingScans) {
      if (times[0]! > now) continue;
      times.shift();
      if (!times.length) this.pendingScans.delete(pid);
      if (fs.existsSync(`/proc/${pid}`)) found.push(...this.scanProcess(pid));
      else this.pendingScans.delete(pid);
    }
    if (now - this.lastRescan >= RESCAN_MS) {
      this.lastRescan = now;
      for (const pid of this.pidsInScope()) if (!this.seenPids.has(pid)) found.push(...this.scanProcess(pid));
    }
    this.announce(found, true);
  }

  /** Watch mode, at exit: the processes that called TLS functions the program does not probe. */
  missed(): MissedTls[] {
    if (this.mode !== 'watch' || !this.o.manifest.capture?.discovery?.watchMap) return [];
    const fd = this.o.obj.mapFd(this.o.manifest.capture.discovery.watchMap);
    const n = native();
    const byProc = new Map<string, MissedTls>();
    let key: Buffer | null = null;
    const next = Buffer.alloc(8);
    const val = Buffer.alloc(24);
    while (n.map_get_next_key(fd, key, next) === 0) {
      key = Buffer.from(next);
      if (n.map_lookup_elem(fd, key, val) !== 0) continue;
      const pid = key.readUInt32LE(0);
      const w = this.watchTable[key.readUInt32LE(4)];
      if (!w) continue;
      const calls = Number(val.readBigUInt64LE(0));
      const comm = val.toString('latin1', 8, 24).replace(/\0.*$/s, '');
      const k = `${pid}\0${w.target.id}`;
      let m = byProc.get(k);
      if (!m) {
        const st = w.target.stack;
        const fns = captureFunctions(st.family as FamilyName).filter((f) => st.functions.has(f));
        m = {
          pid,
          comm,
          stack: st.name,
          path: st.path,
          calls: {},
          probe: fns
            .filter((f) => !f.endsWith('_ex') && !f.endsWith('2') && !f.endsWith('_seq'))
            .map((f) => `uprobe:${quoteTarget(st.path)}:${quoteFunc(f)}`)
            .join(', '),
        };
        byProc.set(k, m);
      }
      m.calls[w.func] = (m.calls[w.func] ?? 0) + calls;
    }
    return [...byProc.values()].sort((a, b) => a.pid - b.pid);
  }

  /** Stacks found so far (the terminal UI's probes pane). */
  stacks(): TlsStackInfo[] {
    return [...this.targets.values()].map((t) => this.info(t));
  }

  get links(): Link[] {
    return [...this.targets.values()].flatMap((t) => t.links);
  }

  /** Forget links (the session destroys them with its own). */
  dropLinks(): void {
    for (const t of this.targets.values()) t.links = [];
  }

  close(): void {
    for (const pid of [...this.held]) this.resume(pid);
    this.drain(); // events still in the ring: continue those processes too
    for (const t of this.targets.values()) for (const l of t.links) l.destroy();
    this.dropLinks();
    this.ring.close();
  }
}

/** The file behind `p` (links resolved), or `p` when it cannot be resolved (keep the path as mapped). */
function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function quoteTarget(p: string): string {
  return /[\s:"]/.test(p) ? JSON.stringify(p) : p;
}
function quoteFunc(f: string): string {
  return /[/\s:"]/.test(f) ? JSON.stringify(f) : f;
}
