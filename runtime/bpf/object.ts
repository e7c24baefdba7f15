// runtime/bpf/object.ts — a compiled BPF object in the kernel: opened from
// memory, given its load-time constants, loaded through the verifier (whose
// log is kept to explain a rejection), and closed exactly once.
import type { SourceFile } from '../../diagnostics/source.js';
import { manifestProblem, type Manifest } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import { errno, native, strerror, withSignalsHeld, type Ptr } from '../ffi/libbpf.js';
import { installLibbpfLogger, takeLibbpfLog } from './libbpf-log.js';
import { customBtfPath } from '../build/environment.js';
import { coreBtfFd, handleTpBtf } from './load-without-kernel-btf.js';
import { explainVerifierLog } from './verifier-log.js';
import { fentryError } from './kernel-support.js';
import { chooseUprobeForm, loadForUprobeMulti, type UprobeForm } from './uprobe-multi.js';

const LOG_SIZE = 16 << 20;

export class BpfObject {
  private obj: Ptr | null;
  // Buffers handed to libbpf must outlive the object.
  private readonly keepAlive: unknown[] = [];
  loaded = false;
  /** libbpf's messages while loading (its debug messages too under CAPC_LIBBPF_DEBUG). */
  libbpfLog: string[] = [];

  private constructor(
    obj: Ptr,
    private readonly manifest: Manifest,
    private readonly logBuf: Buffer,
    /** The minimal BTF libbpf reads at load (a memfd), closed once loaded. */
    private coreBtf?: { close(): void },
  ) {
    this.obj = obj;
  }

  static open(object: Buffer, manifest: Manifest, name = 'capc'): BpfObject {
    // The manifest says how to load and read the object: one written for another layout must not be trusted.
    const problem = manifestProblem(manifest);
    if (problem)
      throw new CapcError('E0605', `cannot load a program compiled by another version of capc: ${problem}`, [
        'compile it again with this capc (capc build, or capc run on the .cap source)',
      ]);
    installLibbpfLogger(!!process.env.CAPC_LIBBPF_DEBUG);
    const n = native();
    const logBuf = Buffer.alloc(LOG_SIZE);
    // Neither the CO-RE relocations nor the tp_btf programs make libbpf parse the kernel's BTF
    // when the cache has what they need from it (load-without-kernel-btf.ts).
    handleTpBtf(manifest);
    const coreBtf = coreBtfFd(object);
    const opts = {
      sz: n.sizeofOpenOpts,
      object_name: name,
      relaxed_maps: false,
      pin_root_path: null,
      _removed_attach_prog_fd: 0,
      kconfig: null,
      btf_custom_path: coreBtf?.path ?? customBtfPath(),
      kernel_log_buf: logBuf,
      kernel_log_size: LOG_SIZE,
      kernel_log_level: 0,
    };
    const ptr = n.object_open_mem(object, object.length, opts);
    if (!ptr) {
      const err = errno();
      coreBtf?.close();
      throw new CapcError(
        'E0702',
        `libbpf could not open the compiled object: ${strerror(err)}`,
        ['this is a capc bug: please report it'],
        undefined,
        takeLibbpfLog().join('\n'),
      );
    }
    const o = new BpfObject(ptr, manifest, logBuf, coreBtf);
    o.keepAlive.push(object, opts);
    return o;
  }

  private get handle(): Ptr {
    if (!this.obj) throw new Error('internal: BPF object already closed');
    return this.obj;
  }

  /** Fill the `.rodata.capc` constants (must run before load). */
  setRodata(values: { cpid?: number; start_ns?: bigint; scope?: number }): void {
    const n = native();
    const map = n.find_map(this.handle, '.rodata.capc');
    if (!map) throw new Error('internal: the object has no .rodata.capc section');
    const buf = Buffer.alloc(this.manifest.rodata.size);
    for (const f of this.manifest.rodata.fields) {
      const v =
        f.name === 'cpid'
          ? BigInt(values.cpid ?? 0)
          : f.name === 'scope'
            ? BigInt(values.scope ?? 0)
            : (values.start_ns ?? 0n);
      buf.writeBigUInt64LE(v, f.offset);
    }
    this.keepAlive.push(buf);
    if (n.map_set_initial_value(map, buf, buf.length) !== 0)
      throw new Error(`internal: cannot set .rodata.capc: ${strerror(errno())}`);
  }

