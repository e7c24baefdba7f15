// runtime/bpf/attach.ts — attaches loaded programs, one function per attach
// kind: tracepoints, raw tracepoints, uprobes, USDT probes and kprobes
// through libbpf (uprobes also as uprobe_multi links: uprobe-multi.ts); interval and profile timers, software and hardware events
// and watchpoints through perf events (perf-events.ts); xdp and tc packet
// probes as BPF links on the interface (attach-net.ts); BEGIN/END through
// BPF_PROG_TEST_RUN. Every attachment is a
// Link whose destroy() is idempotent; links are file descriptors, so the
// kernel detaches them even if capc is killed.
import fs from 'node:fs';
import type { ManifestProbe } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import { errno, native, strerror, type Ptr } from '../ffi/libbpf.js';
import { detachOnThreads, type Detach } from '../ffi/threads.js';
import { kprobeError, perfEventError } from './kernel-support.js';
import { openPerfEvent, PERF_TYPE, type PerfEventSpec } from './perf-events.js';
import { takeLibbpfLog } from './libbpf-log.js';
import { attachPacketProbe } from './attach-net.js';
import { readFunctionSymbols } from '../symbols/elf.js';
import { functionFileOffset } from '../symbols/func-offset.js';
import { goBinaryInfo, goFileOffset, goVersionNumber, returnOffsets } from '../symbols/go-binary.js';
import { createUprobeMultiLink, isUprobeMulti } from './uprobe-multi.js';

/**
 * Attach one probe of the manifest (BEGIN/END are run, not attached: none
 * returned). Syscall tracepoints run from a raw tracepoint share its
 * dispatcher program: `attached` holds the programs attached so far, and a
 * shared one is attached once.
 */
export function attachProbe(p: ManifestProbe, prog: Ptr, o: { pid?: number; attached?: Set<string> }): Link[] {
  const a = p.attach;
  switch (a.kind) {
    case 'tracepoint':
      if (a.via) {
        if (!o.attached)
          throw new Error(`internal: ${p.program} is shared and attached without the set of attached programs`);
        if (o.attached.has(p.program)) return [];
        o.attached.add(p.program);
        return [attachSyscallDispatcher(p, prog, a.via)];
      }
      return [attachTracepoint(p, prog, a.category, a.name)];
    case 'rawtracepoint':
      return [attachRawTracepoint(p, prog, a.name)];
    case 'uprobe':
      if (a.retInsns) return attachAtReturns(p, prog, { path: a.path, func: a.func, pid: o.pid });
      return [attachUprobe(p, prog, { path: a.path, func: a.func, offset: a.offset, ret: a.ret, pid: o.pid })];
    case 'usdt':
      return [attachUsdt(p, prog, { path: a.path, provider: a.provider, name: a.name, pid: o.pid })];
    case 'interval':
      return [attachInterval(p, prog, BigInt(a.periodNs))];
    case 'profile':
      return onlineCpus().map((cpu) =>
        attachTimer(p, prog, a.hz !== undefined ? { hz: a.hz } : { periodNs: BigInt(a.periodNs!) }, cpu),
      );
    case 'kprobe':
      return [attachKprobe(p, prog, a.func, a.offset, a.ret)];
    case 'perf':
      return onlineCpus().map((cpu) =>
        attachPerfEvent(p, prog, { type: PERF_TYPE[a.type], config: a.config, period: BigInt(a.period) }, cpu, -1),
      );
    case 'watchpoint': {
      const bp = { address: BigInt(a.address), length: a.length, mode: a.mode };
      const spec: PerfEventSpec = { type: PERF_TYPE.breakpoint, config: 0, period: 1n, breakpoint: bp };
      // On the -p/-c process (followed across CPUs), else on every CPU in whatever runs there.
      return o.pid !== undefined
        ? [attachPerfEvent(p, prog, spec, -1, o.pid)]
        : onlineCpus().map((cpu) => attachPerfEvent(p, prog, spec, cpu, -1));
    }
    case 'xdp':
    case 'tc':
      return [attachPacketProbe(p, prog)];
    case 'fentry': {
      const l = native().attach_trace(prog);
      if (!l) throw attachError(p, `${a.ret ? 'fexit' : 'fentry'} on ${a.func}`, errno());
      return [nativeLink(p, l)];
    }
    default:
      return [];
  }
}

/**
 * The dispatcher of syscall tracepoints on the raw tracepoint sys_enter or
 * sys_exit (compiler/3-lower/lower-syscalls.ts): a BTF-typed raw tracepoint
 * (tp_btf), attached through the kernel's BPF link like fentry. Its link
 * detaches without the RCU grace period a perf event waits for.
 */
