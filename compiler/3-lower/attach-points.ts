// compiler/3-lower/attach-points.ts — what each attach point becomes in the
// C program and the manifest: its ELF section and program parameters, its
// manifest entry (what the runtime attaches), and, for tracepoints, the
// record struct laid out from the kernel's format file.
import type { ProbeInstance } from '../2-analyze/analyzed.js';
import { probeName, type AttachPoint } from '../2-analyze/probes.js';
import { fieldShape } from '../2-analyze/tracepoint-fields.js';
import type { TracepointFormat } from '../host.js';
import type { ManifestAttach, ManifestProbe } from '../manifest.js';
import type { CField, CStruct } from './c-ir.js';
import { cIntType } from './layout.js';
import { packetSection } from './lower-packet.js';

export function manifestAttach(a: AttachPoint): ManifestAttach {
  switch (a.kind) {
    case 'begin':
    case 'end':
      return { kind: a.kind };
    case 'tracepoint':
      return { kind: 'tracepoint', category: a.category, name: a.name };
    case 'rawtracepoint':
      return { kind: 'rawtracepoint', name: a.name };
    case 'uprobe':
      return {
        kind: 'uprobe',
        ret: a.ret,
        path: a.path,
        func: a.func,
        offset: a.offset,
        target: a.target,
        ...(a.discover ? { discover: true } : {}),
        ...(a.retInsns ? { retInsns: true } : {}),
      };
    case 'usdt':
      return { kind: 'usdt', path: a.path, provider: a.provider, name: a.name, target: a.target };
    case 'interval':
      return { kind: 'interval', periodNs: a.periodNs.toString() };
    case 'profile':
      return a.hz !== undefined ? { kind: 'profile', hz: a.hz } : { kind: 'profile', periodNs: a.periodNs!.toString() };
    case 'kprobe':
      return { kind: 'kprobe', ret: a.ret, func: a.func, offset: a.offset };
    case 'fentry':
      return { kind: 'fentry', ret: a.ret, func: a.func };
    case 'software':
    case 'hardware':
      return { kind: 'perf', type: a.kind, event: a.event, config: a.config, period: a.period };
    case 'watchpoint':
      return { kind: 'watchpoint', address: `0x${a.address.toString(16)}`, length: a.length, mode: a.mode };
    case 'xdp':
      return { kind: 'xdp', iface: a.iface };
    case 'tc':
      return { kind: 'tc', iface: a.iface, direction: a.direction };
  }
}

export function sectionAndParams(a: AttachPoint): { section: string; params: string } {
  switch (a.kind) {
    case 'begin':
    case 'end':
      // Run once by capc through BPF_PROG_TEST_RUN, as bpftrace does.
      return { section: 'raw_tp', params: 'void *ctx' };
    case 'tracepoint':
      return { section: `tracepoint/${a.category}/${a.name}`, params: `struct ${tpStructName(a.format)} *ctx` };
    case 'rawtracepoint':
      return { section: `raw_tp/${a.name}`, params: 'struct bpf_raw_tracepoint_args *ctx' };
    case 'uprobe':
      return { section: a.ret ? 'uretprobe' : 'uprobe', params: 'struct pt_regs *ctx' };
    case 'usdt':
      return { section: 'usdt', params: 'struct pt_regs *ctx' };
    case 'interval':
    case 'profile':
    case 'software':
    case 'hardware':
    case 'watchpoint':
      return { section: 'perf_event', params: 'struct bpf_perf_event_data *ctx' };
    case 'kprobe':
      return { section: `${a.ret ? 'kretprobe' : 'kprobe'}/${a.func}`, params: 'struct pt_regs *ctx' };
    case 'fentry':
      // BTF-typed arguments, one u64 slot each; fexit also has the return value after them.
      return { section: `${a.ret ? 'fexit' : 'fentry'}/${a.func}`, params: 'unsigned long long *ctx' };
    case 'xdp':
    case 'tc':
      return packetSection(a);
  }
}