  /**
   * Choose how the uprobe programs attach (--uprobes, uprobe-multi.ts) and,
   * for uprobe_multi links, mark them so before load: the kernel fixes how a
   * program attaches when it loads it. Undefined when there are none.
   */
  prepareUprobes(asked?: UprobeForm): 'multi' | 'perf' | undefined {
    const n = native();
    const names = new Set(this.manifest.probes.filter((p) => p.attach.kind === 'uprobe').map((p) => p.program));
    if (!names.size) return undefined;
    const form = chooseUprobeForm(asked);
    if (form === 'perf') return form;
    for (const name of names) {
      const p = n.find_program(this.handle, name);
      if (!p) throw new Error(`internal: program ${name} not found in the object`);
      loadForUprobeMulti(p);
    }
    return form;
  }

  /** Load every program and create every map; explain a verifier rejection. */
  load(source: SourceFile, verbose = false): void {
    const n = native();
    takeLibbpfLog();
    // Held signals: a pending one stops the verifier with EAGAIN (see withSignalsHeld).
    const rc = withSignalsHeld(() => n.object_load(this.handle));
    this.coreBtf?.close();
    const libbpfLog = takeLibbpfLog();
    this.libbpfLog = libbpfLog;
    if (rc === 0) {
      this.loaded = true;
      return;
    }
    const err = -rc;
    const text = this.logBuf.toString('utf8', 0, Math.max(0, this.logBuf.indexOf(0)));
    const failed = libbpfLog
      .map((l) => /prog '([^']+)': (?:BPF program load failed|failed to load)/.exec(l)?.[1])
      .find(Boolean);
    const failedProbe = this.manifest.probes.find((p) => p.program === failed);
    if (
      failedProbe?.attach.kind === 'fentry' &&
      (err === 1 || err === 95 || err === 524 || err === 22) &&
      !/^\d+: /m.test(text)
    ) {
      // The verifier never ran: the kernel refuses BPF trampolines (EPERM here).
      throw fentryError(failedProbe, failedProbe.attach.func, failedProbe.attach.ret, err);
    }
    if (err === 11 /* EAGAIN */ || err === 4 /* EINTR */) {
      // The verifier stopped because a signal was pending, not because it rejected anything.
      throw new CapcError(
        'E0702',
        `loading the program was interrupted by signals: ${strerror(err)}`,
        ['something keeps sending capc signals while the kernel verifies its program; run it again without that'],
        undefined,
        libbpfLog.join('\n'),
      );
    }
    if (err === 1 /* EPERM */ && !text) {
      throw new CapcError(
        'E0703',
        `the kernel refused to load the program: ${strerror(err)}`,
        [
          'run capc as root; if you are root, the locked-memory limit or a security module (lockdown, SELinux) may forbid BPF',
        ],
        undefined,
        libbpfLog.join('\n'),
      );
    }
    if (!failed || !text) {
      const mapFail = libbpfLog.find((l) => /map '([^']+)'.*(failed|error)/i.test(l));
      throw new CapcError(
        'E0702',
        `the kernel refused the BPF object: ${strerror(err)}`,
        [mapFail ? `libbpf: ${mapFail.trim()}` : "run with --verbose for libbpf's messages"],
        undefined,
        libbpfLog.join('\n'),
      );
    }
    const probe = this.manifest.probes.find((p) => p.program === failed);
    const ex = explainVerifierLog(text, source);
    const hints = [...ex.hints, verbose ? '' : 'run with --verbose for the full verifier log'].filter(Boolean);
    throw new CapcError(
      'E0701',
      `the kernel verifier rejected ${probe ? `probe ${probe.spec}` : `program ${failed}`}: ${ex.reason}`,
      hints,
      ex.span ?? probe?.span,
      verbose ? text : ex.excerpt,
    );
  }

  program(name: string): { ptr: Ptr; fd: number } {
    const n = native();
    const p = n.find_program(this.handle, name);
    if (!p) throw new Error(`internal: program ${name} not found in the object`);
    return { ptr: p, fd: n.program_fd(p) as number };
  }

  /** Kernel ids of the loaded programs (what bpftool shows), for leak checks. */
  programIds(): number[] {
    const n = native();
    // Syscall probes run from a raw tracepoint share its program (named once).
    return [...new Set(this.manifest.probes.map((p) => p.program))]
      .concat(this.manifest.capture ? [this.manifest.capture.flushProgram] : [])
      .map((name) => {
        const info = Buffer.alloc(256); // struct bpf_prog_info: type (u32), then id (u32)
        const len = new Uint32Array([info.length]);
        return n.obj_get_info_by_fd(this.program(name).fd, info, len) === 0 ? info.readUInt32LE(4) : 0;
      })
      .filter((id) => id > 0);
  }

  mapFd(name: string): number {
    const n = native();
    const m = n.find_map(this.handle, name);
    if (!m) throw new Error(`internal: map ${name} not found in the object`);
    return n.map_fd(m) as number;
  }

  close(): void {
    this.coreBtf?.close();
    if (!this.obj) return;
    native().object_close(this.obj);
    this.obj = null;
  }
}