export function attachSyscallDispatcher(probe: ManifestProbe, prog: Ptr, via: string): Link {
  const l = native().attach_trace(prog);
  if (!l) throw attachError(probe, `raw tracepoint ${via} (tp_btf), which runs syscall tracepoints here`, errno());
  return nativeLink(probe, l);
}

export function attachRawTracepoint(probe: ManifestProbe, prog: Ptr, name: string): Link {
  const l = native().attach_raw_tracepoint(prog, name);
  if (!l) throw attachError(probe, `raw tracepoint ${name}`, errno());
  return nativeLink(probe, l);
}

/** USDT through libbpf: it reads the probe's argument specs and raises its semaphore. */
export function attachUsdt(
  probe: ManifestProbe,
  prog: Ptr,
  o: { path: string; provider: string; name: string; pid?: number },
): Link {
  const l = native().attach_usdt(prog, o.pid ?? -1, o.path, o.provider, o.name, null);
  if (!l) throw attachError(probe, `USDT probe ${o.provider}:${o.name} in ${o.path}`, errno());
  return nativeLink(probe, l);
}

export function attachKprobe(probe: ManifestProbe, prog: Ptr, func: string, offset: number, ret: boolean): Link {
  const n = native();
  const l = n.attach_kprobe_opts(prog, func, { sz: n.sizeofKprobeOpts, bpf_cookie: 0, offset, retprobe: ret });
  if (!l) {
    const err = errno();
    const log = takeLibbpfLog()
      .filter((x) => !/^libbpf: elf:/.test(x))
      .slice(-2)
      .join(' | ');
    throw kprobeError(probe, func, ret, err, log);
  }
  return nativeLink(probe, l);
}

/** CPUs that are online (profile probes sample each). */
export function onlineCpus(): number[] {
  try {
    const text = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const out: number[] = [];
    for (const part of text.split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let c = a!; c <= (b ?? a!); c++) out.push(c);
    }
    return out;
  } catch {
    return [0];
  }
}

export interface Link {
  probe: ManifestProbe;
  /** Places it probes (a uprobe_multi link has several), 1 when unset: what "Attaching N probes" counts. */
  sites?: number;
  destroy(): void;
  /** Destroy on libuv's thread pool: many links detach in parallel. */
  destroyAsync(): Promise<void>;
  /** Hand the link's handle over to be detached elsewhere (destroyAll); the link is then destroyed. */
  take?(): Detach | undefined;
}

/** Places the links probe (see Link.sites). */
export function siteCount(links: Link[]): number {
  return links.reduce((n, l) => n + (l.sites ?? 1), 0);
}

/** A link that is a bare file descriptor (uprobe_multi): closing it detaches. */
function fdLink(probe: ManifestProbe, fd: number, sites: number): Link {
  let f = fd;
  return {
    probe,
    sites,
    destroy() {
      if (f >= 0) native().close(f);
      f = -1;
    },
    destroyAsync() {
      const g = f;
      f = -1;
      if (g < 0) return Promise.resolve();
      return new Promise((resolve) => native().close.async(g, () => resolve()));
    },
    take() {
      const g = f;
      f = -1;
      return g >= 0 ? { fd: g } : undefined;
    },
  };
}

function nativeLink(probe: ManifestProbe, ptr: Ptr): Link {
  let p: Ptr | null = ptr;
  return {
    probe,
    destroy() {
      if (p) native().link_destroy(p);
      p = null;
    },
    destroyAsync() {
      const q = p;
      p = null;
      if (!q) return Promise.resolve();
      return new Promise((resolve) => native().link_destroy.async(q, () => resolve()));
    },
    take() {
      const q = p;
      p = null;
      return q ? { link: q } : undefined;
    },
  };
}

/**
 * Detach many links at once, each on a thread of its own (runtime/ffi/threads.ts).
 * Each tracepoint or perf-event uprobe detach waits for an RCU grace period
 * (~70 ms here); done one after another, 60 probes took 4.4 s. In parallel
 * the waits overlap (a uprobe_multi link's entirely; a perf event's partly:
 * the kernel serialises part of its unregistration).
 */
export async function destroyAll(links: Link[]): Promise<void> {
  const handles: Detach[] = [];
  const others: Promise<void>[] = [];
  for (const l of links) {
    if (!l.take) {
      others.push(l.destroyAsync());
      continue;
    }
    const d = l.take();
    if (d) handles.push(d);
  }
  await Promise.all([detachOnThreads(handles), ...others]);
}