export function manifestProbe(
  inst: ProbeInstance,
  program: string,
  attach: AttachPoint,
  role: ManifestProbe['role'],
): ManifestProbe {
  const family = inst.capture?.sig.family ?? inst.closeFor?.family ?? inst.identFor?.family;
  return {
    id: inst.id,
    role,
    program,
    name: probeName(attach),
    spec: inst.spec.text,
    span: inst.spec.span,
    attach: manifestAttach(attach),
    ...(family ? { family } : {}),
  };
}

export function tpStructName(f: TracepointFormat): string {
  return `capc_tp_${f.category}_${f.name}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The tracepoint record as the kernel's format file lays it out (offsets are checked by _Static_assert). */
export function tracepointStruct(f: TracepointFormat): CStruct {
  const fields: CField[] = [
    { name: 'common', type: '__u8', array: 8, offset: 0, size: 8, comment: 'common_type, flags, preempt_count, pid' },
  ];
  let end = 8;
  let pad = 0;
  for (const field of [...f.fields].sort((a, b) => a.offset - b.offset)) {
    if (field.offset < end) continue;
    if (field.offset > end)
      fields.push({
        name: `_pad${pad++}`,
        type: '__u8',
        array: field.offset - end,
        offset: end,
        size: field.offset - end,
      });
    const shape = fieldShape(field);
    const safeName = field.name.replace(/[^A-Za-z0-9_]/g, '_');
    let size = field.size;
    switch (shape.shape) {
      case 'int':
        fields.push({
          name: safeName,
          type: cIntType(shape.bytes, shape.signed),
          offset: field.offset,
          size: shape.bytes,
          comment: field.type,
        });
        size = shape.bytes;
        break;
      case 'pointer':
        fields.push({ name: safeName, type: '__u64', offset: field.offset, size: 8, comment: field.type });
        size = 8;
        break;
      case 'char-array':
        fields.push({ name: safeName, type: 'char', array: shape.length, offset: field.offset, size: shape.length });
        size = shape.length;
        break;
      case 'int-array':
        // A misaligned array cannot be declared with its element type; its elements are then read by offset.
        if (field.offset % shape.bytes === 0)
          fields.push({
            name: safeName,
            type: cIntType(shape.bytes, shape.signed),
            array: shape.count,
            offset: field.offset,
            size: field.size,
            comment: field.type,
          });
        else fields.push(asBytes(safeName, field, `${field.type} (misaligned)`));
        break;
      case 'data-loc-string':
      case 'data-loc-array':
        fields.push({
          name: safeName,
          type: '__u32',
          offset: field.offset,
          size: 4,
          comment: '__data_loc: offset | length << 16',
        });
        size = 4;
        break;
      case 'inline-string':
        // `char name[]` at the end: read from ctx + offset, no member needed.
        continue;
      case 'unsupported':
        fields.push(asBytes(safeName, field, field.type));
        break;
    }
    end = field.offset + size;
  }
  const total = Math.max(end, ...f.fields.map((x) => x.offset + x.size));
  if (total > end)
    fields.push({ name: `_pad${pad++}`, type: '__u8', array: total - end, offset: end, size: total - end });
  return {
    kind: 'struct',
    name: tpStructName(f),
    fields,
    size: alignTo(total, maxAlign(fields)),
    comment: `tracepoint ${f.category}:${f.name}, from its format file`,
    assertLayout: true,
  };
}

/** A field capc reads only by offset: declared as its bytes. */
function asBytes(name: string, field: { offset: number; size: number }, comment: string): CField {
  return { name, type: '__u8', array: field.size, offset: field.offset, size: field.size, comment };
}

function maxAlign(fields: CField[]): number {
  return Math.max(
    1,
    ...fields.map((f) =>
      f.type === 'char' || f.type.startsWith('__u8') ? 1 : f.array !== undefined ? f.size / f.array : f.size,
    ),
  );
}
function alignTo(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
