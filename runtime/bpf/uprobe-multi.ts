// runtime/bpf/uprobe-multi.ts — uprobes as uprobe_multi BPF links (Linux 6.6+,
// attach type BPF_TRACE_UPROBE_MULTI): the feature probe, the choice between
// them and perf-event uprobes (--uprobes=auto|multi|perf), marking the
// programs before load (a program loaded for uprobe_multi cannot be attached
// as a perf-event uprobe, and the reverse), and the link itself through a raw
// bpf(2) call, since libbpf 1.1 predates it. Why: a perf-event uprobe's
// detach waits for the kernel one after another (30 of them took ~3 s on
// 6.18), a uprobe_multi link's detaches overlap (30 in ~50 ms).
import { CapcError } from '../errors.js';
import { errno, native, strerror, type Ptr } from '../ffi/libbpf.js';

/** enum bpf_attach_type BPF_TRACE_UPROBE_MULTI (uapi linux/bpf.h). */
export const BPF_TRACE_UPROBE_MULTI = 48;
const BPF_PROG_LOAD = 5;
const BPF_LINK_CREATE = 28;
const BPF_PROG_TYPE_KPROBE = 2;
const BPF_F_UPROBE_MULTI_RETURN = 1;
const SYS_bpf = process.arch === 'arm64' ? 280 : 321;

export const UPROBE_FORMS = ['auto', 'multi', 'perf'] as const;
export type UprobeForm = (typeof UPROBE_FORMS)[number];

export interface UprobeMultiSupport {
  ok: boolean;
  /** Why not, when not. */
  reason?: string;
}

let support: UprobeMultiSupport | undefined;

function bpf(cmd: number, type: string, attr: object, size: number): number {
  const fd = Number(native().syscall(SYS_bpf, 'int', cmd, type, attr, 'uint32', size));
  return fd < 0 ? -errno() : fd;
}

/**
 * Whether this kernel has uprobe_multi links with process filtering as the
 * perf form has it, asked of the kernel once per process as libbpf 1.4+
 * asks (probe_uprobe_multi_link): a two-instruction program loaded for
 * uprobe_multi, a link on '/' (EBADF: the link type exists), then one with
 * pid -1 (EINVAL once the kernel filters by process; 6.6-6.9 filtered by
 * thread and answer ESRCH: capc then keeps the perf form).
 */
export function uprobeMultiSupport(): UprobeMultiSupport {
  if (support) return support;
  const n = native();
  const insns = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]); // r0 = 0; exit
  const prog = bpf(
    BPF_PROG_LOAD,
    'capc_prog_load_attr *',
    {
      prog_type: BPF_PROG_TYPE_KPROBE,
      insn_cnt: 2,
      insns,
      license: 'GPL',
      log_level: 0,
      log_size: 0,
      log_buf: null,
      kern_version: 0,
      prog_flags: 0,
      prog_name: 'capc_um_probe',
      prog_ifindex: 0,
      expected_attach_type: BPF_TRACE_UPROBE_MULTI,
    },
    n.sizeofProgLoadAttr,
  );
  if (prog < 0) return (support = { ok: false, reason: `no uprobe_multi programs: ${strerror(-prog)}` });
  const offsets = new BigUint64Array([0n]);
  const link = (pid: number) => {
    const fd = bpf(
      BPF_LINK_CREATE,
      'capc_link_create_uprobe_multi *',
      multiAttr(prog, '/', offsets, null, 0, pid),
      n.sizeofUprobeMultiAttr,
    );
    if (fd >= 0) n.close(fd);
    return fd;
  };
  try {
    const first = link(0);
    if (first !== -9 /* EBADF */)
      return (support = {
        ok: false,
        reason: `no uprobe_multi links (${first < 0 ? strerror(-first) : 'unexpected link'})`,
      });
    const second = link(-1);
    if (second !== -22 /* EINVAL */)
      return (support = { ok: false, reason: 'uprobe_multi links filter by thread, not by process (Linux 6.6-6.9)' });
    return (support = { ok: true });
  } finally {
    n.close(prog);
  }
}

/** The form uprobes take in this run: auto (the default) is multi where the kernel has it. */
export function chooseUprobeForm(asked: UprobeForm | undefined): 'multi' | 'perf' {
  if (asked === 'perf') return 'perf';
  const s = uprobeMultiSupport();
  if (s.ok) return 'multi';
  if (asked === 'multi')
    throw new CapcError(
      'E0802',
      `--uprobes=multi: this kernel cannot attach uprobes as uprobe_multi links: ${s.reason}`,
      [
        'uprobe_multi links need Linux 6.10 or later (6.6 with process filtering backported); --uprobes=auto uses them where they exist and perf-event uprobes elsewhere',
      ],
    );
  return 'perf';
}

/** Mark a program (before load) as one attached through uprobe_multi links. */
export function loadForUprobeMulti(prog: Ptr): void {
  const rc = native().program_set_expected_attach_type(prog, BPF_TRACE_UPROBE_MULTI) as number;
  if (rc !== 0) throw new Error(`internal: cannot set the attach type of a uprobe program: ${strerror(rc)}`);
}

/** Whether the program was loaded for uprobe_multi links (else it is attached as perf-event uprobes). */
export function isUprobeMulti(prog: Ptr): boolean {
  return native().program_expected_attach_type(prog) === BPF_TRACE_UPROBE_MULTI;
}

function multiAttr(
  progFd: number,
  path: string,
  offsets: BigUint64Array,
  cookies: BigUint64Array | null,
  flags: number,
  pid: number,
) {
  return {
    prog_fd: progFd,
    target_fd: 0,
    attach_type: BPF_TRACE_UPROBE_MULTI,
    flags: 0,
    path,
    offsets,
    ref_ctr_offsets: null,
    cookies,
    cnt: offsets.length,
    uflags: flags,
    pid: pid >>> 0,
    _pad: 0,
  };
}

/**
 * One uprobe_multi link: the program on every file offset of `path` (with
 * its cookie), at entry or (ret) at return, in process `pid` or in all.
 * Returns the link's fd, or -errno.
 */
export function createUprobeMultiLink(
  progFd: number,
  o: { path: string; offsets: number[]; cookies?: number[]; ret: boolean; pid?: number },
): number {
  const offsets = BigUint64Array.from(o.offsets, (x) => BigInt(x));
  const cookies = o.cookies?.some((c) => c !== 0) ? BigUint64Array.from(o.cookies, (x) => BigInt(x)) : null;
  const attr = multiAttr(progFd, o.path, offsets, cookies, o.ret ? BPF_F_UPROBE_MULTI_RETURN : 0, o.pid ?? 0);
  return bpf(BPF_LINK_CREATE, 'capc_link_create_uprobe_multi *', attr, native().sizeofUprobeMultiAttr);
}
