// runtime/bpf/load-without-kernel-btf.ts — what lets libbpf 1.1 load a
// cached object without reading and parsing the kernel's BTF (5.4 MB from
// sysfs, 4 KB per read: ~15 ms of a ~20 ms load). libbpf loads it
// (obj_needs_vmlinux_btf) for two reasons capc's objects have:
//  - CO-RE relocations (kernel structs read through vmlinux.h): given a
//    btf_custom_path, libbpf resolves them against that file alone. capc
//    gives it the object's minimal BTF (runtime/build/core-btf.ts), through a
//    memfd holding the bytes checked against their seal, so what libbpf
//    parses is what was checked (no path anyone could swap in between).
//  - BTF-typed raw tracepoints (SEC("tp_btf/NAME"): the syscall dispatchers
//    of compiler/3-lower/lower-syscalls.ts): the kernel needs the BTF id of
//    the tracepoint's type (typedef btf_trace_NAME) with the program, which
//    libbpf finds in the parsed BTF on every load. The id cannot change while
//    the kernel runs: capc finds it once per kernel, keeps it in the cache
//    (sealed, under the kernel's key) and hands it over through a custom SEC()
//    handler that overrides libbpf's own for those sections. The handler
//    declares a plain raw tracepoint program (libbpf loads the kernel's BTF
//    for any BPF_PROG_TYPE_TRACING program that does not attach to another
//    BPF program), and its load callback makes it what the kernel must see:
//    BPF_PROG_TYPE_TRACING, attach type BPF_TRACE_RAW_TP (the handler's), the
//    cached attach_btf_id (libbpf's bpf_object_load_prog calls it, then passes
//    prog->type and the attributes to BPF_PROG_LOAD). The kernel checks the id
//    (a typedef btf_trace_*) and types ctx from its own BTF: the program, its
//    verification and what it costs per event are those of today's tp_btf.
// Either is only a speed-up: without the cache's files, libbpf does as before.
import fs from 'node:fs';
import path from 'node:path';
import type { Manifest } from '../../compiler/index.js';
import { hasCoreRelocations, readCoreBtf } from '../build/core-btf.js';
import { kernelKey } from '../build/clang.js';
import { cacheSubdir, readSealedCacheFile, writeSealedCacheFile } from '../files/cache-dir.js';
import { koffiEncodeU32, koffiRegister, native, type Ptr } from '../ffi/libbpf.js';

const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_TRACE_RAW_TP = 23;
const BTF_KIND_TYPEDEF = 8;
/** offsetof(struct bpf_prog_load_opts, attach_btf_id), libbpf 1.1's bpf.h: size_t sz, int attempts, 5 u32. */
const ATTACH_BTF_ID_OFFSET = 32;
const MFD_CLOEXEC = 1;

/** The object's minimal BTF as a file libbpf can open (/proc/self/fd/N of a memfd); close it after the load. */
export function coreBtfFd(object: Buffer): { path: string; close(): void } | undefined {
  if (!hasCoreRelocations(object)) return undefined;
  let btf: Buffer | undefined;
  try {
    btf = readCoreBtf(object, kernelKey());
  } catch {
    return undefined;
  }
  if (!btf) return undefined;
  const n = native();
  const fd = n.memfd_create('capc-core-btf', MFD_CLOEXEC) as number;
  if (fd < 0) return undefined;
  const file = `/proc/self/fd/${fd}`;
  try {
    fs.writeSync(fd, btf);
    // libbpf opens it by this path: without /proc mounted, it reads the kernel's BTF as before.
    if (!fs.existsSync(file)) throw new Error('no /proc');
  } catch {
    n.close(fd);
    return undefined;
  }
  let open = true;
  return {
    path: file,
    close: () => {
      if (open) n.close(fd);
      open = false;
    },
  };
}

/** Raw tracepoint name → BTF id of its type, for the tp_btf sections handled in this process. */
const handled = new Map<string, number>();
// libbpf keeps the handler (and so this callback) for every object opened after it: never released.
let prepareLoad: unknown;

/**
 * Before opening an object: make libbpf load its tp_btf programs (syscall
 * dispatchers, manifest probes' `via`) with the cached attach BTF ids.
 */
export function handleTpBtf(manifest: Manifest): void {
  const names = [
    ...new Set(manifest.probes.flatMap((p) => (p.attach.kind === 'tracepoint' && p.attach.via ? [p.attach.via] : []))),
  ].filter((name) => !handled.has(name));
  if (!names.length) return;
  const ids = attachIds(names);
  if (!ids) return;
  const n = native();
  prepareLoad ??= koffiRegister(
    ((prog: Ptr, opts: Ptr, cookie: number | bigint) => {
      if (n.program_set_type(prog, BPF_PROG_TYPE_TRACING) !== 0) return -22;
      koffiEncodeU32(opts, ATTACH_BTF_ID_OFFSET, Number(cookie));
      return 0;
    }) as never,
    n.PrepareLoadFn,
  );
  for (const name of names) {
    const id = ids[name];
    if (!id) continue;
    const rc = n.register_prog_handler(`tp_btf/${name}`, BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_TRACE_RAW_TP, {
      sz: n.sizeofProgHandlerOpts,
      cookie: id,
      prog_setup_fn: null,
      prog_prepare_load_fn: prepareLoad,
      prog_attach_fn: null,
    }) as number;
    if (rc >= 0) handled.set(name, id);
  }
}

/**
 * The BTF ids of `btf_trace_NAME` for `names` in the running kernel's BTF:
 * from the cache (one sealed file per kernel), else found through libbpf's
 * own parse of the kernel's BTF (once) and kept. Undefined when the kernel has
 * no BTF of its own or the cache cannot be used.
 */
function attachIds(names: string[]): Record<string, number> | undefined {
  let dir: string | undefined;
  try {
    dir = cacheSubdir(`kernel-${kernelKey()}`);
  } catch {
    return undefined;
  }
  if (!dir) return undefined;
  const file = path.join(dir, 'tp-btf-ids.json');
  let ids: Record<string, number> = {};
  try {
    ids = JSON.parse(readSealedCacheFile(file)?.toString('utf8') ?? '{}') as Record<string, number>;
  } catch {
    ids = {};
  }
  const missing = names.filter((name) => !Number.isInteger(ids[name]));
  if (!missing.length) return ids;
  const n = native();
  const btf = n.btf_load_vmlinux();
  if (!btf || n.get_error(btf) !== 0) return undefined;
  try {
    for (const name of missing) {
      const id = n.btf_find_by_name_kind(btf, `btf_trace_${name}`, BTF_KIND_TYPEDEF) as number;
      if (id > 0) ids[name] = id;
    }
  } finally {
    n.btf_free(btf);
  }
  try {
    writeSealedCacheFile(file, Buffer.from(JSON.stringify(ids)));
  } catch {
    /* found again next time */
  }
  return ids;
}