function attachError(probe: ManifestProbe, what: string, err: number): CapcError {
  const log = takeLibbpfLog()
    .filter((l) => !/^libbpf: elf:/.test(l))
    .slice(-3)
    .join(' | ');
  const hints: string[] = [];
  if (err === 2 /* ENOENT */) hints.push('the target does not exist on this machine any more');
  if (err === 13 || err === 1) hints.push('permission denied: run capc as root');
  if (err === 24) hints.push('too many open files: raise the limit with ulimit -n');
  if (log) hints.push(`libbpf: ${log}`);
  return new CapcError('E0801', `cannot attach ${probe.spec}: ${what}: ${strerror(err)}`, hints, probe.span);
}

export function attachTracepoint(probe: ManifestProbe, prog: Ptr, category: string, name: string): Link {
  const l = native().attach_tracepoint(prog, category, name);
  if (!l) throw attachError(probe, `tracepoint ${category}:${name}`, errno());
  return nativeLink(probe, l);
}

/** One place a uprobe goes: `func` + offset, or with `func` null a file offset; `cookie` is bpf_get_attach_cookie()'s. */
export interface UprobeSite {
  func: string | null;
  offset: number;
  cookie?: number;
}

/**
 * A uprobe (or uretprobe) on `func` + offset, or, with `func` null, at a file
 * offset (a function without a symbol: a stripped Go binary). `cookie` is what
 * bpf_get_attach_cookie() returns in the program.
 */
export function attachUprobe(
  probe: ManifestProbe,
  prog: Ptr,
  o: { path: string; func: string | null; offset: number; ret: boolean; pid?: number; cookie?: number },
): Link {
  return attachUprobes(probe, prog, { path: o.path, ret: o.ret, pid: o.pid, sites: [o] })[0]!;
}

/**
 * The program on every site of one file. A program loaded for uprobe_multi
 * (uprobe-multi.ts) gets one link for them all, whose detach does not wait
 * for the kernel as a perf-event uprobe's does; otherwise one perf-event
 * uprobe each through libbpf.
 */
export function attachUprobes(
  probe: ManifestProbe,
  prog: Ptr,
  o: { path: string; ret: boolean; pid?: number; sites: UprobeSite[] },
): Link[] {
  const what = (s: UprobeSite) =>
    `${o.ret ? 'uretprobe' : 'uprobe'} on ${s.func ?? `offset 0x${s.offset.toString(16)}`}${s.func && s.offset ? `+${s.offset}` : ''} in ${o.path}`;
  const n = native();
  // capc finds each function's file offset itself (runtime/symbols/func-offset.ts says why libbpf does not).
  const offsets = o.sites.map((s) => {
    if (s.func === null) return s.offset;
    const at = functionFileOffset(o.path, s.func);
    if ('error' in at) throw new CapcError('E0801', `cannot attach ${probe.spec}: ${at.error}`, [], probe.span);
    return at.offset + s.offset;
  });
  if (isUprobeMulti(prog)) {
    const fd = createUprobeMultiLink(n.program_fd(prog) as number, {
      path: o.path,
      offsets,
      cookies: o.sites.map((s) => s.cookie ?? 0),
      ret: o.ret,
      pid: o.pid,
    });
    if (fd < 0)
      throw attachError(
        probe,
        `${o.sites.length > 1 ? `${o.sites.length} sites: ` : ''}${what(o.sites[0]!)} (uprobe_multi link)`,
        -fd,
      );
    return [fdLink(probe, fd, offsets.length)];
  }
  const links: Link[] = [];
  for (const [i, s] of o.sites.entries()) {
    const opts = {
      sz: n.sizeofUprobeOpts,
      ref_ctr_offset: 0,
      bpf_cookie: s.cookie ?? 0,
      retprobe: o.ret,
      func_name: null,
    };
    const l = n.attach_uprobe_opts(prog, o.pid ?? -1, o.path, offsets[i]!, opts);
    if (!l) {
      const err = attachError(probe, what(s), errno());
      for (const x of links) x.destroy(); // all of the function's sites or none
      throw err;
    }
    links.push(nativeLink(probe, l));
  }
  return links;
}

/**
 * The return half of a Go capture: a uprobe on every RET instruction of the
 * function (Go moves goroutine stacks, so no uretprobe), found by disassembling
 * it. `where` is given by discovery for binaries without symbols.
 */
export function attachAtReturns(
  probe: ManifestProbe,
  prog: Ptr,
  o: { path: string; func: string; pid?: number; where?: { addr: bigint; size: number; symbol: boolean } },
): Link[] {
  // Go's register ABI (arguments in registers, the goroutine in r14) came with Go 1.17 on x86-64.
  const info = goBinaryInfo(o.path);
  const v = goVersionNumber(info.version);
  if (info.machine !== 62 || !v || (v[0] === 1 && v[1] < 17))
    throw new CapcError(
      'E0801',
      `cannot attach ${probe.spec}: ${o.path} was built with ${info.version ?? 'an unknown Go version'}${info.machine !== 62 ? ` for machine ${info.machine}` : ''}`,
      [
        "capc captures Go's crypto/tls from Go 1.17 on x86-64 (the register ABI); older Go passes arguments on the stack",
      ],
      probe.span,
    );
  let where = o.where;
  if (!where) {
    const s = readFunctionSymbols(o.path).find((x) => x.name === o.func);
    if (!s)
      throw new CapcError(
        'E0801',
        `cannot attach ${probe.spec}: ${o.func} is not in the symbols of ${o.path}`,
        [],
        probe.span,
      );
    where = { addr: s.value, size: Number(s.size), symbol: true };
  }
  let offsets: number[];
  try {
    offsets = returnOffsets(o.path, where.addr, where.size);
  } catch (e) {
    throw new CapcError(
      'E0801',
      `cannot attach ${probe.spec}: cannot find where ${o.func} returns in ${o.path}: ${(e as Error).message}`,
      ['capc disassembles the function to put a probe on each RET instruction (Go has no safe uretprobe)'],
      probe.span,
    );
  }
  const symbol = where.symbol;
  const base = symbol ? 0 : goFileOffset(o.path, where.addr);
  if (base === undefined)
    throw new CapcError('E0801', `cannot attach ${probe.spec}: ${o.func} is outside the file's segments`);
  return attachUprobes(probe, prog, {
    path: o.path,
    ret: false,
    pid: o.pid,
    sites: offsets.map((off) => ({ func: symbol ? o.func : null, offset: base + off })),
  });
}

/** A timer on one CPU firing every `periodNs` (interval probes). */
export function attachInterval(probe: ManifestProbe, prog: Ptr, periodNs: bigint, cpu = 0): Link {
  return attachTimer(probe, prog, { periodNs }, cpu);
}

const PERF_COUNT_SW_CPU_CLOCK = 0;

/** A cpu-clock perf event on `cpu`: every `periodNs`, or `hz` times a second (frequency mode). */
export function attachTimer(probe: ManifestProbe, prog: Ptr, t: { periodNs?: bigint; hz?: number }, cpu: number): Link {
  const spec: PerfEventSpec =
    t.hz !== undefined
      ? { type: PERF_TYPE.software, config: PERF_COUNT_SW_CPU_CLOCK, freq: t.hz }
      : { type: PERF_TYPE.software, config: PERF_COUNT_SW_CPU_CLOCK, period: t.periodNs! };
  return attachPerfEvent(probe, prog, spec, cpu, -1);
}

/** A perf event (on `cpu`, or following `pid` when cpu is -1) whose samples run the program. */
function attachPerfEvent(probe: ManifestProbe, prog: Ptr, spec: PerfEventSpec, cpu: number, pid: number): Link {
  const n = native();
  const fd = openPerfEvent(spec, cpu, pid);
  if (fd < 0) throw perfEventError(probe, spec.type, -fd, takeLibbpfLog().slice(-2).join(' | '));
  const l = n.attach_perf_event(prog, fd);
  if (!l) {
    const err = errno();
    n.close(fd);
    throw attachError(probe, 'perf event', err);
  }
  return nativeLink(probe, l); // the link owns the perf event fd and closes it on destroy
}

/** Run a raw_tp program once, now (BPF_PROG_TEST_RUN), with `args` as its u64 arguments. Returns errno (0 on success). */
export function testRun(progFd: number, args: bigint[] = []): number {
  return testRunWithResult(progFd, args).err;
}

/** As testRun, also returning the program's return value. */
export function testRunWithResult(progFd: number, args: bigint[] = []): { err: number; retval: number } {
  const n = native();
  const ctx = args.length ? Buffer.alloc(8 * args.length) : null;
  args.forEach((a, i) => ctx!.writeBigUInt64LE(a, 8 * i));
  const opts = {
    sz: n.sizeofTestRunOpts,
    data_in: null,
    data_out: null,
    data_size_in: 0,
    data_size_out: 0,
    ctx_in: ctx,
    ctx_out: null,
    ctx_size_in: ctx?.length ?? 0,
    ctx_size_out: 0,
    retval: 0,
    repeat: 0,
    duration: 0,
    flags: 0,
    cpu: 0,
    batch_size: 0,
  };
  const rc = n.prog_test_run_opts(progFd, opts);
  return rc === 0 ? { err: 0, retval: opts.retval } : { err: errno(), retval: 0 };
}

/** Run a BEGIN/END program once, now, on this CPU. */
export function runOnce(probe: ManifestProbe, progFd: number): void {
  const err = testRun(progFd);
  if (err)
    throw new CapcError(
      'E0801',
      `cannot run ${probe.spec}: ${strerror(err)}`,
      ['BEGIN and END run through BPF_PROG_TEST_RUN, which needs kernel 5.10 or later'],
      probe.span,
    );
}
